"""CS-T011 for SQLAlchemy: a lazily loaded relationship read on each row of a loop over a
query's results (`for user in session.scalars(select(User)): user.addresses`).

The rows must provably be objects of one mapped class: `session.query(User)`,
`session.scalars(select(User))`, `session.execute(select(User)).scalars()` or Flask-
SQLAlchemy's `User.query`, followed only by methods that keep the rows (`filter`,
`order_by`, `all`, ...), written in the loop or bound once to a local name. The class is
one of this file or of the project's own modules (read, never imported), and the
relationship one it declares with SQLAlchemy's `relationship()` and no `lazy=` other than
"select". Loader options that are not written out (a variable, `Load(...)`) leave the loop
alone: what they load is not known.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence

from clearsight.performance.catalogue import PerformanceCatalogue
from clearsight.performance.names import Scope, dotted_of
from clearsight.performance.queries import assigned_once, method_chain
from clearsight.performance.rules import RELATION_IN_LOOP, Detection, where_of
from clearsight.performance.walk import Placed, loop_target, loop_variable, rebound_in

_EVERY = "*"  # an option for every relationship: `raiseload("*")`


def lazy_loads(nodes: Sequence[Placed], scope: Scope) -> Iterator[Detection]:
    """`nodes`: a function body's `rule_nodes`."""
    models = scope.module.models
    if models is None:
        return
    for loop, _ in nodes:
        found = loop_variable(loop)
        if found is None:
            continue
        variable, iterated = found
        rows = _rows(iterated, nodes, scope)
        if rows is None:
            continue
        model, loaded = rows
        relationships = models.mapped_relations(scope.meaning(model), scope.module)
        if not relationships or _EVERY in loaded:
            continue
        inside = [n for n, loops in nodes if any(outer is loop for outer in loops)]
        if rebound_in(variable, inside, loop_target(loop)):
            continue
        shown = ast.unparse(model)
        seen: set[str] = set()
        for node in inside:
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == variable
                and node.attr in relationships
                and node.attr not in loaded
                and node.attr not in seen
            ):
                seen.add(node.attr)
                yield Detection(
                    RELATION_IN_LOOP.code, where_of(node), _message(variable, node.attr, shown)
                )


def _message(variable: str, relationship: str, model: str) -> str:
    return (
        f"`{variable}.{relationship}` is loaded lazily on every pass of the loop over `{model}` "
        "rows: one query per row (the N+1 problem). Load it with the rows: "
        f"`.options(selectinload({model}.{relationship}))` (or `joinedload` for a single "
        "related object)."
    )


def _rows(
    node: ast.expr, nodes: Sequence[Placed], scope: Scope
) -> tuple[ast.expr, set[str]] | None:
    """The mapped class a loop's rows are objects of, and the relationships its options
    load; None when either is not certain."""
    if isinstance(node, ast.Name):
        value = assigned_once(node.id, nodes, scope)
        if value is None:
            return None
        node = value
    if not isinstance(node, ast.Call | ast.Attribute):
        return None
    catalogue = scope.catalogue
    if isinstance(node, ast.Call):
        receiver, methods, calls = method_chain(node)
    else:
        receiver, methods, calls = node, [], []
    loaded: set[str] = set()
    # Flask-SQLAlchemy's `Model.query[.filter(...)...]`.
    if isinstance(receiver, ast.Attribute) and receiver.attr == "query":
        if not all(m in catalogue.mapped_row_methods for m in methods):
            return None
        return _with_options(receiver.value, methods, calls, loaded, catalogue)
    if not methods or not _is_session(receiver, methods[-1], scope):
        return None
    first, call = methods[-1], calls[-1]  # the session's method, then the rows' methods
    later, later_calls = methods[:-1], calls[:-1]
    if not all(m in catalogue.mapped_row_methods for m in later):
        return None
    if first == "query":
        if len(call.args) != 1 or call.keywords:
            return None
        return _with_options(call.args[0], later, later_calls, loaded, catalogue)
    if first == "execute" and "scalars" not in later:
        return None  # rows of tuples (`row.User`), not objects
    if first not in ("scalars", "execute") or len(call.args) != 1:
        return None
    return _selected(call.args[0], scope, loaded)


def _is_session(receiver: ast.expr, method: str, scope: Scope) -> bool:
    instance = scope.meaning(receiver).instance_of
    return bool(instance) and scope.catalogue.queries.get(f"{instance}.{method}") == "sqlalchemy"


def _selected(node: ast.expr, scope: Scope, loaded: set[str]) -> tuple[ast.expr, set[str]] | None:
    """`select(Model).where(...).options(...)`: the model, the options added to `loaded`."""
    if not isinstance(node, ast.Call):
        return None
    select, methods, calls = method_chain(node)
    if not isinstance(select, ast.Call):  # `sa.select(Model)`: the chain's innermost call
        if not calls:
            return None
        select, methods, calls = calls[-1], methods[:-1], calls[:-1]
    if scope.meaning(select.func).qualname not in scope.catalogue.mapped_selects:
        return None
    if len(select.args) != 1 or select.keywords:
        return None
    if not all(m in scope.catalogue.mapped_row_methods for m in methods):
        return None
    return _with_options(select.args[0], methods, calls, loaded, scope.catalogue)


def _with_options(
    model: ast.expr,
    methods: list[str],
    calls: list[ast.Call],
    loaded: set[str],
    catalogue: PerformanceCatalogue,
) -> tuple[ast.expr, set[str]] | None:
    """Adds the relationships the `options(...)` calls among `calls` load to `loaded`."""
    if not isinstance(model, ast.Name | ast.Attribute):
        return None
    for method, call in zip(methods, calls, strict=True):
        if method != "options":
            continue
        if call.keywords:
            return None
        for option in call.args:
            name = _loaded_by(option, catalogue)
            if name is None:
                return None
            if name:
                loaded.add(name)
    return model, loaded


def _loaded_by(option: ast.expr, catalogue: PerformanceCatalogue) -> str | None:
    """The relationship a loader option loads with the rows ("" for one that loads none,
    "*" for all); None for an option that is not written out as a known loader."""
    node = option
    while (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Call)
    ):
        node = node.func.value  # `selectinload(A.b).selectinload(B.c)`: the first
    if not isinstance(node, ast.Call) or not node.args:
        return None
    dotted = dotted_of(node.func)
    loader = dotted[-1] if dotted else ""
    if loader not in catalogue.eager_loaders and loader not in catalogue.other_loaders:
        return None
    argument = node.args[0]
    if isinstance(argument, ast.Attribute):
        name = argument.attr
    elif isinstance(argument, ast.Constant) and isinstance(argument.value, str):
        name = argument.value.split(".")[0]
    else:
        return None
    return name if loader in catalogue.eager_loaders else ""
