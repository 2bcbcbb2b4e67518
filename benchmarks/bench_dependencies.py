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
3. the typo search over the 15,000 popular names, against comparing with every one;
4. the non-existent-API check (CS-D005) on `subprocess.py`, in a fresh process: cold, warm
   (same text), and warm after an edit (one new statement each time), against asking jedi
   naively in a fresh process: `jedi.Script(...).complete()` at each reference (cold and
   warm jedi caches), and `jedi.Script(path=module).get_names()` for each referenced
   module without caching;
5. the new-dependency check (CS-D006) on a copy of `subprocess.py` committed to a fresh git
   repository, plus one new import: cold (first run: git asked) and warm, against the naive
   way, `git show HEAD:path` and a parse of the old version on every run.

    python benchmarks/bench_dependencies.py [--runs 20]
"""

from __future__ import annotations

import argparse
import gc
import gzip
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from corpus import with_jedi

from clearsight.checks.api_existence import ApiExistenceCheck
from clearsight.checks.dependencies import DependencyCheck
from clearsight.checks.new_dependency import NewDependencyCheck
from clearsight.deps.environment import Environment, installed_packages
from clearsight.deps.imports import scan_imports
from clearsight.deps.names import normalize
from clearsight.deps.pypi import bundled_index, load_bundled
from clearsight.deps.references import file_uses
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


def api_check(source: SourceText, check: ApiExistenceCheck) -> int:
    return len(list(check.run(source, Settings())))


def child_api(path: str, runs: int) -> dict[str, Any]:
    """Runs in a fresh process: the first CS-D005 run on one file, then warm runs on the
    same text and on edited texts (one new statement each time)."""
    text = Path(path).read_text(encoding="utf-8")
    source = SourceText(text, path)
    parse = _time(lambda: source.tree)
    check = ApiExistenceCheck()
    cold = _time(lambda: api_check(source, check))
    warm = statistics.median(_time(lambda: api_check(source, check)) for _ in range(runs))
    edits = []
    for n in range(runs):
        edited = SourceText(f"{text}\n_edit_{n} = os.path.join('a', 'b')\n", path)
        edited.tree  # noqa: B018 - parsing is shared with the other families: timed apart
        edits.append(_time(lambda edited=edited: api_check(edited, check)))
    return {
        "parse": parse, "cold": cold, "warm": warm, "edit": statistics.median(edits),
        "findings": api_check(source, check),
    }  # fmt: skip


def _reference_positions(source: SourceText) -> list[tuple[int, int, str]]:
    """(1-based line, column, name) where jedi would complete each checked name."""
    uses = file_uses(source)
    found = []
    for use in uses.uses:
        for attr, (line, end) in zip(use.attrs, use.ends, strict=True):
            found.append((line + 1, end - len(attr), attr))
    for item in uses.from_imports:
        found.append((item.line + 1, item.column, item.name))
    return found


def child_jedi(path: str, sample: int) -> dict[str, Any]:
    """Runs in a fresh process (importing jedi raises the recursion limit): the naive
    alternatives, per reference and per module, without Clearsight's caches."""
    import jedi  # the server's own dependency; only jedi.Script on files, never Interpreter

    source = SourceText.from_bytes(Path(path).read_bytes(), path)
    positions = _reference_positions(source)
    picked = positions[:: max(1, len(positions) // sample)][:sample]

    def per_reference() -> int:
        missing = 0
        script = jedi.Script(source.text, path=path)
        for line, column, name in picked:
            names = {c.name for c in script.complete(line, column)}
            missing += name not in names
        return missing

    cold = _time(per_reference)
    missing = per_reference()
    warm = _time(per_reference)
    finder = ApiExistenceCheck().finder_for(path)
    modules = sorted({m for ms in file_uses(source).modules.values() for m in ms})
    files = [f for f in (finder.locate(m) for m in modules) if f is not None and f.file]

    def get_names() -> int:
        return sum(len(jedi.Script(path=f.file).get_names()) for f in files if f.file)

    names = _time(get_names)
    return {
        "references": len(positions), "sample": len(picked), "cold": cold, "warm": warm,
        "missing": missing, "modules": len(files), "get_names": names,
    }  # fmt: skip


def measure_api(path: Path, runs: int) -> dict[str, Any]:
    child = subprocess.run(
        [sys.executable, __file__, "--child-api", str(path), "--runs", str(runs)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    result = json.loads(child.stdout)
    jedi_run = subprocess.run(
        [sys.executable, __file__, "--child-jedi", str(path)],
        capture_output=True, text=True, check=True, env=with_jedi(),
    )  # fmt: skip
    result["jedi"] = json.loads(jedi_run.stdout)
    return result


def print_api(r: dict[str, Any]) -> None:
    j = r["jedi"]
    per_ref_cold = j["cold"] / j["sample"] * j["references"]
    per_ref_warm = j["warm"] / j["sample"] * j["references"]
    print(
        f"  clearsight: parse {r['parse'] * 1e3:6.1f} ms | cold {r['cold'] * 1e3:6.1f} ms | "
        f"warm {r['warm'] * 1e3:5.2f} ms | after an edit {r['edit'] * 1e3:5.2f} ms | "
        f"{r['findings']} findings"
    )
    print(
        f"  naive jedi, complete() per reference ({j['references']} references, "
        f"{j['sample']} timed, scaled): cold {per_ref_cold:6.2f} s | warm "
        f"{per_ref_warm:6.2f} s | names jedi lacks: {j['missing']} of {j['sample']}"
    )
    print(
        f"  naive jedi, get_names() of the {j['modules']} referenced modules, uncached: "
        f"{j['get_names'] * 1e3:6.1f} ms"
    )
    print(
        f"  ratio: warm {per_ref_warm / r['warm']:,.0f}x faster than jedi per reference, "
        f"{j['get_names'] / r['warm']:,.0f}x faster than get_names per run; cold "
        f"{per_ref_cold / r['cold']:,.1f}x"
    )


def measure_new_dependency(path: Path, runs: int) -> dict[str, Any]:
    git = shutil.which("git")
    if git is None:
        return {}
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@example.org",
           "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@example.org"}  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        repo = Path(folder)
        target = repo / path.name
        target.write_bytes(path.read_bytes())
        for argv in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "base"]):
            subprocess.run([git, *argv], cwd=repo, env=env, check=True)
        text = "import yaml\n" + path.read_text(encoding="utf-8")
        target.write_text(text, encoding="utf-8")
        source = SourceText(text, str(target))
        source.tree  # noqa: B018 - shared with the other families: timed apart
        check = NewDependencyCheck()
        findings: list[object] = []
        cold = _time(lambda: findings.extend(check.run(source, Settings())))
        warm = statistics.median(
            _time(lambda: list(check.run(source, Settings()))) for _ in range(runs)
        )

        def naive() -> int:
            old = subprocess.run([git, "show", f"HEAD:{path.name}"], cwd=repo,
                                 capture_output=True, check=True).stdout  # fmt: skip
            return len(scan_imports(SourceText.from_bytes(old, str(target))).imports)

        slow = statistics.median(_time(naive) for _ in range(max(3, runs // 4)))
    return {"cold": cold, "warm": warm, "naive": slow, "findings": len(findings)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="warm repetitions (median)")
    parser.add_argument("--child-cold", help=argparse.SUPPRESS)
    parser.add_argument("--prefix", default="", help=argparse.SUPPRESS)
    parser.add_argument("--child-api", help=argparse.SUPPRESS)
    parser.add_argument("--child-jedi", help=argparse.SUPPRESS)
    parser.add_argument("--jedi-sample", type=int, default=40, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_cold:
        print(json.dumps(child_cold(args.child_cold, args.prefix)))
        return 0
    if args.child_api:
        print(json.dumps(child_api(args.child_api, args.runs)))
        return 0
    if args.child_jedi:
        print(json.dumps(child_jedi(args.child_jedi, args.jedi_sample)))
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
    subprocess_py = corpora()[0]
    print(f"\nnon-existent APIs (CS-D005) in {subprocess_py.name}, parse timed apart")
    print_api(measure_api(subprocess_py, args.runs))
    n = measure_new_dependency(subprocess_py, args.runs)
    if n:
        print(f"\nnew dependencies (CS-D006) in {subprocess_py.name} + `import yaml`, in git")
        print(
            f"  clearsight: cold {n['cold'] * 1e3:6.1f} ms | warm {n['warm'] * 1e3:5.2f} ms | "
            f"{n['findings']} finding | naive (git show + parse per run): "
            f"{n['naive'] * 1e3:6.1f} ms | ratio warm {n['naive'] / n['warm']:,.1f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
