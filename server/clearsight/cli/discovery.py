"""Which files `clearsight check` looks at: Python files under the given paths, minus
`.gitignore`d paths, the usual tool and environment folders and `exclude` globs."""

from __future__ import annotations

import errno
import functools
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from clearsight.settings import SettingsResolver

PYTHON_SUFFIXES = (".py", ".pyw")
NOTEBOOK_SUFFIXES = (".ipynb",)  # Jupyter notebooks: their code cells are checked
# Folders no one wants linted (ruff's default excludes, plus our cache).
SKIPPED_DIRS = frozenset({
    ".bzr", ".clearsight_cache", ".direnv", ".eggs", ".git", ".git-rewrite", ".hg",
    ".mypy_cache", ".nox", ".pants.d", ".pytype", ".ruff_cache", ".svn", ".tox",
    "__pypackages__", "__pycache__", "_build", "buck-out", "dist", "node_modules",
})  # fmt: skip


@dataclass(frozen=True)
class CommandLineExcludes:
    """`--exclude` (instead of the built-in skipped folders and the project's `exclude`) and
    `--extend-exclude` (on top of them): gitignore-style globs from the current folder."""

    replace: tuple[str, ...] | None = None
    extend: tuple[str, ...] = ()

    def spec(self) -> tuple[pathspec.GitIgnoreSpec | None, pathspec.GitIgnoreSpec | None]:
        replace = _compile(self.replace)[0] if self.replace is not None else None
        extend = _compile(self.extend)[0] if self.extend else None
        return replace, extend


def _matches(spec: pathspec.GitIgnoreSpec | None, path: Path, is_dir: bool) -> bool:
    if spec is None:
        return False
    absolute = Path(os.path.abspath(path))
    try:
        relative = absolute.relative_to(Path.cwd()).as_posix()
    except ValueError:
        relative = absolute.as_posix().lstrip("/")
    return spec.match_file(relative + ("/" if is_dir else ""))


@dataclass
class Discovery:
    files: list[Path] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    warnings: list[str] = field(default_factory=list)


def _compile(lines: Iterable[str]) -> tuple[pathspec.GitIgnoreSpec, tuple[str, ...]]:
    """A gitignore spec of the valid lines, and the invalid ones (git skips those too)."""
    valid: list[str] = []
    invalid: list[str] = []
    for line in lines:
        try:
            pathspec.GitIgnoreSpec.from_lines([line]).check_file("x")
        except (ValueError, re.error):
            invalid.append(line)
        else:
            valid.append(line)
    return pathspec.GitIgnoreSpec.from_lines(valid), tuple(invalid)


class _IgnoreRules:
    """Nested .gitignore files, each applying below its own folder (as git does); and the
    command line's excludes."""

    def __init__(
        self,
        command_line: tuple[pathspec.GitIgnoreSpec | None, pathspec.GitIgnoreSpec | None] = (
            None,
            None,
        ),
    ) -> None:
        self._specs: dict[Path, pathspec.GitIgnoreSpec | None] = {}
        self.replace, self.extend = command_line

    def _spec(self, directory: Path) -> pathspec.GitIgnoreSpec | None:
        if directory not in self._specs:
            spec = None
            ignore_file = directory / ".gitignore"
            try:
                lines = ignore_file.read_text(encoding="utf-8", errors="replace").splitlines()
                spec, _ = _compile(lines)
            except OSError:
                pass
            self._specs[directory] = spec
        return self._specs[directory]

    def ignored(self, path: Path, is_dir: bool) -> bool:
        # As git does: the deepest .gitignore with a pattern matching the path decides, so
        # `!keep.py` in a sub-folder re-includes a file a parent folder's pattern ignores.
        for directory in [path.parent, *path.parent.parents]:
            spec = self._spec(directory)
            if spec is not None:
                relative = path.relative_to(directory).as_posix() + ("/" if is_dir else "")
                decision = spec.check_file(relative).include
                if decision is not None:
                    return decision
            if (directory / ".git").exists():  # .gitignore files above a repository don't apply
                break
        return False


@functools.lru_cache(maxsize=64)
def _exclude_spec(patterns: tuple[str, ...]) -> tuple[pathspec.GitIgnoreSpec, tuple[str, ...]]:
    return _compile(patterns)


def _excluded_by_settings(
    path: Path, is_dir: bool, resolver: SettingsResolver, result: Discovery
) -> bool:
    settings = resolver.for_path(path if not is_dir else path / "_")
    if not settings.exclude or settings.root is None:
        return False
    spec, invalid = _exclude_spec(settings.exclude)
    for pattern in invalid:
        warning = (
            f"{settings.config_file}: tool.clearsight.exclude: invalid pattern {pattern!r}, ignored"
        )
        if warning not in result.warnings:
            result.warnings.append(warning)
    try:
        # Resolve the folder (as the settings' root is) but not the entry itself: a symbolic
        # link is excluded by its own name, and a link loop must not raise.
        absolute = Path(os.path.abspath(path.parent)).resolve() / path.name
        relative = absolute.relative_to(Path(settings.root)).as_posix()
    except (ValueError, OSError, RuntimeError):
        return False
    return spec.match_file(relative + ("/" if is_dir else ""))


def _missing_reason(path: Path) -> str:
    """Why a path that does not exist as a file or folder cannot be checked."""
    if not path.is_symlink():
        return "does not exist"
    try:
        path.stat()
    except OSError as error:
        if error.errno == errno.ELOOP:
            return "is a symbolic link loop"
    return "is a broken symbolic link"


def discover(
    paths: list[str],
    resolver: SettingsResolver,
    excludes: CommandLineExcludes = CommandLineExcludes(),
    notebooks: bool = True,
) -> Discovery:
    """Expand the command line's paths to the Python files (and, with `notebooks`, the
    Jupyter notebooks) to check, sorted."""
    result = Discovery()
    rules = _IgnoreRules(excludes.spec())
    suffixes = PYTHON_SUFFIXES + (NOTEBOOK_SUFFIXES if notebooks else ())
    seen: set[Path] = set()
    for argument in paths:
        top = Path(argument)
        if not top.exists():
            result.errors.append((argument, _missing_reason(top)))
            continue
        if not top.is_dir():
            # A file named explicitly is checked whatever its suffix or ignore rules say.
            if top not in seen:
                seen.add(top)
                result.files.append(top)
            continue
        for file in _walk(top, resolver, rules, result, suffixes):
            if file not in seen:
                seen.add(file)
                result.files.append(file)
    result.files.sort()
    return result


def _is_environment(directory: Path) -> bool:
    """A virtual environment or conda env, whatever its name (`venv` may be a real package)."""
    return (directory / "pyvenv.cfg").is_file() or (directory / "conda-meta").is_dir()


def _keep_directory(
    directory: Path, resolver: SettingsResolver, rules: _IgnoreRules, result: Discovery
) -> bool:
    name = directory.name
    if _is_environment(directory) or _matches(rules.extend, directory, True):
        return False
    if rules.replace is not None:  # --exclude: instead of the defaults and the project's
        if _matches(rules.replace, directory, True):
            return False
    elif name in SKIPPED_DIRS or name.endswith(".egg-info"):
        return False
    settings = resolver.for_path(directory / "_")
    if settings.respect_gitignore and rules.ignored(directory.absolute(), True):
        return False
    return rules.replace is not None or not _excluded_by_settings(directory, True, resolver, result)


def _keep_file(
    file: Path,
    resolver: SettingsResolver,
    rules: _IgnoreRules,
    result: Discovery,
    suffixes: tuple[str, ...] = PYTHON_SUFFIXES,
) -> bool:
    if not file.name.endswith(suffixes):
        return False
    if _matches(rules.extend, file, False):
        return False
    if rules.replace is not None and _matches(rules.replace, file, False):
        return False
    settings = resolver.for_path(file)
    if settings.respect_gitignore and rules.ignored(file.absolute(), False):
        return False
    if rules.replace is None and _excluded_by_settings(file, False, resolver, result):
        return False
    if not file.exists():
        result.errors.append((str(file), _missing_reason(file)))
        return False
    return file.is_file()  # not a FIFO, socket or device: reading those could block forever


def _walk(
    top: Path,
    resolver: SettingsResolver,
    rules: _IgnoreRules,
    result: Discovery,
    suffixes: tuple[str, ...],
) -> Iterator[Path]:
    def on_error(error: OSError) -> None:
        result.errors.append((str(error.filename or top), error.strerror or str(error)))

    # followlinks=False: symbolic links to folders are not entered, so link loops cannot hang us.
    for directory, dirnames, filenames in os.walk(top, onerror=on_error, followlinks=False):
        here = Path(directory)
        dirnames[:] = [
            name
            for name in sorted(dirnames)
            if _keep_directory(here / name, resolver, rules, result)
        ]
        for name in sorted(filenames):
            if _keep_file(here / name, resolver, rules, result, suffixes):
                yield here / name


def excluded(path: Path, resolver: SettingsResolver) -> bool:
    """Whether the project's `exclude` globs leave this file out (as `discover` would)."""
    return _excluded_by_settings(path, False, resolver, Discovery())
