"""What the editor's review modes tell the user, each thing once: why a file shows every
finding, what new code is compared with. Filled from worker threads, emptied by the server
(which says them with window/showMessage or the log)."""

from __future__ import annotations

import threading


class Notices:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._said: set[str] = set()
        self._pending: list[tuple[bool, str]] = []

    def say(self, key: str, message: str, warning: bool = True) -> None:
        """`message` unless something with the same `key` was said already."""
        with self._lock:
            if key not in self._said:
                self._said.add(key)
                self._pending.append((warning, message))

    def take(self) -> list[tuple[bool, str]]:
        """(a warning, the message) for each thing not handed out yet."""
        with self._lock:
            pending, self._pending = self._pending, []
        return pending
