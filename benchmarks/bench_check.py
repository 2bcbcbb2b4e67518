#!/usr/bin/env python3
"""Benchmark `clearsight check` against bandit + radon cc + radon mi on one corpus.

Times each tool as its own subprocess, back to back, on the same copy of the corpus, then
checks (after timing, in this process) that clearsight's findings equal bandit's and that
its complexity numbers equal radon's. Exit status: 0 when every target passes and nothing
mismatches, 1 otherwise. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# radon mi is quadratic on these two stdlib files (minutes for pydoc_data/topics.py).
PATHOLOGICAL = ("pydoc_data/topics.py", "html/entities.py")
SKIPPED_DIRS = frozenset({"site-packages", "dist-packages", "__pycache__"})
COLD_TARGET = 0.5  # clearsight cold <= 0.5 x (bandit + radon cc + radon mi)
WARM_TARGET = 0.05  # clearsight warm <= 0.05 x (the same)
MI_TOLERANCE = 1e-6
SHOWN_MISMATCHES = 5

# The floor: the least any tool must do, read and parse every file, in one process.
FLOOR_SCRIPT = """\
import ast, os, sys
parsed = failed = 0
for directory, _dirs, files in os.walk(sys.argv[1]):
    for name in files:
        if name.endswith(".py"):
            with open(os.path.join(directory, name), "rb") as stream:
                data = stream.read()
            try:
                ast.parse(data)
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                failed += 1
            else:
                parsed += 1
print(parsed, failed)
"""


# -- running tools -------------------------------------------------------------------------


@dataclass
class Timing:
    label: str
    seconds: float
    timed_out: bool = False
    returncode: int | None = None
    failed: bool = False  # an exit status the tool does not use for "findings"

    def shown(self) -> str:
        if self.timed_out:
            return f">= {self.seconds:.2f} (timed out)"
        return f"{self.seconds:.2f}" + ("  (FAILED)" if self.failed else "")


def tool_path(name: str) -> str:
    """The console script next to this interpreter (skips pyenv shims, same environment)."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        sys.exit(f"bench_check: {name} is not installed")
    return found


def run_timed(
    label: str,
    argv: list[str],
    cwd: Path,
    stdout: Path,
    timeout: float,
    ok_codes: Iterable[int] = (0,),
) -> Timing:
    """Run one command, stdout to a file, and time it with the wall clock."""
    stderr = stdout.with_suffix(".stderr")
    with stdout.open("wb") as out, stderr.open("wb") as err:
        start = time.perf_counter()
        # Popen rather than subprocess.run: on a timeout the whole process group must die,
        # or clearsight's worker processes would keep running into the next measurement.
        process = subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=err, start_new_session=True)
        try:
            returncode = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return Timing(label, timeout, timed_out=True)
        seconds = time.perf_counter() - start
    timing = Timing(label, seconds, returncode=returncode, failed=returncode not in ok_codes)
    if timing.failed:
        tail = stderr.read_text(errors="replace")[-2000:]
        print(f"warning: {label} exited with {returncode}:\n{tail}", file=sys.stderr)
    return timing


def tool_version(argv: list[str]) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0].strip() if lines else "?"


def load_average() -> str:
    """Other work on the machine skews every timing; show it next to them."""
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "?"
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (1/5/15 min)"


def print_machine_info(tools: dict[str, str]) -> None:
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = os.cpu_count() or 1
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    print("== machine")
    print(f"nproc:      {usable} usable ({os.cpu_count()} online), {cpu}")
    print(f"platform:   {platform.platform()}")
    print(f"load:       {load_average()}")
    print(f"python:     {platform.python_implementation()} {sys.version.split()[0]}")
    print(f"bandit:     {tool_version([tools['bandit'], '--version'])}")
    print(f"radon:      {tool_version([tools['radon'], '--version'])}")
    print(f"clearsight: {tool_version([tools['clearsight'], '--version'])}")


# -- the corpus ----------------------------------------------------------------------------


def python_files(root: Path) -> list[str]:
    """Every *.py under root, as sorted posix paths relative to it."""
    found = []
    for directory, dirnames, filenames in os.walk(root):
        dirnames[:] = [name for name in dirnames if name not in SKIPPED_DIRS]
        for name in filenames:
            path = Path(directory, name)
            if name.endswith(".py") and path.is_file():
                found.append(path.relative_to(root).as_posix())
    return sorted(found)


def fetch_django(work: Path) -> Path:
    """Download Django 5.2's sdist from PyPI and unpack it; returns its top folder."""
    download = work / "download"
    command = [
        sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
        "--no-binary", ":all:", "django==5.2.*", "-d", str(download),
    ]  # fmt: skip
    print("fetching:", " ".join(command))
    subprocess.run(command, check=True)
    sdist = next(download.glob("*.tar.gz"))
    unpacked = work / "django-sdist"
    with tarfile.open(sdist) as archive:
        if hasattr(tarfile, "data_filter"):
            archive.extractall(unpacked, filter="data")
        else:  # Python without PEP 706 (older 3.10/3.11 patch releases)
            archive.extractall(unpacked)
    (top,) = [path for path in unpacked.iterdir() if path.is_dir()]
    return top


def build_corpus(
    source: Path, corpus: Path, skip_pathological: bool, limit: int | None
) -> list[str]:
    """Copy the chosen *.py files into `corpus` (only .py: no config or .gitignore that one
    tool would honour and another not). Returns their relative paths, sorted."""
    files = python_files(source)
    if skip_pathological:
        files = [name for name in files if name not in PATHOLOGICAL]
    if limit is not None:
        files = files[:limit]
    for name in files:
        target = corpus / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / name, target)
    return files


# -- comparing results ---------------------------------------------------------------------


@dataclass
class Comparison:
    name: str
    matched: int = 0
    mismatches: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    incomplete: str | None = None  # why the comparison could not be made

    @property
    def ok(self) -> bool:
        return self.incomplete is None and not self.mismatches

    def report(self) -> None:
        if self.incomplete:
            print(f"{self.name:<14} NOT COMPARED: {self.incomplete}")
            return
        verdict = "OK" if self.ok else "MISMATCH"
        print(
            f"{self.name:<14} {self.matched} files match, "
            f"{len(self.mismatches)} mismatch  [{verdict}]"
        )
        for note in self.notes:
            print(f"    note: {note}")
        for line in self.mismatches[:SHOWN_MISMATCHES]:
            print(f"    - {line}")
        if len(self.mismatches) > SHOWN_MISMATCHES:
            print(f"    ... and {len(self.mismatches) - SHOWN_MISMATCHES} more")


def load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def relative(path: str, corpus: Path) -> str:
    return Path(os.path.relpath(path, corpus)).as_posix()


SecurityKey = tuple[str, int, int, str, str]  # test_id, line, byte col, severity, confidence


def bandit_findings(doc: dict[str, Any], corpus: Path) -> dict[str, Counter[SecurityKey]]:
    found: dict[str, Counter[SecurityKey]] = {}
    for item in doc.get("results", []):
        key = (
            item["test_id"],
            item["line_number"],
            item["col_offset"],
            item["issue_severity"],
            item["issue_confidence"],
        )
        found.setdefault(relative(item["filename"], corpus), Counter())[key] += 1
    return found


def clearsight_findings(doc: dict[str, Any], corpus: Path) -> dict[str, Counter[SecurityKey]]:
    found: dict[str, Counter[SecurityKey]] = {}
    for item in doc.get("findings", []):
        security = item.get("security")
        if not security or not security.get("bandit_severity"):
            continue  # not bandit's (a dataflow finding): compared in expected_of_bandit
        metrics = item.get("metrics") or {}
        key = (
            security["test_id"],
            metrics.get("bandit_line"),
            metrics.get("bandit_col"),
            security["bandit_severity"],
            security["confidence"],
        )
        found.setdefault(relative(item["path"], corpus), Counter())[key] += 1
    return found


def expected_of_bandit(
    theirs: dict[str, Counter[SecurityKey]], clearsight_doc: dict[str, Any], corpus: Path
) -> tuple[dict[str, Counter[SecurityKey]], int, int]:
    """bandit's findings as clearsight reports them by design (docs/rules.md): a test file's
    B101 is ignored (the built-in test defaults), and a dataflow finding stands for bandit's
    findings of its class on its line (one finding per problem, as `judge_bandit` keeps).
    Also how many of each were taken out."""
    from clearsight.dataflow.catalogue import bundled
    from clearsight.settings import Settings

    catalogue = bundled()
    flows: dict[str, set[tuple[int, str]]] = {}
    for item in clearsight_doc.get("findings", []):
        vulnerability = catalogue.class_of(item["code"])
        if (item.get("metrics") or {}).get("dataflow") and vulnerability is not None:
            name = relative(item["path"], corpus)
            flows.setdefault(name, set()).update((item["line"], t) for t in vulnerability.bandit)
    settings = Settings()
    expected: dict[str, Counter[SecurityKey]] = {}
    in_tests = stood_for = 0
    for name, found in theirs.items():
        ignored = settings.for_file(corpus / name).ignore
        kept: Counter[SecurityKey] = Counter()
        for key, count in found.items():
            if key[0] in ignored:
                in_tests += count
            elif (key[1], key[0]) in flows.get(name, ()):
                stood_for += count
            else:
                kept[key] = count
        expected[name] = kept
    return expected, in_tests, stood_for


def compare_security(
    files: list[str],
    corpus: Path,
    bandit_doc: Any,
    clearsight_doc: Any,
    clearsight_checked: set[str],
) -> Comparison:
    result = Comparison("security")
    if not isinstance(bandit_doc, dict) or not isinstance(clearsight_doc, dict):
        result.incomplete = "bandit or clearsight produced no JSON (timed out or failed)"
        return result
    ours = clearsight_findings(clearsight_doc, corpus)
    theirs = bandit_findings(bandit_doc, corpus)
    bandit_errors = {relative(e["filename"], corpus) for e in bandit_doc.get("errors", [])}
    engine_errors = {
        relative(item["path"], corpus)
        for item in clearsight_doc.get("findings", [])
        if item["code"] in ("CS-E001", "CS-E002")
    }
    result.notes.append(
        f"bandit could not parse {len(bandit_errors)} files, clearsight reported syntax or "
        f"decoding errors in {len(engine_errors)} ({len(bandit_errors & engine_errors)} both)"
    )
    total_ours = sum(sum(c.values()) for c in ours.values())
    total_theirs = sum(sum(c.values()) for c in theirs.values())
    result.notes.append(f"findings: bandit {total_theirs}, clearsight {total_ours}")
    theirs, in_tests, stood_for = expected_of_bandit(theirs, clearsight_doc, corpus)
    result.notes.append(
        f"by design: {in_tests} of bandit's B101 in test files ignored, {stood_for} of its "
        "findings replaced by a dataflow finding on the same line"
    )
    for name in files:
        if name not in clearsight_checked:
            continue  # reported by the discovery comparison
        mine, bandits = ours.get(name, Counter()), theirs.get(name, Counter())
        if mine == bandits:
            result.matched += 1
            continue
        only_bandit = sorted((bandits - mine).elements())
        only_ours = sorted((mine - bandits).elements())
        result.mismatches.append(
            f"{name}: only bandit {only_bandit[:3]}{'...' if len(only_bandit) > 3 else ''}, "
            f"only clearsight {only_ours[:3]}{'...' if len(only_ours) > 3 else ''}"
        )
    return result


def compare_discovery(
    files: list[str], corpus: Path, bandit_doc: Any, clearsight_checked: set[str]
) -> Comparison:
    """Which corpus files each tool looked at (a skipped file loses its findings)."""
    result = Comparison("files checked")
    if not isinstance(bandit_doc, dict):
        result.incomplete = "bandit produced no JSON"
        return result
    bandit_seen = {relative(e["filename"], corpus) for e in bandit_doc.get("errors", [])}
    bandit_seen |= {
        relative(name, corpus) for name in bandit_doc.get("metrics", {}) if name != "_totals"
    }
    for name in files:
        missing = [
            tool
            for tool, seen in (("bandit", bandit_seen), ("clearsight", clearsight_checked))
            if name not in seen
        ]
        if missing:
            result.mismatches.append(f"{name}: not checked by {' and '.join(missing)}")
        else:
            result.matched += 1
    return result


def compare_cache(outputs: dict[str, Any]) -> Comparison:
    """The three clearsight runs must print the same findings (the cache changes nothing)."""
    result = Comparison("cache")
    docs = {label: doc for label, doc in outputs.items() if isinstance(doc, dict)}
    if len(docs) < len(outputs):
        result.incomplete = "a clearsight run produced no JSON"
        return result
    baseline_label, baseline = next(iter(docs.items()))
    expected = Counter(json.dumps(f, sort_keys=True) for f in baseline.get("findings", []))
    for label, doc in docs.items():
        got = Counter(json.dumps(f, sort_keys=True) for f in doc.get("findings", []))
        if got == expected:
            result.matched += 1
        else:
            differing = sum(((got - expected) + (expected - got)).values())
            result.mismatches.append(f"{label}: {differing} findings differ from {baseline_label}")
    result.notes.append("'files match' here counts clearsight runs, not files")
    return result


def _radon_by_file(doc: Any, corpus: Path) -> dict[str, Any]:
    return {relative(name, corpus): value for name, value in doc.items()}


def compare_complexity(
    files: list[str], corpus: Path, cc_doc: Any, mi_doc: Any
) -> tuple[Comparison, Comparison]:
    # Imported here, after timing, so loading clearsight costs the timed runs nothing.
    from clearsight.checks.complexity import analyse_complexity
    from clearsight.source import SourceText

    cc, mi = Comparison("radon cc"), Comparison("radon mi")
    if not isinstance(cc_doc, dict):
        cc.incomplete = "radon cc produced no JSON (timed out or failed)"
    if not isinstance(mi_doc, dict):
        mi.incomplete = "radon mi produced no JSON (timed out or failed)"
    radon_cc = _radon_by_file(cc_doc, corpus) if isinstance(cc_doc, dict) else {}
    radon_mi = _radon_by_file(mi_doc, corpus) if isinstance(mi_doc, dict) else {}
    no_tree = 0
    radon_errors: dict[str, list[str]] = {"cc": [], "mi": []}
    for name in files:
        path = corpus / name
        source = SourceText.from_bytes(path.read_bytes(), str(path))
        if source.tree is None:
            no_tree += 1
            continue
        try:
            blocks, maintainability = analyse_complexity(source)
        except Exception as error:  # a crash is a mismatch to report, not to stop on
            message = f"{name}: analyse_complexity raised {type(error).__name__}: {error}"
            cc.mismatches.append(message)
            mi.mismatches.append(message)
            continue
        if cc.incomplete is None:
            # radon cc -j leaves out files without any block.
            theirs = radon_cc.get(name, [])
            ours = sorted((b.name.rsplit(".", 1)[-1], b.line, b.complexity, b.rank) for b in blocks)
            if isinstance(theirs, dict):  # {"error": ...}: radon could not read or parse it
                radon_errors["cc"].append(f"{name} ({str(theirs.get('error'))[:80]})")
            else:
                expected = sorted(
                    (b["name"], b["lineno"], b["complexity"], b["rank"]) for b in theirs
                )
                if ours == expected:
                    cc.matched += 1
                else:
                    extra = sorted(set(ours) - set(expected))[:3]
                    lacking = sorted(set(expected) - set(ours))[:3]
                    cc.mismatches.append(f"{name}: only clearsight {extra}, only radon {lacking}")
        if mi.incomplete is None:
            theirs = radon_mi.get(name)
            if theirs is None:
                mi.mismatches.append(f"{name}: radon mi did not report the file")
            elif "error" in theirs:
                radon_errors["mi"].append(f"{name} ({str(theirs['error'])[:80]})")
            elif (
                abs(theirs["mi"] - maintainability.score) <= MI_TOLERANCE
                and theirs["rank"] == maintainability.rank
            ):
                mi.matched += 1
            else:
                mi.mismatches.append(
                    f"{name}: clearsight {maintainability.score!r} {maintainability.rank}, "
                    f"radon {theirs['mi']!r} {theirs['rank']}"
                )
    for comparison, key in ((cc, "cc"), (mi, "mi")):
        comparison.notes.append(f"{no_tree} files without a syntax tree skipped")
        errors = radon_errors[key]
        if errors:
            comparison.notes.append(
                f"{len(errors)} files radon could not analyse, not compared: "
                + ", ".join(errors[:SHOWN_MISMATCHES])
                + (" ..." if len(errors) > SHOWN_MISMATCHES else "")
            )
    return cc, mi


def clearsight_discovered(corpus: Path) -> set[str]:
    """The files `clearsight check CORPUS` looks at (its JSON only gives a count)."""
    from clearsight.cli.discovery import discover
    from clearsight.settings import SettingsResolver

    found = discover([str(corpus)], SettingsResolver())
    return {relative(str(path), corpus) for path in found.files}


# -- the report ----------------------------------------------------------------------------


def ratio_cell(top: Timing, bottom: Timing | float, bottom_is_bound: bool) -> tuple[str, str]:
    """(ratio as text, kind): kind is "exact", "upper" (ratio <= shown), "lower" or "unknown"."""
    denominator = bottom if isinstance(bottom, float) else bottom.seconds
    value = top.seconds / denominator if denominator > 0 else float("inf")
    if top.timed_out and bottom_is_bound:
        return "unknown", "unknown"
    if top.timed_out:
        return f">= {value:.4f}", "lower"
    if bottom_is_bound:
        return f"<= {value:.4f}", "upper"
    return f"{value:.4f}", "exact"


def verdict(text: str, kind: str, target: float) -> str:
    value = float(text.split()[-1]) if kind != "unknown" else float("nan")
    if kind in ("exact", "upper") and value <= target:
        return "PASS"
    if kind in ("exact", "lower") and value > target:
        return "FAIL"
    return "FAIL (inconclusive: a timeout hides the real ratio)"


def print_timings(timings: dict[str, Timing]) -> bool:
    """The table of seconds and ratios; returns whether every target passed."""
    tools = [timings["bandit"], timings["radon cc"], timings["radon mi"]]
    tools_sum = sum(t.seconds for t in tools)
    tools_bound = any(t.timed_out for t in tools)
    print("\n== timings (wall clock, seconds)")
    rows = [
        ("bandit -r -f json", timings["bandit"]),
        ("radon cc -j", timings["radon cc"]),
        ("radon mi -j", timings["radon mi"]),
    ]
    for label, timing in rows:
        print(f"{label:<46} {timing.shown():>24}")
    sum_text = f">= {tools_sum:.2f} (a tool timed out)" if tools_bound else f"{tools_sum:.2f}"
    print(f"{'sum of the three tools':<46} {sum_text:>24}")
    for key, label in (
        ("cold", "clearsight cold (--no-cache)"),
        ("fill", "clearsight cold, writing the cache"),
        ("warm", "clearsight warm (cache hits)"),
        ("floor", "floor: read + ast.parse, 1 process"),
    ):
        print(f"{label:<46} {timings[key].shown():>24}")

    print("\n== ratios")
    print(f"{'':<46} {'ratio':>12} {'target':>8}  result")
    all_pass = True
    for key, label, target in (
        ("cold", "clearsight cold / (bandit + radon cc + mi)", COLD_TARGET),
        ("warm", "clearsight warm / (bandit + radon cc + mi)", WARM_TARGET),
    ):
        text, kind = ratio_cell(timings[key], tools_sum, tools_bound)
        result = verdict(text, kind, target) if not timings[key].failed else "FAIL (tool failed)"
        all_pass &= result == "PASS"
        print(f"{label:<46} {text:>12} {'<= ' + str(target):>8}  {result}")
    for key, label in (("fill", "clearsight cache fill / three tools"),):
        text, _ = ratio_cell(timings[key], tools_sum, tools_bound)
        print(f"{label:<46} {text:>12} {'':>8}  (info)")
    text, _ = ratio_cell(timings["cold"], timings["floor"], timings["floor"].timed_out)
    print(f"{'clearsight cold / floor':<46} {text:>12} {'':>8}  (info)")
    if tools_bound:
        print(
            "note: a tool timed out, so the tools' sum is a lower bound and each ratio against "
            "it an upper bound (a PASS still holds; a FAIL is inconclusive)."
        )
    return all_pass


# -- main ----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--corpus", type=Path, help="folder of Python files (default: stdlib)")
    where.add_argument("--django", action="store_true", help="use Django 5.2's sdist from PyPI")
    parser.add_argument("--limit", type=int, help="only the first N files (sorted paths)")
    parser.add_argument(
        "--skip-pathological", action="store_true",
        help=f"leave out {' and '.join(PATHOLOGICAL)} (radon mi is quadratic on them)",
    )  # fmt: skip
    parser.add_argument(
        "--tool-timeout", type=float, default=900.0,
        help="seconds each command may run (default: 900)",
    )  # fmt: skip
    parser.add_argument("--jobs", type=int, help="pass --jobs to clearsight (default: its own)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    if args.limit is not None and args.limit < 1:
        parser.error("--limit must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    tools = {name: tool_path(name) for name in ("bandit", "radon", "clearsight")}
    print_machine_info(tools)

    work = Path(tempfile.mkdtemp(prefix="clearsight-bench-")).resolve()
    try:
        return run_benchmark(args, tools, work)
    finally:
        if args.keep:
            print(f"\nkept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def run_benchmark(args: argparse.Namespace, tools: dict[str, str], work: Path) -> int:
    if args.django:
        source, kind = fetch_django(work), "Django 5.2 sdist"
    elif args.corpus:
        source, kind = args.corpus.resolve(), "--corpus"
    else:
        source, kind = Path(os.path.dirname(os.__file__)), "Python standard library"
    corpus, out, cache, cwd = (work / name for name in ("corpus", "out", "cache", "cwd"))
    for folder in (corpus, out, cwd):
        folder.mkdir()
    files = build_corpus(source, corpus, args.skip_pathological, args.limit)
    if not files:
        print(f"no *.py files under {source}", file=sys.stderr)
        return 1
    size = sum((corpus / name).stat().st_size for name in files)

    print("\n== corpus")
    print(f"source:     {kind}: {source}")
    print(f"copied to:  {corpus}")
    print(f"files:      {len(files)} *.py, {size / 1e6:.1f} MB" + (
        f" (first {args.limit} sorted paths: --limit)" if args.limit else " (all)"
    ))  # fmt: skip
    present = [name for name in PATHOLOGICAL if (source / name).is_file()]
    mode = "EXCLUDED (--skip-pathological)" if args.skip_pathological else "included"
    in_corpus = [name for name in present if name in files]
    print(f"mode:       pathological files {mode}; in this corpus: {in_corpus or 'none'}")
    print(f"timeout:    {args.tool_timeout:g} s per command")

    # cwd is an empty folder: radon reads pyproject.toml/setup.cfg/radon.cfg from it.
    corpus_arg = str(corpus)
    jobs = ["--jobs", str(args.jobs)] if args.jobs else []
    clearsight = [tools["clearsight"], "check", corpus_arg, "--format", "json", *jobs]
    commands: list[tuple[str, list[str], tuple[int, ...]]] = [
        ("bandit", [tools["bandit"], "-r", corpus_arg, "-f", "json", "-q",
                    "-o", str(out / "bandit.json")], (0, 1)),
        ("radon cc", [tools["radon"], "cc", "-j", corpus_arg], (0,)),
        ("radon mi", [tools["radon"], "mi", "-j", corpus_arg], (0,)),
        ("cold", [*clearsight, "--no-cache"], (0, 1)),
        ("fill", [*clearsight, "--cache-dir", str(cache)], (0, 1)),
        ("warm", [*clearsight, "--cache-dir", str(cache)], (0, 1)),
        ("floor", [sys.executable, "-c", FLOOR_SCRIPT, corpus_arg], (0,)),
    ]  # fmt: skip
    print("\n== running")
    timings: dict[str, Timing] = {}
    for label, argv, ok_codes in commands:
        shown = " ".join("<floor script>" if part == FLOOR_SCRIPT else part for part in argv)
        print(f"[{label}] {shown}", flush=True)
        stdout = out / f"{label.replace(' ', '_')}.out"
        timings[label] = run_timed(label, argv, cwd, stdout, args.tool_timeout, ok_codes)
        print(f"    {timings[label].shown()} s, exit {timings[label].returncode}", flush=True)

    print(f"load average after the runs: {load_average()}")
    targets_pass = print_timings(timings)

    def output(label: str, name: str) -> Any:
        timing = timings[label]
        return None if timing.timed_out or timing.failed else load_json(out / name)

    bandit_doc = output("bandit", "bandit.json")
    clearsight_docs = {
        "cold": output("cold", "cold.out"),
        "fill": output("fill", "fill.out"),
        "warm": output("warm", "warm.out"),
    }
    checked = clearsight_discovered(corpus)
    cold_doc = clearsight_docs["cold"]
    print("\n== identical results")
    if isinstance(cold_doc, dict) and cold_doc.get("files_checked") != len(checked):
        print(f"note: clearsight says it checked {cold_doc.get('files_checked')} files, "
              f"discovery finds {len(checked)}")  # fmt: skip
    engine_problems = [
        f"{relative(item['path'], corpus)}: {item['code']} {item['message'][:100]}"
        for item in (cold_doc or {}).get("findings", [])
        if item["code"] in ("CS-E003", "CS-E005")
    ]
    comparisons = [
        compare_discovery(files, corpus, bandit_doc, checked),
        compare_security(files, corpus, bandit_doc, cold_doc, checked),
        *compare_complexity(
            files, corpus, output("radon cc", "radon_cc.out"), output("radon mi", "radon_mi.out")
        ),
        compare_cache(clearsight_docs),
    ]
    for comparison in comparisons:
        comparison.report()
    if engine_problems:
        print(f"clearsight check failures / limits hit ({len(engine_problems)}):")
        for line in engine_problems[:SHOWN_MISMATCHES]:
            print(f"    - {line}")

    identical = all(comparison.ok for comparison in comparisons)
    if any(comparison.mismatches for comparison in comparisons):
        results = "MISMATCH"
    else:
        results = "identical" if identical else "INCOMPLETE (not everything was compared)"
    print(f"\n== result: targets {'PASS' if targets_pass else 'FAIL'}, results {results}")
    return 0 if targets_pass and identical else 1


if __name__ == "__main__":
    sys.exit(main())
