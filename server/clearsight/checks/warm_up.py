"""Pay in advance what the first dependency analysis of a project would: the editor runs this
in the background at start-up, so the first edit does not wait for it.

Everything goes through the caches the checks use themselves (nothing is duplicated): the
project's environment (`ENVIRONMENTS`), its installed packages and standard-library listing
and the project's declarations (`FileContext.for_path`), the bundled PyPI names and the typo
search's index, and the API check's module finder for the project (with the modules most
files use already summarised).
A warm-up still running when an analysis starts does not hold it up: the analysis loads
what it needs itself, through the same caches, and the warm-up pauses between its steps.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from clearsight.checks.api_existence import ApiExistenceCheck
from clearsight.checks.registry import CHECKS
from clearsight.deps.environment import ENVIRONMENTS, ProjectEnvironment
from clearsight.deps.pypi import bundled_index
from clearsight.deps.resolve import FileContext
from clearsight.settings import Settings

# Imported by most files: their members are read once here rather than on the first edit.
_COMMON_MODULES = (
    "os", "os.path", "sys", "re", "json", "typing", "pathlib", "collections", "logging",
    "subprocess", "time", "datetime", "functools", "itertools", "dataclasses", "shutil",
    "io", "argparse", "tempfile",
)  # fmt: skip


@dataclass(frozen=True)
class WarmUp:
    """What was warmed up, and how long it took."""

    project: ProjectEnvironment
    seconds: float


def warm_up(
    folder: str | Path, settings: Settings, pause: Callable[[], None] = lambda: None
) -> WarmUp | None:
    """Load the dependency checks' data for the project around `folder` (a workspace root).
    None when the dependency checks are turned off.

    `pause` is called between steps (each a few to ~100 ms): the editor makes it wait while
    an analysis runs, since threads share one interpreter lock."""
    if not settings.dependencies.enabled:
        return None
    started = time.perf_counter()
    # A file in the folder: its project, settings and environment are the folder's.
    path = str(Path(folder).absolute() / "__init__.py")
    project = ENVIRONMENTS.for_file(path, settings)
    FileContext.for_path(path, project.environment)
    pause()
    index = bundled_index()
    index.names  # noqa: B018 - loads the PyPI names
    pause()
    index.popular.prepare()  # the typo search's index of popular names
    for check in CHECKS:
        if isinstance(check, ApiExistenceCheck) and check.enabled(settings):
            finder = check.finder_for(path, settings)
            for module in _COMMON_MODULES:
                pause()
                finder.resolve(module)
    return WarmUp(project, time.perf_counter() - started)
