"""`clearsight check --shard I/N`: one CI runner's deterministic share of the files.

Every runner discovers the same files and computes the same partition, so no scheduler is
needed: the CI's own matrix is the distributed engine. Files are dealt by size, largest
first, each to the least loaded shard (longest-processing-time first), which keeps the
longest shard close to 1/N of the work. Sizes ignore carriage returns, so a Windows
checkout of the same commit (CRLF) gets the same partition as a Linux one.

A shard's JSON or SARIF report carries what `clearsight merge` needs to check the shards
belong together: the tool versions, a digest of the settings every file is checked with,
a digest of the whole file list, and each of its files' position in that list.
"""

from __future__ import annotations

import argparse
import hashlib
import heapq
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clearsight.cli.cache import tool_versions
from clearsight.settings import Settings
from clearsight.source import read_file, regular_file_size

SARIF_PROPERTY = "clearsight/shard"  # where a SARIF report keeps the shard's data
_SPEC = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")
# Files larger than this weigh nothing and are not read for their weight: they are over
# any analysis limit a project sets in practice (4 MB by default), so cost no analysis.
_NEVER_ANALYSED_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class ShardSpec:
    index: int  # 1-based, as written on the command line
    count: int

    @property
    def label(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(value: str) -> ShardSpec:
    """`I/N` with 1 <= I <= N (argparse turns the ValueError into a usage message)."""
    match = _SPEC.fullmatch(value)
    if match is None:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not I/N (for example 1/4: the first of four shards)"
        )
    index, count = int(match.group(1)), int(match.group(2))
    if count < 1:
        raise argparse.ArgumentTypeError(f"{value!r}: there must be at least one shard")
    if not 1 <= index <= count:
        raise argparse.ArgumentTypeError(
            f"{value!r}: the shard number must be from 1 to the number of shards ({count})"
        )
    return ShardSpec(index, count)


def file_weight(path: Path) -> int:
    """The file's size without carriage returns (0 when it cannot be read: an unreadable
    file is reported by whichever shard gets it, at no analysis cost; and 0 for one over
    every analysis limit, which is not read: it could be gigabytes)."""
    size = regular_file_size(path)
    if size is not None and size > _NEVER_ANALYSED_BYTES:
        return 0
    data = read_file(path)  # a FIFO or a device is not read: it could block
    if isinstance(data, str):
        return 0
    return len(data) - data.count(b"\r")


def partition(
    files: Sequence[Path], count: int, weight: Callable[[Path], int] = file_weight
) -> list[list[int]]:
    """The positions in `files` of each shard's files (each list ascending).

    Every position is in exactly one shard. The result depends only on the files' names
    and weights, never on the order they are given in or the machine.
    """
    weights = [weight(file) for file in files]  # each file read once
    keyed = sorted(range(len(files)), key=lambda i: (-weights[i], files[i].as_posix()))
    loads = [(0, shard) for shard in range(count)]  # (load, shard): the least loaded first
    shards: list[list[int]] = [[] for _ in range(count)]
    for position in keyed:
        load, shard = heapq.heappop(loads)
        shards[shard].append(position)
        heapq.heappush(loads, (load + max(1, weights[position]), shard))
    return [sorted(positions) for positions in shards]


def _digest(parts: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
    return digest.hexdigest()[:16]


def shard_metadata(
    spec: ShardSpec,
    files: Sequence[Path],
    positions: Sequence[int],
    settings_for: Callable[[Path], Settings],
    reported_as: Callable[[Path], str],
    extra: Sequence[str] = (),
) -> dict[str, Any]:
    """What a shard's report says about the run it is part of. `reported_as` gives the
    name a file has in the report (its path in JSON, its URI in SARIF); `extra` are
    further inputs that change findings (a baseline's digest)."""
    here = Path.cwd()
    settings = [
        f"{file.as_posix()}={settings_for(file).fingerprint(relative_to=here)}" for file in files
    ]
    return {
        "index": spec.index,
        "count": spec.count,
        "versions": tool_versions(),
        "settings": _digest([*settings, *extra]),
        "files": _digest([file.as_posix() for file in files]),
        "files_total": len(files),
        "positions": {reported_as(files[position]): position for position in positions},
    }


def file_digest(path: Path) -> str:
    """For `extra`: a file's content, or that it could not be read."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    except OSError:
        return "unreadable"
