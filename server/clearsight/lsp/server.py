"""The language server: the engine's findings as diagnostics, code actions, hovers and lenses.

The LSP layer only translates. Handlers record the new text and return; analysis runs on
a snapshot in a worker thread, a newer edit cancels the pending run, and a result is
published only if its version is still the document's version. When to start is adaptive
(`adaptive_delay`): at once for a document whose analyses are cheap, after about one
analysis's time for a slow one, so fast typing there coalesces; `debounce` fixes the wait.
Requests that need findings wait for the pending run, so they never answer from an older
text or older settings.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Generator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol, lsp_method
from pygls.uris import to_fs_path

from clearsight import __version__
from clearsight.carry import carry_over
from clearsight.checks.complexity import analyse_complexity
from clearsight.engine import CHECK_FAILED, all_rules, analyze
from clearsight.fixes import safe_fix_edits, suppression_fixes
from clearsight.incremental import IncrementalAnalyzer
from clearsight.lsp import convert
from clearsight.lsp.documents import Documents
from clearsight.lsp.environments import EnvironmentFeatures
from clearsight.lsp.idle_gc import IdleCollector
from clearsight.lsp.notebooks import Notebooks
from clearsight.lsp.positions import from_client
from clearsight.lsp.provenance import ProvenanceFeatures
from clearsight.lsp.provenance import register as register_provenance
from clearsight.lsp.report import register as register_risk_report
from clearsight.lsp.review import register as register_review
from clearsight.lsp.stdio import serve_stdio
from clearsight.lsp.workspace import register as register_workspace_diagnostics
from clearsight.model import Finding, Fix
from clearsight.notebook import mask_ipython
from clearsight.notebook_analysis import analyze_cells
from clearsight.review.baseline import BaselineWatch
from clearsight.review.notices import Notices
from clearsight.review.scope import ChangedScope
from clearsight.settings import Settings, SettingsResolver, merge_tables
from clearsight.source import SourceText

LOG = logging.getLogger(__name__)
FIX_ALL = "source.fixAll.clearsight"
# Adaptive scheduling: a document analysed in less than this starts at once after an edit
# (its results arrive within a frame or two). A slower one starts at once too, unless edits
# come faster than it is analysed: then it waits about one analysis's time (up to the cap),
# so a burst of keystrokes makes one run, not one each.
CHEAP_ANALYSIS_SECONDS = 0.05
SLOW_DELAY_CAP_SECONDS = 0.5


def adaptive_delay(cost: float | None, since_last_edit: float | None) -> float:
    """How long to wait after an edit, from what analysing the document costs (None: never
    analysed) and the time since the edit before this one (None: the first)."""
    if cost is None or cost <= CHEAP_ANALYSIS_SECONDS:
        return 0.0
    if since_last_edit is None or since_last_edit >= cost:
        return 0.0  # typing slower than analysing: nothing to coalesce
    return min(SLOW_DELAY_CAP_SECONDS, cost)


# Documents whose incremental state (`IncrementalAnalyzer`: each statement's tree, facts and
# findings, about 1 MiB per 1,000 lines) is kept: those being edited, then those most
# recently opened. Any other open document keeps its text and last findings only; its next
# edit is analysed whole once (what opening it cost), and incrementally from then on.
KEPT_ANALYZERS = 8
CONFIGURATION_TIMEOUT = 5.0  # seconds to wait for the editor's settings before analysing
# Not [tool.clearsight] settings: the editor's own. `scope` "changed" shows only what the
# change introduced against `base` (and adjacent findings), as `clearsight review` sees it.
# `baseline`: a `clearsight check --format json` report whose findings are not shown.
EDITOR_ONLY_SETTINGS = ("debounce", "trace", "scope", "base", "baseline")
_DEFINITION_NAME = re.compile(r"(?:async\s+)?(?:def|class)\s+(\w+)")


@dataclass
class Analysis:
    """The findings of one version of one document."""

    uri: str
    version: int | None
    source: SourceText
    findings: list[Finding]
    result_id: str
    parsed: bool
    seconds: float = 0.0  # what analysing it cost (the worker's wall time)


@dataclass
class DocumentState:
    task: asyncio.Task[Analysis | None] | None = None
    analysis: Analysis | None = None
    last_good: Analysis | None = None  # the last version that parsed, for carrying over
    # Re-analyses only the top-level statements an edit touched (None until first use).
    analyzer: IncrementalAnalyzer | None = None
    cost: float | None = None  # what the last analysis cost, seconds
    last_edit: float | None = None  # time.monotonic() of the last edit


_ANSWERED = object()  # a message already answered while it was being read


class ClearsightProtocol(LanguageServerProtocol):
    """pygls's protocol with two changes.

    Open documents live in `Documents` only (notebooks' cells too, `Notebooks` keeping
    their order). pygls keeps its own copy too, whose lines also break at \\f and U+2028;
    to fit an incoming edit to those lines it clamps the edit's positions *in place*, so
    the edit our handler then sees is already wrong.

    A request whose params do not fit the protocol gets an error response. pygls only logs
    it (and shows an error), and the editor would wait for an answer forever.
    """

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(
        self, params: types.DidOpenTextDocumentParams
    ) -> Generator[Any, Any, None]:
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_OPEN)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(
        self, params: types.DidChangeTextDocumentParams
    ) -> Generator[Any, Any, None]:
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CHANGE)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(
        self, params: types.DidCloseTextDocumentParams
    ) -> Generator[Any, Any, None]:
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CLOSE)) is not None:
            yield handler, (params,), None

    @lsp_method(types.NOTEBOOK_DOCUMENT_DID_OPEN)
    def lsp_notebook_document__did_open(
        self, params: types.DidOpenNotebookDocumentParams
    ) -> Generator[Any, Any, None]:
        if (handler := self.fm.features.get(types.NOTEBOOK_DOCUMENT_DID_OPEN)) is not None:
            yield handler, (params,), None

    @lsp_method(types.NOTEBOOK_DOCUMENT_DID_CHANGE)
    def lsp_notebook_document__did_change(
        self, params: types.DidChangeNotebookDocumentParams
    ) -> Generator[Any, Any, None]:
        if (handler := self.fm.features.get(types.NOTEBOOK_DOCUMENT_DID_CHANGE)) is not None:
            yield handler, (params,), None

    @lsp_method(types.NOTEBOOK_DOCUMENT_DID_CLOSE)
    def lsp_notebook_document__did_close(
        self, params: types.DidCloseNotebookDocumentParams
    ) -> Generator[Any, Any, None]:
        if (handler := self.fm.features.get(types.NOTEBOOK_DOCUMENT_DID_CLOSE)) is not None:
            yield handler, (params,), None

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as error:
            if "id" in data and "method" in data:  # a request: the editor waits for an answer
                LOG.warning("invalid %s request: %s", data.get("method"), error)
                self._send_response(data["id"], None, error.to_response_error())
                return _ANSWERED
            raise

    def handle_message(self, message: Any) -> None:
        if message is not _ANSWERED:
            super().handle_message(message)


def _kebab(value: Any) -> Any:
    """Editor settings may come in camelCase (VS Code) or kebab-case (pyproject)."""
    if isinstance(value, dict):
        return {
            re.sub(r"(?<=[a-z0-9])([A-Z])", r"-\1", k).lower(): _kebab(v) for k, v in value.items()
        }
    return value


def _result_id(version: int | None, findings: list[Finding]) -> str:
    # Every field of every finding (dataclass reprs), about ten times cheaper than JSON.
    payload = repr(findings)
    return hashlib.sha1(payload.encode(), usedforsecurity=False).hexdigest()[:16]


def analyse_snapshot(
    uri: str,
    version: int | None,
    text: str,
    path: str,
    settings: Settings,
    last_good: Analysis | None,
    analyzer: IncrementalAnalyzer | None = None,
) -> Analysis:
    """Runs in a worker thread: the engine on one immutable snapshot (incrementally, when
    the document has an analyzer: same findings, only the edited statements re-checked)."""
    if analyzer is not None:
        source, findings = analyzer.analyze(text, settings)
        parsed = analyzer.parsed
    else:
        source = SourceText(text, path=path)
        findings = analyze(source, path, settings)
        parsed = source.tree is not None
    if not parsed and last_good is not None:
        findings = sorted(
            [*findings, *carry_over(last_good.source, last_good.findings, source)],
            key=lambda f: (f.span.start, f.code),
        )
    return Analysis(uri, version, source, findings, _result_id(version, findings), parsed)


class ClearsightServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "clearsight",
            __version__,
            protocol_cls=ClearsightProtocol,
            notebook_document_sync=types.NotebookDocumentSyncOptions(
                notebook_selector=[
                    types.NotebookDocumentFilterWithCells(
                        cells=[types.NotebookCellLanguage(language="python")]
                    )
                ]
            ),
        )
        self.documents = Documents()
        self.notebooks = Notebooks()
        self.states: dict[str, DocumentState] = {}
        # The documents that keep an analyzer, least recently analysed first.
        self.kept_analyzers: OrderedDict[str, None] = OrderedDict()
        self.executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="clearsight")
        # Analyses running in worker threads; they outlive the tasks that wait for them.
        self.busy = 0
        self._busy_lock = threading.Lock()
        self.idle_gc = IdleCollector(lambda: self.busy > 0)
        self.shut_down = False
        # Editor settings in layers: initializationOptions, then what the editor's own
        # settings say (workspace/configuration or didChangeConfiguration) on top.
        self.initialization_settings: dict[str, Any] = {}
        self.client_settings: dict[str, Any] = {}
        self.editor_settings: dict[str, Any] = {}
        self.resolver = SettingsResolver()
        # Set once the editor's settings have been asked for: no analysis runs before, so
        # none is done (and published) with settings about to change.
        self.configured = asyncio.Event()
        self.reported_problems: set[str] = set()
        self.pull_diagnostics = False
        self.rule_help = {rule.code: rule.help for rule in all_rules()}
        self.provenance = ProvenanceFeatures(self)
        self.notebooks.listener = self.provenance  # cells' edits are observed as files' are
        self.notices = Notices()
        self.changed_scope = ChangedScope(self.notices)
        self.baseline = BaselineWatch(self.notices)
        self.environments = EnvironmentFeatures(self)

    # -- settings -----------------------------------------------------------------------

    @property
    def encoding(self) -> str:
        try:
            encoding = self.workspace.position_encoding
        except RuntimeError:  # not initialised yet
            encoding = None
        return str(encoding or types.PositionEncodingKind.Utf16)

    @property
    def debounce(self) -> float | None:
        """The editor's fixed `debounce` (seconds), or None: adaptive."""
        value = self.editor_settings.get("debounce")
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return max(0.0, float(value)) / 1000

    def update_editor_settings(self, *, initialization: Any = None, client: Any = None) -> None:
        """Replace one layer of the editor's settings (a layer given as None is kept)."""
        if initialization is not None:
            self.initialization_settings = (
                _kebab(initialization) if isinstance(initialization, dict) else {}
            )
        if client is not None:
            self.client_settings = _kebab(client) if isinstance(client, dict) else {}
        self.editor_settings = merge_tables(self.initialization_settings, self.client_settings)
        self.reset_resolver()

    def reset_resolver(self) -> None:
        """Forget cached pyproject.toml settings; lay the editor's settings over them."""
        engine_table = {
            k: v for k, v in self.editor_settings.items() if k not in EDITOR_ONLY_SETTINGS
        }
        self.resolver = SettingsResolver(engine_table)
        self.reported_problems.clear()
        self.environments.reset()

    def settings_for(self, uri: str) -> Settings:
        path = self.path_for(uri)
        settings = self.resolver.for_path(Path(path)) if path else Settings()
        for problem in settings.problems:
            if problem not in self.reported_problems:
                self.reported_problems.add(problem)
                self.window_show_message(
                    types.ShowMessageParams(
                        type=types.MessageType.Warning, message=f"Clearsight: {problem}"
                    )
                )
        if path:
            self.environments.say(path, settings)
        return settings

    def path_for(self, uri: str) -> str:
        uri = self.notebooks.notebook_of(uri) or uri  # a cell: its notebook's file
        try:
            path = to_fs_path(uri)
        except Exception:
            path = None
        if path:
            return path
        root = self.workspace.root_path if self.protocol.workspace else None
        return str(Path(root or ".") / "untitled.py")

    # -- scheduling -----------------------------------------------------------------------

    def state(self, uri: str) -> DocumentState:
        return self.states.setdefault(uri, DocumentState())

    def schedule(self, uri: str, delay: float | None = None) -> None:
        """Analyse the document's current text soon; any pending run for it is superseded.
        A notebook's cell: the notebook is analysed (all its cells at once)."""
        self.idle_gc.activity()
        uri = self.notebooks.notebook_of(uri) or uri
        state = self.state(uri)
        if state.task is not None and not state.task.done():
            state.task.cancel()
        if delay is None:  # an edit
            now = time.monotonic()
            since = now - state.last_edit if state.last_edit is not None else None
            state.last_edit = now
            fixed = self.debounce
            delay = adaptive_delay(state.cost, since) if fixed is None else fixed
        state.task = asyncio.get_running_loop().create_task(self._analyse(uri, delay))

    async def _analyse(self, uri: str, delay: float) -> Analysis | None:
        try:
            return await self._analyse_unguarded(uri, delay)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # never leave the document (or its waiters) stuck
            LOG.exception("analysis of %s failed", uri)
            self.window_log_message(
                types.LogMessageParams(
                    type=types.MessageType.Error, message=f"Clearsight: {uri}: {error!r}"
                )
            )
            return None

    async def _await_configuration(self) -> None:
        if self.configured.is_set():
            return
        try:
            await asyncio.wait_for(self.configured.wait(), CONFIGURATION_TIMEOUT)
        except asyncio.TimeoutError:
            self.configured.set()  # an editor that never sent `initialized`

    async def _analyse_unguarded(self, uri: str, delay: float) -> Analysis | None:
        if delay:
            await asyncio.sleep(delay)
        await self._await_configuration()
        if self.notebooks.get(uri) is not None:
            await self._analyse_notebook(uri)
            return None
        document = self.documents.get(uri)
        if document is None:
            return None
        state = self.state(uri)
        version, text = document.version, document.text
        settings = self.settings_for(uri)
        if state.analyzer is None:
            state.analyzer = IncrementalAnalyzer(self.path_for(uri))
        self._keep_analyzer(uri)
        loop = asyncio.get_running_loop()
        analysis = await loop.run_in_executor(
            self.executor,
            self._run_analysis,
            uri,
            version,
            text,
            self.path_for(uri),
            settings,
            state.last_good,
            state.analyzer,
        )
        self.say_notices()
        if analysis is None:
            return None  # superseded before it started: nothing was analysed
        state.cost = analysis.seconds
        current = self.documents.get(uri)
        if current is None or current.version != version or current.text != text:
            return None  # superseded while running: never publish a stale result
        state.analysis = analysis
        if analysis.parsed:
            state.last_good = analysis
        self._log_failures(analysis)
        if not self.pull_diagnostics:
            self.publish(analysis)
        return analysis

    def forget(self, uri: str) -> None:
        """A document (or notebook) closed: its state goes, and a pending run is cancelled."""
        state = self.states.pop(uri, None)
        self.kept_analyzers.pop(uri, None)
        if state and state.task and not state.task.done():
            state.task.cancel()

    def _keep_analyzer(self, uri: str) -> None:
        """`uri` is being analysed: its analyzer is kept, the least recent beyond
        `KEPT_ANALYZERS` dropped, with the views of their last analyses' text (a run still
        using one finishes with it)."""
        self.kept_analyzers[uri] = None
        self.kept_analyzers.move_to_end(uri)
        while len(self.kept_analyzers) > KEPT_ANALYZERS:
            cold = self._coldest()
            del self.kept_analyzers[cold]
            state = self.states.get(cold)
            if state is not None:
                state.analyzer = None
                for analysis in (state.analysis, state.last_good):
                    if analysis is not None:
                        analysis.source.drop_views()

    def _coldest(self) -> str:
        """The document whose analyzer goes first: the least recent of those opened and
        never edited (browsed to, not worked on), else the least recently analysed."""
        for uri in self.kept_analyzers:
            state = self.states.get(uri)
            if state is None or state.last_edit is None:
                return uri
        return next(iter(self.kept_analyzers))

    def requested_base(self) -> str | None:
        """The new code mode's `base` setting: None outside that mode, "" when left to the
        review's resolution."""
        if self.editor_settings.get("scope") != "changed":
            return None
        base = self.editor_settings.get("base")
        return base if isinstance(base, str) else ""

    def shown_findings(
        self, path: str, text: str, findings: list[Finding], settings: Settings
    ) -> list[Finding]:
        """What the editor shows of a file's findings: in the new code mode, what the change
        introduced (and adjacent ones); without the baseline's. `findings` itself when
        neither applies."""
        shown = findings
        base = self.requested_base()
        if base is not None:
            shown = self.changed_scope.shown(path, text, shown, settings, base or None)
        baseline = self.baseline_file()
        if baseline is not None:
            shown = self.baseline.shown(*baseline, path, text, shown)
        return shown

    def view_key(self, path: str) -> str:
        """What, besides the file and its settings, decides which findings are shown: the
        new code mode's base commit, the baseline file's time stamp ("" for neither)."""
        parts = []
        base = self.requested_base()
        if base is not None:
            parts.append(f"changed:{self.changed_scope.base_commit(path, base or None)}")
        baseline = self.baseline_file()
        if baseline is not None:
            parts.append(f"baseline:{baseline[0]}:{self.baseline.stamp(baseline[0])}")
        return "\0".join(parts)

    def baseline_file(self) -> tuple[Path, Path] | None:
        """(the baseline file, the folder its paths are relative to), when one is set."""
        baseline = self.editor_settings.get("baseline")
        if not isinstance(baseline, str) or not baseline.strip():
            return None
        root = Path(self.workspace.root_path or ".") if self.protocol.workspace else Path(".")
        return root / Path(baseline).expanduser(), root

    def is_baseline_file(self, uri: str) -> bool:
        found = self.baseline_file()
        return found is not None and uri.endswith(".json") and self.path_for(uri) == str(found[0])

    def say_notices(self) -> None:
        """Why the new code mode shows a file in full, once each (a warning); what it
        compares with on a detached HEAD (the log)."""
        for warning, message in self.notices.take():
            if warning:
                self.window_show_message(
                    types.ShowMessageParams(
                        type=types.MessageType.Warning, message=f"Clearsight: {message}"
                    )
                )
            else:
                self.window_log_message(
                    types.LogMessageParams(type=types.MessageType.Info, message=message)
                )

    async def _analyse_notebook(self, uri: str) -> None:
        """All the Python code cells of a notebook as one module (`analyze_cells`); each
        cell's findings stored and published under the cell's URI and version."""
        cells = [(d.uri, d.version, d.text) for d in self.notebooks.code_cells(uri, self.documents)]
        state, path = self.state(uri), self.path_for(uri)
        settings = self.settings_for(uri)
        if state.analyzer is None:
            state.analyzer = IncrementalAnalyzer(path)
        self._keep_analyzer(uri)
        started = time.perf_counter()
        with self._busy_lock:
            self.busy += 1
        try:
            per_cell = await asyncio.get_running_loop().run_in_executor(
                self.executor, self._analyse_cells, cells, path, settings, state.analyzer
            )
        finally:
            with self._busy_lock:
                self.busy -= 1
        state.cost = time.perf_counter() - started
        for cell_uri, version, text in cells:
            current = self.documents.get(cell_uri)
            if current is None or current.version != version or current.text != text:
                return  # superseded while running: the next run publishes
        for (cell_uri, version, text), findings in zip(cells, per_cell, strict=True):
            analysis = Analysis(
                cell_uri, version, SourceText(text, path=path), findings,
                _result_id(version, findings), parsed=True,
            )  # fmt: skip
            cell_state = self.state(cell_uri)
            before, cell_state.analysis = cell_state.analysis, analysis
            shown = (analysis.version, analysis.result_id)
            if before is None or (before.version, before.result_id) != shown:
                # Pushed even to an editor that pulls: VS Code's client (vscode-languageclient
                # 9) pulls only for documents in text tabs, never for a notebook's cells.
                # A cell whose text and findings are as they were is not published again.
                self.publish(analysis)

    def _analyse_cells(
        self,
        cells: list[tuple[str, int, str]],
        path: str,
        settings: Settings,
        analyzer: IncrementalAnalyzer,
    ) -> list[list[Finding]]:
        """In a worker thread: each cell's observed insertions recorded (in its statements
        as the analysis reads them, IPython syntax masked), then the cells analysed."""
        for uri, _, text in cells:
            if self.provenance.has_pending(uri):  # masking every cell on every edit: no
                self.provenance.before_analysis(uri, mask_ipython(text)[0], path, settings)
        return analyze_cells([text for _, _, text in cells], path, settings, analyzer)

    def _run_analysis(self, *args: Any) -> Analysis | None:
        uri, version, text, path, settings = args[:5]
        current = self.documents.get(uri)
        if current is not None and current.version != version:
            return None  # a newer edit came while this waited for a worker: skip it
        started = time.perf_counter()
        with self._busy_lock:
            self.busy += 1
        try:
            self.provenance.before_analysis(uri, text, path, settings)
            analysis = analyse_snapshot(*args)
            analysis.seconds = time.perf_counter() - started
            shown = self.shown_findings(path, text, analysis.findings, settings)
            if shown is not analysis.findings:
                analysis.findings = shown
                analysis.result_id = _result_id(analysis.version, shown) + "r"
            return analysis
        finally:
            with self._busy_lock:
                self.busy -= 1

    async def current_analysis(self, uri: str) -> Analysis | None:
        """The analysis of the document's current text with the current settings.

        A pending run always wins, even when an analysis of the same version exists: it was
        scheduled because something changed (the text, or the settings). None when the
        document is not open, or when analysing it fails.
        """
        retried = False
        while True:
            document = self.documents.get(uri)
            if document is None:
                return None
            state = self.state(uri)
            runs = self.states.get(self.notebooks.notebook_of(uri) or uri, state)
            task = runs.task  # a cell's: its notebook's run
            if task is not None and not task.done():
                await asyncio.wait([task])  # returns on cancellation too (superseded, closed)
                continue
            analysis = state.analysis
            if (
                analysis is not None
                and analysis.version == document.version
                and analysis.source.text == document.text
            ):
                return analysis
            if retried:
                return None  # the analysis failed (and was reported): nothing to answer from
            retried = True
            self.schedule(uri, delay=0)

    def publish(self, analysis: Analysis) -> None:
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=analysis.uri,
                version=analysis.version,
                diagnostics=self.diagnostics(analysis),
            )
        )

    def diagnostics(self, analysis: Analysis) -> list[types.Diagnostic]:
        return [
            convert.diagnostic(
                analysis.source,
                finding,
                index,
                self.encoding,
                bool(finding.metrics.get("stale")),
                analysis.uri,
            )
            for index, finding in enumerate(analysis.findings)
        ]

    def _log_failures(self, analysis: Analysis) -> None:
        for finding in analysis.findings:
            if finding.code == CHECK_FAILED:
                self.window_log_message(
                    types.LogMessageParams(
                        type=types.MessageType.Error, message=f"{analysis.uri}: {finding.message}"
                    )
                )

    def reanalyse_all(self) -> None:
        for document in self.documents:
            self.schedule(document.uri, delay=0)
        if self.pull_diagnostics and self._client_supports_refresh():
            self.workspace_diagnostic_refresh(None)

    def refresh_pull_clients(self) -> None:
        if self.pull_diagnostics and self._client_supports_refresh():
            self.workspace_diagnostic_refresh(None)

    def _client_supports_refresh(self) -> bool:
        workspace = self.client_capabilities.workspace
        diagnostics = workspace.diagnostics if workspace else None
        return bool(diagnostics and diagnostics.refresh_support)

    # -- code actions ---------------------------------------------------------------------

    def fixes_for(self, analysis: Analysis, finding: Finding) -> list[Fix]:
        return [*finding.fixes, *suppression_fixes(analysis.source, finding)]

    def code_actions(
        self, analysis: Analysis, params: types.CodeActionParams
    ) -> list[types.CodeAction]:
        wanted = params.context.only
        actions: list[types.CodeAction] = []
        if not wanted or any(kind.startswith("quickfix") for kind in wanted):
            actions.extend(self._quick_fixes(analysis, params))
        if not wanted or any(FIX_ALL.startswith(kind) for kind in wanted):
            fix_all = self.fix_all_action(analysis)
            if fix_all is not None:
                actions.append(fix_all)
        return actions

    def _quick_fixes(
        self, analysis: Analysis, params: types.CodeActionParams
    ) -> list[types.CodeAction]:
        actions = []
        for diagnostic in params.context.diagnostics:
            index = self.finding_index(analysis, diagnostic)
            if index is None:
                continue  # not ours, or no longer where the diagnostic says: no fix is safe
            finding = analysis.findings[index]
            for number, fix in enumerate(self.fixes_for(analysis, finding)):
                if fix.path is not None and self._other_file_text(fix.path) is None:
                    continue  # unreadable, or open with unsaved changes the edit did not see
                action = types.CodeAction(
                    title=fix.title,
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=[diagnostic],
                    is_preferred=fix.safe and number == 0,
                    data={"uri": analysis.uri, "version": analysis.version, "index": index,
                          "fix": number},
                )  # fmt: skip
                if not self._client_resolves_edits():
                    action.edit = self._edit(analysis, fix)
                actions.append(action)
        return actions

    def finding_index(self, analysis: Analysis, diagnostic: types.Diagnostic) -> int | None:
        """The finding of `analysis` that `diagnostic` shows: same code, same range.

        A diagnostic from an older version names the finding by its index then; the finding
        at that index now may be another one (an earlier finding was added or removed), and
        a finding whose range moved would get its fixes placed by the old range. Matching
        the range too means a fix is only offered where the editor shows the finding.
        """
        if diagnostic.source != convert.SOURCE:
            return None
        hint = convert.data_dict(diagnostic.data).get("index")
        order = list(range(len(analysis.findings)))
        if isinstance(hint, int) and 0 <= hint < len(order):
            order.insert(0, order.pop(hint))
        for index in order:
            finding = analysis.findings[index]
            if finding.code == diagnostic.code and diagnostic.range == convert.lsp_range(
                analysis.source, finding.span, self.encoding
            ):
                return index
        return None

    def fix_all_action(self, analysis: Analysis) -> types.CodeAction | None:
        edits = safe_fix_edits(analysis.findings)
        if not edits:
            return None
        fix = Fix("Clearsight: fix all safe problems", tuple(edits))
        return types.CodeAction(title=fix.title, kind=FIX_ALL, edit=self._edit(analysis, fix))

    def _analysis_still_current(self, uri: str, version: Any) -> Analysis | None:
        """The analysis of `version` of `uri`, if that is still the document's text."""
        state = self.states.get(uri)
        document = self.documents.get(uri)
        analysis = state.analysis if state else None
        if analysis is None or document is None:
            return None
        if analysis.version != version or document.version != version:
            return None
        return analysis if document.text == analysis.source.text else None

    def resolve(self, action: types.CodeAction) -> types.CodeAction:
        data = convert.data_dict(action.data)
        analysis = self._analysis_still_current(str(data.get("uri")), data.get("version"))
        if analysis is None:
            return action  # the document changed since: no edit rather than a wrong one
        index, number = data.get("index"), data.get("fix")
        if not isinstance(index, int) or not 0 <= index < len(analysis.findings):
            return action
        fixes = self.fixes_for(analysis, analysis.findings[index])
        if isinstance(number, int) and 0 <= number < len(fixes):
            action.edit = self._edit(analysis, fixes[number])
        return action

    def _edit(self, analysis: Analysis, fix: Fix) -> types.WorkspaceEdit | None:
        if fix.path is not None:
            return self._other_file_edit(fix.path, fix)
        edits = convert.text_edits(analysis.source, fix, self.encoding)
        return convert.workspace_edit(analysis.uri, analysis.version, analysis.source, edits)

    def _other_file_text(self, path: str) -> str | None:
        """Another file a fix edits (pyproject.toml), as on disk; None when it cannot be
        read or is open in the editor with changes not saved (the edit was made for the
        file on disk, and could land on the wrong line of the buffer)."""
        try:
            with open(path, encoding="utf-8", newline="") as file:  # keep \r\n as it is
                text = file.read()
        except (OSError, UnicodeDecodeError):
            return None
        document = self.documents.get(Path(path).as_uri())
        return None if document is not None and document.text != text else text

    def _other_file_edit(self, path: str, fix: Fix) -> types.WorkspaceEdit | None:
        text = self._other_file_text(path)
        if text is None:
            return None
        uri = Path(path).as_uri()
        source = SourceText(text, path=path)
        document = self.documents.get(uri)
        edits = convert.text_edits(source, fix, self.encoding)
        return convert.workspace_edit(uri, document.version if document else None, source, edits)

    def _client_resolves_edits(self) -> bool:
        text_document = self.client_capabilities.text_document
        code_action = text_document.code_action if text_document else None
        support = code_action.resolve_support if code_action else None
        return bool(support and "edit" in support.properties)

    # -- hover and lenses -----------------------------------------------------------------

    def hover(self, analysis: Analysis, position: types.Position) -> types.Hover | None:
        source = analysis.source
        line_text = source.line_text(position.line)
        column = from_client(line_text, position.character, self.encoding)
        parts = [
            convert.hover_markdown(finding, self.rule_help.get(finding.code))
            for finding in analysis.findings
            if finding.span.start.line <= position.line <= finding.span.end.line
            and (finding.span.start.line < position.line or finding.span.start.column <= column)
            and (finding.span.end.line > position.line or column <= finding.span.end.column)
        ]
        block = self._block_named_at(analysis, position.line, column)
        if block:
            parts.insert(0, block)
        if not parts:
            return None
        return types.Hover(
            contents=types.MarkupContent(
                kind=types.MarkupKind.Markdown, value="\n\n---\n\n".join(parts)
            )
        )

    def _block_named_at(self, analysis: Analysis, line: int, column: int) -> str | None:
        if not analysis.parsed:
            return None
        blocks, _ = analyse_complexity(analysis.source)
        limit = self.settings_for(analysis.uri).complexity.max_complexity
        text = analysis.source.line_text(line)
        for block in blocks:
            if block.line - 1 != line:
                continue
            # The name after `def`/`class` (a name like `f` also occurs in `def` itself).
            at = analysis.source.byte_to_char_column(line, block.byte_column)
            match = _DEFINITION_NAME.match(text, at)
            if match and match.start(1) <= column <= match.end(1):
                verdict = (
                    f"over the limit of {limit}: each branch is another path to test and "
                    "review; split it or return early instead of nesting"
                    if block.complexity > limit
                    else f"within the limit of {limit}"
                )
                return (
                    f"**{block.kind} `{block.name}`** · cyclomatic complexity "
                    f"**{block.complexity}** (rank {block.rank}), {verdict}."
                )
        return None

    def code_lenses(self, analysis: Analysis) -> list[types.CodeLens]:
        lenses = []
        for finding in analysis.findings:
            if finding.code != "CS-C001" or finding.metrics.get("stale"):
                continue
            metrics = finding.metrics
            title = f"complexity {metrics.get('complexity')} (rank {metrics.get('rank')})"
            lenses.append(
                types.CodeLens(
                    range=convert.lsp_range(analysis.source, finding.span, self.encoding),
                    command=types.Command(title=title, command=""),
                )
            )
        return lenses


def create_server() -> ClearsightServer:
    server = ClearsightServer()

    @server.feature(types.INITIALIZE)
    def on_initialize(ls: ClearsightServer, params: types.InitializeParams) -> None:
        text_document = params.capabilities.text_document
        ls.pull_diagnostics = bool(text_document and text_document.diagnostic)
        options = params.initialization_options
        if isinstance(options, dict):
            ls.update_editor_settings(initialization=options.get("settings", options))
        # Before the response: a didOpen may be handled before `initialized`'s task runs.
        ls.provenance.start()
        ls.idle_gc.start()

    @server.feature(types.INITIALIZED)
    async def on_initialized(ls: ClearsightServer, params: types.InitializedParams) -> None:
        _watch_pyproject(ls)
        try:
            await _pull_configuration(ls)
        finally:
            ls.configured.set()
        ls.environments.start_warm_up()

    @server.feature(types.SHUTDOWN)
    def on_shutdown(ls: ClearsightServer, params: None) -> None:
        ls.shut_down = True

    @server.feature(types.EXIT)
    def on_exit(ls: ClearsightServer, params: None) -> None:
        ls.executor.shutdown(wait=False, cancel_futures=True)
        if ls.busy:
            # Python joins worker threads before it exits: an analysis of a huge file would
            # keep the process alive for seconds after the editor said exit, for a result
            # nobody reads. Everything sent so far is flushed (pygls flushes each message).
            logging.shutdown()
            os._exit(0 if ls.shut_down else 1)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def on_open(ls: ClearsightServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.documents.open(params.text_document)
        ls.provenance.opened(params.text_document.uri, params.text_document.text)
        ls.schedule(params.text_document.uri, delay=0)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def on_change(ls: ClearsightServer, params: types.DidChangeTextDocumentParams) -> None:
        document = ls.documents.get(params.text_document.uri)
        if document is None:
            return
        for change in params.content_changes:
            before = document.text
            document.apply([change], ls.encoding)
            ls.provenance.changed(document.uri, before, change, document.text)
        document.version = params.text_document.version
        ls.schedule(document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def on_save(ls: ClearsightServer, params: types.DidSaveTextDocumentParams) -> None:
        if ls.documents.get(params.text_document.uri) is not None:
            ls.schedule(params.text_document.uri, delay=0)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def on_close(ls: ClearsightServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.forget(uri)
        document = ls.documents.get(uri)
        ls.provenance.closed(uri, document.text if document else None)
        ls.documents.close(uri)
        if not ls.pull_diagnostics:
            ls.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
            )

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_OPEN)
    def on_notebook_open(ls: ClearsightServer, params: types.DidOpenNotebookDocumentParams) -> None:
        ls.notebooks.open(params, ls.documents)
        ls.schedule(params.notebook_document.uri, delay=0)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_CHANGE)
    def on_notebook_change(
        ls: ClearsightServer, params: types.DidChangeNotebookDocumentParams
    ) -> None:
        uri = params.notebook_document.uri
        closed = {c.uri for c in (params.change.cells and params.change.cells.structure
                                  and params.change.cells.structure.did_close) or ()}  # fmt: skip
        ls.notebooks.change(params, ls.documents, ls.encoding)
        for cell in closed:
            ls.states.pop(cell, None)
        if ls.notebooks.get(uri) is not None:
            ls.schedule(uri)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_CLOSE)
    def on_notebook_close(
        ls: ClearsightServer, params: types.DidCloseNotebookDocumentParams
    ) -> None:
        ls.forget(params.notebook_document.uri)
        for cell in ls.notebooks.close(params, ls.documents):
            ls.states.pop(cell, None)

    @server.feature(
        types.TEXT_DOCUMENT_DIAGNOSTIC,
        types.DiagnosticOptions(
            identifier="clearsight", inter_file_dependencies=False, workspace_diagnostics=True
        ),
    )
    async def on_diagnostic(
        ls: ClearsightServer, params: types.DocumentDiagnosticParams
    ) -> types.DocumentDiagnosticReport:
        analysis = await ls.current_analysis(params.text_document.uri)
        if analysis is None:
            return types.RelatedFullDocumentDiagnosticReport(items=[])
        if params.previous_result_id == analysis.result_id:
            return types.RelatedUnchangedDocumentDiagnosticReport(result_id=analysis.result_id)
        return types.RelatedFullDocumentDiagnosticReport(
            items=ls.diagnostics(analysis), result_id=analysis.result_id
        )

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(
            code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL], resolve_provider=True
        ),
    )
    async def on_code_action(
        ls: ClearsightServer, params: types.CodeActionParams
    ) -> list[types.CodeAction] | None:
        analysis = await ls.current_analysis(params.text_document.uri)
        if analysis is None:
            return None
        return [*ls.code_actions(analysis, params), *ls.provenance.code_actions(analysis, params)]

    @server.feature(types.CODE_ACTION_RESOLVE)
    def on_code_action_resolve(ls: ClearsightServer, action: types.CodeAction) -> types.CodeAction:
        return ls.resolve(action)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    async def on_hover(ls: ClearsightServer, params: types.HoverParams) -> types.Hover | None:
        analysis = await ls.current_analysis(params.text_document.uri)
        if analysis is None:
            return None
        hover = ls.hover(analysis, params.position)
        line = await asyncio.get_running_loop().run_in_executor(
            ls.executor, ls.provenance.hover_line, analysis, params.position.line
        )
        if line is None:
            return hover
        shown = f"{hover.contents.value}\n\n---\n\n{line}" if hover else line  # type: ignore[union-attr]
        return types.Hover(
            contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=shown)
        )

    @server.feature(types.TEXT_DOCUMENT_CODE_LENS)
    async def on_code_lens(
        ls: ClearsightServer, params: types.CodeLensParams
    ) -> list[types.CodeLens] | None:
        analysis = await ls.current_analysis(params.text_document.uri)
        if analysis is None:
            return None
        if ls.notebooks.notebook_of(analysis.uri) is not None:  # the file's share: not a cell's
            return ls.code_lenses(analysis)
        lens = ls.provenance.file_lens(analysis)
        return [*([lens] if lens else []), *ls.code_lenses(analysis)]

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def on_configuration(
        ls: ClearsightServer, params: types.DidChangeConfigurationParams
    ) -> None:
        settings = params.settings
        if isinstance(settings, dict) and isinstance(settings.get("clearsight"), dict):
            ls.update_editor_settings(client=settings["clearsight"])
        else:
            await _pull_configuration(ls)
        ls.reanalyse_all()

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def on_watched_files(ls: ClearsightServer, params: types.DidChangeWatchedFilesParams) -> None:
        ls.provenance.files_changed_on_disk(list(params.changes))
        if any(change.uri.endswith("pyproject.toml") for change in params.changes):
            ls.reset_resolver()
            ls.reanalyse_all()
        elif any(ls.is_baseline_file(change.uri) for change in params.changes):
            ls.reanalyse_all()
        elif any("/.git/" in change.uri for change in params.changes):
            # HEAD or a branch moved: the new code mode's base may have moved with it.
            ls.changed_scope.forget_bases()
            if ls.editor_settings.get("scope") == "changed":
                ls.reanalyse_all()

    register_provenance(server)
    register_review(server)
    register_risk_report(server)
    register_workspace_diagnostics(server)
    return server


async def _pull_configuration(ls: ClearsightServer) -> None:
    workspace = ls.client_capabilities.workspace
    if not (workspace and workspace.configuration):
        return
    try:
        result = await asyncio.wait_for(
            ls.workspace_configuration_async(
                types.ConfigurationParams(items=[types.ConfigurationItem(section="clearsight")])
            ),
            CONFIGURATION_TIMEOUT,
        )
    except Exception as error:  # a client that answers badly must not stop the server
        LOG.warning("workspace/configuration failed: %s", error)
        return
    if result:  # null: the editor has no settings for us (any more)
        ls.update_editor_settings(client=result[0] if isinstance(result[0], dict) else {})


def _watch_pyproject(ls: ClearsightServer) -> None:
    workspace = ls.client_capabilities.workspace
    watched = workspace.did_change_watched_files if workspace else None
    if not (watched and watched.dynamic_registration):
        return
    registration = types.Registration(
        id="clearsight-pyproject",
        method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
        register_options=types.DidChangeWatchedFilesRegistrationOptions(
            watchers=[
                types.FileSystemWatcher(glob_pattern="**/pyproject.toml"),
                # Python files written while nobody types: agents writing files directly.
                types.FileSystemWatcher(glob_pattern="**/*.py"),
                # HEAD and branches: the new code mode's base moves with them.
                types.FileSystemWatcher(glob_pattern="**/.git/HEAD"),
                types.FileSystemWatcher(glob_pattern="**/.git/refs/**"),
                # The baseline file, written again by `clearsight check -o`.
                types.FileSystemWatcher(glob_pattern="**/*.json"),
            ]
        ),
    )
    ls.client_register_capability(types.RegistrationParams(registrations=[registration]))


def run(tcp: str | None = None) -> None:
    server = create_server()
    if tcp:
        host, _, port = tcp.rpartition(":")
        server.start_tcp(host or "127.0.0.1", int(port))
    else:
        serve_stdio(server)
