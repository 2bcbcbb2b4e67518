"""One module file's own names, read with `ast` (never imported).

Every module-level binding is collected from every branch (`if`, `try`, loops, `with`), plus
names functions declare `global`, strings listed in `__all__`, and the members of an enum
the module copies into its namespace (`globals().update(RegexFlag.__members__)`, as `re`
does). Star imports and import aliases are recorded for `clearsight.deps.api` to follow.
A module that makes names in ways a reader cannot follow is *open* (see `open_reason`).
Summaries are cached per file path, re-read when the file's mtime or size changes.
"""

from __future__ import annotations

import ast
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from clearsight import disk_view

_NAMESPACE_WRITERS = frozenset({"globals", "locals", "vars"})
# Calls that receive `globals()` and only read it.
_GLOBALS_READERS = frozenset({"__import__", "eval", "dict", "list", "sorted", "len"})
_GLOBALS_WRITE_METHODS = frozenset({"update", "setdefault", "__setitem__", "pop", "clear"})


@dataclass(frozen=True)
class ImportTarget:
    """Where a name bound by an import points: `from <level dots><module> import <name>`,
    or `import <module>` (name None)."""

    level: int
    module: str
    name: str | None = None


@dataclass(frozen=True)
class FileSummary:
    names: frozenset[str]
    # Names bound only by imports, with what they may point to (a module, or a member).
    imported: dict[str, tuple[ImportTarget, ...]]
    stars: tuple[tuple[ImportTarget, bool], ...]  # (target, guarded by if/try)
    open_reason: str | None


@dataclass
class _Collector:
    names: set[str] = field(default_factory=set)
    other: set[str] = field(default_factory=set)  # bound by something else than an import
    imported: dict[str, list[ImportTarget]] = field(default_factory=dict)
    stars: list[tuple[ImportTarget, bool]] = field(default_factory=list)
    classes: dict[str, ast.ClassDef] = field(default_factory=dict)
    member_classes: list[str] = field(default_factory=list)  # globals().update(C.__members__)
    setattr_targets: set[str] = field(default_factory=set)  # setattr(<name>, ...)
    open_reason: str | None = None

    def bind(self, name: str) -> None:
        self.names.add(name)
        self.other.add(name)

    def bind_import(self, name: str, target: ImportTarget) -> None:
        self.names.add(name)
        self.imported.setdefault(name, []).append(target)

    def open(self, reason: str) -> None:
        if self.open_reason is None:
            self.open_reason = reason


def _statement_blocks(node: ast.stmt) -> Iterator[list[ast.stmt]]:
    """Statement lists nested in a module-level compound statement (not defs or classes)."""
    for name in ("body", "orelse", "finalbody"):
        block = getattr(node, name, None)
        if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
            yield block
    for handler in getattr(node, "handlers", ()):
        yield handler.body
    for case in getattr(node, "cases", ()):
        yield case.body


def _bind_targets(node: ast.AST, found: _Collector) -> None:
    """Names an expression or pattern binds (assignment targets, walrus, match captures)."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store | ast.Del):
            found.bind(sub.id)
        elif isinstance(sub, ast.MatchAs | ast.MatchStar) and sub.name:
            found.bind(sub.name)
        elif isinstance(sub, ast.MatchMapping) and sub.rest:
            found.bind(sub.rest)
        elif isinstance(sub, ast.ExceptHandler) and sub.name:
            found.bind(sub.name)


def _collect_import(node: ast.Import | ast.ImportFrom, guarded: bool, found: _Collector) -> None:
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.asname:
                found.bind_import(alias.asname, ImportTarget(0, alias.name))
            else:
                top = alias.name.split(".")[0]
                found.bind_import(top, ImportTarget(0, top))
        return
    for alias in node.names:
        target = ImportTarget(node.level, node.module or "", alias.name)
        if alias.name == "*":
            found.stars.append((ImportTarget(node.level, node.module or ""), guarded))
        else:
            found.bind_import(alias.asname or alias.name, target)


def _collect_block(statements: list[ast.stmt], guarded: bool, found: _Collector) -> None:
    for node in statements:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            found.bind(node.name)
            if isinstance(node, ast.ClassDef):
                found.classes[node.name] = node
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            _collect_import(node, guarded, found)
            continue
        _bind_targets(node, found) if not _is_compound(node) else _bind_headers(node, found)
        for block in _statement_blocks(node):
            _collect_block(block, True, found)


def _is_compound(node: ast.stmt) -> bool:
    return any(True for _ in _statement_blocks(node))


def _bind_headers(node: ast.stmt, found: _Collector) -> None:
    for child in ast.iter_child_nodes(node):
        if not isinstance(child, ast.stmt):
            _bind_targets(child, found)


def _is_namespace_call(node: ast.expr) -> bool:
    """`globals()`, `locals()`, `vars()`: the module's namespace as a dict."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _NAMESPACE_WRITERS
        and not node.args
    )


def _is_sys_modules_of_self(node: ast.Subscript) -> bool:
    value, key = node.value, node.slice
    return (
        isinstance(value, ast.Attribute)
        and value.attr == "modules"
        and isinstance(value.value, ast.Name)
        and value.value.id == "sys"
        and isinstance(key, ast.Name)
        and key.id == "__name__"
    )


def _call_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else ""


def _namespace_write(call: ast.Call, found: _Collector) -> None:
    """A call that may add names to the module: `globals().update(...)`,
    `f(..., globals())`, enum `_convert_`."""
    name = _call_name(call)
    func = call.func
    if isinstance(func, ast.Attribute) and _is_namespace_call(func.value):
        if func.attr == "update" and _members_of_class(call, found):
            return
        if func.attr in _GLOBALS_WRITE_METHODS:
            found.open(f"it adds to its own namespace (`{name}` on `globals()`)")
    elif name in ("_convert_", "_convert"):
        found.open("an enum is converted into module attributes (`_convert_`)")
    elif name not in _GLOBALS_READERS and _passes_namespace(call):
        found.open(f"it hands its namespace to `{name or 'a call'}` (`globals()`)")


def _passes_namespace(call: ast.Call) -> bool:
    arguments = [*call.args, *(keyword.value for keyword in call.keywords)]
    return any(_is_namespace_call(argument) for argument in arguments)


def _members_of_class(call: ast.Call, found: _Collector) -> bool:
    """`globals().update(RegexFlag.__members__)`: the enum's members become module names."""
    if len(call.args) != 1 or call.keywords:
        return False
    argument = call.args[0]
    if (
        isinstance(argument, ast.Attribute)
        and argument.attr == "__members__"
        and isinstance(argument.value, ast.Name)
    ):
        found.member_classes.append(argument.value.id)
        return True
    return False


def _setattr_target(call: ast.Call, found: _Collector) -> None:
    if _call_name(call) == "setattr" and call.args and isinstance(call.args[0], ast.Name):
        found.setattr_targets.add(call.args[0].id)


def _scan_markers(tree: ast.Module, found: _Collector) -> None:
    """Everything in the file that writes the module's namespace by other means than a
    module-level binding (functions included)."""
    for node in tree.body:
        call = node.value if isinstance(node, ast.Expr) else None
        if isinstance(call, ast.Call) and _call_name(call) == "exec" and len(call.args) < 2:
            found.open("it runs `exec` in its own namespace")
    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            found.names.update(node.names)
            found.other.update(node.names)
        elif isinstance(node, ast.Call):
            _namespace_write(node, found)
            _setattr_target(node, found)
        elif isinstance(node, ast.Subscript):
            _subscript_marker(node, found)


def _subscript_marker(node: ast.Subscript, found: _Collector) -> None:
    if _is_sys_modules_of_self(node):
        found.open("it replaces or edits itself through `sys.modules[__name__]`")
    elif _is_namespace_call(node.value) and isinstance(node.ctx, ast.Store | ast.Del):
        found.open("it assigns names through `globals()[...]`")


def _names_all(targets: list[ast.expr]) -> bool:
    return any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets)


def _all_value(node: ast.stmt) -> ast.AST | None:
    """What a module-level statement assigns or adds to `__all__`, if it does."""
    if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return node.value if _names_all(targets) else None
    call = node.value if isinstance(node, ast.Expr) else None
    func = call.func if isinstance(call, ast.Call) else None
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return call if func.value.id == "__all__" else None  # __all__.extend([...])
    return None


def _all_names(tree: ast.Module) -> set[str]:
    """String literals assigned or added to `__all__` (names the module claims to have)."""
    names: set[str] = set()
    for node in tree.body:
        value = _all_value(node)
        if value is not None:
            names.update(
                sub.value
                for sub in ast.walk(value)
                if isinstance(sub, ast.Constant) and isinstance(sub.value, str)
            )
    return names


def _class_members(found: _Collector) -> None:
    for name in found.member_classes:
        node = found.classes.get(name)
        if node is None:
            found.open(f"it adds the members of `{name}` to its namespace")
            continue
        for statement in node.body:
            if isinstance(statement, ast.Assign | ast.AnnAssign | ast.AugAssign):
                _bind_targets(statement, found)


def summarize(tree: ast.Module, own_name: str | None = None) -> FileSummary:
    """One module file's own names (before star imports and submodules are added).
    `own_name`: the module's last name component (`dtypes` for numpy/dtypes.py)."""
    found = _Collector()
    _collect_block(tree.body, False, found)
    _scan_markers(tree, found)
    _class_members(found)
    found.names.update(_all_names(tree))
    if "__getattr__" in found.names:
        found.open("it defines a module-level `__getattr__` (names are made on demand)")
    if own_name is not None and own_name in found.setattr_targets:
        # `from numpy import dtypes; setattr(dtypes, name, ...)` inside numpy/dtypes.py
        found.open("it sets attributes on itself with `setattr`")
    imported = {
        name: tuple(targets) for name, targets in found.imported.items() if name not in found.other
    }
    return FileSummary(frozenset(found.names), imported, tuple(found.stars), found.open_reason)


# Generated modules larger than this are not parsed (their names stay unknown).
MAX_MODULE_BYTES = 4_000_000
_TOO_LARGE = FileSummary(frozenset(), {}, (), "its source is too large to read")
_UNREADABLE = FileSummary(frozenset(), {}, (), "its source could not be read or parsed")
COMPILED_SUMMARY = FileSummary(
    frozenset(), {}, (), "it is a compiled extension module without a stub"
)
NAMESPACE_SUMMARY = FileSummary(frozenset(), {}, (), None)  # a namespace package: its submodules


class _SummaryCache:
    """File summaries by path, re-read when the file's mtime or size changes."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[tuple[int, int], FileSummary]] = {}
        self._lock = threading.Lock()

    def get(self, path: str) -> tuple[tuple[int, int], FileSummary]:
        try:
            status = os.stat(path)
        except OSError:
            return (-1, -1), _UNREADABLE
        stamp = (status.st_mtime_ns, status.st_size)
        cached = self._cache.get(path)
        if cached is not None and cached[0] == stamp:
            return cached
        summary = _read_summary(path)
        with self._lock:
            self._cache[path] = (stamp, summary)
        return stamp, summary


def _read_summary(path: str) -> FileSummary:
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_MODULE_BYTES + 1)
        if len(data) > MAX_MODULE_BYTES:
            return _TOO_LARGE
        tree = ast.parse(data, filename=path)
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return _UNREADABLE
    base = os.path.basename(path).split(".")[0]
    own = os.path.basename(os.path.dirname(path)) if base == "__init__" else base
    return summarize(tree, own)


SUMMARIES = _SummaryCache()


def file_stamp(path: str) -> tuple[int, int]:
    status = disk_view.stat(path)
    return (-1, -1) if status is None else (status.st_mtime_ns, status.st_size)
