#!/usr/bin/env python3
"""The ledger campaign: two processes share 1,000 appends to one provenance ledger, and
`kill -9` lands on them at random points, again and again; each killed writer is started
again where it left off, as an editor would be.

A record counts as complete once `Ledger.append` has returned in its writer (the writer
then says so on its stdout). After every kill, and at the end, the ledger must be readable,
hold every complete record byte for byte, and have no damage beyond one torn line per kill
that landed inside a write. Records are of random sizes, up to 64 KiB, so that a kill can
land inside a write that spans many pages.

    python tests/ledger_campaign.py --writes 1000 [--seed S]

`tests/test_ledger_campaign.py` runs it in CI with a new seed, printed.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

SERVER = Path(__file__).resolve().parent.parent / "server"
sys.path.insert(0, str(SERVER))

from clearsight.provenance.ledger import (  # noqa: E402
    LEDGER_PATH,
    Ledger,
    parse_ledger,
    review_record,
)

WRITERS = ("left", "right")
LARGEST_RECORD = 64 * 1024


def reviewer_of(seed: int, name: str, index: int) -> str:
    """The record's payload, known to both sides: a size drawn log-uniformly up to 64 KiB."""
    rng = random.Random(f"{seed}:{name}:{index}")
    size = int(2 ** rng.uniform(6, LARGEST_RECORD.bit_length() - 1))
    return f"{name}-{index}:" + rng.randbytes(size // 2 + 1).hex()


@dataclass
class Outcome:
    seed: int
    writes: int
    kills: int = 0
    kills_inside_a_run: int = 0  # kills after the writer had acknowledged a record
    restarts: int = 0
    checks: int = 0  # times the ledger was read back and compared
    torn_lines: int = 0
    lost: list[str] = field(default_factory=list)  # acknowledged records missing
    damaged: list[str] = field(default_factory=list)  # records whose content differs
    problems: list[str] = field(default_factory=list)  # unreadable lines beyond the kills
    seconds: float = 0.0
    ledger_bytes: int = 0


class Writer:
    """One writing process, forked from this one so that a restart costs milliseconds, not
    an interpreter's start: the kill is as real either way."""

    def __init__(self, root: Path, name: str, stop: int, seed: int) -> None:
        self.root, self.name, self.stop, self.seed = root, name, stop, seed
        self.next = 0  # the first record not yet acknowledged
        self.pid: int | None = None
        self._acknowledgements = -1

    def start(self) -> None:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the writer: one append per record, then its number once it returned
            os.close(read)
            try:
                ledger = Ledger(self.root)
                for i in range(self.next, self.stop):
                    reviewer = reviewer_of(self.seed, self.name, i)
                    ledger.append([review_record([f"{self.name}-{i}"], "a.py", reviewer, "t")])
                    os.write(write, f"{i}\n".encode())
            except BaseException:
                os._exit(1)
            os._exit(0)
        os.close(write)
        self.pid, self._acknowledgements = pid, read

    @property
    def running(self) -> bool:
        return self.pid is not None

    @property
    def done(self) -> bool:
        return self.next >= self.stop

    def kill(self) -> int:
        """kill -9, then take in what it acknowledged; returns how many records that was."""
        assert self.pid is not None
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        return self._collect()

    def pause(self) -> None:
        assert self.pid is not None
        os.kill(self.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.pid is not None
        os.kill(self.pid, signal.SIGCONT)

    def finished(self) -> bool:
        """Whether it ended by itself (having written all its records)."""
        assert self.pid is not None
        pid, status = os.waitpid(self.pid, os.WNOHANG)
        if pid == 0:
            return False
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"writer {self.name} failed with status {status}")
        self._collect()
        return True

    def _collect(self) -> int:
        chunks = []
        while chunk := os.read(self._acknowledgements, 65536):
            chunks.append(chunk)
        os.close(self._acknowledgements)
        self.pid = None
        acknowledged = [int(n) for n in b"".join(chunks).split()]
        if acknowledged:
            self.next = acknowledged[-1] + 1
        return len(acknowledged)


def _check(outcome: Outcome, root: Path, writers: list[Writer], kills: int) -> None:
    """Every acknowledged record is in the ledger, whole; damage is at most a torn line per
    kill so far, and the last line while a paused writer is inside its write."""
    outcome.checks += 1
    data = (root / LEDGER_PATH).read_bytes() if (root / LEDGER_PATH).exists() else b""
    index = parse_ledger(data)
    for writer in writers:
        for i in range(writer.next):
            key = f"{writer.name}-{i}"
            reviews = index.reviews.get(key)
            if not reviews:
                outcome.lost.append(key)
            elif any(r.reviewer != reviewer_of(outcome.seed, writer.name, i) for _, r in reviews):
                outcome.damaged.append(key)
    in_progress = 1 if data and not data.endswith(b"\n") else 0
    outcome.torn_lines = len(index.problems) - in_progress
    if len(index.problems) > kills + in_progress:
        outcome.problems = index.problems
    outcome.ledger_bytes = len(data)


def run(writes: int, seed: int, kill_delay: float = 0.02) -> Outcome:
    rng = random.Random(seed)
    outcome = Outcome(seed, writes)
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="clearsight-ledger-") as folder:
        root = Path(folder)
        share = writes // len(WRITERS)
        writers = [Writer(root, name, share, seed) for name in WRITERS]
        writers[-1].stop += writes - share * len(WRITERS)
        for writer in writers:
            writer.start()
        while True:
            time.sleep(rng.uniform(0, kill_delay))
            for writer in writers:
                if writer.running and writer.finished() and not writer.done:
                    raise RuntimeError(f"writer {writer.name} stopped early")
            running = [w for w in writers if w.running]
            if not running:
                break
            victim = rng.choice(running)
            outcome.kills += 1
            if victim.kill():
                outcome.kills_inside_a_run += 1
            # The other writer waits while the ledger is read back, so that the kills stay
            # dense; it may be stopped inside a write, which the read-back allows for.
            others = [w for w in writers if w.running]
            for writer in others:
                writer.pause()
            _check(outcome, root, writers, outcome.kills)
            for writer in others:
                writer.resume()
            if not victim.done:
                victim.start()
                outcome.restarts += 1
        _check(outcome, root, writers, outcome.kills)
        # Readable through the server's own reader too, and appendable after all that.
        Ledger(root).append([{"type": "review", "keys": ["after"], "reviewer": "Ann"}])
        after = Ledger(root).index()
        if "after" not in after.reviews:
            outcome.lost.append("after")
    outcome.seconds = time.perf_counter() - began
    return outcome


def describe(outcome: Outcome) -> str:
    return (
        f"seed {outcome.seed}: {outcome.writes} writes by {len(WRITERS)} processes, "
        f"{outcome.kills} kill -9 ({outcome.kills_inside_a_run} after a write had returned), "
        f"{outcome.restarts} restarts, {outcome.checks} read-backs; "
        f"{len(set(outcome.lost))} complete records lost, {len(set(outcome.damaged))} damaged, "
        f"{outcome.torn_lines} torn lines, {len(outcome.problems)} unexplained problems; "
        f"ledger {outcome.ledger_bytes / 1e6:.1f} MB; {outcome.seconds:.0f} s"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writes", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=None)
    arguments = parser.parse_args()
    seed = arguments.seed if arguments.seed is not None else random.randrange(10**9)
    outcome = run(arguments.writes, seed)
    print(describe(outcome))
    bad = outcome.lost or outcome.damaged or outcome.problems
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
