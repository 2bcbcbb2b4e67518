"""`workspace/diagnostic`: the findings of every Python file of the workspace, pulled.

The files are the ones `clearsight check` would look at (`cli.discovery`), analysed by the
same engine one at a time in a worker thread, so edits keep being answered meanwhile. An
open document is reported from its buffer (with its version), any other file from disk.
A closed file's result id is a hash of its bytes and its settings: a client that sends it
back gets "unchanged" without the file being analysed again. Progress goes to the client's
`workDoneToken`, reports to its `partialResultToken` as they are ready; cancelling either
the request or the progress stops at the next file, and the progress always ends.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types
from pygls.uris import from_fs_path, to_fs_path

from clearsight import __version__
from clearsight.cli.discovery import discover
from clearsight.cli.runner import dependency_stamp, provenance_stamp
from clearsight.engine import analyze, file_over_size_limit, unreadable_finding
from clearsight.lsp import convert
from clearsight.settings import Settings
from clearsight.source import SourceText, read_file

if TYPE_CHECKING:
    from clearsight.lsp.server import ClearsightServer

WorkspaceReport = (
    types.WorkspaceFullDocumentDiagnosticReport | types.WorkspaceUnchangedDocumentDiagnosticReport
)


def register(server: ClearsightServer) -> None:
    @server.feature(types.WORKSPACE_DIAGNOSTIC)
    async def on_workspace_diagnostic(
        ls: ClearsightServer, params: types.WorkspaceDiagnosticParams
    ) -> types.WorkspaceDiagnosticReport:
        return await workspace_diagnostics(ls, params)


class _Progress:
    """Work-done progress on the client's token (nothing without one)."""

    def __init__(self, ls: ClearsightServer, token: types.ProgressToken | None) -> None:
        self.ls, self.token = ls, token

    def begin(self, total: int) -> None:
        if self.token is None:
            return
        # A token the client used before may still carry that run's cancellation.
        self.ls.work_done_progress.tokens.pop(self.token, None)
        self.ls.work_done_progress.begin(
            self.token,
            types.WorkDoneProgressBegin(
                title="Clearsight", message=f"0/{total} files", percentage=0, cancellable=True
            ),
        )

    @property
    def cancelled(self) -> bool:
        if self.token is None:
            return False
        future = self.ls.work_done_progress.tokens.get(self.token)
        return future is not None and future.cancelled()

    def report(self, done: int, total: int) -> None:
        if self.token is not None:
            percentage = done * 100 // total if total else 100
            value = types.WorkDoneProgressReport(
                message=f"{done}/{total} files", percentage=percentage
            )
            self.ls.work_done_progress.report(self.token, value)

    def end(self, message: str) -> None:
        if self.token is not None:
            self.ls.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message=message))
            self.ls.work_done_progress.tokens.pop(self.token, None)


async def workspace_diagnostics(
    ls: ClearsightServer, params: types.WorkspaceDiagnosticParams
) -> types.WorkspaceDiagnosticReport:
    previous = {item.uri: item.value for item in params.previous_result_ids}
    progress = _Progress(ls, params.work_done_token)
    loop = asyncio.get_running_loop()
    files = await loop.run_in_executor(ls.executor, _files, ls)
    open_uris = {os.path.normcase(to_fs_path(d.uri) or ""): d.uri for d in ls.documents}
    progress.begin(len(files))
    items: list[WorkspaceReport] = []
    done = 0
    try:
        for path in files:
            if progress.cancelled:
                break
            report = await _report(ls, path, open_uris, previous)
            if params.partial_result_token is not None:
                partial = types.WorkspaceDiagnosticReportPartialResult(items=[report])
                ls.progress(types.ProgressParams(token=params.partial_result_token, value=partial))
            else:
                items.append(report)
            done += 1
            progress.report(done, len(files))
    finally:
        # Also when the request is cancelled: the client's progress must not hang.
        progress.end(f"{done}/{len(files)} files")
        ls.say_notices()
    # With partial results, everything was reported through them (the LSP's rule).
    return types.WorkspaceDiagnosticReport(items=items)


def _roots(ls: ClearsightServer) -> list[str]:
    folders = [to_fs_path(folder.uri) for folder in ls.workspace.folders.values()]
    roots = [folder for folder in folders if folder]
    if not roots and ls.workspace.root_path:
        roots = [ls.workspace.root_path]
    return roots


def _files(ls: ClearsightServer) -> list[Path]:
    """The workspace's Python files, found as `clearsight check` finds them (notebooks
    not yet: their findings' positions are in cells, which this report cannot say)."""
    roots = _roots(ls)
    return discover(roots, ls.resolver, notebooks=False).files if roots else []


async def _report(
    ls: ClearsightServer, path: Path, open_uris: dict[str, str], previous: dict[str, str]
) -> WorkspaceReport:
    # An open document under the URI the editor opened it with, whatever its spelling.
    uri = open_uris.get(os.path.normcase(str(path))) or from_fs_path(str(path)) or path.as_uri()
    if ls.documents.get(uri) is not None:
        return await _open_report(ls, uri, previous.get(uri))
    settings = ls.settings_for(uri)
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(
        ls.executor, _file_report, ls, uri, path, settings, previous.get(uri)
    )


async def _open_report(ls: ClearsightServer, uri: str, previous: str | None) -> WorkspaceReport:
    """An open document: from its buffer, as `textDocument/diagnostic` reports it."""
    analysis = await ls.current_analysis(uri)
    if analysis is None:  # closed meanwhile, or its analysis failed (and was reported)
        return types.WorkspaceFullDocumentDiagnosticReport(uri=uri, version=None, items=[])
    if previous == analysis.result_id:
        return types.WorkspaceUnchangedDocumentDiagnosticReport(
            uri=uri, version=analysis.version, result_id=analysis.result_id
        )
    return types.WorkspaceFullDocumentDiagnosticReport(
        uri=uri,
        version=analysis.version,
        items=ls.diagnostics(analysis),
        result_id=analysis.result_id,
    )


def file_result_id(raw: bytes, settings: Settings, path: Path | None = None, view: str = "") -> str:
    """The result id of a closed file: what its findings depend on that we can see (its
    text, the settings, and, as for the CLI's cache, the project's dependency declarations
    and installed packages and the repository's provenance inputs); `view`: what decides
    which of them are shown (the new code mode's base, the baseline)."""
    digest = hashlib.sha1(raw, usedforsecurity=False)
    digest.update(f"\0{settings.fingerprint()}\0{__version__}\0{view}".encode())
    if path is not None:
        if settings.dependencies.enabled:
            digest.update(dependency_stamp(path, settings.dependencies.base, settings).encode())
        if settings.provenance.enabled:
            digest.update(provenance_stamp(path, settings).encode())
    return "file-" + digest.hexdigest()[:16]


def _file_report(
    ls: ClearsightServer, uri: str, path: Path, settings: Settings, previous: str | None
) -> WorkspaceReport:
    """Runs in a worker thread: one file from disk, analysed unless unchanged."""
    too_large = file_over_size_limit(path, settings)
    if too_large is not None:  # not read: it could be gigabytes (and no notebooks here)
        source = SourceText("", path=str(path))
        items = [convert.diagnostic(source, too_large, 0, ls.encoding)]
        return types.WorkspaceFullDocumentDiagnosticReport(uri=uri, version=None, items=items)
    raw = read_file(path)
    if isinstance(raw, str):
        source = SourceText("", path=str(path))
        finding = unreadable_finding(f"Could not read the file: {raw}.")
        items = [convert.diagnostic(source, finding, 0, ls.encoding)]
        return types.WorkspaceFullDocumentDiagnosticReport(uri=uri, version=None, items=items)
    result_id = file_result_id(raw, settings, path, ls.view_key(str(path)))
    if previous == result_id:
        return types.WorkspaceUnchangedDocumentDiagnosticReport(
            uri=uri, version=None, result_id=result_id
        )
    source = SourceText.from_bytes(raw, str(path))
    base = ls.requested_base()
    if base is not None and ls.changed_scope.same_as_base(str(path), source.text, base or None):
        findings = []  # as the base has it: nothing is new, no need to analyse it
    else:
        findings = analyze(source, str(path), settings)
        findings = ls.shown_findings(str(path), source.text, findings, settings)
    items = [
        convert.diagnostic(source, finding, index, ls.encoding, uri=uri)
        for index, finding in enumerate(findings)
    ]
    return types.WorkspaceFullDocumentDiagnosticReport(
        uri=uri, version=None, items=items, result_id=result_id
    )
