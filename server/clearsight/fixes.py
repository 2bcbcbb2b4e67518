"""Applying the edits that findings carry (the CLI's `--fix`; the editor applies them itself)."""

from __future__ import annotations

import re
import tokenize
from collections.abc import Iterable

from clearsight.model import Finding, Fix, Span, TextEdit
from clearsight.source import SourceText, split_lines


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
            if fix.safe and fix.path is None:
                edits.extend(fix.edits)
                break
    return edits


_NOSEC = re.compile(r"#\s*nosec\b:?(?P<tests>[^#]*)")
_CLEARSIGHT_IGNORE = re.compile(r"#\s*clearsight:\s*ignore(?:\[(?P<codes>[^\]]*)\])?")


def _line_end_in_string(source: SourceText, line: int) -> bool:
    """Whether the 0-based line ends inside a (multi-line) string: no comment can go there."""
    row = line + 1
    for token in source.tokens:
        if token.start[0] > row:
            break
        if token.type == tokenize.STRING and token.start[0] <= row < token.end[0]:
            return True
    return False


def _append_comment(source: SourceText, line: int, comment: str) -> TextEdit:
    text = source.line_text(line)
    end = len(text.rstrip())
    return TextEdit(Span.of(line, end, line, len(text)), f"  {comment}")


def _extend_or_append(
    source: SourceText, line: int, existing: re.Match[str] | None, group: str, add: str, new: str
) -> TextEdit | None:
    """Add `add` to the list in an existing marker comment, or append a `new` comment.

    None when a bare marker (no list) already silences the whole line.
    """
    if existing is None:
        return _append_comment(source, line, new)
    listed = existing.group(group) or ""
    if not listed.strip():
        return None
    at = existing.start(group) + len(listed.rstrip())
    return TextEdit(Span.of(line, at, line, at), f", {add}")


def suppression_fixes(source: SourceText, finding: Finding) -> tuple[Fix, ...]:
    """Edits that silence a finding on its line: `# nosec BXXX` for bandit's codes (with a
    reason to fill in) and `# clearsight: ignore[CODE]` for any code. Never offered where
    the line ends inside a string, since a comment cannot go there.
    """
    line = finding.line
    if line >= len(source.lines) or _line_end_in_string(source, line):
        return ()
    text = source.line_text(line)
    code = finding.code
    candidates = []
    if finding.security is not None:
        nosec = _extend_or_append(
            source, line, _NOSEC.search(text), "tests", code,
            f"# nosec {code}  # reason: why this is safe",
        )  # fmt: skip
        candidates.append((f"Silence {code} with # nosec", nosec))
    ignore = _extend_or_append(
        source, line, _CLEARSIGHT_IGNORE.search(text), "codes", code,
        f"# clearsight: ignore[{code}]",
    )  # fmt: skip
    candidates.append((f"Ignore {code} on this line", ignore))
    return tuple(Fix(title, (edit,), safe=False) for title, edit in candidates if edit is not None)
