"""What the commands that read git history share (`review`, `report`): their run options,
the repository and the paths given, settings whose problems are said once, the cache."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from clearsight.cli.cache import FindingCache
from clearsight.cli.runner import default_jobs
from clearsight.review.changes import ReviewError, repository_root
from clearsight.settings import Settings, SettingsResolver

EXIT_ERROR = 2


def add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--jobs", "-j", type=int, default=default_jobs())
    parser.add_argument("--no-cache", action="store_true")
    parser.add_argument("--cache-dir", type=Path, default=None)


def error(message: str) -> int:
    print(f"clearsight: error: {message}", file=sys.stderr)
    return EXIT_ERROR


def path_in_repository(path: Path, root: Path) -> str | None:
    """A path given on the command line, relative to the repository root ("" for the root)."""
    try:
        relative = Path(os.path.abspath(path)).resolve().relative_to(root.resolve())
    except ValueError:
        return None
    return "" if str(relative) == "." else relative.as_posix()


def repository_and_paths(given: list[str]) -> tuple[Path, list[str]]:
    """The repository of the current folder and the given paths in it (ReviewError when
    outside git, or a path is outside the repository)."""
    root = repository_root(Path.cwd())
    paths = [path_in_repository(Path(p), root) for p in given]
    outside = [a for a, p in zip(given, paths, strict=True) if p is None]
    if outside:
        raise ReviewError(f"{', '.join(outside)}: outside the repository at {root}")
    return root, [p for p in paths if p]


def settings_saying_problems(resolver: SettingsResolver) -> Callable[[Path], Settings]:
    """`resolver.for_path`, saying each settings problem once on stderr."""
    said: set[str] = set()

    def settings_for(path: Path) -> Settings:
        settings = resolver.for_path(path)
        for problem in settings.problems:
            if problem not in said:
                said.add(problem)
                print(f"clearsight: warning: {problem}", file=sys.stderr)
        return settings

    return settings_for


def cache_for(args: argparse.Namespace, root: Path) -> FindingCache | None:
    return None if args.no_cache else FindingCache(args.cache_dir or root / ".clearsight_cache")


def write_output(output: Path | None, text: str) -> bool:
    """The report on stdout, or in `output`; False (and said) when it cannot be written."""
    if output is None:
        sys.stdout.write(text)
        return True
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as problem:
        error(f"{output}: {problem.strerror or problem}")
        return False
    return True
