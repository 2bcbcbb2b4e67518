#!/usr/bin/env python3
"""Benchmark provenance on a ~2,000-line file with 500 commits of history.

Builds a real repository (the `git` binary): `Lib/subprocess.py` of the running Python,
then 500 commits that each change one line (every fifth with a `Co-authored-by: Claude`
trailer). Measures, in one run:

1. time to first provenance result: a fresh service reading blame + commit metadata +
   notes and attributing every statement, against `git blame --porcelain` alone (the floor
   any blame-based tool pays);
2. per-edit overhead once history is cached: the buffer changes by one character, its
   provenance is computed again (statement keys of unchanged statements are cached),
   against the naive way of re-running `git blame --contents -` on every edit;
3. the whole engine per edit in the language server's incremental analyser, with the
   provenance family on and off (what an editor user feels).

    python benchmarks/bench_provenance.py [--commits 500] [--edits 50]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from clearsight.incremental import IncrementalAnalyzer
from clearsight.provenance.service import ProvenanceService
from clearsight.settings import Settings, settings_from_tables
from clearsight.source import SourceText

SOURCE = Path(subprocess.__file__)


def git(repo: Path, *args: str, stdin: bytes | None = None) -> bytes:
    return subprocess.run(
        ["git", *args], cwd=repo, input=stdin, capture_output=True, check=True
    ).stdout


def build_repository(root: Path, commits: int) -> Path:
    """One file, `commits` commits over it through git fast-import (fast and real)."""
    repo = root / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    lines = SOURCE.read_text().splitlines(keepends=True)
    stream: list[bytes] = []
    for number in range(commits + 1):
        if number:
            index = (number * 37) % len(lines)
            if lines[index].strip() and not lines[index].rstrip().endswith(("\\", ":", ",")):
                lines[index] = lines[index].rstrip("\n") + f"  # change {number}\n"
        body = "".join(lines).encode()
        trailer = "\n\nCo-authored-by: Claude <noreply@anthropic.com>" if number % 5 == 1 else ""
        message = f"change {number}{trailer}\n".encode()
        stamp = 1_700_000_000 + number * 60
        stream += [
            b"commit refs/heads/main\n",
            f"committer Ann <ann@example.com> {stamp} +0000\n".encode(),
            f"data {len(message)}\n".encode() + message,
            f"M 100644 inline app.py\ndata {len(body)}\n".encode() + body + b"\n",
        ]
    git(repo, "fast-import", "--quiet", stdin=b"".join(stream))
    git(repo, "checkout", "-q", "-f", "main")
    return repo


def timed(action: Callable[..., object], *args: object, **kwargs: object) -> float:
    start = time.perf_counter()
    action(*args, **kwargs)
    return time.perf_counter() - start


def edited(text: str, number: int) -> str:
    lines = text.split("\n")
    index = 50 + (number * 41) % (len(lines) - 100)
    while not lines[index].strip() or lines[index].rstrip().endswith(("\\", ",")):
        index += 1
    lines[index] = lines[index] + " "  # a trailing space: a real edit that keeps it parsing
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=500)
    parser.add_argument("--edits", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()
        repo = build_repository(Path(scratch), args.commits)
        path = repo / "app.py"
        text = path.read_text()
        print(f"repository: {args.commits} commits, {len(text.splitlines())} lines "
              f"(built in {time.perf_counter() - started:.1f} s)")  # fmt: skip
        settings = Settings()

        blame_floor = statistics.median(
            timed(git, repo, "blame", "--porcelain", "HEAD", "--", "app.py") for _ in range(3)
        )
        firsts = []
        for _ in range(3):
            service = ProvenanceService()
            source = SourceText(text, path=str(path))
            firsts.append(timed(service.file_provenance, source, settings, full=True))
            service.shutdown()
        first = statistics.median(firsts)
        provenance = service.file_provenance(SourceText(text, path=str(path)), settings)
        print(
            f"first provenance result: {first * 1000:.0f} ms (git blame alone "
            f"{blame_floor * 1000:.0f} ms, {first / blame_floor:.2f}x); AI share "
            f"{provenance.share():.0%}, {len(provenance.blocks())} AI blocks"
        )

        service = ProvenanceService()
        service.file_provenance(SourceText(text, path=str(path)), settings)
        ours, naive = [], []
        for number in range(args.edits):
            buffer = edited(text, number)
            source = SourceText(buffer, path=str(path))
            if source.tree is None:  # the engine has parsed it already for every family
                raise SystemExit("an edit broke the file")
            ours.append(timed(service.file_provenance, source, settings))
        blame = ("blame", "--porcelain", "--contents", "-", "--", "app.py")
        for number in range(min(args.edits, 10)):
            naive.append(timed(git, repo, *blame, stdin=edited(text, number).encode()))
        p50, p95 = statistics.median(ours), sorted(ours)[int(len(ours) * 0.95) - 1]
        naive_p50 = statistics.median(naive)
        print(
            f"per edit, provenance only: p50 {p50 * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms; "
            f"git blame per edit p50 {naive_p50 * 1000:.0f} ms ({naive_p50 / p50:.0f}x slower)"
        )

        off = settings_from_tables({"provenance": {"enabled": False}})
        results = {}
        for label, chosen in (("on", settings), ("off", off)):
            analyzer = IncrementalAnalyzer(str(path))
            analyzer.analyze(text, chosen)
            samples = [timed(analyzer.analyze, edited(text, n), chosen) for n in range(args.edits)]
            results[label] = statistics.median(samples)
        overhead = results["on"] - results["off"]
        print(f"whole engine per edit (incremental): provenance on {results['on'] * 1000:.1f} ms, "
              f"off {results['off'] * 1000:.1f} ms, overhead {overhead * 1000:.1f} ms")  # fmt: skip
        service.shutdown()


if __name__ == "__main__":
    os.environ.setdefault("GIT_OPTIONAL_LOCKS", "0")
    sys.exit(main())
