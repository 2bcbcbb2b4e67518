"""Provenance of a buffer: history (in the background when asked), ledger, inline markers.

`ProvenanceService.file_provenance` is what the engine's provenance check, hovers, lenses and
the `clearsight provenance` command call. In the language server (`background=True`) git is
never run on the caller's thread: a missing or stale history result is computed by one
worker thread, the stale one (or none) is used meanwhile, and `on_ready(path)` says when to
analyse again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

from clearsight.provenance import git
from clearsight.provenance.history import (
    HeadAttribution,
    RootState,
    head_attribution,
    read_traces,
    root_state,
)
from clearsight.provenance.ledger import (
    Ledger,
    LedgerIndex,
    Review,
    attribution_record,
    review_record,
)
from clearsight.provenance.model import Attribution, AuthorKind, Evidence, stronger
from clearsight.provenance.patterns import INLINE_GENERATED, INLINE_TOOL, tool_from_name
from clearsight.provenance.units import Unit, segment_units, statement_units
from clearsight.settings import Settings
from clearsight.source import SourceText

LOG = logging.getLogger(__name__)

# How long a repository's HEAD/notes/trace reading is trusted before it is read again.
STATE_TTL_SECONDS = 2.0
MARKER_LINES = 10
SEGMENT_CACHE_LIMIT = 20_000


@dataclass(frozen=True)
class UnitProvenance:
    unit: Unit
    attribution: Attribution
    review: Review | None


@dataclass(frozen=True)
class Block:
    """Consecutive AI-written statements of one top-level definition (or module code)."""

    first: int  # 0-based lines, inclusive
    last: int
    attribution: Attribution
    reviewed: bool
    keys: tuple[str, ...]
    scope: str = ""

    def moved(self, lines: int) -> Block:
        return replace(self, first=self.first + lines, last=self.last + lines)


@dataclass(frozen=True)
class SegmentProvenance:
    """One top-level statement's attributed units, relative to its first line."""

    units: tuple[UnitProvenance, ...]
    blocks: tuple[Block, ...]
    ai_lines: frozenset[int]
    code_lines: frozenset[int]

    @classmethod
    def of(cls, units: tuple[UnitProvenance, ...]) -> SegmentProvenance:
        ai = frozenset(line for u in units if u.attribution.is_ai for line in u.unit.lines())
        code = frozenset(line for u in units for line in u.unit.lines())
        return cls(units, tuple(_blocks(units)), ai, code)

    @property
    def starts_ai(self) -> bool:
        return bool(self.units) and self.units[0].attribution.is_ai

    @property
    def ends_ai(self) -> bool:
        return bool(self.units) and self.units[-1].attribution.is_ai


@dataclass
class FileProvenance:
    path: str  # relative to `root`, with forward slashes
    root: Path
    segments: list[tuple[int, SegmentProvenance]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    pending: bool = False  # history is still being read
    line_count: int = 0

    @cached_property
    def units(self) -> list[UnitProvenance]:
        return [
            UnitProvenance(_moved(u.unit, offset), u.attribution, u.review)
            for offset, segment in self.segments
            for u in segment.units
        ]

    @property
    def ai_units(self) -> list[UnitProvenance]:
        return [u for u in self.units if u.attribution.is_ai]

    def ai_lines(self) -> set[int]:
        return {line + offset for offset, seg in self.segments for line in seg.ai_lines}

    def share(self) -> float:
        code = sum(len(segment.code_lines) for _, segment in self.segments)
        return len(self.ai_lines()) / code if code else 0.0

    def unit_at(self, line: int) -> UnitProvenance | None:
        found = None
        for entry in self.units:
            if entry.unit.first <= line <= entry.unit.last:
                found = entry  # the innermost (latest starting) unit wins
        return found

    def blocks(self, breaks: Sequence[int] = ()) -> list[Block]:
        """Blocks of every statement; runs of AI-written module-level statements join,
        except across a line of `breaks` (where a notebook's cell starts)."""
        blocks: list[Block] = []
        joinable = False  # the last block ends the previous segment, at module level
        for offset, segment in self.segments:
            for index, block in enumerate(segment.blocks):
                block = block.moved(offset)
                if (
                    index == 0
                    and joinable
                    and segment.starts_ai
                    and _continues_run(blocks, block)
                    and not any(blocks[-1].last < line <= block.first for line in breaks)
                ):
                    blocks[-1] = _joined(blocks[-1], block)
                else:
                    blocks.append(block)
            joinable = segment.ends_ai and bool(segment.blocks)
        return blocks

    def evidence(self) -> list[str]:
        return sorted({u.attribution.evidence.value for u in self.ai_units})


def _moved(unit: Unit, lines: int) -> Unit:
    return Unit(
        unit.key, unit.first + lines, unit.last + lines, unit.qualname, unit.size, unit.scope
    )


def _continues_run(blocks: list[Block], block: Block) -> bool:
    """Whether `block` extends the last of `blocks`: both module-level, reviewed alike."""
    previous = blocks[-1] if blocks else None
    return (
        previous is not None
        and block.scope == previous.scope == ""
        and block.reviewed == previous.reviewed
    )


def _joined(a: Block, b: Block) -> Block:
    return Block(
        a.first, b.last, stronger(a.attribution, b.attribution) or a.attribution,
        a.reviewed and b.reviewed, a.keys + b.keys, a.scope,
    )  # fmt: skip


def _continues(previous: UnitProvenance, entry: UnitProvenance) -> bool:
    return (
        entry.attribution.is_ai
        and entry.unit.scope == previous.unit.scope
        and (entry.review is None) == (previous.review is None)
    )


def _blocks(units: tuple[UnitProvenance, ...]) -> list[Block]:
    blocks: list[Block] = []
    run: list[UnitProvenance] = []
    for entry in [*units, None]:
        if run and (entry is None or not _continues(run[-1], entry)):
            blocks.append(_block(run))
            run = []
        if entry is not None and entry.attribution.is_ai:
            run.append(entry)
    return blocks


def _block(run: list[UnitProvenance]) -> Block:
    strongest = run[0].attribution
    for entry in run[1:]:
        strongest = stronger(strongest, entry.attribution) or strongest
    return Block(
        first=run[0].unit.first,
        last=max(entry.unit.last for entry in run),
        attribution=strongest,
        reviewed=all(entry.review is not None for entry in run),
        keys=tuple(entry.unit.key for entry in run),
        scope=run[0].unit.scope,
    )


def inline_marker(source: SourceText) -> Attribution | None:
    for line in source.lines[:MARKER_LINES]:
        stripped = line.strip()
        if not stripped.startswith("#") or not INLINE_GENERATED.search(stripped):
            continue
        named = INLINE_TOOL.search(stripped)
        tool = tool_from_name(named.group("tool")) if named else None
        return Attribution.of(AuthorKind.AI, Evidence.INLINE_MARKER, tool)
    return None


def _relative(path: Path, root: Path) -> str:
    """`path` as the ledger and git name it: relative to `root`, else just its name."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.name


def _has_ai_evidence(
    head: HeadAttribution | None, ledger: LedgerIndex, marker: Attribution | None
) -> bool:
    """Whether anything says AI wrote part of the file; without it no statement needs a look."""
    return bool((head is not None and head.has_ai) or marker or ledger.records)


class ProvenanceService:
    def __init__(
        self, background: bool = False, on_ready: Callable[[str], None] | None = None
    ) -> None:
        self.background = background
        self.on_ready = on_ready
        self._lock = threading.Lock()
        self._roots: dict[Path, Path | None] = {}  # directory -> git work tree
        self._states: dict[Path, tuple[float, RootState]] = {}
        self._heads: dict[tuple[Path, str], HeadAttribution] = {}
        self._ledgers: dict[Path, Ledger] = {}
        self._inflight: set[tuple[str, ...]] = set()
        # Attributed top-level statements by (inputs' version, text): an edit redoes one.
        self._segments: dict[tuple[object, str], SegmentProvenance] = {}
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="provenance")

    # -- locations ----------------------------------------------------------------------

    def git_root(self, path: Path) -> Path | None:
        directory = path.parent
        with self._lock:
            if directory in self._roots:
                return self._roots[directory]
        root = git.repository_root(directory) if directory.is_dir() else None
        with self._lock:
            self._roots[directory] = root
        return root

    def workspace_root(self, path: Path, settings: Settings) -> Path:
        """Where the ledger lives: the git work tree, else the pyproject's folder."""
        root = self.git_root(path)
        if root is not None:
            return root
        return Path(settings.root) if settings.root else path.parent

    def ledger(self, root: Path, settings: Settings) -> Ledger:
        location = root / settings.provenance.ledger
        with self._lock:
            ledger = self._ledgers.get(location)
            if ledger is None:
                ledger = Ledger(root, location)
                self._ledgers[location] = ledger
        return ledger

    # -- history ------------------------------------------------------------------------

    def _state(self, root: Path) -> RootState | None:
        with self._lock:
            cached = self._states.get(root)
        if cached and time.monotonic() - cached[0] < STATE_TTL_SECONDS:
            return cached[1]
        if not self.background:
            state = root_state(root)
            with self._lock:
                self._states[root] = (time.monotonic(), state)
            return state
        self._submit(("state", str(root)), lambda: self._refresh_state(root), None)
        return cached[1] if cached else None

    def _refresh_state(self, root: Path) -> None:
        self._read_state(root)

    def _read_state(self, root: Path) -> RootState:
        state = root_state(root)
        with self._lock:
            self._states[root] = (time.monotonic(), state)
        return state

    def history(self, root: Path, relative: str) -> tuple[HeadAttribution | None, bool]:
        """The committed file's attribution and whether a newer one is being read."""
        state = self._state(root)
        with self._lock:
            cached = self._heads.get((root, relative))
        if state is None:  # first look at this repository: read it, then the file
            self._submit(
                ("first", str(root), relative),
                lambda: self._compute_head(root, relative, self._read_state(root)),
                str(root / relative),
            )
            return cached, True
        wanted = (relative, *state.stamp())
        if cached is not None and cached.stamp == wanted:
            return cached, False
        if not self.background:
            return self._compute_head(root, relative, state), False
        self._submit(
            ("head", str(root), relative, *map(str, state.stamp())),
            lambda: self._compute_head(root, relative, state),
            str(root / relative),
        )
        return cached, True

    def _compute_head(self, root: Path, relative: str, state: RootState) -> HeadAttribution:
        with self._lock:
            previous = self._heads.get((root, relative))

        def same_blob(blob: str) -> HeadAttribution | None:
            # Blame by blob id: a commit elsewhere leaves this file's history as it was,
            # as long as the notes and traces did not change either.
            unchanged = previous is not None and previous.stamp[2:] == state.stamp()[1:]
            return previous if unchanged and previous.blob == blob else None  # type: ignore[union-attr]

        try:
            result = head_attribution(root, relative, state, same_blob)
        except (git.GitError, OSError) as error:
            result = HeadAttribution(stamp=(relative, *state.stamp()), problems=[str(error)])
        with self._lock:
            self._heads[(root, relative)] = result
        return result

    def _submit(self, key: tuple[str, ...], job: Callable[[], object], ready: str | None) -> None:
        with self._lock:
            if key in self._inflight:
                return
            self._inflight.add(key)

        def run() -> None:
            try:
                job()
            except Exception:
                LOG.exception("provenance job %s failed", key[0])
            finally:
                with self._lock:
                    self._inflight.discard(key)
            if ready and self.on_ready:
                self.on_ready(ready)

        self._executor.submit(run)

    def stamp(self, path: Path, settings: Settings) -> str:
        """A short string that changes whenever this file's provenance inputs may have."""
        root = self.workspace_root(path, settings)
        state = self._state(root) if self.git_root(path) is not None else None
        try:
            stat = (root / settings.provenance.ledger).stat()
            ledger: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            ledger = None
        return repr((state.stamp() if state else None, ledger))

    def data_problems(self, path: Path, settings: Settings) -> list[str]:
        """Unreadable ledger or Agent Trace lines of the workspace holding `path`."""
        root = self.workspace_root(path.resolve(), settings)
        return [*self.ledger(root, settings).index().problems, *read_traces(root).problems]

    # -- the answer -----------------------------------------------------------------------

    def file_provenance(
        self, source: SourceText, settings: Settings, full: bool = False
    ) -> FileProvenance:
        """`full` computes every statement's attribution even in files with no AI evidence
        (hovers, reports); otherwise such files return without looking at statements."""
        path = Path(source.path).resolve()
        root = self.workspace_root(path, settings)
        relative = _relative(path, root)
        result = FileProvenance(relative, root, line_count=len(source.lines))
        head, result.pending = (None, False)
        if self.git_root(path) is not None:
            head, result.pending = self.history(root, relative)
        ledger = self.ledger(root, settings).index()
        marker = inline_marker(source)
        if head is not None:
            result.problems.extend(head.problems)
        result.problems.extend(ledger.problems)
        if not (_has_ai_evidence(head, ledger, marker) or full):
            return result
        version = (relative, head.stamp if head else None, ledger.generation, marker)
        for offset, text, units in segment_units(source):
            key = (version, text)
            segment = self._segments.get(key)
            if segment is None:
                segment = self._new_segment(key, units, relative, head, ledger, marker)
            result.segments.append((offset, segment))
        return result

    def _new_segment(
        self,
        key: tuple[object, str],
        units: tuple[Unit, ...],
        relative: str,
        head: HeadAttribution | None,
        ledger: LedgerIndex,
        marker: Attribution | None,
    ) -> SegmentProvenance:
        """Attribute a top-level statement not seen with these inputs, and remember it."""
        segment = SegmentProvenance.of(
            tuple(self._attributed(u, relative, head, ledger, marker) for u in units)
        )
        with self._lock:
            if len(self._segments) >= SEGMENT_CACHE_LIMIT:
                self._segments.clear()
            self._segments[key] = segment
        return segment

    def _attributed(
        self,
        unit: Unit,
        relative: str,
        head: HeadAttribution | None,
        ledger: LedgerIndex,
        marker: Attribution | None,
    ) -> UnitProvenance:
        found = stronger(ledger.attribution(relative, unit), marker)
        if head is not None:
            found = stronger(found, head.keys.get(unit.key))
        attribution = found or Attribution.of(AuthorKind.UNKNOWN, Evidence.GIT_HISTORY)
        review = ledger.review(relative, unit) if attribution.is_ai else None
        return UnitProvenance(unit, attribution, review)

    # -- what people and the editor say -------------------------------------------------------

    def record(
        self,
        source: SourceText,
        settings: Settings,
        lines: range,
        make: Callable[[list[str], str], dict[str, object]],
    ) -> int:
        """Append one ledger record for the statements overlapping `lines` (0-based)."""
        keys = [
            unit.key
            for unit in statement_units(source)
            if unit.first <= lines.stop - 1 and unit.last >= lines.start
        ]
        return self.record_keys(source, settings, keys, make)

    def record_keys(
        self,
        source: SourceText,
        settings: Settings,
        keys: list[str],
        make: Callable[[list[str], str], dict[str, object]],
    ) -> int:
        if not keys:
            return 0
        path = Path(source.path).resolve()
        root = self.workspace_root(path, settings)
        relative = _relative(path, root)
        self.ledger(root, settings).append([make(keys, relative)])
        return len(keys)

    def committed_text(self, path: Path) -> str | None:
        """The file as HEAD has it (None outside git or when not committed)."""
        root = self.git_root(path)
        if root is None:
            return None
        try:
            relative = path.resolve().relative_to(root).as_posix()
            blob = git.revision(root, f"HEAD:{relative}")
            return SourceText.from_bytes(git.read_blob(root, blob), relative).text if blob else None
        except (ValueError, git.GitError, OSError):
            return None

    def mark_reviewed(
        self, source: SourceText, settings: Settings, lines: range, reviewer: str | None = None
    ) -> int:
        root = self.workspace_root(Path(source.path).resolve(), settings)
        who = reviewer or git.user_identity(self.git_root(Path(source.path).resolve()) or root)
        return self.record(source, settings, lines, lambda k, p: review_record(k, p, who))

    def mark_author(
        self, source: SourceText, settings: Settings, lines: range, attribution: Attribution
    ) -> int:
        return self.record(
            source, settings, lines, lambda k, p: attribution_record(k, p, attribution)
        )

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


SERVICE = ProvenanceService()
