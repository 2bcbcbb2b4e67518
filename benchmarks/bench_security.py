"""Security detection: the OWASP Benchmark for Python, and the noise on real code.

Part 1 scores the OWASP Benchmark for Python (`../shared/data/owasp-benchmark-python/`,
1,243 labelled Flask handlers in 14 categories) as the OWASP scorecards do: a case is
flagged when the engine reports, in that file, a finding of warning or worse whose CWE
matches the case's (with the usual equivalents: 22/23/36, 78/77, 79/80, 94/95, 327/328,
330/338). Per category TPR = flagged real cases / real cases, FPR = flagged safe cases /
safe cases, Youden = TPR - FPR; the headline is the average over categories. In the same
run it scores bandit's rules alone (the engine with the dataflow family off), which is what
Clearsight reported before.

Part 2 runs the dataflow family over code nobody here wrote: the sdists of Django, Flask,
httpx and requests (pip-downloaded into benchmarks/.cache) and the running Python's
standard library, and lists every finding of warning or worse, with the rate per 10,000
lines.

    PYENV_VERSION=3.12.1 python3 benchmarks/bench_security.py [--workers 2] [--skip-real-code]

The benchmark's files use PEP 701 f-strings: run it on Python 3.12 or later.

Targets (issue 10): average Youden >= +60%, no category below 0, overall FPR <= 10%; on
real code at most 1 warning per 10,000 lines.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from corpus import fetch_sdists, python_files, scan_corpus

from clearsight.checks.dataflow import DataflowCheck
from clearsight.checks.security import SecurityCheck
from clearsight.engine import analyze
from clearsight.model import Severity
from clearsight.settings import Settings, settings_from_tables
from clearsight.source import SourceText

ROOT = Path(__file__).resolve().parent.parent
BENCHMARK = ROOT.parent / "shared" / "data" / "owasp-benchmark-python"
SDISTS = ("django==6.1.3", "flask==3.1.3", "httpx==0.28.1", "requests==2.34.2")
EQUIVALENT = [{22, 23, 36}, {78, 77}, {79, 80}, {94, 95}, {327, 328}, {330, 338}]
CLEARSIGHT = Settings()
BANDIT_ONLY = settings_from_tables({"security": {"dataflow": False}})
SECURITY_CHECKS = (SecurityCheck(), DataflowCheck())


def same_cwe(found: int, wanted: int) -> bool:
    return found == wanted or any(found in group and wanted in group for group in EQUIVALENT)


def flagged_cwes(path: str, settings: Settings) -> set[int]:
    source = SourceText.from_bytes(Path(path).read_bytes(), path)
    findings = analyze(source, path, settings, checks=SECURITY_CHECKS)
    return {
        f.security.cwe
        for f in findings
        if f.security is not None and f.security.cwe and f.severity <= Severity.WARNING
    }


def score_case(case: tuple[str, str, bool, int]) -> tuple[str, bool, bool, bool]:
    name, category, real, cwe = case
    path = str(BENCHMARK / "testcode" / f"{name}.py")
    ours = any(same_cwe(c, cwe) for c in flagged_cwes(path, CLEARSIGHT))
    theirs = any(same_cwe(c, cwe) for c in flagged_cwes(path, BANDIT_ONLY))
    return category, real, ours, theirs


@dataclass
class Tally:
    real: int = 0
    safe: int = 0
    true_positives: int = 0
    false_positives: int = 0

    def add(self, real: bool, flagged: bool) -> None:
        if real:
            self.real += 1
            self.true_positives += flagged
        else:
            self.safe += 1
            self.false_positives += flagged

    @property
    def tpr(self) -> float:
        return self.true_positives / self.real if self.real else 0.0

    @property
    def fpr(self) -> float:
        return self.false_positives / self.safe if self.safe else 0.0


def owasp(workers: int) -> bool:
    rows = [
        row
        for row in csv.reader((BENCHMARK / "expectedresults-0.1.csv").open(encoding="utf-8"))
        if row and not row[0].startswith("#")
    ]
    cases = [(name, category, real == "true", int(cwe)) for name, category, real, cwe in rows]
    started = time.perf_counter()
    ours: dict[str, Tally] = defaultdict(Tally)
    theirs: dict[str, Tally] = defaultdict(Tally)
    with ProcessPoolExecutor(workers) as pool:
        for category, real, flagged, bandit_flagged in pool.map(score_case, cases, chunksize=16):
            ours[category].add(real, flagged)
            theirs[category].add(real, bandit_flagged)
    seconds = time.perf_counter() - started
    print(f"OWASP Benchmark for Python v0.1: {len(cases)} cases, {seconds:.0f} s, findings of")
    print("warning or worse whose CWE matches the case's\n")
    header = (
        f"{'category':16} {'cases':>5}  {'Clearsight TPR/FPR':>19} {'Youden':>7}"
        f"  {'bandit rules TPR/FPR':>21} {'Youden':>7}"
    )
    print(header)
    print("-" * len(header))
    for category in sorted(ours):
        a, b = ours[category], theirs[category]
        print(
            f"{category:16} {a.real + a.safe:5}  {a.tpr:8.1%} /{a.fpr:7.1%}  {a.tpr - a.fpr:+7.1%}"
            f"  {b.tpr:9.1%} /{b.fpr:8.1%}   {b.tpr - b.fpr:+7.1%}"
        )
    average = sum(t.tpr - t.fpr for t in ours.values()) / len(ours)
    baseline = sum(t.tpr - t.fpr for t in theirs.values()) / len(theirs)
    safe = sum(t.safe for t in ours.values())
    overall_fpr = sum(t.false_positives for t in ours.values()) / safe
    bandit_fpr = sum(t.false_positives for t in theirs.values()) / safe
    worst = min(t.tpr - t.fpr for t in ours.values())
    above = sum(1 for t in ours.values() if t.tpr - t.fpr > 0)
    print(f"\naverage Youden: Clearsight {average:+.1%}, bandit's rules {baseline:+.1%}")
    print(f"categories above 0: Clearsight {above} of {len(ours)}, lowest {worst:+.1%}")
    print(f"overall FPR: Clearsight {overall_fpr:.1%}, bandit's rules {bandit_fpr:.1%}")
    passed = average >= 0.60 and worst >= 0 and overall_fpr <= 0.10
    verdict = "PASS" if passed else "FAIL"
    print(f"targets (average >= +60%, no category below 0, FPR <= 10%): {verdict}\n")
    return passed


def scan_file(path: str) -> tuple[int, list[str], Counter[str]]:
    raw = Path(path).read_bytes()
    source = SourceText.from_bytes(raw, path)
    findings = analyze(source, path, CLEARSIGHT, checks=(DataflowCheck(),))
    loud = [
        f"{path}:{f.line + 1}: {f.code} [{f.severity.label}] {f.message}"
        for f in findings
        if f.code.startswith("CS-S") and f.severity <= Severity.WARNING
    ]
    counts = Counter(f"{f.code} {f.severity.label}" for f in findings if f.code.startswith("CS-S"))
    problems = [
        f"{path}: {f.code} {f.message}" for f in findings if f.code in ("CS-E003", "CS-E005")
    ]
    return len(source.lines), loud + problems, counts


def real_code(workers: int) -> bool:
    roots = [*fetch_sdists(SDISTS), Path(os.__file__).parent]
    scan = scan_corpus(python_files(roots), scan_file, workers)
    lines, listed, counts, files, seconds = (
        scan.lines, scan.listed, scan.counts, scan.files, scan.seconds
    )  # fmt: skip
    names = ", ".join(root.name for root in roots)
    print(f"real code: {names}: {files} files, {lines:,} lines, {seconds:.0f} s")
    print(
        "dataflow findings by code and severity: "
        + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    )
    warnings = [line for line in listed if "CS-E" not in line.split(": ", 1)[1][:6]]
    for line in listed:
        print("  " + line)
    rate = len(warnings) / lines * 10_000
    passed = rate <= 1.0
    verdict = "PASS" if passed else "FAIL"
    print(f"warnings or worse: {len(warnings)}, {rate:.2f} per 10,000 lines (<= 1): {verdict}")
    return passed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--skip-real-code", action="store_true")
    options = parser.parse_args()
    if sys.version_info < (3, 12):
        print("The OWASP Benchmark's files need Python 3.12 or later (PEP 701 f-strings):")
        print("  PYENV_VERSION=3.12.1 python3 benchmarks/bench_security.py")
        return 2
    print(f"python {sys.version.split()[0]}; {options.workers} workers\n")
    passed = owasp(options.workers)
    if not options.skip_real_code:
        passed = real_code(options.workers) and passed
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
