"""The editor's performance family, statement by statement, must equal the whole-file engine's:
edits inside loops and async functions, edits of the imports that resolve their calls, and
random edits of real modules."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
from random_edits import random_edits

from clearsight.engine import analyze
from clearsight.incremental import IncrementalAnalyzer
from clearsight.model import Family, Finding
from clearsight.performance.document import PerformanceDocument
from clearsight.settings import Settings

STDLIB = Path(os.__file__).parent

SERVICE = textwrap.dedent(
    """
    \"\"\"A small async service.\"\"\"
    import time

    import requests

    session = requests.Session()


    async def poll(url):
        time.sleep(1)
        return session.get(url)


    def unique(rows):
        seen = []
        for row in rows:
            if row not in seen:
                seen.append(row)
        return seen


    class Worker:
        async def run(self, url):
            data = requests.get(url)
            return data

        def order(self, items):
            out = []
            for item in items:
                out.insert(0, item)
            return out
    """
).lstrip()


def normal(findings: list[Finding]) -> list[str]:
    return sorted(repr(sorted(f.to_dict().items())) for f in findings)


def check(analyzer: IncrementalAnalyzer, text: str) -> list[Finding]:
    _, incremental = analyzer.analyze(text, Settings())
    whole = analyze(text, analyzer.path, Settings())
    assert normal(incremental) == normal(whole)
    return incremental


def performance(findings: list[Finding]) -> list[tuple[str, int]]:
    return [(f.code, f.line + 1) for f in findings if f.family is Family.PERFORMANCE]


def document(analyzer: IncrementalAnalyzer) -> PerformanceDocument:
    found = analyzer._documents[Family.PERFORMANCE]
    assert isinstance(found, PerformanceDocument)
    return found


def test_the_service_s_findings_are_found_in_the_editor_as_by_the_engine() -> None:
    analyzer = IncrementalAnalyzer("service.py")
    assert performance(check(analyzer, SERVICE)) == [
        ("CS-T001", 10), ("CS-T001", 11), ("CS-T022", 17), ("CS-T001", 24), ("CS-T020", 30)
    ]  # fmt: skip


def test_an_edit_inside_a_loop_updates_its_finding_and_reruns_that_statement_only() -> None:
    analyzer = IncrementalAnalyzer("service.py")
    check(analyzer, SERVICE)
    as_set = SERVICE.replace("    seen = []\n", "    seen = set()\n").replace(
        "seen.append(row)", "seen.add(row)"
    )
    assert ("CS-T022", 17) not in performance(check(analyzer, as_set))
    assert document(analyzer).statements_run == 1
    assert ("CS-T022", 17) in performance(check(analyzer, SERVICE))


def test_typing_the_growth_into_a_loop_character_by_character() -> None:
    analyzer = IncrementalAnalyzer("service.py")
    without = SERVICE.replace("            seen.append(row)\n", "            pass\n")
    assert ("CS-T022", 17) not in performance(check(analyzer, without))
    typed = "seen.append(row)"
    for end in range(1, len(typed) + 1):
        text = without.replace("            pass\n", f"            {typed[:end]}\n")
        found = performance(check(analyzer, text))
    assert ("CS-T022", 17) in found


def test_an_import_edit_re_resolves_the_statements_that_read_the_name() -> None:
    analyzer = IncrementalAnalyzer("service.py")
    check(analyzer, SERVICE)
    renamed = SERVICE.replace("import time\n", "import mytime as time\n")
    found = performance(check(analyzer, renamed))
    assert ("CS-T001", 10) not in found and ("CS-T001", 11) in found
    # The edited import and `poll`, which reads `time`; the others keep their results.
    assert document(analyzer).statements_run == 2
    found = performance(check(analyzer, SERVICE))
    assert ("CS-T001", 10) in found


def test_the_sleep_fix_follows_the_event_loop_imports_in_the_editor() -> None:
    analyzer = IncrementalAnalyzer("service.py")
    (sleep,) = [f for f in check(analyzer, SERVICE) if f.line == 9 and f.code == "CS-T001"]
    assert not sleep.fixes[0].safe  # no event loop imported: adds `import asyncio`
    with_trio = SERVICE.replace("import time\n", "import time\nimport trio\n")
    (sleep,) = [f for f in check(analyzer, with_trio) if f.line == 10 and f.code == "CS-T001"]
    assert sleep.fixes[0].safe
    assert sleep.fixes[0].edits[-1].new_text == "await trio.sleep"


PERFORMANCE_SNIPPETS = [
    "        seen.append(item)\n",
    "        if item in seen:\n            pass\n",
    "    for item in items:\n        queue.pop(0)\n",
    "    time.sleep(1)\n",
    "import time\n",
    "async def later():\n    time.sleep(2)\n",
    "    x = (\n",
    "    # clearsight: ignore\n",
]


def _random_edits(text: str, count: int, seed: int) -> list[str]:
    return random_edits(text, count, seed, PERFORMANCE_SNIPPETS)


@pytest.mark.parametrize("seed", range(4))
def test_random_edits_of_the_service_match_the_whole_file_engine(seed: int) -> None:
    analyzer = IncrementalAnalyzer("service.py")
    check(analyzer, SERVICE)
    for version in _random_edits(SERVICE, 40, seed):
        check(analyzer, version)


@pytest.mark.parametrize("name", ["asyncio/base_events.py", "typing.py", "email/message.py"])
def test_random_edits_of_standard_library_modules_match_the_whole_file_engine(name: str) -> None:
    path = STDLIB / name
    text = path.read_text(encoding="utf-8")
    analyzer = IncrementalAnalyzer(str(path))
    check(analyzer, text)
    for version in _random_edits(text, 12, seed=len(name)):
        check(analyzer, version)
