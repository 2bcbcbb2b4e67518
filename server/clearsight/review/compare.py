"""The findings of one file at the base and in the working tree, matched by fingerprint:
which the change introduced, which it fixed, which it left, and where each sits relative
to the lines it touched.

Where (for findings of the working tree):
- "changed": on a line the change added or rewrote;
- "adjacent": on an untouched line of a definition the change touched, or within a few
  lines of a hunk (a change can make old code newly dangerous, and reviewers miss
  findings just outside the diff);
- "outside": elsewhere in the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from clearsight.model import Finding
from clearsight.review.changes import FileChange
from clearsight.review.fingerprints import Placed, place, scopes_by_line

NEAR_LINES = 3  # lines around a hunk that count as adjacent


@dataclass(frozen=True)
class Compared:
    """A finding of the review. `state`: "new", "fixed", "unchanged" or "updated" (the same
    finding with another message: a complexity that rose). `where`: see the module."""

    placed: Placed
    state: str
    where: str
    previous: Finding | None = None  # for "updated": the base's

    @property
    def finding(self) -> Finding:
        return self.placed.finding


@dataclass
class FileFindings:
    path: str
    introduced: list[Compared] = field(default_factory=list)
    fixed: list[Compared] = field(default_factory=list)
    kept: list[Compared] = field(default_factory=list)  # unchanged or updated
    changed_scopes: set[str] = field(default_factory=set)

    def in_changed_code(self) -> list[Compared]:
        """Findings the change left in code it touched (changed or adjacent lines)."""
        return [c for c in self.kept if c.where != "outside"]


def compare_file(
    change: FileChange,
    base_text: str | None,
    base_findings: Sequence[Finding],
    new_text: str | None,
    new_findings: Sequence[Finding],
    *,
    base_placed: list[Placed] | None = None,
    new_scopes: list[str] | None = None,
) -> FileFindings:
    """`base_placed` (the base's findings placed) and `new_scopes` (the working text's
    `scopes_by_line`) save the work when the caller has them (the editor, on every edit)."""
    result = FileFindings(change.path)
    if base_placed is not None:
        base = base_placed
    else:
        base = place(base_findings, base_text) if base_text is not None else []
    scopes = new_scopes
    if scopes is None:
        scopes = scopes_by_line(new_text) if new_text is not None else []
    new = place(new_findings, new_text, scopes) if new_text is not None else []
    added = change.added_lines
    touched = set(added) | {max(h.new_start - 1, 0) for h in change.hunks if not h.new_count}
    result.changed_scopes = {scopes[line] for line in touched if line < len(scopes)} - {""}
    near = {
        line
        for hunk in change.hunks
        for line in range(
            hunk.new_start - 1 - NEAR_LINES, hunk.new_start - 1 + hunk.new_count + NEAR_LINES
        )
    }
    by_fingerprint = {p.fingerprint: p for p in base}
    matched: set[str] = set()
    for placed in new:
        where = _where(placed, added, near, result.changed_scopes)
        before = by_fingerprint.get(placed.fingerprint)
        if before is None:
            result.introduced.append(Compared(placed, "new", where))
            continue
        matched.add(placed.fingerprint)
        if before.finding.message != placed.finding.message:
            result.kept.append(Compared(placed, "updated", where, before.finding))
        else:
            result.kept.append(Compared(placed, "unchanged", where))
    gone = [p for p in base if p.fingerprint not in matched]
    result.introduced, gone = _rewritten(result, gone)
    result.fixed = [Compared(p, "fixed", "changed") for p in gone]
    return result


def _rewritten(result: FileFindings, gone: list[Placed]) -> tuple[list[Compared], list[Placed]]:
    """A finding on a line the change rewrote (`shell=True` given a timeout) is the base's
    finding updated, not one fixed and one new: paired, in order, by code, definition and
    message (numbers aside), when it sits on a changed line."""
    waiting: dict[tuple[str, str, str], list[Placed]] = {}
    for placed in gone:
        waiting.setdefault(_loose(placed), []).append(placed)
    introduced = []
    for compared in result.introduced:
        candidates = waiting.get(_loose(compared.placed))
        if compared.where != "changed" or not candidates:
            introduced.append(compared)
            continue
        before = candidates.pop(0)
        result.kept.append(Compared(compared.placed, "updated", "changed", before.finding))
    left = {id(p) for group in waiting.values() for p in group}
    return introduced, [p for p in gone if id(p) in left]


def _loose(placed: Placed) -> tuple[str, str, str]:
    message = "".join("#" if c.isdigit() else c for c in placed.finding.message)
    return (placed.finding.code, placed.scope, message)


def _where(placed: Placed, added: set[int], near: set[int], changed_scopes: set[str]) -> str:
    span = placed.finding.span
    lines = range(span.start.line, max(span.start.line, span.end.line) + 1)
    if any(line in added for line in lines):
        return "changed"
    if placed.scope in changed_scopes or span.start.line in near:
        return "adjacent"
    return "outside"


def match_moves(files: Sequence[FileFindings]) -> int:
    """Findings that left one file and arrived in another with their code (a function moved
    between modules) are neither new nor fixed: both sides are dropped. The count moved."""
    fixed: dict[tuple[str, str, str], list[tuple[FileFindings, Compared]]] = {}
    for entry in files:
        for compared in entry.fixed:
            fixed.setdefault(compared.placed.moved_key, []).append((entry, compared))
    moved = 0
    for entry in files:
        kept_new = []
        for compared in entry.introduced:
            candidates = fixed.get(compared.placed.moved_key)
            origin = next((c for c in candidates or () if c[0] is not entry), None)
            if origin is None:
                kept_new.append(compared)
                continue
            candidates.remove(origin)  # type: ignore[union-attr]
            origin[0].fixed.remove(origin[1])
            entry.kept.append(Compared(compared.placed, "unchanged", compared.where))
            moved += 1
        entry.introduced = kept_new
    return moved
