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
from clearsight.performance.names import Scope
from clearsight.performance.rules import QUERY_IN_LOOP, RELATION_IN_LOOP, Detection, where_of
from clearsight.performance.walk import Comprehension, Placed

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
    for node, around in nodes:
        if isinstance(node, ast.For | ast.AsyncFor):
            iterated.add(id(node.iter))
        elif isinstance(node, Comprehension):
            iterated.update(id(generator.iter) for generator in node.generators)
        if not isinstance(node, ast.Call) or id(node) in reported or not around:
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


def relation_reads(nodes: Sequence[Placed], scope: Scope) -> Iterator[Detection]:
    """CS-T011: a relation read on each object of a loop over a Django queryset that does
    not load it (`for b in Book.objects.all(): b.author` without `select_related("author")`),
    forward or reverse (`author.book_set`, a `related_name`).
    `nodes`: a function body's `rule_nodes`."""
    models = scope.module.models
    if models is None:
        return
    for loop, _ in nodes:
        target_iter = _target_and_iterable(loop)
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
        if _rebound(variable, inside, _target(loop)):
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


def _target_and_iterable(node: ast.AST) -> tuple[str, ast.expr] | None:
    if isinstance(node, ast.For | ast.AsyncFor):
        target, iterated = node.target, node.iter
    elif isinstance(node, Comprehension):
        target, iterated = node.generators[0].target, node.generators[0].iter
    else:
        return None
    return (target.id, iterated) if isinstance(target, ast.Name) else None


def _queryset(
    node: ast.expr, nodes: Sequence[Placed], scope: Scope
) -> tuple[ast.Attribute, list[str], list[ast.Call]] | None:
    """The manager chain a loop goes through: written in the loop, or the one assignment of
    a local name (`books = Book.objects.filter(...)`)."""
    if isinstance(node, ast.Name):
        if not scope.is_local(node.id) or len(scope.bindings(node.id)) != 1:
            return None
        assigned = [
            n.value
            for n, _ in nodes
            if isinstance(n, ast.Assign)
            and len(n.targets) == 1
            and isinstance(n.targets[0], ast.Name)
            and n.targets[0].id == node.id
        ]
        if len(assigned) != 1:
            return None
        node = assigned[0]
    if isinstance(node, ast.Attribute) and node.attr in _MANAGERS:
        return node, [], []  # `for b in Book.objects:` is an error; nothing to say
    if not isinstance(node, ast.Call):
        return None
    receiver, methods, calls = _chain(node)
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


def _target(loop: ast.AST) -> ast.AST | None:
    if isinstance(loop, ast.For | ast.AsyncFor):
        return loop.target
    return loop.generators[0].target if isinstance(loop, Comprehension) else None


def _rebound(variable: str, inside: list[ast.AST], target: ast.AST | None) -> bool:
    """Whether the loop's variable is bound again inside the loop (not by the loop)."""
    return any(
        isinstance(n, ast.Name)
        and n.id == variable
        and isinstance(n.ctx, ast.Store)
        and n is not target
        for n in inside
    )
