"""The stdio transport: pygls's message loop, reading stdin through asyncio.

pygls's `start_io` reads stdin with one thread-pool hand-off per header line and per body
(four per message). Each hand-off wakes a thread, and while an analysis holds the GIL it
waits for it: about a fifth of the server's CPU time per keystroke went there. Here stdin
is an asyncio pipe, so the event loop reads messages itself; everything else (parsing,
dispatch, writing) is pygls's own `run_async`. Where stdin cannot be an asyncio pipe (a
regular file, say), pygls's own reader is used.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from typing import BinaryIO

from pygls.io_ import StdoutWriter, run_async
from pygls.lsp.server import LanguageServer

logger = logging.getLogger(__name__)


class _PipeReader:
    """pygls's AsyncReader over an asyncio StreamReader: b"" at the end of input."""

    def __init__(self, stream: asyncio.StreamReader) -> None:
        self._stream = stream

    async def readline(self) -> bytes:
        try:
            return await self._stream.readline()
        except ValueError:  # a header line longer than the stream's limit: not LSP
            return b""

    async def readexactly(self, n: int) -> bytes:
        try:
            return await self._stream.readexactly(n)
        except asyncio.IncompleteReadError:
            return b""  # the client went away mid-message: nobody to answer


def serve_stdio(
    server: LanguageServer, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None
) -> None:
    """Serve LSP over stdin/stdout until the client exits or closes stdin."""
    stdin = stdin or sys.stdin.buffer
    stdout = stdout or sys.stdout.buffer
    stop = threading.Event()
    server._stop_event = stop  # pygls's shutdown and exit handlers set it
    server.protocol.set_writer(StdoutWriter(stdout))

    async def serve() -> bool:
        loop = asyncio.get_running_loop()
        stream = asyncio.StreamReader()
        try:
            await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stream), stdin)
        except (ValueError, OSError):
            return False  # not a pipe, socket or terminal
        await run_async(
            stop_event=stop,
            reader=_PipeReader(stream),
            protocol=server.protocol,
            logger=logger,
            error_handler=server.report_server_error,
        )
        return True

    try:
        served = asyncio.run(serve())
    except BrokenPipeError:
        logger.error("The connection to the client is lost: shutting down.")
        served = True
    except (KeyboardInterrupt, SystemExit):
        served = True
    if not served:
        server.start_io(stdin, stdout)
        return
    server.shutdown()
