"""The dataflow (taint) analysis of one module: an abstract interpreter over its syntax.

The module is cut into units (`module`): its globals are evaluated statement by statement
when first read, and each unit's functions run as entry points (`entries`); calls into the
analysed code run the callee with the arguments' values, memoised per argument values
(`calls`). Everything is bounded: a budget of statements per entry and per module-level
statement, a call depth, a few rounds per loop, a few taints per value. What the analysis
cannot follow is unknown, and unknown is silent.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from clearsight import disk_view
from clearsight.dataflow.calls import Calls
from clearsight.dataflow.catalogue import Catalogue
from clearsight.dataflow.conditions import Conditions
from clearsight.dataflow.entries import Entries
from clearsight.dataflow.expressions import Expressions, where
from clearsight.dataflow.frame import Frame
from clearsight.dataflow.module import (
    Anchor,
    Bucket,
    LazyGlobals,
    LazyNamespace,
    ModuleEvaluator,
    Stmt,
    Unit,
    UnitKey,
    UnitResult,
    absolute,
    shape_cached,
    shape_of,
    unit_keys,
)
from clearsight.dataflow.project import Project, ProjectModules
from clearsight.dataflow.scope import Definition, ModuleScope
from clearsight.dataflow.sinks import SettingFinding, Sinks
from clearsight.dataflow.statements import Statements
from clearsight.dataflow.values import Flow, Step, Taint, Value, Where

ENTRY_BUDGET = 6_000  # statements run per entry point, the calls it makes included
MAX_NESTED = 64  # nested functions run as entry points per top-level entry
MAX_SUMMARY_DEPTH = 6  # calls into the analysed file followed one inside another


@dataclass(frozen=True)
class Options:
    # Source kinds whose flows are reported ("local": command line, environment, console).
    kinds: frozenset[str] = frozenset({"remote", "local", "random"})
    # Calls into analysed code are not followed (test files: what a test's own lines do
    # is what matters there, and a large suite would cost minutes).
    shallow: bool = False


@dataclass(frozen=True)
class Result:
    flows: tuple[Flow, ...]
    settings: tuple[SettingFinding, ...]
    entries: int = 0
    exhausted: bool = False  # a budget ran out: some code was not followed
    # (line, byte column) of sink calls and built strings that only ever saw constants.
    constant_sites: frozenset[tuple[int, int]] = frozenset()


def fully_constant(value: Value) -> bool:
    """Whether a value is known completely: constants, or containers of constants."""
    if value.taints:
        return False
    if value.consts is not None or value.fixed:
        return True
    if value.items is not None:
        return all(fully_constant(item) for item in value.items)
    if value.entries is not None:
        return all(fully_constant(v) for _, v in value.entries)
    return False


@dataclass
class _Context:
    """What one run (an entry, a module-level statement) keeps to itself."""

    memo: dict[object, Value]
    shallow: bool
    active: list[Definition]
    sites: list[Where]
    definitions: dict[int, Definition]
    modules: dict[str, ModuleScope | None]
    resolved: dict[str, Value | None]
    resolving: set[str]
    budget: int
    fixed: frozenset[tuple[str, str]]
    nested: list[Definition]


class Interpreter(Expressions, Calls, Statements, Conditions, Sinks, Entries, Project):
    def __init__(
        self, catalogue: Catalogue, options: Options, project: ProjectModules | None = None
    ) -> None:
        self.catalogue = catalogue
        self.options = options
        self.project = project
        self.evaluator: ModuleEvaluator | None = None
        self.memo: dict[object, Value] = {}
        self.active: list[Definition] = []
        self.sites: list[Where] = []
        self.definitions: dict[int, Definition] = {}
        self.modules: dict[str, ModuleScope | None] = {}
        self.resolved: dict[str, Value | None] = {}
        self.resolving: set[str] = set()
        self.budget = ENTRY_BUDGET
        self.entries_run = 0
        # (object, attribute) pairs the running route fixes (see `Handler.route_fixed`).
        self.fixed: frozenset[tuple[str, str]] = frozenset()
        # Definitions made by the module-level statement being run (its entry points), and
        # those nested in the entry being run.
        self.defining: list[Definition] | None = None
        self.nested: list[Definition] = []
        self.shallow = False  # calls into analysed code are not followed (see run_entry_group)
        # Calls into the analysed file by their inputs -> (value, what they found); the
        # keys being computed (a call back into one of them is recursion), and those whose
        # computation saw recursion (not kept: they depend on who asked).
        self.summaries: dict[tuple[object, ...], tuple[Value, Bucket, int]] = {}
        self.computing: list[tuple[object, ...]] = []
        self.cut: set[tuple[object, ...]] = set()

    # -- per-run state ---------------------------------------------------------------------

    def enter_context(self) -> _Context:
        saved = _Context(
            self.memo, self.shallow, self.active, self.sites, self.definitions, self.modules,
            self.resolved, self.resolving, self.budget, self.fixed, self.nested,
        )  # fmt: skip
        self.memo, self.active, self.sites, self.definitions = {}, [], [], {}
        self.modules, self.resolved, self.resolving = {}, {}, set()
        self.fixed, self.nested = frozenset(), []
        self.shallow = False
        return saved

    def leave_context(self, saved: _Context) -> None:
        self.memo, self.active, self.sites = saved.memo, saved.active, saved.sites
        self.definitions, self.modules, self.resolved = (
            saved.definitions, saved.modules, saved.resolved,
        )  # fmt: skip
        self.resolving, self.budget, self.fixed = saved.resolving, saved.budget, saved.fixed
        self.nested, self.shallow = saved.nested, saved.shallow

    def bucket(self) -> Bucket | None:
        return self.evaluator.current if self.evaluator is not None else None

    def note_constant(self, node: ast.AST, values: list[Value], frame: Frame) -> None:
        bucket = self.bucket()
        if frame.module.path is not None or bucket is None:
            return
        place = where(node, frame)
        key = (place.anchor, place.line, place.column)
        constant = all(fully_constant(v) for v in values)
        bucket.constants[key] = bucket.constants.get(key, True) and constant

    # -- modules -------------------------------------------------------------------------

    def prepare_module(self, scope: ModuleScope, imported: frozenset[str] | None = None) -> None:
        imported = _imported_tops(scope.tree.body) if imported is None else imported
        scope.imported = imported
        scope.handlers = tuple(
            h for h in self.catalogue.handlers if any(name in imported for name in h.imports)
        )

    def run_module(self, scope: ModuleScope) -> None:
        """A project module's body, all at once (its globals)."""
        if scope.ran:
            return
        scope.ran = True
        frame = Frame(scope, None, scope.globals)
        end = self.run_block(scope.tree.body, scope.globals, frame)
        final = end if end is not None else frame.env
        if final is not scope.globals:
            scope.globals.clear()
            scope.globals.update(final)

    def define_class_lazily(
        self, node: ast.ClassDef, frame: Frame, evaluator: ModuleEvaluator, statement: Stmt
    ) -> dict[str, Value]:
        """A top-level class of the analysed module: its members come from their own
        statements, evaluated when looked up."""
        definition = self.define(node, frame)
        definition.bases = tuple(self.evaluate(base, frame) for base in node.bases)
        definition.namespace = LazyNamespace(evaluator, statement)
        frame.env[node.name] = Value(local=definition)
        return frame.env

    # -- entry points --------------------------------------------------------------------

    def run_entry_group(
        self, definition: Definition, anchor: Anchor, shallow: bool = False
    ) -> None:
        """An entry point, then the functions defined in it (each with its own budget).
        `shallow`: calls into analysed code are not followed."""
        pending = [definition]
        ran = 0
        while pending and ran <= MAX_NESTED:
            current = pending.pop(0)
            saved = self.enter_context()
            try:
                self.shallow = shallow
                self.budget = ENTRY_BUDGET
                frame = self.entry_frame(current)
                if self.evaluator is not None:
                    self.evaluator.entered(current.anchor)
                self.active = [current]
                self.entries_run += 1
                self.run_block(current.node.body, frame.env, frame)  # type: ignore[union-attr]
                if self.budget <= 0 and self.evaluator is not None and self.evaluator.current:
                    self.evaluator.current.exhausted = True
                pending.extend(self.nested)
            finally:
                self.leave_context(saved)
            ran += 1

    # -- calls into the analysed file: summaries shared by every entry ---------------------

    def invoke(self, definition, args, kwargs, node, frame, receiver=None):  # type: ignore[override]
        if definition.is_class:
            return self.instantiate(definition, args, kwargs, node, frame)
        if self.shallow:
            return self.not_followed(definition, args, kwargs, receiver, node, frame)
        if definition.module.path is not None or self.evaluator is None:
            self.sites.append(where(node, frame))
            try:
                return Calls.invoke(self, definition, args, kwargs, node, frame, receiver)
            finally:
                self.sites.pop()
        if self.is_staticmethod(definition):
            receiver = None
        call_site = where(node, frame)
        key = self._summary_key(definition, args, kwargs, receiver, call_site)
        value = self._summary(
            key, lambda: self.run_call(definition, args, kwargs, receiver, call_site, 1)
        )
        if value is None:
            return self.not_followed(definition, args, kwargs, receiver, node, frame)
        return value

    def instantiate(self, definition, args, kwargs, node, frame):  # type: ignore[override]
        if self.shallow:
            return Value(instance_of=definition)
        initializer = self.class_member(definition, "__init__")
        init = initializer.local if initializer is not None else None
        if definition.module.path is not None or init is None or self.evaluator is None:
            self.sites.append(where(node, frame))
            try:
                return Calls.instantiate(self, definition, args, kwargs, node, frame)
            finally:
                self.sites.pop()
        call_site = where(node, frame)
        key = self._summary_key(init, args, kwargs, Value(instance_of=definition), call_site)
        value = self._summary(
            key, lambda: self.run_init(definition, init, args, kwargs, call_site, 1)
        )
        return value if value is not None else Value(instance_of=definition)

    def _summary_key(
        self,
        definition: Definition,
        args: list[Value],
        kwargs: dict[str, Value],
        receiver: Value | None,
        call_site: Where,
    ) -> tuple[object, ...]:
        inputs = (tuple(args), tuple(sorted(kwargs.items())), receiver)
        tainted = any(v.taints for v in (*args, *kwargs.values(), receiver) if v is not None)
        # Untrusted inputs carry the call site in their steps ("passed to f() as x").
        return (definition, inputs, self.fixed, call_site if tainted else None)

    def _summary(self, key: tuple[object, ...], compute: Callable[[], Value]) -> Value | None:
        """What a call into the analysed file gives, computed once per analysis in a
        context of its own (so it does not depend on who asked first), its findings
        replayed into every caller's unit, its cost charged to every caller alike. None
        when it is not followed: recursion, too deep, or more than the caller can afford."""
        if self.budget <= 0:
            return None
        found = self.summaries.get(key)
        if found is None:
            definition = key[0]
            if (
                key in self.computing
                or len(self.computing) >= MAX_SUMMARY_DEPTH
                or any(k[0] is definition for k in self.computing)
            ):
                # Recursion (with any arguments), or calls too deep to follow: not
                # followed, and no summary in progress is kept (each depends on who asked).
                self.cut.update(self.computing)
                return None
            found = self._compute_summary(key, compute)
        value, bucket, cost = found
        if cost > self.budget:
            self.budget = 0  # as if it ran out on the way, whoever computed it
            caller = self.bucket()
            if caller is not None:  # not followed for what its body costs
                caller.merge_dependencies(bucket)
            return None
        self.budget -= cost
        self._replay(bucket)
        return value

    def _compute_summary(
        self, key: tuple[object, ...], compute: Callable[[], Value]
    ) -> tuple[Value, Bucket, int]:
        evaluator = self.evaluator
        assert evaluator is not None
        saved = self.enter_context()
        private, outer = Bucket(), evaluator.current
        evaluator.current = private
        self.computing.append(key)
        try:
            self.budget = ENTRY_BUDGET
            value = compute()
            exhausted = self.budget <= 0
            cost = ENTRY_BUDGET - max(self.budget, 0) + 1
        finally:
            self.computing.pop()
            evaluator.current = outer
            self.leave_context(saved)
        private.exhausted = private.exhausted or exhausted
        found = (value, private, cost)
        if key not in self.cut and not exhausted:
            self.summaries[key] = found
        self.cut.discard(key)
        return found

    def _replay(self, found: Bucket) -> None:
        bucket = self.bucket()
        if bucket is None:
            return
        for key, flows in found.flows.items():
            old = bucket.flows.get(key)
            if old is None or old[0].taint.sort_key() > flows[0].taint.sort_key():
                bucket.flows[key] = list(flows)
            elif old[0].taint.sort_key() == flows[0].taint.sort_key():
                bucket.flows[key] = [*old, *(f for f in flows if f not in old)][:8]
        bucket.settings.update(found.settings)
        for site, only in found.constants.items():
            bucket.constants[site] = bucket.constants.get(site, True) and only
        bucket.merge_dependencies(found)
        bucket.modules.update(found.modules)
        bucket.exhausted = bucket.exhausted or found.exhausted


# -- the analysis of one module -----------------------------------------------------------


def _project_stamp(path: str) -> object:
    stat = disk_view.stat(path)
    return None if stat is None else (stat.st_mtime_ns, stat.st_size)


def analyze_units(
    units: list[Unit],
    catalogue: Catalogue,
    options: Options,
    project: ProjectModules | None,
    imported: frozenset[str],
    context: tuple[object, ...] = (),
    cache: dict[UnitKey, UnitResult] | None = None,
) -> tuple[Result, dict[UnitKey, UnitResult]]:
    """Every flow of a module given as units; with `cache`, units whose earlier results
    are still valid are not run again. Returns the result and each unit's result."""
    interpreter = Interpreter(catalogue, options, project)
    name = project.module_name() if project is not None else ""
    package = project.package if project is not None else ""
    scope = ModuleScope(ast.Module(body=[], type_ignores=[]), name, package)
    interpreter.prepare_module(scope, imported)
    full_context = (tuple(h.framework for h in scope.handlers), *context)
    evaluator = ModuleEvaluator(interpreter, units, scope, full_context, _project_stamp)
    interpreter.evaluator = evaluator
    scope.globals = LazyGlobals(evaluator)
    scope.ran = True
    results: dict[UnitKey, UnitResult] = {}
    for unit in units:
        cached = cache.get(unit.key) if cache is not None else None
        if cached is not None and cached.valid(evaluator):
            results[unit.key] = cached
            continue
        try:
            bucket = evaluator.run_unit(unit)
        except RecursionError:
            # Code nested too deeply for the interpreter: this unit reports nothing.
            bucket = Bucket(exhausted=True)
        mode = evaluator.mode_of(unit.key)
        results[unit.key] = UnitResult(unit.key, bucket, full_context, mode)
    firsts = {unit.key: unit.first for unit in units}
    return _merged(results.values(), firsts, interpreter.entries_run), results


def _merged(results: Iterable[UnitResult], firsts: dict[UnitKey, int], entries: int) -> Result:
    flows: dict[tuple[int, int, str], Flow] = {}
    settings: dict[tuple[int, int, str], SettingFinding] = {}
    constants: dict[tuple[int, int], bool] = {}
    exhausted = False
    for result in results:
        bucket = result.bucket
        exhausted = exhausted or bucket.exhausted
        for candidates in bucket.flows.values():
            for flow in candidates:
                placed = _absolute_flow(flow, firsts)
                key = (placed.sink.line, placed.sink.column, placed.vulnerability)
                old = flows.get(key)
                if old is None or _rank(placed) < _rank(old):
                    flows[key] = placed
        for setting in bucket.settings.values():
            place = absolute(setting.where, firsts)
            fix = setting.fix
            if fix is not None:
                fix = replace(fix, where=absolute(fix.where, firsts))
            settings[(place.line, place.column, setting.vulnerability)] = replace(
                setting, where=place, fix=fix
            )
        for (anchor, line, column), only in bucket.constants.items():
            first = firsts.get(anchor) if anchor is not None else 0
            if first is None:
                continue
            site = (line + first, column)
            constants[site] = constants.get(site, True) and only
    ordered = sorted(flows.values(), key=lambda f: (f.sink.line, f.sink.column, f.vulnerability))
    ordered_settings = sorted(
        settings.values(), key=lambda s: (s.where.line, s.where.column, s.vulnerability)
    )
    sites = frozenset(site for site, only in constants.items() if only)
    return Result(tuple(ordered), tuple(ordered_settings), entries, exhausted, sites)


def _rank(flow: Flow) -> tuple[object, ...]:
    taint = flow.taint
    return (
        *taint.sort_key(),
        taint.where.path or "",
        taint.where.line,
        taint.where.column,
        repr(taint),
    )


def _absolute_flow(flow: Flow, firsts: dict[UnitKey, int]) -> Flow:
    taint = flow.taint
    steps = tuple(Step(absolute(s.where, firsts), s.note) for s in taint.steps)
    placed: Taint = replace(taint, where=absolute(taint.where, firsts), steps=steps)
    return replace(flow, sink=absolute(flow.sink, firsts), taint=placed)


# -- units of a whole-file parse ---------------------------------------------------------


def tree_units(tree: ast.Module, lines: list[str] | None) -> list[Unit]:
    """The units of one parse of the whole file: each top-level statement, a class's
    header and each of its body's statements apart (as the editor cuts them)."""
    pieces: list[tuple[str, int, list[ast.stmt], int | None]] = []

    def text(node: ast.stmt, first: int, last: int) -> str:
        return _text(lines, first, last) if lines is not None else ast.dump(node)

    for node in tree.body:
        first = _first_line(node)
        end = node.end_lineno or node.lineno
        if isinstance(node, ast.ClassDef) and node.body:
            header = len(pieces)
            pieces.append((text(node, first, _body_start(node) - 1), first, [node], None))
            for member in node.body:
                start = _first_line(member)
                last = member.end_lineno or member.lineno
                pieces.append((text(member, start, last), start, [member], header))
            continue
        pieces.append((text(node, first, end), first, [node], None))
    keys = unit_keys(text for text, *_ in pieces)
    units: list[Unit] = []
    for (text, first, nodes, owner), key in zip(pieces, keys, strict=True):
        shapes = tuple(
            shape_cached(n, lines, 0)
            if lines is not None and not _is_header(n, owner)
            else shape_of(n, text)
            for n in nodes
        )
        owner_key = keys[owner] if owner is not None else None
        units.append(
            Unit(key, first - 1, first - 1, shapes, lambda nodes=nodes: nodes, owner_key, text)
        )
    return units


def _is_header(node: ast.stmt, owner: int | None) -> bool:
    """A class statement standing for its header only (its members are units apart)."""
    return isinstance(node, ast.ClassDef) and owner is None and bool(node.body)


def _first_line(node: ast.stmt) -> int:
    """1-based first line of a statement, its decorators included."""
    decorators = getattr(node, "decorator_list", None) or []
    return min([node.lineno, *(d.lineno for d in decorators)])


def _body_start(node: ast.ClassDef) -> int:
    return _first_line(node.body[0])


def _text(lines: list[str], first: int, last: int) -> str:
    return "\n".join(lines[first - 1 : max(last, first)])


def _imported_tops(body: Iterable[ast.stmt]) -> frozenset[str]:
    found: set[str] = set()
    for node in _walk_statements(body):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".", 1)[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".", 1)[0])
    return frozenset(found)


def imported_tops(body: Iterable[ast.stmt]) -> frozenset[str]:
    return _imported_tops(body)


def _walk_statements(body: Iterable[ast.stmt]) -> Iterable[ast.stmt]:
    pending = list(body)
    while pending:
        node = pending.pop()
        yield node
        for name in ("body", "orelse", "finalbody", "handlers", "cases"):
            children = getattr(node, name, None)
            if children:
                pending.extend(
                    c
                    for c in children
                    if isinstance(c, ast.stmt | ast.excepthandler | ast.match_case)
                )


def analyze_tree(
    tree: ast.Module,
    path: str,
    catalogue: Catalogue,
    options: Options = Options(),
    project: ProjectModules | None = None,
    lines: list[str] | None = None,
) -> Result:
    """Every flow from a source to a sink in one module, and every weakened defence.
    `lines` (the file's text) makes units keyed as the editor keys them."""
    units = tree_units(tree, lines)
    result, _ = analyze_units(units, catalogue, options, project, _imported_tops(tree.body))
    return result
