"""The dataflow analysis of one open document, as the editor changes it.

The document's top-level statements come from the incremental analysis (its chunks). Each
becomes units exactly as the whole-file engine cuts them (`interpreter.tree_units`): a
statement, or a class's header and each of its body's statements. What a unit is (its
text, what it binds and reads, what it imports) is kept by text, so after an edit only
new text is parsed; in a long class, only the member the edit is in. The analysis then
reuses every unit's results that nothing it read has invalidated (`module.UnitResult`: a
function another unit only read, without running it, is read by its decorators and
signature), and parses the units it runs on demand, a long compound statement statement by
statement (`piecewise`).
"""

from __future__ import annotations

import ast
import threading
import tokenize
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from clearsight.dataflow import piecewise
from clearsight.dataflow.catalogue import Catalogue
from clearsight.dataflow.interpreter import (
    Options,
    Result,
    analyze_units,
    imported_tops,
)
from clearsight.dataflow.module import (
    Shape,
    Unit,
    UnitKey,
    UnitResult,
    shape_cached,
    shape_of,
    unit_keys,
)
from clearsight.dataflow.project import ProjectModules
from clearsight.segments import top_level_segments

LONG_CLASS = 80  # lines: a longer class is cut into its members without parsing it whole
_PARSE_ERRORS = (SyntaxError, ValueError, RecursionError, MemoryError)
_KEPT_TEXTS = 4096  # units' descriptions kept per document (by text)
# Lines of parsed text whose trees are kept, across documents (a tree takes about 1 KB a
# line): the document being edited keeps the trees its edits run on, the others let go.
_KEPT_TREE_LINES = 6000


@dataclass(frozen=True)
class _Spec:
    """One unit of a chunk, in the chunk's lines."""

    first: int  # 0-based line in the chunk
    text: str  # the unit's lines, joined with "\n" (its key's text)
    shape: Shape
    imports: frozenset[str]
    header: int | None  # for a member: the index of its class's header spec
    base: int  # node line minus this is the line in the unit
    source: str  # the text to parse for its statement
    select: tuple[int, ...]  # the path to the statement in the parsed tree


class ChunkError(ValueError):
    """A chunk that does not cut into units the way the whole-file engine cuts it."""


def _strip(line: str) -> str:
    return line.rstrip("\r\n")


def _select(tree: ast.Module, path: tuple[int, ...]) -> ast.stmt:
    node: ast.AST = tree
    for index in path:
        node = node.body[index]  # type: ignore[attr-defined]
    return node  # type: ignore[return-value]


def _first_line(node: ast.stmt) -> int:
    decorators = getattr(node, "decorator_list", None) or []
    return min([node.lineno, *(d.lineno for d in decorators)])


def _parse(text: str) -> ast.Module:
    return piecewise.parse(text)


def _specs_of_tree(tree: ast.Module, lines: list[str], text: str) -> list[_Spec]:
    """The units of a chunk parsed whole (as `tree_units` cuts a file)."""
    specs: list[_Spec] = []
    for index, node in enumerate(tree.body):
        first = _first_line(node)
        imports = imported_tops([node])
        if isinstance(node, ast.ClassDef) and node.body:
            body_first = _first_line(node.body[0])
            header = len(specs)
            specs.append(
                _Spec(first - 1, _join(lines, first, body_first - 1),
                      shape_of(node, _join(lines, first, body_first - 1)), imports,
                      None, first - 1, text, (index,))
            )  # fmt: skip
            for position, member in enumerate(node.body):
                start, end = _first_line(member), member.end_lineno or member.lineno
                specs.append(
                    _Spec(start - 1, _join(lines, start, end), shape_cached(member, lines, 0),
                          frozenset(), header, start - 1, text, (index, position))
                )  # fmt: skip
            continue
        end = node.end_lineno or node.lineno
        specs.append(
            _Spec(first - 1, _join(lines, first, end), shape_cached(node, lines, 0),
                  imports, None, first - 1, text, (index,))
        )  # fmt: skip
    return specs


def _join(lines: list[str], first: int, last: int) -> str:
    return "\n".join(lines[first - 1 : max(last, first)])


class _Trees:
    """The trees parsed last, by the text they were parsed from, up to a number of lines
    (the units an edit keeps running are parsed once, not on every edit). Shared by the
    documents: the trees are only read."""

    def __init__(self, budget: int) -> None:
        self._budget = budget
        self._trees: OrderedDict[str, tuple[ast.Module, int]] = OrderedDict()
        self._lines = 0
        self._lock = threading.Lock()

    def get(self, text: str) -> ast.Module | None:
        with self._lock:
            kept = self._trees.get(text)
            if kept is None:
                return None
            self._trees.move_to_end(text)
            return kept[0]

    def keep(self, text: str, tree: ast.Module) -> None:
        lines = text.count("\n") + 1
        if lines > self._budget:
            return
        with self._lock:
            if text in self._trees:
                self._trees.move_to_end(text)
                return
            self._trees[text] = (tree, lines)
            self._lines += lines
            while self._lines > self._budget:
                _, (_, dropped) = self._trees.popitem(last=False)
                self._lines -= dropped


_TREES = _Trees(_KEPT_TREE_LINES)


def parsed(text: str) -> ast.Module:
    """The tree of a top-level statement's text, from those kept if it was parsed lately
    (by this family or another: the trees are only read)."""
    tree = _TREES.get(text)
    if tree is None:
        tree = _parse(text)
        _TREES.keep(text, tree)
    return tree


class DocumentFlows:
    """One document's units and their results between edits (one per open document)."""

    def __init__(self) -> None:
        self._chunks: OrderedDict[str, tuple[_Spec, ...]] = OrderedDict()
        self._members: OrderedDict[str, tuple[_Spec, ...]] = OrderedDict()
        self._results: dict[UnitKey, UnitResult] = {}
        # The last call's units of each chunk (by its text), with its first line and its
        # units' keys: a chunk the edit left alone keeps them.
        self._placed: dict[str, tuple[int, tuple[UnitKey, ...], list[Unit]]] = {}
        self._digests: dict[str, str] = {}  # of the units' texts, by text
        self._context: tuple[object, ...] | None = None
        self._lock = threading.Lock()
        self.units_run = 0  # units analysed again by the last call (tests, benchmarks)
        self.parsed = 0  # texts parsed by the last call

    def analyze(
        self,
        chunks: list[tuple[int, str, ast.Module | None]],
        catalogue: Catalogue,
        options: Options,
        project: ProjectModules | None,
        context: tuple[object, ...],
    ) -> Result:
        """The flows of the document made of `chunks` ((0-based first line, text, its tree if
        the caller parsed it) of each top-level statement), running only units whose results
        are out of date."""
        with self._lock:
            self.parsed = 0
            if context != self._context:
                self._results, self._context = {}, context
            units, imports = self._units(chunks)
            result, results = analyze_units(
                units, catalogue, options, project, imports, context, self._results
            )
            self.units_run = sum(
                1 for key, value in results.items() if self._results.get(key) is not value
            )
            self._results = results
            return result

    # -- units ------------------------------------------------------------------------------

    def _units(
        self, chunks: list[tuple[int, str, ast.Module | None]]
    ) -> tuple[list[Unit], frozenset[str]]:
        placed = [(start, text, self._specs(text, tree)) for start, text, tree in chunks]
        digests: dict[str, str] = {}
        for _, _, specs in placed:
            for spec in specs:
                known = self._digests.get(spec.text)
                if known is not None:
                    digests[spec.text] = known
        keys = unit_keys((spec.text for _, _, specs in placed for spec in specs), digests)
        self._digests = digests  # those of this version's texts only
        imports: set[str] = set()
        units: list[Unit] = []
        kept: dict[str, tuple[int, tuple[UnitKey, ...], list[Unit]]] = {}
        for start, text, specs in placed:
            chunk_keys = tuple(keys[len(units) : len(units) + len(specs)])
            earlier = self._placed.get(text)
            if earlier is not None and earlier[:2] == (start, chunk_keys):
                chunk_units = earlier[2]  # the same chunk at the same place: its units
            else:
                chunk_units = [
                    Unit(
                        key, start + spec.first, spec.base, (spec.shape,), self._parser(spec),
                        chunk_keys[spec.header] if spec.header is not None else None,
                        spec.text,
                    )
                    for spec, key in zip(specs, chunk_keys, strict=True)
                ]  # fmt: skip
            kept[text] = (start, chunk_keys, chunk_units)
            units.extend(chunk_units)
            for spec in specs:
                imports |= spec.imports
        self._placed = kept
        return units, frozenset(imports)

    def _parser(self, spec: _Spec) -> Callable[[], list[ast.stmt]]:
        def parse() -> list[ast.stmt]:
            tree = _TREES.get(spec.source)
            if tree is None:
                tree = _parse(spec.source)
                _TREES.keep(spec.source, tree)
            return [_select(tree, spec.select)]

        return parse

    def _specs(self, text: str, tree: ast.Module | None = None) -> tuple[_Spec, ...]:
        specs = self._chunks.get(text)
        if specs is not None:
            self._chunks.move_to_end(text)
            return specs
        lines = [_strip(line) for line in text.splitlines(keepends=True)]
        specs = None
        code = next((line for line in lines if line.strip() and not line.startswith("#")), "")
        if tree is None and len(lines) >= LONG_CLASS and code.startswith(("class ", "@")):
            specs = self._long_class(lines)
        if specs is None:
            if tree is None:
                self.parsed += 1
                tree = _parse(text)
            _TREES.keep(text, tree)
            specs = tuple(_specs_of_tree(tree, lines, text))
            if len(lines) >= LONG_CLASS:
                self._remember_members(tree, lines)
        self._chunks[text] = specs
        while len(self._chunks) > _KEPT_TEXTS:
            self._chunks.popitem(last=False)
        return specs

    def _long_class(self, lines: list[str]) -> tuple[_Spec, ...] | None:
        """A long class cut into its header and members without parsing it whole; None
        when it does not cut cleanly (then it is parsed whole)."""
        try:
            return tuple(self._cut_class(lines))
        except (ChunkError, *_PARSE_ERRORS):
            return None

    def _cut_class(self, lines: list[str]) -> list[_Spec]:
        ranges = _member_ranges(lines)
        if ranges is None:
            raise ChunkError("no members found")
        body_first = ranges[0][0]
        header_lines = lines[:body_first]
        indent = _indent(lines[body_first])
        header_source = "\n".join([*header_lines, indent + "pass"]) + "\n"
        header_tree = _parse(header_source)
        if len(header_tree.body) != 1 or not isinstance(header_tree.body[0], ast.ClassDef):
            raise ChunkError("the header is not one class")
        node = header_tree.body[0]
        first = _first_line(node)
        header = _Spec(
            first - 1, _join(lines, first, body_first),
            shape_of(node, _join(lines, first, body_first)),
            frozenset(), None, first - 1, header_source, (0,),
        )  # fmt: skip
        if node.lineno - 1 >= body_first:
            raise ChunkError("a member shares the class line")
        specs = [header]
        imports: set[str] = set()
        index = 0
        while index < len(ranges):
            start, end = ranges[index]
            members = None
            # A wrong guess cuts a statement in two: join the segment with the next ones.
            while members is None:
                members = self._members_in(lines, start, end)
                if members is None:
                    index += 1
                    if index >= len(ranges):
                        raise ChunkError("a member segment does not parse")
                    end = ranges[index][1]
            for member in members:
                imports |= member.imports
                specs.append(member)
            index += 1
        specs[0] = _Spec(
            header.first, header.text, header.shape, frozenset(imports), None, header.base,
            header.source, header.select,
        )  # fmt: skip
        return specs

    def _remember_members(self, tree: ast.Module, lines: list[str]) -> None:
        """A long class parsed whole: its members, kept by their segments' text as
        `_members_in` keeps them, so that the next edit parses the edited member only."""
        node = tree.body[0] if len(tree.body) == 1 else None
        ranges = _member_ranges(lines) if isinstance(node, ast.ClassDef) else None
        if node is None or ranges is None:
            return
        members = [(_first_line(m) - 1, m) for m in node.body]  # type: ignore[attr-defined]
        for start, end in ranges:
            inside = [m for first, m in members if start <= first < end]
            segment = lines[start:end]
            key = "\n".join(segment)
            if not inside or key in self._members:
                continue
            found = []
            for position, statement in enumerate(inside):
                first = _first_line(statement) - 1 - start  # 0-based in the segment
                last = (statement.end_lineno or statement.lineno) - start
                text = "\n".join(segment[first:last])
                shape = shape_cached(statement, lines, 0)
                found.append(
                    _Spec(first, text, shape, imported_tops([statement]), 0, 1,
                          "class _:\n" + key + "\n", (0, position))
                )  # fmt: skip
            self._members[key] = tuple(found)

    def _members_in(self, lines: list[str], start: int, end: int) -> list[_Spec] | None:
        """The member statements in lines[start:end] (0-based), parsed alone; None when
        they do not parse alone."""
        segment = lines[start:end]
        key = "\n".join(segment)
        cached = self._members.get(key)
        if cached is None:
            self.parsed += 1
            source = "class _:\n" + key + "\n"
            try:
                tree = _parse(source)
            except _PARSE_ERRORS:
                return None
            _TREES.keep(source, tree)
            frame = tree.body[0] if len(tree.body) == 1 else None
            if not isinstance(frame, ast.ClassDef) or _first_line(frame.body[0]) != 2:
                return None
            found = []
            for position, statement in enumerate(frame.body):
                first = _first_line(statement)  # 1-based in `source`: line 2 is lines[start]
                last = statement.end_lineno or statement.lineno
                text = "\n".join(segment[first - 2 : last - 1])
                shape = shape_cached(statement, segment, 1)
                found.append(
                    _Spec(first - 2, text, shape, imported_tops([statement]),
                          0, first - 1 - (first - 2), source, (0, position))
                )  # fmt: skip
            cached = tuple(found)
            self._members[key] = cached
            while len(self._members) > _KEPT_TEXTS:
                self._members.popitem(last=False)
        else:
            self._members.move_to_end(key)
        return [
            _Spec(start + spec.first, spec.text, spec.shape, spec.imports, 0,
                  spec.base + spec.first, spec.source, spec.select)
            for spec in cached
        ]  # fmt: skip


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _header_end(lines: list[str]) -> int | None:
    """The 0-based line the `class ...:` statement's header ends on (tokens, so comments,
    brackets and strings are read as Python reads them); None if not a class."""
    source = iter(line + "\n" for line in lines)
    seen_class = False
    depth = 0
    try:
        for token in tokenize.generate_tokens(lambda: next(source, "")):
            if token.type == tokenize.OP and token.string in "([{":
                depth += 1
            elif token.type == tokenize.OP and token.string in ")]}":
                depth -= 1
            elif token.type == tokenize.NAME and token.string == "class" and depth == 0:
                seen_class = True
            elif seen_class and depth == 0 and token.type == tokenize.OP and token.string == ":":
                return token.start[0] - 1
            elif seen_class and token.type == tokenize.NEWLINE:
                return None
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return None
    return None


def _member_ranges(lines: list[str]) -> list[tuple[int, int]] | None:
    """(start, end) lines of a class's body statements, found by their indentation: the
    lines at the body's indentation that start code (a wrong guess fails to parse)."""
    header_end = _header_end(lines)
    if header_end is None:
        return None
    body = next(
        (i for i in range(header_end + 1, len(lines))
         if lines[i].strip() and not lines[i].lstrip().startswith("#")),
        None,
    )  # fmt: skip
    if body is None:
        return None
    indent = _indent(lines[body])
    if not indent:
        return None
    # Lines not at the body's indentation (inside brackets or strings) never start one.
    return top_level_segments(lines, body, len(lines), indent)
