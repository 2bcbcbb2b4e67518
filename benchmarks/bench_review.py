"""`clearsight review` of a 20-file change in Django's source tree against a full
`clearsight check` of the same tree, both cold (an empty cache), in the same run.

The tree is Django 6.1.3's sdist, committed to a fresh git repository; the change edits 20
modules spread over the tree (a function added with a subprocess call, a line added in a
function, a few blank lines removed, all still valid Python), committed on a branch, plus
one unstaged edit. Target (issue 12): the review costs at most 0.2x the full check.

    python benchmarks/bench_review.py [--jobs N]
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from corpus import fetch_sdists

TARGET = 0.2
CHANGED_FILES = 20
ADDED = """

def _bench_run_{n}(command):
    import subprocess

    if command:
        return subprocess.run(command, shell=True, check=False)
    return None
"""


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True)
    return done.stdout


def clearsight(repo: Path, *args: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "clearsight.cli.main", *args],
        cwd=repo, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode == 2 or "Traceback" in done.stderr:
        raise SystemExit(f"clearsight {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return time.perf_counter() - started, done


def edited(text: str, n: int) -> str:
    """The module with a line added at the top of its first function's body, two blank lines
    between top-level statements removed, and a function appended: valid Python still."""
    tree = ast.parse(text)
    lines = text.splitlines(keepends=True)
    function = next(
        (
            node
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and _start(node.body[0]) > node.lineno  # not `def f(): return x`
        ),
        None,
    )
    first = function.body[0] if function is not None else None
    insert_at = _start(first) - 1 if first is not None else len(lines)
    removable = [
        line
        for before, after in zip(tree.body, tree.body[1:], strict=False)
        for line in range(before.end_lineno or before.lineno, _start(after) - 1)
        if not lines[line].strip() and line != insert_at
    ][:2]
    indent = " " * (first.col_offset if first is not None else 0)
    for line in sorted(removable, reverse=True):
        if line > insert_at:
            del lines[line]
    lines.insert(insert_at, f"{indent}reviewed = True  # a reviewed change\n")
    for line in sorted(removable, reverse=True):
        if line < insert_at:
            del lines[line]
    return "".join(lines) + ADDED.format(n=n)


def _start(node: ast.stmt) -> int:
    decorators = getattr(node, "decorator_list", [])
    return min([node.lineno, *(d.lineno for d in decorators)])


def make_repository(source: Path, scratch: Path) -> Path:
    repo = scratch / "django"
    shutil.copytree(source, repo)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.name", "Bench")
    git(repo, "config", "user.email", "bench@example.com")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "Django")
    git(repo, "checkout", "-q", "-b", "change")
    modules = sorted(
        p
        for p in (repo / "django").rglob("*.py")
        if p.stat().st_size > 2000 and "/tests/" not in str(p)
    )
    step = max(1, len(modules) // CHANGED_FILES)
    chosen = modules[::step][:CHANGED_FILES]
    for n, path in enumerate(chosen):
        path.write_text(edited(path.read_text(encoding="utf-8"), n), encoding="utf-8")
    git(repo, "commit", "-qam", "A 20-file change")
    last = chosen[-1]
    last.write_text(last.read_text(encoding="utf-8") + "\n# unstaged\n", encoding="utf-8")
    return repo


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    options = parser.parse_args()
    (django,) = fetch_sdists(("django==6.1.3",))
    with tempfile.TemporaryDirectory(prefix="bench-review-") as scratch:
        repo = make_repository(django, Path(scratch))
        jobs = ("--jobs", str(options.jobs))
        review_seconds, review = clearsight(
            repo, "review", "--base", "main", "--format", "json", "--cache-dir",
            str(Path(scratch) / "cache-review"), *jobs,
        )  # fmt: skip
        check_seconds, check = clearsight(
            repo, "check", "--format", "json", "--cache-dir", str(Path(scratch) / "cache-check"),
            "--quiet", *jobs,
        )  # fmt: skip
    found = json.loads(review.stdout)
    checked = json.loads(check.stdout)["files_checked"]
    summary = found["summary"]
    ratio = review_seconds / check_seconds
    print(f"python {sys.version.split()[0]}; {options.jobs} workers; Django 6.1.3")
    print(
        f"review: {summary['files']} files changed (+{summary['added']} -{summary['removed']}), "
        f"{sum(summary['introduced'].values())} findings introduced, "
        f"{summary['fixed']} fixed: {review_seconds:.2f} s cold"
    )
    for kind in ("introduced", "fixed"):
        codes = Counter(f["code"] for f in found["findings"][kind])
        print(f"  {kind} by code: " + ", ".join(f"{c} {n}" for c, n in codes.most_common()))
    print(f"check:  {checked} files: {check_seconds:.2f} s cold")
    verdict = "PASS" if ratio <= TARGET else "FAIL"
    print(f"review / full check = {ratio:.3f} (target <= {TARGET}): {verdict}")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
