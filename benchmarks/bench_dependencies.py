#!/usr/bin/env python3
"""Benchmark the dependencies family and its bundled PyPI index against naive alternatives.

Measures, in one run:

1. classifying every import of a ~2,000-line standard-library module (`subprocess.py`) and
   of a third-party one (the installed `rich/console.py`): cold (a fresh process, so it
   includes reading the environment, the project and, where needed, the PyPI index) and
   warm (the same file again, median of `--runs`); parsing is timed apart, since the engine
   parses once for every family;
2. the PyPI index: load time, memory and lookup time, against loading the plain
   `pypi-names-*.txt.gz` into a `set`, and against a linear scan of the sorted names;
3. the typo search over the 15,000 popular names, against comparing with every one.

    python benchmarks/bench_dependencies.py [--runs 20]
"""

from __future__ import annotations

import argparse
import gc
import gzip
import json
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from clearsight.checks.dependencies import DependencyCheck
from clearsight.deps.environment import Environment, installed_packages
from clearsight.deps.imports import scan_imports
from clearsight.deps.names import normalize
from clearsight.deps.pypi import bundled_index, load_bundled
from clearsight.deps.typos import max_edits, osa_distance, rank_limit
from clearsight.settings import Settings
from clearsight.source import SourceText

REPO = Path(__file__).resolve().parent.parent
SOURCE_NAMES = REPO.parent / "shared" / "data" / "pypi-names-2026-11.txt.gz"
PROBES = [
    "requests",
    "numpy",
    "huggingface-cli",
    "python-dateutils",
    "zope-interface",
    "reqeusts",
    "pytorch-utils-extra",
    "django",
    "aaa",
    "zzzz-not-there",
]
TYPO_PROBES = [
    "reqeusts",
    "python-dateutils",
    "huggingface-cli",
    "numpyy",
    "pytest-lsp",
    "colourama",
    "pytorch-utils-extra",
    "djnago",
    "langchain-helpers-pro",
    "flint",
]


def corpora() -> list[Path]:
    stdlib = Path(os.__file__).parent / "subprocess.py"
    found = [stdlib]
    rich = installed_packages(Environment.current()).distributions.get("rich")
    if rich is not None:
        found.append(rich.metadata.parent / "rich" / "console.py")
    return found


def _time(function: Callable[[], object]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def classify(source: SourceText, check: DependencyCheck) -> int:
    return len(list(check.run(source, Settings())))


def child_cold(path: str, prefix: str) -> dict[str, Any]:
    """Runs in a fresh process: the first classification of one file."""
    source = SourceText.from_bytes(prefix.encode() + Path(path).read_bytes(), path)
    parse = _time(lambda: source.tree)
    check = DependencyCheck()
    cold = _time(lambda: classify(source, check))
    return {"parse": parse, "cold": cold}


def measure_file(path: Path, runs: int, prefix: str = "") -> dict[str, Any]:
    child = subprocess.run(
        [sys.executable, __file__, "--child-cold", str(path), "--prefix", prefix],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    result = json.loads(child.stdout)
    source = SourceText.from_bytes(prefix.encode() + path.read_bytes(), str(path))
    assert source.tree is not None
    check = DependencyCheck()
    classify(source, check)
    warm = [_time(lambda: classify(source, check)) for _ in range(runs)]
    scans = [_time(lambda: scan_imports(source)) for _ in range(runs)]
    result.update(
        lines=len(source.lines),
        imports=len(scan_imports(source).imports),
        findings=classify(source, check),
        warm=statistics.median(warm),
        scan=statistics.median(scans),
    )
    return result


def _traced(function: Callable[[], object]) -> tuple[int, int]:
    """(retained, peak) bytes allocated by `function`, its result kept alive meanwhile."""
    gc.collect()
    tracemalloc.start()
    try:
        result = function()
        retained, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del result
    return retained, peak


def _load_set() -> set[str]:
    with gzip.open(SOURCE_NAMES, "rt", encoding="utf-8") as stream:
        return {normalize(line.strip()) for line in stream if line.strip()}


def measure_index() -> dict[str, Any]:
    # Times are taken untraced (tracemalloc slows allocation); memory in a second load.
    load = min(_time(lambda: load_bundled(eager=True)) for _ in range(3))
    retained, peak = _traced(lambda: load_bundled(eager=True))
    index = load_bundled(eager=True)
    lookups = PROBES * 10_000
    per = min(_time(lambda: [index.exists(n) for n in lookups]) for _ in range(3)) / len(lookups)
    result: dict[str, Any] = {
        "load": load, "retained": retained, "peak": peak, "lookup": per,
        "blob": index.names.memory_bytes,
    }  # fmt: skip
    if SOURCE_NAMES.is_file():
        result["set_load"] = _time(_load_set)
        result["set_retained"], result["set_peak"] = _traced(_load_set)
        naive = _load_set()
        keys = [normalize(n) for n in lookups]
        result["set_lookup"] = _time(lambda: [k in naive for k in keys]) / len(keys)
        ordered = sorted(naive)
        del naive
        linear = PROBES * 2
        result["scan_lookup"] = _time(lambda: [n in ordered for n in linear]) / len(linear)
    return result


def brute_force_near(name: str, popular: dict[str, int]) -> list[str]:
    """Every popular name, compared one by one (no bigram filter)."""
    found = []
    limit = max_edits(len(name))
    for candidate, rank in popular.items():
        edits = osa_distance(name, candidate, limit)
        if edits <= limit and rank <= rank_limit(len(name), edits):
            found.append(candidate)
    return found


def measure_typos() -> dict[str, float]:
    index = bundled_index()
    index.popular._index()  # built once per process, measured below
    index.popular._postings = None
    build = _time(index.popular._index)
    fast = _time(lambda: [index.popular.near(n) for n in TYPO_PROBES]) / len(TYPO_PROBES)
    ranks = index.popular.rank_of
    slow = _time(lambda: [brute_force_near(n, ranks) for n in TYPO_PROBES]) / len(TYPO_PROBES)
    return {"build": build, "filtered": fast, "brute": slow}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="warm repetitions (median)")
    parser.add_argument("--child-cold", help=argparse.SUPPRESS)
    parser.add_argument("--prefix", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_cold:
        print(json.dumps(child_cold(args.child_cold, args.prefix)))
        return 0

    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"python {sys.version.split()[0]} on {os.cpu_count()} cores; load average {load}")
    print("\nclassifying one file's imports (CS-D001..D004), parse timed apart")
    # The last case adds one hallucinated import, so the cold run also loads the PyPI index.
    cases = [(path, path.name, "") for path in corpora()]
    cases.append((cases[0][0], f"{cases[0][1]} + 1", "import huggingface_cli\n"))
    for path, label, prefix in cases:
        r = measure_file(path, args.runs, prefix)
        print(
            f"  {label:17} {r['lines']:5} lines {r['imports']:3} imports "
            f"{r['findings']} findings | parse {r['parse'] * 1e3:6.1f} ms | "
            f"cold {r['cold'] * 1e3:6.1f} ms | warm {r['warm'] * 1e3:5.2f} ms "
            f"(of which scanning {r['scan'] * 1e3:4.2f} ms)"
        )
    r = measure_index()
    mb = 1e6
    print("\nPyPI names index (886k names)")
    print(
        f"  bundled, sorted blob + bisection: load {r['load'] * 1e3:6.1f} ms | retained "
        f"{r['retained'] / mb:5.1f} MB (peak {r['peak'] / mb:5.1f}) | lookup "
        f"{r['lookup'] * 1e6:6.2f} µs"
    )
    if "set_load" in r:
        print(
            f"  naive: plain .gz into a set:     load {r['set_load'] * 1e3:6.1f} ms | retained "
            f"{r['set_retained'] / mb:5.1f} MB (peak {r['set_peak'] / mb:5.1f}) | lookup "
            f"{r['set_lookup'] * 1e6:6.2f} µs"
        )
        print(
            f"  naive: linear scan of the sorted list:                lookup "
            f"{r['scan_lookup'] * 1e3:8.1f} ms"
        )
    else:
        print(f"  (naive baselines skipped: {SOURCE_NAMES} not found)")
    t = measure_typos()
    print("\ntypo search against the popular names (per name, uncached)")
    print(
        f"  bigram-filtered: {t['filtered'] * 1e3:6.2f} ms (index built once: "
        f"{t['build'] * 1e3:.0f} ms) | every name compared: {t['brute'] * 1e3:6.1f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
