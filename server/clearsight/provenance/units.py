"""Statements as content-addressed units: the anchors of attribution and review records.

A unit is one simple statement, or the header of a compound one (decorators, `def f(...):`,
`if x:`), so a change inside a function touches only the statements that changed. Its key
hashes the enclosing function/class path and the statement's syntax tree, so whitespace,
comments, quotes, parentheses and trailing commas do not count: reformatting or moving the
code keeps the key, any real change makes a new one.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import io
import re
import threading
import tokenize
from collections.abc import Callable
from typing import NamedTuple

from clearsight.segments import top_level_segments
from clearsight.source import SourceText

_SKIPPED = {
    tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
    tokenize.ENDMARKER,
}  # fmt: skip
_CLOSERS = {")", "]", "}"}
_COMMENT = re.compile(r"#.*$")
# Units with at least this many tokens are distinctive enough to follow across files.
DISTINCTIVE_TOKENS = 12


class Unit(NamedTuple):  # a named tuple: thousands are built per edit, cheaply
    key: str
    first: int  # 0-based first line
    last: int  # 0-based last line, inclusive
    qualname: str
    size: int  # tokens: how distinctive the content is
    scope: str = ""  # the top-level definition it belongs to ("" for module-level code)

    def lines(self) -> range:
        return range(self.first, self.last + 1)


def _string_form(token: str) -> str:
    try:
        value = ast.literal_eval(token)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return token  # f-strings and the like keep their spelling
    return repr(value)


def normalised_tokens(text: str) -> list[str]:
    out: list[str] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type in _SKIPPED:
                continue
            if token.string in _CLOSERS and out and out[-1] == ",":
                out.pop()  # a magic trailing comma is formatting, not content
            out.append(
                _string_form(token.string) if token.type == tokenize.STRING else token.string
            )
    except (tokenize.TokenError, IndentationError, SyntaxError):
        # Half-typed text: whitespace-separated words without comments still anchor it.
        return [word for line in text.splitlines() for word in _COMMENT.sub("", line).split()]
    return out


class UnitKeys:
    """Keys by (qualname, role, statement text): an edit recomputes only what it changed."""

    def __init__(self, limit: int = 200_000) -> None:
        self._cache: dict[tuple[str, str, str], tuple[str, int]] = {}
        self._limit = limit

    def key(
        self, qualname: str, role: str, text: str, content: Callable[[], str]
    ) -> tuple[str, int]:
        cached = self._cache.get((qualname, role, text))
        if cached is None:
            normal = content()
            digest = hashlib.blake2b(
                (qualname + "\0" + normal).encode("utf-8", "surrogatepass"), digest_size=8
            )
            cached = (digest.hexdigest(), max(1, len(text.split())))
            if len(self._cache) >= self._limit:
                self._cache.clear()
            self._cache[(qualname, role, text)] = cached
        return cached


KEYS = UnitKeys()
_BODIES = ("body", "orelse", "finalbody")


def _body_fields(node: ast.stmt) -> list[list[ast.stmt]]:
    fields = []
    for name in _BODIES:
        value = getattr(node, name, None)
        if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
            fields.append(value)
    for clause in [*(getattr(node, "handlers", ()) or ()), *(getattr(node, "cases", ()) or ())]:
        fields.append(clause.body)
    return fields


def _statement_dump(node: ast.stmt) -> str:
    """The statement's tree; a bare string (a docstring) without its indentation, which
    formatters re-indent."""
    if (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    ):
        text = "\n".join(line.strip() for line in node.value.value.strip().splitlines())
        return ast.dump(ast.Expr(ast.Constant(text)))
    return ast.dump(node)


def _header_dump(node: ast.stmt) -> str:
    """The statement without its bodies (clause headers such as `except E:` kept)."""
    head = copy.copy(node)
    for name in _BODIES:
        if isinstance(getattr(head, name, None), list):
            setattr(head, name, [])
    for name in ("handlers", "cases"):
        clauses = getattr(head, name, None)
        if clauses:
            emptied = [copy.copy(clause) for clause in clauses]
            for clause in emptied:
                clause.body = []
            setattr(head, name, emptied)
    return ast.dump(head)


# Units of a compound statement by (qualname, its text), positions relative to its first
# line: an edit walks only the statements on the path to what it changed.
_SUBTREES: dict[tuple[str, str], tuple[Unit, ...]] = {}
_SUBTREE_LIMIT = 50_000
_subtrees_lock = threading.Lock()


def _moved(unit: Unit, lines: int) -> Unit:
    return Unit(
        unit.key, unit.first + lines, unit.last + lines, unit.qualname, unit.size, unit.scope
    )


class _Collector:
    def __init__(self, lines: list[str], keys: UnitKeys) -> None:
        self.lines = lines
        self.keys = keys
        self.units: list[Unit] = []

    def add(
        self, first: int, last: int, qualname: str, role: str, dump: Callable[[], str], scope: str
    ) -> None:
        text = "\n".join(self.lines[first : last + 1])
        key, size = self.keys.key(qualname, role, text, dump)
        self.units.append(Unit(key, first, last, qualname, size, scope))

    def statements(self, body: list[ast.stmt], qualname: str) -> None:
        for node in body:
            self.statement(node, qualname)

    def statement(self, node: ast.stmt, qualname: str) -> None:
        first = node.lineno - 1
        decorators = getattr(node, "decorator_list", None)
        if decorators:
            first = min(first, *(d.lineno - 1 for d in decorators))
        last = (node.end_lineno or node.lineno) - 1
        bodies = _body_fields(node)
        defines = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        scope = qualname.split(".")[0] if qualname else (node.name if defines else "")  # type: ignore[attr-defined]
        if not bodies:
            self.add(first, last, qualname, "stmt", lambda: _statement_dump(node), scope)
            return
        text = "\n".join(self.lines[first : last + 1])
        cached = _SUBTREES.get((qualname, text))
        if cached is None:
            cached = self._subtree(node, qualname, first, text, bodies, defines, scope)
        self.units.extend(_moved(u, first) for u in cached)

    def _subtree(
        self,
        node: ast.stmt,
        qualname: str,
        first: int,
        text: str,
        bodies: list[list[ast.stmt]],
        defines: bool,
        scope: str,
    ) -> tuple[Unit, ...]:
        """A compound statement's units relative to its first line, remembered by its text
        so that the next edit elsewhere reuses them."""
        inner = _Collector(self.lines, self.keys)
        inner.compound(node, qualname, first, bodies, defines, scope)
        units = tuple(_moved(u, -first) for u in inner.units)
        with _subtrees_lock:
            if len(_SUBTREES) >= _SUBTREE_LIMIT:
                _SUBTREES.clear()
            _SUBTREES[(qualname, text)] = units
        return units

    def compound(
        self,
        node: ast.stmt,
        qualname: str,
        first: int,
        bodies: list[list[ast.stmt]],
        defines: bool,
        scope: str,
    ) -> None:
        # The header runs to the line before the body; `if x: y` on one line shares it.
        header_last = max(first, bodies[0][0].lineno - 2)
        self.add(first, header_last, qualname, "head", lambda: _header_dump(node), scope)
        inner = qualname
        if defines:
            inner = f"{qualname}.{node.name}" if qualname else node.name  # type: ignore[attr-defined]
        for body in bodies:
            self.statements(body, inner)


def statement_units(source: SourceText, keys: UnitKeys = KEYS) -> list[Unit]:
    """Units in line order. Text that does not parse falls back to one unit per line."""
    lines = source.lines
    tree = source.tree
    if tree is None:
        return line_units(lines, keys)
    collector = _Collector(lines, keys)
    collector.statements(tree.body, "")
    collector.units.sort(key=lambda unit: (unit.first, unit.last))
    return collector.units


_SEGMENTS: dict[str, tuple[Unit, ...] | None] = {}
_SEGMENT_LIMIT = 20_000
_MAX_JOINS = 64


def _segment(text: str, keys: UnitKeys) -> tuple[Unit, ...] | None:
    cached = _SEGMENTS.get(text, False)
    if cached is not False:
        return cached  # type: ignore[return-value]
    source = SourceText(text, path="<segment>")
    units: tuple[Unit, ...] | None = None
    if source.tree is not None:
        collector = _Collector(source.lines, keys)
        collector.statements(source.tree.body, "")
        units = tuple(sorted(collector.units, key=lambda unit: (unit.first, unit.last)))
    with _subtrees_lock:
        if len(_SEGMENTS) >= _SEGMENT_LIMIT:
            _SEGMENTS.clear()
        _SEGMENTS[text] = units
    return units


# A top-level class longer than this is taken member by member (see members.py).
LONG_CLASS_LINES = 80


def _long_class(lines: list[str], keys: UnitKeys) -> tuple[Unit, ...] | None:
    if len(lines) < LONG_CLASS_LINES or not lines[0].startswith(("class", "@")):
        return None
    from clearsight.provenance.members import class_units  # members builds on this module

    return class_units(lines, keys)


def segment_units(
    source: SourceText, keys: UnitKeys = KEYS
) -> list[tuple[int, str, tuple[Unit, ...]]]:
    """The units of each top-level statement, positions relative to it: (first line, its
    text, units). Statements already seen are not parsed again, so an edit costs the
    statement it touched. Text whose statements cannot be told apart is one segment."""
    lines = source.lines
    segments = top_level_segments(lines)
    out = []
    index = 0
    while index < len(segments):
        first, end = segments[index]
        text = "\n".join(lines[first:end])
        units = _long_class(lines[first:end], keys) or _segment(text, keys)
        joined = 0
        while units is None and joined < _MAX_JOINS and index + 1 < len(segments):
            index += 1
            end = segments[index][1]  # a column-0 line inside a statement: join the next
            text = "\n".join(lines[first:end])
            units = _segment(text, keys)
            joined += 1
        if units is None:
            return [(0, source.text, tuple(statement_units(source, keys)))]
        out.append((first, text, units))
        index += 1
    return out


def line_units(lines: list[str], keys: UnitKeys = KEYS) -> list[Unit]:
    """For text that does not parse: one unit per line, keyed by its tokens."""
    units = []
    for number, line in enumerate(lines):
        if _COMMENT.sub("", line).strip():
            key, size = keys.key(
                "", "line", line, lambda line=line: " ".join(normalised_tokens(line))
            )
            units.append(Unit(key, number, number, "", size))
    return units
