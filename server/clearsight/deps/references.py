"""The module attributes a file uses: `from m import name`, `m.name`, `m.sub.name(...)`.

Only names bound by imports and by nothing else anywhere in the file are followed (a name
that is also assigned, a parameter, a loop variable… may not be the module). Uses the code
is written to survive are left out: inside `try:` bodies that catch AttributeError,
ImportError (or anything broader), and under tests of `hasattr`/`getattr`, the Python
version, the platform or `TYPE_CHECKING`. Assigning a module attribute (`m.name = …`,
`setattr(m, …)`) makes that module's names the file's business: none of its uses are
judged.

Facts are collected per top-level statement and cached by the statement's text, so that
after an edit only the statements that changed are walked again.
"""

from __future__ import annotations

import ast
import threading
from dataclasses import dataclass, field, replace

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

    def shifted(self, lines: int) -> StatementFacts:
        if not lines:
            return self
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
    def __init__(self, first_line: int) -> None:
        self.first = first_line  # 1-based line of the statement: positions are relative
        self.facts = StatementFacts()

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


def statement_facts(node: ast.stmt) -> StatementFacts:
    """The facts of one top-level statement, positions relative to its first line."""
    walker = _Walker(node.lineno)
    try:
        walker.visit(node, False)
    except RecursionError:
        return StatementFacts(other={"*"})  # too deep to follow: judge nothing
    return walker.facts


@dataclass(frozen=True)
class FileUses:
    """What a file imports and which module attributes it uses."""

    modules: dict[str, frozenset[str]]  # name -> modules it is bound to (imports only)
    uses: tuple[AttributeUse, ...]
    from_imports: tuple[FromImport, ...]


class _StatementCache:
    """Facts by (statement text, columns): unchanged statements are not walked again."""

    def __init__(self, limit: int = 50_000) -> None:
        self._cache: dict[tuple[str, int, int], StatementFacts] = {}
        self._limit = limit
        self._lock = threading.Lock()

    def get(self, source: SourceText, node: ast.stmt) -> tuple[int, StatementFacts]:
        """The statement's facts, positions relative to its first line, and the 0-based
        line that is (shifting is left to the caller, for the uses it keeps)."""
        first = node.lineno
        decorators = getattr(node, "decorator_list", None)
        if decorators:
            first = min(first, *(d.lineno for d in decorators))
        last = node.end_lineno or node.lineno
        text = "\n".join(source.lines[first - 1 : last])
        key = (text, node.col_offset, node.end_col_offset or 0)
        facts = self._cache.get(key)
        if facts is None:
            facts = statement_facts(node).shifted(node.lineno - first)
            with self._lock:
                if len(self._cache) >= self._limit:
                    self._cache.clear()
                self._cache[key] = facts
        return first - 1, facts


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


def _shift(use: AttributeUse, lines: int) -> AttributeUse:
    return AttributeUse(use.root, use.attrs, tuple((line + lines, c) for line, c in use.ends))


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
    parts = [STATEMENTS.get(source, node) for node in tree.body]
    modules = _bindings(parts)
    if modules is None:
        return FileUses({}, (), ())
    uses = [
        _shift(use, offset) for offset, facts in parts for use in facts.uses if use.root in modules
    ]
    froms = [
        replace(item, line=item.line + offset, end_line=item.end_line + offset)
        for offset, facts in parts
        for item in facts.from_imports
    ]
    return FileUses(modules, tuple(uses), tuple(froms))
