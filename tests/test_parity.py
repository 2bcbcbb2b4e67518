"""Parity with the upstream tools on code nobody here wrote: the running Python's stdlib.

The `bandit`, `radon cc` and `radon mi` command lines run on a copy of a deterministic
sample of the standard library; Clearsight's engine must report the same things.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from clearsight.checks.complexity import Block, Maintainability, analyse_complexity
from clearsight.checks.raw_metrics import raw_metrics
from clearsight.engine import analyze
from clearsight.model import Family, Finding
from clearsight.settings import settings_from_tables
from clearsight.source import SourceText

STDLIB = Path(os.__file__).parent
# radon mi is quadratic on these two (minutes each); they get their own linear-time test.
PATHOLOGICAL = {"pydoc_data/topics.py", "html/entities.py"}
SAMPLE_SIZE = 120
_BANDIT_ONLY = settings_from_tables({"security": {"dataflow": False}})


def _tool(name: str) -> list[str]:
    """Run a tool of the environment the tests run in (not whatever is on PATH)."""
    script = Path(sys.executable).parent / name
    return [str(script)] if script.exists() else [sys.executable, "-m", name]


def _stdlib_sample() -> list[Path]:
    files = sorted(
        path
        for path in STDLIB.rglob("*.py")
        if "site-packages" not in path.parts
        and path.relative_to(STDLIB).as_posix() not in PATHOLOGICAL
    )
    step = max(1, len(files) // SAMPLE_SIZE)
    return files[::step][:SAMPLE_SIZE]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("stdlib")
    for index, path in enumerate(_stdlib_sample()):
        shutil.copyfile(path, root / f"{index:03d}_{path.name}")
    return root


def _run_json(command: list[str]) -> dict:
    completed = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert completed.stdout, completed.stderr
    return json.loads(completed.stdout)


@dataclass
class Analysed:
    path: Path
    source: SourceText
    findings: list[Finding]
    blocks: list[Block]
    mi: Maintainability


@pytest.fixture(scope="module")
def analysed(corpus: Path) -> list[Analysed]:
    """The engine's view of every sampled file that parses, computed once."""
    result = []
    for path in sorted(corpus.glob("*.py")):
        source = SourceText.from_bytes(path.read_bytes(), str(path))
        # Files Python cannot load (or that are not valid UTF-8, which radon cannot read)
        # have their own tests; parity is about code the tools can all read.
        if source.tree is None or source.decode_problem is not None:
            continue
        # bandit's rules alone: the dataflow family replaces some of bandit's findings
        # with its own and grades others (tests/test_dataflow*.py).
        findings = analyze(source, str(path), _BANDIT_ONLY)
        blocks, mi = analyse_complexity(source)
        result.append(Analysed(path, source, findings, blocks, mi))
    return result


def _radon_could_not_read(report: dict, path: Path) -> bool:
    """radon reads every file as UTF-8, ignoring PEP 263 coding lines (koi8-r, latin-1...)."""
    entry = report.get(str(path))
    if isinstance(entry, dict) and "error" in entry:
        source = SourceText.from_bytes(path.read_bytes(), str(path))
        assert source.encoding not in ("utf-8", "utf-8-sig"), entry
        return True
    return False


def test_sample_is_large_and_parses(analysed: list[Analysed]) -> None:
    assert len(analysed) >= SAMPLE_SIZE * 0.9


def test_security_findings_equal_bandit_cli(corpus: Path, analysed: list[Analysed]) -> None:
    report = _run_json([*_tool("bandit"), "-r", str(corpus), "-f", "json", "-q"])
    expected: dict[str, set[tuple]] = {}
    for result in report["results"]:
        key = (
            result["test_id"],
            result["line_number"],
            result["col_offset"],
            result["issue_severity"],
            result["issue_confidence"],
        )
        expected.setdefault(Path(result["filename"]).name, set()).add(key)
    assert sum(len(v) for v in expected.values()) > 100, "sample too small to mean anything"

    mismatches = []
    for item in analysed:
        got = {
            (
                f.code,
                f.metrics["bandit_line"],
                f.metrics["bandit_col"],
                f.security.bandit_severity,
                f.security.confidence,
            )
            for f in item.findings
            if f.family is Family.SECURITY and f.security is not None
        }
        name = item.path.name
        if got != expected.get(name, set()):
            mismatches.append((name, expected.get(name, set()) ^ got))
    assert mismatches == []


def test_security_columns_are_bandit_byte_offsets_in_code_points(
    analysed: list[Analysed],
) -> None:
    """Our span starts where bandit's byte offset points, counted in code points.

    Except where bandit reports an inner line of a multi-line node with the node's column
    (B501 on the `verify=False` line): there the span covers that line's code.
    """
    checked = inner_lines = 0
    for item in analysed:
        for finding in item.findings:
            if finding.family is not Family.SECURITY or finding.code == "B613":
                continue
            line = item.source.lines[finding.line]
            byte_prefix = line.encode("utf-8")[: finding.metrics["bandit_col"]]
            if finding.column == len(byte_prefix.decode("utf-8", "ignore")):
                checked += 1
            else:
                assert finding.span.start.column == len(line) - len(line.lstrip())
                assert finding.span.end.column == len(line.rstrip())
                inner_lines += 1
    assert checked > 100
    assert inner_lines < checked / 10


def test_cyclomatic_complexity_equals_radon_cc(corpus: Path, analysed: list[Analysed]) -> None:
    report = _run_json([*_tool("radon"), "cc", "-j", str(corpus)])
    compared = 0
    mismatches = []
    for item in analysed:
        path = item.path
        if _radon_could_not_read(report, path):
            continue
        ours = sorted(
            (b.name.rsplit(".", 1)[-1], b.line, b.complexity, b.rank) for b in item.blocks
        )
        theirs = sorted(
            (d["name"], d["lineno"], d["complexity"], d["rank"])
            for d in report.get(str(path), [])
            if isinstance(d, dict)
        )
        compared += len(theirs)
        if ours != theirs:
            mismatches.append((path.name, set(ours) ^ set(theirs)))
    assert compared > 1000
    assert mismatches == []


def test_maintainability_index_equals_radon_mi(corpus: Path, analysed: list[Analysed]) -> None:
    report = _run_json([*_tool("radon"), "mi", "-j", str(corpus)])
    mismatches = []
    for item in analysed:
        if _radon_could_not_read(report, item.path):
            continue
        theirs = report[str(item.path)]
        if abs(theirs["mi"] - item.mi.score) > 1e-9 or theirs["rank"] != item.mi.rank:
            mismatches.append((item.path.name, theirs, item.mi.score))
    assert mismatches == []


def test_raw_metrics_equal_radon_raw_on_sampled_files(analysed: list[Analysed]) -> None:
    from radon.raw import analyze as radon_raw

    # radon's own raw pass is slow; the MI parity above already covers every file.
    for item in analysed[::3]:
        if item.source.encoding not in ("utf-8", "utf-8-sig"):
            continue  # radon reads every file as UTF-8
        text = item.path.read_text(encoding="utf-8")
        ours = raw_metrics(item.source)
        assert tuple(radon_raw(text)) == (
            ours.loc, ours.lloc, ours.sloc, ours.comments, ours.multi, ours.blank,
            ours.single_comments,
        ), item.path.name  # fmt: skip


def test_raw_metrics_of_a_long_literal_equal_radon(tmp_path: Path) -> None:
    """The shape that makes radon quadratic (one statement over many lines) counts the same."""
    from radon.raw import analyze as radon_raw

    lines = ["topics = {"]
    for index in range(120):
        lines.append(f"    'key{index}': '''first line")
        lines.append(
            "",
        )
        lines.append(f"  continued {index}''',  # comment {index}")
    lines.append("}")
    text = "\n".join(lines) + "\n"
    ours = raw_metrics(SourceText(text))
    assert tuple(radon_raw(text)) == (
        ours.loc, ours.lloc, ours.sloc, ours.comments, ours.multi, ours.blank,
        ours.single_comments,
    )  # fmt: skip


def test_pathological_stdlib_files_get_a_maintainability_index() -> None:
    """radon mi needs minutes on these; the engine computes them (speed: see benchmarks/)."""
    for relative in sorted(PATHOLOGICAL):
        path = STDLIB / relative
        _, mi = analyse_complexity(SourceText.from_bytes(path.read_bytes(), str(path)))
        assert 0.0 <= mi.score <= 100.0
        assert mi.rank in "ABC"
