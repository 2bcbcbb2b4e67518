"""CS-T020, CS-T021, CS-T022: work in loops that grows with the square of the data.

Quiet by construction, as ruff's perflint port: a rule speaks only where the receiver is
provably a list (every binding of a local name makes one) and the statement runs on every
pass of a loop of the same function. A list the loop grows (or one as long as the loop's own
collection) is what makes a linear search per pass quadratic; a fixed list of a few options
(`if mode in modes:`) is left alone.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence

from clearsight.performance.names import Scope
from clearsight.performance.rules import (
    GROWING_LIST_SEARCH,
    LIST_FRONT,
    QUADRATIC_SUM,
    Detection,
    where_of,
)
from clearsight.performance.walk import Comprehension, Loop, Placed, own_nodes

_GROWING_METHODS = frozenset({"append", "extend", "insert"})
_SEARCHES = frozenset({"index", "remove", "count"})


class _Growth:
    """The local names each loop makes longer across its passes (`L.append`, `L.extend`,
    `L.insert`, `L += ...`, `L = L + ...`; not a list bound afresh inside the loop, which
    starts again at every pass), worked out once per loop."""

    def __init__(self) -> None:
        self._grown: dict[int, frozenset[str]] = {}

    def of(self, loop: Loop) -> frozenset[str]:
        known = self._grown.get(id(loop))
        if known is None and isinstance(loop, Comprehension):
            known = self._grown[id(loop)] = frozenset()  # it grows no list of its own
        if known is None:
            statements: list[ast.stmt] = list(loop.body)
            if isinstance(loop, ast.While):
                statements.insert(0, ast.Expr(loop.test))
            known = frozenset(_grown_names(statements)) - _rebound_names(statements)
            self._grown[id(loop)] = known
        return known


def _grown_names(statements: list[ast.stmt]) -> Iterator[str]:
    for node, _ in own_nodes(statements):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in _GROWING_METHODS and isinstance(node.func.value, ast.Name):
                yield node.func.value.id
        elif isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Add):
            if isinstance(node.target, ast.Name):
                yield node.target.id
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.BinOp):
            left = node.value.left
            if (
                isinstance(node.value.op, ast.Add)
                and isinstance(left, ast.Name)
                and any(isinstance(t, ast.Name) and t.id == left.id for t in node.targets)
            ):
                yield left.id


def grown_in(loop: Loop) -> frozenset[str]:
    """The local names a loop makes longer across its passes."""
    return _Growth().of(loop)


def _rebound_names(statements: list[ast.stmt]) -> frozenset[str]:
    rebound = set()
    for node, _ in own_nodes(statements):
        if isinstance(node, ast.Assign) and not isinstance(node.value, ast.BinOp):
            rebound.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return frozenset(rebound)


def is_constant_name(name: str) -> bool:
    """`TABLES`, `_BUILT_FAMILIES`: a constant by convention, fixed when the code is written."""
    bare = name.lstrip("_")
    return bare.isupper() and any(c.isalpha() for c in bare)


def _bounded(loop: Loop) -> bool:
    """A loop that runs a fixed, written-out number of times (`for i in range(4)`, `for x in
    (a, b, c)`, `for table in TABLES`): its cost does not grow with the data."""
    iterated = iterable(loop)
    if iterated is None:
        return False
    if isinstance(iterated, ast.Name):
        return is_constant_name(iterated.id)
    if isinstance(iterated, ast.Tuple | ast.List | ast.Set):
        return not any(isinstance(e, ast.Starred) for e in iterated.elts)
    return (
        isinstance(iterated, ast.Call)
        and isinstance(iterated.func, ast.Name)
        and iterated.func.id == "range"
        and bool(iterated.args)
        and not iterated.keywords
        and all(isinstance(a, ast.Constant) and type(a.value) is int for a in iterated.args)
    )


def iterable(loop: Loop) -> ast.expr | None:
    """What a `for` loop or a comprehension goes through (None for `while`)."""
    if isinstance(loop, ast.For | ast.AsyncFor):
        return loop.iter
    if isinstance(loop, Comprehension):
        return loop.generators[0].iter
    return None


def unbounded(loops: tuple[Loop, ...]) -> tuple[Loop, ...]:
    """The loops whose number of passes is not written out in the code."""
    return tuple(loop for loop in loops if not _bounded(loop))


def rule_nodes(statements: list[ast.stmt]) -> list[Placed]:
    """A body's `own_nodes`, each with only the loops around it whose size is the data's
    (what every rule counts), worked out once per nesting."""
    # By the identity of the tuple of loops, kept alive here so that its id is not reused.
    kept: dict[int, tuple[tuple[Loop, ...], tuple[Loop, ...]]] = {}
    found: list[Placed] = []
    for node, around in own_nodes(statements):
        known = kept.get(id(around))
        if known is None or known[0] is not around:
            known = kept[id(around)] = (around, unbounded(around))
        found.append((node, known[1]))
    return found


def loop_work(nodes: Sequence[Placed], scope: Scope, in_function: bool) -> Iterator[Detection]:
    """`nodes`: a body's `rule_nodes`."""
    growth = _Growth()
    for node, loops in nodes:
        if isinstance(node, ast.Call):
            if _is_builtin(node.func, "sum", scope):
                found = _quadratic_sum(node)
                if found is not None:
                    yield found
            if loops and in_function:
                yield from _list_method(node, loops, scope, growth)
        elif isinstance(node, ast.Compare) and loops and in_function:
            found = _membership(node, loops, scope, growth)
            if found is not None:
                yield found


def _is_builtin(node: ast.expr, name: str, scope: Scope) -> bool:
    return (
        isinstance(node, ast.Name)
        and node.id == name
        and scope.lookup(node.id).qualname == f"builtins.{name}"
    )


def _quadratic_sum(call: ast.Call) -> Detection | None:
    start = call.args[1] if len(call.args) >= 2 else None
    for keyword in call.keywords:
        if keyword.arg == "start":
            start = keyword.value
    if not isinstance(start, ast.List | ast.Tuple) or not call.args:
        return None
    if isinstance(call.args[0], ast.List | ast.Tuple | ast.Set):
        return None  # a fixed handful of sequences: linear in their total length
    empty = "[]" if isinstance(start, ast.List) else "()"
    message = (
        f"`sum(..., {empty})` adds the sequences one at a time, copying everything gathered "
        "so far at each step: the work grows with the square of the total length. Use "
        "`list(itertools.chain.from_iterable(...))` or `[x for part in parts for x in part]`."
    )
    return Detection(QUADRATIC_SUM.code, where_of(call), message)


def _list_method(
    call: ast.Call, loops: tuple[Loop, ...], scope: Scope, growth: _Growth
) -> Iterator[Detection]:
    func = call.func
    if not isinstance(func, ast.Attribute) or not isinstance(func.value, ast.Name):
        return
    name, method = func.value.id, func.attr
    if method == "pop" and _is_zero(call, 1) and scope.is_list(name):
        if any(name in growth.of(loop) for loop in loops):
            message = (
                f"`{name}.pop(0)` in a loop that also adds to `{name}`: each call moves every "
                "remaining item one place, so the loop costs the square of the list's length. "
                f"Make `{name}` a `collections.deque` and use `popleft()`."
            )
            yield Detection(LIST_FRONT.code, where_of(call), message)
    elif method == "insert" and _is_zero(call, 2) and scope.is_list(name):
        message = (
            f"`{name}.insert(0, ...)` in a loop: each call moves every item one place, so "
            "building the list this way costs the square of its length. Append and reverse "
            f"once after the loop, or make `{name}` a `collections.deque` (`appendleft()`)."
        )
        yield Detection(LIST_FRONT.code, where_of(call), message)
    elif method in _SEARCHES and len(call.args) >= 1 and scope.is_list(name):
        why = _why_large(name, loops, scope, growth)
        if why:
            message = (
                f"`{name}.{method}(...)` looks through the list `{name}` item by item on "
                f"every pass of the loop, and {why}: the work grows with the square of the "
                f"number of items. Keep a set or a dict beside `{name}` for the lookups."
            )
            yield Detection(GROWING_LIST_SEARCH.code, where_of(call), message)


def _is_zero(call: ast.Call, arguments: int) -> bool:
    if len(call.args) != arguments or call.keywords:
        return False
    first = call.args[0]
    return isinstance(first, ast.Constant) and first.value == 0 and type(first.value) is int


def _membership(
    compare: ast.Compare, loops: tuple[Loop, ...], scope: Scope, growth: _Growth
) -> Detection | None:
    for op, right in zip(compare.ops, compare.comparators, strict=True):
        if not isinstance(op, ast.In | ast.NotIn) or not isinstance(right, ast.Name):
            continue
        name = right.id
        if not scope.is_list(name):
            continue
        why = _why_large(name, loops, scope, growth)
        if why:
            word = "not in" if isinstance(op, ast.NotIn) else "in"
            message = (
                f"`... {word} {name}` looks through the list `{name}` item by item on every "
                f"pass of the loop, and {why}: the work grows with the square of the number "
                f"of items. Keep a set beside `{name}` for the test (or use a set or "
                "`dict.fromkeys` instead of the list)."
            )
            return Detection(GROWING_LIST_SEARCH.code, where_of(compare), message)
    return None


def _why_large(name: str, loops: tuple[Loop, ...], scope: Scope, growth: _Growth) -> str:
    """Why the list is as long as the loop's data, or "" when nothing says it is."""
    if any(name in growth.of(loop) for loop in loops):
        return "the loop makes the list longer as it goes"
    source = scope.list_source(name)
    for loop in loops:
        iterated = iterable(loop)
        if isinstance(iterated, ast.Name):
            if iterated.id == name:
                return "the loop goes through that same list"
            if source and iterated.id == source:
                return f"the list is built from `{source}`, the collection the loop goes through"
    return ""
