"""The OWASP Benchmark for Python (a sample of its labelled cases), scored as its
scorecards score tools: the dataflow family must tell the real vulnerabilities from their
safe look-alikes far better than bandit's rules alone. The benchmark's files need Python
3.12 (PEP 701 f-strings); CI runs this file on 3.12 (see .ci/run)."""

from __future__ import annotations

import csv
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from clearsight.checks.dataflow import DataflowCheck
from clearsight.checks.security import SecurityCheck
from clearsight.engine import analyze
from clearsight.model import Severity
from clearsight.settings import Settings, settings_from_tables
from clearsight.source import SourceText

BENCHMARK = Path(__file__).resolve().parents[2] / "shared" / "data" / "owasp-benchmark-python"
EQUIVALENT = [{22, 23, 36}, {78, 77}, {79, 80}, {94, 95}, {327, 328}, {330, 338}]

pytestmark = pytest.mark.skipif(
    sys.version_info < (3, 12), reason="the benchmark's files need Python 3.12 (run by .ci/run)"
)


def _matches(found: int, wanted: int) -> bool:
    return found == wanted or any(found in g and wanted in g for g in EQUIVALENT)


def _flagged(path: Path, cwe: int, settings: Settings) -> bool:
    source = SourceText.from_bytes(path.read_bytes(), str(path))
    findings = analyze(source, str(path), settings, checks=(SecurityCheck(), DataflowCheck()))
    return any(
        f.security is not None
        and f.security.cwe
        and f.severity <= Severity.WARNING
        and _matches(f.security.cwe, cwe)
        for f in findings
    )


def _score(settings: Settings, step: int) -> tuple[float, float, dict[str, float]]:
    rows = [
        row
        for row in csv.reader((BENCHMARK / "expectedresults-0.1.csv").open(encoding="utf-8"))
        if row and not row[0].startswith("#")
    ]
    tallies: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # tp, real, fp, safe
    for name, category, real, cwe in rows[::step]:
        flagged = _flagged(BENCHMARK / "testcode" / f"{name}.py", int(cwe), settings)
        tally = tallies[category]
        if real == "true":
            tally[0] += flagged
            tally[1] += 1
        else:
            tally[2] += flagged
            tally[3] += 1
    youden = {
        c: (t[0] / t[1] if t[1] else 0.0) - (t[2] / t[3] if t[3] else 0.0)
        for c, t in tallies.items()
    }
    safe = sum(t[3] for t in tallies.values())
    fpr = sum(t[2] for t in tallies.values()) / safe
    return sum(youden.values()) / len(youden), fpr, youden


@pytest.mark.skipif(not BENCHMARK.is_dir(), reason="the OWASP Benchmark is not beside the project")
def test_the_dataflow_family_tells_vulnerable_cases_from_safe_look_alikes() -> None:
    average, fpr, youden = _score(Settings(), step=7)
    bandit_average, _, _ = _score(settings_from_tables({"security": {"dataflow": False}}), step=7)
    assert average >= 0.8, youden
    assert fpr <= 0.05
    assert min(youden.values()) >= 0, youden
    assert bandit_average < 0.3
