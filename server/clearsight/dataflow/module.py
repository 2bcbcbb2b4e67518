"""The analysed module, statement by statement: lazily evaluated globals, per-unit results.

The module is a sequence of *units*: text parsed on its own (a top-level statement, or
one statement of a long class's body), each with an `Anchor` its positions are relative
to, so a unit's results stay valid when lines above it are added or removed. A global's
value is what the statements binding it make of it, run in order, when something first
reads it; a class's members likewise. So the editor parses and runs only the units an
edit changed, and those their functions use; what every other unit found is reused while
nothing it read has changed (`UnitResult.valid`).

The whole-file engine runs the same code over the units of one parse, with no cache, so
the two give the same findings by construction. Each entry point runs with its own
budget, memo and set of project modules, so that what one finds never depends on which
others ran before it.
"""

from __future__ import annotations

import ast
import hashlib
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from clearsight.dataflow.frame import Frame
from clearsight.dataflow.scope import Definition, ModuleScope
from clearsight.dataflow.values import Flow, Value, Where
from clearsight.dataflow.words import occurs_as_word, occurs_quoted

if TYPE_CHECKING:
    from clearsight.dataflow.interpreter import Interpreter
    from clearsight.dataflow.sinks import SettingFinding

UnitKey = tuple[str, int]  # (digest of the unit's text, occurrence among equal texts)
MODULE_BUDGET = 4_000  # statements run to evaluate one module-level statement
MAX_LAZY_DEPTH = 24  # module-level statements evaluated one inside another
_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


@dataclass(frozen=True)
class Anchor:
    key: UnitKey
    base: int  # a node's line minus this is its 1-based line in the unit


def unit_keys(texts: Iterable[str], digests: dict[str, str] | None = None) -> list[UnitKey]:
    """Stable keys for units, in document order: equal texts are told apart by rank.
    `digests`: the texts' digests known already (by text), updated with the new ones."""
    seen: dict[str, int] = {}
    keys = []
    for text in texts:
        digest = digests.get(text) if digests is not None else None
        if digest is None:
            digest = hashlib.blake2b(
                text.encode("utf-8", "surrogatepass"), digest_size=12
            ).hexdigest()
            if digests is not None:
                digests[text] = digest
        rank = seen.get(digest, 0)
        seen[digest] = rank + 1
        keys.append((digest, rank))
    return keys


# -- what a statement binds and reads, found without running it ------------------------------


@dataclass(frozen=True)
class Shape:
    """A module- or class-level statement's syntax, as the evaluator needs it."""

    writes: frozenset[str]  # names it may bind or change
    reads: frozenset[str]  # names its own level reads (function bodies excluded)
    is_class: bool = False
    name: str | None = None  # of a def or class
    # Every identifier in it (names, attributes, parameters, imports), and its decorators'
    # and (a class's) bases' names: what decides whether it can find anything.
    identifiers: frozenset[str] = frozenset()
    decorators: frozenset[str] = frozenset()
    # It holds a call bandit judges by its argument (shell=True, SQL text, eval), whose
    # argument the analysis tells constant or not.
    judged: bool = False
    # Modules it imports ("." + name for a relative import).
    imports: frozenset[str] = frozenset()
    called: frozenset[str] = frozenset()  # plain names it calls (`input(...)`)
    dotted: frozenset[str] = frozenset()  # `name.attribute` it reads or imports (`sys.argv`)
    # For a def whose body starts on a line of its own: the lines of its decorators and
    # signature (its face: what code that reads the function without running it sees).
    header_lines: int = 0


# Calls whose bandit findings depend on whether an argument is constant (B602, B605, B608,
# B307, B102): a statement holding one is analysed even when no source is in sight.
_SHELL_TRUE = re.compile(r"shell\s*=\s*True")
_JUDGED_CALLS = (
    "system(", "popen(", "eval(", "exec(", "execute(", "executemany(", "executescript(",
)  # fmt: skip
_SQL_VERBS = ("select", "insert", "update", "delete")


def judged(text: str) -> bool:
    """Whether the text holds a call bandit judges by whether its argument is constant:
    `shell=True`, `system(`, `eval(`, `execute(`... or a string starting with an SQL verb."""
    if "shell" in text and _SHELL_TRUE.search(text):
        return True
    if any(occurs_as_word(text, call, ends_word=False) for call in _JUDGED_CALLS):
        return True
    lowered = text.lower()
    return any(occurs_quoted(lowered, verb) for verb in _SQL_VERBS)


_SHAPES: OrderedDict[tuple[str, int], Shape] = OrderedDict()
_KEPT_SHAPES = 2000  # about 2.6 KiB each: the documents being edited touch theirs each edit
# Whether a function of a unit names a local source or a judged call, by (unit, line).
_MARKS: dict[tuple[UnitKey, int], bool] = {}


def shape_cached(node: ast.stmt, lines: list[str], base: int) -> Shape:
    """`shape_of(node)`, where `lines[line - 1 - base]` is the node's line `line`; an
    if/try statement's shape is its parts', each kept by its text, so an edit in one
    function of a long `if sys.platform == ...:` block reshapes that function only."""
    first = _first_line_of(node) - 1 - base
    last = (node.end_lineno or node.lineno) - base
    text = "\n".join(lines[first:last])
    key = (text, node.col_offset)
    found = _SHAPES.get(key)
    if found is not None:
        _SHAPES.move_to_end(key)
        return found
    if isinstance(node, ast.If | ast.Try) and text.count("\n") > 40:
        parts = [shape_cached(child, lines, base) for child in _blocks_of(node)]
        own = shape_of(_header_of(node), "")
        shape = _united([own, *parts], text)
    else:
        shape = shape_of(node, text)
    _SHAPES[key] = shape
    while len(_SHAPES) > _KEPT_SHAPES:
        _SHAPES.popitem(last=False)
    return shape


def _first_line_of(node: ast.stmt) -> int:
    decorators = getattr(node, "decorator_list", None) or []
    return min([node.lineno, *(d.lineno for d in decorators)])


def _blocks_of(node: ast.If | ast.Try) -> list[ast.stmt]:
    if isinstance(node, ast.If):
        return [*node.body, *node.orelse]
    return [*node.body, *(s for h in node.handlers for s in h.body), *node.orelse, *node.finalbody]


def _header_of(node: ast.If | ast.Try) -> ast.stmt:
    """The statement without its blocks' statements (what is left to shape)."""
    if isinstance(node, ast.If):
        return ast.If(test=node.test, body=[], orelse=[])
    handlers = [ast.ExceptHandler(type=h.type, name=h.name, body=[]) for h in node.handlers]
    return ast.Try(body=[], handlers=handlers, orelse=[], finalbody=[])


def _united(shapes: list[Shape], text: str) -> Shape:
    def union(field: str) -> frozenset[str]:
        found: set[str] = set()
        for shape in shapes:
            found |= getattr(shape, field)
        return frozenset(found)

    return Shape(
        union("writes"), union("reads"), False, None, union("identifiers"),
        union("decorators"), judged(text), union("imports"), union("called"),
        union("dotted"),
    )  # fmt: skip


def shape_of(node: ast.stmt, text: str = "") -> Shape:
    writes: set[str] = set()
    reads: set[str] = set()
    _collect(node, writes, reads)
    name = node.name if isinstance(node, _DEFINITIONS) else None
    identifiers: set[str] = set()
    decorators: set[str] = set()
    imports: set[str] = set()
    called: set[str] = set()
    dotted: set[str] = set()
    if isinstance(node, ast.ClassDef):
        # A class's own line only: its body's statements are units of their own.
        roots: list[ast.AST] = [*node.decorator_list, *node.bases, *node.keywords]
        walked = [node, *(n for root in roots for n in ast.walk(root))]
    else:
        walked = list(ast.walk(node))
    definitions = _DEFINITIONS
    for child in walked:
        kind = type(child)
        if kind is ast.Name:
            identifiers.add(child.id)  # type: ignore[attr-defined]
        elif kind is ast.Attribute:
            identifiers.add(child.attr)  # type: ignore[attr-defined]
            value = child.value  # type: ignore[attr-defined]
            if type(value) is ast.Name:
                dotted.add(f"{value.id}.{child.attr}")  # type: ignore[attr-defined]
        elif kind is ast.Call:
            func = child.func  # type: ignore[attr-defined]
            if type(func) is ast.Name:
                called.add(func.id)
        elif kind is ast.arg:
            identifiers.add(child.arg)  # type: ignore[attr-defined]
        elif kind is ast.keyword:
            if child.arg:  # type: ignore[attr-defined]
                identifiers.add(child.arg)  # type: ignore[attr-defined]
        elif kind is ast.alias:
            identifiers.update((child.asname or child.name).split("."))  # type: ignore[attr-defined]
            identifiers.update(child.name.split("."))  # type: ignore[attr-defined]
        elif kind is ast.ImportFrom:
            module = ("." * child.level) + (child.module or "")  # type: ignore[attr-defined]
            imports.add(module)
            identifiers.update((child.module or "").split("."))  # type: ignore[attr-defined]
            dotted.update(f"{child.module}.{a.name}" for a in child.names)  # type: ignore[attr-defined]
        elif kind is ast.Import:
            imports.update(alias.name for alias in child.names)  # type: ignore[attr-defined]
        if kind in definitions:
            for decorator in child.decorator_list:  # type: ignore[attr-defined]
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                if isinstance(target, ast.Attribute):
                    decorators.add(target.attr)
                elif isinstance(target, ast.Name):
                    decorators.add(target.id)
            if kind is ast.ClassDef:
                for base in child.bases:  # type: ignore[attr-defined]
                    if isinstance(base, ast.Attribute):
                        decorators.add(base.attr)
                    elif isinstance(base, ast.Name):
                        decorators.add(base.id)
    is_judged = judged(text) if text else False
    return Shape(
        frozenset(writes), frozenset(reads), isinstance(node, ast.ClassDef), name,
        frozenset(identifiers), frozenset(decorators), is_judged, frozenset(imports),
        frozenset(called), frozenset(dotted), _header_lines(node),
    )  # fmt: skip


def _header_lines(node: ast.stmt) -> int:
    if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or not node.body:
        return 0
    lines = _first_line_of(node.body[0]) - _first_line_of(node)
    return lines if lines > 0 else 0


def _collect(node: ast.AST, writes: set[str], reads: set[str]) -> None:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        writes.add(node.name)
        for part in (*node.decorator_list, *node.args.defaults, *node.args.kw_defaults):
            if part is not None:
                _collect(part, writes, reads)
        return
    if isinstance(node, ast.ClassDef):
        writes.add(node.name)
        for part in (*node.decorator_list, *node.bases, *(k.value for k in node.keywords)):
            _collect(part, writes, reads)
        return  # its body is the members' business
    if isinstance(node, ast.Lambda):
        return
    if isinstance(node, ast.Import | ast.ImportFrom):
        for alias in node.names:
            if alias.name != "*":
                writes.add(alias.asname or alias.name.split(".", 1)[0])
        return
    if isinstance(node, ast.Name):
        (writes if isinstance(node.ctx, ast.Store | ast.Del) else reads).add(node.id)
        return
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        base = _base_name(node.func.value)
        if base is not None:
            writes.add(base)  # `items.append(x)` changes `items`
    if isinstance(node, ast.Subscript | ast.Attribute) and isinstance(
        node.ctx, ast.Store | ast.Del
    ):
        base = _base_name(node.value)
        if base is not None:
            writes.add(base)
            reads.add(base)
    for child in ast.iter_child_nodes(node):
        _collect(child, writes, reads)


def _base_name(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


# -- units --------------------------------------------------------------------------------


@dataclass(eq=False)
class Unit:
    """Text parsed on its own: top-level statements, or a class's member statements.

    `parse` gives the unit's statements (the editor parses on demand; the whole-file
    engine hands over nodes of its one tree). `shapes` are known without parsing once the
    unit has been seen."""

    key: UnitKey
    first: int  # 0-based line of the unit's first line in the document
    base: int
    shapes: tuple[Shape, ...]
    parse: Callable[[], list[ast.stmt]]
    # For a member unit, the key of the unit holding its class's header.
    owner: UnitKey | None = None
    text: str = ""  # its lines, joined with "\n"

    @property
    def anchor(self) -> Anchor:
        return Anchor(self.key, self.base)


@dataclass(eq=False)
class Stmt:
    unit: Unit
    index: int  # in the unit
    shape: Shape
    order: int  # in the module (members: in their class)
    owner: Stmt | None = None  # the class statement of a member
    members: list[Stmt] = field(default_factory=list)  # a class's, in order

    def node(self, evaluator: ModuleEvaluator) -> ast.stmt:
        return evaluator.statements_of(self.unit)[self.index]


# The units binding a name, and their faces.
Binders = tuple[tuple[UnitKey, ...], tuple[object, ...]]


@dataclass
class Bucket:
    """What running one unit found, in positions relative to anchors."""

    flows: dict[tuple[UnitKey | None, int, int, str], list[Flow]] = field(default_factory=dict)
    settings: dict[tuple[UnitKey | None, int, int, str], SettingFinding] = field(
        default_factory=dict
    )
    constants: dict[tuple[UnitKey | None, int, int], bool] = field(default_factory=dict)
    # What the unit read of the module: ("global", name) or ("member", class unit, name) ->
    # the units binding it then, and their faces; and the project modules it used, by
    # path and stamp.
    reads: dict[tuple[Any, ...], Binders] = field(default_factory=dict)
    modules: dict[str, object] = field(default_factory=dict)
    # The units whose functions' bodies it ran (or used a summary of): what it read of the
    # others is their faces only (see `ModuleEvaluator.face_of`).
    entered: set[UnitKey] = field(default_factory=set)
    exhausted: bool = False

    def merge_dependencies(self, other: Bucket) -> None:
        for read, binders in other.reads.items():
            self.reads.setdefault(read, binders)
        self.entered |= other.entered


@dataclass(frozen=True)
class UnitResult:
    """A unit's findings and what they depend on, kept by the editor between edits."""

    key: UnitKey
    bucket: Bucket
    context: tuple[Any, ...]  # the module's frameworks and settings
    mode: str = "run"  # how it was run (`ModuleEvaluator.mode_of`)

    def valid(self, evaluator: ModuleEvaluator) -> bool:
        if self.context != evaluator.context:
            return False
        if self.mode != evaluator.mode_of(self.key):
            return False
        bucket = self.bucket
        for read, (keys, faces) in bucket.reads.items():
            now = evaluator.binders_of(read)
            if now == keys:
                continue
            # A function only read (passed on, decorated, not called): its body's edits
            # change nothing here; its signature's and decorators' do.
            # Entering its own function does not count: the unit's own text is unchanged
            # (it is looked up by it), and it is one of the binders of what it changes.
            if bucket.exhausted or not (bucket.entered - {self.key}).isdisjoint(keys):
                return False
            if tuple(evaluator.face_of(key) for key in now) != faces:
                return False
        return all(evaluator.stamp_of(path) == stamp for path, stamp in self.bucket.modules.items())


class LazyGlobals(dict):  # type: ignore[type-arg]
    """The analysed module's globals: each is evaluated when first read."""

    def __init__(self, evaluator: ModuleEvaluator) -> None:
        super().__init__()
        self.evaluator = evaluator

    def get(self, name: str, default: Value | None = None) -> Value | None:  # type: ignore[override]
        self.evaluator.record(("global", name))
        if dict.__contains__(self, name):
            return dict.__getitem__(self, name)
        value = self.evaluator.final_global(name)
        if value is None:
            return default
        dict.__setitem__(self, name, value)
        return value


class LazyNamespace(dict):  # type: ignore[type-arg]
    """A class's body names, evaluated from its member statements when first looked up."""

    def __init__(self, evaluator: ModuleEvaluator, statement: Stmt) -> None:
        super().__init__()
        self.evaluator = evaluator
        self.statement = statement

    def _resolve(self, name: str) -> bool:
        self.evaluator.record(("member", self.statement.unit.key, self.statement.order, name))
        if dict.__contains__(self, name):
            return True
        value = self.evaluator.final_member(self.statement, name)
        if value is None:
            return False
        dict.__setitem__(self, name, value)
        return True

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._resolve(name)

    def __getitem__(self, name: str) -> Value:
        if not self._resolve(name):
            raise KeyError(name)
        return dict.__getitem__(self, name)

    def get(self, name: str, default: Value | None = None) -> Value | None:  # type: ignore[override]
        return dict.__getitem__(self, name) if self._resolve(name) else default

    def setdefault(self, name: str, default: Value) -> Value:  # type: ignore[override]
        if dict.__contains__(self, name):
            return dict.__getitem__(self, name)
        dict.__setitem__(self, name, default)
        return default

    def items(self):  # type: ignore[no-untyped-def]
        for member in self.statement.members:
            for name in member.shape.writes:
                self._resolve(name)
        return dict.items(self)


class ModuleEvaluator:
    """The analysed module's statements, evaluated on demand by one interpreter."""

    def __init__(
        self,
        interpreter: Interpreter,
        units: list[Unit],
        scope: ModuleScope,
        context: tuple[Any, ...],
        stamp: Callable[[str], object],
    ) -> None:
        self.interpreter = interpreter
        self.units = units
        self.scope = scope
        self.context = context
        self.module_stamp = stamp
        # Looked up once per analysis: every kept unit's results are checked against them.
        self._stamps: dict[str, object] = {}
        self._binder_keys: dict[tuple[Any, ...], tuple[UnitKey, ...]] = {}
        self._trees: dict[UnitKey, list[ast.stmt]] = {}
        self.statements: list[Stmt] = []
        self._binders: dict[str, list[Stmt]] = {}
        self._member_binders: dict[tuple[UnitKey, int], dict[str, list[Stmt]]] = {}
        self._outputs: dict[int, dict[str, Value]] = {}
        self._running: set[int] = set()
        self._ran: dict[int, Bucket] = {}  # what running a statement read and entered
        self._by_key = {unit.key: unit for unit in units}
        self._faces: dict[UnitKey, object] = {}
        self._defined: dict[int, list[Definition]] = {}
        self.buckets: dict[UnitKey, Bucket] = {}
        self.current: Bucket | None = None
        self._lines: dict[UnitKey, list[str]] = {}
        self._build()
        self.interesting = self._interesting()

    # -- structure ----------------------------------------------------------------------

    def _build(self) -> None:
        by_key = {unit.key: unit for unit in self.units}
        classes: dict[UnitKey, Stmt] = {}
        for unit in self.units:
            owner = classes.get(unit.owner) if unit.owner is not None else None
            for index, shape in enumerate(unit.shapes):
                if owner is not None:
                    statement = Stmt(unit, index, shape, len(owner.members), owner)
                    owner.members.append(statement)
                    binders = self._member_binders.setdefault((owner.unit.key, owner.order), {})
                    for name in shape.writes:
                        binders.setdefault(name, []).append(statement)
                    continue
                statement = Stmt(unit, index, shape, len(self.statements))
                self.statements.append(statement)
                for name in shape.writes:
                    self._binders.setdefault(name, []).append(statement)
                if shape.is_class:
                    classes[unit.key] = statement
        del by_key

    def _interesting(self) -> set[UnitKey]:
        """Units whose code can find something: they name a source, a request handler's
        decorator, a cookie or setting the catalogue judges, a call bandit judges by its
        argument, or a project module; and those that use what such a unit defines. The
        others cannot reach a source, so their functions are not run on their own (they
        still run when an interesting one calls them)."""
        names: set[str] = set()
        decorators: set[str] = set()
        for handler in self.scope.handlers:  # frameworks the module imports
            decorators.update(handler.decorators)
            if handler.request_parameter:
                names.add(handler.request_parameter)
            names.update(a.rpartition(".")[2] for a in handler.request_annotations)
        marks = (frozenset(names), frozenset(decorators))
        seeds: set[UnitKey] = set()  # what uses their definitions is interesting too
        alone: set[UnitKey] = set()  # interesting themselves only
        owners: dict[UnitKey, UnitKey] = {u.key: u.owner for u in self.units if u.owner}
        for unit in self.units:
            for shape in unit.shapes:
                seed, by_itself = self._shape_marks(shape, marks)
                if seed or any(
                    self.interpreter.catalogue.imports_source(module) or self._local_import(module)
                    for module in shape.imports
                ):
                    seeds.add(unit.key)
                elif by_itself:
                    alone.add(unit.key)
        self.alone = alone - seeds
        # The closure: a unit reading what a seed binds (or a member of a seed class) is
        # one too. Each pass looks at the units not yet in, with every name bound so far.
        bound: set[str] = set()
        for unit in self.units:
            if unit.key in seeds:
                for shape in unit.shapes:
                    bound |= shape.writes
        pending = [unit for unit in self.units if unit.key not in seeds]
        while pending:
            rest = []
            added = []
            for unit in pending:
                owner = owners.get(unit.key)
                if (owner is not None and owner in seeds) or any(
                    not shape.identifiers.isdisjoint(bound) for shape in unit.shapes
                ):
                    added.append(unit)
                else:
                    rest.append(unit)
            if not added:
                break
            for unit in added:
                seeds.add(unit.key)
                for shape in unit.shapes:
                    bound |= shape.writes
            pending = rest
        return seeds | alone

    def _shape_marks(
        self, shape: Shape, marks: tuple[frozenset[str], frozenset[str]]
    ) -> tuple[bool, bool]:
        """Whether a statement names a source or handler (a seed), and whether it holds a
        judged call or a local marker (interesting by itself); the same for the same shape
        under the same frameworks, so kept across analyses (imports are looked at apart:
        the project's modules can change)."""
        catalogue = self.interpreter.catalogue
        kept = catalogue.shape_marks
        key = (shape, marks)
        known = kept.get(key)
        if known is not None:
            return known
        local_markers, markers = catalogue.markers
        names, decorators = marks
        seed = bool(
            shape.identifiers & names
            or shape.dotted & markers
            or shape.identifiers & markers
            or shape.called & catalogue.source_builtins
            or shape.decorators & decorators
            or shape.decorators & catalogue.source_bases
        )
        found = (seed, bool(shape.judged or shape.dotted & local_markers))
        if len(kept) > _KEPT_SHAPES:  # no more than `_SHAPES` keeps, mostly the same ones
            kept.clear()
        kept[key] = found
        return found

    def _marked(self, definition: Definition, unit: Unit) -> bool:
        """Whether a function itself names a local source or a call bandit judges."""
        key = (unit.key, definition.node.lineno)
        known = _MARKS.get(key)
        if known is not None:
            return known
        node = definition.node
        lines = self._lines.get(unit.key)
        if lines is None:
            lines = self._lines[unit.key] = unit.text.split("\n")
        first = node.lineno - unit.base - 1
        last = (node.end_lineno or node.lineno) - unit.base
        text = "\n".join(lines[max(first, 0) : last])
        marked = judged(text) or self.interpreter.catalogue.mentions_local(text)
        if len(_MARKS) > _KEPT_SHAPES:
            _MARKS.clear()
        _MARKS[key] = marked
        return marked

    def _local_import(self, module: str) -> bool:
        """Whether the module is the project's own and names a source (so what it returns
        may be untrusted)."""
        project = self.interpreter.project
        if project is None:
            return False
        absolute = self.interpreter.absolute_module(
            module.lstrip("."), len(module) - len(module.lstrip(".")), Frame(self.scope, None, {})
        )
        return project.mentions_sources(absolute, self.interpreter.catalogue.source_words)

    def statements_of(self, unit: Unit) -> list[ast.stmt]:
        tree = self._trees.get(unit.key)
        if tree is None:
            tree = unit.parse()
            self._trees[unit.key] = tree
        return tree

    def binders_of(self, read: tuple[Any, ...]) -> tuple[UnitKey, ...]:
        keys = self._binder_keys.get(read)
        if keys is None:
            if read[0] == "global":
                keys = tuple(s.unit.key for s in self._binders.get(read[1], ()))
            else:
                _, key, order, name = read
                binders = self._member_binders.get((key, order), {})
                keys = tuple(s.unit.key for s in binders.get(name, ()))
            self._binder_keys[read] = keys
        return keys

    def stamp_of(self, path: str) -> object:
        """A project module's stamp (`module_stamp`), read once per analysis."""
        if path not in self._stamps:
            self._stamps[path] = self.module_stamp(path)
        return self._stamps[path]

    def record(self, read: tuple[Any, ...]) -> None:
        if self.current is not None and read not in self.current.reads:
            keys = self.binders_of(read)
            self.current.reads[read] = (keys, tuple(self.face_of(key) for key in keys))

    def face_of(self, key: UnitKey) -> object:
        """What code reading a unit's binding without running a function of it sees: a
        def's decorators and signature; any other unit's whole text (its key)."""
        face = self._faces.get(key)
        if face is None:
            unit = self._by_key.get(key)
            shapes = unit.shapes if unit is not None else ()
            if unit is not None and len(shapes) == 1 and shapes[0].header_lines:
                face = (
                    "def",
                    *unit.text.split("\n", shapes[0].header_lines)[: shapes[0].header_lines],
                )
            else:
                face = key
            self._faces[key] = face
        return face

    def mode_of(self, key: UnitKey) -> str:
        """How a unit is run: not at all, for its marked functions only, or in full."""
        if key not in self.interesting:
            return "skipped"
        return "alone" if key in self.alone else "run"

    def entered(self, anchor: Anchor | None) -> None:
        """A function of the unit `anchor` names ran (or its summary was used)."""
        if anchor is not None and self.current is not None:
            self.current.entered.add(anchor.key)

    # -- values ---------------------------------------------------------------------------

    def final_global(self, name: str) -> Value | None:
        return self._value(self._binders.get(name, ()), name, None)

    def final_member(self, statement: Stmt, name: str) -> Value | None:
        binders = self._member_binders.get((statement.unit.key, statement.order), {})
        return self._value(binders.get(name, ()), name, None)

    def _value(self, binders: Iterable[Stmt], name: str, before: Stmt | None) -> Value | None:
        """The value `name` has after the binders (those before `before`, if given)."""
        value: Value | None = None
        for binder in binders:
            if before is not None and binder.order >= before.order:
                break
            outputs = self.run(binder)
            if name in outputs:
                value = outputs[name]
        return value

    def run(self, statement: Stmt) -> dict[str, Value]:
        """A module- or class-level statement's bindings, running it once per analysis."""
        key = id(statement)
        done = self._outputs.get(key)
        if done is not None:
            self._merge_ran(key)
            return done
        if key in self._running:
            return {}  # a statement that needs itself (a decorator naming its own function)
        if len(self._running) >= MAX_LAZY_DEPTH:
            # Statements needing statements needing statements...: given up, not kept.
            if self.current is not None:
                self.current.exhausted = True
            return {}
        self._running.add(key)
        interpreter = self.interpreter
        outer, self.current = self.current, self._bucket(statement.unit.key)
        saved = interpreter.enter_context()
        reads_before = dict(self.current.reads)
        entered_before = set(self.current.entered)
        try:
            outputs = self._execute(statement)
        finally:
            interpreter.leave_context(saved)
            reads = {k: v for k, v in self.current.reads.items() if k not in reads_before}
            entered = self.current.entered - entered_before
            self._ran[key] = Bucket(reads=reads, entered=entered, exhausted=self.current.exhausted)
            self.current = outer
            self._running.discard(key)
        self._outputs[key] = outputs
        self._merge_ran(key)
        return outputs

    def _merge_ran(self, key: int) -> None:
        """What running a statement read, into the unit reading what it binds."""
        ran = self._ran.get(key)
        if self.current is not None and ran is not None:
            self.current.merge_dependencies(ran)
            self.current.exhausted = self.current.exhausted or ran.exhausted

    def _bucket(self, key: UnitKey) -> Bucket:
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = Bucket()
        return bucket

    def _execute(self, statement: Stmt) -> dict[str, Value]:
        interpreter = self.interpreter
        node = statement.node(self)
        anchor = statement.unit.anchor
        owner = statement.owner
        env: dict[str, Value] = {}
        class_definition = None
        if owner is not None:
            header = self.run(owner).get(owner.shape.name or "")
            class_definition = header.local if header is not None else None
            if class_definition is None:
                return {}
        for name in statement.shape.writes & statement.shape.reads:
            # Read here, not through the globals: recorded, so that a change of what binds
            # it (an import removed) makes this unit's results out of date.
            if owner is None:
                self.record(("global", name))
                earlier = self._value(self._binders.get(name, ()), name, statement)
            else:
                self.record(("member", owner.unit.key, owner.order, name))
                binders = self._member_binders.get((owner.unit.key, owner.order), {})
                earlier = self._value(binders.get(name, ()), name, statement)
            if earlier is not None:
                env[name] = earlier
        frame = Frame(self.scope, None, env, class_definition=class_definition, anchor=anchor)
        interpreter.budget = MODULE_BUDGET
        self._defined[id(statement)] = defined = []
        previous, interpreter.defining = interpreter.defining, defined
        try:
            if isinstance(node, ast.ClassDef):
                end = interpreter.define_class_lazily(node, frame, self, statement)
            else:
                end = interpreter.run_block([node], env, frame)
        finally:
            interpreter.defining = previous
        final = end if end is not None else frame.env
        return {name: value for name, value in final.items() if name in statement.shape.writes}

    # -- the analysis ---------------------------------------------------------------------

    def run_unit(self, unit: Unit) -> Bucket:
        """Everything one unit finds: its statements at module level, then its functions."""
        bucket = self._bucket(unit.key)
        if unit.key not in self.interesting:
            return bucket
        outer, self.current = self.current, bucket
        try:
            for statement in self._statements_in(unit):
                self.run(statement)
                alone = unit.key in self.alone
                for definition in self._defined.get(id(statement), ()):
                    if alone and not self._marked(definition, unit):
                        continue  # a unit interesting for one function only: the others
                    # Marked only by a local source or a judged call: its own statements
                    # say enough (constants, direct flows); its calls are not followed.
                    shallow = alone or self.interpreter.options.shallow
                    self.interpreter.run_entry_group(definition, statement.unit.anchor, shallow)
        finally:
            self.current = outer
        return bucket

    def _statements_in(self, unit: Unit) -> Iterator[Stmt]:
        for statement in self.statements:
            if statement.unit is unit:
                yield statement
            for member in statement.members:
                if member.unit is unit:
                    yield member


def absolute(where: Where, firsts: dict[UnitKey, int]) -> Where:
    """A position relative to its unit, in document lines (other modules' as they are)."""
    if where.path is not None or where.anchor is None:
        return where
    first = firsts.get(where.anchor)
    if first is None:
        return where
    return Where(
        where.line + first, where.column, where.end_line + first, where.end_column, None, None
    )
