"""Provenance in the editor: observing insertions and external writes, review commands,
code actions, hovers, the file lens and the workspace report. Translation only: what counts
as AI-written and what a review covers is decided in `clearsight.provenance`."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from clearsight.cli.discovery import discover
from clearsight.lsp.convert import plain_params
from clearsight.model import Finding
from clearsight.notebook import mask_ipython
from clearsight.provenance import report
from clearsight.provenance.ledger import LedgerError, attribution_record
from clearsight.provenance.model import Attribution, AuthorKind, Evidence
from clearsight.provenance.observe import Edit, Observations, changed_regions, is_bulk
from clearsight.provenance.service import SERVICE, ProvenanceService
from clearsight.provenance.units import Unit, statement_units
from clearsight.settings import Settings
from clearsight.source import SourceText, read_file

if TYPE_CHECKING:
    from clearsight.lsp.server import Analysis, ClearsightServer

LOG = logging.getLogger(__name__)
UNREVIEWED = "CS-P001"
MARK_REVIEWED = "clearsight.markReviewed"
MARK_HUMAN = "clearsight.markHumanWritten"
MARK_PROVENANCE = "clearsight/markProvenance"
REPORT = "clearsight/provenanceReport"
REPORT_FILE_LIMIT = 5_000


def _keys(text: str, path: str) -> set[str]:
    return {unit.key for unit in statement_units(SourceText(text, path=path))}


class ProvenanceFeatures:
    def __init__(self, server: ClearsightServer, service: ProvenanceService = SERVICE) -> None:
        self.server = server
        self.service = service
        self._lock = threading.Lock()
        self.observations: dict[str, Observations] = {}
        self._recording_locks: dict[str, threading.Lock] = {}
        self.base_texts: dict[str, str] = {}  # the text at open: what the document already held
        self.disk_texts: dict[str, str] = {}  # closed files' last known text, by path
        self.loop: asyncio.AbstractEventLoop | None = None
        self.reported: set[str] = set()

    def start(self) -> None:
        """Git runs off the event loop from now on; a finished history read re-analyses."""
        self.loop = asyncio.get_running_loop()
        self.service.background = True
        self.service.on_ready = self._history_ready

    def _history_ready(self, path: str) -> None:
        if self.loop is None or self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self._reanalyse_path, path)

    def _reanalyse_path(self, path: str) -> None:
        for document in self.server.documents:
            if str(Path(self.server.path_for(document.uri)).resolve()) == path:
                self.server.schedule(document.uri, delay=0)
                self.server.refresh_pull_clients()

    # -- observing ------------------------------------------------------------------------

    def opened(self, uri: str, text: str) -> None:
        if self.server.notebooks.notebook_of(uri) is not None:
            text = mask_ipython(text)[0]  # a cell: its statements as the analysis reads them
        with self._lock:
            self.observations[uri] = Observations()
            self.base_texts[uri] = text
        if self.loop is not None:
            self.server.executor.submit(self._check_data, uri)

    def _check_data(self, uri: str) -> None:
        """Unreadable ledger or trace lines: shown once each, never fatal."""
        path = Path(self.server.path_for(uri))
        problems = self.service.data_problems(path, self.server.resolver.for_path(path))
        new = [p for p in problems if p not in self.reported]
        self.reported.update(new)
        for problem in new:
            message = types.ShowMessageParams(
                type=types.MessageType.Warning, message=f"Clearsight provenance: {problem}"
            )
            if self.loop is not None and not self.loop.is_closed():
                self.loop.call_soon_threadsafe(self.server.window_show_message, message)

    def closed(self, uri: str, text: str | None) -> None:
        with self._lock:
            self.observations.pop(uri, None)
            self.base_texts.pop(uri, None)
            self._recording_locks.pop(uri, None)
        if text is not None:
            self.disk_texts[str(Path(self.server.path_for(uri)).resolve())] = text

    def changed(
        self, uri: str, before: str, change: types.TextDocumentContentChangeEvent, after: str
    ) -> None:
        """Called for each change of a didChange, with the text before and after it."""
        if isinstance(change, types.TextDocumentContentChangePartial):
            edits = [
                Edit(
                    change.range.start.line,
                    change.range.end.line,
                    change.text.count("\n"),
                    len(change.text),
                )
            ]
        elif max(len(before), len(after)) > self.server.settings_for(uri).limits.max_file_bytes:
            return  # a huge buffer replaced whole: not compared (it is not analysed either)
        else:
            edits = changed_regions(before, after)
        settings = self.server.settings_for(uri).provenance
        with self._lock:
            observations = self.observations.setdefault(uri, Observations())
            for edit in edits:
                bulk = settings.enabled and is_bulk(edit, settings.bulk_lines, settings.bulk_chars)
                observations.edited(edit, bulk)

    def before_analysis(self, uri: str, text: str, path: str, settings: Settings) -> None:
        """In the worker thread: turn pending observed ranges into ledger records once the
        text parses, for the statements in them that the document did not hold before."""
        # One at a time per document: a superseded analysis may still be running beside
        # the current one, and the insertion must be recorded once, before the analysis
        # that shows it.
        with self._recording(uri):
            observations, pending, base = self._pending(uri)
            if not pending or not settings.provenance.enabled or observations is None:
                return
            if max(len(text), len(base or "")) > settings.limits.max_file_bytes:
                return  # over the size limit: not parsed, so no statements to attribute
            source = SourceText(text, path=path)
            if source.tree is None:
                return  # half-typed: keep the ranges until it parses
            if observations.known_keys is None:
                observations.known_keys = _keys(base, path)
            units = statement_units(source)
            new = _new_keys(units, observations.known_keys, pending)
            attribution = Attribution.of(AuthorKind.AI, Evidence.BULK_INSERTION)
            self._record(source, settings, new, attribution)
            with self._lock:
                observations.ranges = [r for r in observations.ranges if r not in pending]
                observations.known_keys |= {unit.key for unit in units}

    def has_pending(self, uri: str) -> bool:
        """Whether an insertion into the document waits to be recorded."""
        with self._lock:
            observations = self.observations.get(uri)
            return bool(observations and observations.ranges)

    def _recording(self, uri: str) -> threading.Lock:
        with self._lock:
            return self._recording_locks.setdefault(uri, threading.Lock())

    def _pending(self, uri: str) -> tuple[Observations | None, list[tuple[int, int]], str]:
        """The document's observations, a copy of their pending ranges and the text it was
        opened with, read together under the lock: edits keep arriving meanwhile."""
        with self._lock:
            observations = self.observations.get(uri)
            pending = list(observations.ranges) if observations else []
            base = self.base_texts.get(uri, "")
        return observations, pending, base

    def _record(
        self, source: SourceText, settings: Settings, keys: list[str], attribution: Attribution
    ) -> int:
        try:
            return self.service.record_keys(
                source, settings, keys, lambda k, p: attribution_record(k, p, attribution)
            )
        except LedgerError as error:
            self.server.window_show_message(
                types.ShowMessageParams(
                    type=types.MessageType.Warning, message=f"Clearsight: {error}"
                )
            )
            return 0

    def files_changed_on_disk(self, changes: list[types.FileEvent]) -> None:
        open_paths = {
            str(Path(self.server.path_for(d.uri)).resolve()) for d in self.server.documents
        }
        for change in changes:
            path = self.server.path_for(change.uri)
            if not path.endswith(".py") or str(Path(path).resolve()) in open_paths:
                continue  # open documents report their edits themselves
            if change.type == types.FileChangeType.Deleted:
                self.disk_texts.pop(str(Path(path).resolve()), None)
                continue
            self.server.executor.submit(self._external_write, Path(path).resolve())

    def _external_write(self, path: Path) -> None:
        """A file changed on disk with nobody typing in it: an agent writing files, unless
        the new content is what git has (a checkout, a pull)."""
        raw = read_file(path)  # not a FIFO an agent left: it would block the worker
        if isinstance(raw, str):
            return
        text = SourceText.from_bytes(raw, str(path)).text
        before = self.disk_texts.get(str(path), "")
        self.disk_texts[str(path)] = text
        settings = self.server.resolver.for_path(path)
        observed = _observed(before, text, settings)
        if not observed.ranges or not settings.provenance.enabled:
            return
        if self.service.committed_text(path) == text:
            return  # what git has: a checkout or a pull, not an agent
        source = SourceText(text, path=str(path))
        if source.tree is None:
            return
        known = _keys(before, str(path)) if before else set()
        keys = _new_keys(statement_units(source), known, observed.ranges)
        self._record(source, settings, keys, Attribution.of(AuthorKind.AI, Evidence.EXTERNAL_WRITE))

    # -- marks, commands ------------------------------------------------------------------

    def _lines(self, value: Any) -> range | None:
        try:
            start, end = value["start"]["line"], value["end"]["line"]
            end_character = value["end"].get("character", 1)
        except (KeyError, TypeError):
            return None
        if not isinstance(start, int) or not isinstance(end, int) or end < start:
            return None
        if end > start and end_character == 0:
            end -= 1  # a selection ending at the start of a line does not include that line
        return range(start, end + 1)

    def mark(self, kind: str, arguments: list[Any] | None) -> dict[str, Any]:
        """`clearsight.markReviewed` / `clearsight.markHumanWritten` [{uri, range}]."""
        argument = arguments[0] if arguments else None
        if not isinstance(argument, dict) or not isinstance(argument.get("uri"), str):
            raise ValueError("expected [{uri, range}]")
        uri = argument["uri"]
        found = self._source_of(uri)
        lines = self._lines(argument.get("range"))
        if found is None or lines is None:
            raise ValueError("the document is not open or the range is invalid")
        settings = self.server.settings_for(uri)
        source, offset = found
        lines = range(lines.start + offset, lines.stop + offset)
        try:
            if kind == MARK_REVIEWED:
                count = self.service.mark_reviewed(source, settings, lines)
            else:
                human = Attribution.of(AuthorKind.HUMAN, Evidence.MARKED)
                count = self.service.mark_author(source, settings, lines, human)
        except LedgerError as error:
            raise ValueError(str(error)) from error
        self.server.reanalyse_all()
        return {"statements": count}

    def mark_provenance(self, params: Any) -> None:
        """`clearsight/markProvenance` {uri, ranges, tool?, model?, author?}: an agent or
        client hook saying explicitly where code came from."""
        data = params if isinstance(params, dict) else getattr(params, "__dict__", {})
        uri = data.get("uri")
        found = self._source_of(uri) if isinstance(uri, str) else None
        if found is None:
            return
        try:
            kind = AuthorKind(str(data.get("author", "ai")))
        except ValueError:
            kind = AuthorKind.AI
        tool = data.get("tool") if isinstance(data.get("tool"), str) else None
        model = data.get("model") if isinstance(data.get("model"), str) else None
        attribution = Attribution.of(kind, Evidence.MARKED, tool, model)
        settings = self.server.settings_for(uri)
        source, offset = found
        for value in data.get("ranges") or []:
            lines = self._lines(value)
            if lines is not None:
                lines = range(lines.start + offset, lines.stop + offset)
                self.service.mark_author(source, settings, lines, attribution)
        self.server.reanalyse_all()

    # -- what the editor shows ------------------------------------------------------------

    def code_actions(
        self, analysis: Analysis, params: types.CodeActionParams
    ) -> list[types.CodeAction]:
        if not _wants_marks(params.context.only):
            return []
        actions = []
        for finding in analysis.findings:
            if finding.code == UNREVIEWED and _overlaps(finding, params.range):
                actions += _block_actions(analysis.uri, finding)
        selection = params.range
        if selection.start.line != selection.end.line and any(
            f.code == UNREVIEWED for f in analysis.findings
        ):
            argument = {"uri": analysis.uri, "range": selection}
            title = "Mark selection as reviewed"
            actions.append(
                _command_action(title, types.CodeActionKind.Source, MARK_REVIEWED, argument)
            )
        return actions

    def _source_of(self, uri: str) -> tuple[SourceText, int] | None:
        """The text whose provenance a document's lines belong to, and the line where the
        document starts in it: a notebook cell's is its notebook's joined code cells."""
        path = self.server.path_for(uri)
        joined = self.server.notebooks.joined(uri, self.server.documents)
        if joined is not None:
            source = SourceText(joined.text, path=path, part_starts=joined.part_starts)
            return source, joined.first_line
        document = self.server.documents.get(uri)
        return (SourceText(document.text, path=path), 0) if document is not None else None

    def hover_line(self, analysis: Analysis, line: int) -> str | None:
        settings = self.server.settings_for(analysis.uri)
        source, offset = analysis.source, 0
        if self.server.notebooks.notebook_of(analysis.uri) is not None:
            found = self._source_of(analysis.uri)
            if found is None:
                return None
            source, offset = found
        provenance = self.service.file_provenance(source, settings, full=True)
        entry = provenance.unit_at(line + offset)
        if entry is None or entry.attribution.kind == AuthorKind.UNKNOWN:
            return None
        text = entry.attribution.describe()
        if entry.attribution.is_ai:
            review = entry.review
            text += (
                f" · reviewed by {review.reviewer} ({review.time})" if review else " · unreviewed"
            )
        return f"**Provenance:** {text}"

    def file_lens(self, analysis: Analysis) -> types.CodeLens | None:
        settings = self.server.settings_for(analysis.uri)
        if not settings.provenance.enabled:
            return None
        provenance = self.service.file_provenance(analysis.source, settings)
        ai = provenance.ai_lines()
        if not ai:
            return None
        unreviewed = sum(1 for f in analysis.findings if f.code == UNREVIEWED)
        title = (
            f"AI-written: {provenance.share():.0%} of this file · {unreviewed} unreviewed block(s)"
        )
        return types.CodeLens(
            range=types.Range(types.Position(0, 0), types.Position(0, 0)),
            command=types.Command(title=title, command=""),
        )

    def report(self) -> dict[str, Any]:
        """`clearsight/provenanceReport`: the workspace's report, open buffers as they are."""
        root = self.server.workspace.root_path if self.server.protocol.workspace else None
        blocking = ProvenanceService()  # waits for git: a report is asked for, not typed
        buffers = {
            str(Path(self.server.path_for(d.uri)).resolve()): d.text for d in self.server.documents
        }
        summaries = []
        for path in self._report_paths(root, buffers):
            source = _current_source(path, buffers)
            if source is None:
                continue
            settings = self.server.resolver.for_path(Path(path))
            provenance = blocking.file_provenance(source, settings, full=True)
            summaries.append(report.summarize(_shown_path(path, root), provenance))
        blocking.shutdown()
        return {"markdown": report.markdown(summaries), "totals": report.totals(summaries)}

    def _report_paths(self, root: str | None, buffers: dict[str, str]) -> list[str]:
        """The workspace's files (up to the limit), then open buffers outside them."""
        files = discover([root], self.server.resolver, notebooks=False).files if root else []
        paths = [str(p.resolve()) for p in files[:REPORT_FILE_LIMIT]]
        return paths + [p for p in buffers if p not in paths]


def _new_keys(units: Iterable[Unit], known: set[str], ranges: list[tuple[int, int]]) -> list[str]:
    """Keys of the statements that touch `ranges` and are not `known`: what was inserted,
    not what the document already held."""
    return [
        unit.key
        for unit in units
        if unit.key not in known
        and any(unit.first <= last and unit.last >= first for first, last in ranges)
    ]


def _observed(before: str, after: str, settings: Settings) -> Observations:
    """The edits turning `before` into `after`, observed as if typed in the editor."""
    observed = Observations()
    for edit in changed_regions(before, after):
        limits = settings.provenance
        observed.edited(edit, is_bulk(edit, limits.bulk_lines, limits.bulk_chars))
    return observed


def _wants_marks(only: Sequence[str] | None) -> bool:
    """Whether a request limited to `only` these kinds takes quick fixes or source actions."""
    return not only or any(k.startswith(("quickfix", "source")) for k in only)


def _block_actions(uri: str, finding: Finding) -> list[types.CodeAction]:
    """Quick fixes for one unreviewed block: mark it reviewed, or human-written."""
    first, last = finding.metrics["first_line"], finding.metrics["last_line"]
    span = {
        "start": {"line": first, "character": 0},
        "end": {"line": last + 1, "character": 0},
    }
    argument = {"uri": uri, "range": span}
    return [
        _command_action(title, types.CodeActionKind.QuickFix, command, argument)
        for title, command in (
            (f"Mark as reviewed (lines {first + 1}-{last + 1})", MARK_REVIEWED),
            (f"Mark as human-written (lines {first + 1}-{last + 1})", MARK_HUMAN),
        )
    ]


def _command_action(
    title: str, kind: types.CodeActionKind, command: str, argument: dict[str, Any]
) -> types.CodeAction:
    return types.CodeAction(
        title=title,
        kind=kind,
        command=types.Command(title=title, command=command, arguments=[argument]),
    )


def _current_source(path: str, buffers: dict[str, str]) -> SourceText | None:
    """The file as the editor has it: its open buffer, else the disk (None if unreadable)."""
    text = buffers.get(path)
    if text is not None:
        return SourceText(text, path=path)
    raw = read_file(Path(path))
    return SourceText.from_bytes(raw, path) if isinstance(raw, bytes) else None


def _shown_path(path: str, root: str | None) -> str:
    """Paths in the workspace relative to its root, others as they are."""
    return str(Path(path).relative_to(root)) if root and path.startswith(root) else path


def _overlaps(finding: Finding, selection: types.Range) -> bool:
    first, last = finding.metrics.get("first_line", -1), finding.metrics.get("last_line", -1)
    return first <= selection.end.line and last >= selection.start.line


def register(server: ClearsightServer) -> None:
    features = server.provenance

    @server.command(MARK_REVIEWED)
    def on_mark_reviewed(ls: Any, *arguments: Any) -> dict[str, Any]:
        return features.mark(MARK_REVIEWED, _arguments(arguments))

    @server.command(MARK_HUMAN)
    def on_mark_human(ls: Any, *arguments: Any) -> dict[str, Any]:
        return features.mark(MARK_HUMAN, _arguments(arguments))

    @server.feature(MARK_PROVENANCE)
    def on_mark_provenance(ls: Any, params: Any) -> None:
        features.mark_provenance(plain_params(params))

    @server.feature(REPORT)
    async def on_report(ls: Any, params: Any) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(ls.executor, features.report)


def _arguments(arguments: tuple[Any, ...]) -> list[Any]:
    if len(arguments) == 1 and isinstance(arguments[0], list):
        return plain_params(arguments[0])
    return plain_params(list(arguments))
