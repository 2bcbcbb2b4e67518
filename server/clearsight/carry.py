"""Keeping the last good findings while the user is mid-edit.

Half-typed code does not parse, so no check can run on it; rather than blank the file,
findings from the last version that parsed are kept where their lines are still there,
unchanged (found again by their text), and marked as carried over.
"""

from __future__ import annotations

from dataclasses import replace

from clearsight.model import Family, Finding, Position, Span
from clearsight.source import SourceText


def _line_map(old: SourceText, new: SourceText) -> dict[int, int]:
    """Old line -> new line, for lines whose text is unchanged and unambiguous."""
    positions: dict[str, list[int]] = {}
    for index, text in enumerate(new.lines):
        positions.setdefault(text, []).append(index)
    mapping: dict[int, int] = {}
    for index, text in enumerate(old.lines):
        if not text.strip():
            continue
        candidates = positions.get(text, [])
        if index < len(new.lines) and new.lines[index] == text:
            mapping[index] = index  # the same place: the common case
        elif len(candidates) == 1:
            mapping[index] = candidates[0]
    return mapping


def carry_over(old: SourceText, findings: list[Finding], new: SourceText) -> list[Finding]:
    """The findings of `old` (a version that parsed) that still apply to `new`."""
    mapping = _line_map(old, new)
    kept = []
    for finding in findings:
        if finding.family is Family.ENGINE:
            continue  # those describe the old text itself
        start, end = finding.span.start, finding.span.end
        lines = range(start.line, end.line + 1)
        if not all(line in mapping for line in lines):
            continue
        shift = mapping[start.line] - start.line
        if any(mapping[line] - line != shift for line in lines):
            continue  # the lines moved apart: the finding may no longer hold
        span = Span(
            Position(start.line + shift, start.column), Position(end.line + shift, end.column)
        )
        kept.append(
            replace(finding, span=span, fixes=(), metrics={**finding.metrics, "stale": True})
        )
    return kept
