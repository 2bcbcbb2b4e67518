"""Dependencies: hallucinated, undeclared and typosquatted imports.

Each import's top-level module is placed (`clearsight.deps.resolve`): standard library,
the project's own code, the environment's site-packages, or nowhere. Files are only
read, never imported or run. Then:

- `CS-D001` unresolvable import: nowhere, and not declared. A name that is not on PyPI
  either (bundled snapshot) is the strongest sign of a hallucinated package.
- `CS-D002` undeclared dependency: installed, but the project's declarations
  (pyproject.toml, setup.cfg, requirements files) do not list its distribution.
- `CS-D003` possible typosquat: the distribution is one or two edits from a popular one
  and not popular itself (`reqeusts`), or a declared requirement is (`python-dateutils`).
- `CS-D004` the project's declarations could not be read, so CS-D002 cannot be decided.

Optional imports (`try/except ImportError`, `contextlib.suppress(ImportError)`), imports
for some Python versions or platforms only, and `if TYPE_CHECKING:` imports are reported
one severity lower; for them, a missing module that exists on PyPI is by design and not
reported. Imports expected to fail (`assertRaises(ImportError)`) are never reported.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from clearsight.checks.base import Rule, docs_url
from clearsight.deps.environment import ENVIRONMENTS, Environment
from clearsight.deps.imports import ImportedModule, ImportScan, scan_imports
from clearsight.deps.names import DISTRIBUTION_TO_IMPORT, PYTHON2_MODULES, normalize
from clearsight.deps.project import Declarations
from clearsight.deps.pypi import PyPIIndex, bundled_index, snapshot_info
from clearsight.deps.pyproject_edit import declaration_edit
from clearsight.deps.resolve import FileContext, Origin, Resolution
from clearsight.deps.typos import Near
from clearsight.model import Family, Finding, Fix, Severity, Span, TextEdit
from clearsight.settings import Settings
from clearsight.source import SourceText

UNRESOLVABLE_IMPORT = "CS-D001"
UNDECLARED_DEPENDENCY = "CS-D002"
POSSIBLE_TYPOSQUAT = "CS-D003"
UNREADABLE_DECLARATIONS = "CS-D004"

_EDITS = {1: "one edit", 2: "two edits"}


def _lower(severity: Severity) -> Severity:
    return Severity(min(severity + 1, Severity.HINT))


def _relaxed(imported: ImportedModule) -> bool:
    """Imports the code is written to survive without, or that never run."""
    guard = imported.guard
    return guard.optional or guard.conditional or guard.type_checking


def _why_relaxed(imported: ImportedModule) -> str:
    guard = imported.guard
    if guard.optional:
        return " It is an optional import (the code handles ImportError)."
    if guard.type_checking:
        return " It is imported for type checking only."
    if guard.conditional:
        return " It is imported for some Python versions or platforms only."
    return ""


@dataclass
class _FileState:
    """Per-file bookkeeping while findings are produced."""

    source: SourceText
    scan: ImportScan
    context: FileContext
    settings: Settings
    reported_declarations: bool = False
    typo_declarations: dict[str, tuple[str, str, Near]] = field(default_factory=dict)


class DependencyCheck:
    family = Family.DEPENDENCIES
    needs_tree = True

    def __init__(
        self,
        environment: Environment | None = None,
        index: Callable[[], PyPIIndex] = bundled_index,
    ) -> None:
        """`environment`: where installed packages are looked for (default: each file's
        project environment, `ENVIRONMENTS`). `index`: the PyPI snapshot, loaded on first
        need."""
        self._environment = environment
        self._index = index
        self._typo_cache: dict[Declarations, dict[str, tuple[str, str, Near]]] = {}

    def environment_for(self, path: str, settings: Settings | None = None) -> Environment:
        """The environment given to the constructor, else the file's project's."""
        if self._environment is not None:
            return self._environment
        return ENVIRONMENTS.for_file(path, settings).environment

    def enabled(self, settings: Settings) -> bool:
        return settings.dependencies.enabled

    def rules(self) -> Iterable[Rule]:
        snapshot = snapshot_info().snapshot
        yield Rule(
            code=UNRESOLVABLE_IMPORT,
            name="unresolvable-import",
            family=self.family,
            summary="Imported module is nowhere: possibly a hallucinated package",
            help=(
                "The module is not in the standard library, not part of the project, not "
                "installed in the environment and not declared as a dependency. AI "
                "assistants invent plausible package names, and attackers register those "
                "names on PyPI. When no package of that name exists on PyPI (bundled "
                f"snapshot {snapshot}) the import is reported as a warning: check the "
                "library's documentation for the real name and never install a guessed "
                "one. When a package of that name exists it is reported as information "
                "(in projects that declare dependencies): make sure it is the library you "
                "mean, then install and declare it. Optional imports (try/except "
                "ImportError), version- or platform-specific ones and TYPE_CHECKING ones are "
                "one severity lower, and not reported at all when the package exists."
            ),
            docs_url=docs_url(UNRESOLVABLE_IMPORT),
            default_severity=Severity.WARNING,
        )
        yield Rule(
            code=UNDECLARED_DEPENDENCY,
            name="undeclared-dependency",
            family=self.family,
            summary="Installed package is imported but not declared as a dependency",
            help=(
                "The module comes from a distribution installed in the environment, but the "
                "project's declarations (pyproject.toml, setup.cfg, requirements files) do "
                "not list it, so the code works here and fails wherever the project is "
                "installed from its declarations. Add the distribution to [project] "
                "dependencies in pyproject.toml (or to your requirements file)."
            ),
            docs_url=docs_url(UNDECLARED_DEPENDENCY),
            default_severity=Severity.WARNING,
        )
        yield Rule(
            code=POSSIBLE_TYPOSQUAT,
            name="possible-typosquat",
            family=self.family,
            summary="Package name is a small edit away from a popular package",
            help=(
                "The distribution's name is one edit (two for long names; Damerau-"
                "Levenshtein) from one of the 15,000 most downloaded packages (PyPI snapshot "
                f"{snapshot}) and is not popular itself: a typo, or a typosquat registered to "
                "catch that typo and run code on install. The shorter the name, the more "
                "popular the package it must resemble (a 4-letter name is compared with the "
                "top 250 only), so that chance resemblances stay rare. Use the popular "
                "package's name; if the look-alike is installed, uninstall it and check what "
                "its installation ran."
            ),
            docs_url=docs_url(POSSIBLE_TYPOSQUAT),
            default_severity=Severity.WARNING,
        )
        yield Rule(
            code=UNREADABLE_DECLARATIONS,
            name="unreadable-dependency-declarations",
            family=self.family,
            summary="The project's dependency declarations could not be read",
            help=(
                "pyproject.toml, setup.cfg or a requirements file could not be read or "
                "parsed, so whether an import is declared cannot be decided and undeclared "
                "dependencies (CS-D002) are not reported. Fix the file named in the message."
            ),
            docs_url=docs_url(UNREADABLE_DECLARATIONS),
            default_severity=Severity.WARNING,
        )

    # -- running ------------------------------------------------------------------------------

    def run(self, source: SourceText, settings: Settings) -> Iterator[Finding]:
        yield from self.run_scan(source, settings, scan_imports(source))

    def run_scan(
        self, source: SourceText, settings: Settings, scan: ImportScan
    ) -> Iterator[Finding]:
        """`run`, given the scan of `source`'s imports (the editor's incremental analysis
        combines it from the scans of the statements it re-checked)."""
        # Resolved first, so the project's configuration is known to the API check too.
        environment = self.environment_for(source.path, settings)
        if not scan.compiles or not scan.imports:
            return
        context = FileContext.for_path(source.path, environment)
        state = _FileState(source, scan, context, settings)
        for imported in scan.imports:
            if imported.guard.expected_to_fail:
                continue
            resolution = context.resolve(imported)
            if resolution.origin in (Origin.INSTALLED, Origin.MISSING):
                yield from self._third_party(state, imported, resolution)

    def _third_party(
        self, state: _FileState, imported: ImportedModule, resolution: Resolution
    ) -> Iterator[Finding]:
        missing = resolution.origin is Origin.MISSING
        replacement = PYTHON2_MODULES.get(imported.top)
        if missing and replacement is not None:
            yield from self._python2_module(imported, replacement)
            return
        if missing and state.scan.extends_import_path:
            # The file adds to the import path at run time: a module missing here may be
            # found there, and its name says nothing about PyPI.
            return
        typo = self._typosquat(state, imported, resolution)
        if typo is not None:
            yield typo
            return
        decides, unreadable = self._declarations_decide(state, imported, resolution)
        if unreadable is not None:
            yield unreadable
        if resolution.origin is Origin.INSTALLED:
            yield from self._installed(state, imported, resolution, decides)
            return
        if resolution.declared:
            return
        yield from self._unresolvable(state, imported, resolution, decides)

    def _python2_module(self, imported: ImportedModule, replacement: str) -> Iterator[Finding]:
        # Python 2/3 compatibility code tries the old name first, whatever it catches.
        if _relaxed(imported) or imported.guard.in_try:
            return
        message = (
            f"`{imported.top}` is a Python 2 standard-library module that Python 3 "
            f"does not have: use `{replacement}` instead."
        )
        yield self._finding(UNRESOLVABLE_IMPORT, Severity.WARNING, message, imported)

    def _declarations_decide(
        self, state: _FileState, imported: ImportedModule, resolution: Resolution
    ) -> tuple[bool, Finding | None]:
        """Whether "not declared" can be decided for this import, and the file's one
        CS-D004 finding when unreadable declarations make it undecidable."""
        declarations = state.context.declarations
        if declarations is None:
            return False, None
        if not declarations.problems or resolution.declared:
            return declarations.declares_anything, None
        # Some declarations could not be read: the import may be declared in them.
        problems = _unreported_problems(declarations, state.settings)
        if not problems or state.reported_declarations:
            return False, None
        state.reported_declarations = True
        return False, self._unreadable_declarations(imported, problems)

    def _installed(
        self,
        state: _FileState,
        imported: ImportedModule,
        resolution: Resolution,
        decides: bool,
    ) -> Iterator[Finding]:
        if decides and not resolution.declared and resolution.installed:
            yield self._undeclared(state, imported, resolution)

    # -- CS-D001 ------------------------------------------------------------------------------

    def _unresolvable(
        self,
        state: _FileState,
        imported: ImportedModule,
        resolution: Resolution,
        decides: bool,
    ) -> Iterator[Finding]:
        top = imported.top
        where = state.context.environment.description
        index = self._index()
        snapshot = index.snapshot
        on_pypi = [name for name in resolution.published if index.exists(name)]
        provided_by = ""
        if resolution.curated:
            provided_by = f" (usually provided by the distribution `{resolution.curated}`)"
            on_pypi = [
                resolution.curated if name == normalize(resolution.curated) else name
                for name in on_pypi
            ]
        if on_pypi:
            # A real package that is merely not installed is the usual case (a fresh
            # checkout, another interpreter): information, and only where "not declared"
            # means something. Optional and conditional imports are allowed to be missing.
            if _relaxed(imported) or not decides:
                return
            message = (
                f"`{top}`{provided_by} is not installed in {where} and not declared as a "
                f"dependency. A package named `{on_pypi[0]}` exists on PyPI (snapshot "
                f"{snapshot}): make sure it is the library you mean (AI assistants invent "
                "plausible names and attackers register them), then install it and declare "
                "it in pyproject.toml."
            )
            yield self._finding(
                UNRESOLVABLE_IMPORT, Severity.INFO, message, imported,
                metrics={"module": top, "on_pypi": True, "snapshot": snapshot},
            )  # fmt: skip
            return
        severity = Severity.WARNING
        if _relaxed(imported):
            severity = _lower(severity)
        message = (
            f"`{top}` cannot be found: it is not in the standard library, not part of this "
            f"project, not installed in {where}, not declared, and no package of that name "
            f"exists on PyPI (snapshot {snapshot}). It is possibly hallucinated: look up the "
            "real module name in the library's documentation, and never `pip install` a "
            "guessed name (attackers register the names AI assistants invent)."
            + _why_relaxed(imported)
        )
        yield self._finding(
            UNRESOLVABLE_IMPORT, severity, message, imported,
            metrics={"module": top, "on_pypi": False, "snapshot": snapshot},
        )  # fmt: skip

    # -- CS-D002 ------------------------------------------------------------------------------

    def _undeclared(
        self, state: _FileState, imported: ImportedModule, resolution: Resolution
    ) -> Finding:
        declarations = state.context.declarations
        if declarations is None:
            raise ValueError("an undeclared dependency needs the project's declarations")
        names = [dist.display_name() for dist in resolution.installed]
        name = names[0]
        provided = f"`{name}`" if len(names) == 1 else " or ".join(f"`{n}`" for n in names)
        if declarations.add_to is not None:
            how = f"add `{name}` to {declarations.add_to} in pyproject.toml"
        else:
            how = f"add `{name}` to {declarations.sources[0]}"
        severity = Severity.WARNING
        if _relaxed(imported):
            severity = _lower(severity)
        message = (
            f"`{imported.top}` comes from {provided}, installed in "
            f"{state.context.environment.description}, but the project does not declare it "
            f"({', '.join(declarations.sources)}). It works here and fails wherever the "
            f"project is installed from its declarations: {how}." + _why_relaxed(imported)
        )
        return self._finding(
            UNDECLARED_DEPENDENCY, severity, message, imported,
            fixes=_declare_fixes(declarations, name),
            metrics={"module": imported.top, "distribution": name, "add_to": declarations.add_to},
        )  # fmt: skip

    # -- CS-D003 ------------------------------------------------------------------------------

    def _typosquat(
        self, state: _FileState, imported: ImportedModule, resolution: Resolution
    ) -> Finding | None:
        index = self._index()
        candidates = resolution.candidates
        if resolution.curated is not None or any(index.is_popular(n) for n in candidates):
            return self._declared_typo(state, imported, resolution)
        for name in candidates:
            if resolution.origin is Origin.MISSING and _relaxed(imported) and index.exists(name):
                return None  # an optional import of a real package, as in CS-D001
            near = index.near_popular(name)
            if near:
                return self._typo_finding(state, imported, resolution, name, near[0])
        return None

    def _typo_finding(
        self,
        state: _FileState,
        imported: ImportedModule,
        resolution: Resolution,
        name: str,
        near: Near,
    ) -> Finding:
        index = self._index()
        installed = resolution.origin is Origin.INSTALLED
        if installed:
            status = (
                f"It is installed in {state.context.environment.description}: if you did not "
                "mean to install it, uninstall it and check what its install ran."
            )
        elif index.exists(name):
            status = (
                f"A package named `{name}` exists on PyPI (snapshot {index.snapshot}): "
                "typosquats are registered to catch exactly this mistake."
            )
        else:
            status = (
                f"No package named `{name}` exists on PyPI (snapshot {index.snapshot}): the "
                "import fails, and the name is free for an attacker to register."
            )
        suggestion = DISTRIBUTION_TO_IMPORT.get(near.name)
        import_hint = f" (imported as `{suggestion}`)" if suggestion else ""
        message = (
            f"`{name}` is {_EDITS[near.edits]} away from `{near.name}`{import_hint}, a popular "
            f"package (rank {near.rank:,} by downloads, PyPI snapshot {index.snapshot}), and "
            f"is not popular itself. {status} Did you mean `{near.name}`?" + _why_relaxed(imported)
        )
        severity = Severity.WARNING
        if _relaxed(imported):
            severity = _lower(severity)
        fixes = ()
        if normalize(imported.top) == name:
            fix = self._rename_fix(state, imported, near.name)
            fixes = (fix,) if fix is not None else ()
        return self._finding(
            POSSIBLE_TYPOSQUAT, severity, message, imported, fixes=fixes,
            metrics={"distribution": name, "did_you_mean": near.name, "edits": near.edits},
        )  # fmt: skip

    def _declared_typos(self, declarations: Declarations) -> dict[str, tuple[str, str, Near]]:
        """Popular name -> (declared look-alike, where it is declared, distance)."""
        cached = self._typo_cache.get(declarations)
        if cached is not None:
            return cached
        index = self._index()
        found: dict[str, tuple[str, str, Near]] = {}
        for requirement in declarations.requirements:
            if index.is_popular(requirement.key):
                continue
            for near in index.near_popular(requirement.key):
                found.setdefault(near.name, (requirement.name, requirement.where, near))
        if len(self._typo_cache) > 64:
            self._typo_cache.clear()
        self._typo_cache[declarations] = found
        return found

    def _declared_typo(
        self, state: _FileState, imported: ImportedModule, resolution: Resolution
    ) -> Finding | None:
        """The import's popular distribution is not declared, but a look-alike is."""
        declarations = state.context.declarations
        if declarations is None or not declarations.requirements or resolution.declared:
            return None
        typos = self._declared_typos(declarations)
        for name in resolution.candidates:
            if name not in typos:
                continue
            declared, where, near = typos[name]
            index = self._index()
            exists = "exists" if index.exists(declared) else "does not exist"
            message = (
                f"`{imported.top}` comes from `{name}`, but the project declares `{declared}` "
                f"({where}), {_EDITS[near.edits]} away from it. `{declared}` is not a popular "
                f"package and {exists} on PyPI (snapshot {index.snapshot}): installing the "
                f"project's declarations would fetch the look-alike. Did you mean `{name}`? "
                f"Replace `{declared}` with `{name}` in {where.split(':')[0]}."
            )
            return self._finding(
                POSSIBLE_TYPOSQUAT, Severity.WARNING, message, imported,
                metrics={"distribution": declared, "did_you_mean": name, "edits": near.edits},
            )  # fmt: skip
        return None

    def _rename_fix(self, state: _FileState, imported: ImportedModule, popular: str) -> Fix | None:
        """Replace the look-alike with the popular package's import name, where it is sure:
        the curated import name, or the distribution name when it is an identifier."""
        new = DISTRIBUTION_TO_IMPORT.get(popular)
        if new is None and popular.isidentifier():
            new = popular
        if new is None or imported.top_end_column is None:
            return None
        old = imported.top
        edits = [TextEdit(Span.of(imported.line, imported.column, imported.line,
                                  imported.top_end_column), new)]  # fmt: skip
        if imported.kind == "import" and imported.binds_top:
            edits.extend(_rename_uses(state.source, old, new, skip=edits[0].span))
        return Fix(title=f"Replace `{old}` with `{new}`", edits=tuple(edits), safe=False)

    # -- CS-D004 ------------------------------------------------------------------------------

    def _unreadable_declarations(self, imported: ImportedModule, problems: list[str]) -> Finding:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        message = (
            f"The project's dependency declarations could not all be read: {problems[0]}"
            f"{more}. Until that is fixed, whether an import is declared cannot be decided "
            "and undeclared dependencies (CS-D002) are not reported in this file."
        )
        return self._finding(
            UNREADABLE_DECLARATIONS, Severity.WARNING, message, imported,
            metrics={"problems": list(problems)},
        )  # fmt: skip

    # -- helpers ------------------------------------------------------------------------------

    def _finding(
        self,
        code: str,
        severity: Severity,
        message: str,
        imported: ImportedModule,
        fixes: tuple[Fix, ...] = (),
        metrics: dict[str, object] | None = None,
    ) -> Finding:
        span = Span.of(imported.line, imported.column, imported.end_line, imported.end_column)
        return Finding(
            code=code,
            family=self.family,
            severity=severity,
            message=message,
            span=span,
            docs_url=docs_url(code),
            fixes=fixes,
            metrics=dict(metrics or {}),
        )


# Declaration edits by (pyproject.toml, its mtime and size, distribution): findings are
# made on every keystroke, and tomlkit takes milliseconds to edit a file.
_DECLARE_EDITS: dict[tuple[str, int, int, str], TextEdit | None] = {}


def _declare_fixes(declarations: Declarations, distribution: str) -> tuple[Fix, ...]:
    """Declaring the distribution in pyproject.toml's [project] dependencies (tomlkit keeps
    the file's comments and layout). Not safe to apply in bulk: a human decides."""
    pyproject = declarations.pyproject
    if pyproject is None or declarations.add_to != "[project.dependencies]":
        return ()  # Poetry's table or requirements files: not edited here
    try:
        status = pyproject.stat()
    except OSError:
        return ()
    key = (str(pyproject), status.st_mtime_ns, status.st_size, distribution)
    if key not in _DECLARE_EDITS:
        if len(_DECLARE_EDITS) > 256:
            _DECLARE_EDITS.clear()
        _DECLARE_EDITS[key] = declaration_edit(pyproject, distribution)
    edit = _DECLARE_EDITS[key]
    if edit is None:
        return ()
    title = f"Declare `{distribution}` in pyproject.toml ([project] dependencies)"
    return (Fix(title, (edit,), safe=False, path=str(pyproject)),)


def _unreported_problems(declarations: Declarations, settings: Settings) -> list[str]:
    """The declarations' problems, minus a broken pyproject.toml the settings loader has
    already reported (it reads the same file for [tool.clearsight]): one problem, once."""
    problems = list(declarations.problems)
    broken = declarations.pyproject_problem
    config = settings.config_file
    if broken is not None and config is not None and declarations.pyproject is not None:
        same = os.path.realpath(config) == os.path.realpath(declarations.pyproject)
        if same and any(config in problem for problem in settings.problems):
            problems.remove(broken)
    return problems


def _rename_uses(source: SourceText, old: str, new: str, skip: Span) -> list[TextEdit]:
    """Every `old` name in the module (the name `import old` binds), renamed to `new`."""
    tree = source.tree
    if tree is None:
        raise ValueError("renaming uses needs a syntax tree")
    edits = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Name) or node.id != old:
            continue
        line = node.lineno - 1
        start = source.byte_to_char_column(line, node.col_offset)
        if source.line_text(line)[start : start + len(old)] != old:
            continue
        span = Span.of(line, start, line, start + len(old))
        if span != skip:
            edits.append(TextEdit(span, new))
    return edits
