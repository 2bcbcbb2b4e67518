"""Top-level statements found without parsing, for analyses that cache per statement.

`top_level_segments` cuts a module's lines where column-0 code starts outside triple-quoted
strings. A guess can be wrong (a column-0 line inside a statement), which makes a segment
that does not parse on its own; its users join such a segment with the next one, so a wrong
guess costs a join, never a wrong result.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

# A top-level statement starts at column 0 with code; `else:`, `except ...:` and the like
# continue the statement above, and a decorator's statement is the one below it.
_STARTS_CODE = re.compile(r"[^\s#)\]}]")
_CONTINUES = re.compile(r"(?:else|elif|except|finally)\b")


def top_level_segments(lines: list[str]) -> list[tuple[int, int]]:
    """(first, end) line ranges that are likely whole top-level statements, found without
    parsing (column-0 code outside triple-quoted strings). A wrong guess makes a segment
    that does not parse; the caller then joins it with the next: never a wrong result."""
    bounds = [0]
    previous = ""
    quote: str | None = None  # the triple quote a multi-line string is open with
    for number, line in enumerate(lines):
        if quote is None and _STARTS_CODE.match(line):
            if number and not _CONTINUES.match(line) and not previous.startswith("@"):
                bounds.append(number)
            previous = line
        if '"""' in line or "'''" in line:
            quote = _open_quote(line, quote)
    bounds.append(len(lines))
    return _nonempty_ranges(bounds)


def _nonempty_ranges(bounds: list[int]) -> list[tuple[int, int]]:
    """Consecutive bounds as (first, end) ranges, leaving out empty ones."""
    return [(a, b) for a, b in itertools.pairwise(bounds) if b > a]


def _open_quote(line: str, quote: str | None) -> str | None:
    """Which triple quote is still open after `line` (a rough scan; parsing checks it)."""
    at = 0
    while True:
        if quote is None:
            found = [(line.find(q, at), q) for q in ('"""', "'''") if line.find(q, at) >= 0]
            comment = line.find("#", at)
            if not found or (0 <= comment < min(found)[0]):
                return None
            at, quote = min(found)[0] + 3, min(found)[1]
        else:
            end = line.find(quote, at)
            if end < 0:
                return quote
            at, quote = end + 3, None


# Lines compared a block at a time first: slice equality runs in C, so finding the one
# edited line of a 2,000-line buffer costs microseconds instead of a Python loop.
_BLOCK = 64


def common_ends(old: Sequence[str], new: Sequence[str]) -> tuple[int, int]:
    """How many leading and trailing lines the two versions share (not overlapping)."""
    limit = min(len(old), len(new))
    prefix = 0
    while prefix + _BLOCK <= limit and (
        old[prefix : prefix + _BLOCK] == new[prefix : prefix + _BLOCK]
    ):
        prefix += _BLOCK
    while prefix < limit and old[prefix] == new[prefix]:
        prefix += 1
    room, old_end, new_end = limit - prefix, len(old), len(new)
    suffix = 0
    while suffix + _BLOCK <= room and (
        old[old_end - suffix - _BLOCK : old_end - suffix]
        == new[new_end - suffix - _BLOCK : new_end - suffix]
    ):
        suffix += _BLOCK
    while suffix < room and old[old_end - 1 - suffix] == new[new_end - 1 - suffix]:
        suffix += 1
    return prefix, suffix
