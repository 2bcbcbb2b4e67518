"""The dataflow (taint) analysis of one module: an abstract interpreter over its syntax.

The module body runs first (imports, constants, definitions); then every function runs as
an entry point (`entries`); calls into the analysed code run the callee with the
arguments' values, memoised per argument values (`calls`). Everything is bounded: a
budget of statements per file and per entry, a call depth, a few rounds per loop, a few
taints per value. What the analysis cannot follow is unknown, and unknown is silent.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass

from clearsight.dataflow.calls import Calls
from clearsight.dataflow.catalogue import Catalogue
from clearsight.dataflow.conditions import Conditions
from clearsight.dataflow.entries import Entries
from clearsight.dataflow.expressions import Expressions, where
from clearsight.dataflow.frame import Frame
from clearsight.dataflow.project import Project, ProjectModules
from clearsight.dataflow.scope import Definition, ModuleScope
from clearsight.dataflow.sinks import SettingFinding, Sinks
from clearsight.dataflow.statements import Statements
from clearsight.dataflow.values import Flow, Value, Where

FILE_BUDGET = 150_000  # statements run per analysed file, entries and calls included
ENTRY_BUDGET = 15_000  # per entry point


@dataclass(frozen=True)
class Options:
    # Source kinds whose flows are reported ("local": command line, environment, console).
    kinds: frozenset[str] = frozenset({"remote", "local", "random"})


@dataclass(frozen=True)
class Result:
    flows: tuple[Flow, ...]
    settings: tuple[SettingFinding, ...]
    entries: int = 0
    exhausted: bool = False  # the budget ran out: some functions were not followed
    # (line, byte column) of sink calls and built strings that only ever saw constants.
    constant_sites: frozenset[tuple[int, int]] = frozenset()


def fully_constant(value: Value) -> bool:
    """Whether a value is known completely: constants, or containers of constants."""
    if value.taints:
        return False
    if value.consts is not None:
        return True
    if value.items is not None:
        return all(fully_constant(item) for item in value.items)
    if value.entries is not None:
        return all(fully_constant(v) for _, v in value.entries)
    return False


class Interpreter(Expressions, Calls, Statements, Conditions, Sinks, Entries, Project):
    def __init__(
        self, catalogue: Catalogue, options: Options, project: ProjectModules | None = None
    ) -> None:
        self.catalogue = catalogue
        self.options = options
        self.project = project
        self.flows: dict[tuple[int, int, str], Flow] = {}
        self.settings_found: dict[tuple[int, int, str], SettingFinding] = {}
        self.memo: dict[object, Value] = {}
        self.active: list[Definition] = []
        self.sites: list[Where] = []
        self.definitions: dict[int, Definition] = {}
        self.entries: list[Definition] = []
        self.modules: dict[str, ModuleScope | None] = {}
        self.resolved: dict[str, Value | None] = {}
        self.resolving: set[str] = set()
        self.budget = ENTRY_BUDGET
        self.total = FILE_BUDGET
        self.exhausted = False
        # (object, attribute) pairs the running route fixes (see `Handler.route_fixed`).
        self.fixed: frozenset[tuple[str, str]] = frozenset()
        # Sink calls and built strings of the file: (line, byte column) -> whether every
        # run saw only constants there (for bandit findings on constant commands and SQL).
        self.constant_sites: dict[tuple[int, int], bool] = {}

    def note_constant(self, node: ast.AST, values: list[Value], frame: Frame) -> None:
        if frame.module.path is not None:
            return
        key = (getattr(node, "lineno", 0), getattr(node, "col_offset", 0))
        constant = all(fully_constant(v) for v in values)
        self.constant_sites[key] = self.constant_sites.get(key, True) and constant

    # -- modules -------------------------------------------------------------------------

    def prepare_module(self, scope: ModuleScope) -> None:
        imported = _imported_tops(scope.tree)
        scope.imported = imported
        scope.handlers = tuple(
            h for h in self.catalogue.handlers if any(name in imported for name in h.imports)
        )

    def run_module(self, scope: ModuleScope) -> None:
        if scope.ran:
            return
        scope.ran = True
        frame = Frame(scope, None, scope.globals)
        end = self.run_block(scope.tree.body, scope.globals, frame)
        final = end if end is not None else frame.env
        if final is not scope.globals:
            scope.globals.clear()
            scope.globals.update(final)

    # -- entry points --------------------------------------------------------------------

    def run_entry(self, definition: Definition) -> None:
        if self.total <= 0:
            self.exhausted = True
            return
        self.fixed = frozenset()
        frame = self.entry_frame(definition)
        self.budget = min(ENTRY_BUDGET, self.total)
        before = self.budget
        self.active = [definition]
        try:
            self.run_block(definition.node.body, frame.env, frame)  # type: ignore[union-attr]
        finally:
            self.active = []
            self.total -= max(before - self.budget, 1)
            if self.budget <= 0:
                self.exhausted = True

    def invoke(self, definition, args, kwargs, node, frame, receiver=None):  # type: ignore[override]
        self.sites.append(where(node, frame))
        try:
            return Calls.invoke(self, definition, args, kwargs, node, frame, receiver)
        finally:
            self.sites.pop()

    def instantiate(self, definition, args, kwargs, node, frame):  # type: ignore[override]
        self.sites.append(where(node, frame))
        try:
            return Calls.instantiate(self, definition, args, kwargs, node, frame)
        finally:
            self.sites.pop()


def analyze_tree(
    tree: ast.Module,
    path: str,
    catalogue: Catalogue,
    options: Options = Options(),
    project: ProjectModules | None = None,
) -> Result:
    """Every flow from a source to a sink in one module, and every weakened defence."""
    interpreter = Interpreter(catalogue, options, project)
    name = project.module_name() if project is not None else ""
    package = project.package if project is not None else ""
    scope = ModuleScope(tree, name, package)
    interpreter.prepare_module(scope)
    interpreter.budget = ENTRY_BUDGET
    interpreter.run_module(scope)
    interpreter.total -= ENTRY_BUDGET - interpreter.budget
    index = 0
    while index < len(interpreter.entries):
        interpreter.run_entry(interpreter.entries[index])
        index += 1
    flows = sorted(
        interpreter.flows.values(), key=lambda f: (f.sink.line, f.sink.column, f.vulnerability)
    )
    settings = sorted(
        interpreter.settings_found.values(),
        key=lambda s: (s.where.line, s.where.column, s.vulnerability),
    )
    constant = frozenset(site for site, only in interpreter.constant_sites.items() if only)
    return Result(
        tuple(flows), tuple(settings), len(interpreter.entries), interpreter.exhausted, constant
    )


def _imported_tops(tree: ast.Module) -> frozenset[str]:
    found: set[str] = set()
    for node in _walk_statements(tree.body):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".", 1)[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".", 1)[0])
    return frozenset(found)


def _walk_statements(body: Iterable[ast.stmt]) -> Iterable[ast.stmt]:
    pending = list(body)
    while pending:
        node = pending.pop()
        yield node
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            children = getattr(node, field, None)
            if children:
                pending.extend(
                    c
                    for c in children
                    if isinstance(c, ast.stmt | ast.excepthandler | ast.match_case)
                )
