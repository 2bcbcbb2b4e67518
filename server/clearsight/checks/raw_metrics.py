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


def _logical(tokens: list[tuple[int, str]]) -> int:
    """radon.raw._logical, on (type, string) pairs: how many logical lines a group holds."""
    total = 0
    sub: list[tuple[int, str]] = []
    subs: list[list[tuple[int, str]]] = [sub]
    for token in tokens:
        if token == (tokenize.OP, ";"):
            sub = []
            subs.append(sub)
        else:
            sub.append(token)
    for part in subs:
        processed = [
            t for t in part if t[0] not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE)
        ]
        colon = -1
        for index in range(len(processed) - 1, -1, -1):
            if processed[index] == (tokenize.OP, ":"):
                colon = index
                break
        if colon >= 0:
            # radon's rule, quirks included: 1 when the colon is the last token before the
            # end marker, otherwise 2 (so `x = {1: 2}` counts as two logical lines).
            total += 2 - (colon == len(processed) - 2)
        elif any(
            t[0] not in (tokenize.NL, tokenize.NEWLINE, tokenize.ENDMARKER) for t in processed
        ):
            total += 1
    return total


def _is_single(kind: int, tokens: list[tuple[int, str]]) -> bool:
    return tokens[0][0] == kind and all(
        t[0] in (tokenize.ENDMARKER, tokenize.NL, tokenize.NEWLINE) for t in tokens[1:]
    )


def raw_metrics(source: SourceText) -> RawMetrics:
    """The counts `radon.raw.analyze` gives, computed from `source.tokens` in one pass."""
    line_spans = [m.span() for m in _LINE.finditer(source.text)]
    if line_spans and line_spans[-1][0] == line_spans[-1][1]:
        line_spans.pop()  # the empty match at the very end
    lloc = comments = single_comments = multi = blank = sloc = 0

    def score(group: list[tuple[int, str]], first_row: int, last_row: int, multi_row: bool) -> None:
        nonlocal lloc, comments, single_comments, multi, blank, sloc
        start = (
            line_spans[first_row - 1][0] if first_row - 1 < len(line_spans) else len(source.text)
        )
        end = line_spans[last_row - 1][1] if last_row - 1 < len(line_spans) else len(source.text)
        # str.splitlines as radon uses it (it also breaks on \f and friends).
        lines = [line.strip() for line in source.text[start:end].splitlines()] or [""]
        group = [*group, _ENDMARKER]
        comments += sum(1 for t in group if t[0] == tokenize.COMMENT)
        if _is_single(tokenize.COMMENT, group):
            single_comments += 1
        elif _is_single(tokenize.STRING, group):
            if not multi_row:
                single_comments += 1
            else:
                multi += sum(1 for line in lines if line)
                blank += sum(1 for line in lines if not line)
        else:
            for line in lines:
                if line:
                    sloc += 1
                else:
                    blank += 1
        lloc += _logical(group)

    group: list[tuple[int, str]] = []
    first_row = 0
    first_token_multi_row = False
    depth = 0
    for token in source.tokens:
        if token.type in _SKIPPED:
            continue
        if not group:
            first_row = token.start[0]
            first_token_multi_row = token.end[0] != token.start[0]
        group.append((token.type, token.string))
        if token.type == tokenize.OP:
            if token.string in "([{":
                depth += 1
            elif token.string in ")]}":
                depth = max(depth - 1, 0)
        if token.type == tokenize.NEWLINE or (token.type == tokenize.NL and depth == 0):
            # A NEWLINE at the end of a file without a final line break has no line of its own.
            last_row = min(token.end[0], len(line_spans)) if line_spans else token.end[0]
            score(group, first_row, max(last_row, first_row), first_token_multi_row)
            group = []
    if group:
        score(group, first_row, len(line_spans), first_token_multi_row)
    loc = sloc + blank + multi + single_comments
    return RawMetrics(loc, lloc, sloc, comments, multi, blank, single_comments)
