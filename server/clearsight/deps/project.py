"""The project around a file: its root, its own modules, and the dependencies it declares.

Declarations are read from the root's `pyproject.toml` (`[project.dependencies]`,
`[project.optional-dependencies]`, `[dependency-groups]`, `[build-system] requires`,
Poetry's `[tool.poetry.*dependencies]` and groups, uv's and PDM's dev lists),
`setup.cfg` (`install_requires`, `extras_require`) and `requirements*.txt` (plus
`requirements/*.txt`, following `-r` includes). A file that cannot be read or parsed
becomes a problem on the declarations, never an exception.
"""

from __future__ import annotations

import configparser
import os
import re
import sys
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clearsight import disk_view
from clearsight.deps.listing import FOLDERS
from clearsight.deps.names import normalize

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

ROOT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", "requirements.txt", ".git")
# PEP 508: the name at the start of a requirement.
_REQUIREMENT_NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9]|[A-Za-z0-9])")
_EGG_FRAGMENT = re.compile(r"[#&]egg=([A-Za-z0-9][A-Za-z0-9._-]*)")
_PYTHON_VERSION_FOLDER = re.compile(r"python\d+(\.\d+)?$")
# requirements-file options that take no requirement (skipped with their argument).
_OPTION = re.compile(r"^-{1,2}[A-Za-z]")


def _is_environment_boundary(folder: Path) -> bool:
    """Folders that belong to an interpreter or environment, not to a project."""
    name = folder.name
    return (
        name in ("site-packages", "dist-packages")
        or disk_view.is_file(str(folder / "pyvenv.cfg"))
        or (
            _PYTHON_VERSION_FOLDER.match(name) is not None
            and disk_view.is_file(str(folder / "os.py"))
        )
    )


def find_project_root(start: Path) -> Path | None:
    """The nearest folder at or above `start` holding pyproject.toml, setup.py, setup.cfg,
    requirements.txt or .git. None when an environment or the standard library is reached
    first (their files belong to installed distributions, not to a project), or at the top."""
    folder = start
    while True:
        if _is_environment_boundary(folder):
            return None
        if any(disk_view.exists(str(folder / marker)) for marker in ROOT_MARKERS):
            return folder
        if folder.parent == folder:
            return None
        folder = folder.parent


def local_search_folders(file_folder: Path, root: Path | None) -> list[Path]:
    """Folders whose modules count as the project's own for a file in `file_folder`.

    The file's folder (scripts import their neighbours), every enclosing package folder
    and the folder holding the outermost package (where `import pkg` finds it), the
    project root and its `src/`.
    """
    folders = [file_folder]
    folder = file_folder
    while FOLDERS.get(str(folder)).is_package and folder.parent != folder:
        folder = folder.parent
        folders.append(folder)
    if root is not None:
        folders.extend((root, root / "src"))
    seen: set[Path] = set()
    return [f for f in folders if not (f in seen or seen.add(f))]


def is_local_module(top: str, folders: Iterable[Path]) -> bool:
    return any(top in FOLDERS.get(str(folder)).names for folder in folders)


@dataclass(frozen=True)
class Requirement:
    name: str  # as written
    where: str  # "pyproject.toml [project.dependencies]", "requirements.txt:3"
    spec: str = ""  # the whole requirement as written ("requests>=2.31"; Poetry: its value)

    @property
    def key(self) -> str:
        return normalize(self.name)


@dataclass(frozen=True)
class Declarations:
    """The dependencies a project declares, wherever it declares them."""

    root: Path | None = None
    requirements: tuple[Requirement, ...] = ()
    # Files that declare dependencies (a pyproject.toml with [project] or Poetry's table,
    # a requirements file, setup.cfg with install_requires): without one, "undeclared"
    # means nothing.
    sources: tuple[str, ...] = ()
    project_name: str | None = None  # normalised [project] name: imports of it are local
    pyproject: Path | None = None
    # The table to add a dependency to, when there is one: "[project.dependencies]"…
    add_to: str | None = None
    problems: tuple[str, ...] = ()
    # The problem that pyproject.toml as a whole could not be read, if that happened (the
    # settings loader may already have reported it).
    pyproject_problem: str | None = None
    keys: frozenset[str] = field(default=frozenset(), compare=False)

    @property
    def declares_anything(self) -> bool:
        return bool(self.sources)

    def is_declared(self, distribution: str) -> bool:
        return normalize(distribution) in self.keys


def _is_location(text: str) -> bool:
    """A bare URL or path (`./pkg`, `https://…/x.whl`): installable, but no name to read."""
    text = text.strip()
    return text.startswith((".", "/", "~")) or "://" in text.split("@")[0]


def requirement_name(text: str) -> str | None:
    """The distribution name at the start of a PEP 508 string, or from `#egg=`."""
    text = text.strip()
    egg = _EGG_FRAGMENT.search(text)
    if egg is not None:
        return egg.group(1)
    if _is_location(text):
        return None
    match = _REQUIREMENT_NAME.match(text)
    return match.group(1) if match else None


class _Reader:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.requirements: list[Requirement] = []
        self.sources: list[str] = []
        self.problems: list[str] = []
        self.pyproject_problem: str | None = None

    def add_strings(self, values: Any, where: str) -> None:
        if not isinstance(values, list):
            self.problems.append(f"{where}: expected a list of requirement strings")
            return
        for value in values:
            if isinstance(value, dict) and "include-group" in value:
                continue  # PEP 735: the included group is read on its own
            if not isinstance(value, str):
                self.problems.append(f"{where}: expected a requirement string, got {value!r}")
                continue
            name = requirement_name(value)
            if name is not None:
                self.requirements.append(Requirement(name, where, value.strip()))
            elif value.strip() and not _is_location(value):
                self.problems.append(f"{where}: cannot read a requirement from {value!r}")

    def add_table_keys(self, values: Any, where: str) -> None:
        if not isinstance(values, dict):
            self.problems.append(f"{where}: expected a table of dependencies")
            return
        for name in values:
            if str(name).lower() != "python":
                spec = f"{name} {values[name]}"
                self.requirements.append(Requirement(str(name), where, spec))


def _table(document: Mapping[str, Any], *keys: str) -> Any:
    value: Any = document
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _load_pyproject(reader: _Reader, path: Path) -> dict[str, Any] | None:
    """The parsed file, or None with the problem recorded."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        problem = f"{path.name} could not be read ({error})"
    except tomllib.TOMLDecodeError as error:
        problem = f"{path.name} is not valid TOML ({error})"
    reader.pyproject_problem = problem
    reader.problems.append(problem)
    return None


def _read_project_table(
    reader: _Reader, filename: str, project: Any
) -> tuple[str | None, str | None]:
    """PEP 621 `[project]`: returns the project's name and the table to add to."""
    if not isinstance(project, dict):
        return None, None
    reader.sources.append(f"{filename} [project]")
    name = normalize(project["name"]) if isinstance(project.get("name"), str) else None
    if "dependencies" in project:
        reader.add_strings(project["dependencies"], f"{filename} [project.dependencies]")
    # Dynamic dependencies are written by the build backend: there is no list to add to.
    dynamic = "dependencies" in project.get("dynamic", [])
    add_to = None if dynamic else "[project.dependencies]"
    extras = project.get("optional-dependencies", {})
    if isinstance(extras, dict):
        for extra, values in extras.items():
            reader.add_strings(values, f"{filename} [project.optional-dependencies] {extra}")
    else:
        reader.problems.append(f"{filename} [project.optional-dependencies]: expected a table")
    return name, add_to


def _read_dependency_groups(reader: _Reader, filename: str, groups: Any) -> None:
    """PEP 735 `[dependency-groups]`."""
    if not isinstance(groups, dict):
        return
    reader.sources.append(f"{filename} [dependency-groups]")
    for group, values in groups.items():
        reader.add_strings(values, f"{filename} [dependency-groups] {group}")


def _read_poetry(reader: _Reader, filename: str, poetry: dict[str, Any]) -> str | None:
    """Poetry's `[tool.poetry]` dependency tables; returns the project's name."""
    reader.sources.append(f"{filename} [tool.poetry]")
    reader.add_table_keys(poetry["dependencies"], f"{filename} [tool.poetry.dependencies]")
    if "dev-dependencies" in poetry:
        reader.add_table_keys(
            poetry["dev-dependencies"], f"{filename} [tool.poetry.dev-dependencies]"
        )
    poetry_groups = poetry.get("group", {})
    if isinstance(poetry_groups, dict):
        for group, table in poetry_groups.items():
            deps = table.get("dependencies", {}) if isinstance(table, dict) else None
            reader.add_table_keys(deps, f"{filename} [tool.poetry.group.{group}.dependencies]")
    return normalize(poetry["name"]) if isinstance(poetry.get("name"), str) else None


def _read_tool_dev_dependencies(
    reader: _Reader, filename: str, document: Mapping[str, Any]
) -> None:
    """uv's and PDM's `dev-dependencies` (a list, or PDM's groups of lists)."""
    for tool, key in (("uv", "dev-dependencies"), ("pdm", "dev-dependencies")):
        values = _table(document, "tool", tool, key)
        if isinstance(values, list):
            reader.add_strings(values, f"{filename} [tool.{tool}.{key}]")
        elif isinstance(values, dict):  # PDM: groups of lists
            for group, listed in values.items():
                reader.add_strings(listed, f"{filename} [tool.{tool}.{key}] {group}")


def _read_pyproject(reader: _Reader, path: Path) -> tuple[str | None, str | None]:
    """Reads declarations; returns the project's name and the table to add to."""
    document = _load_pyproject(reader, path)
    if document is None:
        return None, None
    filename = path.name
    name, add_to = _read_project_table(reader, filename, document.get("project"))
    _read_dependency_groups(reader, filename, document.get("dependency-groups"))
    requires = _table(document, "build-system", "requires")
    if isinstance(requires, list):
        reader.add_strings(requires, f"{filename} [build-system] requires")
    poetry = _table(document, "tool", "poetry")
    if isinstance(poetry, dict) and "dependencies" in poetry:
        # [project] wins when both are present.
        poetry_name = _read_poetry(reader, filename, poetry)
        name = name or poetry_name
        add_to = add_to or "[tool.poetry.dependencies]"
    _read_tool_dev_dependencies(reader, filename, document)
    return name, add_to


def _read_setup_cfg(reader: _Reader, path: Path) -> None:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, configparser.Error) as error:
        reader.problems.append(f"{path.name} could not be parsed ({error})")
        return
    if parser.has_option("options", "install_requires"):
        reader.sources.append(f"{path.name} [options] install_requires")
        values = parser.get("options", "install_requires").splitlines()
        reader.add_strings([v for v in values if v.strip()], "setup.cfg install_requires")
    if parser.has_section("options.extras_require"):
        for extra, text in parser.items("options.extras_require"):
            values = [v for v in text.splitlines() if v.strip()]
            reader.add_strings(values, f"setup.cfg extras_require {extra}")


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Requirements-file lines with `\\` continuations joined and comments removed."""
    pending = ""
    first = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not pending:
            first = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = pending + line
        pending = ""
        full = re.sub(r"(^|\s)#.*$", "", full).strip()
        if full:
            yield first, full


def _read_requirements(reader: _Reader, path: Path, seen: set[Path]) -> None:
    if path in seen:
        return  # -r cycles are fine
    seen.add(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reader.problems.append(f"{path.name} could not be read ({error})")
        return
    label = os.path.relpath(path, reader.root) if path.is_relative_to(reader.root) else str(path)
    reader.sources.append(label)
    for number, line in _logical_lines(text):
        where = f"{label}:{number}"
        if line.startswith(("-r ", "--requirement ", "-r", "--requirement=")):
            target = re.sub(r"^(-r|--requirement)[=\s]*", "", line).strip()
            _read_requirements(reader, (path.parent / target).resolve(), seen)
            continue
        if line.startswith(("-e ", "--editable ", "--editable=")):
            line = re.sub(r"^(-e|--editable)[=\s]*", "", line)
        elif _OPTION.match(line):
            continue  # -c constraints, --index-url, --hash...: not declarations
        name = requirement_name(line)
        if name is not None:
            reader.requirements.append(Requirement(name, where, line))
        elif not _is_location(line):
            reader.problems.append(f"{where}: cannot read a requirement from {line!r}")


def requirements_files(root: Path) -> list[Path]:
    try:
        entries = sorted(os.listdir(root))
    except OSError:
        return []
    files = [
        root / e for e in entries if e.startswith("requirements") and e.endswith((".txt", ".in"))
    ]
    folder = root / "requirements"
    if folder.is_dir():
        files.extend(sorted(folder.glob("*.txt")))
        files.extend(sorted(folder.glob("*.in")))
    return [f for f in files if f.is_file()]


def read_declarations(root: Path) -> Declarations:
    """Everything the project at `root` declares (no caching: see `declarations`)."""
    reader = _Reader(root)
    name = add_to = None
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        name, add_to = _read_pyproject(reader, pyproject)
    setup_cfg = root / "setup.cfg"
    if setup_cfg.is_file():
        _read_setup_cfg(reader, setup_cfg)
    seen: set[Path] = set()
    for path in requirements_files(root):
        _read_requirements(reader, path.resolve(), seen)
    return Declarations(
        root=root,
        requirements=tuple(reader.requirements),
        sources=tuple(reader.sources),
        project_name=name,
        pyproject=pyproject if pyproject.is_file() else None,
        add_to=add_to,
        problems=tuple(reader.problems),
        pyproject_problem=reader.pyproject_problem,
        keys=frozenset(r.key for r in reader.requirements),
    )


def declaration_stamp(root: Path) -> tuple[tuple[str, int, int], ...]:
    stamps = []
    candidates = [root / "pyproject.toml", root / "setup.cfg", *requirements_files(root)]
    for path in candidates:
        info = disk_view.stat(str(path))
        if info is None:
            continue
        stamps.append((str(path), info.st_mtime_ns, info.st_size))
    return tuple(stamps)


_CACHE: dict[Path, tuple[tuple[tuple[str, int, int], ...], Declarations]] = {}
_LOCK = threading.Lock()


def declarations(root: Path) -> Declarations:
    """The project's declarations, re-read when one of its declaration files changes.

    (A requirements file included with `-r` from outside the root is not watched.)
    """
    stamp = declaration_stamp(root)
    cached = _CACHE.get(root)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    found = read_declarations(root)
    with _LOCK:
        _CACHE[root] = (stamp, found)
    return found
