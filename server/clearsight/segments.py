"""Top-level statements found without parsing, for analyses that cache per statement.

`top_level_segments` cuts a module's lines where column-0 code starts outside triple-quoted
strings. A guess can be wrong (a column-0 line inside a statement), which makes a segment
that does not parse on its own; its users join such a segment with the next one, so a wrong
guess costs a join, never a wrong result.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable, Sequence

# A top-level statement starts at column 0 with code; `else:`, `except ...:` and the like
# continue the statement above, and a decorator's statement is the one below it.
_STARTS_CODE = re.compile(r"[^\s#)\]}]")
_CONTINUES = re.compile(r"(?:else|elif|except|finally)\b")
_QUOTE_OR_COMMENT = re.compile(r"[#'\"]")
_TRIPLE = re.compile(r"\"\"\"|'''")


def top_level_segments(
    lines: list[str], start: int = 0, end: int | None = None, indent: str = ""
) -> list[tuple[int, int]]:
    """(first, end) line ranges that are likely whole top-level statements, found without
    parsing (column-0 code outside triple-quoted strings). A wrong guess makes a segment
    that does not parse; the caller then joins it with the next: never a wrong result.
    With `start`, `end` and `indent`: the statements of lines[start:end] that start right
    after the blanks `indent` (a block's)."""
    end = len(lines) if end is None else end
    bounds = [start]
    previous = ""
    for number in code_starts(lines, start, end, indent):
        line = lines[number]
        if (
            number > start
            and not _CONTINUES.match(line, len(indent))
            and not previous.startswith("@", len(indent))
        ):
            bounds.append(number)
        previous = line
    bounds.append(end)
    return _nonempty_ranges(bounds)


def code_starts(
    lines: list[str], start: int = 0, end: int | None = None, indent: str = ""
) -> list[int]:
    """The lines of lines[start:end] where code starts right after the blanks `indent`
    outside triple-quoted strings (`else:` and decorators included)."""
    end = len(lines) if end is None else end
    text = "\n".join(lines[start:end])
    if text.count("\n") != max(end - start - 1, 0):
        return _code_starts_by_line(lines, start, end, indent)
    # The regular expressions scan the text in C; only lines holding a triple quote are
    # looked at one by one (to know which candidates are inside a string).
    candidates = _line_numbers(text, (m.start() for m in _starts_pattern(indent).finditer(text)))
    quoted = sorted(set(_line_numbers(text, (m.start() for m in _TRIPLE.finditer(text)))))
    if not quoted:
        return [start + line for line in candidates]
    starts = []
    quote: str | None = None
    pending = iter(quoted)
    next_quoted = next(pending, None)
    for line in candidates:
        while next_quoted is not None and next_quoted < line:
            quote = _open_quote(lines[start + next_quoted], quote)
            next_quoted = next(pending, None)
        if quote is None:
            starts.append(start + line)
    return starts


def _code_starts_by_line(lines: list[str], start: int, end: int, indent: str) -> list[int]:
    column = len(indent)
    starts = []
    quote: str | None = None  # the triple quote a multi-line string is open with
    for number in range(start, end):
        line = lines[number]
        if quote is None and line.startswith(indent) and _STARTS_CODE.match(line, column):
            starts.append(number)
        if '"""' in line or "'''" in line:
            quote = _open_quote(line, quote)
    return starts


def _line_numbers(text: str, positions: Iterable[int]) -> list[int]:
    """The 0-based lines of increasing positions in `text`."""
    numbers = []
    line = at = 0
    for position in positions:
        line += text.count("\n", at, position)
        at = position
        numbers.append(line)
    return numbers


@functools.lru_cache(maxsize=64)
def _starts_pattern(indent: str) -> re.Pattern[str]:
    return re.compile("^" + re.escape(indent) + _STARTS_CODE.pattern, re.MULTILINE)


def _nonempty_ranges(bounds: list[int]) -> list[tuple[int, int]]:
    """Consecutive bounds as (first, end) ranges, leaving out empty ones."""
    return [(a, b) for a, b in itertools.pairwise(bounds) if b > a]


def _open_quote(line: str, quote: str | None) -> str | None:
    """Which triple quote is still open after `line` (a rough scan of its strings and
    comment; parsing checks it)."""
    at = 0
    while True:
        if quote is not None:
            end = _unescaped(line, quote, at)
            if end < 0:
                return quote
            at, quote = end + 3, None
        found = _QUOTE_OR_COMMENT.search(line, at)
        if found is None or found.group() == "#":
            return None
        mark = found.group()
        if line.startswith(mark * 3, found.start()):
            at, quote = found.start() + 3, mark * 3
            continue
        end = _unescaped(line, mark, found.start() + 1)  # a string in one kind of quote
        if end < 0:
            return None  # continued with a backslash, or not Python
        at = end + 1


def _unescaped(line: str, quote: str, at: int) -> int:
    """Where `quote` next occurs in `line` from `at` without a backslash escaping it."""
    end = line.find(quote, at)
    while end >= 0:
        backslashes = len(line[:end]) - len(line[:end].rstrip("\\"))
        if backslashes % 2 == 0:
            return end
        end = line.find(quote, end + 1)
    return end


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
