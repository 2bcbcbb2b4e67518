#!/usr/bin/env python3
"""One huge buffer must not freeze the editor: a small file's latency beside a 32 MB one.

Starts `clearsight server` (a bare JSON-RPC client, pull diagnostics) and measures, in one
run:

1. the alternative: a small file opened and edited alone, each time until the answer to
   its diagnostics request;
2. the same with a 32 MB buffer (about 1.2 million lines, over the 4 MB analysis limit)
   opened just before and edited (`--edits`, near its top and near its end) while the small
   file is edited: the small file's latency, and the server's CPU time per edit of the
   huge buffer (from /proc);
3. how long the process takes to end after `shutdown` and `exit`.

    python benchmarks/bench_huge_buffer.py [--edits 20] [--megabytes 32]

Targets (issue 17): the small file's diagnostics within 1 s; `exit` ends the process at
once.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench_lsp import BareClient, cpu_seconds

LINE = "x = 1  # a generated line\n"


async def _started(folder: Path) -> BareClient:
    client = await BareClient.start(sys.executable, "-m", "clearsight", "server")
    capabilities = {"textDocument": {"diagnostic": {"dynamicRegistration": False}}}
    await client.request("initialize", {
        "processId": os.getpid(), "rootUri": folder.as_uri(), "capabilities": capabilities,
        "initializationOptions": {},
    })  # fmt: skip
    client.notify("initialized", {})
    await asyncio.sleep(2)  # the warm-up
    return client


def _open(client: BareClient, uri: str, text: str) -> None:
    document = {"uri": uri, "languageId": "python", "version": 1, "text": text}
    client.notify("textDocument/didOpen", {"textDocument": document})


def _insert(client: BareClient, uri: str, version: int, line: int, text: str) -> None:
    at = {"line": line, "character": 0}
    client.notify("textDocument/didChange", {
        "textDocument": {"uri": uri, "version": version},
        "contentChanges": [{"range": {"start": at, "end": at}, "text": text}],
    })  # fmt: skip


async def _small_edits(client: BareClient, uri: str, count: int, huge: str | None, lines: int):
    """Seconds until each of `count` edits of the small file is answered; with `huge`, an
    edit of the huge buffer comes before each."""
    latencies = []
    for version in range(2, count + 2):
        if huge is not None:
            line = 5 if version % 2 else lines - 5  # near its top, then near its end
            _insert(client, huge, version, line, "y = 2\n")
        sent = time.perf_counter()
        _insert(client, uri, version, 0, "z = 3\n")
        await client.request("textDocument/diagnostic", {"textDocument": {"uri": uri}})
        latencies.append(time.perf_counter() - sent)
    return latencies


async def measure(folder: Path, edits: int, megabytes: int) -> dict[str, object]:
    small = (folder / "small.py").as_uri()
    results: dict[str, object] = {}

    client = await _started(folder)
    started = time.perf_counter()
    _open(client, small, "eval(input())\n")
    await client.request("textDocument/diagnostic", {"textDocument": {"uri": small}})
    results["alone open"] = time.perf_counter() - started
    results["alone edits"] = await _small_edits(client, small, edits, None, 0)
    await client.stop()

    client = await _started(folder)
    lines = megabytes * 1_000_000 // len(LINE)
    huge = (folder / "generated.py").as_uri()
    text = LINE * lines
    started = time.perf_counter()
    _open(client, huge, text)
    _open(client, small, "eval(input())\n")
    await client.request("textDocument/diagnostic", {"textDocument": {"uri": small}})
    results["beside open"] = time.perf_counter() - started
    cpu = cpu_seconds(client.process.pid)
    results["beside edits"] = await _small_edits(client, small, edits, huge, lines)
    results["cpu per pair"] = (cpu_seconds(client.process.pid) - cpu) / edits
    report = await client.request("textDocument/diagnostic", {"textDocument": {"uri": huge}})
    items = report.get("items", []) if isinstance(report, dict) else []
    results["huge codes"] = sorted({str(item.get("code")) for item in items})
    await client.request("shutdown", None)
    started = time.perf_counter()
    client.notify("exit", None)
    try:
        await asyncio.wait_for(client.process.wait(), 30)
        results["exit"] = time.perf_counter() - started
    except asyncio.TimeoutError:
        results["exit"] = float("inf")
        client.process.kill()
    client.reader.cancel()
    results["bytes"], results["lines"] = len(text), lines
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument("--megabytes", type=int, default=32)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        r = asyncio.run(measure(Path(scratch), args.edits, args.megabytes))
    ms = 1000
    alone, beside = r["alone edits"], r["beside edits"]
    assert isinstance(alone, list) and isinstance(beside, list)
    print(f"huge buffer: {r['bytes']:,} bytes, {r['lines']:,} lines; diagnostics {r['huge codes']}")
    print(
        f"small file alone: open {r['alone open'] * ms:.0f} ms; edits p50 "
        f"{statistics.median(alone) * ms:.1f} ms, max {max(alone) * ms:.1f} ms"
    )  # type: ignore[operator]
    print(
        f"small file beside it: open {r['beside open'] * ms:.0f} ms; edits (each after an "
        f"edit of the huge buffer) p50 {statistics.median(beside) * ms:.1f} ms, "
        f"max {max(beside) * ms:.1f} ms"
    )
    ratio = statistics.median(beside) / statistics.median(alone)
    print(f"  ratio beside / alone at p50: {ratio:.1f}x")
    print(f"server CPU per pair of edits (huge + small): {r['cpu per pair'] * ms:.1f} ms")  # type: ignore[operator]
    print(f"exit: the process ended {r['exit'] * ms:.0f} ms after `exit`")  # type: ignore[operator]
    worst = max(r["beside open"], max(beside))  # type: ignore[type-var]
    met = worst <= 1.0 and r["exit"] <= 1.0  # type: ignore[operator]
    print(f"targets (small file within 1 s, exit at once): {'PASS' if met else 'FAIL'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
