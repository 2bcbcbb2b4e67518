"""The substring tests the editor uses to pick the units worth analysing must answer as the
regular expressions they stand for, on real code (the standard library) and on edge cases."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from clearsight.dataflow.catalogue import bundled
from clearsight.dataflow.module import judged
from clearsight.dataflow.words import occurs_as_word, occurs_quoted

STDLIB = Path(os.__file__).parent
JUDGED = re.compile(
    r"shell\s*=\s*True|\bsystem\(|\bpopen\(|\beval\(|\bexec\(|\bexecute(?:many|script)?\(|"
    r"[\"']\s*(?i:select|insert|update|delete)\s"
)


def stdlib_pieces() -> list[str]:
    """Every function-sized piece (60 lines) of a sample of standard-library modules."""
    pieces = []
    for path in sorted(STDLIB.glob("*.py"))[::4]:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        pieces.extend("\n".join(lines[i : i + 60]) for i in range(0, len(lines), 60))
    return pieces


def test_judged_answers_as_the_regular_expression_on_the_standard_library() -> None:
    pieces = stdlib_pieces()
    found = [judged(piece) for piece in pieces]
    assert found == [bool(JUDGED.search(piece)) for piece in pieces]
    assert 0 < sum(found) < len(found)  # both answers occur


def test_local_sources_are_found_as_the_regular_expression_finds_them() -> None:
    local, _ = bundled().markers
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(m) for m in sorted(local)) + r")\b")
    pieces = stdlib_pieces()
    found = [bundled().mentions_local(piece) for piece in pieces]
    assert found == [bool(pattern.search(piece)) for piece in pieces]
    assert 0 < sum(found) < len(found)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("os.environ", True),
        ("x = os.environ['A']", True),
        ("myos.environ", False),
        ("os.environb", False),
        ("os.environ_copy", False),
        ("_os.environ", False),
        ("é os.environ", True),
        ("éos.environ", False),
    ],
)
def test_a_word_needs_boundaries_on_both_sides(text: str, expected: bool) -> None:
    assert occurs_as_word(text, "os.environ") is expected
    assert bool(re.search(r"\bos\.environ\b", text)) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"select * from t"', True),
        ("'  select\tx'", True),
        ("selectors.select(x)", False),
        ('"select"', False),
        ('x"select a', True),
        ("select a", False),
    ],
)
def test_a_quoted_word_follows_a_quote_and_precedes_a_blank(text: str, expected: bool) -> None:
    assert occurs_quoted(text, "select") is expected
    assert bool(re.search(r"[\"']\s*select\s", text)) is expected
