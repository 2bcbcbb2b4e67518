#!/usr/bin/env python3
"""Benchmark `clearsight check --shard I/N` as a CI matrix would run it: N processes side by
side (one per runner, `--jobs 1` each, as one core per runner), against one single run
(`--jobs 1`) of the same files, measured in the same run.

Prints each shard's wall and CPU time, the longest shard against the single run (the wall
time a matrix waits for), how even the shares are (the most CPU of a shard against the
mean), and whether `clearsight merge` of the shards' reports is byte for byte the single
run's report, for JSON and SARIF. Exit status 0 when the merges are equal and, with no more
shards than cores, the longest shard takes at most TARGET of the single run's wall time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

SKIPPED_DIRS = frozenset({"site-packages", "dist-packages", "__pycache__", "test", "tests"})


def clearsight_command() -> list[str]:
    script = Path(sys.executable).with_name("clearsight")
    return [str(script)] if script.exists() else [sys.executable, "-m", "clearsight.cli.main"]


@dataclass
class Measured:
    label: str
    wall: float
    cpu: float
    returncode: int


def copy_corpus(source: Path, target: Path, limit: int | None) -> int:
    files = sorted(
        path for path in source.rglob("*.py")
        if not SKIPPED_DIRS.intersection(path.relative_to(source).parts[:-1])
    )[:limit]  # fmt: skip
    for path in files:
        destination = target / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination)
    return len(files)


def run_side_by_side(commands: dict[str, list[str]], cwd: Path) -> list[Measured]:
    """Start every command at once; each one's wall time and its own CPU (wait4's rusage,
    so contention between them does not blur how much work each share was)."""
    started = time.perf_counter()
    running = {
        subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL).pid: label
        for label, command in commands.items()
    }
    measured = []
    while running:
        pid, status, usage = os.wait4(-1, 0)
        if pid not in running:
            continue
        measured.append(Measured(
            running.pop(pid), time.perf_counter() - started, usage.ru_utime + usage.ru_stime,
            os.waitstatus_to_exitcode(status),
        ))  # fmt: skip
    return sorted(measured, key=lambda m: m.label)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--corpus",
        type=Path,
        default=Path(os.__file__).parent,
        help="the *.py files under this folder (default: the standard library)",
    )
    parser.add_argument("--limit", type=int, default=600, help="only the first N files")
    parser.add_argument("--shards", type=int, default=2, help="N (default 2)")
    parser.add_argument(
        "--target",
        type=float,
        default=None,
        help="longest shard / single run at most this (default 1/N + 0.15)",
    )
    args = parser.parse_args()  # fmt: skip
    target = args.target if args.target is not None else 1 / args.shards + 0.15
    cores = len(os.sched_getaffinity(0))
    failures = []
    with tempfile.TemporaryDirectory(prefix="bench-shard-") as temporary:
        work = Path(temporary)
        corpus = work / "corpus"
        count = copy_corpus(args.corpus, corpus, args.limit)
        print(f"corpus: {count} files from {args.corpus}, {args.shards} shards, {cores} cores")
        base = [*clearsight_command(), "check", ".", "--no-cache", "--jobs", "1", "-q",
                "--python", sys.executable]  # fmt: skip
        for form in ("json", "sarif"):
            single = run_side_by_side(
                {"single": [*base, "--format", form, "-o", str(work / f"single.{form}")]}, corpus
            )[0]
            shards = run_side_by_side(
                {
                    f"shard {i}/{args.shards}": [
                        *base, "--format", form, "--shard", f"{i}/{args.shards}",
                        "-o", str(work / f"shard{i}.{form}"),
                    ]
                    for i in range(1, args.shards + 1)
                },
                corpus,
            )  # fmt: skip
            reports = [str(work / f"shard{i}.{form}") for i in range(1, args.shards + 1)]
            merge = subprocess.run(
                [*clearsight_command(), "merge", *reports], capture_output=True, text=True,
                check=False,
            )  # fmt: skip
            equal = merge.returncode == 0 and merge.stdout == (work / f"single.{form}").read_text()
            print(f"\n{form}:")
            print(f"  {'run':<12} {'wall s':>8} {'cpu s':>8}")
            for measured in (single, *shards):
                print(f"  {measured.label:<12} {measured.wall:8.2f} {measured.cpu:8.2f}")
            longest = max(m.wall for m in shards)
            mean_cpu = sum(m.cpu for m in shards) / len(shards)
            ratio = longest / single.wall
            ideal = 1 / args.shards
            print(f"  longest shard / single run (wall): {ratio:.2f}  (ideal {ideal:.2f})")
            print(f"  most CPU of a shard / mean: {max(m.cpu for m in shards) / mean_cpu:.2f}")
            print(f"  merged report equals the single run's: {'yes' if equal else 'NO'}")
            if not equal:
                failures.append(f"{form}: merged != single ({merge.stderr.strip()})")
            if args.shards <= cores and ratio > target:
                failures.append(f"{form}: longest shard {ratio:.2f} of a single run > {target:.2f}")
    if args.shards > cores:
        print(f"\n{args.shards} shards on {cores} cores contend: wall ratios are not judged")
    print("\n" + ("PASS" if not failures else "FAIL: " + "; ".join(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
