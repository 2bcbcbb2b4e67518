"""Which modules a folder offers to `import`, from its listing alone (cached by mtime)."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

from clearsight import disk_view

_SOURCE_SUFFIXES = (".py", ".pyi", ".pyw", ".pyc")


@dataclass(frozen=True)
class FolderModules:
    names: frozenset[str]  # top-level module or package names importable from the folder
    is_package: bool  # the folder has an __init__.py


EMPTY = FolderModules(frozenset(), False)


def module_name(entry: str, is_dir: bool) -> str | None:
    """The module an entry of a folder provides, if any.

    Packages and namespace packages are folders with an identifier name; modules are
    sources (`.py`, `.pyi`, `.pyw`, sourceless `.pyc`) and extension modules (`.so`,
    `.pyd`, whatever ABI tag sits between the name and the suffix).
    """
    if is_dir:
        return entry if entry.isidentifier() and entry != "__pycache__" else None
    if entry.endswith(_SOURCE_SUFFIXES):
        stem = entry.rsplit(".", 1)[0]
    elif entry.endswith((".so", ".pyd")):
        stem = entry.split(".", 1)[0]
    else:
        return None
    return stem if stem.isidentifier() else None


def _read(folder: str) -> FolderModules:
    names: set[str] = set()
    is_package = False
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    continue
                name = module_name(entry.name, is_dir)
                if name is not None:
                    names.add(name)
                if entry.name == "__init__.py":
                    is_package = True
    except OSError:
        return EMPTY
    return FolderModules(frozenset(names), is_package)


class FolderCache:
    """Listings by folder, re-read when the folder's mtime changes (a file added or removed)."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[int, FolderModules]] = {}
        self._lock = threading.Lock()

    def get(self, folder: str) -> FolderModules:
        found = disk_view.stat(folder)
        if found is None:
            return EMPTY
        stamp = found.st_mtime_ns
        cached = self._cache.get(folder)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        listing = _read(folder)
        with self._lock:
            self._cache[folder] = (stamp, listing)
        return listing


FOLDERS = FolderCache()
