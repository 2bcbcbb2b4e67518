"""Which names a module has, read from its source or stub files, never imported.

A module is located on a search path (the file's own folders, the environment's standard
library and site-packages) the way the import system would, without running finders:

- a `.py` source (or a package's `__init__.py`) is parsed and its module-level names are
  collected from every branch (`if`, `try`, loops, `with`), plus names functions declare
  `global`, names listed in `__all__`, submodules and the attributes every module has;
- an extension module or a built-in one is read from a stub: a `.pyi` beside it, a
  `NAME-stubs` package, or, for the standard library, typeshed's stubs (typeshed-client's);
  without a stub its names are unknown (introspecting it would mean importing it);
- `from m import *` adds every name `m` defines (a superset of what it exports).

A module is *open* (its names cannot be listed with certainty, so nothing is judged
missing from it) when it defines a module-level `__getattr__`, writes its own namespace
(`globals()[...] = `, `globals().update(...)`, `sys.modules[__name__]`, `exec` at module
level, enum `_convert_`), star-imports a module that is open or cannot be read, or is an
extension module without a stub. Stubs leave out private names, so only public names are
judged missing from a stub.

File summaries come from `clearsight.deps.summary`. Results are cached per file (path,
mtime and size) and per module name for one search path; a warm look-up is a few `stat`
calls and dictionary hits.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from clearsight import disk_view
from clearsight.deps.listing import FOLDERS
from clearsight.deps.summary import (
    COMPILED_SUMMARY,
    NAMESPACE_SUMMARY,
    SUMMARIES,
    ImportTarget,
    file_stamp,
)

# Attributes every module object has, whatever its source says.
MODULE_ATTRIBUTES = frozenset(
    {"__name__", "__doc__", "__file__", "__spec__", "__loader__", "__package__", "__path__",
     "__dict__", "__builtins__", "__cached__", "__all__", "__annotations__", "__class__"}
)  # fmt: skip
_EXTENSION_SUFFIXES = (".so", ".pyd")
_STDLIB = frozenset(getattr(sys, "stdlib_module_names", ()))
# Modules another package swaps in at run time through an import hook: setuptools replaces
# `distutils` with its own copy (`_distutils_hack`, installed by a .pth file).
_REPLACED_AT_RUN_TIME = frozenset({"distutils"})
_MAX_STAR_DEPTH = 12


def typeshed_stdlib() -> Path | None:
    """The standard-library stubs typeshed-client bundles (typeshed's `stdlib`), if it is
    installed. Found, not imported: only its files are read."""
    spec = importlib.util.find_spec("typeshed_client")
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent / "typeshed"
    return folder if folder.is_dir() else None


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
        if disk_view.is_file(os.path.join(package, init)):
            return Located(name, os.path.join(package, init), init.endswith("i"), (package,))
    source = os.path.join(folder, name + ".py")
    if disk_view.is_file(source):
        return Located(name, source)
    if disk_view.is_dir(package):
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
        # Per run (`new_run`): modules already checked against their files this run, and
        # the search folders' stamps, under which "no such module" answers stay valid.
        self._checked: set[str] = set()
        self._folders_stamp: tuple[tuple[int, int], ...] = ()
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

    def new_run(self) -> None:
        """Start of one file's check: modules are re-validated against their files once
        per run, and missing modules looked for again if a search folder changed."""
        stamp = tuple(file_stamp(folder) for folder in self.folders)
        with self._lock:
            self._checked = set()
            if stamp != self._folders_stamp:
                self._folders_stamp = stamp
                self._members = {k: v for k, v in self._members.items() if v is not None}

    def members(self, dotted: str) -> ModuleMembers | None:
        """The module's members, or None when no file provides the module."""
        if dotted.split(".")[0] in _REPLACED_AT_RUN_TIME:
            return None
        if dotted in self._members:
            cached = self._members[dotted]
            if cached is None or dotted in self._checked or _still_valid(cached):
                self._checked.add(dotted)
                return cached
        result = self._read_members(dotted, set(), stubs_anywhere=False)
        with self._lock:
            self._members[dotted] = result
            self._checked.add(dotted)
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
            summary = COMPILED_SUMMARY
        else:
            summary = NAMESPACE_SUMMARY
        stub_names = self._stub_names(located, files)
        # Folders too: a stub or submodule added there changes what is known.
        folders = [*located.package_dirs, *([located.folder] if located.folder else [])]
        files.extend((folder, file_stamp(folder)) for folder in folders)
        names = set(summary.names) | stub_names
        open_reason = summary.open_reason
        for target, guarded in summary.stars:
            reason = self._add_star(located, target, guarded, names, files, seen | {dotted})
            open_reason = open_reason or reason
        submodules = self._submodules(located)
        return ModuleMembers(
            dotted, frozenset(names), summary.imported, submodules, open_reason,
            located.stub, tuple(files),
        )  # fmt: skip

    def _stub_names(self, located: Located, files: list[tuple[str, tuple[int, int]]]) -> set[str]:
        """Names a stub gives a module that has a source too: a `.pyi` beside it (names
        made at run time, as numpy's `dtypes`), or for the standard library typeshed's
        (names of other Python versions: `typing.TypeAliasType` exists, from 3.12)."""
        if located.file is None or located.stub:
            return set()
        stub: str | None = located.file[:-3] + ".pyi" if located.file.endswith(".py") else None
        if stub is None or not os.path.isfile(stub):
            top = located.dotted.split(".")[0]
            stub = self._typeshed(located.dotted) if top in _STDLIB else None
        if stub is None:
            return set()
        stamp, summary = SUMMARIES.get(stub)
        files.append((stub, stamp))
        return set(summary.names)

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

    def resolve_target(self, target: str) -> tuple[ModuleMembers, ...]:
        """`module:name` (what `from module import name` binds) as modules, looking the
        name up in the module first; a plain dotted name as `resolve` does."""
        module, colon, name = target.partition(":")
        if not colon:
            return self.resolve(module)
        found: list[ModuleMembers] = []
        for owner in self.resolve(module):
            found.extend(self.member_modules(owner, name))
        return tuple(found)

    def member_modules(
        self, owner: ModuleMembers, name: str, depth: int = 0
    ) -> list[ModuleMembers]:
        """The modules `owner.name` may be; empty when it is not (only) a module. A name
        the module binds itself wins over a submodule of that name (`antlr4.Token` is the
        class `from antlr4.Token import Token` binds, not the submodule)."""
        if name in owner.submodules and name not in owner.names:
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
