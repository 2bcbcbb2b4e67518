#!/usr/bin/env python3
"""The differential campaign: the editor's incremental analysis against the whole-file
engine, after every one of many random edits of real code.

Each round takes a standard-library module, seeded, and edits it as a user would: characters
typed and deleted, lines duplicated, removed and moved, snippets pasted (imports, `# nosec`,
`# clearsight: ignore`, nested blocks, flows from a request to a sink, half-typed code,
unbalanced brackets and quotes), indented as the line they land on. After every edit,
`IncrementalAnalyzer.analyze` (one per round, kept across its edits, as an open document's)
must give exactly `engine.analyze`'s findings on the whole text: every family, every field.

A mismatch prints how to replay it (`--seed S --round R --edit E`) and the findings that
differ.

    python tests/edit_campaign.py --edits 10000 [--seed S] [--edits-per-round 40]
    python tests/edit_campaign.py --seed S --round R --edit E   # replay one case

`tests/test_edit_campaign.py` runs a 500-edit sample in CI with a new seed each time, printed.
"""

from __future__ import annotations

import argparse
import ast
import os
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from random_edits import random_edit

from clearsight.engine import analyze
from clearsight.incremental import IncrementalAnalyzer
from clearsight.model import Finding
from clearsight.settings import Settings

STDLIB = Path(os.__file__).parent
# Modules of a size an edit is checked in well under a second (both analyses).
MAX_LINES = 700

SNIPPETS = (
    "import os\n",
    "import subprocess\n",
    "from subprocess import call\n",
    "import yaml\n",
    "import requests\n",
    "x = eval(input())  # nosec\n",
    "# nosec\n",
    "subprocess.call(cmd, shell=True)  # nosec B602\n",
    "eval(x)  # clearsight: ignore[B307]\n",
    "y = 1  # clearsight: ignore\n",
    "assert x  # clearsight: ignore[B101,CS-E004]\n",
    "if x:\n    for i in y:\n        while z:\n            pass\n",
    "def g(a):\n    return eval(a)\n",
    "class K:\n    def m(self, q):\n        os.system(q)\n",
    "from flask import request\nq = request.args['q']\nos.system(q)\n",
    "async def h():\n    time.sleep(1)\n",
    "for row in rows:\n    cursor.execute('SELECT 1')\n",
    "def f(\n",
    "class C:\n",
    "x = [1, 2\n",
    'print("abc\n',
    "s = '''\n",
    ")\n",
    "]]\n",
    '"\n',
    "\t\tmixed = 1\n",
    "s = 'abc\u202edef'\n",  # a trojan-source character (B613, a file-level test)
    "import pickle  # nosec B403\n",
)


def modules(limit: int = MAX_LINES) -> list[Path]:
    """Standard-library modules of at most `limit` lines, in a fixed order."""
    found = []
    for path in sorted(STDLIB.glob("*.py")):
        try:
            lines = path.read_text(encoding="utf-8").count("\n")
        except (OSError, UnicodeDecodeError):
            continue
        if 50 <= lines <= limit:
            found.append(path)
    return found


def edited(text: str, rng: random.Random) -> str:
    """`text` after one random edit."""
    lines = text.splitlines(keepends=True) or ["\n"]
    random_edit(lines, rng, SNIPPETS, "ab_'\"()[]:#\\ ", actions=8, indent_snippets=True)
    return "".join(lines)


def _parses(text: str) -> bool:
    try:
        ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _normal(findings: list[Finding]) -> list[str]:
    return sorted(repr(sorted(f.to_dict().items())) for f in findings)


@dataclass
class Mismatch:
    seed: int
    round: int
    edit: int
    module: str
    only_incremental: list[str]
    only_whole: list[str]


@dataclass
class Report:
    seed: int
    edits: int = 0
    rounds: int = 0
    parsed: int = 0  # edited versions that parse
    mismatches: list[Mismatch] = field(default_factory=list)
    seconds: float = 0.0


def _round_seed(seed: int, number: int) -> int:
    return seed * 1_000_003 + number


def rounds(seed: int, per_round: int) -> Iterator[tuple[int, Path, list[str]]]:
    """(round number, module, its successive versions), endlessly, all from `seed`."""
    candidates = modules()
    number = 0
    while True:
        rng = random.Random(_round_seed(seed, number))
        module = rng.choice(candidates)
        text = last_good = module.read_text(encoding="utf-8")
        versions = []
        for _ in range(per_round):
            text = edited(text, rng)
            versions.append(text)
            if _parses(text):
                last_good = text
            elif rng.random() < 0.7:
                text = last_good  # the user finishes what they were typing, or undoes it
        yield number, module, versions
        number += 1


def _check_round(
    seed: int, number: int, module: Path, versions: list[str], report: Report, stop: bool
) -> None:
    settings = Settings()
    path = f"/tmp/clearsight-campaign/{module.name}"  # no project around it
    analyzer = IncrementalAnalyzer(path)
    analyzer.analyze(module.read_text(encoding="utf-8"), settings)
    report.rounds += 1
    for index, text in enumerate(versions):
        report.edits += 1
        _, incremental = analyzer.analyze(text, settings)
        whole = analyze(text, path, settings)
        report.parsed += analyzer.parsed
        mine, theirs = _normal(incremental), _normal(whole)
        if mine != theirs:
            report.mismatches.append(Mismatch(
                seed, number, index, module.name,
                sorted(set(mine) - set(theirs)), sorted(set(theirs) - set(mine)),
            ))  # fmt: skip
            if stop:
                return


def run(edits: int, seed: int, per_round: int = 40, stop_at_first: bool = False) -> Report:
    report = Report(seed)
    started = time.perf_counter()
    for number, module, versions in rounds(seed, per_round):
        if report.edits >= edits or (stop_at_first and report.mismatches):
            break
        _check_round(seed, number, module, versions[: edits - report.edits], report, stop_at_first)
    report.seconds = time.perf_counter() - started
    return report


def replay(seed: int, round_number: int, edit: int, per_round: int = 40) -> Report:
    """The round of a reported mismatch again, up to its edit: the same analyzer history."""
    report = Report(seed)
    for number, module, versions in rounds(seed, per_round):
        if number == round_number:
            _check_round(seed, number, module, versions[: edit + 1], report, stop=False)
            return report
    raise AssertionError("unreachable")


def describe(report: Report) -> str:
    lines = [
        f"seed {report.seed}: {report.edits:,} edits in {report.rounds} rounds "
        f"({report.parsed:,} of the edited versions parse), {len(report.mismatches)} "
        f"mismatches, {report.seconds:.0f} s"
    ]
    for mismatch in report.mismatches[:10]:
        lines.append(
            f"  mismatch: {mismatch.module}, replay with --seed {mismatch.seed} --round "
            f"{mismatch.round} --edit {mismatch.edit}"
        )
        lines += [f"    only incremental: {item[:300]}" for item in mismatch.only_incremental[:3]]
        lines += [f"    only whole file:  {item[:300]}" for item in mismatch.only_whole[:3]]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--edits", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--edits-per-round", type=int, default=40)
    parser.add_argument("--round", type=int, help="replay: the round of a mismatch")
    parser.add_argument("--edit", type=int, help="replay: the edit of a mismatch")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(10**9)
    if args.round is not None and args.edit is not None:
        report = replay(seed, args.round, args.edit, args.edits_per_round)
    else:
        report = run(args.edits, seed, args.edits_per_round)
    print(describe(report))
    return 1 if report.mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
