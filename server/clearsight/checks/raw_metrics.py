"""radon's raw metrics (LOC, LLOC, SLOC, comments, multi-line strings) in linear time.

`radon.raw.analyze` re-tokenizes a growing buffer for every line of a multi-line statement,
so one long literal costs time quadratic in its length (the standard library's
`pydoc_data/topics.py` took almost eight minutes). Here the same groups are read off the
one token stream the engine already has, and each group is scored with radon's own rules,
so the counts agree with radon on ordinary files.
"""

from __future__ import annotations

import re
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass

from clearsight.source import SourceText

_SKIPPED = {tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}
_ENDMARKER = (tokenize.ENDMARKER, "")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n|$)")


@dataclass(frozen=True)
class RawMetrics:
    loc: int
    lloc: int
    sloc: int
    comments: int
    multi: int
    blank: int
    single_comments: int


_COLON = (tokenize.OP, ":")
_BRACKET_DEPTH = {(tokenize.OP, b): 1 for b in "([{"} | {(tokenize.OP, b): -1 for b in ")]}"}
_SEMICOLON = (tokenize.OP, ";")
_ENDS = (tokenize.NL, tokenize.NEWLINE, tokenize.ENDMARKER)
_LINE_ENDS_AND_COMMENTS = (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE)


def _split_statements(tokens: list[tuple[int, str]]) -> list[list[tuple[int, str]]]:
    parts: list[list[tuple[int, str]]] = [[]]
    for token in tokens:
        if token == _SEMICOLON:
            parts.append([])
        else:
            parts[-1].append(token)
    return parts


def _logical_in_statement(part: list[tuple[int, str]]) -> int:
    processed = [t for t in part if t[0] not in _LINE_ENDS_AND_COMMENTS]
    colons = [index for index, token in enumerate(processed) if token == _COLON]
    if colons:
        # radon's rule, quirks included: 1 when the last colon is the last token before the
        # end marker, otherwise 2 (so `x = {1: 2}` counts as two logical lines).
        return 2 - (colons[-1] == len(processed) - 2)
    return 1 if any(t[0] not in _ENDS for t in processed) else 0


def _logical(tokens: list[tuple[int, str]]) -> int:
    """radon.raw._logical, on (type, string) pairs: how many logical lines a group holds."""
    return sum(_logical_in_statement(part) for part in _split_statements(tokens))


def _is_single(kind: int, tokens: list[tuple[int, str]]) -> bool:
    return tokens[0][0] == kind and all(t[0] in _ENDS for t in tokens[1:])


class _Counter:
    """Scores one group of tokens (one of radon's "lines") at a time, radon's way."""

    def __init__(self, source: SourceText) -> None:
        self.text = source.text
        self.line_spans = [m.span() for m in _LINE.finditer(source.text)]
        if self.line_spans and self.line_spans[-1][0] == self.line_spans[-1][1]:
            self.line_spans.pop()  # the empty match at the very end
        self.lloc = self.comments = self.single_comments = 0
        self.multi = self.blank = self.sloc = 0

    def _stripped_lines(self, first_row: int, last_row: int) -> list[str]:
        size = len(self.text)
        spans = self.line_spans
        start = spans[first_row - 1][0] if first_row - 1 < len(spans) else size
        end = spans[last_row - 1][1] if last_row - 1 < len(spans) else size
        # str.splitlines as radon uses it (it also breaks on \f and friends).
        return [line.strip() for line in self.text[start:end].splitlines()] or [""]

    def score(self, group: list[tuple[int, str]], rows: tuple[int, int], multi_row: bool) -> None:
        lines = self._stripped_lines(*rows)
        group = [*group, _ENDMARKER]
        self.comments += sum(1 for t in group if t[0] == tokenize.COMMENT)
        non_empty = sum(1 for line in lines if line)
        if _is_single(tokenize.COMMENT, group) or (
            _is_single(tokenize.STRING, group) and not multi_row
        ):
            self.single_comments += 1
        elif _is_single(tokenize.STRING, group):
            self.multi += non_empty
            self.blank += len(lines) - non_empty
        else:
            self.sloc += non_empty
            self.blank += len(lines) - non_empty
        self.lloc += _logical(group)

    def result(self) -> RawMetrics:
        loc = self.sloc + self.blank + self.multi + self.single_comments
        return RawMetrics(
            loc, self.lloc, self.sloc, self.comments, self.multi, self.blank, self.single_comments
        )


def _groups(
    tokens: list[tokenize.TokenInfo],
) -> Iterator[tuple[list[tuple[int, str]], int, int | None, bool]]:
    """radon's "lines": token runs ending at a NEWLINE, or an NL outside brackets.

    Yields (tokens, first row, last row or None at end of input, whether the first token
    spans several rows).
    """
    group: list[tuple[int, str]] = []
    first_row, multi_row, depth = 0, False, 0
    for token in tokens:
        if token.type in _SKIPPED:
            continue
        if not group:
            first_row, multi_row = token.start[0], token.end[0] != token.start[0]
        group.append((token.type, token.string))
        depth = max(depth + _BRACKET_DEPTH.get((token.type, token.string), 0), 0)
        if token.type == tokenize.NEWLINE or (token.type == tokenize.NL and depth == 0):
            yield group, first_row, token.end[0], multi_row
            group = []
    if group:
        yield group, first_row, None, multi_row


def raw_metrics(source: SourceText) -> RawMetrics:
    """The counts `radon.raw.analyze` gives, computed from `source.tokens` in one pass."""
    counter = _Counter(source)
    last_line = len(counter.line_spans)
    for group, first_row, end_row, multi_row in _groups(source.tokens):
        # A NEWLINE at the end of a file without a final line break has no line of its own.
        last_row = last_line if end_row is None else min(end_row, last_line or end_row)
        counter.score(group, (first_row, max(last_row, first_row)), multi_row)
    return counter.result()
