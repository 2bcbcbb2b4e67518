"""The stdio transport (`clearsight.lsp.stdio`) with the real server process: stdin as a
pipe (what editors give), as a regular file (pygls's own reader takes over), and a client
that goes away in the middle of a message."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SERVER = [sys.executable, "-m", "clearsight", "server"]


def _message(payload: dict[str, object]) -> bytes:
    body = json.dumps(payload).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


def _session() -> bytes:
    return b"".join(
        _message(m)
        for m in (
            {"jsonrpc": "2.0", "id": 1, "method": "initialize",
             "params": {"processId": None, "rootUri": None, "capabilities": {}}},
            {"jsonrpc": "2.0", "method": "initialized", "params": {}},
            {"jsonrpc": "2.0", "id": 2, "method": "shutdown"},
            {"jsonrpc": "2.0", "method": "exit"},
        )
    )  # fmt: skip


def _responses(stdout: bytes) -> dict[object, dict[str, object]]:
    found = {}
    while stdout:
        header, _, rest = stdout.partition(b"\r\n\r\n")
        length = int(header.split(b"Content-Length: ")[1].split(b"\r\n")[0])
        message = json.loads(rest[:length])
        stdout = rest[length:]
        if "id" in message and "method" not in message:
            found[message["id"]] = message
    return found


def test_a_session_over_a_pipe_ends_with_exit_code_0() -> None:
    done = subprocess.run(SERVER, input=_session(), capture_output=True, timeout=120)
    responses = _responses(done.stdout)
    assert responses[1]["result"]["serverInfo"]["name"] == "clearsight"  # type: ignore[index]
    assert responses[2]["result"] is None
    assert done.returncode == 0, done.stderr.decode()[-2000:]


def test_stdin_from_a_regular_file_is_served_too(tmp_path: Path) -> None:
    """asyncio cannot watch a regular file; pygls's thread-based reader serves it."""
    requests = tmp_path / "requests.bin"
    requests.write_bytes(_session())
    with requests.open("rb") as stdin:
        done = subprocess.run(SERVER, stdin=stdin, capture_output=True, timeout=120)
    responses = _responses(done.stdout)
    assert responses[1]["result"]["serverInfo"]["name"] == "clearsight"  # type: ignore[index]
    assert responses[2]["result"] is None
    assert done.returncode == 0, done.stderr.decode()[-2000:]


def test_a_client_gone_mid_message_ends_the_server() -> None:
    """Half a message, then end of input: the server stops (no hang, no traceback)."""
    whole = _message({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                      "params": {"processId": None, "capabilities": {}}})  # fmt: skip
    done = subprocess.run(SERVER, input=whole[:-20], capture_output=True, timeout=120)
    assert done.stdout == b""
    assert b"Traceback" not in done.stderr, done.stderr.decode()[-2000:]
