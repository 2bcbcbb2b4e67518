"""Walking one top-level statement the way the rules need it: each function with its scope,
and each node of a body with the loops it runs in (not counting nested functions and
classes, which run when they are called, not where they are written)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

from clearsight.performance.names import Scope

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
Comprehension = ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp
# A comprehension is a loop too: its element and conditions run once per item.
Loop = ast.For | ast.AsyncFor | ast.While | Comprehension


@dataclass(frozen=True)
class Body:
    """Statements that run together in one scope: the module's, a class body's or a
    function's (`function` is None for the first two)."""

    statements: list[ast.stmt]
    scope: Scope
    function: ast.FunctionDef | ast.AsyncFunctionDef | None = None


Function = ast.FunctionDef | ast.AsyncFunctionDef


def module_parts(statement: ast.stmt) -> tuple[list[list[ast.stmt]], list[Function]]:
    """A top-level statement's bodies that run in the module's scope (the statement itself,
    its class bodies), and its top functions: those not inside another function, which see
    only the module's names and so can be checked, and kept, one by one."""
    found: list[list[ast.stmt]] = [[statement]]
    functions: list[Function] = []
    stack: list[list[ast.AST]] = [[statement]]
    while stack:
        for child in stack.pop():
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                functions.append(child)
            elif isinstance(child, ast.ClassDef):
                # A class body's names are not visible in its methods: they see the module's.
                found.append(child.body)
                stack.append(list(ast.iter_child_nodes(child)))
            elif isinstance(child, ast.stmt | ast.excepthandler | ast.match_case):
                stack.append(list(ast.iter_child_nodes(child)))
    functions.sort(key=lambda f: f.lineno)
    return found, functions


def function_bodies(function: Function, enclosing: Scope) -> Iterator[Body]:
    """The function's body, then those of the functions and classes nested in it."""
    scope = Scope.of_function(function, enclosing)
    yield Body(function.body, scope, function)
    stack: list[tuple[list[ast.AST], Scope]] = [(list(ast.iter_child_nodes(function)), scope)]
    while stack:
        children, scope = stack.pop()
        for child in children:
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                inner = Scope.of_function(child, scope)
                yield Body(child.body, inner, child)
                stack.append((list(ast.iter_child_nodes(child)), inner))
            elif isinstance(child, ast.ClassDef):
                yield Body(child.body, scope)
                stack.append((list(ast.iter_child_nodes(child)), scope))
            elif isinstance(child, ast.stmt | ast.excepthandler | ast.match_case):
                stack.append((list(ast.iter_child_nodes(child)), scope))


# A node and the loops around it.
Placed = tuple[ast.AST, tuple[Loop, ...]]


def own_nodes(statements: list[ast.stmt]) -> Iterator[Placed]:
    """Every node the statements evaluate in their own scope, in source order, with the loops
    around it (innermost last). A `for`'s iterable is evaluated once, before the loop; its
    body, and a `while`'s test, on every pass; an `else:` once, after it. A comprehension's
    first iterable is evaluated once, the rest once per item."""
    stack: list[tuple[ast.AST, tuple[Loop, ...]]] = [(s, ()) for s in reversed(statements)]
    while stack:
        node, loops = stack.pop()
        yield node, loops
        if isinstance(node, _SCOPES):
            continue
        children: list[tuple[ast.AST, tuple[Loop, ...]]]
        if isinstance(node, ast.For | ast.AsyncFor):
            inner = (*loops, node)
            children = [(node.iter, loops), (node.target, inner)]
            children += [(s, inner) for s in node.body] + [(s, loops) for s in node.orelse]
        elif isinstance(node, ast.While):
            inner = (*loops, node)
            children = [(node.test, inner), *((s, inner) for s in node.body)]
            children += [(s, loops) for s in node.orelse]
        elif isinstance(node, Comprehension):
            inner = (*loops, node)
            first, *others = node.generators
            children = [(first.iter, loops), (first.target, inner)]
            children += [(condition, inner) for condition in first.ifs]
            for generator in others:
                children += [(generator.iter, inner), (generator.target, inner)]
                children += [(condition, inner) for condition in generator.ifs]
            if isinstance(node, ast.DictComp):
                children += [(node.key, inner), (node.value, inner)]
            else:
                children.append((node.elt, inner))
        else:
            children = [(child, loops) for child in ast.iter_child_nodes(node)]
        stack.extend(reversed(children))


def loop_target(loop: ast.AST) -> ast.AST | None:
    """What a `for` loop or a comprehension's first generator binds."""
    if isinstance(loop, ast.For | ast.AsyncFor):
        return loop.target
    return loop.generators[0].target if isinstance(loop, Comprehension) else None


def loop_variable(loop: ast.AST) -> tuple[str, ast.expr] | None:
    """A loop's variable, when it binds one plain name, and what it goes through."""
    target = loop_target(loop)
    if not isinstance(target, ast.Name):
        return None
    if isinstance(loop, ast.For | ast.AsyncFor):
        return target.id, loop.iter
    return target.id, loop.generators[0].iter  # type: ignore[attr-defined]


def rebound_in(variable: str, inside: list[ast.AST], target: ast.AST | None) -> bool:
    """Whether the loop's variable is bound again inside the loop (not by the loop)."""
    return any(
        isinstance(n, ast.Name)
        and n.id == variable
        and isinstance(n.ctx, ast.Store)
        and n is not target
        for n in inside
    )
