"""The performance rules over a module, one top-level statement at a time, and within one,
one top function at a time.

A top function (one not nested in another function: a module's, or a class's method) sees
only its own names and the module's, so its findings depend on its text and on the module's
bindings of the names it reads (imports above or below it, `session = requests.Session()`).
The editor keeps them by function text and those bindings (`key`) and re-runs a function only
when one of them changed: an edit in one method of a long class re-walks that method alone.
What runs in the module's own scope (the statement itself, class bodies) is cheap and is
walked again with its statement.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from clearsight.performance.blocking import blocking_calls
from clearsight.performance.catalogue import PerformanceCatalogue
from clearsight.performance.lazy_loads import lazy_loads
from clearsight.performance.loops import loop_work, rule_nodes
from clearsight.performance.names import (
    Binding,
    ModuleBindings,
    Scope,
    ScopeBindings,
    scope_bindings,
)
from clearsight.performance.queries import queries_in_loops, relation_reads
from clearsight.performance.repeated import repeated_work
from clearsight.performance.rules import Detection
from clearsight.performance.walk import Function, function_bodies, module_parts, own_nodes

# What a top-level statement is, for where an added import goes.
DOCSTRING, FUTURE, IMPORT, OTHER = "docstring", "future", "import", "other"
Key = tuple[object, ...]


@dataclass(frozen=True)
class FunctionFacts:
    """What a top function reads of the module, and which module names it rebinds."""

    reads: frozenset[str]
    global_names: frozenset[str]


def function_facts(function: Function) -> FunctionFacts:
    reads: set[str] = set()
    global_names: set[str] = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Name):
            reads.add(node.id)
        elif isinstance(node, ast.Global):
            global_names.update(node.names)
    return FunctionFacts(frozenset(reads), frozenset(global_names))


@dataclass(frozen=True)
class StatementFacts:
    """What one top-level statement contributes to the module's bindings, and which module
    names its findings can depend on."""

    bindings: ScopeBindings
    reads: frozenset[str]  # every name the statement mentions, its functions' included
    kind: str  # DOCSTRING (when first), FUTURE, IMPORT or OTHER
    first_line: int  # 1-based, decorators included, in the statement's text's numbering


def statement_facts(
    statement: ast.stmt, first: bool, functions: Sequence[FunctionFacts]
) -> StatementFacts:
    """`functions`: the facts of the statement's top functions (`module_parts`)."""
    return combined_facts(
        scope_bindings([statement]),
        frozenset(module_scope_reads(statement)),
        statement_kind(statement, first),
        first_line(statement),
        functions,
    )


def combined_facts(
    own: ScopeBindings,
    module_reads: frozenset[str],
    kind: str,
    first: int,
    functions: Sequence[FunctionFacts],
) -> StatementFacts:
    """A statement's facts from its own bindings and reads (`own`, `module_reads`: those of
    what runs in the module's scope) and those of its top functions."""
    rebound = frozenset().union(*(f.global_names for f in functions))
    reads = module_reads.union(*(f.reads for f in functions))
    if not rebound:
        return StatementFacts(own, reads, kind, first)
    bindings = ScopeBindings(
        {name: list(b) for name, b in own.names.items()},
        set(own.global_names) | rebound,
        set(own.nonlocal_names),
        own.star_import,
        set(own.libraries),
    )
    for name in rebound:  # a function rebinds it: the module's binding is not the only one
        bindings.bind(name, Binding("unknown"))
    return StatementFacts(bindings, reads, kind, first)


def module_scope_reads(statement: ast.stmt) -> Iterator[str]:
    """The names what runs in the module's scope reads (not its functions)."""
    bodies, _ = module_parts(statement)
    for body in bodies:
        for node, _ in own_nodes(body):
            if isinstance(node, ast.Name):
                yield node.id


def statement_kind(statement: ast.stmt, first: bool) -> str:
    if (
        first
        and isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
    ):
        return DOCSTRING
    if isinstance(statement, ast.ImportFrom) and statement.module == "__future__":
        return FUTURE
    if isinstance(statement, ast.Import | ast.ImportFrom):
        return IMPORT
    return OTHER


def first_line(node: ast.stmt) -> int:
    """The 1-based line a statement starts on, its decorators included."""
    decorators = getattr(node, "decorator_list", ())
    return min([node.lineno, *(d.lineno for d in decorators)])


def module_bindings(facts: Iterable[StatementFacts]) -> ModuleBindings:
    return ModuleBindings.of(f.bindings for f in facts)


def key(reads: frozenset[str], module: ModuleBindings, loops: Key) -> Key:
    """The module facts findings that read `reads` depend on (`loops`: the module's
    `event_loop_names`, which the quick fix of `time.sleep` depends on)."""
    names = tuple((n, module.names.get(n)) for n in sorted(reads & module.names.keys()))
    return (names, module.star_import, loops)


def event_loop_names(module: ModuleBindings, libraries: frozenset[str]) -> Key:
    """The module's names for event-loop libraries (or named like one), and which of the
    libraries it imports: what the quick fix of `time.sleep` is spelled from."""
    names = tuple(
        (name, bindings)
        for name, bindings in module.names.items()
        if name in libraries
        or any(b.kind == "import" and b.dotted[0] in libraries for b in bindings)
    )
    return (names, module.libraries & libraries)


def module_scope_detections(bodies: list[list[ast.stmt]], scope: Scope) -> list[Detection]:
    """The findings of what runs in the module's scope (only whole-statement rules apply)."""
    return [d for body in bodies for d in loop_work(rule_nodes(body), scope, False)]


def function_detections(
    function: Function, scope: Scope, catalogue: PerformanceCatalogue, libraries: frozenset[str]
) -> list[Detection]:
    """The findings of a top function and everything nested in it (`scope`: the module's)."""
    found: list[Detection] = []
    for body in function_bodies(function, scope):
        nodes = rule_nodes(body.statements)  # walked once for every rule
        if isinstance(body.function, ast.AsyncFunctionDef):
            found.extend(blocking_calls(body.function, nodes, body.scope, catalogue, libraries))
        found.extend(loop_work(nodes, body.scope, in_function=body.function is not None))
        found.extend(queries_in_loops(nodes, body.scope))
        found.extend(relation_reads(nodes, body.scope))
        found.extend(lazy_loads(nodes, body.scope))
        if body.function is not None:
            found.extend(repeated_work(nodes, body.scope))
    return found


def detect(statement: ast.stmt, scope: Scope, libraries: frozenset[str]) -> list[Detection]:
    """The findings of one top-level statement, in its text's numbering (`scope`: the
    module's; `libraries`: the top-level modules it imports)."""
    bodies, functions = module_parts(statement)
    found = module_scope_detections(bodies, scope)
    for function in functions:
        found.extend(function_detections(function, scope, scope.catalogue, libraries))
    return found


def import_line(placed: Iterable[tuple[int, StatementFacts]]) -> int | None:
    """The 1-based line an added `import` goes on: that of the module's first statement after
    its docstring and `__future__` imports (its first import, usually). `placed`: (line
    offset, facts) of the top-level statements in order."""
    for offset, facts in placed:
        if facts.kind not in (DOCSTRING, FUTURE):
            return offset + facts.first_line
    return None
