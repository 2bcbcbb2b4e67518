"""`clearsight/review`: the review of the change in a workspace folder (what `clearsight
review` reports), for an editor's review view. The analysis is the review package's; this
module only finds the folder, runs it off the event loop and hands the JSON document back.

Params: `{"folder"?: uri, "base"?: revision, "paths"?: [uri...]}`; without a folder, the
first workspace folder. The review is of what git and the disk hold (saved files): unsaved
buffers are not part of a change yet. A folder that is not in a git repository, or an
unknown base, is an `InvalidParams` error whose message says which.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pygls.exceptions import JsonRpcInvalidParams
from pygls.uris import to_fs_path

from clearsight.gitrun import GitError
from clearsight.lsp.convert import plain_params
from clearsight.review.build import build_review
from clearsight.review.changes import ReviewError, collect_change, repository_root, resolve_base
from clearsight.review.render import format_json, format_markdown

if TYPE_CHECKING:
    from clearsight.lsp.server import ClearsightServer

REVIEW = "clearsight/review"


def review_folder(server: ClearsightServer, params: dict[str, Any]) -> dict[str, Any]:
    folder = workspace_folder(server, params.get("folder"))
    try:
        root = repository_root(folder)
        base = resolve_base(root, params.get("base") or None)
        paths = [relative_in(to_fs_path(uri) or "", root) for uri in params.get("paths") or ()]
        if folder.resolve() != root.resolve() and not paths:
            paths = [relative_in(str(folder), root)]
        change = collect_change(root, base, [p for p in paths if p])
    except (ReviewError, GitError) as error:
        raise JsonRpcInvalidParams(str(error)) from error
    review = build_review(change, server.resolver.for_path)
    document = json.loads(format_json(review))
    document["root"] = str(root)
    document["markdown"] = format_markdown(review)
    return document


def workspace_folder(server: ClearsightServer, uri: str | None) -> Path:
    if uri:
        path = to_fs_path(uri)
        if not path:
            raise JsonRpcInvalidParams(f"{uri} is not a file URI")
        return Path(path)
    folders = [to_fs_path(f.uri) for f in server.workspace.folders.values()]
    roots = [f for f in folders if f] or (
        [server.workspace.root_path] if server.workspace.root_path else []
    )
    if not roots:
        raise JsonRpcInvalidParams("no workspace folder to review: pass `folder`")
    return Path(roots[0])


def relative_in(path: str, root: Path) -> str:
    try:
        relative = Path(path).resolve().relative_to(root.resolve())
    except ValueError as error:
        raise JsonRpcInvalidParams(f"{path} is outside the repository at {root}") from error
    return "" if str(relative) == "." else relative.as_posix()


def register(server: ClearsightServer) -> None:
    @server.feature(REVIEW)
    async def on_review(ls: ClearsightServer, params: Any) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        plain = plain_params(params) if params is not None else {}
        return await loop.run_in_executor(ls.executor, review_folder, ls, plain)
