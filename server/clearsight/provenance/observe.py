"""What the language server sees: multi-line insertions and files written behind its back.

Observed line ranges follow later edits (`shift`) until the text parses; then only the
statements in them that are *new content* become attributions. Formatting, undo and
cut-and-paste of code the document already held keep statement keys, so they never count.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Edit:
    """One change in line terms: lines [start, end] were replaced by `inserted` + 1 lines."""

    start: int
    end: int
    inserted_lines: int  # newlines in the new text
    inserted_chars: int


def is_bulk(edit: Edit, min_lines: int, min_chars: int) -> bool:
    return edit.inserted_lines >= min_lines or edit.inserted_chars >= min_chars


def shift(ranges: list[tuple[int, int]], edit: Edit) -> list[tuple[int, int]]:
    """Observed ranges (0-based, inclusive) after `edit`."""
    delta = edit.inserted_lines - (edit.end - edit.start)
    out = []
    for first, last in ranges:
        if last < edit.start:
            out.append((first, last))
        elif first > edit.end:
            out.append((first + delta, last + delta))
        else:  # overlapping: the range now covers what replaced it too
            out.append(
                (min(first, edit.start), max(last + delta, edit.start + edit.inserted_lines))
            )
    return out


def changed_regions(old: str, new: str) -> list[Edit]:
    """The edits turning `old` into `new`, by lines, bottom first (so that each one's
    positions hold when applied in order): a whole-document change is judged hunk by hunk,
    so applying a one-line fix is not a "multi-line insertion"."""
    if old == new:
        return []
    a, b = old.split("\n"), new.split("\n")
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    edits = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        inserted = b[j1:j2]
        edits.append(
            Edit(
                start=i1,
                end=i2,
                inserted_lines=j2 - j1,
                inserted_chars=sum(len(line) + 1 for line in inserted),
            )
        )
    return edits[::-1]


@dataclass
class Observations:
    """One open document's pending observations."""

    ranges: list[tuple[int, int]] = field(default_factory=list)
    known_keys: set[str] | None = None  # statement keys the document has held (None: unread)

    def edited(self, edit: Edit, bulk: bool) -> None:
        self.ranges = shift(self.ranges, edit)
        if bulk:
            self.ranges.append((edit.start, edit.start + edit.inserted_lines))
