"""The provenance ledger: `.clearsight/provenance.jsonl`, append-only, meant to be committed.

Each line is one JSON record: what the server observed (an attribution) or what a person
did (a review, a correction), keyed by statement content hashes. Hashes, tool and model
names, reviewer identities and times only: never prompts, transcripts or code.

Writes take a file lock (two editors on one workspace), go out as one `write` of whole
lines and are fsynced. Nothing valid is ever rewritten: a torn or hand-broken line is
reported and skipped, and the next append starts on a fresh line so it cannot damage a
valid one. A write that fails part way (a full disk, a file size limit) is cut back to the
ledger's size before it, so the error leaves the old ledger exactly as it was.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from clearsight.provenance.model import Attribution, AuthorKind, Evidence
from clearsight.provenance.units import DISTINCTIVE_TOKENS, Unit

LEDGER_PATH = Path(".clearsight") / "provenance.jsonl"
_GENERATIONS = itertools.count(1)
VERSION = 1
LOCK_TIMEOUT_SECONDS = 10.0


class LedgerError(Exception):
    pass


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Review:
    reviewer: str
    time: str


@dataclass
class LedgerIndex:
    attributions: dict[str, list[tuple[str, Attribution]]] = field(default_factory=dict)
    reviews: dict[str, list[tuple[str, Review]]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    records: int = 0
    generation: int = 0  # changes whenever the ledger is read again after a change

    def _pick(self, entries: list[tuple[str, Any]] | None, path: str, unit: Unit) -> Any:
        if not entries:
            return None
        # The same file first; elsewhere only for content distinctive enough to have moved
        # (a bare `return None` marked in one file says nothing about another).
        same = [value for where, value in entries if where == path]
        if same:
            return same[-1]
        return entries[-1][1] if unit.size >= DISTINCTIVE_TOKENS else None

    def attribution(self, path: str, unit: Unit) -> Attribution | None:
        return self._pick(self.attributions.get(unit.key), path, unit)

    def review(self, path: str, unit: Unit) -> Review | None:
        return self._pick(self.reviews.get(unit.key), path, unit)


def _attribution(record: dict[str, Any]) -> Attribution:
    evidence = Evidence(record.get("evidence", Evidence.MARKED.value))
    return Attribution.of(
        AuthorKind(record["author"]), evidence, record.get("tool"), record.get("model")
    )


def _index_record(index: LedgerIndex, record: dict[str, Any]) -> None:
    kind, path = record["type"], str(record.get("path", ""))
    for key in record["keys"]:
        if kind == "attribution":
            index.attributions.setdefault(str(key), []).append((path, _attribution(record)))
        elif kind == "review":
            review = Review(str(record["reviewer"]), str(record.get("time", "")))
            index.reviews.setdefault(str(key), []).append((path, review))
        else:
            raise ValueError(f"unknown record type {kind!r}")


def parse_ledger(data: bytes, name: str = str(LEDGER_PATH)) -> LedgerIndex:
    index = LedgerIndex()
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
            if not isinstance(record, dict) or not isinstance(record.get("keys"), list):
                raise ValueError("not a ledger record")
            _index_record(index, record)
            index.records += 1
        except (ValueError, KeyError, TypeError) as error:
            index.problems.append(f"{name}:{number}: skipped an unreadable record ({error})")
    return index


class Ledger:
    """One workspace's ledger; reads are cached until the file changes."""

    def __init__(self, root: Path, path: Path | None = None) -> None:
        self.root = root
        self.path = path or root / LEDGER_PATH
        self._stamp: tuple[int, int] | None = None
        self._index = LedgerIndex()

    def index(self) -> LedgerIndex:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self._stamp, self._index = None, LedgerIndex()
            return self._index
        except OSError as error:
            return LedgerIndex(problems=[f"{self.path}: cannot read the ledger ({error})"])
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp != self._stamp:
            try:
                data = self.path.read_bytes()
            except OSError as error:
                return LedgerIndex(problems=[f"{self.path}: cannot read the ledger ({error})"])
            self._index = parse_ledger(data, str(LEDGER_PATH))
            self._index.generation = next(_GENERATIONS)
            self._stamp = stamp
        return self._index

    def append(self, records: Iterable[dict[str, Any]]) -> int:
        lines = [json.dumps({"v": VERSION, **record}, sort_keys=True) + "\n" for record in records]
        if not lines:
            return 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            lock = FileLock(str(self.path) + ".lock", timeout=LOCK_TIMEOUT_SECONDS)
            with lock:
                self._append_locked("".join(lines).encode("utf-8"))
        except Timeout as error:
            raise LedgerError(f"{self.path} is locked by another process") from error
        except OSError as error:
            raise LedgerError(f"cannot write {self.path}: {error.strerror or error}") from error
        return len(lines)

    def _append_locked(self, payload: bytes) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                payload = b"\n" + payload  # a torn last line stays alone, reported once
            try:
                written = 0
                while written < len(payload):
                    written += os.write(fd, payload[written:])
                os.fsync(fd)
            except OSError:
                # Take back what part of the records got out: the lock keeps other writers
                # away, so everything past `size` is ours.
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, size)
                raise
        finally:
            os.close(fd)


def attribution_record(
    keys: Iterable[str], path: str, attribution: Attribution, when: str | None = None
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "type": "attribution",
        "keys": sorted(set(keys)),
        "path": path,
        "author": attribution.kind.value,
        "evidence": attribution.evidence.value,
        "time": when or now(),
    }
    if attribution.tool:
        record["tool"] = attribution.tool
    if attribution.model:
        record["model"] = attribution.model
    return record


def review_record(
    keys: Iterable[str], path: str, reviewer: str, when: str | None = None
) -> dict[str, Any]:
    return {
        "type": "review",
        "keys": sorted(set(keys)),
        "path": path,
        "reviewer": reviewer,
        "time": when or now(),
    }
