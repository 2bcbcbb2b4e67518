"""Which names a module has, read from its source or stub files, never imported.

A module is located on a search path (the file's own folders, the environment's standard
library and site-packages) the way the import system would, without running finders:

- a `.py` source (or a package's `__init__.py`) is parsed and its module-level names are
  collected from every branch (`if`, `try`, loops, `with`), plus names functions declare
  `global`, names listed in `__all__`, submodules and the attributes every module has;
- an extension module or a built-in one is read from a stub: a `.pyi` beside it, a
  `NAME-stubs` package, or, for the standard library, the typeshed stubs jedi ships;
  without a stub its names are unknown (introspecting it would mean importing it);
- `from m import *` adds every name `m` defines (a superset of what it exports).

A module is *open* (its names cannot be listed with certainty, so nothing is judged
missing from it) when it defines a module-level `__getattr__`, writes its own namespace
(`globals()[...] = `, `globals().update(...)`, `sys.modules[__name__]`, `exec` at module
level, enum `_convert_`), star-imports a module that is open or cannot be read, or is an
extension module without a stub. Stubs leave out private names, so only public names are
judged missing from a stub.

Results are cached per file (path, mtime and size) and per module name for one search
path; a warm look-up is a few `stat` calls and dictionary hits.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import sys
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from clearsight.deps.listing import FOLDERS

# Attributes every module object has, whatever its source says.
MODULE_ATTRIBUTES = frozenset(
    {"__name__", "__doc__", "__file__", "__spec__", "__loader__", "__package__", "__path__",
     "__dict__", "__builtins__", "__cached__", "__all__", "__annotations__", "__class__"}
)  # fmt: skip
_NAMESPACE_WRITERS = frozenset({"globals", "locals", "vars"})
# Calls that receive `globals()` and only read it.
_GLOBALS_READERS = frozenset({"__import__", "eval", "dict", "list", "sorted", "len"})
_GLOBALS_WRITE_METHODS = frozenset({"update", "setdefault", "__setitem__", "pop", "clear"})
_EXTENSION_SUFFIXES = (".so", ".pyd")
_MAX_STAR_DEPTH = 12


def typeshed_stdlib() -> Path | None:
    """The standard-library stubs bundled with jedi (typeshed), if jedi is installed.

    jedi is found, not imported: importing it raises the interpreter's recursion limit to
    3,000 (`sys.setrecursionlimit` in jedi/__init__), which would change how every other
    check copes with deeply nested code."""
    spec = importlib.util.find_spec("jedi")
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent / "third_party" / "typeshed" / "stdlib"
    return folder if folder.is_dir() else None


# -- one file's own names ---------------------------------------------------------------------


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


def summarize(tree: ast.Module) -> FileSummary:
    """One module file's own names (before star imports and submodules are added)."""
    found = _Collector()
    _collect_block(tree.body, False, found)
    _scan_markers(tree, found)
    _class_members(found)
    found.names.update(_all_names(tree))
    if "__getattr__" in found.names:
        found.open("it defines a module-level `__getattr__` (names are made on demand)")
    imported = {
        name: tuple(targets) for name, targets in found.imported.items() if name not in found.other
    }
    return FileSummary(frozenset(found.names), imported, tuple(found.stars), found.open_reason)


_UNREADABLE = FileSummary(frozenset(), {}, (), "its source could not be read or parsed")
_COMPILED = FileSummary(frozenset(), {}, (), "it is a compiled extension module without a stub")
_NAMESPACE = FileSummary(frozenset(), {}, (), None)  # a namespace package: its submodules


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
            tree = ast.parse(handle.read(), filename=path)
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return _UNREADABLE
    return summarize(tree)


SUMMARIES = _SummaryCache()


def file_stamp(path: str) -> tuple[int, int]:
    try:
        status = os.stat(path)
    except OSError:
        return (-1, -1)
    return (status.st_mtime_ns, status.st_size)


# -- locating modules -------------------------------------------------------------------------


@dataclass(frozen=True)
class Located:
    """Where a module's names can be read."""

    dotted: str
    file: str | None  # the source or stub read for its names; None: none (namespace/compiled)
    stub: bool = False
    package_dirs: tuple[str, ...] = ()  # folders whose entries are its submodules
    compiled: bool = False  # an extension or built-in module (read from `file` if a stub)
    folder: str | None = None  # the folder it was found in (a new stub there changes it)


def _entry_in(folder: str, name: str) -> Located | None:
    """The module `name` in one folder: a package, a source, or an extension module."""
    if name not in FOLDERS.get(folder).names:
        return None
    package = os.path.join(folder, name)
    for init in ("__init__.py", "__init__.pyi"):
        if os.path.isfile(os.path.join(package, init)):
            return Located(name, os.path.join(package, init), init.endswith("i"), (package,))
    source = os.path.join(folder, name + ".py")
    if os.path.isfile(source):
        return Located(name, source)
    if os.path.isdir(package):
        return Located(name, None, package_dirs=(package,))  # a namespace portion
    stub = os.path.join(folder, name + ".pyi")
    compiled = _has_extension(folder, name)
    return Located(name, stub if os.path.isfile(stub) else None, True, (), compiled, folder)


def _has_extension(folder: str, name: str) -> bool:
    try:
        entries = os.listdir(folder)
    except OSError:
        return False
    return any(e.split(".", 1)[0] == name and e.endswith(_EXTENSION_SUFFIXES) for e in entries)


@dataclass(frozen=True)
class ModuleMembers:
    """What one module may have, as far as files tell."""

    dotted: str
    names: frozenset[str]
    imported: dict[str, tuple[ImportTarget, ...]]
    submodules: frozenset[str]
    open_reason: str | None  # set: nothing can be judged missing
    stub: bool  # the names come from a stub (private names are not judged)
    files: tuple[tuple[str, tuple[int, int]], ...]  # what the result was read from

    def has(self, name: str) -> bool:
        return name in self.names or name in self.submodules or name in MODULE_ATTRIBUTES


class ModuleFinder:
    """Locates modules on one search path and lists their members, cached."""

    def __init__(
        self,
        folders: Iterable[Path | str],
        builtins: Iterable[str] = (),
        stub_folders: Iterable[Path | str] = (),
    ) -> None:
        self.folders = tuple(dict.fromkeys(str(f) for f in folders))
        self.builtins = frozenset(builtins)
        self.stub_folders = tuple(str(f) for f in stub_folders)
        self._members: dict[str, ModuleMembers | None] = {}
        self._lock = threading.Lock()

    @classmethod
    def for_folders(
        cls, folders: Iterable[Path | str], current_interpreter: bool = True
    ) -> ModuleFinder:
        stubs = typeshed_stdlib()
        builtins = sys.builtin_module_names if current_interpreter else ()
        return cls(folders, builtins, [stubs] if stubs else [])

    # -- locating -----------------------------------------------------------------------

    def _locate_top(self, top: str) -> Located | None:
        if top in self.builtins:
            return Located(top, self._typeshed(top), True, (), compiled=True)
        portions: list[str] = []
        for folder in self.folders:
            found = _entry_in(folder, top)
            if found is None:
                continue
            if found.file is None and not found.compiled:
                portions.extend(found.package_dirs)  # namespace: keep looking for a module
                continue
            return found
        if portions:
            return Located(top, None, package_dirs=tuple(portions))
        return None

    def _locate_sub(self, parent: Located, name: str) -> Located | None:
        portions: list[str] = []
        for folder in parent.package_dirs:
            found = _entry_in(folder, name)
            if found is None:
                continue
            found = Located(f"{parent.dotted}.{name}", found.file, found.stub,
                            found.package_dirs, found.compiled, found.folder)  # fmt: skip
            if found.file is None and not found.compiled:
                portions.extend(found.package_dirs)
                continue
            return found
        if portions:
            return Located(f"{parent.dotted}.{name}", None, package_dirs=tuple(portions))
        return None

    def locate(self, dotted: str) -> Located | None:
        """The module `dotted` as a file (or folders); None when no file provides it."""
        parts = dotted.split(".")
        found = self._locate_top(parts[0])
        for part in parts[1:]:
            if found is None:
                return None
            found = self._locate_sub(found, part)
        if found is not None and found.compiled and found.file is None:
            stub = self._stub_for(found.dotted)
            found = Located(found.dotted, stub, True, (), compiled=True, folder=found.folder)
        return found

    def _typeshed(self, dotted: str) -> str | None:
        relative = dotted.replace(".", os.sep)
        for folder in self.stub_folders:
            for candidate in (relative + ".pyi", os.path.join(relative, "__init__.pyi")):
                path = os.path.join(folder, candidate)
                if os.path.isfile(path):
                    return path
        return None

    def _stub_for(self, dotted: str) -> str | None:
        """A stub for a compiled module: a `NAME-stubs` package, else typeshed's."""
        parts = dotted.split(".")
        relative = os.path.join(parts[0] + "-stubs", *parts[1:])
        for folder in self.folders:
            for candidate in (relative + ".pyi", os.path.join(relative, "__init__.pyi")):
                path = os.path.join(folder, candidate)
                if os.path.isfile(path):
                    return path
        return self._typeshed(dotted)

    # -- members --------------------------------------------------------------------------

    def members(self, dotted: str) -> ModuleMembers | None:
        """The module's members, or None when no file provides the module."""
        cached = self._members.get(dotted)
        if cached is not None and _still_valid(cached):
            return cached
        result = self._read_members(dotted, set(), stubs_anywhere=False)
        if result is not None:  # a module that is not there yet is looked for again
            with self._lock:
                self._members[dotted] = result
        return result

    def _read_members(
        self, dotted: str, seen: set[str], stubs_anywhere: bool = True
    ) -> ModuleMembers | None:
        """`stubs_anywhere`: also read a standard-library stub for a module no file here
        provides (another platform's `nt`, star-imported by `os` in a branch not taken)."""
        located = self.locate(dotted)
        if located is None and stubs_anywhere:
            located = self._typeshed_only(dotted)
        if located is None:
            return None
        files: list[tuple[str, tuple[int, int]]] = []
        if located.file is not None:
            stamp, summary = SUMMARIES.get(located.file)
            files.append((located.file, stamp))
        elif located.compiled:
            summary = _COMPILED
        else:
            summary = _NAMESPACE
        # Folders too: a stub or submodule added there changes what is known.
        folders = [*located.package_dirs, *([located.folder] if located.folder else [])]
        files.extend((folder, file_stamp(folder)) for folder in folders)
        names = set(summary.names)
        open_reason = summary.open_reason
        for target, guarded in summary.stars:
            reason = self._add_star(located, target, guarded, names, files, seen | {dotted})
            open_reason = open_reason or reason
        submodules = self._submodules(located)
        return ModuleMembers(
            dotted, frozenset(names), summary.imported, submodules, open_reason,
            located.stub, tuple(files),
        )  # fmt: skip

    def _typeshed_only(self, dotted: str) -> Located | None:
        """A standard-library module another platform has (`nt`): its stub's names."""
        stub = self._typeshed(dotted)
        return Located(dotted, stub, True, (), compiled=True) if stub else None

    def _add_star(
        self,
        located: Located,
        target: ImportTarget,
        guarded: bool,
        names: set[str],
        files: list[tuple[str, tuple[int, int]]],
        seen: set[str],
    ) -> str | None:
        """Adds a star import's names; returns why the module becomes open, if it does."""
        dotted = absolute_module(located, target)
        if dotted is None or dotted in seen or len(seen) > _MAX_STAR_DEPTH:
            return f"it star-imports a module that cannot be followed ({target.module or '.'})"
        other = self._read_members(dotted, seen)
        if other is None:
            # Not importable here: the guarded branch is not taken (or the import fails).
            return None if guarded else f"it star-imports `{dotted}`, which cannot be found"
        names.update(other.names)
        names.update(other.submodules)
        files.extend(other.files)
        if other.stub:
            return None if guarded else f"it star-imports `{dotted}`, known from a stub only"
        return other.open_reason

    def _submodules(self, located: Located) -> frozenset[str]:
        names: set[str] = set()
        for folder in located.package_dirs:
            names.update(FOLDERS.get(folder).names)
        return frozenset(names)

    def resolve(self, dotted: str, depth: int = 0) -> tuple[ModuleMembers, ...]:
        """The modules a dotted name may denote: a module file, or a module bound to a
        name inside another (`os.path` is `posixpath` or `ntpath`). Empty when unknown."""
        direct = self.members(dotted)
        if direct is not None:
            return (direct,)
        parent, _, name = dotted.rpartition(".")
        if not parent or depth > _MAX_STAR_DEPTH:
            return ()
        found: list[ModuleMembers] = []
        for owner in self.resolve(parent, depth + 1):
            found.extend(self.member_modules(owner, name, depth + 1))
        return tuple(found)

    def member_modules(
        self, owner: ModuleMembers, name: str, depth: int = 0
    ) -> list[ModuleMembers]:
        """The modules `owner.name` may be; empty when it is not (only) a module."""
        if name in owner.submodules:
            sub = self.members(f"{owner.dotted}.{name}")
            return [sub] if sub is not None else []
        targets = owner.imported.get(name)
        if not targets:
            return []
        located = self.locate(owner.dotted) or Located(owner.dotted, None)
        found: list[ModuleMembers] = []
        for target in targets:
            dotted = absolute_module(located, target)
            if dotted is None:
                return []
            full = f"{dotted}.{target.name}" if target.name else dotted
            modules = self.resolve(full, depth + 1)
            if not modules:
                return []  # one possibility is not a module we can read: stop here
            found.extend(modules)
        return found


def _still_valid(members: ModuleMembers) -> bool:
    return all(file_stamp(path) == stamp for path, stamp in members.files)


def absolute_module(located: Located, target: ImportTarget) -> str | None:
    """The absolute module an import inside `located` names (relative imports resolved)."""
    if target.level == 0:
        return target.module
    is_package = bool(located.file and os.path.basename(located.file).startswith("__init__."))
    parts = located.dotted.split(".")
    keep = len(parts) - target.level + (1 if is_package else 0)
    if keep <= 0:
        return None
    base = ".".join(parts[:keep])
    return f"{base}.{target.module}" if target.module else base
