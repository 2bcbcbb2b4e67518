#!/usr/bin/env python3
"""Resident memory of the language server with many documents open, against ruff's server.

Starts `clearsight server` over stdio (a bare JSON-RPC client, pull diagnostics, as VS Code
asks), waits for its warm-up, then opens 100 standard-library modules one after another,
asking for each one's diagnostics, and reads the resident set size (VmRSS, /proc) of the
server and all its child processes: at start, with the 100 open, after a pause (the server
collects garbage while idle), and after closing them. The same run does the same with
`ruff server` (S and C90 rules) when ruff is installed, and prints the ratio.

Once the 100 are open, the first one opened (`--file`, subprocess.py by default) is edited
(`--edits`) and each edit's latency measured, since what memory is saved must not cost
the document being edited its incremental analysis.

`--profile` instead runs the server's analysis path in this process under tracemalloc and
says where the memory of the 100 documents goes: each document's incremental analyzer, its
last analysis (text, lines, findings), and the caches shared by every document.

    python benchmarks/bench_memory.py [--documents 100] [--profile]

Target (issue 15): <= 150 MiB with 100 open standard-library modules.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import shutil
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

from bench_lsp import BareClient, percentile, string_edit_points

STDLIB = Path(os.__file__).parent
TARGET_MIB = 150.0


def modules(count: int) -> list[Path]:
    return sorted(STDLIB.glob("*.py"))[:count]


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found.extend(int(c) for c in (task / "children").read_text().split())
        except OSError:
            continue
    return found


def tree_rss_mib(pid: int) -> float:
    """VmRSS of a process and its descendants."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
        except OSError:
            continue
        total += next(
            (int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")),
            0,
        )
        pending.extend(_children(current))
    return total / 1024


async def _edits(client: BareClient, path: Path, count: int) -> dict[str, float]:
    """Edits of the first document opened, once the others are: single characters inside
    string literals, and every fifth a new blank line (the line count changes), each timed
    until the answer to its diagnostics request."""
    uri = path.as_uri()
    text = path.read_text(encoding="utf-8")
    latencies, added = [], 0
    for version, (line, column) in enumerate(string_edit_points(text, count), start=2):
        if version % 5 == 0:
            at, inserted = {"line": line + added, "character": 0}, "\n"
            added += 1
        else:
            at, inserted = {"line": line + added, "character": column}, "x"
        sent = time.perf_counter()
        client.notify("textDocument/didChange", {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"range": {"start": at, "end": at}, "text": inserted}],
        })  # fmt: skip
        await client.request("textDocument/diagnostic", {"textDocument": {"uri": uri}})
        latencies.append((time.perf_counter() - sent) * 1000)
    return {
        "edit first": latencies[0], "edit p50": statistics.median(latencies),
        "edit p95": percentile(latencies, 0.95), "edit max": max(latencies),
    }  # fmt: skip


async def measure(
    command: list[str], options: dict[str, object], count: int, edited: Path, edits: int
) -> dict[str, float]:
    files = [edited, *(p for p in modules(count) if p != edited)][:count]
    client = await BareClient.start(*command)
    pid = client.process.pid
    capabilities = {"textDocument": {"diagnostic": {"dynamicRegistration": False}}}
    await client.request("initialize", {
        "processId": os.getpid(), "rootUri": STDLIB.as_uri(), "capabilities": capabilities,
        "initializationOptions": options,
    })  # fmt: skip
    client.notify("initialized", {})
    await asyncio.sleep(3)  # warm-up (indexes loaded in the background)
    figures = {"start": tree_rss_mib(pid)}
    started = time.perf_counter()
    for path in files:
        uri = path.as_uri()
        text = path.read_text(encoding="utf-8", errors="replace")
        document = {"uri": uri, "languageId": "python", "version": 1, "text": text}
        client.notify("textDocument/didOpen", {"textDocument": document})
        await client.request("textDocument/diagnostic", {"textDocument": {"uri": uri}})
    figures["open seconds"] = time.perf_counter() - started
    figures["open"] = tree_rss_mib(pid)
    await asyncio.sleep(4)
    figures["open, idle"] = tree_rss_mib(pid)
    figures.update(await _edits(client, edited, edits))
    figures["edited"] = tree_rss_mib(pid)
    for path in files:
        client.notify("textDocument/didClose", {"textDocument": {"uri": path.as_uri()}})
    await asyncio.sleep(4)
    figures["closed, idle"] = tree_rss_mib(pid)
    await client.stop()
    return figures


def _print(label: str, figures: dict[str, float], count: int, edited: Path) -> None:
    print(
        f"{label}: start {figures['start']:.1f} MiB; {count} open {figures['open']:.1f} MiB, "
        f"after a pause {figures['open, idle']:.1f} MiB; after the edits "
        f"{figures['edited']:.1f} MiB; all closed {figures['closed, idle']:.1f} MiB"
    )
    print(
        f"  opening took {figures['open seconds']:.1f} s; then edits of {edited.name}: "
        f"first {figures['edit first']:.0f} ms, p50 {figures['edit p50']:.1f} ms, "
        f"p95 {figures['edit p95']:.1f} ms, max {figures['edit max']:.0f} ms"
    )


def profile(count: int) -> None:
    """Where the memory goes, in this process, on the server's analysis path."""
    from clearsight.incremental import IncrementalAnalyzer
    from clearsight.lsp.server import KEPT_ANALYZERS, analyse_snapshot
    from clearsight.settings import Settings

    files, settings = modules(count), Settings()
    IncrementalAnalyzer(str(files[0])).analyze(files[0].read_text(encoding="utf-8"), settings)
    gc.collect()
    tracemalloc.start(1)
    base = tracemalloc.get_traced_memory()[0]

    def traced() -> float:
        gc.collect()
        return (tracemalloc.get_traced_memory()[0] - base) / 2**20

    documents = []
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        analyzer = IncrementalAnalyzer(str(path))
        analysis = analyse_snapshot(path.as_uri(), 1, text, str(path), settings, None, analyzer)
        documents.append([text, analysis, analyzer])
        if len(documents) > KEPT_ANALYZERS:  # as the server drops the least recent ones
            documents[-KEPT_ANALYZERS - 1][2] = None
    lines = sum(len(d[0].splitlines()) for d in documents)
    everything = traced()
    for document in documents:
        document[2] = None
    without_analyzers = traced()
    for document in documents:
        document[1] = None
    texts_only = traced()
    texts = sum(sys.getsizeof(d[0]) for d in documents) / 2**20
    print(f"{count} modules, {lines:,} lines, traced by tracemalloc after a full collection:")
    print(f"  everything: {everything:.1f} MiB")
    print(
        f"  the {KEPT_ANALYZERS} incremental analyzers kept: "
        f"{everything - without_analyzers:.1f} MiB"
    )
    print(
        f"  the last analyses (source text and lines, findings): "
        f"{without_analyzers - texts_only:.1f} MiB"
    )
    print(f"  the texts: {texts:.1f} MiB")
    print(f"  caches shared by the documents: {texts_only - texts:.1f} MiB, by file:")
    snapshot = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(False, tracemalloc.__file__)]
    )
    for stat in snapshot.statistics("filename")[:8]:
        name = stat.traceback[0].filename
        shown = name.split("/clearsight/")[-1] if "/clearsight/" in name else Path(name).name
        print(f"    {stat.size / 2**20:6.1f} MiB  {shown}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=100)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--file", type=Path, default=STDLIB / "subprocess.py",
                        help="the document edited once the others are open")  # fmt: skip
    parser.add_argument("--edits", type=int, default=50)
    args = parser.parse_args()
    if args.profile:
        profile(args.documents)
        return 0
    print(f"python {sys.version.split()[0]}; {args.documents} standard-library modules")
    run = (args.documents, args.file, args.edits)
    ours = asyncio.run(measure([sys.executable, "-m", "clearsight", "server"], {}, *run))
    _print("clearsight server", ours, args.documents, args.file)
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    if Path(ruff).exists():
        options = {"settings": {"lint": {"select": ["S", "C90"]}}}
        theirs = asyncio.run(measure([ruff, "server"], options, *run))
        _print("ruff server (S + C90)", theirs, args.documents, args.file)
        print(
            f"  clearsight / ruff with {args.documents} open: {ours['open'] / theirs['open']:.1f}x"
        )
    else:
        print("ruff is not installed: no ruff server comparison")
    met = ours["open"] <= TARGET_MIB and ours["open, idle"] <= TARGET_MIB
    print(
        f"target: <= {TARGET_MIB:.0f} MiB with {args.documents} open: {'PASS' if met else 'FAIL'}"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
