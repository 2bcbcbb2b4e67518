"""The performance family in the editor: each top-level statement's facts and findings kept
by its text, and within it each top function's by its text, so an edit re-walks only the
function it is in (and those that read a module name it rebound).

An edit inside one method of a long class does not even parse the class again: the new text
of the method is parsed alone (under an `if 1:` that stands for the lines above it, so its
lines and columns are those of the whole text), and the class's other parts are those of the
text before the edit, moved by the lines the edit added. That is exact when the method's new
lines parse as one function and nothing else: the lines around them are unchanged, and a
statement boundary on both sides stays one. Anything else parses the statement whole.
"""

from __future__ import annotations

import ast
import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace

from clearsight.dataflow.document import parsed
from clearsight.performance.analysis import (
    FunctionFacts,
    Key,
    StatementFacts,
    combined_facts,
    detect,
    event_loop_names,
    first_line,
    function_detections,
    function_facts,
    import_line,
    key,
    module_bindings,
    module_scope_detections,
    module_scope_reads,
    statement_facts,
    statement_kind,
)
from clearsight.performance.catalogue import PerformanceCatalogue
from clearsight.performance.models import ProjectModels
from clearsight.performance.names import ModuleBindings, Scope, ScopeBindings, scope_bindings
from clearsight.performance.rules import Detection
from clearsight.performance.walk import Function, module_parts
from clearsight.segments import common_ends

_KEPT_STATEMENTS = 4000  # statement texts remembered per document
_KEPT_FUNCTIONS = 8000  # function texts remembered per document
_PARSE_ERRORS = (SyntaxError, ValueError, RecursionError, MemoryError)


@dataclass
class _Function:
    facts: FunctionFacts
    # By the module facts it read: its findings, with line 1 its first line.
    found: dict[Key, list[Detection]] = field(default_factory=dict)


@dataclass(frozen=True)
class _Placed:
    """A top function of a statement: its 1-based first and last lines in the statement's
    text, its text, and its tree while one is at hand."""

    first: int
    last: int
    text: bytes  # the digest of its text
    node: Function | None

    def moved(self, lines: int) -> _Placed:
        return replace(self, first=self.first + lines, last=self.last + lines, node=None)


@dataclass
class _Statement:
    """A text holding one top-level statement (the editor's chunk), and its parts."""

    text: str  # (the editor's own chunk text: no copy)
    first: bool  # the module's first statement (a docstring there is the module's)
    own: ScopeBindings  # what it binds itself, its functions' `global`s left out
    module_reads: frozenset[str]  # what its module-scope part reads
    functions: list[_Placed]
    facts: StatementFacts
    tree: ast.stmt | None  # dropped once the findings are known
    module_key: Key | None = None
    module_found: list[Detection] = field(default_factory=list)
    key: Key | None = None
    found: list[Detection] = field(default_factory=list)
    checked: int = -1  # the module version its findings were last checked against


class PerformanceDocument:
    """One document's statements and functions between edits (one per open document)."""

    def __init__(self) -> None:
        self._statements: OrderedDict[tuple[str, bool], _Statement | None] = OrderedDict()
        self._functions: OrderedDict[bytes, _Function] = OrderedDict()
        self._last: dict[int, _Statement] = {}  # by first line, as of the last call
        # The statements' facts of the last call, and the module's bindings made of them.
        self._module_of: tuple[list[StatementFacts], ModuleBindings, Key] | None = None
        self._version = 0
        self._models: ProjectModels | None = None
        self._lock = threading.Lock()
        self.statements_run = 0  # statements whose findings the last call worked out again
        self.functions_run = 0  # top functions walked again by the last call
        self.parsed = 0  # statements parsed whole by the last call

    def detections(
        self,
        chunks: list[tuple[int, str, ast.Module | None]],
        catalogue: PerformanceCatalogue,
        path: str = "",
    ) -> tuple[list[tuple[int, Detection]], int | None]:
        """(line offset, detection) for the document made of `chunks` ((0-based first line,
        text, its tree if already parsed) of each top-level statement) at `path`, and where
        an added import goes."""
        with self._lock:
            self.statements_run = self.functions_run = self.parsed = 0
            if self._models is None or self._models.path != path:
                self._models = ProjectModels(path, catalogue)
            models = self._models
            if models.refresh():  # a models module changed on disk
                self._version += 1
            entries = [
                self._statement(start, text, tree, index == 0)
                for index, (start, text, tree) in enumerate(chunks)
            ]
            module, loops = self._module(entries, catalogue)
            loops = (loops, models.generation)
            scope = Scope.of_module(module, catalogue, models.package, models)
            found: list[tuple[int, Detection]] = []
            placed: list[tuple[int, StatementFacts]] = []
            last: dict[int, _Statement] = {}
            for (start, text, _), entry in zip(chunks, entries, strict=True):
                if isinstance(entry, _Statement):
                    if entry.checked != self._version:  # the module's names changed since
                        self._run(entry, text, module, loops, scope, catalogue)
                        entry.checked = self._version
                    found.extend((start, detection) for detection in entry.found)
                    last[start] = entry
                    placed.append((start, entry.facts))
                else:  # several statements in one text: run whole, as the engine does
                    for statement in parsed(text).body:
                        detections = detect(statement, scope, module.libraries)
                        found.extend((start, detection) for detection in detections)
                    placed.extend((start, facts) for facts in entry)
            self._last = last
            return found, import_line(placed)

    def _module(
        self,
        entries: list[_Statement | tuple[StatementFacts, ...]],
        catalogue: PerformanceCatalogue,
    ) -> tuple[ModuleBindings, Key]:
        """The module's bindings, worked out again only when a statement's facts changed;
        `_version` counts the times they did."""
        facts = [f for entry in entries for f in _facts(entry)]
        kept = self._module_of
        if (
            kept is not None
            and len(kept[0]) == len(facts)
            and all(a is b for a, b in zip(kept[0], facts, strict=True))
        ):
            return kept[1], kept[2]
        module = module_bindings(facts)
        loops = event_loop_names(module, frozenset(catalogue.event_loops))
        if kept is None or (module.key, loops) != (kept[1].key, kept[2]):
            self._version += 1
        self._module_of = (facts, module, loops)
        return module, loops

    # -- statements -------------------------------------------------------------------------

    def _statement(
        self, start: int, text: str, tree: ast.Module | None, first: bool
    ) -> _Statement | tuple[StatementFacts, ...]:
        wanted = (text, first)
        if wanted in self._statements:
            self._statements.move_to_end(wanted)
            entry = self._statements[wanted]
        else:
            entry = self._edited(self._last.get(start), text, first)
            if entry is None:
                entry = self._whole(text, tree, first)
            self._statements[wanted] = entry
            while len(self._statements) > _KEPT_STATEMENTS:
                self._statements.popitem(last=False)
        if entry is not None:
            return entry
        # Several statements in one text (`a = 1; b = 2`): their facts, worked out again.
        trees = (tree if tree is not None else parsed(text)).body
        lines = text.splitlines(keepends=True)
        return tuple(
            statement_facts(s, first and index == 0, self._facts_of(module_parts(s)[1], lines))
            for index, s in enumerate(trees)
        )

    def _whole(self, text: str, tree: ast.Module | None, first: bool) -> _Statement | None:
        """The statement's parts from its tree (parsed now if need be); None if the text
        holds other than one statement."""
        if tree is None:
            self.parsed += 1
            tree = parsed(text)
        if len(tree.body) != 1:
            return None
        statement = tree.body[0]
        lines = text.splitlines(keepends=True)
        _, functions = module_parts(statement)
        placed = [
            _Placed(first_line(f), f.end_lineno or f.lineno, _text_of(f, lines), f)
            for f in functions
        ]
        own = scope_bindings([statement])
        reads = frozenset(module_scope_reads(statement))
        kind = statement_kind(statement, first)
        facts = combined_facts(
            own, reads, kind, first_line(statement), [self._known_facts(f) for f in placed]
        )
        return _Statement(text, first, own, reads, placed, facts, statement)

    def _edited(self, old: _Statement | None, text: str, first: bool) -> _Statement | None:
        """The statement after an edit inside one of its indented top functions, from its
        parts before the edit and that function parsed alone; None when the edit is not
        inside one function or its new lines are not one function."""
        if old is None:
            return None
        lines = text.splitlines(keepends=True)
        old_lines = old.text.splitlines(keepends=True)
        prefix, suffix = common_ends(old_lines, lines)
        changed_end = len(old_lines) - suffix  # changed old lines: [prefix, changed_end)
        index = next(
            (
                i
                for i, f in enumerate(old.functions)
                if f.first - 1 <= prefix and changed_end <= f.last
            ),
            None,
        )
        if index is None:
            return None
        function = old.functions[index]
        delta = len(lines) - len(old_lines)
        own = lines[function.first - 1 : function.last + delta]
        if function.first < 2 or not own or not own[0][:1].isspace():
            return None
        node = _parsed_alone(own, function.first)
        if node is None:
            return None
        new = _Placed(function.first, function.last + delta, _digest("".join(own)), node)
        functions = [
            *old.functions[:index],
            new,
            *(f.moved(delta) for f in old.functions[index + 1 :]),
        ]
        facts = combined_facts(
            old.own,
            old.module_reads,
            old.facts.kind,
            old.facts.first_line,
            [self._known_facts(f) for f in functions],
        )
        entry = _Statement(text, first, old.own, old.module_reads, functions, facts, None)
        entry.module_key = old.module_key
        entry.module_found = [
            d.moved(delta) if d.where[0] > function.last else d for d in old.module_found
        ]
        return entry

    # -- findings ---------------------------------------------------------------------------

    def _run(
        self,
        entry: _Statement,
        text: str,
        module: ModuleBindings,
        loops: Key,
        scope: Scope,
        catalogue: PerformanceCatalogue,
    ) -> None:
        wanted = key(entry.facts.reads, module, loops)
        if wanted == entry.key:
            return
        module_wanted = key(entry.module_reads, module, loops)
        missing = module_wanted != entry.module_key or any(
            f.node is None
            and self._known(f).found.get(key(self._known(f).facts.reads, module, loops)) is None
            for f in entry.functions
        )
        if missing and entry.tree is None:
            self._reparse(entry, text)
        if module_wanted != entry.module_key and entry.tree is not None:
            bodies, _ = module_parts(entry.tree)
            entry.module_found = module_scope_detections(bodies, scope)
            entry.module_key = module_wanted
        found = list(entry.module_found)
        for placed in entry.functions:
            kept = self._function_found(placed, module, loops, scope, catalogue)
            found.extend(d.moved(placed.first - 1) for d in kept)
        entry.found, entry.key = found, wanted
        entry.tree = None
        entry.functions = [replace(f, node=None) for f in entry.functions]
        self.statements_run += 1

    def _reparse(self, entry: _Statement, text: str) -> None:
        """The statement's tree again (the module's names changed since it was dropped)."""
        self.parsed += 1
        (statement,) = parsed(text).body
        _, functions = module_parts(statement)
        if len(functions) != len(entry.functions):
            raise ValueError("a statement's functions changed with its text unchanged")
        entry.tree = statement
        entry.functions = [
            replace(p, node=f) for p, f in zip(entry.functions, functions, strict=True)
        ]

    def _function_found(
        self,
        placed: _Placed,
        module: ModuleBindings,
        loops: Key,
        scope: Scope,
        catalogue: PerformanceCatalogue,
    ) -> list[Detection]:
        entry = self._known(placed)
        wanted = key(entry.facts.reads, module, loops)
        kept = entry.found.get(wanted)
        if kept is None:
            if placed.node is None:
                raise ValueError("a function's findings are needed without its tree")
            detections = function_detections(placed.node, scope, catalogue, module.libraries)
            kept = [d.moved(1 - placed.first) for d in detections]
            entry.found = {wanted: kept}
            self.functions_run += 1
        return kept

    # -- functions --------------------------------------------------------------------------

    def _facts_of(self, functions: list[Function], lines: list[str]) -> list[FunctionFacts]:
        return [
            self._known_facts(
                _Placed(first_line(f), f.end_lineno or f.lineno, _text_of(f, lines), f)
            )
            for f in functions
        ]

    def _known_facts(self, placed: _Placed) -> FunctionFacts:
        return self._known(placed).facts

    def _known(self, placed: _Placed) -> _Function:
        """The function's entry, by its text (made from its tree the first time)."""
        entry = self._functions.get(placed.text)
        if entry is not None:
            self._functions.move_to_end(placed.text)
            return entry
        if placed.node is None:
            raise ValueError("a function's facts are needed without its tree")
        entry = _Function(function_facts(placed.node))
        self._functions[placed.text] = entry
        while len(self._functions) > _KEPT_FUNCTIONS:
            self._functions.popitem(last=False)
        return entry


def _facts(entry: _Statement | tuple[StatementFacts, ...]) -> tuple[StatementFacts, ...]:
    return (entry.facts,) if isinstance(entry, _Statement) else entry


def _text_of(function: Function, lines: list[str]) -> bytes:
    """A function's text, by its digest (the document's functions are kept by it)."""
    return _digest("".join(lines[first_line(function) - 1 : function.end_lineno]))


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _parsed_alone(lines: list[str], first: int) -> Function | None:
    """An indented function's lines parsed on their own at line `first`, or None unless
    they are exactly one function."""
    source = "\n" * (first - 2) + "if 1:\n" + "".join(lines)
    try:
        tree = ast.parse(source)
    except _PARSE_ERRORS:
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.If):
        return None
    body = tree.body[0].body
    if len(body) != 1 or not isinstance(body[0], ast.FunctionDef | ast.AsyncFunctionDef):
        return None
    function = body[0]
    if first_line(function) != first or function.end_lineno != first + len(lines) - 1:
        return None
    return function
