"""`clearsight report --history N` against one `clearsight check` of the same tree, both
cold (an empty cache), in the same run; then the report again after one more commit, warm.

The history is the project's own: a clone of this repository (its first-parent line), so
the report reads real commits that touched real files. Target (issue 14): the report of 30
revisions costs at most 3x one check of HEAD, because each distinct file content is analysed
once and the revisions share most of theirs.

    python benchmarks/bench_report.py [--history 30] [--jobs N] [--repo PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_review import clearsight

TARGET = 3.0
ROOT = Path(__file__).resolve().parent.parent


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--history", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repo", type=Path, default=ROOT, help="the history to read")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="clearsight-bench-report-"))
    try:
        clone = scratch / "clone"
        git(scratch, "clone", "-q", "--no-local", str(args.repo), str(clone))
        commits = int(git(clone, "rev-list", "--first-parent", "--count", "HEAD"))
        files = len([p for p in git(clone, "ls-files").splitlines() if p.endswith(".py")])
        print(
            f"history: {args.repo} ({commits} first-parent commits, {files} Python files at "
            f"HEAD); cores: {os.cpu_count()}; jobs {args.jobs}; python "
            f"{sys.version.split()[0]}; load average {os.getloadavg()[0]:.1f}"
        )
        jobs = ["--jobs", str(args.jobs)]
        check_cache, report_cache = scratch / "check-cache", scratch / "report-cache"
        check_seconds, _ = clearsight(clone, "check", *jobs, "--cache-dir", str(check_cache),
                               "--exit-zero", "--quiet", "--format", "json", ".")  # fmt: skip
        report_seconds, done = clearsight(
            clone, "report", *jobs, "--cache-dir", str(report_cache), "--format", "json",
            "--history", str(args.history),
        )  # fmt: skip
        data = json.loads(done.stdout)
        distinct = len(list(report_cache.rglob("*"))) if report_cache.exists() else 0
        print(f"clearsight check of HEAD, cold: {check_seconds:.1f} s")
        print(
            f"clearsight report --history {args.history}, cold: {report_seconds:.1f} s "
            f"({data['window']['revisions']} revisions; cache entries written: {distinct})"
        )
        (clone / "bench_added.py").write_text("def added(x):\n    return x + 1\n")
        git(clone, "add", "bench_added.py")
        git(clone, "-c", "user.name=Bench", "-c", "user.email=bench@example.com",
            "commit", "-qm", "One more commit")  # fmt: skip
        warm_seconds, _ = clearsight(
            clone, "report", *jobs, "--cache-dir", str(report_cache), "--format", "json",
            "--history", str(args.history),
        )  # fmt: skip
        print(f"clearsight report --history {args.history} after one more commit, warm: "
              f"{warm_seconds:.1f} s")  # fmt: skip
        ratio = report_seconds / check_seconds
        print(f"report / check: {ratio:.2f}x (target <= {TARGET:.0f}x)")
        met = ratio <= TARGET
        print("targets:", "PASS" if met else "FAIL")
        return 0 if met else 1
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
