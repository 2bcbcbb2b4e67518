"""The performance family's rules and what they report: plain data, no analysis."""

from __future__ import annotations

import ast
from dataclasses import dataclass, replace

# (line, column, end line, end column): ast's 1-based lines and UTF-8 byte columns, in the
# numbering of the text the statement was parsed from.
Where = tuple[int, int, int, int]


def moved(where: Where, lines: int) -> Where:
    return (where[0] + lines, where[1], where[2] + lines, where[3])


def where_of(node: ast.AST) -> Where:
    return (
        node.lineno,  # type: ignore[attr-defined]
        node.col_offset,  # type: ignore[attr-defined]
        node.end_lineno or node.lineno,  # type: ignore[attr-defined]
        node.end_col_offset or 0,  # type: ignore[attr-defined]
    )


@dataclass(frozen=True)
class PerformanceRule:
    code: str
    name: str
    summary: str
    help: str


BLOCKING_IN_ASYNC = PerformanceRule(
    "CS-T001",
    "blocking-call-in-async",
    "A blocking call inside `async def` stops the event loop",
    "While a blocking call runs, the event loop cannot switch tasks: every other request, "
    "connection and timer of the process waits for it. Use the library's async API, or run "
    "the call in a thread with `await asyncio.to_thread(...)`.",
)
QUERY_IN_LOOP = PerformanceRule(
    "CS-T010",
    "query-in-loop",
    "A database query on every pass of a loop (N+1 queries)",
    "Each query is a round trip to the database, so a loop that runs one per item costs as "
    "many round trips as there are items: fast on ten rows, slow on a production table. "
    "Fetch what the loop needs in one query before it (`filter(pk__in=...)`, `in_bulk`, "
    "`WHERE id IN (...)`), follow relations with `select_related`/`prefetch_related` "
    "(Django) or `selectinload`/`joinedload` (SQLAlchemy), and write rows with "
    "`executemany`/`bulk_create`.",
)
RELATION_IN_LOOP = PerformanceRule(
    "CS-T011",
    "relation-in-loop",
    "A relation read on each object of a loop over a queryset that does not load it (N+1)",
    "Reading a foreign key (`book.author`) or a many-to-many or reverse manager "
    "(`book.tags.all()`) of a Django model, or a lazily loaded SQLAlchemy relationship, runs "
    "a query unless the query loaded it, so a loop over the rows runs one per row. Add "
    "`select_related(...)` (foreign keys, one-to-one) or `prefetch_related(...)` "
    "(many-to-many, reverse) to the queryset, or `.options(selectinload(...))` to the "
    "SQLAlchemy query.",
)
LIST_FRONT = PerformanceRule(
    "CS-T020",
    "list-front-in-loop",
    "`list.pop(0)` or `list.insert(0, ...)` in a loop: quadratic",
    "Removing or adding at the front of a list moves every other item, so a loop that does "
    "it once per item costs the square of the list's length. Use `collections.deque` "
    "(`popleft()`, `appendleft()`), or append and reverse once.",
)
QUADRATIC_SUM = PerformanceRule(
    "CS-T021",
    "quadratic-list-sum",
    "`sum(..., [])` concatenates lists in quadratic time",
    "`sum` adds the lists one by one, copying everything gathered so far at each step, so "
    "the work grows with the square of the total length. Use "
    "`list(itertools.chain.from_iterable(...))` or a comprehension.",
)
GROWING_LIST_SEARCH = PerformanceRule(
    "CS-T022",
    "list-search-in-loop",
    "A list searched on every pass of a loop that makes it as long as the data: quadratic",
    "`x in L`, `L.index`, `L.remove` and `L.count` look through the list item by item. "
    "Inside a loop that grows the list, or over a list as long as the loop's collection, "
    "the work grows with the square of the number of items. Keep a set (or a dict) for the "
    "lookups.",
)
SORT_IN_LOOP = PerformanceRule(
    "CS-T023",
    "sort-in-loop",
    "The same list sorted on every pass of a loop",
    "A sort costs n log n each time. A loop that sorts a list it does not change repeats the "
    "same work on every pass (sort once before it); one that adds to the list and sorts it "
    "again each time does a whole sort per item (keep it sorted with `bisect.insort`, or use "
    "`heapq`).",
)
NESTED_LOOP_JOIN = PerformanceRule(
    "CS-T024",
    "nested-loop-join",
    "A loop nested in another only to match items on equality: quadratic",
    "`for a in A: for b in B: if a.key == b.key:` compares every pair, `len(A) * len(B)` "
    "steps. A dict built once from `B` (`{b.key: b for b in B}`, or a dict of lists) finds "
    "each match in one step: `len(A) + len(B)`.",
)
RULES = (
    BLOCKING_IN_ASYNC,
    QUERY_IN_LOOP,
    RELATION_IN_LOOP,
    LIST_FRONT,
    QUADRATIC_SUM,
    GROWING_LIST_SEARCH,
    SORT_IN_LOOP,
    NESTED_LOOP_JOIN,
)


@dataclass(frozen=True)
class SleepFix:
    """`time.sleep(x)` rewritten as `await <sleep>(x)`, adding `import <module>` when the
    module does not import it yet. Safe only when the module uses exactly that event loop."""

    callee: Where  # replaced by `await <sleep>`
    sleep: str  # "asyncio.sleep", "trio.sleep", or a name bound to one of them
    import_module: str  # "" or the module to import
    safe: bool


@dataclass(frozen=True)
class Detection:
    code: str
    where: Where
    message: str
    sleep_fix: SleepFix | None = None

    def moved(self, lines: int) -> Detection:
        """The same detection `lines` lines further down."""
        if not lines:
            return self
        fix = self.sleep_fix
        if fix is not None:
            fix = replace(fix, callee=moved(fix.callee, lines))
        return replace(self, where=moved(self.where, lines), sleep_fix=fix)
