"""`clearsight/riskReport`: the risk report over the history of a workspace folder (what
`clearsight report` writes), as the page an editor shows in a webview. The analysis is the
report package's; this module finds the folder, runs it off the event loop (one process:
forking a threaded server is unsafe) and hands back the page and its data.

Params: `{"folder"?: uri, "history"?: N, "paths"?: [uri...]}`; without a folder, the first
workspace folder; `history` defaults to `clearsight report`'s. The page is returned without
plotly.js, at the `<!-- clearsight:plotly -->` slot: the editor loads its own copy (the VS
Code extension ships one), so the server needs no Plotly. A folder outside git is an
`InvalidParams` error.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from pygls.exceptions import JsonRpcInvalidParams
from pygls.uris import to_fs_path

from clearsight.cli.cache import FindingCache
from clearsight.cli.discovery import excluded
from clearsight.gitrun import GitError
from clearsight.lsp.convert import plain_params
from clearsight.lsp.review import relative_in, workspace_folder
from clearsight.report.build import build_report, plan_report
from clearsight.report.data import report_data
from clearsight.report.history import DEFAULT_HISTORY, HistoryError, revisions
from clearsight.report.html import SCRIPT_SLOT, page
from clearsight.review.changes import ReviewError, repository_root

if TYPE_CHECKING:
    from clearsight.lsp.server import ClearsightServer

RISK_REPORT = "clearsight/riskReport"
MAX_HISTORY = 1000


def risk_report(server: ClearsightServer, params: dict[str, Any]) -> dict[str, Any]:
    folder = workspace_folder(server, params.get("folder"))
    history = params.get("history", DEFAULT_HISTORY)
    if not isinstance(history, int) or isinstance(history, bool) or not 1 <= history <= MAX_HISTORY:
        raise JsonRpcInvalidParams(f"history must be a whole number from 1 to {MAX_HISTORY}")
    try:
        root = repository_root(folder)
        paths = [relative_in(to_fs_path(uri) or "", root) for uri in params.get("paths") or ()]
        if folder.resolve() != root.resolve() and not paths:
            paths = [relative_in(str(folder), root)]
        chosen = revisions(root, history)
        if not chosen:
            raise JsonRpcInvalidParams(f"{root} has no commit to report on")
        resolver = server.resolver
        plan = plan_report(
            root, chosen, tuple(p for p in paths if p), lambda p: excluded(root / p, resolver)
        )
        report = build_report(plan, resolver.for_path, 1, FindingCache(root / ".clearsight_cache"))
    except (ReviewError, HistoryError, GitError) as error:
        raise JsonRpcInvalidParams(str(error)) from error
    data = report_data(report)
    return {"root": str(root), "html": page(data), "scriptSlot": SCRIPT_SLOT, "data": data}


def register(server: ClearsightServer) -> None:
    @server.feature(RISK_REPORT)
    async def on_risk_report(ls: ClearsightServer, params: Any) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        plain = plain_params(params) if params is not None else {}
        return await loop.run_in_executor(ls.executor, risk_report, ls, plain)
