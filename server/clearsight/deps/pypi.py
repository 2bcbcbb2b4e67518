"""The bundled snapshot of PyPI: every project name, and the most downloaded ones.

Files in `clearsight/data/` (rebuilt by `scripts/build_pypi_index.py`):

- `pypi-names.txt.gz`: every PEP 503-normalised name, sorted, one per line, with a line
  break before the first and after the last, gzip-compressed (4 MB). Loaded once, on
  first use, into one `bytes` object (13 MB; no per-name Python objects) and searched by
  bisection (`SortedNames`): about 16 MB in all, 2-5 µs per lookup.
- `pypi-popular.tsv.gz`: `rank<TAB>name` of the most downloaded projects (normalised).
- `pypi-index.json`: the snapshot date and counts, shown to users in messages.
"""

from __future__ import annotations

import bisect
import json
import os
import sys
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from clearsight.deps.names import normalize
from clearsight.deps.typos import Near, PopularNames

NAMES_FILE = "pypi-names.txt.gz"
POPULAR_FILE = "pypi-popular.tsv.gz"
META_FILE = "pypi-index.json"
FORMAT = 1


def data_bytes(name: str) -> bytes:
    return resources.files("clearsight").joinpath("data", name).read_bytes()


def contains_sorted(blob: bytes, key: bytes) -> bool:
    """Whether `key` is a line of `blob`: sorted lines, each between two line breaks.

    Plain bisection over byte offsets: `low` and `high` are always offsets of line breaks,
    and the line being looked for, if present, lies between them. `SortedNames` adds a
    sparse index on top of it; this is its reference (and the benchmark's baseline).
    """
    low, high = 0, len(blob) - 1
    while low < high:
        middle = (low + high) // 2
        start = blob.rfind(b"\n", low, middle + 1)
        end = blob.find(b"\n", start + 1)
        line = blob[start + 1 : end]
        if line == key:
            return True
        if line < key:
            low = end
        else:
            high = start
    return False


class SortedNames:
    """Sorted names in one `bytes` object (`\nname\nname\n`), with a sparse index.

    Every `STRIDE` bytes the next whole line is sampled: bisecting those few thousand
    samples (in C, with `bisect`) picks the block a name must be in, and one `bytes.find`
    over that block of about `STRIDE` bytes settles it.
    """

    STRIDE = 1024

    def __init__(self, blob: bytes | bytearray) -> None:
        if not blob.startswith(b"\n") or not blob.endswith(b"\n"):
            raise ValueError("the names data must start and end with a line break")
        self.blob = blob
        starts = [1]
        for offset in range(self.STRIDE, len(blob) - 1, self.STRIDE):
            start = blob.find(b"\n", offset, len(blob) - 1) + 1
            if start > starts[-1]:
                starts.append(start)
        self._starts = starts
        self._heads = [bytes(blob[start : blob.find(b"\n", start)]) for start in starts]
        self._starts.append(len(blob))

    @property
    def memory_bytes(self) -> int:
        """The blob plus the sampled heads and offsets (object headers included)."""
        heads = sum(sys.getsizeof(head) for head in self._heads)
        return len(self.blob) + heads + sys.getsizeof(self._heads) + sys.getsizeof(self._starts)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, bytes) or not key or b"\n" in key:
            return False
        block = bisect.bisect_right(self._heads, key) - 1
        if block < 0:
            return False
        # The first line of the block that starts with `key` is `key` itself if present:
        # every longer line with that prefix sorts after it. Searching for `\nkey` (not
        # `\nkey\n`) keeps the search's skip table keyed on a rare last character.
        found = self.blob.find(b"\n" + key, self._starts[block] - 1, self._starts[block + 1])
        return found >= 0 and self.blob[found + 1 + len(key)] == 10  # a line break


@dataclass(frozen=True)
class SnapshotInfo:
    snapshot: str  # "2026-11"
    names: int
    popular: int


class PyPIIndex:
    """Questions about the snapshot: does a name exist, is it popular, what is it close to.

    The popular names (small) are read at once; all names (13 MB) on the first `exists`,
    so a process whose files import only popular packages never loads them.
    """

    def __init__(
        self,
        names: bytes | Callable[[], bytes | bytearray],
        popular: list[tuple[int, str]],
        info: SnapshotInfo,
    ) -> None:
        self._names = SortedNames(names) if isinstance(names, bytes) else None
        self._names_loader = names if not isinstance(names, bytes) else None
        self._lock = threading.Lock()
        self.popular = PopularNames(popular)
        self.info = info
        # Typo searches repeat for the same names across files: remember them.
        self.near_popular = lru_cache(maxsize=4096)(self._near_popular)

    @property
    def names(self) -> SortedNames:
        if self._names is None:
            with self._lock:
                if self._names is None:
                    if self._names_loader is None:
                        raise ValueError("the index has neither names nor a names loader")
                    self._names = SortedNames(self._names_loader())
        return self._names

    @classmethod
    def from_text(cls, names: list[str], popular: list[str], snapshot: str) -> PyPIIndex:
        """An index over given names (tests, and the naive-baseline benchmark)."""
        normalised = sorted({normalize(name) for name in names})
        blob = ("\n" + "\n".join(normalised) + "\n").encode("ascii")
        ranked = [(rank, normalize(name)) for rank, name in enumerate(popular, start=1)]
        return cls(blob, ranked, SnapshotInfo(snapshot, len(normalised), len(ranked)))

    @property
    def snapshot(self) -> str:
        return self.info.snapshot

    def exists(self, name: str) -> bool:
        key = normalize(name)
        if not key.isascii():
            return False  # PyPI names are ASCII
        return key.encode("ascii") in self.names

    def rank(self, name: str) -> int | None:
        return self.popular.rank_of.get(normalize(name))

    def is_popular(self, name: str) -> bool:
        return normalize(name) in self.popular

    def _near_popular(self, name: str) -> tuple[Near, ...]:
        return tuple(self.popular.near(normalize(name)))


_LOCK = threading.Lock()
_BUNDLED: PyPIIndex | None = None


def _gunzip(name: str) -> bytearray:
    """A bundled gzip file, decompressed in chunks into a buffer of its final size (read
    from the gzip trailer): loading never holds the compressed and the whole decompressed
    data at once, so the peak stays close to what is kept."""
    resource = resources.files("clearsight").joinpath("data", name)
    with resource.open("rb") as stream:
        stream.seek(-4, os.SEEK_END)
        out = bytearray(int.from_bytes(stream.read(4), "little"))
        stream.seek(0)
        decompressor = zlib.decompressobj(wbits=31)
        position = 0
        with memoryview(out) as view:
            while chunk := stream.read(1 << 15):
                piece = decompressor.decompress(chunk)
                view[position : position + len(piece)] = piece
                position += len(piece)
            piece = decompressor.flush()
            view[position : position + len(piece)] = piece
            position += len(piece)
    if position != len(out):
        raise ValueError(f"{name}: {position} bytes decompressed, the trailer says {len(out)}")
    return out


def load_bundled(eager: bool = False) -> PyPIIndex:
    """The bundled index; its names are read on first need (at once when `eager`)."""
    meta = json.loads(data_bytes(META_FILE))
    if meta.get("format") != FORMAT:
        raise ValueError(f"{META_FILE}: format {meta.get('format')!r}, expected {FORMAT}")
    ranked = []
    for line in _gunzip(POPULAR_FILE).decode("ascii").splitlines():
        rank, name = line.split("\t")
        ranked.append((int(rank), name))
    info = SnapshotInfo(str(meta["snapshot"]), int(meta["names"]), int(meta["popular"]))
    index = PyPIIndex(lambda: _gunzip(NAMES_FILE), ranked, info)
    if eager:
        index.names  # noqa: B018 - loads them
    return index


def bundled_index() -> PyPIIndex:
    """The index shipped with Clearsight, kept once loaded (the popular names in a few ms,
    all names on first need in 60-100 ms)."""
    global _BUNDLED
    if _BUNDLED is None:
        with _LOCK:
            if _BUNDLED is None:
                _BUNDLED = load_bundled()
    return _BUNDLED


def snapshot_info() -> SnapshotInfo:
    """The snapshot's date and counts, without loading the names."""
    meta = json.loads(data_bytes(META_FILE))
    return SnapshotInfo(str(meta["snapshot"]), int(meta["names"]), int(meta["popular"]))
