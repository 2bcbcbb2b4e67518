"""`ast.parse` of a text with long compound statements, reusing the statements it parsed
before.

An edit inside one method of an 880-line `if sys.platform == ...:` block would otherwise
parse the whole block again (10-20 ms, and a garbage collection or two for its nodes). Here a
long compound statement keeps its own lines (its headers: `if ...:`, `else:`,
`def f(...):`...), and each statement of its blocks is parsed alone, at its own line numbers,
and kept by its text and first line: after an edit only the edited statement is parsed. The
statements are put back into the tree of the headers, which is what `ast.parse` gives (the
tests compare the two on the standard library). Whenever the cut is not clean (a statement
that does not parse alone, tabs, other line breaks than "\\n") the text is parsed whole.
"""

from __future__ import annotations

import ast
import hashlib
import itertools
import re
import threading
import tokenize
from collections import OrderedDict
from dataclasses import dataclass

from clearsight.segments import code_starts, top_level_segments

LONG = 40  # lines: shorter statements are parsed as they are
_KEPT_LINES = 8000  # lines of statements whose trees are kept, across texts
_PARSE_ERRORS = (SyntaxError, ValueError, RecursionError, MemoryError)
# Compound statements whose end is their last block's last statement.
_COMPOUND = (
    ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.FunctionDef,
    ast.AsyncFunctionDef, ast.ClassDef, ast.Try,
    *([ast.TryStar] if hasattr(ast, "TryStar") else []),
)  # fmt: skip
_BLOCKS = ("body", "orelse", "finalbody", "handlers")
# The lines that can open a compound statement's clause (only these are tokenized).
_CLAUSE = re.compile(r"(?:@|(?:if|elif|else|try|except|finally|for|while|with|def|class|async)\b)")


class _NotCut(Exception):
    """The text does not cut cleanly: parse it whole."""


class _Statements:
    """Statements parsed alone, by (text, first line): shared by every text, only read."""

    def __init__(self, budget: int) -> None:
        self._budget = budget
        self._kept: OrderedDict[tuple[str, int], tuple[list[ast.stmt], int]] = OrderedDict()
        self._lines = 0
        self._lock = threading.Lock()
        self.parsed = 0  # statements parsed (tests)

    def get(self, text: str, first: int, indent: int) -> list[ast.stmt]:
        key = (text, first)
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None:
                self._kept.move_to_end(key)
                return kept[0]
        statements = _parse_alone(text, first, indent)
        self.parsed += 1
        lines = text.count("\n") + 1
        with self._lock:
            self._kept[key] = (statements, lines)
            self._lines += lines
            while self._lines > self._budget and len(self._kept) > 1:
                _, (_, dropped) = self._kept.popitem(last=False)
                self._lines -= dropped
        return statements


STATEMENTS = _Statements(_KEPT_LINES)


def parse(text: str) -> ast.Module:
    """What `ast.parse(text)` gives (and raises), parsing only the statements of long
    compound statements not parsed before."""
    if text.count("\n") < LONG or "\t" in text or "\r" in text or "\f" in text:
        return ast.parse(text)
    try:
        return _stitched(text)
    except (_NotCut, *_PARSE_ERRORS):
        return ast.parse(text)


def _stitched(text: str) -> ast.Module:
    lines = text.split("\n")
    skeleton = list(lines)
    placed: dict[int, list[ast.stmt]] = {}  # 1-based line of a `pass` -> its statements
    for start, end in top_level_segments(lines):
        cut = _cut(lines, start, end, 0) if end - start > LONG else None
        if cut is not None:
            skeleton[start:end] = cut.skeleton
            placed.update(cut.placed)
    if not placed:
        raise _NotCut("no long compound statement")
    tree = ast.parse("\n".join(skeleton))
    if _splice(tree, placed) != len(placed):
        raise _NotCut("a statement was not put back")
    return tree


@dataclass(frozen=True)
class _Cut:
    """A compound statement's lines with each statement parsed alone turned into a `pass`
    (its other lines blank), and those statements by the 1-based line of their `pass`."""

    skeleton: list[str]
    placed: dict[int, list[ast.stmt]]


_CUTS: OrderedDict[tuple[bytes, int, int], _Cut | None] = OrderedDict()
_CUTS_LOCK = threading.Lock()
_KEPT_CUTS = 1024


def _cut(lines: list[str], start: int, end: int, indent: int) -> _Cut | None:
    """lines[start:end], a compound statement at column `indent`, cut into its headers and
    its blocks' statements; None when it is not one with a block on lines of its own. An
    unchanged statement at the same place is cut as it was last time."""
    digest = hashlib.blake2b(
        "\n".join(lines[start:end]).encode("utf-8", "surrogatepass"), digest_size=16
    ).digest()
    key = (digest, start, indent)  # the text's digest: nested statements' texts overlap
    with _CUTS_LOCK:
        if key in _CUTS:
            _CUTS.move_to_end(key)
            return _CUTS[key]
    cut = _cut_anew(lines, start, end, indent)
    with _CUTS_LOCK:
        _CUTS[key] = cut
        while len(_CUTS) > _KEPT_CUTS:
            _CUTS.popitem(last=False)
    return cut


def _cut_anew(lines: list[str], start: int, end: int, indent: int) -> _Cut | None:
    headers = code_starts(lines, start, end, " " * indent)
    if not headers or headers[0] != start:
        return None
    skeleton = lines[start:end]
    placed: dict[int, list[ast.stmt]] = {}
    for position, header in enumerate(headers):
        clause_end = headers[position + 1] if position + 1 < len(headers) else end
        if not _CLAUSE.match(lines[header], indent):
            break  # not a compound statement (or not one cut here)
        body = _logical_line_end(lines, header, indent) + 1
        first = next((i for i in range(body, clause_end) if _is_code(lines[i])), None)
        if first is None:
            continue  # a decorator, or a clause with its block on its own line
        inner_indent = len(lines[first]) - len(lines[first].lstrip(" "))
        if inner_indent <= indent:
            raise _NotCut("a block not indented")
        for a, b in top_level_segments(lines, first, clause_end, " " * inner_indent):
            inner = _cut(lines, a, b, inner_indent) if b - a > LONG else None
            if inner is not None:
                skeleton[a - start : b - start] = inner.skeleton
                placed.update(inner.placed)
                continue
            text = "\n".join(lines[a:b])
            placed[a + 1] = STATEMENTS.get(text, a + 1, inner_indent)
            skeleton[a - start] = " " * inner_indent + "pass"
            for line in range(a + 1, b):
                skeleton[line - start] = ""
    return _Cut(skeleton, placed) if placed else None


def _is_code(line: str) -> bool:
    stripped = line.lstrip(" ")
    return bool(stripped) and not stripped.startswith("#")


def _logical_line_end(lines: list[str], first: int, indent: int) -> int:
    """The index of the last line of the logical line starting at lines[first] (at
    column `indent`)."""
    rest = (lines[number] + "\n" for number in range(first + 1, len(lines)))
    source = itertools.chain([lines[first][indent:] + "\n"], rest)
    try:
        for token in tokenize.generate_tokens(lambda: next(source, "")):
            if token.type == tokenize.NEWLINE:
                return first + token.start[0] - 1
    except (tokenize.TokenError, SyntaxError):
        pass
    raise _NotCut("a header does not end")


def _parse_alone(text: str, first: int, indent: int) -> list[ast.stmt]:
    """A block's statement(s) parsed alone, at their line numbers (`first`, 1-based)."""
    opener = "\n" * (first - 2) + "if 1:\n"
    tree = ast.parse(opener + text + "\n")
    block = tree.body[0]
    statements = block.body if isinstance(block, ast.If) and len(tree.body) == 1 else []
    if not statements or any(s.col_offset != indent for s in statements):
        raise _NotCut("not a block's statements")
    lead = statements[0]
    decorators = getattr(lead, "decorator_list", None) or []
    if min([lead.lineno, *(d.lineno for d in decorators)]) != first:
        raise _NotCut("the statement does not start its text")
    return statements


def _splice(node: ast.AST, placed: dict[int, list[ast.stmt]]) -> int:
    """Put the statements parsed alone in place of their `pass`; how many were."""
    done = 0
    for name in _BLOCKS:
        block = getattr(node, name, None)
        if not block:
            continue
        if name != "handlers":
            replaced: list[ast.stmt] = []
            for statement in block:
                found = placed.get(statement.lineno) if isinstance(statement, ast.Pass) else None
                if found is not None:
                    replaced.extend(found)
                    done += 1
                else:
                    replaced.append(statement)
                    done += _splice(statement, placed)
            setattr(node, name, replaced)
        else:
            for handler in block:
                done += _splice(handler, placed)
    if done and isinstance(node, (*_COMPOUND, ast.ExceptHandler)):
        last = _last_statement(node)
        node.end_lineno, node.end_col_offset = last.end_lineno, last.end_col_offset
    return done


def _last_statement(node: ast.AST) -> ast.AST:
    for name in ("finalbody", "orelse", "handlers", "body"):
        block = getattr(node, name, None)
        if block:
            return block[-1]
    raise _NotCut("an empty block")
