"""CS-T023 and CS-T024: work a loop repeats on every pass that could be done once.

- CS-T023: sorting the same list on every pass (`sorted(L)`, `L.sort()`): once before the
  loop when the loop leaves `L` alone, `bisect.insort`/`heapq` when it keeps adding to it.
- CS-T024: a loop nested in another only to find the items that match the outer one on
  equality (`for a in A: for b in B: if a.key == b.key:`): `len(A) * len(B)` comparisons
  where a dict built once does `len(A) + len(B)` steps.
Both speak only where the code says it all: a local list, a loop whose size is the data's,
an inner loop over a collection that does not depend on the outer item, keys that are
plain attribute or item reads of the two loop variables.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence

from clearsight.performance.loops import grown_in
from clearsight.performance.names import Scope
from clearsight.performance.rules import NESTED_LOOP_JOIN, SORT_IN_LOOP, Detection, where_of
from clearsight.performance.walk import Loop, Placed


def repeated_work(nodes: Sequence[Placed], scope: Scope) -> Iterator[Detection]:
    """`nodes`: a function body's `rule_nodes`."""
    for node, loops in nodes:
        if not loops:
            continue
        if isinstance(node, ast.Call):
            found = _sort(node, loops, nodes, scope)
            if found is not None:
                yield found
        elif isinstance(node, ast.For | ast.AsyncFor):
            found = _join(node, loops[-1], scope)
            if found is not None:
                yield found


def _sorted_name(call: ast.Call, scope: Scope) -> tuple[str, str] | None:
    """(the list, how it is sorted) for `sorted(L)` and `L.sort()`."""
    func = call.func
    if (
        isinstance(func, ast.Name)
        and func.id == "sorted"
        and scope.lookup(func.id).qualname == "builtins.sorted"
        and call.args
        and isinstance(call.args[0], ast.Name)
    ):
        return call.args[0].id, f"sorted({call.args[0].id})"
    if (
        isinstance(func, ast.Attribute)
        and func.attr == "sort"
        and isinstance(func.value, ast.Name)
        and not call.args
    ):
        return func.value.id, f"{func.value.id}.sort()"
    return None


def _sort(
    call: ast.Call, loops: tuple[Loop, ...], nodes: Sequence[Placed], scope: Scope
) -> Detection | None:
    found = _sorted_name(call, scope)
    if found is None:
        return None
    name, shown = found
    if not scope.is_list(name):
        return None
    loop = loops[-1]
    inside = [n for n, around in nodes if any(outer is loop for outer in around)]
    rebound = any(
        isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store | ast.Del)
        for n in inside
    )
    if rebound:
        return None  # a different list on each pass
    mentions = sum(1 for n in inside if isinstance(n, ast.Name) and n.id == name)
    if name in grown_in(loop):
        message = (
            f"`{shown}` sorts `{name}` again on every pass of a loop that adds to it: the "
            f"loop re-sorts the whole list after each addition. Keep it sorted as it grows "
            f"with `bisect.insort({name}, item)`, use a heap (`heapq`), or sort once after "
            "the loop."
        )
    elif mentions == 1:  # the loop does nothing else with it: the sort is the same each time
        message = (
            f"`{shown}` sorts the same list on every pass of the loop, which does not change "
            f"it: each pass pays for a whole sort. Sort once before the loop."
        )
    else:
        return None  # used otherwise in the loop (passed to a call that may change it)
    return Detection(SORT_IN_LOOP.code, where_of(call), message)


def _roots(node: ast.expr) -> set[str] | None:
    """The names a key expression reads (`a.b`, `a["k"]`, `a.b.c`); None unless it is made
    of attribute and constant-subscript reads only."""
    while isinstance(node, ast.Attribute | ast.Subscript):
        if isinstance(node, ast.Subscript) and not isinstance(node.slice, ast.Constant):
            return None
        node = node.value
    return {node.id} if isinstance(node, ast.Name) else None


def _join(inner: ast.For | ast.AsyncFor, outer: Loop, scope: Scope) -> Detection | None:
    if not isinstance(outer, ast.For | ast.AsyncFor) or inner is outer:
        return None
    if not isinstance(outer.target, ast.Name) or not isinstance(inner.target, ast.Name):
        return None
    a, b = outer.target.id, inner.target.id
    if a == b or not isinstance(inner.iter, ast.Name | ast.Attribute):
        return None
    if any(isinstance(n, ast.Name) and n.id == a for n in ast.walk(inner.iter)):
        return None  # the inner collection depends on the outer item
    if ast.unparse(inner.iter) == ast.unparse(outer.iter):
        return None  # pairs of one collection (`if a == b: continue` skips itself)
    first = inner.body[0] if inner.body else None
    if not isinstance(first, ast.If) or first.orelse:
        return None
    if isinstance(first.body[0], ast.Continue | ast.Pass):
        return None  # the equal pairs are skipped, not sought
    test = first.test
    if not (
        isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)
    ):
        return None
    left, right = _roots(test.left), _roots(test.comparators[0])
    if {frozenset(left or ()), frozenset(right or ())} != {frozenset({a}), frozenset({b})}:
        return None
    collection = ast.unparse(inner.iter)
    key = ast.unparse(test.comparators[0] if right == {b} else test.left)
    message = (
        f"`for {b} in {collection}` runs inside `for {a} in ...` only to find the items whose "
        f"key equals the outer item's: every pair is compared, the product of the two "
        f"lengths. Index `{collection}` once before the outer loop "
        f"(`{{{key}: {b} for {b} in {collection}}}`, or a dict of lists) and look each `{a}` up."
    )
    return Detection(NESTED_LOOP_JOIN.code, where_of(inner.target), message)
