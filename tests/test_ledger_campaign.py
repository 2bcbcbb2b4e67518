"""The provenance ledger under faults: `kill -9` at random points of 1,000 appends shared by
two processes (`tests/ledger_campaign.py`), and writes that fail part way on a full disk or
at a file size limit."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ledger_campaign import describe, run

from clearsight.provenance.ledger import Ledger, review_record

WRITES = 1000


def test_kill_9_at_random_points_loses_no_complete_record() -> None:
    seed = int(os.environ.get("CLEARSIGHT_LEDGER_SEED") or random.SystemRandom().randrange(10**9))
    print(f"\nledger campaign seed {seed} (CLEARSIGHT_LEDGER_SEED={seed} replays it)")
    outcome = run(WRITES, seed)
    print(describe(outcome))
    assert outcome.kills >= 20 and outcome.kills_inside_a_run >= 10, describe(outcome)
    assert outcome.lost == [] and outcome.damaged == [], describe(outcome)
    assert outcome.problems == [], describe(outcome)
    assert outcome.checks == outcome.kills + 1


def _ledger_with_records(root: Path, count: int) -> bytes:
    ledger = Ledger(root)
    for i in range(count):
        ledger.append([review_record([f"old-{i}"], "a.py", "Ann", "t")])
    return ledger.path.read_bytes()


_LIMITED_WRITER = """
import resource, signal, sys
from pathlib import Path
from clearsight.provenance.ledger import Ledger, LedgerError, review_record
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # past the limit write() fails with EFBIG
limit = int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
try:
    Ledger(Path(sys.argv[1])).append([review_record(["new"], "a.py", "x" * 50_000, "t")])
except LedgerError as error:
    print(error)
    sys.exit(3)
"""


def test_a_write_cut_short_by_a_size_limit_leaves_the_old_ledger_intact(tmp_path: Path) -> None:
    before = _ledger_with_records(tmp_path, 20)
    limit = len(before) + 10_000  # the new record gets 10 kB out, then EFBIG
    done = subprocess.run(
        [sys.executable, "-c", _LIMITED_WRITER, str(tmp_path), str(limit)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 3, done.stderr
    assert "cannot write" in done.stdout and "File too large" in done.stdout
    assert (tmp_path / ".clearsight" / "provenance.jsonl").read_bytes() == before
    Ledger(tmp_path).append([review_record(["later"], "a.py", "Ann", "t")])
    index = Ledger(tmp_path).index()
    assert index.problems == [] and index.records == 21 and "later" in index.reviews


_FULL_DISK = """
set -e
mount -t tmpfs -o size=256k tmpfs "$1"
exec "$2" -c '
import os, sys
from pathlib import Path
from clearsight.provenance.ledger import Ledger, LedgerError, review_record
root = Path(sys.argv[1])
ledger = Ledger(root)
for i in range(20):
    ledger.append([review_record([f"old-{i}"], "a.py", "Ann", "t")])
before = ledger.path.read_bytes()
with open(root / "filler", "wb", buffering=0) as filler:  # fill the disk, then free under a page
    try:
        while True:
            filler.write(b"x" * 4096)
    except OSError:
        pass
try:
    ledger.append([review_record(["new"], "a.py", "x" * 60_000, "t")])
    print("appended")
except LedgerError as error:
    print(error)
print("intact" if ledger.path.read_bytes() == before else "changed")
os.remove(root / "filler")
ledger.append([review_record(["later"], "a.py", "Ann", "t")])
index = Ledger(root).index()
print(index.records, len(index.problems), "later" in index.reviews)
' "$1"
"""


def test_a_full_disk_gives_a_clear_error_and_leaves_the_old_ledger_intact(tmp_path: Path) -> None:
    """A tiny tmpfs in a private mount namespace (root, or an unprivileged user namespace)."""
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("unshare is not installed: no tmpfs to fill here")
    mount = tmp_path / "tiny"
    mount.mkdir()
    command = [unshare, "--mount", "--map-root-user", "sh", "-c", _FULL_DISK, "sh"]
    done = subprocess.run(
        [*command, str(mount), sys.executable],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    if done.returncode != 0 and "mount" in done.stderr and not done.stdout:
        pytest.skip(f"this machine allows no tmpfs mount: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("cannot write") and "No space left on device" in lines[0], lines
    assert lines[1:] == ["intact", "21 0 True"], lines
