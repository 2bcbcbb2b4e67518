"""Where one imported module comes from, for the file that imports it.

The order is the interpreter's own, minus what cannot be known without running code:
standard library, the project's own modules, the environment's site-packages; then, for
what the environment lacks, the project's declarations and the PyPI snapshot.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

from clearsight.deps.environment import (
    Distribution,
    Environment,
    InstalledPackages,
    installed_packages,
    stdlib_modules,
)
from clearsight.deps.imports import ImportedModule
from clearsight.deps.names import (
    INTERPRETER_MODULES,
    STDLIB_NAMES,
    curated_distribution,
    is_interpreter_private,
    is_other_implementation,
    normalize,
)
from clearsight.deps.project import (
    Declarations,
    declarations,
    find_project_root,
    is_local_module,
    local_search_folders,
)


class Origin(enum.Enum):
    RELATIVE = "relative"  # always the project's own
    STDLIB = "stdlib"
    OTHER_IMPLEMENTATION = "other-implementation"  # Jython's java.*, IronPython's clr…
    LOCAL = "local"  # a module or package of the workspace, or the project itself
    INSTALLED = "installed"
    MISSING = "missing"  # none of the above


@dataclass(frozen=True)
class Resolution:
    origin: Origin
    # Installed distributions providing the module (empty unless INSTALLED).
    installed: tuple[Distribution, ...] = ()
    # The distribution names the module may come from, best guess first: the installed
    # providers, else the curated import-name table, else the import name itself.
    candidates: tuple[str, ...] = ()
    declared: bool = False
    # Every name the module may be published under on PyPI: the candidates, and the dotted
    # names of namespace packages. Used to ask whether it exists, never to suggest a name.
    published: tuple[str, ...] = ()
    # The distribution the curated table names for a missing module (a known, real one).
    curated: str | None = None


@dataclass
class FileContext:
    """Everything about a file's surroundings that resolution needs (cheap to build: the
    expensive parts are cached per environment, folder and project)."""

    environment: Environment
    packages: InstalledPackages
    stdlib: frozenset[str]
    local_folders: list[Path]
    declarations: Declarations | None  # None outside a project

    @classmethod
    def for_path(cls, path: str, environment: Environment) -> FileContext:
        packages = installed_packages(environment)
        stdlib = stdlib_modules(environment)
        if path.startswith("<"):  # "<buffer>", "<stdin>": no place on disk
            return cls(environment, packages, stdlib, [], None)
        folder = Path(path).absolute().parent
        root = find_project_root(folder)
        found = declarations(root) if root is not None else None
        return cls(environment, packages, stdlib, local_search_folders(folder, root), found)

    def is_stdlib(self, top: str) -> bool:
        return (
            top in STDLIB_NAMES
            or top in INTERPRETER_MODULES
            or is_interpreter_private(top)
            or top in self.stdlib
        )

    def _origin_by_name(self, imported: ImportedModule) -> Origin | None:
        """The origins the module's name decides, before any installed package is
        consulted: relative, standard library, other implementation, local."""
        if imported.level > 0:
            return Origin.RELATIVE
        if self.is_stdlib(imported.top):
            return Origin.STDLIB
        if is_other_implementation(imported.module):
            return Origin.OTHER_IMPLEMENTATION
        if is_local_module(imported.top, self.local_folders):
            return Origin.LOCAL
        return None

    def _is_own_project(self, top: str, installed: tuple[Distribution, ...]) -> bool:
        """The project importing itself (installed, or by its distribution's name)."""
        own = self.declarations.project_name if self.declarations else None
        return own is not None and (normalize(top) == own or any(d.key == own for d in installed))

    def _declares_any(self, names: tuple[str, ...]) -> bool:
        return self.declarations is not None and any(
            self.declarations.is_declared(name) for name in names
        )

    def resolve(self, imported: ImportedModule) -> Resolution:
        origin = self._origin_by_name(imported)
        if origin is not None:
            return Resolution(origin)
        top = imported.top
        installed = self.packages.distributions_for(imported.module)
        if self._is_own_project(top, installed):
            return Resolution(Origin.LOCAL)
        curated = curated_distribution(imported.module)
        candidates = _candidates(top, installed, curated)
        published = (*candidates, *_namespace_names(imported))
        declared = self._declares_any(published)
        if installed or self.packages.has_module(top):
            return Resolution(Origin.INSTALLED, installed, candidates, declared, published)
        return Resolution(Origin.MISSING, (), candidates, declared, published, curated=curated)


def _candidates(
    top: str, installed: tuple[Distribution, ...], curated: str | None
) -> tuple[str, ...]:
    """Distribution names the module may come from, best guess first."""
    if installed:
        return tuple(d.key for d in installed)
    if curated:
        return (normalize(curated),)
    return (normalize(top),)


def _namespace_names(imported: ImportedModule) -> list[str]:
    """Distribution names a namespace package would be published under: `backports.zstd`
    as backports-zstd, `zope.interface` as zope-interface; `from backports import zstd`
    names the submodule after `import`. Longest first."""
    dotted = [imported.module, *(f"{imported.module}.{name}" for name in imported.names[:4])]
    found: set[str] = set()
    for name in dotted:
        parts = name.split(".")
        for end in range(min(len(parts), 4), 1, -1):
            found.add(normalize(".".join(parts[:end])))
    return sorted(found, key=lambda name: (-len(name), name))
