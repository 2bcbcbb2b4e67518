"""Performance rules: what each pattern costs against its fix, and the noise on real code.

Part 1 times each pattern the performance family reports against the fix its message
suggests, at growing sizes, and prints the ratio (best of a few runs, `time.perf_counter`):
- CS-T001: n tasks that each wait 1 ms with `time.sleep` (blocking) or `await asyncio.sleep`,
  gathered on one event loop;
- CS-T010: one SQLite query per row (in memory, so without the network's round trip) against
  one query for all of them;
- CS-T020: a list drained with `pop(0)` (or built with `insert(0, x)`) against a
  `collections.deque`;
- CS-T021: `sum(lists, [])` against `list(itertools.chain.from_iterable(lists))`;
- CS-T022: de-duplicating with `x not in seen` on a list against a set;
- CS-T023: keeping a list sorted by sorting after each append against `bisect.insort`;
- CS-T024: matching orders to customers with nested loops against a dict built once.
Sizes are 100, 10,000 and 1,000,000 where a quadratic pattern finishes in seconds; where it
does not, the largest size is smaller and says so.

Part 2 runs the family over code nobody here wrote: the sdists of Django, Flask, httpx,
requests and rich, of aiohttp, Starlette and FastAPI (async code), of django-oscar and Wagtail
(Django applications), pip-downloaded into benchmarks/.cache, and the running Python's
standard library. It lists every warning, and the rate per rule per 10,000 lines.

    python benchmarks/bench_performance_rules.py [--workers 2] [--skip-real-code] [--quick]

Targets (issue 11): no default-on rule above 1 warning per 5,000 lines of library code (2 per
10,000).
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import collections
import functools
import itertools
import os
import random
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from corpus import fetch_sdists, python_files, scan_corpus

from clearsight.checks.performance import PerformanceCheck
from clearsight.engine import analyze
from clearsight.model import Family, Severity
from clearsight.settings import Settings
from clearsight.source import SourceText

SDISTS = (
    "django==6.1.3", "flask==3.1.3", "httpx==0.28.1", "requests==2.34.2", "rich==15.0.0",
    "aiohttp==3.14.5", "starlette==1.10.0", "fastapi==0.163.2", "django-oscar==4.2.1",
    "wagtail==8.0.1", "flask-appbuilder==5.3.0", "mlflow-skinny==3.17.2",
)  # fmt: skip
CHECKS = (PerformanceCheck(),)


def best(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


# -- part 1: patterns against their fixes ----------------------------------------------------


def tasks_sleeping(n: int, blocking: bool) -> None:
    async def task() -> None:
        if blocking:
            time.sleep(0.001)
        else:
            await asyncio.sleep(0.001)

    async def main() -> None:
        await asyncio.gather(*(task() for _ in range(n)))

    asyncio.run(main())


def sqlite_table(n: int) -> sqlite3.Connection:
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, value TEXT)")
    connection.executemany("INSERT INTO items VALUES (?, ?)", ((i, str(i)) for i in range(n)))
    return connection


def query_per_item(connection: sqlite3.Connection) -> None:
    cursor = connection.cursor()
    (count,) = cursor.execute("SELECT count(*) FROM items").fetchone()
    for i in range(count):
        cursor.execute("SELECT value FROM items WHERE id = ?", (i,)).fetchone()


def one_query(connection: sqlite3.Connection) -> None:
    cursor = connection.cursor()
    (count,) = cursor.execute("SELECT count(*) FROM items").fetchone()
    values = dict(cursor.execute("SELECT id, value FROM items"))
    for i in range(count):
        values[i]


def drain_list(n: int) -> None:
    queue = list(range(n))
    while queue:
        queue.pop(0)


def drain_deque(n: int) -> None:
    queue = collections.deque(range(n))
    while queue:
        queue.popleft()


def build_front_list(n: int) -> None:
    built: list[int] = []
    for i in range(n):
        built.insert(0, i)


def build_front_deque(n: int) -> None:
    built: collections.deque[int] = collections.deque()
    for i in range(n):
        built.appendleft(i)


def lists_of(n: int) -> list[list[int]]:
    return [[i] * 10 for i in range(n // 10 or 1)]


def sum_lists(parts: list[list[int]]) -> None:
    sum(parts, [])  # noqa: RUF017 - the pattern being measured


def chain_lists(parts: list[list[int]]) -> None:
    list(itertools.chain.from_iterable(parts))


def dedupe_list(items: range) -> None:
    seen: list[int] = []
    for item in items:
        if item not in seen:
            seen.append(item)


def dedupe_set(items: range) -> None:
    seen: set[int] = set()
    order = []
    for item in items:
        if item not in seen:
            seen.add(item)
            order.append(item)


def sort_after_each(items: list[int]) -> None:
    kept: list[int] = []
    for item in items:
        kept.append(item)
        kept.sort()


def insort_each(items: list[int]) -> None:
    kept: list[int] = []
    for item in items:
        bisect.insort(kept, item)


def shuffled(n: int) -> list[int]:
    return random.Random(n).sample(range(n), n)


def orders_and_customers(n: int) -> tuple[list[tuple[int, int]], list[tuple[int, str]]]:
    customers = [(i, f"c{i}") for i in range(n)]
    orders = [(i, (i * 7) % n) for i in range(n)]
    return orders, customers


def nested_join(data: tuple[list[tuple[int, int]], list[tuple[int, str]]]) -> None:
    orders, customers = data
    for _, customer_id in orders:
        for customer in customers:
            if customer[0] == customer_id:
                break


def dict_join(data: tuple[list[tuple[int, int]], list[tuple[int, str]]]) -> None:
    orders, customers = data
    by_id = {customer[0]: customer for customer in customers}
    for _, customer_id in orders:
        by_id.get(customer_id)


# (rule, what, sizes, pattern, fix, how an input of size n is made)
CASES: list[tuple[str, str, tuple[int, ...], Callable, Callable, Callable]] = [
    ("CS-T001", "n tasks waiting 1 ms: time.sleep vs await asyncio.sleep", (10, 100, 1_000),
     lambda n: tasks_sleeping(n, True), lambda n: tasks_sleeping(n, False), lambda n: n),
    ("CS-T010", "n rows, in-memory SQLite: a query per row vs one query", (100, 10_000, 1_000_000),
     query_per_item, one_query, sqlite_table),
    ("CS-T020", "drain n items: list.pop(0) vs deque.popleft()", (100, 10_000, 200_000),
     drain_list, drain_deque, lambda n: n),
    ("CS-T020", "build n items at the front: list.insert(0, x) vs deque.appendleft(x)",
     (100, 10_000, 200_000), build_front_list, build_front_deque, lambda n: n),
    ("CS-T021", "n items in lists of 10: sum(lists, []) vs chain.from_iterable",
     (100, 10_000, 200_000), sum_lists, chain_lists, lists_of),
    ("CS-T022", "dedupe n distinct items: x not in list vs x not in set", (100, 10_000, 50_000),
     dedupe_list, dedupe_set, lambda n: range(n)),
    ("CS-T023", "keep n shuffled items sorted: append + sort vs bisect.insort",
     (100, 10_000, 50_000), sort_after_each, insort_each, shuffled),
    ("CS-T024", "match n orders to n customers: nested loops vs a dict", (100, 10_000, 20_000),
     nested_join, dict_join, orders_and_customers),
]  # fmt: skip


def costs(quick: bool) -> None:
    print("pattern against its fix (best of 3; the largest sizes once):")
    print(f"  {'rule':8} {'n':>9} {'pattern':>11} {'fix':>11} {'ratio':>9}")
    for rule, what, sizes, pattern, fix, make in CASES:
        print(f"  {rule}: {what}")
        for n in sizes[:2] if quick else sizes:
            data = make(n)
            repeat = 3 if n <= 10_000 else 1
            slow = best(functools.partial(pattern, data), repeat)
            fast = best(functools.partial(fix, data), repeat)
            print(
                f"  {'':8} {n:>9,} {slow * 1000:>9.2f}ms {fast * 1000:>9.2f}ms {slow / fast:>8.1f}x"
            )
    print()


# -- part 2: real code ----------------------------------------------------------------------


def scan_file(path: str) -> tuple[int, list[str], Counter[str]]:
    source = SourceText.from_bytes(Path(path).read_bytes(), path)
    findings = analyze(source, path, Settings(), checks=CHECKS)
    ours = [f for f in findings if f.family is Family.PERFORMANCE]
    loud = [
        f"{path}:{f.line + 1}: {f.code} [{f.severity.label}] {f.message}"
        for f in ours
        if f.severity <= Severity.WARNING
    ]
    counts = Counter(f"{f.code} {f.severity.label}" for f in ours)
    failed = [f"{path}: {f.code} {f.message}" for f in findings if f.code == "CS-E003"]
    return len(source.lines), loud + failed, counts


def real_code(workers: int) -> bool:
    roots = [*fetch_sdists(SDISTS), Path(os.__file__).parent]
    scan = scan_corpus(python_files(roots), scan_file, workers)
    lines, listed, counts = scan.lines, scan.listed, scan.counts
    print(f"real code: {', '.join(r.name for r in roots)}")
    print(f"  {scan.files} files, {lines:,} lines, {scan.seconds:.0f} s")
    print(
        "  findings by code and severity: "
        + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    )
    for line in listed:
        print("  " + line)
    passed = not any("CS-E003" in line for line in listed)
    for rule in sorted({key.split()[0] for key in counts}):
        warnings = sum(v for k, v in counts.items() if k.startswith(rule) and "info" not in k)
        rate = warnings / lines * 10_000
        ok = rate <= 2.0
        passed = passed and ok
        verdict = "PASS" if ok else "FAIL"
        print(f"  {rule}: {warnings} warnings, {rate:.2f} per 10,000 lines (<= 2): {verdict}")
    return passed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--skip-real-code", action="store_true")
    parser.add_argument("--quick", action="store_true", help="only the two smaller sizes")
    options = parser.parse_args()
    print(f"python {sys.version.split()[0]}; {options.workers} workers\n")
    costs(options.quick)
    if options.skip_real_code:
        return 0
    return 0 if real_code(options.workers) else 1


if __name__ == "__main__":
    sys.exit(main())
