"""The performance family: blocking calls in async code (CS-T001) and quadratic work in loops
(CS-T020-T022), with the look-alikes that must stay quiet."""

from __future__ import annotations

import ast
import textwrap

import pytest

from clearsight.checks.performance import PerformanceCheck
from clearsight.engine import analyze
from clearsight.fixes import apply_edits
from clearsight.model import Family, Finding, Severity
from clearsight.settings import Settings, settings_from_tables
from clearsight.source import SourceText

CHECKS = (PerformanceCheck(),)


def found(code: str, path: str = "app.py", settings: Settings | None = None) -> list[Finding]:
    text = textwrap.dedent(code).lstrip()
    source = SourceText(text, path=path)
    findings = analyze(source, path, settings or Settings(), checks=CHECKS)
    assert not [f for f in findings if f.family is Family.ENGINE], findings
    return [f for f in findings if f.family is Family.PERFORMANCE]


def where(code: str, path: str = "app.py") -> list[tuple[str, int]]:
    """(code, 1-based line) of each finding."""
    return [(f.code, f.line + 1) for f in found(code, path)]


# -- CS-T001: blocking calls in async def ---------------------------------------------------


@pytest.mark.parametrize(
    "imports, call",
    [
        ("import time", "time.sleep(1)"),
        ("from time import sleep", "sleep(0.5)"),
        ("import requests", "requests.get(url)"),
        ("import requests", "requests.api.post(url, json={})"),
        ("import httpx", "httpx.get(url)"),
        ("import urllib.request", "urllib.request.urlopen(url)"),
        ("from urllib.request import urlopen as fetch", "fetch(url)"),
        ("import urllib3", "urllib3.request('GET', url)"),
        ("import subprocess", "subprocess.run(['ls'])"),
        ("import subprocess as sp", "sp.check_output(['ls'])"),
        ("import os", "os.system('ls')"),
        ("import os", "open(url)"),
        ("import os", "input('name? ')"),
        ("from pathlib import Path", "Path(url).read_text()"),
        ("import pathlib", "(pathlib.Path.home() / url).write_bytes(b'')"),
        ("import socket", "socket.create_connection((url, 80)).recv(10)"),
        ("import shutil", "shutil.copyfile(url, 'b')"),
    ],
)
def test_a_blocking_call_in_async_def_is_reported(imports: str, call: str) -> None:
    code = f"{imports}\n\nasync def handle(url):\n    return {call}\n"
    findings = found(code)
    assert findings
    for finding in findings:
        assert (finding.code, finding.line, finding.severity) == ("CS-T001", 3, Severity.WARNING)
        assert "async def handle" in finding.message and "Use " in finding.message


def test_instances_are_followed_through_bindings_and_annotations() -> None:
    code = """
        import httpx
        import requests
        import socket

        session = requests.Session()


        async def fetch(url, client: httpx.Client, other: httpx.AsyncClient):
            session.get(url)
            client.post(url)
            await other.get(url)
            with requests.Session() as s:
                s.put(url)
            conn = socket.socket()
            conn.connect((url, 80))
            conn.sendall(b"x")
    """
    assert where(code) == [
        ("CS-T001", 9), ("CS-T001", 10), ("CS-T001", 13), ("CS-T001", 15), ("CS-T001", 16)
    ]  # fmt: skip


def test_calls_run_elsewhere_or_through_unknown_names_are_quiet() -> None:
    code = """
        import asyncio
        import functools
        import time
        import aiofiles
        import requests
        from concurrent.futures import ThreadPoolExecutor

        async def fine(url, loop, thing):
            await asyncio.sleep(1)
            await asyncio.to_thread(time.sleep, 1)
            await asyncio.to_thread(requests.get, url)
            await loop.run_in_executor(None, functools.partial(requests.get, url))
            await loop.run_in_executor(None, lambda: requests.get(url))

            def in_a_thread():
                return open(url).read()

            await asyncio.to_thread(in_a_thread)
            async with aiofiles.open(url) as f:
                await f.read()
            thing.get(url)
            with ThreadPoolExecutor() as pool:
                pool.submit(requests.get, url)

        def not_async(url):
            time.sleep(1)
            return requests.get(url)
    """
    assert where(code) == []


def test_shadowed_and_star_imported_names_are_not_the_builtins() -> None:
    code = """
        from os import *
        from mylib import sleep


        async def a(path):
            sleep(1)
            return open(path)
    """
    assert where(code) == []
    code = """
        def open(path):
            return path


        async def b(path, input):
            input("x")
            return open(path)
    """
    assert where(code) == []


def test_a_name_bound_two_ways_is_unknown() -> None:
    code = """
        import httpx
        import requests

        try:
            client = requests.Session()
        except Exception:
            client = httpx.AsyncClient()


        async def fetch(url):
            return client.get(url)
    """
    assert where(code) == []


def test_a_nested_async_def_is_checked_on_its_own() -> None:
    code = """
        import time


        def outer():
            async def inner():
                time.sleep(1)
            return inner


        class Service:
            async def run(self):
                time.sleep(2)
    """
    assert where(code) == [("CS-T001", 6), ("CS-T001", 12)]


def _fixed(code: str) -> tuple[str, list[Finding]]:
    text = textwrap.dedent(code).lstrip()
    findings = found(text)
    fixes = [fix for f in findings for fix in f.fixes]
    assert len(fixes) == 1
    new_text, _ = apply_edits(text, fixes[0].edits)
    return new_text, findings


def test_time_sleep_becomes_await_asyncio_sleep() -> None:
    fixed, findings = _fixed(
        """
        import asyncio
        import time


        async def poll():
            time.sleep(0.1)
        """
    )
    assert findings[0].fixes[0].safe
    assert "    await asyncio.sleep(0.1)\n" in fixed
    assert where(fixed) == []
    ast.parse(fixed)


def test_the_fix_uses_the_event_loop_the_module_imports() -> None:
    fixed, findings = _fixed(
        """
        \"\"\"A trio program.\"\"\"
        from time import sleep

        import trio as t


        async def poll():
            sleep(1)
        """
    )
    assert findings[0].fixes[0].safe
    assert "    await t.sleep(1)\n" in fixed


def test_without_an_event_loop_import_the_fix_adds_asyncio_and_is_not_safe() -> None:
    fixed, findings = _fixed(
        """
        \"\"\"Doc.\"\"\"
        from __future__ import annotations

        import time


        async def poll():
            time.sleep(1)
        """
    )
    assert not findings[0].fixes[0].safe
    assert fixed.splitlines()[2:5] == ["", "import asyncio", "import time"]
    assert "    await asyncio.sleep(1)" in fixed
    assert where(fixed) == []


def test_no_fix_where_the_event_loop_is_ambiguous_or_the_call_is_a_value() -> None:
    code = """
        import asyncio
        import time
        import trio


        async def poll():
            time.sleep(1)
    """
    assert [f.fixes for f in found(code)] == [()]
    code = """
        import asyncio
        import time


        async def poll():
            return time.sleep(1)
    """
    assert [f.fixes for f in found(code)] == [()]


def test_test_files_get_information_and_ai_code_is_louder() -> None:
    code = "import time\n\nasync def test_it():\n    time.sleep(1)\n"
    (finding,) = found(code, path="tests/test_app.py")
    assert finding.severity is Severity.INFO


def test_the_family_can_be_switched_off() -> None:
    settings = settings_from_tables({"performance": {"enabled": False}})
    assert not settings.problems
    code = "import time\n\nasync def f():\n    time.sleep(1)\n"
    assert found(code, settings=settings) == []


# -- CS-T020: the front of a list in a loop ------------------------------------------------


def test_a_list_used_as_a_queue_is_reported() -> None:
    code = """
        def walk(start, edges):
            queue = [start]
            order = []
            while queue:
                node = queue.pop(0)
                order.insert(0, node)
                queue.extend(edges[node])
            return order
    """
    assert where(code) == [("CS-T020", 5), ("CS-T020", 6)]


def test_a_queue_bound_with_others_in_one_assignment_is_a_list_too() -> None:
    """`queue, seen = [start], {start}`: each name gets its own element's binding (a
    breadth-first search as assistants write it); a swap binds nothing it could mistake."""
    code = """
        def reachable(graph, start):
            queue, seen = [start], {start}
            while queue:
                node = queue.pop(0)
                for nxt in graph[node]:
                    if nxt not in seen:
                        seen.add(nxt)
                        queue.append(nxt)
            a, b = queue, seen
            a, b = b, a
            return seen
    """
    assert where(code) == [("CS-T020", 4)]


def test_pop_front_without_growth_or_on_a_deque_is_quiet() -> None:
    code = """
        import collections

        def drain(items, other):
            args = list(items)
            while args:
                first = args.pop(0)
            queue = collections.deque([1])
            while queue:
                queue.popleft()
                queue.append(2)
            while other:
                other.pop(0)
                other.append(1)
            front = []
            front.insert(0, 1)
            last = [1, 2]
            for x in items:
                last.pop()
                last.append(x)
    """
    assert where(code) == []


# -- CS-T021: sum of lists ---------------------------------------------------------------


def test_sum_of_lists_is_reported_and_a_fixed_handful_is_not() -> None:
    code = """
        def flatten(parts):
            everything = sum(parts, [])
            pairs = sum((list(p) for p in parts), start=())
            two = sum([[1], [2]], [])
            total = sum(parts)
            return everything, pairs, two, total
    """
    assert where(code) == [("CS-T021", 2), ("CS-T021", 3)]


def test_a_sum_that_is_not_the_builtin_is_quiet() -> None:
    code = """
        from numpy import sum

        def flatten(parts):
            return sum(parts, [])
    """
    assert where(code) == []


# -- CS-T022: a list searched in a loop that grows it --------------------------------------


def test_dedup_with_a_list_is_reported() -> None:
    code = """
        def unique(items):
            seen = []
            for item in items:
                if item not in seen:
                    seen.append(item)
            return seen


        def positions(items):
            ids = [item.id for item in items]
            for item in items:
                print(ids.index(item.parent_id))
    """
    assert where(code) == [("CS-T022", 4), ("CS-T022", 12)]


def test_searches_in_fixed_lists_sets_and_unknowns_are_quiet() -> None:
    code = """
        def fine(items, given):
            seen = set()
            options = ["a", "b"]
            order = []
            for item in items:
                if item in seen or item in options or item in ("x", "y"):
                    continue
                if item in given:
                    given.append(item)
                seen.add(item)
                order.append(item)
            for item in order:
                if item in order:
                    pass
            return order


        def grown_elsewhere(items):
            found = []
            for item in items:
                found.append(item)
            for item in items:
                if item in found:
                    return True
    """
    assert where(code) == [("CS-T022", 13)]


def test_a_list_bound_otherwise_somewhere_in_the_function_is_not_a_list() -> None:
    code = """
        def maybe(items, make):
            seen = []
            if make:
                seen = make()
            for item in items:
                if item not in seen:
                    seen.append(item)
    """
    assert where(code) == []


def test_module_level_loops_and_closures_are_left_out() -> None:
    code = """
        seen = []
        for item in range(10):
            if item not in seen:
                seen.append(item)


        def outer(items):
            found = []

            def inner():
                for item in items:
                    if item not in found:
                        found.append(item)

            return inner
    """
    assert where(code) == []


def test_every_rule_has_a_docs_section_with_its_cost() -> None:
    from pathlib import Path

    rules = (Path(__file__).parent.parent / "docs" / "rules.md").read_text(encoding="utf-8")
    section = rules[rules.index("## Performance") :]
    for rule in PerformanceCheck().rules():
        assert f"### {rule.code}" in section
        block = section[section.index(f"### {rule.code}") :][:3000]
        assert "bench_performance_rules.py" in block or "Measured" in block


def test_loops_of_a_fixed_size_and_lists_started_afresh_each_pass_are_quiet() -> None:
    code = """
        def digits(x, groups):
            data = []
            for i in range(4):
                data.insert(0, x % 256)
            for name in ("a", "b", "c"):
                if name not in data:
                    data.append(name)
            for group in groups:
                chosen = []
                for item in group:
                    chosen.append(item)
                kept = [item for item in group if item not in chosen]
            return data, kept
    """
    assert where(code) == []


# -- CS-T023, CS-T024: work repeated on every pass -----------------------------------------


def test_sorting_the_same_list_on_every_pass_is_reported() -> None:
    code = """
        def ranks(items, scores):
            board = list(scores)
            for item in items:
                best = sorted(board)[-1]
                print(item, best)
            queue = []
            for item in items:
                queue.append(item)
                queue.sort()
            return queue
    """
    assert where(code) == [("CS-T023", 4), ("CS-T023", 9)]


def test_sorting_a_list_made_or_used_otherwise_on_each_pass_is_quiet() -> None:
    code = """
        def fine(groups, extra):
            for group in groups:
                members = list(group)
                members.sort()
            board = []
            for group in groups:
                rescore(board)
                print(sorted(board))
            for _ in range(3):
                print(sorted(board))
            for group in groups:
                print(sorted(extra))
            return sorted(board)
    """
    assert where(code) == []


def test_a_nested_loop_that_joins_on_equality_is_reported() -> None:
    code = """
        def attach(orders, customers):
            for order in orders:
                for customer in customers:
                    if customer.id == order.customer_id:
                        order.customer = customer
    """
    (finding,) = found(code)
    assert (finding.code, finding.line + 1) == ("CS-T024", 3)
    assert "{customer.id: customer for customer in customers}" in finding.message


def test_nested_loops_that_are_not_a_join_are_quiet() -> None:
    code = """
        def fine(orders, customers, grid):
            for order in orders:
                for line in order.lines:
                    if line.sku == order.sku:
                        pass
            for order in orders:
                for customer in customers:
                    if customer.score > order.score:
                        pass
                for customer in customers:
                    print(customer)
            for row in grid:
                for cell in (1, 2):
                    if cell == row.kind:
                        print(cell)
            for offer in orders:
                for other in customers:
                    if offer.id == other.id:
                        continue
                    print(offer, other)
            for offer in orders:
                for other in orders:
                    if offer.id == other.parent_id:
                        print(offer, other)
    """
    assert where(code) == []
