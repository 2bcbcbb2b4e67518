"""CS-T010: a database query on every pass of a loop (the N+1 problem).

Three ways code reaches a database are recognised, each only where the receiver is certain:
- Django's ORM: `Model.objects.<method>(...)` where `Model` is a Django model
  (`performance.models`), the chain ending in a method that runs a query (`get`, `count`,
  `exists`, ...), or a queryset iterated inside the loop (`for b in Book.objects.filter(...)`);
- SQLAlchemy: `query`, `execute`, `scalars`, `scalar` and `get` of a session or connection;
- DB-API drivers: `execute` of a connection or cursor with the same SQL text on every pass
  (a constant string), which `executemany` or one statement does at once.
The loop must be one whose size is the data's: not `for i in range(3)`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence

from clearsight.performance.catalogue import PerformanceCatalogue
from clearsight.performance.loops import unbounded
from clearsight.performance.names import Scope
from clearsight.performance.rules import QUERY_IN_LOOP, Detection, where_of
from clearsight.performance.walk import Comprehension, Placed

_MANAGERS = frozenset({"objects", "_default_manager", "_base_manager"})
_MAX_SHOWN = 48


def queries_in_loops(nodes: Sequence[Placed], scope: Scope) -> Iterator[Detection]:
    """`nodes`: a function body's `own_nodes`."""
    catalogue = scope.catalogue
    iterated: set[int] = set()  # iterables of `for` statements and comprehensions
    reported: set[int] = set()  # calls inside a chain already reported
    for node, around in nodes:
        if isinstance(node, ast.For | ast.AsyncFor):
            iterated.add(id(node.iter))
        elif isinstance(node, Comprehension):
            iterated.update(id(generator.iter) for generator in node.generators)
        if not isinstance(node, ast.Call) or id(node) in reported or not unbounded(around):
            continue
        found = _django(node, scope, catalogue, iterated, reported)
        if found is None:
            found = _driver(node, scope, catalogue)
        if found is not None:
            yield found


def _chain(call: ast.Call) -> tuple[ast.expr, list[str], list[ast.Call]]:
    """`a.objects.filter(x).count()` as (`a.objects`, ["count", "filter"], their calls)."""
    methods: list[str] = []
    calls: list[ast.Call] = []
    node: ast.expr = call
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        calls.append(node)
        methods.append(node.func.attr)
        node = node.func.value
    return node, methods, calls


def _django(
    call: ast.Call,
    scope: Scope,
    catalogue: PerformanceCatalogue,
    iterated: set[int],
    reported: set[int],
) -> Detection | None:
    receiver, methods, calls = _chain(call)
    if not isinstance(receiver, ast.Attribute) or receiver.attr not in _MANAGERS:
        return None
    known = catalogue.django_evaluating | catalogue.django_lazy
    if not methods or not all(m in known for m in methods):
        return None  # a custom manager or queryset method: what it returns is unknown
    evaluates = methods[0] in catalogue.django_evaluating
    if not evaluates and id(call) not in iterated:
        return None  # a queryset built, not run here
    models = scope.module.models
    if models is None or not models.is_model(scope.meaning(receiver.value), scope.module):
        return None
    reported.update(id(c) for c in calls)
    model = ast.unparse(receiver.value)
    shown = f"{model}.{receiver.attr}" + "".join(
        f".{method}({'...' if c.args or c.keywords else ''})"
        for method, c in zip(reversed(methods), reversed(calls), strict=True)
    )
    how = "runs a database query" if evaluates else "is iterated, one database query,"
    message = (
        f"`{shown}` {how} on every pass of the loop: a thousand items make a thousand round "
        "trips (the N+1 problem). Fetch what the loop needs in one query before it "
        f"(`{model}.objects.filter(pk__in=...)`, `in_bulk()`), or follow the relation with "
        "`select_related()`/`prefetch_related()`."
    )
    return Detection(QUERY_IN_LOOP.code, where_of(call), message)


def _driver(call: ast.Call, scope: Scope, catalogue: PerformanceCatalogue) -> Detection | None:
    func = call.func
    if not isinstance(func, ast.Attribute):
        return None
    receiver = scope.meaning(func.value)
    if not receiver.instance_of:
        return None
    family = catalogue.queries.get(f"{receiver.instance_of}.{func.attr}")
    shown = _shown(call)
    if family == "sqlalchemy":
        message = (
            f"`{shown}` runs a statement on every pass of the loop: one round trip per item "
            "(the N+1 problem). Load what the loop needs in one query before it "
            "(`select(...).where(Model.id.in_(ids))`), or eager-load the relation "
            "(`selectinload()`, `joinedload()`)."
        )
        return Detection(QUERY_IN_LOOP.code, where_of(call), message)
    if family != "dbapi" or not call.args:
        return None
    sql = call.args[0]
    if not isinstance(sql, ast.Constant) or not isinstance(sql.value, str):
        return None  # a different statement on each pass (a script's steps): nothing to merge
    if sql.value.lstrip().lower().startswith(("select", "with")):
        fix = "select the rows at once before the loop (`WHERE key IN (...)`) and look them up"
    else:
        fix = "pass all the rows to `executemany()` in one call"
    message = (
        f"`{shown}` runs the same SQL once per pass of the loop: one round trip per row "
        f"(the N+1 problem). Instead, {fix}."
    )
    return Detection(QUERY_IN_LOOP.code, where_of(call), message)


def _shown(call: ast.Call) -> str:
    text = ast.unparse(call.func) + "(...)"
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…"
