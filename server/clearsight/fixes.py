"""Applying the edits that findings carry (the CLI's `--fix`; the editor applies them itself)."""

from __future__ import annotations

from collections.abc import Iterable

from clearsight.model import Finding, TextEdit
from clearsight.source import split_lines


def _offsets(text: str) -> list[int]:
    """Code-point offset at which each line starts (lines as ast numbers them)."""
    starts = [0]
    for line in split_lines(text)[:-1]:
        start = starts[-1] + len(line)
        # Step over the line break that ended this line (\r\n counts as one).
        start += 2 if text.startswith("\r\n", start) else 1
        starts.append(start)
    return starts


def apply_edits(text: str, edits: Iterable[TextEdit]) -> tuple[str, int]:
    """Apply non-overlapping edits; an edit that overlaps an earlier one is skipped.

    Returns the new text and how many edits were applied.
    """
    starts = _offsets(text)

    def offset(line: int, column: int) -> int:
        if line >= len(starts):
            return len(text)
        return min(starts[line] + column, len(text))

    ranges = sorted(
        ((offset(*_pos(e.span.start)), offset(*_pos(e.span.end)), e.new_text) for e in edits),
        key=lambda item: (item[0], item[1]),
    )
    pieces: list[str] = []
    cursor = 0
    applied = 0
    for start, end, new_text in ranges:
        if start < cursor:
            continue  # overlaps an edit already taken
        pieces.append(text[cursor:start])
        pieces.append(new_text)
        cursor = end
        applied += 1
    pieces.append(text[cursor:])
    return "".join(pieces), applied


def _pos(position: object) -> tuple[int, int]:
    return position.line, position.column  # type: ignore[attr-defined]


def safe_fix_edits(findings: Iterable[Finding]) -> list[TextEdit]:
    """The edits of every finding's first safe fix (what `--fix` and fix-all apply)."""
    edits: list[TextEdit] = []
    for finding in findings:
        for fix in finding.fixes:
            if fix.safe:
                edits.extend(fix.edits)
                break
    return edits
