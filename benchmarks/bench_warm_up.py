#!/usr/bin/env python3
"""Benchmark the language server's start-up warm-up of the dependency checks.

In fresh processes, the first dependency analysis (CS-D001..CS-D006, the other families
turned off) of a copy of `subprocess.py` with three third-party imports added (one of them a
typo, so the PyPI names and the typo index are needed), in a project with no `.venv`:
cold, and after `clearsight.checks.warm_up.warm_up` has run (what the server does in the
background at `initialized`). Medians of `--runs` process pairs; parsing is included.

    python benchmarks/bench_warm_up.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

CHILD = """
import json, sys, time
from dataclasses import replace
from pathlib import Path
from clearsight.engine import analyze
from clearsight.settings import SettingsResolver

root = Path(sys.argv[1]); path = root / "big.py"; text = path.read_text()
settings = SettingsResolver().for_path(path)
settings = replace(
    settings,
    complexity=replace(settings.complexity, enabled=False),
    security=replace(settings.security, enabled=False),
    provenance=replace(settings.provenance, enabled=False),
)
warm_up = 0.0
if sys.argv[2] == "warm":
    from clearsight.checks.warm_up import warm_up as run_warm_up
    warm_up = run_warm_up(root, settings).seconds
start = time.perf_counter()
findings = analyze(text, str(path), settings)
print(json.dumps({"first": time.perf_counter() - start, "warm_up": warm_up,
                  "findings": len(findings)}))
"""


def run(root: Path, mode: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(root), mode],
        capture_output=True, text=True, check=True, timeout=120,
    ).stdout  # fmt: skip
    return json.loads(out.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-warm-up-"))
    try:
        (root / "pyproject.toml").write_text(
            '[project]\nname = "bench"\nversion = "1"\ndependencies = ["requests"]\n'
        )
        source = Path(sysconfig.get_paths()["stdlib"]) / "subprocess.py"
        text = source.read_text() + "import tabulate\nimport requests\nimport reqeusts\n"
        (root / "big.py").write_text(text)
        cold, warm, warm_up = [], [], []
        for _ in range(args.runs):
            cold.append(run(root, "cold")["first"])
            result = run(root, "warm")
            warm.append(result["first"])
            warm_up.append(result["warm_up"])
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"python {sys.version.split()[0]}; load average {load}; {args.runs} runs")
        lines = len(text.splitlines())
        print(f"first dependency analysis of subprocess.py + 3 imports ({lines} lines)")
        print(f"  cold:                      {statistics.median(cold) * 1000:6.0f} ms")
        print(f"  after the warm-up:         {statistics.median(warm) * 1000:6.0f} ms")
        print(f"  the warm-up (background):  {statistics.median(warm_up) * 1000:6.0f} ms")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
