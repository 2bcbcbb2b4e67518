"""Edit -> diagnostics latency of the real language server, against the subprocess way.

Drives `clearsight server` over stdio with pygls's LSP client: opens a real ~2,200-line
standard-library module, applies single-character edits inside string literals of different
functions (each keeps the file valid), and times each edit until the diagnostics of that
document version arrive (debounce 0). In the same run it measures what editor linters do
today: write the buffer and run the `bandit`, `radon cc` and `radon mi` command lines on it
after each edit. Finally it opens the file and 99 standard-library modules and reads the
resident memory of the server and its children, as bench_memory.py does.

    python benchmarks/bench_lsp.py [--edits 200] [--baseline-edits 20] [--file PATH]
                                   [--settings JSON]

Besides wall-clock latency it reports the server's CPU time per edit (from /proc), which a
busy machine inflates much less than the latency.

Targets (issue 3): p95 <= 50 ms and >= 10x faster than the subprocess way.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tokenize
from io import StringIO
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

STDLIB = Path(os.__file__).parent


def string_edit_points(text: str, count: int) -> list[tuple[int, int]]:
    """(line, column) just inside the opening quote of string literals, one per function."""
    points: list[tuple[int, int]] = []
    seen_lines: set[int] = set()
    current_def = None
    used_defs: set[int] = set()
    for token in tokenize.generate_tokens(StringIO(text).readline):
        if token.type == tokenize.NAME and token.string == "def":
            current_def = token.start[0]
        if (
            token.type == tokenize.STRING
            and token.start[0] == token.end[0]
            and current_def is not None
            and current_def not in used_defs
            and token.start[0] not in seen_lines
            and token.string[:1] in "'\""
        ):
            seen_lines.add(token.start[0])
            used_defs.add(current_def)
            points.append((token.start[0] - 1, token.start[1] + 1))
    if not points:
        raise SystemExit("no string literal inside a function to edit")
    return [points[i % len(points)] for i in range(count)]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


class Client(LanguageClient):
    def __init__(self) -> None:
        super().__init__("clearsight-bench", "0")
        self.arrivals: dict[tuple[str, int | None], float] = {}
        self.waiters: dict[tuple[str, int | None], asyncio.Future[float]] = {}

        @self.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def on_diagnostics(params: types.PublishDiagnosticsParams) -> None:
            key = (params.uri, params.version)
            now = time.perf_counter()
            self.arrivals[key] = now
            waiter = self.waiters.pop(key, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(now)

    async def diagnostics_of(self, uri: str, version: int) -> float:
        key = (uri, version)
        if key in self.arrivals:
            return self.arrivals[key]
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiters[key] = future
        return await asyncio.wait_for(future, 120)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure_server(
    path: Path, edits: int, settings: dict[str, object]
) -> tuple[list[float], float, float]:
    client = Client()
    await client.start_io(sys.executable, "-m", "clearsight", "server")
    capabilities = types.ClientCapabilities(
        text_document=types.TextDocumentClientCapabilities(
            publish_diagnostics=types.PublishDiagnosticsClientCapabilities(version_support=True)
        )
    )
    await client.initialize_async(
        types.InitializeParams(
            capabilities=capabilities,
            root_uri=path.parent.as_uri(),
            initialization_options={**settings, "debounce": 0},
        )
    )
    client.initialized(types.InitializedParams())
    text = path.read_text(encoding="utf-8")
    uri = path.as_uri()
    started = time.perf_counter()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="python", version=1, text=text
            )
        )
    )
    open_latency = await client.diagnostics_of(uri, 1) - started

    server = client._server
    cpu_before = cpu_seconds(server.pid) if server is not None else 0.0
    latencies = []
    for version, (line, column) in enumerate(string_edit_points(text, edits), start=2):
        position = types.Position(line=line, character=column)
        sent = time.perf_counter()
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[
                    types.TextDocumentContentChangePartial(
                        range=types.Range(start=position, end=position), text="x"
                    )
                ],
            )
        )
        latencies.append(await client.diagnostics_of(uri, version) - sent)
    cpu_per_edit = (cpu_seconds(server.pid) - cpu_before) / edits if server is not None else 0.0

    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return latencies, open_latency, cpu_per_edit


class BareClient:
    """A bare JSON-RPC client over a server's stdio: pygls's client cannot read ruff's
    initialize result, and the same framing for every server keeps the comparison fair."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.next_id = 0
        self.pending: dict[int, asyncio.Future[object]] = {}
        self.reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def start(cls, *command: str) -> BareClient:
        process = await asyncio.create_subprocess_exec(
            *command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        return cls(process)

    def _send(self, message: dict[str, object]) -> None:
        body = json.dumps(message).encode()
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def notify(self, method: str, params: object) -> None:
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    async def request(self, method: str, params: object) -> object:
        self.next_id += 1
        future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self.pending[self.next_id] = future
        self._send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        return await asyncio.wait_for(future, 120)

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
            if "id" in message and "method" in message:  # a request from the server
                self._send({"jsonrpc": "2.0", "id": message["id"], "result": None})
            elif "id" in message and message["id"] in self.pending:
                self.pending.pop(message["id"]).set_result(message.get("result"))

    async def stop(self) -> None:
        await self.request("shutdown", None)
        self.notify("exit", None)
        try:
            await asyncio.wait_for(self.process.wait(), 10)
        except asyncio.TimeoutError:
            self.process.kill()
        self.reader.cancel()


async def measure_pull(
    command: list[str], path: Path, edits: int, options: dict[str, object]
) -> list[float]:
    """Edit -> the answer to textDocument/diagnostic, for any server, over a bare client."""
    client = await BareClient.start(*command)
    capabilities = {"textDocument": {"diagnostic": {"dynamicRegistration": False}}}
    await client.request("initialize", {
        "processId": os.getpid(), "rootUri": path.parent.as_uri(),
        "capabilities": capabilities, "initializationOptions": options,
    })  # fmt: skip
    client.notify("initialized", {})
    text = path.read_text(encoding="utf-8")
    uri = path.as_uri()
    document = {"uri": uri, "languageId": "python", "version": 1, "text": text}
    client.notify("textDocument/didOpen", {"textDocument": document})
    await client.request("textDocument/diagnostic", {"textDocument": {"uri": uri}})
    latencies = []
    for version, (line, column) in enumerate(string_edit_points(text, edits), start=2):
        at = {"line": line, "character": column}
        sent = time.perf_counter()
        client.notify("textDocument/didChange", {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"range": {"start": at, "end": at}, "text": "x"}],
        })  # fmt: skip
        await client.request("textDocument/diagnostic", {"textDocument": {"uri": uri}})
        latencies.append(time.perf_counter() - sent)
    await client.stop()
    return latencies


def _line(label: str, latencies: list[float]) -> tuple[float, float]:
    ms = [value * 1000 for value in latencies]
    p50, p95 = statistics.median(ms), percentile(ms, 0.95)
    print(f"  {label}: p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {max(ms):.1f} ms")
    return p50, p95


def measure_subprocess_way(path: Path, edits: int) -> list[float]:
    """bandit + radon cc + radon mi command lines on the buffer after each edit."""
    bin_dir = Path(sys.executable).parent
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    timings = []
    with tempfile.TemporaryDirectory() as folder:
        buffer = Path(folder) / path.name
        for line, column in string_edit_points("".join(lines), edits):
            lines[line] = lines[line][:column] + "x" + lines[line][column:]
            started = time.perf_counter()
            buffer.write_text("".join(lines), encoding="utf-8")
            for command in (
                [str(bin_dir / "bandit"), "-q", "-f", "json", str(buffer)],
                [str(bin_dir / "radon"), "cc", "-j", str(buffer)],
                [str(bin_dir / "radon"), "mi", "-j", str(buffer)],
            ):
                subprocess.run(command, capture_output=True, check=False)
            timings.append(time.perf_counter() - started)
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", type=Path, default=STDLIB / "subprocess.py")
    parser.add_argument("--edits", type=int, default=200)
    parser.add_argument("--baseline-edits", type=int, default=20)
    parser.add_argument(
        "--settings", type=json.loads, default={}, help="initializationOptions, as JSON"
    )
    args = parser.parse_args()
    args.file = args.file.resolve()  # LSP addresses documents by absolute file URIs
    lines = len(args.file.read_text(encoding="utf-8").splitlines())
    print(
        f"file: {args.file} ({lines} lines); cores: {os.cpu_count()}; "
        f"python {sys.version.split()[0]}; load average {os.getloadavg()[0]:.1f}"
    )
    if args.settings:
        print(f"settings: {json.dumps(args.settings)}")

    latencies, open_latency, cpu = asyncio.run(measure_server(args.file, args.edits, args.settings))
    ms = [value * 1000 for value in latencies]
    p50, p95, worst = statistics.median(ms), percentile(ms, 0.95), max(ms)
    print(
        f"clearsight server, {len(ms)} edits: "
        f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {worst:.1f} ms"
    )
    print(f"  server CPU time per edit: {cpu * 1000:.1f} ms")
    print(f"  first diagnostics after open: {open_latency * 1000:.1f} ms")
    # Memory as bench_memory.py measures it (the server and its children, the edited file
    # and the first 99 other standard-library modules open): with the default --file, the
    # same documents, so the same figure as its target's.
    from bench_memory import measure as measure_memory

    memory = asyncio.run(measure_memory(
        [sys.executable, "-m", "clearsight", "server"], args.settings, 100, args.file, 5
    ))  # fmt: skip
    print(
        f"  server RSS with 100 open documents ({args.file.name} and 99 standard-library "
        f"modules): {memory['open']:.1f} MiB, after a pause {memory['open, idle']:.1f} MiB"
    )

    # Pull diagnostics, as VS Code asks for them: at the defaults (adaptive scheduling), at
    # the old fixed 150 ms debounce and at debounce 0, and ruff's server on the same edits.
    print(f"pull diagnostics (textDocument/diagnostic after each of {args.edits} edits):")
    server = [sys.executable, "-m", "clearsight", "server"]
    p50_default, p95_default = _line(
        "clearsight server, defaults",
        asyncio.run(measure_pull(server, args.file, args.edits, args.settings)),
    )
    _line("clearsight server, debounce 150 (the old default)", asyncio.run(
        measure_pull(server, args.file, args.edits, {**args.settings, "debounce": 150})
    ))  # fmt: skip
    _line("clearsight server, debounce 0", asyncio.run(
        measure_pull(server, args.file, args.edits, {**args.settings, "debounce": 0})
    ))  # fmt: skip
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    if Path(ruff).exists():
        ruff_options = {"settings": {"lint": {"select": ["S", "C90"]}}}
        ruff50, _ = _line("ruff server (S + C90 rules)", asyncio.run(
            measure_pull([ruff, "server"], args.file, args.edits, ruff_options)
        ))  # fmt: skip
        print(f"  clearsight at its defaults / ruff at p50: {p50_default / ruff50:.1f}x")
    else:
        print("  ruff is not installed: no ruff server comparison")
    default_met = p95_default <= 50
    print(f"  target at the defaults: p95 <= 50 ms: {'PASS' if default_met else 'FAIL'}")

    baseline = [value * 1000 for value in measure_subprocess_way(args.file, args.baseline_edits)]
    b50, b95 = statistics.median(baseline), percentile(baseline, 0.95)
    print(
        f"bandit + radon cc + radon mi per edit, {len(baseline)} edits: "
        f"p50 {b50:.0f} ms, p95 {b95:.0f} ms"
    )
    ratio = b50 / p50 if p50 else float("inf")
    print(f"speed-up at p50: {ratio:.1f}x (target >= 10x); p95 target <= 50 ms")
    met = p95 <= 50 and ratio >= 10 and default_met
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    print("targets:", "PASS" if met else "FAIL")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
