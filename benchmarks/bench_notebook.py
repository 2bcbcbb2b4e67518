#!/usr/bin/env python3
"""Benchmark the editor's analysis of a notebook per edit, provenance on against off.

A notebook is made of `Lib/subprocess.py` of the running Python, one code cell per
top-level statement run (about 40 cells, 2,200 lines), committed in a real repository (the
`git` binary), once by a person and once with a `Co-authored-by: Claude` trailer (every
cell AI-written, the most provenance has to say). Each case opens the notebook in the
language server's incremental analyser (`analyze_cells`) and types into random cells,
timing each analysis: provenance off, then on with each history. Prints p50 and p95 and
the ratio of on to off.

    python benchmarks/bench_notebook.py [--edits 60] [--seed 1]
"""

from __future__ import annotations

import argparse
import ast
import json
import random
import statistics
import subprocess
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from clearsight.incremental import IncrementalAnalyzer
from clearsight.notebook_analysis import analyze_cells
from clearsight.settings import Settings

SOURCE = Path(subprocess.__file__)
CLAUDE = "Add the notebook\n\nCo-authored-by: Claude <noreply@anthropic.com>"


def cells_of(text: str) -> list[str]:
    """The module cut before each top-level statement that starts a definition."""
    lines = text.splitlines(keepends=True)
    tree = ast.parse(text)
    starts = [0]
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
            if first > starts[-1]:
                starts.append(first)
    ends = [*starts[1:], len(lines)]
    return [
        cell
        for cell in ("".join(lines[a:b]) for a, b in zip(starts, ends, strict=True))
        if cell.strip()
    ]


def notebook_json(cells: list[str]) -> str:
    document = {
        "cells": [
            {"cell_type": "code", "execution_count": None, "id": f"c{n}", "metadata": {},
             "outputs": [], "source": cell.splitlines(keepends=True)}
            for n, cell in enumerate(cells)
        ],
        "metadata": {"language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }  # fmt: skip
    return json.dumps(document, indent=1) + "\n"


def repository(root: Path, cells: list[str], message: str) -> Path:
    root.mkdir()
    run = {"cwd": root, "check": True, "capture_output": True}
    subprocess.run(["git", "init", "-q", "-b", "main"], **run)  # type: ignore[call-overload]
    (root / "analysis.ipynb").write_text(notebook_json(cells), encoding="utf-8")
    subprocess.run(["git", "add", "analysis.ipynb"], **run)  # type: ignore[call-overload]
    subprocess.run(
        ["git", "-c", "user.name=Ann", "-c", "user.email=ann@example.com",
         "commit", "-q", "-m", message],
        **run,
    )  # type: ignore[call-overload]  # fmt: skip
    return root / "analysis.ipynb"


def per_edit(path: Path, cells: list[str], settings: Settings, edits: int, seed: int):
    analyzer = IncrementalAnalyzer(str(path))
    current = list(cells)
    first = analyze_cells(current, str(path), settings, analyzer)
    blocks = sum(f.code == "CS-P001" for cell in first for f in cell)
    chosen = random.Random(seed)
    times = []
    for number in range(edits):
        index = chosen.randrange(len(current))
        cell = current[index]
        end = cell.find("\n")
        # A comment typed at the end of the cell's first line, then taken away again.
        current[index] = cell[:end] + "  # x" + cell[end:] if number % 2 == 0 else cells[index]
        started = time.perf_counter()
        analyze_cells(current, str(path), settings, analyzer)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95)], blocks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--edits", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    cells = cells_of(SOURCE.read_text())
    print(f"{SOURCE.name} as a notebook: {len(cells)} cells, {sum(map(len, cells)):,} chars")
    on = Settings()
    off = replace(on, provenance=replace(on.provenance, enabled=False))
    with tempfile.TemporaryDirectory() as folder:
        human = repository(Path(folder) / "human", cells, "Add the notebook")
        ai = repository(Path(folder) / "ai", cells, CLAUDE)
        cases = [("provenance off", human, off), ("on, a person's history", human, on),
                 ("on, every cell AI-written", ai, on)]  # fmt: skip
        base = None
        for name, path, settings in cases:
            p50, p95, blocks = per_edit(path, cells, settings, args.edits, args.seed)
            base = base or p50
            print(f"{name:28} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  CS-P001 {blocks:3}  "
                  f"p50 x{p50 / base:.2f} of off")  # fmt: skip


if __name__ == "__main__":
    main()
