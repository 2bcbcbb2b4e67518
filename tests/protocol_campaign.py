#!/usr/bin/env python3
"""The protocol campaign: seeded random LSP traffic, valid and invalid, to the real server
over stdio. Malformed JSON, bodies that are not objects, wrong types, unknown methods,
edits out of range and to documents never opened, cancellations, code actions and commands
with bad arguments, configuration answers of the wrong shape, among normal opens, edits and
requests.

The server must stay up, answer every request (a result or an LSP error), and afterwards
still analyse a normal file; the campaign reports requests left unanswered.

    python tests/protocol_campaign.py --messages 1000 [--seed S]

`tests/test_protocol_campaign.py` runs 1,000 messages in CI with a new seed, printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
from dataclasses import dataclass, field
from typing import Any

URIS = [f"file:///tmp/clearsight-protocol/m{n}.py" for n in range(4)]
UNOPENED = "file:///tmp/clearsight-protocol/never_opened.py"
NOTEBOOK = "file:///tmp/clearsight-protocol/analysis.ipynb"
TEXTS = ["eval(input())\n", "import os\nos.system(x)\n", "def f(:\n", "x = 1\n" * 50, "", "\0\n"]
GARBAGE: list[Any] = [None, 1, -1, 2**40, "x", [], {}, [1, "a"], {"line": "x"}, True, 1.5]
COMMANDS = [
    "clearsight.markReviewed", "clearsight.markHuman", "clearsight.provenanceReport",
    "clearsight.review", "clearsight.riskReport", "clearsight.nonsense",
]  # fmt: skip


@dataclass
class Outcome:
    seed: int
    sent: int = 0
    requests: int = 0
    answered: int = 0
    errors: int = 0  # requests answered with an LSP error
    unanswered: list[str] = field(default_factory=list)
    alive: bool = True
    analyses_after: list[str] = field(default_factory=list)  # codes for a normal file after
    failures: list[str] = field(default_factory=list)  # analyses that failed (logged)


class Peer:
    def __init__(self, process: asyncio.subprocess.Process, rng: random.Random) -> None:
        self.process, self.rng = process, rng
        self.next_id = 0
        self.pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.reader = asyncio.get_running_loop().create_task(self._read())

    def raw(self, body: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def send(self, message: dict[str, Any]) -> None:
        self.raw(json.dumps({"jsonrpc": "2.0", **message}).encode())

    def notify(self, method: str, params: Any) -> None:
        self.send({"method": method, "params": params})

    def request(self, method: str, params: Any) -> tuple[int, asyncio.Future[dict[str, Any]]]:
        self.next_id += 1
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.pending[self.next_id] = future
        self.send({"id": self.next_id, "method": method, "params": params})
        return self.next_id, future

    async def _read(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        while True:
            header = await stream.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":")[1]) for line in header.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            )  # fmt: skip
            message = json.loads(await stream.readexactly(length))
            if "id" in message and "method" in message:  # the server asks: answer oddly
                answers: list[Any] = [None, [], [None], [{"clearsight": 1}], "x", {"a": [1]}]
                self.send({"id": message["id"], "result": self.rng.choice(answers)})
            elif "id" in message and message["id"] in self.pending:
                future = self.pending.pop(message["id"])
                if not future.done():
                    future.set_result(message)


def _position(rng: random.Random) -> Any:
    if rng.random() < 0.15:
        return rng.choice(GARBAGE)
    return {"line": rng.choice([0, 1, 3, 10**6, -1]), "character": rng.choice([0, 2, 10**6, -5])}


def _range(rng: random.Random) -> Any:
    return {"start": _position(rng), "end": _position(rng)}


def _uri(rng: random.Random) -> Any:
    return rng.choice([*URIS, *URIS, UNOPENED, 5, None, "not a uri", "file:///"])


def _document(rng: random.Random) -> Any:
    return {"uri": _uri(rng)} if rng.random() < 0.9 else rng.choice(GARBAGE)


def _one(peer: Peer, rng: random.Random, versions: dict[str, int], outcome: Outcome) -> None:
    """Send one random message (a request's future is awaited later)."""
    kind = rng.randrange(16)
    if kind == 0:
        uri = rng.choice(URIS)
        versions[uri] = 1
        item = {"uri": uri, "languageId": "python", "version": 1, "text": rng.choice(TEXTS)}
        peer.notify("textDocument/didOpen", {"textDocument": item})
    elif kind in (1, 2, 3):
        uri = rng.choice([*URIS, UNOPENED])
        versions[uri] = versions.get(uri, 1) + 1
        change: dict[str, Any] = {"text": rng.choice(["x", "\n", "(", "'''", "", "é😀"])}
        if rng.random() < 0.8:
            change["range"] = _range(rng)
        peer.notify("textDocument/didChange", {
            "textDocument": {"uri": uri, "version": rng.choice([versions[uri], "v", None])},
            "contentChanges": rng.choice([[change], [change, change], [], "x"]),
        })  # fmt: skip
    elif kind == 4:
        peer.notify("textDocument/didClose", {"textDocument": _document(rng)})
    elif kind in (5, 6, 7, 8):
        method = rng.choice([
            "textDocument/hover", "textDocument/codeAction", "textDocument/diagnostic",
            "textDocument/codeLens", "codeAction/resolve", "workspace/executeCommand",
            "clearsight/nonsense", "textDocument/definition",
        ])  # fmt: skip
        params: Any = {"textDocument": _document(rng), "position": _position(rng)}
        if method == "textDocument/codeAction":
            params = {"textDocument": _document(rng), "range": _range(rng), "context": rng.choice(
                [{"diagnostics": []}, {"diagnostics": [{"range": _range(rng), "message": 1}]},
                 {"only": 5}, None])}  # fmt: skip
        elif method == "codeAction/resolve":
            params = rng.choice([{"title": "x", "data": rng.choice(GARBAGE)}, {}, [], None])
        elif method == "workspace/executeCommand":
            params = {"command": rng.choice(COMMANDS), "arguments": rng.choice(
                [None, [], [rng.choice(GARBAGE)], [URIS[0], _range(rng)], "x"])}  # fmt: skip
        elif rng.random() < 0.1:
            params = rng.choice(GARBAGE)
        request_id, future = peer.request(method, params)
        outcome.requests += 1
        peer.pending[request_id] = future
        futures.append((method, future))
        if rng.random() < 0.3:  # cancel it, or an id that never existed
            peer.notify("$/cancelRequest", {"id": rng.choice([request_id, 10**9, "x"])})
    elif kind == 9:
        peer.raw(rng.choice([b"{not json", b"[1, 2]", b'"a string"', b"{}", b"null",
                             b'{"jsonrpc": "2.0", "id": 9, "method": 5}']))  # fmt: skip
    elif kind == 10:
        peer.notify("workspace/didChangeConfiguration", {"settings": rng.choice(
            [None, 1, [], {"clearsight": rng.choice(GARBAGE)},
             {"clearsight": {"complexity": {"maxComplexity": rng.choice(GARBAGE)}}},
             {"clearsight": {"debounce": rng.choice(GARBAGE),
                             "limits": rng.choice(GARBAGE)}}])})  # fmt: skip
    elif kind == 11:
        peer.notify(rng.choice(["$/unknownNotification", "textDocument/didSave", "exit?"]),
                    rng.choice(GARBAGE))  # fmt: skip
    elif kind == 12:
        peer.notify("textDocument/didOpen", rng.choice(GARBAGE))
    elif kind == 14:
        cells = [{"kind": rng.choice([1, 2, 2]), "document": f"{NOTEBOOK}#c{n}"} for n in range(3)]
        items = [{"uri": c["document"], "languageId": rng.choice(["python", "markdown"]),
                  "version": 1, "text": rng.choice(TEXTS)} for c in cells]  # fmt: skip
        peer.notify("notebookDocument/didOpen", {"notebookDocument": {
            "uri": NOTEBOOK, "notebookType": "jupyter-notebook", "version": 1, "cells": cells,
        }, "cellTextDocuments": items})  # fmt: skip
    elif kind == 15:
        cell = f"{NOTEBOOK}#c{rng.randrange(5)}"
        change: Any = rng.choice([
            {"cells": {"structure": {"array": {"start": rng.choice([0, 2, 10**6, -3]),
                                               "deleteCount": rng.choice([0, 1, 10**6])},
                                     "didClose": [{"uri": cell}]}}},
            {"cells": {"textContent": [{"document": {"uri": cell, "version": 2},
                                        "changes": [{"range": _range(rng), "text": "x"}]}]}},
            {"cells": {"data": [{"kind": 2, "document": cell}]}},
            rng.choice(GARBAGE),
        ])  # fmt: skip
        method = rng.choice(["notebookDocument/didChange", "notebookDocument/didClose"])
        params = {"notebookDocument": {"uri": rng.choice([NOTEBOOK, "file:///x.ipynb"]),
                                       "version": 2}, "change": change}  # fmt: skip
        if method.endswith("didClose"):
            params = {"notebookDocument": {"uri": NOTEBOOK}, "cellTextDocuments": [{"uri": cell}]}
        peer.notify(method, params)
    else:
        peer.notify("workspace/didChangeWatchedFiles", {"changes": rng.choice(
            [[{"uri": _uri(rng), "type": rng.choice([1, 2, 3, 9, "x"])}], None, "x"])})  # fmt: skip
    outcome.sent += 1


futures: list[tuple[str, asyncio.Future[dict[str, Any]]]] = []


async def campaign(messages: int, seed: int) -> Outcome:
    rng = random.Random(seed)
    outcome = Outcome(seed)
    futures.clear()
    log = tempfile.TemporaryFile()  # noqa: SIM115 - the server writes to it until it ends
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "clearsight", "server",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=log,
    )  # fmt: skip
    peer = Peer(process, random.Random(seed + 1))  # its own: answers come in any order
    capabilities = {"textDocument": {"diagnostic": {}}, "workspace": {"configuration": True}}
    _, started = peer.request("initialize", {
        "processId": os.getpid(), "rootUri": "file:///tmp/clearsight-protocol",
        "capabilities": capabilities, "initializationOptions": {"debounce": 0},
    })  # fmt: skip
    await asyncio.wait_for(started, 60)
    peer.notify("initialized", {})
    versions: dict[str, int] = {}
    for number in range(messages):
        _one(peer, rng, versions, outcome)
        if number % 50 == 49:
            assert process.stdin is not None
            await process.stdin.drain()
            await asyncio.sleep(0)
    for method, future in futures:
        try:
            answer = await asyncio.wait_for(future, 60)
        except asyncio.TimeoutError:
            outcome.unanswered.append(method)
            continue
        outcome.answered += 1
        outcome.errors += "error" in answer
    outcome.alive = process.returncode is None
    if outcome.alive:  # a normal file, as after a fresh start
        uri = "file:///tmp/clearsight-protocol/after.py"
        item = {"uri": uri, "languageId": "python", "version": 1, "text": "eval(input())\n"}
        peer.notify("textDocument/didOpen", {"textDocument": item})
        _, report = peer.request("textDocument/diagnostic", {"textDocument": {"uri": uri}})
        result = (await asyncio.wait_for(report, 60)).get("result") or {}
        outcome.analyses_after = sorted(str(item.get("code")) for item in result.get("items", []))
        _, down = peer.request("shutdown", None)
        await asyncio.wait_for(down, 30)
        peer.notify("exit", None)
        await asyncio.wait_for(process.wait(), 30)
    else:
        await process.wait()
    peer.reader.cancel()
    log.seek(0)
    said = log.read().decode("utf-8", "replace")
    log.close()
    # What Clearsight itself logs when an analysis fails (pygls logs every malformed
    # message it refuses, as it should: those are not failures).
    outcome.failures = [line for line in said.splitlines() if "analysis of" in line]
    return outcome


def run(messages: int, seed: int) -> Outcome:
    return asyncio.run(campaign(messages, seed))


def describe(outcome: Outcome) -> str:
    return (
        f"seed {outcome.seed}: {outcome.sent:,} messages, {outcome.requests} requests, "
        f"{outcome.answered} answered ({outcome.errors} with an LSP error), "
        f"{len(outcome.unanswered)} unanswered {sorted(set(outcome.unanswered))}; server "
        f"{'alive' if outcome.alive else 'DEAD'}; a normal file afterwards: "
        f"{outcome.analyses_after}; {len(outcome.failures)} analyses failed "
        f"{sorted(set(outcome.failures))[:5]}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(10**9)
    outcome = run(args.messages, seed)
    print(describe(outcome))
    ok = (
        outcome.alive
        and not outcome.unanswered
        and not outcome.failures
        and outcome.analyses_after == ["CS-S004"]
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
