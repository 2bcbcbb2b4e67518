"""A file using syntax newer than the running Python: the syntax finding names the feature
and the version it needs. The detector is tried as each Python would see the line; the
engine on the real OWASP Benchmark files (461 of 1,243 use PEP 701 f-strings)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from clearsight.engine import analyze
from clearsight.settings import Settings
from clearsight.source import SourceText
from clearsight.syntax_versions import newer_syntax

OWASP = Path(__file__).resolve().parents[2] / "shared" / "data" / "owasp-benchmark-python"


@pytest.mark.parametrize(
    ("line", "message", "running", "version"),
    [
        ("type Point = tuple[float, float]", "invalid syntax", (3, 11), (3, 12)),
        ("def first[T](items: list[T]) -> T:", "invalid syntax", (3, 11), (3, 12)),
        ("class Box[T]:", "expected ':'", (3, 10), (3, 12)),
        ("    except* ValueError:", "invalid syntax", (3, 10), (3, 11)),
        ('x = f"{", ".join(names)}"', "f-string: expecting '}'", (3, 11), (3, 12)),
        (
            "q = f'{a.replace('\\'', '')}'",
            "unexpected character after line continuation character",
            (3, 11),
            (3, 12),
        ),
        ('greeting = t"Hello {name}"', "invalid syntax", (3, 13), (3, 14)),
        (
            "except ValueError, TypeError:",
            "multiple exception types must be parenthesized",
            (3, 13),
            (3, 14),
        ),
    ],
)
def test_features_of_later_pythons_are_named(
    line: str, message: str, running: tuple[int, int], version: tuple[int, int]
) -> None:
    found = newer_syntax(line, message, running)
    assert found is not None and found.version == version


@pytest.mark.parametrize(
    ("line", "message", "running"),
    [
        ("type Point = tuple[float, float]", "invalid syntax", (3, 12)),  # 3.12 parses it
        ('print "hello"', "Missing parentheses in call to 'print'", (3, 11)),
        ("x = 0377", "leading zeros in decimal integer literals", (3, 11)),
        ("def broken(:", "invalid syntax", (3, 11)),
        ("type = 3 +", "invalid syntax", (3, 11)),  # `type` as a name, half-typed
        ("path = 'a\\' + b", "unexpected character after line continuation character", (3, 11)),
        ("value = self.t'", "invalid syntax", (3, 13)),
    ],
)
def test_plain_syntax_errors_stay_plain(line: str, message: str, running: tuple[int, int]) -> None:
    assert newer_syntax(line, message, running) is None


PEP_701 = 'names = ["a", "b"]\nprint(f"{", ".join(names)}")\n'
PEP_695 = "type Pair = tuple[int, int]\n"


@pytest.mark.parametrize("text", [PEP_701, PEP_695], ids=["pep-701", "pep-695"])
def test_the_engine_names_python_3_12_or_parses(text: str) -> None:
    findings = [f for f in analyze(SourceText(text, path="m.py"), "m.py", Settings())
                if f.code == "CS-E001"]  # fmt: skip
    if sys.version_info >= (3, 12):
        assert findings == []
    else:
        (finding,) = findings
        assert "needs Python 3.12; Clearsight runs on Python 3.1" in finding.message


@pytest.mark.skipif(not OWASP.is_dir(), reason="the OWASP Benchmark is not beside the project")
def test_the_owasp_benchmark_files_parse_or_name_python_3_12() -> None:
    files = sorted((OWASP / "testcode").glob("BenchmarkTest*.py"))
    assert len(files) == 1243
    failing = []
    for path in files:
        source = SourceText.from_bytes(path.read_bytes(), str(path))
        if source.parse_problem is None:
            continue
        (finding,) = [f for f in analyze(source, str(path), Settings()) if f.code == "CS-E001"]
        failing.append(finding.message)
    if sys.version_info >= (3, 12):
        assert failing == []
    else:
        assert len(failing) == 461
        assert all("needs Python 3.12; Clearsight runs on Python 3.1" in m for m in failing)
        assert all("(PEP 701)" in m for m in failing)
