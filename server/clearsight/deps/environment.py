"""A Python environment, read from its files: what it can import and which distribution
provides each module.

Nothing is imported or run: site-packages folders are listed, `*.dist-info/top_level.txt`
and `RECORD` (or an `*.egg-info`'s `top_level.txt`/`installed-files.txt`) are read, `.pth`
files are read for the folders they add (their `import` lines are never executed), and
setuptools' editable finders are parsed (`ast.literal_eval` of their `MAPPING`), not run.
"""

from __future__ import annotations

import ast
import csv
import os
import site
import sys
import sysconfig
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from clearsight import disk_view
from clearsight.deps.listing import FOLDERS, module_name
from clearsight.deps.names import normalize
from clearsight.deps.project import find_project_root

if TYPE_CHECKING:
    from clearsight.settings import Settings

_METADATA_SUFFIXES = (".dist-info", ".egg-info")


@dataclass(frozen=True)
class Environment:
    """Where an interpreter finds installed packages and its standard library."""

    site_packages: tuple[Path, ...]
    stdlib: tuple[Path, ...] = ()
    # Words for messages: environments with the same folders are the same (one scan each).
    description: str = field(default="an environment", compare=False)

    @classmethod
    def current(cls) -> Environment:
        """The interpreter running Clearsight (the fallback when none is configured)."""
        sites = list(getattr(site, "getsitepackages", list)())
        user = site.getusersitepackages() if hasattr(site, "getusersitepackages") else None
        if user:
            sites.append(user)
        paths = sysconfig.get_paths()
        stdlib = [paths["stdlib"], paths["platstdlib"]]
        stdlib.append(os.path.join(paths["stdlib"], "lib-dynload"))
        return cls(
            site_packages=_unique(Path(p) for p in sites),
            stdlib=_unique(Path(p) for p in stdlib),
            description=f"the environment of the Python running Clearsight ({sys.executable})",
        )

    @classmethod
    def from_prefix(cls, prefix: str | os.PathLike[str]) -> Environment:
        """A virtual environment or installation prefix (`.venv`, `/usr`, a conda env).

        Finds `lib/python3.X/site-packages` (`Lib/site-packages` on Windows, Debian's
        `dist-packages` too) and, through `pyvenv.cfg`'s `home`, the base interpreter's
        standard library (plus its site-packages when `include-system-site-packages`).
        """
        root = Path(prefix).absolute()
        config = _read_pyvenv_cfg(root / "pyvenv.cfg")
        sites = _site_folders(root)
        base = root
        if "home" in config:
            home = Path(config["home"])
            base = home.parent if home.name in ("bin", "Scripts") else home
        versions = sorted({p.parent.name for p in sites if p.parent.name.startswith("python")})
        stdlib = _stdlib_folders(base, versions)
        if base != root and config.get("include-system-site-packages", "").lower() == "true":
            sites = [*sites, *_site_folders(base)]
        return cls(
            site_packages=_unique(sites),
            stdlib=_unique(stdlib),
            description=f"the environment at {root}",
        )

    @classmethod
    def from_interpreter(cls, python: str | os.PathLike[str]) -> Environment:
        """The environment of an interpreter path (`.venv/bin/python`), without running it."""
        executable = Path(python).absolute()
        folder = executable.parent
        prefix = folder.parent if folder.name in ("bin", "Scripts") else folder
        return cls.from_prefix(prefix)

    @classmethod
    def at(cls, path: str | os.PathLike[str]) -> Environment | None:
        """The environment an interpreter path or an environment folder names, or None when
        `path` is neither (missing, or no pyvenv.cfg and no site-packages). Read, not run."""
        target = Path(path).absolute()
        if target.is_dir():
            prefix = target
        elif target.is_file():
            folder = target.parent
            prefix = folder.parent if folder.name in ("bin", "Scripts") else folder
        else:
            return None
        if not (prefix / "pyvenv.cfg").is_file() and not _site_folders(prefix):
            return None
        return cls.from_prefix(prefix)


def _unique(paths: Iterable[Path]) -> tuple[Path, ...]:
    """Paths in order, each folder once (a venv's lib64 is often a link to lib)."""
    seen: dict[str, Path] = {}
    for path in paths:
        seen.setdefault(os.path.normcase(os.path.realpath(path)), path)
    return tuple(seen.values())


def _read_pyvenv_cfg(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    values = {}
    for line in text.splitlines():
        key, equals, value = line.partition("=")
        if equals:
            values[key.strip().lower()] = value.strip()
    return values


def _site_folders(prefix: Path) -> list[Path]:
    found = []
    for pattern in ("lib/python3*/site-packages", "lib64/python3*/site-packages"):
        found.extend(sorted(prefix.glob(pattern)))
    found.extend(sorted(prefix.glob("lib/python3*/dist-packages")))
    found.extend(p for p in (prefix / "Lib" / "site-packages",) if p.is_dir())
    return found


def _stdlib_folders(base: Path, versions: list[str]) -> list[Path]:
    folders = []
    for version in versions or [f"python{sys.version_info.major}.{sys.version_info.minor}"]:
        folders.append(base / "lib" / version)
        folders.append(base / "lib" / version / "lib-dynload")
    folders.extend(p for p in (base / "Lib", base / "DLLs") if p.is_dir())
    return [p for p in folders if p.is_dir()]


@dataclass(frozen=True)
class Distribution:
    """An installed distribution, known from its metadata folder."""

    name: str  # as the metadata folder spells it ("PyYAML", "jinja2")
    version: str
    metadata: Path

    @property
    def key(self) -> str:
        return normalize(self.name)

    def display_name(self) -> str:
        """The project's own spelling, from the `Name:` header of its metadata."""
        for candidate in ("METADATA", "PKG-INFO"):
            try:
                with (self.metadata / candidate).open(encoding="utf-8", errors="replace") as f:
                    for line in f:
                        if line.startswith("Name:"):
                            return line[5:].strip() or self.name
                        if not line.strip():
                            break
            except OSError:
                continue
        return self.name


@dataclass
class InstalledPackages:
    """What one environment can import, and who provides it."""

    modules: frozenset[str] = frozenset()
    # "yaml" -> (PyYAML,); for namespace packages also "google.protobuf" -> (protobuf,)
    providers: dict[str, tuple[Distribution, ...]] = field(default_factory=dict)
    distributions: dict[str, Distribution] = field(default_factory=dict)  # by key

    def has_module(self, top: str) -> bool:
        return top in self.modules or top in self.providers

    def distributions_for(self, module: str) -> tuple[Distribution, ...]:
        parts = module.split(".")
        if len(parts) > 1:
            nested = self.providers.get(f"{parts[0]}.{parts[1]}")
            if nested:
                return nested
        return self.providers.get(parts[0], ())


def _split_metadata_folder(entry: str) -> tuple[str, str]:
    """`PyYAML-6.0.3.dist-info` -> ("PyYAML", "6.0.3"); egg-info adds `-py3.11`."""
    stem = entry.rsplit(".", 1)[0]
    parts = stem.split("-")
    name = parts[0]
    version = parts[1] if len(parts) > 1 else ""
    return name, version


def _record_paths(metadata: Path) -> Iterator[str]:
    """Installed file paths from RECORD (dist-info) or installed-files.txt (egg-info)."""
    record = metadata / "RECORD"
    try:
        if record.is_file():
            with record.open(encoding="utf-8", errors="replace", newline="") as handle:
                for line in handle:
                    if line.startswith('"'):
                        row = next(csv.reader([line]), [])
                        path = row[0] if row else ""
                    else:
                        path = line.split(",", 1)[0]
                    if path:
                        yield path
            return
        installed = metadata / "installed-files.txt"
        if installed.is_file():
            base = metadata.parent
            for line in installed.read_text(encoding="utf-8", errors="replace").splitlines():
                if line.strip():
                    relative = os.path.relpath(os.path.normpath(metadata / line.strip()), base)
                    yield relative.replace(os.sep, "/")
    except OSError:
        return


def _pth_folders(pth: Path, site_folder: Path) -> list[Path]:
    """Folders a .pth file adds to sys.path. Lines starting with `import` are skipped:
    they are code, and Clearsight never runs environment code."""
    try:
        text = pth.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    folders = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "import ", "import\t")):
            continue
        folder = Path(line) if os.path.isabs(line) else site_folder / line
        if folder.is_dir():
            folders.append(folder)
    return folders


def _editable_mapping(finder: Path) -> dict[str, str]:
    """setuptools' editable finder module's `MAPPING = {...}` literal, read with ast."""
    try:
        tree = ast.parse(finder.read_bytes())
    except (OSError, SyntaxError, ValueError):
        return {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "MAPPING" for t in node.targets
        ):
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                return {}
            if isinstance(value, dict):
                return {str(k): str(v) for k, v in value.items()}
    return {}


def _outside_packages(first: str) -> bool:
    """A RECORD path's first component that holds no importable module (metadata,
    scripts and data installed outside site-packages)."""
    return first in ("..", "") or first.endswith((".dist-info", ".egg-info", ".data"))


def _tops_from_file(first: str, site_folder: Path) -> set[str]:
    """Top-level modules a file directly in site-packages provides: a module, or the
    modules an editable install's `.pth` file or finder points to."""
    if first.startswith("__editable__") and first.endswith(".pth"):
        tops: set[str] = set()
        for folder in _pth_folders(site_folder / first, site_folder):
            tops.update(FOLDERS.get(str(folder)).names)
        return tops
    if first.startswith("__editable___") and first.endswith("_finder.py"):
        return set(_editable_mapping(site_folder / first))
    name = module_name(first, is_dir=False)
    return {name} if name is not None else set()


def _second_level(parts: list[str]) -> str | None:
    """The public second-level module a package path names (`google/protobuf/x.py`)."""
    second = parts[1] if len(parts) > 2 else module_name(parts[1], is_dir=False)
    if second and second.isidentifier() and not second.startswith("__"):
        return second
    return None


def _tops_from_paths(
    paths: Iterable[str], site_folder: Path
) -> tuple[set[str], dict[str, set[str]], set[str]]:
    """Top-level modules, second-level names per top, and tops that are regular packages."""
    tops: set[str] = set()
    nested: dict[str, set[str]] = {}
    regular: set[str] = set()
    for path in paths:
        parts = path.split("/")
        first = parts[0]
        if _outside_packages(first):
            continue
        if len(parts) == 1:
            tops.update(_tops_from_file(first, site_folder))
            continue
        if first == "__pycache__" or not first.isidentifier():
            continue
        tops.add(first)
        if parts[1] == "__init__.py":
            regular.add(first)
        second = _second_level(parts)
        if second:
            nested.setdefault(first, set()).add(second)
    return tops, nested, regular


def _namespace_seconds(nested: dict[str, set[str]], regular: set[str]) -> dict[str, set[str]]:
    """Second-level names of the tops that may be namespace packages (no __init__.py)."""
    return {top: names for top, names in nested.items() if top not in regular}


def _read_top_level(metadata: Path) -> list[str] | None:
    try:
        text = (metadata / "top_level.txt").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    return [line.strip().replace("/", ".").split(".")[0] for line in text.splitlines() if line]


@dataclass
class _Scan:
    """What `scan` has found so far, across an environment's site folders."""

    modules: set[str] = field(default_factory=set)
    providers: dict[str, list[Distribution]] = field(default_factory=dict)
    distributions: dict[str, Distribution] = field(default_factory=dict)
    nested_by_dist: dict[Distribution, dict[str, set[str]]] = field(default_factory=dict)
    # Distributions known from top_level.txt: their RECORD is read only when needed.
    namespace_candidates: dict[Distribution, Path] = field(default_factory=dict)

    def read_site(self, site_folder: Path) -> None:
        try:
            entries = sorted(os.listdir(site_folder))
        except OSError:
            return
        self.modules.update(FOLDERS.get(str(site_folder)).names)
        for entry in entries:
            self._read_path_entry(site_folder, entry)
            if entry.endswith(_METADATA_SUFFIXES):
                self._read_distribution(site_folder, entry)

    def _read_path_entry(self, site_folder: Path, entry: str) -> None:
        """Modules a `.pth` file or an editable finder adds to the import path."""
        if entry.endswith(".pth"):
            for extra in _pth_folders(site_folder / entry, site_folder):
                self.modules.update(FOLDERS.get(str(extra)).names)
        elif entry.startswith("__editable___") and entry.endswith("_finder.py"):
            self.modules.update(_editable_mapping(site_folder / entry))

    def _read_distribution(self, site_folder: Path, entry: str) -> None:
        name, version = _split_metadata_folder(entry)
        dist = Distribution(name, version, site_folder / entry)
        if dist.key in self.distributions:
            return  # an earlier site folder shadows this one, as on sys.path
        self.distributions[dist.key] = dist
        listed = _read_top_level(dist.metadata)
        if listed is None:
            tops, nested, regular = _tops_from_paths(_record_paths(dist.metadata), site_folder)
            self.nested_by_dist[dist] = _namespace_seconds(nested, regular)
        else:
            tops = {top for top in listed if top.isidentifier()}
            self.namespace_candidates[dist] = site_folder
        for top in tops:
            self.providers.setdefault(top, []).append(dist)

    def read_shared_namespaces(self) -> None:
        """A top-level name several distributions share is a namespace package (google,
        azure): tell them apart by their second-level names, read from RECORD."""
        for dists in self.providers.values():
            if len(dists) < 2:
                continue
            for dist in dists:
                if dist not in self.nested_by_dist and dist in self.namespace_candidates:
                    _, nested, regular = _tops_from_paths(
                        _record_paths(dist.metadata), self.namespace_candidates[dist]
                    )
                    self.nested_by_dist[dist] = _namespace_seconds(nested, regular)

    def packages(self) -> InstalledPackages:
        final: dict[str, tuple[Distribution, ...]] = {
            k: tuple(v) for k, v in self.providers.items()
        }
        for dist, nested in self.nested_by_dist.items():
            for top, seconds in nested.items():
                if len(self.providers.get(top, ())) < 2:
                    continue
                for second in seconds:
                    key = f"{top}.{second}"
                    final[key] = (*final.get(key, ()), dist)
        return InstalledPackages(frozenset(self.modules), final, self.distributions)


def scan(environment: Environment) -> InstalledPackages:
    """Read an environment's site-packages (no caching: see `installed_packages`)."""
    found = _Scan()
    for site_folder in environment.site_packages:
        found.read_site(site_folder)
    found.read_shared_namespaces()
    return found.packages()


def site_packages_stamp(environment: Environment) -> tuple[int, ...]:
    """Changes when a distribution is installed or removed (its metadata folder comes/goes)."""
    stamps = []
    for folder in environment.site_packages:
        found = disk_view.stat(str(folder))
        stamps.append(-1 if found is None else found.st_mtime_ns)
    return tuple(stamps)


_CACHE: dict[Environment, tuple[tuple[int, ...], InstalledPackages]] = {}
_CACHE_LOCK = threading.Lock()


def installed_packages(environment: Environment) -> InstalledPackages:
    """The environment's packages, re-read only when a site-packages folder changed
    (installing or removing a distribution adds or removes its metadata folder)."""
    stamp = site_packages_stamp(environment)
    cached = _CACHE.get(environment)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    packages = scan(environment)
    with _CACHE_LOCK:
        _CACHE[environment] = (stamp, packages)
    return packages


def stdlib_modules(environment: Environment) -> frozenset[str]:
    """Modules found in the environment's standard-library folders (Lib, lib-dynload)."""
    names: set[str] = set()
    for folder in environment.stdlib:
        names.update(FOLDERS.get(str(folder)).names)
    names.discard("site-packages")
    return frozenset(names)


# -- the environment of a file's project ---------------------------------------------------------

VENV_FOLDERS = (".venv", "venv")


@dataclass(frozen=True)
class ProjectEnvironment:
    """The environment a project's imports are looked up in, and how it was chosen."""

    environment: Environment
    project: Path | None
    # For the front end to say once per project: the fallback to the Python running
    # Clearsight, or why the configured interpreter could not be used (`problem`).
    notice: str | None = None
    problem: bool = False


def _configured_path(value: str, base: str | None, project: Path | None) -> Path:
    """A configured path; a relative one is relative to the folder of the pyproject.toml
    that configured it, else to the project root."""
    path = Path(os.path.expanduser(value.strip()))
    if path.is_absolute():
        return path
    return Path(base or project or os.getcwd()) / path


def _own_environment(why: str) -> Environment:
    """The Python running Clearsight's environment, described with why it is used."""
    current = Environment.current()
    description = f"the environment of the Python running Clearsight ({sys.executable}; {why})"
    return replace(current, description=description)


def resolve_project_environment(
    project: Path | None, python: str | None, base: str | None, setting: str
) -> ProjectEnvironment:
    """The configured interpreter, else the project's `.venv/` or `venv/` (a folder with a
    pyvenv.cfg), else the Python running Clearsight. Files are read; nothing is run (the
    workspace, and so its interpreter, is not trusted)."""
    if python is not None:
        path = _configured_path(python, base, project)
        found = Environment.at(path)
        if found is not None:
            description = f"{found.description} (set by {setting})"
            return ProjectEnvironment(replace(found, description=description), project)
        why = "does not exist" if not path.exists() else "is not a Python environment"
        notice = (
            f"The interpreter {path} ({setting}) {why}. Using the environment of the Python "
            f"running Clearsight ({sys.executable}) instead."
        )
        environment = _own_environment(f"the configured {path} {why}")
        return ProjectEnvironment(environment, project, notice, problem=True)
    for name in VENV_FOLDERS:
        if project is not None and _is_venv(project, name):
            found = Environment.from_prefix(project / name)
            description = f"{found.description} (the project's {name})"
            return ProjectEnvironment(replace(found, description=description), project)
    where = f"the project at {project}" if project is not None else "files outside a project"
    notice = (
        f"No interpreter is configured and there is no .venv or venv for {where}: its "
        "imports are looked up in the environment of the Python running Clearsight "
        f"({sys.executable}). Set [tool.clearsight.dependencies] python (or `clearsight "
        "check --python`, or the editor's interpreter) to the project's interpreter."
    )
    environment = _own_environment("no project interpreter is configured")
    return ProjectEnvironment(environment, project, notice)


def _is_venv(project: Path | None, name: str) -> bool:
    return project is not None and disk_view.is_file(os.path.join(project, name, "pyvenv.cfg"))


class ProjectEnvironments:
    """One place the dependency checks get a file's environment from, cached per (project
    root, configured interpreter).

    A check that has the file's settings passes them, and that configuration is remembered
    for the project; a caller without them (`ApiExistenceCheck.finder_for`) gets the
    environment of the project's remembered configuration. The engine runs the import
    checks before the API check, so for one file both use the same environment.
    """

    def __init__(self) -> None:
        self._resolved: dict[tuple[object, ...], ProjectEnvironment] = {}
        self._configured: dict[Path | None, tuple[str | None, str | None, str]] = {}
        # Project roots by folder: finding one takes dozens of stat calls, asked per file.
        self._roots: dict[str, Path | None] = {}
        self._lock = threading.Lock()

    def project_of(self, path: str) -> Path | None:
        if path.startswith("<"):  # "<buffer>", "<stdin>": no place on disk
            return None
        folder = os.path.dirname(os.path.abspath(path))
        if folder not in self._roots:
            root = find_project_root(Path(folder))
            with self._lock:
                if len(self._roots) > 4096:
                    self._roots.clear()
                self._roots[folder] = root
        return self._roots.get(folder)

    def for_file(self, path: str, settings: Settings | None = None) -> ProjectEnvironment:
        project = self.project_of(path)
        if settings is not None:
            dependencies = settings.dependencies
            configured = (dependencies.python, settings.root, dependencies.python_setting)
            with self._lock:
                self._configured[project] = configured
        else:
            configured = self._configured.get(project, (None, None, ""))
        python, base, setting = configured
        if python is not None:  # an environment created since is found at once (one stat)
            exists = _configured_path(python, base, project).exists()
            key: tuple[object, ...] = (project, python, base, setting, exists)
        else:  # likewise a .venv (two stat calls)
            key = (project, *(_is_venv(project, name) for name in VENV_FOLDERS))
        found = self._resolved.get(key)
        if found is None:
            found = resolve_project_environment(project, python, base, setting)
            with self._lock:
                if len(self._resolved) > 256:
                    self._resolved.clear()
                self._resolved[key] = found
        return found

    def clear(self) -> None:
        """Forget resolutions (a .venv or pyproject.toml created, a setting changed since)."""
        with self._lock:
            self._resolved.clear()
            self._configured.clear()
            self._roots.clear()


ENVIRONMENTS = ProjectEnvironments()
