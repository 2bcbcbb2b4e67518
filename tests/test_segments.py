"""`clearsight.segments`: the line helpers the editor's incremental analyses share."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from clearsight.segments import _code_starts_by_line, code_starts, common_ends

STDLIB_FILE = Path(random.__file__)


def _one_line_at_a_time(old: list[str], new: list[str]) -> tuple[int, int]:
    limit = min(len(old), len(new))
    prefix = 0
    while prefix < limit and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and old[-1 - suffix] == new[-1 - suffix]:
        suffix += 1
    return prefix, suffix


@pytest.mark.parametrize("seed", range(4))
def test_common_ends_agree_with_a_line_by_line_comparison(seed: int) -> None:
    """Random edits of a real module (replace, insert, delete lines, across the 64-line
    blocks compared at once): the same counts as comparing one line at a time."""
    lines = STDLIB_FILE.read_text(encoding="utf-8").splitlines(keepends=True)
    rng = random.Random(seed)
    for _ in range(500):
        start = rng.randrange(len(lines))
        old = lines[start : start + rng.randrange(0, 400)]
        new = list(old)
        for _ in range(rng.randrange(0, 4)):
            at = rng.randrange(len(new) + 1)
            action = rng.choice(("replace", "insert", "delete"))
            if action == "insert" or not new:
                new.insert(at, "x = 1\n")
            elif action == "replace":
                new[min(at, len(new) - 1)] += "#"
            else:
                del new[min(at, len(new) - 1)]
        assert common_ends(old, new) == _one_line_at_a_time(old, new)


def test_common_ends_never_overlap() -> None:
    """Repeated lines: leading and trailing matches do not count a line twice."""
    old = ["a\n"] * 200
    new = ["a\n"] * 130
    prefix, suffix = common_ends(old, new)
    assert (prefix, suffix) == (130, 0)
    assert common_ends(new, old) == (130, 0)


def test_line_splitting_matches_pythons_line_breaks() -> None:
    """Lines as Python numbers them (\\r\\n, \\r, \\n), with and without their breaks, for
    random texts holding the characters str.splitlines also breaks at (form feed, U+2028...)."""
    import re

    from clearsight.source import lines_with_breaks, split_lines

    rng = random.Random(7)
    alphabet = ["a", "é", " ", "\n", "\r", "\r\n", "\f", "\v", "\x1c", "\x85", "\u2028"]
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 12)))
        assert split_lines(text) == re.split(r"\r\n|\r|\n", text), repr(text)
        assert lines_with_breaks(text) == re.findall(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$", text)
        assert "".join(lines_with_breaks(text)) == text


def _stdlib_sample() -> list[Path]:
    root = STDLIB_FILE.parent
    return sorted(root.glob("*.py"))[::7]


@pytest.mark.parametrize("indent", ["", "    ", "        "])
def test_code_starts_found_in_c_agree_with_a_line_by_line_scan(indent: str) -> None:
    """The regular-expression scan gives the lines the plain loop over every line gives,
    at a module's, a class's and a method's indentation, on real modules."""
    checked = 0
    for path in _stdlib_sample():
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        for start, end in [(0, len(lines)), (len(lines) // 3, len(lines) - 5)]:
            expected = _code_starts_by_line(lines, start, end, indent)
            assert code_starts(lines, start, end, indent) == expected, path
            checked += len(expected)
    assert checked > 1000


def test_code_starts_skip_triple_quoted_strings_and_odd_quotes() -> None:
    lines = [
        "x = 1",
        'y = """',
        "not code",
        '"""',
        'z = \'"""\'  # a triple quote inside a string',
        "w = 2",
        "s = '''a''' + \"\"\"b",
        "still inside",
        '"""',
        "v = 3",
    ]
    assert code_starts(lines) == [0, 1, 4, 5, 6, 9]
    assert code_starts(lines) == _code_starts_by_line(lines, 0, len(lines), "")
