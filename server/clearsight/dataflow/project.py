"""The project's own modules that the analysed file imports, followed for their functions.

`from helpers.db import get_connection` in a view: what `get_connection()` returns and what
it does with its arguments is in `helpers/db.py`. Modules are found the way the dependency
checks find the project's modules (the file's folder, its packages, the project root), read
and parsed (cached by size and modification time), never imported or run. The standard
library and installed packages are the catalogue's business, not this module's.
"""

from __future__ import annotations

import ast
import os
import re
import threading
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from clearsight import disk_view
from clearsight.dataflow.frame import Frame
from clearsight.dataflow.scope import ModuleScope
from clearsight.dataflow.values import Value
from clearsight.deps.listing import FOLDERS
from clearsight.deps.names import STDLIB_NAMES
from clearsight.deps.project import find_project_root, local_search_folders

if TYPE_CHECKING:
    from clearsight.dataflow.interpreter import Interpreter

MAX_MODULES = 32  # other modules followed per analysed file
MAX_MODULE_BYTES = 400_000
MODULE_BUDGET = 5_000  # statements run to load one module's globals
_PARSED_CACHE = 64


class ProjectModules:
    """Where the analysed file's project modules are, and their parsed trees."""

    def __init__(self, path: str) -> None:
        self.path = os.path.abspath(path)
        folder = Path(self.path).parent
        self.folders = _folders(str(folder))
        self.package = _package_of(folder)

    def module_name(self) -> str:
        stem = Path(self.path).stem
        if stem == "__init__":
            return self.package
        return f"{self.package}.{stem}" if self.package else stem

    def mentions_sources(self, module: str, words: re.Pattern[str], depth: int = 2) -> bool:
        """Whether a project module's text (or that of the project modules it imports, two
        levels down) names anything a source could come from."""
        path = self.find(module)
        if path is None:
            return False
        return _mentions(path, words, self, depth)

    def find(self, module: str) -> str | None:
        parts = module.split(".")
        if not parts or parts[0] in STDLIB_NAMES or not all(p.isidentifier() for p in parts):
            return None
        for folder in self.folders:
            if parts[0] not in FOLDERS.get(folder).names:
                continue  # the folder's listing says no (one look instead of two per name)
            base = os.path.join(folder, *parts)
            for candidate in (base + ".py", os.path.join(base, "__init__.py")):
                if disk_view.is_file(candidate) and os.path.abspath(candidate) != self.path:
                    return candidate
        return None


_MENTIONS: dict[tuple[str, int, int, int], bool] = {}
_IMPORTED = re.compile(r"^\s*(?:from\s+([.\w]+)\s+import|import\s+([.\w]+))", re.MULTILINE)


def _mentions(path: str, words: re.Pattern[str], project: ProjectModules, depth: int) -> bool:
    stat = disk_view.stat(path)
    if stat is None:
        return False
    key = (path, stat.st_mtime_ns, stat.st_size, id(words))
    known = _MENTIONS.get(key)
    if known is not None:
        return known
    _MENTIONS[key] = False  # a cycle of imports: not through this path
    try:
        with open(path, "rb") as handle:
            text = handle.read(MAX_MODULE_BYTES).decode("utf-8", "replace")
    except OSError:
        return False
    found = words.search(text) is not None
    if not found and depth > 0:
        for match in _IMPORTED.finditer(text):
            name = (match.group(1) or match.group(2) or "").lstrip(".")
            if (
                name
                and project.find(name)
                and _mentions(project.find(name) or "", words, project, depth - 1)
            ):
                found = True
                break
    if len(_MENTIONS) > 4096:
        _MENTIONS.clear()
    _MENTIONS[key] = found
    return found


@lru_cache(maxsize=256)
def _folders(folder: str) -> tuple[str, ...]:
    path = Path(folder)
    root = find_project_root(path)
    if root is None and not (path / "__init__.py").exists():
        # Outside any project (the standard library, site-packages): only the file's folder.
        return (folder,)
    return tuple(str(f) for f in local_search_folders(path, root))


def _package_of(folder: Path) -> str:
    parts: list[str] = []
    while (folder / "__init__.py").exists() and folder.parent != folder:
        parts.insert(0, folder.name)
        folder = folder.parent
    return ".".join(parts)


class _ScopeCache:
    """Project modules run once (their globals), by path, catalogue and the file's size and
    modification time: the editor analyses a view again on every edit, its helper modules
    do not change meanwhile."""

    def __init__(self) -> None:
        self._scopes: OrderedDict[tuple[str, int], tuple[int, int, ModuleScope | None]] = (
            OrderedDict()
        )
        self._lock = threading.Lock()

    def get(
        self, path: str, catalogue_id: int
    ) -> tuple[tuple[int, int] | None, ModuleScope | None]:
        try:
            stat = os.stat(path)
        except OSError:
            return None, None
        stamp = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            cached = self._scopes.get((path, catalogue_id))
            if cached is not None and cached[:2] == stamp:
                self._scopes.move_to_end((path, catalogue_id))
                return stamp, cached[2]
        return stamp, None

    def put(self, path: str, catalogue_id: int, stamp: tuple[int, int], scope: ModuleScope) -> None:
        with self._lock:
            self._scopes[(path, catalogue_id)] = (*stamp, scope)
            while len(self._scopes) > _PARSED_CACHE:
                self._scopes.popitem(last=False)


def _parse(path: str, size: int) -> ast.Module | None:
    if size > MAX_MODULE_BYTES:
        return None
    try:
        with open(path, "rb") as handle:
            return ast.parse(handle.read(), filename=path)
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return None


SCOPES = _ScopeCache()


class Project:
    """Other modules' definitions (mixed into `Interpreter`)."""

    def project_value(self: Interpreter, qualified: str, load: bool = True) -> Value | None:
        """What a qualified name means in a project module, or None when it names no
        project module's member (a module itself stays a name). Modules are loaded for
        calls only (`load`); reading an attribute looks in those already loaded, so that
        naming `models.CharField` costs nothing."""
        if self.project is None or qualified.startswith("builtins."):
            return None
        if not load:
            if qualified in self.resolving:
                return None  # modules that import each other's names
            self.resolving.add(qualified)
            try:
                return self._resolve(qualified, load=False)
            finally:
                self.resolving.discard(qualified)
        if qualified in self.resolved:
            return self.resolved[qualified]
        self.resolved[qualified] = None  # a cycle while resolving: not a definition
        result = self._resolve(qualified)
        self.resolved[qualified] = result
        return result

    def _resolve(self: Interpreter, qualified: str, load: bool = True) -> Value | None:
        parts = qualified.split(".")
        for end in range(len(parts) - 1, 0, -1):
            name = ".".join(parts[:end])
            scope = self.load_module(name) if load else self.modules.get(name)
            if scope is None:
                continue
            rest = parts[end:]
            value = scope.globals.get(rest[0])
            if value is None:
                return None
            frame = Frame(scope, None, {})
            for attribute in rest[1:]:
                value = self.attribute(value, attribute, ast.Pass(), frame)
            return value
        return None

    def load_module(self: Interpreter, name: str) -> ModuleScope | None:
        if name in self.modules:
            return self.modules[name]
        self.modules[name] = None
        if self.project is None:
            return None
        path = self.project.find(name)
        if path is None:
            return None
        if sum(1 for scope in self.modules.values() if scope is not None) >= MAX_MODULES:
            return None
        stamp, cached = SCOPES.get(path, id(self.catalogue))
        bucket = self.bucket()
        if bucket is not None:
            bucket.modules[path] = stamp  # the results depend on this version of it
        if cached is not None or stamp is None:
            self.modules[name] = cached
            return cached
        tree = _parse(path, stamp[1])
        if tree is None:
            return None
        package = name if path.endswith("__init__.py") else name.rpartition(".")[0]
        scope = ModuleScope(tree, name, package, path=path)
        self.prepare_module(scope)
        self.modules[name] = scope
        budget = self.budget
        self.budget = MODULE_BUDGET
        try:
            self.run_module(scope)
        finally:
            self.budget = budget
        SCOPES.put(path, id(self.catalogue), stamp, scope)
        return scope
