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
from clearsight.performance.loops import is_constant_name
from clearsight.performance.names import Scope
from clearsight.performance.rules import QUERY_IN_LOOP, RELATION_IN_LOOP, Detection, where_of
from clearsight.performance.walk import (
    Comprehension,
    Placed,
    loop_target,
    loop_variable,
    rebound_in,
)

_MANAGERS = frozenset({"objects", "_default_manager", "_base_manager"})
# Querysets whose rows are not model instances with their relations (or whose fields are
# chosen): what reading a relation costs there is not known here.
_NOT_INSTANCES = frozenset({"values", "values_list", "only", "defer", "raw", "none"})
_MAX_SHOWN = 48


def queries_in_loops(nodes: Sequence[Placed], scope: Scope) -> Iterator[Detection]:
    """`nodes`: a function body's `rule_nodes`."""
    catalogue = scope.catalogue
    iterated: set[int] = set()  # iterables of `for` statements and comprehensions
    reported: set[int] = set()  # calls inside a chain already reported
    outer: dict[int, ast.Call] = {}  # a call -> the method call made on its result
    fixed: dict[int, bool] = {}  # loops over a list made from a constant, by id
    bound_names: dict[int, frozenset[str]] = {}  # names each loop binds, by id
    for node, around in nodes:
        if isinstance(node, ast.For | ast.AsyncFor):
            iterated.add(id(node.iter))
        elif isinstance(node, Comprehension):
            iterated.update(id(generator.iter) for generator in node.generators)
        if not isinstance(node, ast.Call):
            continue
        if isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Call):
            outer[id(node.func.value)] = node  # calls come before the calls inside them
        if id(node) in reported or not around:
            continue
        if all(_over_constant(loop, scope, fixed) for loop in around):
            continue
        found = _django(node, scope, catalogue, iterated, reported)
        if found is None:
            bound = _bound_in(around[-1], nodes, bound_names)
            found = _driver(node, scope, catalogue, outer, iterated, bound)
        if found is not None:
            yield found


def _bound_in(
    loop: ast.AST, nodes: Sequence[Placed], known: dict[int, frozenset[str]]
) -> frozenset[str]:
    """The names a loop binds on each pass (its target's and its body's)."""
    found = known.get(id(loop))
    if found is None:
        found = known[id(loop)] = frozenset(
            n.id
            for n, loops in nodes
            if isinstance(n, ast.Name)
            and isinstance(n.ctx, ast.Store)
            and any(inner is loop for inner in loops)
        )
    return found


def _same_statement(
    call: ast.Call, bound: frozenset[str], scope: Scope, catalogue: PerformanceCatalogue
) -> bool:
    """Whether a session's or connection's call runs the same statement, with other
    values, on every pass: its entities (`query(User)`, `get(User, pk)`) or its statement
    (`select(User).where(...)`, a statement made before the loop) do not change with it. A
    loop over tables, each with its own statement, is a script's steps, not N+1."""
    method = call.func.attr if isinstance(call.func, ast.Attribute) else ""
    if not call.args:
        return False
    if method == "query":
        return not any(_names(a) & bound for a in call.args)
    if method == "get":
        return not _names(call.args[0]) & bound
    node: ast.expr = call.args[0]
    while True:
        if isinstance(node, ast.Name):
            return node.id not in bound
        if isinstance(node, ast.Attribute):
            node = node.value
        elif isinstance(node, ast.Call):
            if scope.meaning(node.func).qualname in catalogue.statements:
                return not any(_names(a) & bound for a in node.args)
            if not isinstance(node.func, ast.Attribute):
                return False  # made by a function of the code's own: not known
            node = node.func.value
        else:
            return False


def _names(node: ast.expr) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _over_constant(loop: ast.AST, scope: Scope, fixed: dict[int, bool]) -> bool:
    """A loop over a local list made from a constant (`[m for m in MODELS]`)."""
    known = fixed.get(id(loop))
    if known is None:
        found = loop_variable(loop)
        name = found[1].id if found is not None and isinstance(found[1], ast.Name) else ""
        known = fixed[id(loop)] = bool(name) and is_constant_name(scope.list_source(name))
    return known


def method_chain(call: ast.Call) -> tuple[ast.expr, list[str], list[ast.Call]]:
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
    receiver, methods, calls = method_chain(call)
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


def _driver(
    call: ast.Call,
    scope: Scope,
    catalogue: PerformanceCatalogue,
    outer: dict[int, ast.Call],
    iterated: set[int],
    bound: frozenset[str],
) -> Detection | None:
    func = call.func
    if not isinstance(func, ast.Attribute):
        return None
    receiver = scope.meaning(func.value)
    if not receiver.instance_of:
        return None
    family = catalogue.queries.get(f"{receiver.instance_of}.{func.attr}")
    shown = _shown(call)
    if (
        family == "sqlalchemy"
        and func.attr == "query"
        and not _runs(call, outer, iterated, catalogue)
    ):
        return None  # a query built (a subquery, a filter kept for later), not run here
    if family == "sqlalchemy" and not _same_statement(call, bound, scope, catalogue):
        return None
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


def _runs(
    call: ast.Call, outer: dict[int, ast.Call], iterated: set[int], catalogue: PerformanceCatalogue
) -> bool:
    """Whether the chain of methods on `session.query(...)` runs it: iterated, or ended by one
    of the methods that do (`all()`, `first()`, `count()`)."""
    last = call
    while id(last) in outer:
        last = outer[id(last)]
    if id(last) in iterated:
        return True
    return (
        last is not call
        and isinstance(last.func, ast.Attribute)
        and last.func.attr in catalogue.query_runs
    )


def _shown(call: ast.Call) -> str:
    text = ast.unparse(call.func) + "(...)"
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…"


def relation_reads(nodes: Sequence[Placed], scope: Scope) -> Iterator[Detection]:
    """CS-T011: a relation read on each object of a loop over a Django queryset that does
    not load it (`for b in Book.objects.all(): b.author` without `select_related("author")`),
    forward or reverse (`author.book_set`, a `related_name`).
    `nodes`: a function body's `rule_nodes`."""
    models = scope.module.models
    if models is None:
        return
    for loop, _ in nodes:
        target_iter = loop_variable(loop)
        if target_iter is None:
            continue
        variable, iterated = target_iter
        chain = _queryset(iterated, nodes, scope)
        if chain is None:
            continue
        receiver, methods, calls = chain
        if any(m in _NOT_INSTANCES for m in methods):
            continue
        if not all(m in scope.catalogue.django_lazy for m in methods):
            continue
        relations = models.relations(scope.meaning(receiver.value), scope.module)
        covered = _covered(methods, calls)
        if not relations or covered is None:
            continue
        inside = [n for n, loops in nodes if any(outer is loop for outer in loops)]
        if rebound_in(variable, inside, loop_target(loop)):
            continue
        model = ast.unparse(receiver.value)
        seen: set[str] = set()
        for node in inside:
            if not (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == variable
                and node.attr in relations
                and node.attr not in seen
            ):
                continue
            field, kind = node.attr, relations[node.attr]
            one, many, every_one = covered
            if (kind == "one" and (every_one or field in one)) or field in many:
                continue
            seen.add(field)
            yield Detection(
                RELATION_IN_LOOP.code,
                where_of(node),
                _relation_message(variable, field, kind, model),
            )


def _relation_message(variable: str, field: str, kind: str, model: str) -> str:
    if kind == "one":
        return (
            f"`{variable}.{field}` loads the related object on every pass of the loop over "
            f"`{model}` rows: one query per row (the N+1 problem). Add "
            f'`.select_related("{field}")` to the queryset.'
        )
    return (
        f"`{variable}.{field}` queries the related objects on every pass of the loop over "
        f"`{model}` rows: one query per row (the N+1 problem). Add "
        f'`.prefetch_related("{field}")` to the queryset.'
    )


def assigned_once(name: str, nodes: Sequence[Placed], scope: Scope) -> ast.expr | None:
    """The value a local name is bound to, when one plain assignment is its only binding."""
    if not scope.is_local(name) or len(scope.bindings(name)) != 1:
        return None
    assigned = [
        n.value
        for n, _ in nodes
        if isinstance(n, ast.Assign)
        and len(n.targets) == 1
        and isinstance(n.targets[0], ast.Name)
        and n.targets[0].id == name
    ]
    return assigned[0] if len(assigned) == 1 else None


def _queryset(
    node: ast.expr, nodes: Sequence[Placed], scope: Scope
) -> tuple[ast.Attribute, list[str], list[ast.Call]] | None:
    """The manager chain a loop goes through: written in the loop, or the one assignment of
    a local name (`books = Book.objects.filter(...)`)."""
    if isinstance(node, ast.Name):
        value = assigned_once(node.id, nodes, scope)
        if value is None:
            return None
        node = value
    if isinstance(node, ast.Attribute) and node.attr in _MANAGERS:
        return node, [], []  # `for b in Book.objects:` is an error; nothing to say
    if not isinstance(node, ast.Call):
        return None
    receiver, methods, calls = method_chain(node)
    if not isinstance(receiver, ast.Attribute) or receiver.attr not in _MANAGERS:
        return None
    return receiver, methods, calls


def _covered(methods: list[str], calls: list[ast.Call]) -> tuple[set[str], set[str], bool] | None:
    """The relations a queryset loads with its rows: (by `select_related`, by
    `prefetch_related`, whether `select_related()` loads every forward one); None when an
    argument is not a written-out name."""
    one: set[str] = set()
    many: set[str] = set()
    every_one = False
    for method, call in zip(methods, calls, strict=True):
        if method not in ("select_related", "prefetch_related"):
            continue
        if method == "select_related" and not call.args:
            every_one = True
        for argument in call.args:
            if isinstance(argument, ast.Call) and argument.args:  # Prefetch("tags", ...)
                argument = argument.args[0]
            if not isinstance(argument, ast.Constant) or not isinstance(argument.value, str):
                return None
            first = argument.value.split("__")[0]
            (one if method == "select_related" else many).add(first)
    return one, many, every_one
