"""New dependencies: third-party distributions a file imports that it did not at git HEAD.

`CS-D006`: the file's imports are placed as the dependencies family places them
(`clearsight.deps.resolve`); each third-party one (installed, or missing from the
environment) is mapped to its distribution, and a distribution the same file did not
import at the base revision (`HEAD`, or `[tool.clearsight.dependencies] base`) is reported
once, at its first import. A dependency change is what reviewers say they miss most: a new
package is new code to trust, maintain and declare.

A file git does not have at the base (a new, untracked or only staged file) has no old
imports: every third-party distribution it imports is new and reported, since that is what
a reviewer of the change sees arriving. Nothing is reported for files outside a git work
tree, ignored files, buffers without a path, repositories without commits, or when git is
missing or the base revision is unknown.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator

from clearsight.checks.base import Rule, docs_url
from clearsight.deps.baseline import BaseFile, base_file
from clearsight.deps.environment import ENVIRONMENTS, Environment
from clearsight.deps.imports import ImportedModule, ImportScan, scan_imports
from clearsight.deps.resolve import FileContext, Origin, Resolution
from clearsight.model import Family, Finding, Severity, Span
from clearsight.notebook import is_notebook, notebook_text
from clearsight.settings import Settings
from clearsight.source import SourceText

NEW_DEPENDENCY = "CS-D006"
_THIRD_PARTY = (Origin.INSTALLED, Origin.MISSING)


def _distribution(resolution: Resolution) -> tuple[str, str]:
    """(key, display name) of the distribution an import comes from."""
    if resolution.installed:
        dist = resolution.installed[0]
        return dist.key, dist.display_name()
    if resolution.curated:
        return resolution.candidates[0], resolution.curated
    name = resolution.candidates[0] if resolution.candidates else "?"
    return name, name


def third_party_imports(
    source: SourceText, context: FileContext, scan: ImportScan | None = None
) -> Iterator[tuple[ImportedModule, str, str]]:
    """(import, distribution key, display name) for each third-party import, in order.
    `scan`: the source's imports, when already scanned (else its tree is scanned)."""
    if scan is None:
        if source.tree is None:
            return
        scan = scan_imports(source)
    if not scan.compiles:
        return
    for imported in scan.imports:
        if imported.guard.expected_to_fail:
            continue
        resolution = context.resolve(imported)
        if resolution.origin in _THIRD_PARTY:
            key, name = _distribution(resolution)
            yield imported, key, name


class NewDependencyCheck:
    family = Family.DEPENDENCIES
    needs_tree = True

    def __init__(self, environment: Environment | None = None) -> None:
        self._environment = environment
        # The base version's distributions by (blob id, file path): resolution depends on
        # where the file is (its project's modules are local), not on the commit.
        self._base_cache: dict[tuple[str, str], frozenset[str] | None] = {}
        self._lock = threading.Lock()

    def environment_for(self, path: str, settings: Settings | None = None) -> Environment:
        """The environment given to the constructor, else the file's project's."""
        if self._environment is not None:
            return self._environment
        return ENVIRONMENTS.for_file(path, settings).environment

    def enabled(self, settings: Settings) -> bool:
        return settings.dependencies.enabled

    def rules(self) -> Iterable[Rule]:
        yield Rule(
            code=NEW_DEPENDENCY,
            name="new-dependency",
            family=self.family,
            summary="Import of a third-party distribution the file did not use at the git base",
            help=(
                "The file imports a third-party distribution that the same file did not "
                "import at the base revision (git HEAD, or [tool.clearsight.dependencies] "
                "base). A new dependency is new code to trust, keep up to date and declare, "
                "and reviewers say it is the change they miss most. Check that it is the "
                "package you mean, that it is maintained, and that the project declares it. "
                "A file that is new since the base reports every third-party import."
            ),
            docs_url=docs_url(NEW_DEPENDENCY),
            default_severity=Severity.INFO,
        )

    def run(self, source: SourceText, settings: Settings) -> Iterator[Finding]:
        if "import" not in source.text or source.path.startswith("<") or source.tree is None:
            return
        yield from self.run_scan(source, settings, scan_imports(source))

    def run_scan(
        self, source: SourceText, settings: Settings, scan: ImportScan
    ) -> Iterator[Finding]:
        """`run`, given the scan of `source`'s imports (the editor's incremental analysis
        combines it from the scans of the statements it re-checked), so the whole text is
        not parsed again."""
        if "import" not in source.text or source.path.startswith("<"):
            return
        context = FileContext.for_path(source.path, self.environment_for(source.path, settings))
        now = list(third_party_imports(source, context, scan))
        if not now:
            return  # git is asked only about files that import third-party code
        base = base_file(source.path, settings.dependencies.base)
        if base is None:
            return
        before = self._base_distributions(base, source.path, context)
        if before is None:
            return  # the base version does not parse: nothing to compare with
        reported: set[str] = set()
        for imported, key, name in now:
            if key in before or key in reported:
                continue
            reported.add(key)
            yield self._finding(imported, name, base)

    def _base_distributions(
        self, base: BaseFile, path: str, context: FileContext
    ) -> frozenset[str] | None:
        """Distributions the file imported at the base; None when that version does not
        parse (nothing to compare with)."""
        if base.text is None or base.blob is None:
            return frozenset()
        key = (base.blob, path)
        if key in self._base_cache:
            return self._base_cache[key]
        text = base.text
        if is_notebook(path):  # the code of the notebook as it was ("" if unreadable then)
            text = notebook_text(text.encode("utf-8", "surrogateescape"))
        old = SourceText(text, path=path)
        found = None
        if old.tree is not None:
            found = frozenset(dist for _, dist, _ in third_party_imports(old, context))
        with self._lock:
            if len(self._base_cache) > 1024:
                self._base_cache.clear()
            self._base_cache[key] = found
        return found

    def _finding(self, imported: ImportedModule, name: str, base: BaseFile) -> Finding:
        at = f"{base.revision} ({base.commit[:10]})"
        if base.text is None:
            why = f"This file is new since {at}, so all its third-party imports are new."
        else:
            why = f"The file did not import it at {at}."
        message = (
            f"`{imported.top}` adds a dependency on the distribution `{name}`. {why} New "
            "dependencies are the change reviewers miss most: check it is the package you "
            "mean, that it is maintained, and that the project declares it."
        )
        span = Span.of(imported.line, imported.column, imported.end_line, imported.end_column)
        return Finding(
            code=NEW_DEPENDENCY,
            family=self.family,
            severity=Severity.INFO,
            message=message,
            span=span,
            docs_url=docs_url(NEW_DEPENDENCY),
            metrics={
                "module": imported.top,
                "distribution": name,
                "base": base.revision,
                "base_commit": base.commit,
                "new_file": base.text is None,
            },
        )
