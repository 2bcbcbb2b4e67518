"""Columns in the negotiated LSP position encoding <-> code points. The only place the
language server converts units (the engine speaks code points)."""

from __future__ import annotations

import itertools
import re

from clearsight.source import lines_with_breaks

UTF8, UTF16, UTF32 = "utf-8", "utf-16", "utf-32"

# LSP lines end at \n, \r\n or \r only (str.splitlines also breaks at \f, \u2028 ...).
LINE_BREAK = re.compile(r"\r\n|\r|\n")


def units(text: str, encoding: str) -> int:
    """Length of `text` in the encoding's code units."""
    if encoding == UTF32 or text.isascii():
        return len(text)
    if encoding == UTF8:
        return len(text.encode("utf-8", "surrogatepass"))
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def to_client(line_text: str, column: int, encoding: str) -> int:
    """Code-point column -> client units."""
    return units(line_text[:column], encoding)


def from_client(line_text: str, character: int, encoding: str) -> int:
    """Client units -> code-point column (clamped to the line; mid-character rounds down)."""
    if encoding == UTF32 or line_text.isascii():
        return max(0, min(character, len(line_text)))
    count = 0
    for index, ch in enumerate(line_text):
        width = units(ch, encoding)
        if count + width > character:
            return index
        count += width
    return len(line_text)


def line_starts(text: str) -> list[int]:
    """Code-point offset of each line's first character (an empty last line included)."""
    # Summing line lengths runs in C: every incremental change of a long buffer asks.
    lines = lines_with_breaks(text)
    starts = [0, *itertools.accumulate(map(len, lines))]
    if lines and not lines[-1].endswith(("\n", "\r")):
        starts.pop()  # the text's end is not the start of another line
    return starts


_BLOCK = 1 << 20  # characters whose line breaks are counted at once (in C)


def line_start(text: str, line: int) -> int | None:
    """Code-point offset where 0-based `line` starts (None past the last line), found
    without listing every line: an edit near the top of a 30 MB buffer must not cost what
    listing its million lines does. Line breaks are \\n, \\r\\n and \\r, as LSP's."""
    if line <= 0:
        return 0
    if "\r" in text:  # lone \r ends lines too: the general way
        starts = line_starts(text)
        return starts[line] if line < len(starts) else None
    position, left, size = 0, line, _BLOCK
    while position < len(text):
        end = min(position + size, len(text))
        count = text.count("\n", position, end)
        if count < left:
            left -= count
            position = end
        elif end - position > 4096:
            size = max(size // 16, 1024)  # the line is in this block: count in smaller ones
        else:
            for _ in range(left):
                position = text.index("\n", position) + 1
            return position
    return None


def offset_at(text: str, line: int, character: int, encoding: str) -> int:
    """`offset_of`, without the line starts of the whole text."""
    start = line_start(text, line)
    if start is None:
        return len(text)
    found = LINE_BREAK.search(text, start)
    end = found.start() if found is not None else len(text)
    return start + from_client(text[start:end], character, encoding)


def offset_of(text: str, starts: list[int], line: int, character: int, encoding: str) -> int:
    """An LSP position -> code-point offset into `text` (past-the-end positions clamp)."""
    if line >= len(starts):
        return len(text)
    start = starts[line]
    end = starts[line + 1] if line + 1 < len(starts) else len(text)
    line_text = LINE_BREAK.sub("", text[start:end], count=1)
    return start + from_client(line_text, character, encoding)
