"""Non-existent APIs: module attributes that are not there (`json.parse`, `os.path.joinpath`).

`CS-D005`: `from m import name`, `m.name` or `m.sub.name` where the module `m` is found
(in the project, the standard library or the environment's site-packages) and its source
or stub defines no `name`. AI assistants invent functions that sound right; the call
fails with AttributeError (or ImportError) only when that line runs.

Modules are read, never imported (`clearsight.deps.api`); nothing is reported where the
files cannot settle it: modules with a module-level `__getattr__`, that write their own
namespace, star-import what cannot be read, or are compiled without a stub; private names
of stub-only modules; uses guarded by `hasattr`, version or platform tests or a `try` that
catches AttributeError. A use is reported with the closest existing names; when exactly one
is close, a fix replaces the name with it.
"""

from __future__ import annotations

import difflib
import threading
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path

from clearsight.checks.base import Rule, docs_url
from clearsight.deps.api import ModuleFinder, ModuleMembers
from clearsight.deps.environment import ENVIRONMENTS, Environment
from clearsight.deps.listing import FOLDERS
from clearsight.deps.project import find_project_root, local_search_folders
from clearsight.deps.references import (
    AttributeUse,
    FileUses,
    FromImport,
    absolute,
    file_uses,
)
from clearsight.deps.typos import osa_distance
from clearsight.model import Family, Finding, Fix, Severity, Span, TextEdit
from clearsight.settings import Settings
from clearsight.source import SourceText

NONEXISTENT_API = "CS-D005"

# Names assistants carry over from other languages and libraries, with what the module
# offers instead: (module, name) -> existing name.
KNOWN_MIX_UPS: dict[tuple[str, str], str] = {
    ("json", "parse"): "loads",
    ("json", "stringify"): "dumps",
    ("re", "replace"): "sub",
    ("re", "matchAll"): "finditer",
    ("subprocess", "run_command"): "run",
    ("subprocess", "exec"): "run",
    ("os.path", "joinpath"): "join",
    ("os", "exists"): "path.exists",
    ("time", "now"): "time",
}
_MAX_SUGGESTIONS = 3


def _pool(members: Iterable[ModuleMembers], name: str) -> set[str]:
    """Names to suggest from: public ones, unless the unknown name is private itself."""
    pool: set[str] = set()
    for found in members:
        pool.update(found.names | found.submodules)
    if name.startswith("_"):
        return pool
    return {candidate for candidate in pool if not candidate.startswith("_")}


def _within_edits(pool: set[str], name: str) -> list[str]:
    """The names fewest edits away (one or two; one for short names), case aside."""
    limit = 1 if len(name) <= 4 else 2
    lowered = name.lower()
    near = sorted(
        (osa_distance(lowered, candidate.lower(), limit), candidate)
        for candidate in pool
        if abs(len(candidate) - len(name)) <= limit
    )
    best = near[0][0] if near else limit + 1
    return [candidate for distance, candidate in near if distance == best <= limit]


def _near(pool: set[str], name: str) -> list[str]:
    """Names a slip away; else difflib's close matches; else the longest existing names
    `name` starts with (`joinpath` -> `join`)."""
    found = _within_edits(pool, name)
    if not found:
        found = difflib.get_close_matches(name, sorted(pool), n=_MAX_SUGGESTIONS, cutoff=0.8)
    if not found:
        prefixed = [c for c in pool if len(c) >= 4 and name.startswith(c)]
        found = sorted(prefixed, key=len, reverse=True)
    return found[:_MAX_SUGGESTIONS]


def _suggestions(
    members: Iterable[ModuleMembers], module: str, name: str
) -> tuple[list[str], bool]:
    """Existing names closest to `name`, and whether they come from the edit distance
    (True) or from the table of known mix-ups (False: `json.parse` -> `json.loads` is the
    likely intent, not a spelling slip, so its fix is offered but never applied in bulk)."""
    pool = _pool(members, name)
    known = KNOWN_MIX_UPS.get((module, name))
    if known is not None and known.split(".")[0] in pool:
        return [known], False
    return _near(pool, name), True


def package_of(path: str) -> str | None:
    """The dotted package a file sits in (its folder and the package folders above it),
    None outside a package or for a buffer without a path."""
    if path.startswith("<"):
        return None
    folder = Path(path).absolute().parent
    parts: list[str] = []
    while FOLDERS.get(str(folder)).is_package and folder.parent != folder:
        parts.insert(0, folder.name)
        folder = folder.parent
    return ".".join(parts) or None


def _absolute_modules(
    modules: dict[str, frozenset[str]], package: str | None
) -> dict[str, frozenset[str]]:
    """Relative targets resolved; a name with a target that cannot be resolved is dropped."""
    found: dict[str, frozenset[str]] = {}
    for name, targets in modules.items():
        resolved = {absolute(target, package) for target in targets}
        if None not in resolved:
            found[name] = frozenset(t for t in resolved if t is not None)
    return found


class ApiExistenceCheck:
    family = Family.DEPENDENCIES
    needs_tree = True

    def __init__(self, environment: Environment | None = None) -> None:
        """`environment`: where installed packages are read (default: each file's project
        environment, `ENVIRONMENTS`; the built-in modules of the Python running Clearsight
        are known when that is its environment)."""
        self._environment = environment
        self._finders: dict[tuple[str, ...], ModuleFinder] = {}
        self._lock = threading.Lock()

    def environment_for(self, path: str, settings: Settings | None = None) -> Environment:
        """The environment given to the constructor, else the file's project's (the one
        the dependency check resolved with the file's settings, when not given them)."""
        if self._environment is not None:
            return self._environment
        return ENVIRONMENTS.for_file(path, settings).environment

    def enabled(self, settings: Settings) -> bool:
        return settings.dependencies.enabled

    def rules(self) -> Iterable[Rule]:
        yield Rule(
            code=NONEXISTENT_API,
            name="nonexistent-api",
            family=self.family,
            summary="Module has no such attribute: possibly a hallucinated function",
            help=(
                "The module is found (in the project, the standard library or the "
                "environment) and its source or stub defines no such name, so the line fails "
                "with AttributeError or ImportError when it runs. AI assistants invent "
                "functions that sound right (`json.parse`, `os.path.joinpath`). Use the name "
                "the module really has (the message lists the closest ones) and check the "
                "library's documentation. Modules that create names at run time (a module "
                "`__getattr__`, writes to `globals()`) and compiled modules without stubs are "
                "never judged."
            ),
            docs_url=docs_url(NONEXISTENT_API),
            default_severity=Severity.WARNING,
        )

    def finder_for(self, path: str, settings: Settings | None = None) -> ModuleFinder:
        """The module finder for a file: its project folders, then its environment."""
        local: list[Path] = []
        if not path.startswith("<"):
            folder = Path(path).absolute().parent
            # Inside a package, the package folders are not on the import path (`import
            # subprocess` in asyncio/ is the standard library's, not asyncio/subprocess.py).
            local = [
                entry
                for entry in local_search_folders(folder, find_project_root(folder))
                if not FOLDERS.get(str(entry)).is_package
            ]
        environment = self.environment_for(path, settings)
        folders = (*map(str, local), *map(str, environment.stdlib),
                   *map(str, environment.site_packages))  # fmt: skip
        finder = self._finders.get(folders)
        if finder is None:
            current = environment == Environment.current()
            finder = ModuleFinder.for_folders(folders, current_interpreter=current)
            with self._lock:
                if len(self._finders) > 256:
                    self._finders.clear()
                self._finders[folders] = finder
        return finder

    def run(self, source: SourceText, settings: Settings) -> Iterator[Finding]:
        yield from self.run_uses(source, settings, file_uses(source))

    def run_uses(self, source: SourceText, settings: Settings, uses: FileUses) -> Iterator[Finding]:
        """`run`, given the source's uses (the editor's incremental analysis collects them
        statement by statement, `segment_uses`, without parsing the whole text)."""
        if not uses.uses and not uses.from_imports:
            return
        finder = self.finder_for(source.path, settings)
        finder.new_run()
        package = package_of(source.path)
        for item in uses.from_imports:
            module = absolute(item.module, package)
            finding = None if module is None else self._check_from_import(
                source, finder, replace(item, module=module)
            )  # fmt: skip
            if finding is not None:
                yield finding
        modules = _absolute_modules(uses.modules, package)
        for use in uses.uses:
            if use.root in modules:
                finding = self._check_use(source, finder, modules[use.root], use)
                if finding is not None:
                    yield finding

    # -- judging --------------------------------------------------------------------------

    def _missing(self, members: tuple[ModuleMembers, ...], name: str) -> bool:
        """True only when every module the name may come from surely lacks it."""
        if not members or (name.startswith("__") and name.endswith("__")):
            return False
        for found in members:
            if found.open_reason is not None or found.has(name):
                return False
            if found.stub and (name.startswith("_") or "._" in f".{found.dotted}"):
                return False  # stubs leave private names (and private modules' names) out
        return True

    def _check_from_import(
        self, source: SourceText, finder: ModuleFinder, item: FromImport
    ) -> Finding | None:
        members = finder.resolve(item.module)
        if not self._missing(members, item.name):
            return None
        line = item.line
        start = source.byte_to_char_column(line, item.column)
        span = Span.of(line, start, line, start + len(item.name))
        if source.line_text(line)[start : start + len(item.name)] != item.name:
            return None
        suggestions, by_distance = _suggestions(members, item.module, item.name)
        new_text = None
        if len(suggestions) == 1 and "." not in suggestions[0]:
            new_text = suggestions[0] if item.alias else f"{suggestions[0]} as {item.name}"
        return self._finding(
            span,
            item.module,
            item.name,
            members,
            (suggestions, by_distance),
            new_text,
            "ImportError",
        )

    def _check_use(
        self,
        source: SourceText,
        finder: ModuleFinder,
        modules: frozenset[str],
        use: AttributeUse,
    ) -> Finding | None:
        current: list[ModuleMembers] = []
        for module in sorted(modules):
            current.extend(finder.resolve_target(module))
        if not current or len(current) < len(modules):
            return None  # one of the modules the name may be cannot be read
        dotted = sorted(modules)[0].replace(":", ".")
        for attr, (line, end) in zip(use.attrs, use.ends, strict=True):
            members = tuple(current)
            if self._missing(members, attr):
                return self._use_finding(source, dotted, attr, members, line, end)
            following: list[ModuleMembers] = []
            for owner in members:
                following.extend(finder.member_modules(owner, attr))
            if not following:
                return None  # a class, function or value: its attributes are not judged
            current, dotted = following, f"{dotted}.{attr}"
        return None

    def _use_finding(
        self,
        source: SourceText,
        dotted: str,
        attr: str,
        members: tuple[ModuleMembers, ...],
        line: int,
        end: int,
    ) -> Finding | None:
        end_char = source.byte_to_char_column(line, end)
        start = end_char - len(attr)
        if start < 0 or source.line_text(line)[start:end_char] != attr:
            return None
        suggestions, by_distance = _suggestions(members, dotted, attr)
        new_text = suggestions[0] if len(suggestions) == 1 else None
        span = Span.of(line, start, line, end_char)
        return self._finding(
            span, dotted, attr, members, (suggestions, by_distance), new_text, "AttributeError"
        )

    def _finding(
        self,
        span: Span,
        module: str,
        name: str,
        members: tuple[ModuleMembers, ...],
        suggested: tuple[list[str], bool],
        new_text: str | None,
        error: str,
    ) -> Finding:
        suggestions, by_distance = suggested
        where = " or ".join(f"`{m.dotted}`" for m in members)
        origin = "its stub" if all(m.stub for m in members) else "its source"
        hint = ""
        if suggestions:
            hint = " Did you mean " + " or ".join(f"`{module}.{s}`" for s in suggestions) + "?"
        message = (
            f"`{module}` has no `{name}`: {where} is found and {origin} defines no such name, "
            f"so this fails with {error} when it runs."
            " AI assistants invent functions that sound right; "
            "check the library's documentation for the real name." + hint
        )
        fixes: tuple[Fix, ...] = ()
        if new_text is not None:
            edit = TextEdit(span, new_text)
            title = f"Replace `{name}` with `{suggestions[0]}`"
            fixes = (Fix(title=title, edits=(edit,), safe=by_distance),)
        return Finding(
            code=NONEXISTENT_API,
            family=self.family,
            severity=Severity.WARNING,
            message=message,
            span=span,
            docs_url=docs_url(NONEXISTENT_API),
            fixes=fixes,
            metrics={"module": module, "name": name, "did_you_mean": suggestions},
        )
