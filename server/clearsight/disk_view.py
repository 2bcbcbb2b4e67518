"""What the file system says, read once per analysis.

One analysis asks about the same files and folders many times: every import's candidate
modules in every search folder, every kept result's project modules, the folders' listings.
Those answers cannot usefully change within one analysis, and the stat calls behind them
were about a tenth of an edit's analysis in the editor (about 600 per edit of a 3,000-line
file). Inside `one_view()` each path is looked at once; outside it (tests, tools) every
call looks again. The view belongs to the thread that opened it, and ends with it, so
nothing is kept between analyses and no other thread sees it.
"""

from __future__ import annotations

import os
import stat as stat_kind
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_local = threading.local()


@contextmanager
def one_view() -> Iterator[None]:
    """The file system as this thread's analysis sees it (nested views share the outer)."""
    if getattr(_local, "stats", None) is not None:
        yield
        return
    _local.stats = {}
    try:
        yield
    finally:
        _local.stats = None


def stat(path: str) -> os.stat_result | None:
    """`os.stat(path)`, None when it fails (no such file, no access, a NUL in the name)."""
    seen: dict[str, os.stat_result | None] | None = getattr(_local, "stats", None)
    if seen is not None and path in seen:
        return seen[path]
    try:
        result: os.stat_result | None = os.stat(path)
    except (OSError, ValueError):
        result = None
    if seen is not None:
        seen[path] = result
    return result


def is_file(path: str) -> bool:
    found = stat(path)
    return found is not None and stat_kind.S_ISREG(found.st_mode)


def is_dir(path: str) -> bool:
    found = stat(path)
    return found is not None and stat_kind.S_ISDIR(found.st_mode)


def exists(path: str) -> bool:
    return stat(path) is not None
