"""The project environments in the editor: saying once per project which environment its
imports are looked up in when it is not the project's own (or the configured one cannot be
used), and warming the workspace's dependency data in the background at start-up.

The warm-up runs in a daemon thread of its own: it never takes one of the two analysis
workers, never runs on the event loop, never holds up `exit`, and between its steps it waits
while an analysis runs (threads share the interpreter lock).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types
from pygls.uris import to_fs_path

from clearsight.checks.warm_up import WarmUp, warm_up
from clearsight.deps.environment import ENVIRONMENTS
from clearsight.settings import Settings

if TYPE_CHECKING:
    from clearsight.lsp.server import ClearsightServer

LOG = logging.getLogger(__name__)
TYPING_PAUSE = 0.5  # seconds without edits the warm-up waits for before a step
MAX_PAUSE = 30.0  # seconds the warm-up waits for analyses before a step, at most
POLL_STEP, MAX_POLL_STEP = 0.02, 0.1  # seconds between looks at whether the pause came


class _Stopped(Exception):
    """The server is shutting down: the rest of the warm-up is not needed."""


class EnvironmentFeatures:
    def __init__(self, server: ClearsightServer) -> None:
        self.server = server
        # Notices already said (never cleared: once per project for the server's life).
        self.said: set[str] = set()
        self.task: asyncio.Task[None] | None = None

    def say(self, path: str, settings: Settings) -> None:
        """Once per project: that its imports are looked up in the server's own environment
        (a log message), or that the configured interpreter cannot be used (a warning)."""
        if not settings.dependencies.enabled:
            return
        found = ENVIRONMENTS.for_file(path, settings)
        if found.notice is None or found.notice in self.said:
            return
        self.said.add(found.notice)
        message = f"Clearsight: {found.notice}"
        if found.problem:
            self.server.window_show_message(
                types.ShowMessageParams(type=types.MessageType.Warning, message=message)
            )
        else:
            self.server.window_log_message(
                types.LogMessageParams(type=types.MessageType.Info, message=message)
            )

    @staticmethod
    def reset() -> None:
        """Settings or a pyproject.toml changed: resolve the environments again."""
        ENVIRONMENTS.clear()

    # -- warm-up --------------------------------------------------------------------------

    def start_warm_up(self) -> None:
        """Load each workspace folder's dependency data in the background; analyses never
        wait for it (they load what they need through the same caches)."""
        workspace = self.server.workspace
        roots = [to_fs_path(folder.uri) for folder in workspace.folders.values()]
        if not roots and workspace.root_path:
            roots = [workspace.root_path]
        folders = [Path(root) for root in roots if root]
        if folders:
            self.task = asyncio.get_running_loop().create_task(self._warm_up(folders))

    async def _warm_up(self, folders: list[Path]) -> None:
        for folder in folders:
            settings = self.server.resolver.for_path(folder / "__init__.py")
            self.say(str(folder / "__init__.py"), settings)
            try:
                done = await self._in_thread(folder, settings)
            except _Stopped:
                return
            except Exception as error:  # a warm-up is an optimisation: never fatal
                LOG.warning("warming up %s failed: %r", folder, error)
                continue
            if done is not None:
                message = (
                    f"Clearsight: dependency data for {folder} loaded in the background in "
                    f"{done.seconds * 1000:.0f} ms, from {done.project.environment.description}"
                )
                self.server.window_log_message(
                    types.LogMessageParams(type=types.MessageType.Log, message=message)
                )

    async def _in_thread(self, folder: Path, settings: Settings) -> WarmUp | None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[WarmUp | None] = loop.create_future()

        def deliver(result: WarmUp | None, error: BaseException | None) -> None:
            if future.done():
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)

        def run() -> None:
            result, failure = None, None
            try:
                result = warm_up(folder, settings, self._pause)
            except BaseException as error:
                failure = error
            with contextlib.suppress(RuntimeError):  # the loop is closed: the server is gone
                loop.call_soon_threadsafe(deliver, result, failure)

        threading.Thread(target=run, name="clearsight-warm-up", daemon=True).start()
        return await future

    def _pause(self) -> None:
        """Between warm-up steps: wait while an analysis runs or the user is typing (a
        step running beside an edit's analysis slows it down: one interpreter lock), so
        the warm-up uses pauses; stop when the server shuts down."""
        deadline = time.monotonic() + MAX_PAUSE
        while time.monotonic() < deadline and not self.server.shut_down:
            typing = TYPING_PAUSE - self.server.idle_gc.seconds_idle()
            if self.server.busy <= 0 and typing <= 0:
                break
            # Until the pause could end, not in tight polls: each wake-up takes the
            # interpreter lock from the analysis running beside it.
            time.sleep(min(max(typing, POLL_STEP), MAX_POLL_STEP))
        if self.server.shut_down:
            raise _Stopped
