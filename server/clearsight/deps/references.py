"""The module attributes a file uses: `from m import name`, `m.name`, `m.sub.name(...)`.

Only names bound by imports and by nothing else anywhere in the file are followed (a name
that is also assigned, a parameter, a loop variable… may not be the module). Uses the code
is written to survive are left out: inside `try:` bodies that catch AttributeError,
ImportError (or anything broader), and under tests of `hasattr`/`getattr`, the Python
version, the platform or `TYPE_CHECKING`. Assigning a module attribute (`m.name = …`,
`setattr(m, …)`) makes that module's names the file's business: none of its uses are
judged.

Facts are collected per top-level statement and cached by the statement's text, so that
after an edit only the statements that changed are walked again; inside a statement, the
facts of each definition (a method) are cached by its text and whether it is guarded (the
walker keeps no scopes, so nothing else reaches them), so only the method an edit is in is
walked again. For the editor, `DocumentUses` finds a document's statements without parsing
the whole text, and after an edit inside one method parses that method alone.
"""

from __future__ import annotations

import ast
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from clearsight.segments import common_ends, top_level_segments
from clearsight.source import SourceText

_TOLERANT_ERRORS = frozenset(
    {"AttributeError", "ImportError", "ModuleNotFoundError", "NameError", "Exception",
     "BaseException"}
)  # fmt: skip
_EXPECTING = frozenset({"assertRaises", "assertRaisesRegex", "raises", "suppress"})
_GUARD_CALLS = frozenset({"hasattr", "getattr", "find_spec", "dir", "vars"})
_GUARD_ATTRIBUTES = frozenset({"version_info", "platform", "implementation", "hexversion"})
_GUARD_NAMES = frozenset(
    {"TYPE_CHECKING", "PY2", "PY3", "PYPY", "IS_WINDOWS", "WINDOWS", "platform", "IS_PYPY"}
)
# Strings a test compares with when it asks which Python or platform is running.
_GUARD_STRINGS = frozenset(
    {"CPython", "PyPy", "Jython", "IronPython", "GraalVM", "cpython", "pypy", "win32", "cygwin",
     "darwin", "linux", "nt", "posix", "java", "Windows", "Linux", "Darwin", "emscripten",
     "wasi", "ios", "android"}
)  # fmt: skip


@dataclass(frozen=True)
class AttributeUse:
    """`root.attrs[0].attrs[1]…` where `root` is a name an import binds."""

    root: str
    attrs: tuple[str, ...]
    # (0-based line, end UTF-8 byte column) of each attribute name, relative to the
    # statement's first line while cached.
    ends: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class FromImport:
    """`from module import name [as alias]`; a relative module keeps its leading dots."""

    module: str
    name: str
    alias: str | None
    line: int  # 0-based, relative while cached
    column: int  # UTF-8 bytes
    end_line: int
    end_column: int


@dataclass
class StatementFacts:
    bound: dict[str, set[str]] = field(default_factory=dict)  # name -> modules it may be
    other: set[str] = field(default_factory=set)  # names bound otherwise too
    assigned: set[str] = field(default_factory=set)  # roots of `m.x = …` / setattr(m, …)
    uses: list[AttributeUse] = field(default_factory=list)
    from_imports: list[FromImport] = field(default_factory=list)
    # `shifted` results by lines: a statement keeps its place across most edits, so each
    # edit would otherwise rebuild every use of the file at the same lines. (Two places:
    # a method's facts are shifted within its class and within the file.)
    _shifts: dict[int, StatementFacts] = field(default_factory=dict, compare=False, repr=False)

    def shifted(self, lines: int) -> StatementFacts:
        """The facts `lines` lines further down (the result is shared: never mutate it)."""
        if not lines:
            return self
        shifted = self._shifts.get(lines)
        if shifted is None:
            shifted = self._shift(lines)
            if len(self._shifts) >= 2:
                self._shifts.clear()
            self._shifts[lines] = shifted
        return shifted

    def _shift(self, lines: int) -> StatementFacts:
        # Plain constructors: dataclasses.replace costs five times as much, per use.
        uses = [
            AttributeUse(use.root, use.attrs, tuple((line + lines, col) for line, col in use.ends))
            for use in self.uses
        ]
        froms = [
            FromImport(
                item.module,
                item.name,
                item.alias,
                item.line + lines,
                item.column,
                item.end_line + lines,
                item.end_column,
            )
            for item in self.from_imports
        ]
        return StatementFacts(self.bound, self.other, self.assigned, uses, froms)


def _handler_names(handler: ast.ExceptHandler) -> set[str]:
    if handler.type is None:
        return {"BaseException"}
    nodes = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    names = set()
    for node in nodes:
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
    return names


def _expects_errors(node: ast.expr) -> bool:
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name | ast.Attribute):
        return False
    name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
    return name in _EXPECTING


def _guard_name(name: str) -> bool:
    # Flags in capitals (`PY2`, `NEW_TYPING`, `HAS_FORK`) are set from the version or the
    # platform; `hexversion` and `version_info` imported from sys are too.
    return name in _GUARD_NAMES or name in _GUARD_ATTRIBUTES or _is_flag(name)


def _guard_node(node: ast.AST) -> bool:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name | ast.Attribute):
        name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
        return name in _GUARD_CALLS
    if isinstance(node, ast.Attribute):
        return node.attr in _GUARD_ATTRIBUTES or node.attr in _GUARD_NAMES or node.attr == "name"
    if isinstance(node, ast.Name):
        return _guard_name(node.id)
    return isinstance(node, ast.Constant) and node.value in _GUARD_STRINGS


def _is_flag(name: str) -> bool:
    return len(name) > 1 and name.isupper() and any(c.isalpha() for c in name)


def _is_guard_test(test: ast.AST) -> bool:
    """A test on what exists: `hasattr`, the Python version, the platform…"""
    return any(_guard_node(node) for node in ast.walk(test))


def _chain(node: ast.Attribute) -> tuple[ast.expr, list[ast.Attribute]]:
    """The innermost value and the attribute nodes from the innermost outwards."""
    chain = [node]
    value = node.value
    while isinstance(value, ast.Attribute):
        chain.append(value)
        value = value.value
    chain.reverse()
    return value, chain


class _Walker:
    def __init__(self, first_line: int, lines: list[str] | None = None) -> None:
        self.first = first_line  # 1-based line of the statement: positions are relative
        self.facts = StatementFacts()
        # The source's lines: with them, the definitions inside the statement are walked
        # through `STATEMENTS`, so an edit in one method of a long class walks that method.
        self.lines = lines
        # The facts before each such definition, and the definition (`facts`: after the last).
        self.items: list[StatementFacts | _Slot] = []

    def _definition(self, node: ast.stmt, guarded: bool) -> bool:
        """Adds a nested definition's facts from the cache; False when there are no lines
        to key it by (the caller walks it). A definition's facts depend on its own text
        and on `guarded` only: the walker keeps no scopes."""
        if self.lines is None:
            return False
        first, walked = STATEMENTS.walked(self.lines, node, guarded)
        last = (node.end_lineno or node.lineno) - self.first
        self.items.extend((self.facts, _Slot(first + 1 - self.first, last, guarded, walked)))
        self.facts = StatementFacts()
        return True

    def walked(self) -> Walked:
        """What was walked: the facts, and the parts they combine."""
        items = (*self.items, self.facts)
        return Walked(_fold(items), items)

    def visit(self, node: ast.AST, guarded: bool) -> None:
        method = getattr(self, "_" + type(node).__name__, None)
        if method is not None:
            method(node, guarded)
            return
        self._children(node, guarded)

    def _children(self, node: ast.AST, guarded: bool) -> None:
        for child in ast.iter_child_nodes(node):
            self.visit(child, guarded)

    def _bind_other(self, name: str) -> None:
        self.facts.other.add(name)

    # -- bindings -------------------------------------------------------------------------

    def _Import(self, node: ast.Import, guarded: bool) -> None:
        for alias in node.names:
            if alias.asname:
                # `import a.b as c` binds getattr(a, "b") (Python 3.7+), like a `from`.
                parent, dot, last = alias.name.rpartition(".")
                target = f"{parent}:{last}" if dot else alias.name
                self.facts.bound.setdefault(alias.asname, set()).add(target)
            else:
                top = alias.name.split(".")[0]
                self.facts.bound.setdefault(top, set()).add(top)

    def _ImportFrom(self, node: ast.ImportFrom, guarded: bool) -> None:
        for alias in node.names:
            if alias.name == "*":
                continue
            local = alias.asname or alias.name
            # Relative modules keep their dots ("..utils"): the file's package is applied
            # later (`absolute`), so that cached facts do not depend on where the file is.
            module = "." * node.level + (node.module or "")
            # "module:name": the name is looked up in the module first, as `from` does
            # (a class `Token` in antlr4/__init__ hides the submodule antlr4.Token).
            self.facts.bound.setdefault(local, set()).add(f"{module}:{alias.name}")
            if not guarded:
                self.facts.from_imports.append(self._from_import(module, alias))

    def _from_import(self, module: str, alias: ast.alias) -> FromImport:
        return FromImport(
            module, alias.name, alias.asname,
            alias.lineno - self.first, alias.col_offset,
            (alias.end_lineno or alias.lineno) - self.first, alias.end_col_offset or 0,
        )  # fmt: skip

    def _Name(self, node: ast.Name, guarded: bool) -> None:
        if not isinstance(node.ctx, ast.Load):
            self._bind_other(node.id)

    def _arguments(self, node: ast.arguments, guarded: bool) -> None:
        every = [*node.posonlyargs, *node.args, *node.kwonlyargs]
        every.extend(arg for arg in (node.vararg, node.kwarg) if arg is not None)
        for arg in every:
            self._bind_other(arg.arg)
        self._children(node, guarded)

    def _FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef, guarded: bool) -> None:
        if not self._definition(node, guarded):
            self.function(node, guarded)

    def function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, guarded: bool) -> None:
        """The return annotation is skipped (see `_arg`); a decorator that tests the
        version or platform (`@skipif(sys.version_info < (3, 12))`) guards the body."""
        self._bind_other(node.name)
        for decorator in node.decorator_list:
            self.visit(decorator, guarded)
        self.visit(node.args, guarded)
        inner = guarded or any(_is_guard_test(d) for d in node.decorator_list)
        for statement in node.body:
            self.visit(statement, inner)

    _AsyncFunctionDef = _FunctionDef

    def _ClassDef(self, node: ast.ClassDef, guarded: bool) -> None:
        if not self._definition(node, guarded):
            self.class_(node, guarded)

    def class_(self, node: ast.ClassDef, guarded: bool) -> None:
        self._bind_other(node.name)
        inner = guarded or any(_is_guard_test(d) for d in node.decorator_list)
        for part in (*node.decorator_list, *node.bases, *node.keywords):
            self.visit(part, guarded)
        for statement in node.body:
            self.visit(statement, inner)

    def _arg(self, node: ast.arg, guarded: bool) -> None:
        """Annotations are for type checkers, which know stub-only names
        (`warnings._ActionKind`); they are not judged."""

    def _AnnAssign(self, node: ast.AnnAssign, guarded: bool) -> None:
        self.visit(node.target, guarded)
        if node.value is not None:
            self.visit(node.value, guarded)

    def _Global(self, node: ast.Global | ast.Nonlocal, guarded: bool) -> None:
        for name in node.names:
            self._bind_other(name)

    _Nonlocal = _Global

    def _ExceptHandler(self, node: ast.ExceptHandler, guarded: bool) -> None:
        if node.name:
            self._bind_other(node.name)
        self._children(node, guarded)

    def _MatchAs(self, node: ast.MatchAs | ast.MatchStar, guarded: bool) -> None:
        if node.name:
            self._bind_other(node.name)
        self._children(node, guarded)

    _MatchStar = _MatchAs

    def _MatchMapping(self, node: ast.MatchMapping, guarded: bool) -> None:
        if node.rest:
            self._bind_other(node.rest)
        self._children(node, guarded)

    # -- guards ---------------------------------------------------------------------------

    def _Try(self, node: ast.Try, guarded: bool) -> None:
        tolerant = any(_handler_names(h) & _TOLERANT_ERRORS for h in node.handlers)
        for statement in node.body:
            self.visit(statement, guarded or tolerant)
        for handler in node.handlers:
            # A handler for ImportError or AttributeError is the fallback for other
            # versions (`from collections import Mapping` after `collections.abc` failed).
            self.visit(handler, guarded or bool(_handler_names(handler) & _TOLERANT_ERRORS))
        for part in (*node.orelse, *node.finalbody):
            self.visit(part, guarded)

    _TryStar = _Try

    def _If(self, node: ast.If | ast.While | ast.IfExp, guarded: bool) -> None:
        self._children(node, guarded or _is_guard_test(node.test))

    _While = _If
    _IfExp = _If

    def _With(self, node: ast.With | ast.AsyncWith, guarded: bool) -> None:
        """`with self.assertRaises(AttributeError):`, `pytest.raises(...)`, `suppress(...)`:
        failures in the body are expected or tolerated."""
        expecting = any(_expects_errors(item.context_expr) for item in node.items)
        self._children(node, guarded or expecting)

    _AsyncWith = _With

    def _BoolOp(self, node: ast.BoolOp, guarded: bool) -> None:
        self._children(node, guarded or _is_guard_test(node))

    # -- uses -----------------------------------------------------------------------------

    def _Call(self, node: ast.Call, guarded: bool) -> None:
        func = node.func
        if isinstance(func, ast.Name) and func.id in ("setattr", "delattr") and node.args:
            target = node.args[0]
            if isinstance(target, ast.Name):
                self.facts.assigned.add(target.id)
        self._children(node, guarded)

    def _Attribute(self, node: ast.Attribute, guarded: bool) -> None:
        root, chain = _chain(node)
        if not isinstance(root, ast.Name):
            self.visit(root, guarded)
            return
        if not isinstance(node.ctx, ast.Load):
            self.facts.assigned.add(root.id)
            return
        if guarded:
            return
        ends = tuple(
            ((item.end_lineno or item.lineno) - self.first, item.end_col_offset or 0)
            for item in chain
        )
        self.facts.uses.append(AttributeUse(root.id, tuple(a.attr for a in chain), ends))


def statement_facts(node: ast.stmt, lines: list[str] | None = None) -> StatementFacts:
    """The facts of one top-level statement, positions relative to its first line
    (decorators included). `lines`: the source's lines, to reuse the facts of the
    definitions inside it."""
    return _top_level(node, lines).facts


def _top_level(node: ast.stmt, lines: list[str] | None) -> Walked:
    try:
        return _walk(node, False, lines)
    except RecursionError:
        return Walked(StatementFacts(other={"*"}), ())  # too deep to follow: judge nothing


def _first_line(node: ast.stmt) -> int:
    """1-based first line of a statement, decorators included."""
    decorators = getattr(node, "decorator_list", None)
    return min(node.lineno, *(d.lineno for d in decorators)) if decorators else node.lineno


def _walk(node: ast.stmt, guarded: bool, lines: list[str] | None) -> Walked:
    """A statement walked (itself, not taken from the cache), positions relative to its
    first line."""
    walker = _Walker(_first_line(node), lines)
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        walker.function(node, guarded)
    elif isinstance(node, ast.ClassDef):
        walker.class_(node, guarded)
    else:
        walker.visit(node, guarded)
    return walker.walked()


@dataclass(frozen=True)
class _Slot:
    """A definition inside a statement, walked on its own: its lines relative to the
    statement's first line, and whether it is guarded there."""

    first: int
    last: int  # inclusive
    guarded: bool
    walked: Walked


@dataclass(frozen=True)
class Walked:
    """A statement's facts, and the parts they combine, in walking order: the facts
    between its definitions (relative to the statement) and the definitions."""

    facts: StatementFacts
    items: tuple[StatementFacts | _Slot, ...]

    def with_slot(self, index: int, slot: _Slot) -> Walked:
        items = (*self.items[:index], slot, *self.items[index + 1 :])
        return Walked(_fold(items), items)


def _fold(items: tuple[StatementFacts | _Slot, ...]) -> StatementFacts:
    """The facts of a statement from its parts, as one walk of it would have found them."""
    if len(items) == 1 and isinstance(items[0], StatementFacts):
        return items[0]
    out = StatementFacts()
    for item in items:
        facts, lines = (
            (item, 0) if isinstance(item, StatementFacts) else (item.walked.facts, item.first)
        )
        for name, modules in facts.bound.items():
            out.bound.setdefault(name, set()).update(modules)
        out.other |= facts.other
        out.assigned |= facts.assigned
        shifted = facts.shifted(lines)
        out.uses.extend(shifted.uses)
        out.from_imports.extend(shifted.from_imports)
    return out


@dataclass(frozen=True)
class FileUses:
    """What a file imports and which module attributes it uses."""

    modules: dict[str, frozenset[str]]  # name -> modules it is bound to (imports only)
    uses: tuple[AttributeUse, ...]
    from_imports: tuple[FromImport, ...]


class _StatementCache:
    """Facts by (statement text, columns, guarded): unchanged statements, and unchanged
    definitions inside a changed statement, are not walked again. The least recently used
    go first beyond `limit` (about 4 KiB each): enough for the documents being edited,
    which touch theirs on every edit (Django's 3,096-line `query.py` has 213), not for
    every file ever opened."""

    def __init__(self, limit: int = 1_500) -> None:
        self._cache: OrderedDict[tuple[str, int, int, bool], Walked] = OrderedDict()
        self._limit = limit
        self._lock = threading.Lock()

    def get(self, source: SourceText, node: ast.stmt) -> tuple[int, StatementFacts]:
        """A top-level statement's facts, positions relative to its first line, and the
        0-based line that is (shifting is left to the caller, for the uses it keeps)."""
        first, walked = self.top_level(source.lines, node)
        return first, walked.facts

    def top_level(self, lines: list[str], node: ast.stmt) -> tuple[int, Walked]:
        key = _key(lines, node, False)
        walked = self._lookup(key)
        if walked is None:
            walked = _top_level(node, lines)
            self._store(key, walked)
        return _first_line(node) - 1, walked

    def walked(self, lines: list[str], node: ast.stmt, guarded: bool) -> tuple[int, Walked]:
        """`top_level` for a definition inside a statement, walked with `guarded`
        (RecursionError is left to the top-level statement's walk)."""
        key = _key(lines, node, guarded)
        walked = self._lookup(key)
        if walked is None:
            walked = _walk(node, guarded, lines)
            self._store(key, walked)
        return _first_line(node) - 1, walked

    def _lookup(self, key: tuple[str, int, int, bool]) -> Walked | None:
        with self._lock:
            walked = self._cache.get(key)
            if walked is not None:
                self._cache.move_to_end(key)
            return walked

    def _store(self, key: tuple[str, int, int, bool], walked: Walked) -> None:
        with self._lock:
            self._cache[key] = walked
            self._cache.move_to_end(key)
            while len(self._cache) > self._limit:
                self._cache.popitem(last=False)


def _key(lines: list[str], node: ast.stmt, guarded: bool) -> tuple[str, int, int, bool]:
    """A statement's cache key: its lines (decorators included) and columns."""
    text = "\n".join(lines[_first_line(node) - 1 : node.end_lineno or node.lineno])
    return (text, node.col_offset, node.end_col_offset or 0, guarded)


STATEMENTS = _StatementCache()


def absolute(module: str, package: str | None) -> str | None:
    """`module` with its leading dots resolved against the file's package (`..utils` in
    package `a.b` is `a.utils`); None when the file is in no package deep enough. A
    `module:name` target keeps its `:name`."""
    module, colon, name = module.partition(":")
    if colon:
        found = absolute(module, package)
        return None if found is None else f"{found}:{name}"
    level = len(module) - len(module.lstrip("."))
    if level == 0:
        return module
    parts = package.split(".") if package else []
    if level > len(parts):
        return None
    base = ".".join(parts[: len(parts) - level + 1])
    rest = module[level:]
    return f"{base}.{rest}" if rest else base


def _bindings(parts: list[tuple[int, StatementFacts]]) -> dict[str, frozenset[str]] | None:
    """Names bound only by imports, with the modules each may be; None: judge nothing."""
    bound: dict[str, set[str]] = {}
    other: set[str] = set()
    for _, facts in parts:
        for name, modules in facts.bound.items():
            bound.setdefault(name, set()).update(modules)
        other |= facts.other | facts.assigned
    if "*" in other:
        return None
    return {name: frozenset(m) for name, m in bound.items() if name not in other}


def file_uses(source: SourceText) -> FileUses:
    """Module attribute uses in the source's tree (which must exist); positions absolute."""
    tree = source.tree
    if tree is None:
        raise ValueError("collecting attribute uses needs a syntax tree")
    return combine_uses([STATEMENTS.get(source, node) for node in tree.body])


class DocumentUses:
    """`file_uses` for the successive versions of one document, without parsing the whole
    text (which must parse). The first version's top-level statements are found without
    parsing (`top_level_segments`) and parsed one by one, once per distinct text. They are
    kept, so that after an edit that kept the line count and stayed inside one statement,
    only that statement is parsed and walked again, or, when the edit is inside one
    definition in it (a method of a long class) that still stands alone, that definition."""

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._statements: _Statements = ()  # first and last lines in the document
        self._lock = threading.Lock()

    def uses(self, source: SourceText) -> FileUses:
        lines = source.lines
        with self._lock:
            statements = None
            if self._statements:
                statements = _patched(self._lines, self._statements, lines)
            if statements is None:
                statements = _segment_statements(lines)
            if statements is None:
                self._lines, self._statements = [], ()
                return file_uses(source)
            self._lines, self._statements = lines, statements
        return combine_uses(
            [part for first, _, walked in statements for part in _parts(first, walked)]
        )


def _parts(first: int, walked: Walked) -> list[tuple[int, StatementFacts]]:
    """A top-level statement's facts as `combine_uses` takes them: definition by definition
    when it has parts, so that after an edit in one method the others keep their facts
    shifted to the same lines (`StatementFacts.shifted` remembers), not the whole class's."""
    if not any(isinstance(item, _Slot) for item in walked.items):
        return [(first, walked.facts)]
    return [
        (first + item.first, item.walked.facts) if isinstance(item, _Slot) else (first, item)
        for item in walked.items
    ]


def _patched(old_lines: list[str], old: _Statements, lines: list[str]) -> _Statements | None:
    """The statements of `lines`, an edit of `old_lines` that kept the line count and
    stayed in the lines of one statement: that statement, or the one definition in it the
    edit is in, parsed and walked alone. None when the edit is not one of those, or what
    was parsed does not stand alone as it stood before."""
    if len(old_lines) != len(lines):
        return None
    changed = _changed(old_lines, lines)
    if changed is None:
        return old
    for index, (first, last, walked) in enumerate(old):
        if first <= changed[0] and changed[1] <= last:
            new = _patched_statement(
                walked, old_lines[first : last + 1], lines[first : last + 1],
                (changed[0] - first, changed[1] - first),
            )  # fmt: skip
            return None if new is None else (*old[:index], (first, last, new), *old[index + 1 :])
    return None


def _changed(old: list[str], new: list[str]) -> tuple[int, int] | None:
    """The first and last lines that differ (lists of the same length), None if none."""
    prefix, suffix = common_ends(old, new)
    if prefix == len(new):
        return None
    return prefix, len(new) - 1 - suffix


def _patched_statement(
    walked: Walked, old_lines: list[str], lines: list[str], changed: tuple[int, int]
) -> Walked | None:
    """A top-level statement (its lines before and after the edit of lines `changed`,
    first and last) walked again: only the definition in it holding those lines if it
    still stands alone, else the statement parsed alone."""
    for number, item in enumerate(walked.items):
        if isinstance(item, _Slot) and item.first <= changed[0] and changed[1] <= item.last:
            slot = _reparsed(item, old_lines[item.first], lines[item.first : item.last + 1])
            if slot is not None:
                return walked.with_slot(number, slot)
            break
    return _reparsed_statement(lines)


def _reparsed_statement(lines: list[str]) -> Walked | None:
    """The top-level statement in `lines` walked, if they hold exactly that statement."""
    try:
        tree = ast.parse("\n".join(lines))
    except _PARSE_ERRORS:
        return None
    node = tree.body[0] if len(tree.body) == 1 else None
    if node is None or _first_line(node) != 1 or node.end_lineno != len(lines):
        return None
    return STATEMENTS.top_level(lines, node)[1]


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


_PARSE_ERRORS = (SyntaxError, ValueError, RecursionError, MemoryError)
_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _reparsed(slot: _Slot, old_first: str, lines: list[str]) -> _Slot | None:
    """The definition in `lines` (the slot's lines, edited) walked, if it still is one
    definition with the same lines and indentation, so everything around it is as it was."""
    indent = _indent(lines[0])
    if not indent or indent != _indent(old_first):
        return None
    framed = ["if 1:", *lines]
    node = _lone_definition(framed)
    if node is None:
        return None
    try:
        _, walked = STATEMENTS.walked(framed, node, slot.guarded)
    except RecursionError:
        return None
    return _Slot(slot.first, slot.last, slot.guarded, walked)


def _lone_definition(framed: list[str]) -> ast.stmt | None:
    """The definition `if 1:` holds, if it holds just one, on all the lines after it."""
    try:
        tree = ast.parse("\n".join(framed))
    except _PARSE_ERRORS:
        return None
    frame = tree.body[0] if len(tree.body) == 1 else None
    if not isinstance(frame, ast.If) or len(frame.body) != 1 or frame.orelse:
        return None
    node = frame.body[0]
    if not isinstance(node, _DEFINITIONS) or _first_line(node) != 2:
        return None
    return node if node.end_lineno == len(framed) else None


def combine_uses(parts: list[tuple[int, StatementFacts]]) -> FileUses:
    """The file's uses from the facts of its top-level statements, in order, each with
    the 0-based line its positions are relative to."""
    modules = _bindings(parts)
    if modules is None:
        return FileUses({}, (), ())
    placed = [facts.shifted(offset) for offset, facts in parts]
    uses = [use for facts in placed for use in facts.uses if use.root in modules]
    froms = [item for facts in placed for item in facts.from_imports]
    return FileUses(modules, tuple(uses), tuple(froms))


# The top-level statements of a segment: each with its 0-based first and last lines in the
# segment.
_Statements = tuple[tuple[int, int, Walked], ...]
# Segments that were joined with the next this many times without parsing: the text's
# statements cannot be told apart, so the whole text is parsed instead.
_MAX_JOINS = 64


class _SegmentCache:
    """The statements of a segment by its text (None: it does not parse alone), the least
    recently used dropped beyond a number of characters of text (about 15,000 lines)."""

    def __init__(self, limit: int = 600_000) -> None:
        self._cache: OrderedDict[str, _Statements | None] = OrderedDict()
        self._characters = 0
        self._limit = limit
        self._lock = threading.Lock()

    def parts(self, text: str) -> _Statements | None:
        with self._lock:
            if text in self._cache:
                self._cache.move_to_end(text)
                return self._cache[text]
        source = SourceText(text, path="<segment>")
        tree = source.tree
        found = None
        if tree is not None:
            found = tuple(
                (first, (node.end_lineno or node.lineno) - 1, walked)
                for node in tree.body
                for first, walked in (STATEMENTS.top_level(source.lines, node),)
            )
        self.put(text, found)
        return found

    def put(self, text: str, statements: _Statements | None) -> None:
        with self._lock:
            if text not in self._cache:
                self._characters += len(text)
            self._cache[text] = statements
            self._cache.move_to_end(text)
            while self._characters > self._limit and len(self._cache) > 1:
                dropped, _ = self._cache.popitem(last=False)
                self._characters -= len(dropped)


SEGMENTS = _SegmentCache()


def _segment_statements(lines: list[str]) -> _Statements | None:
    """The top-level statements of `lines` (first and last lines in `lines`), parsed
    segment by segment; None when they cannot be told apart without parsing the whole."""
    segments = top_level_segments(lines)
    found: list[tuple[int, int, Walked]] = []
    index = 0
    while index < len(segments):
        first, end = segments[index]
        parts = SEGMENTS.parts("\n".join(lines[first:end]))
        joined = 0
        while parts is None and joined < _MAX_JOINS and index + 1 < len(segments):
            index += 1
            end = segments[index][1]  # a column-0 line inside a statement: join the next
            parts = SEGMENTS.parts("\n".join(lines[first:end]))
            joined += 1
        if parts is None:
            return None
        found.extend((first + start, first + last, walked) for start, last, walked in parts)
        index += 1
    return tuple(found)
