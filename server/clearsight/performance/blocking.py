"""CS-T001: calls that block the event loop, inside `async def`.

Only calls the function makes itself: a nested `def` or `lambda` runs when it is called
(typically in a thread: `asyncio.to_thread(fetch)`, `loop.run_in_executor(None, fetch)`), and a
callable passed along (`to_thread(time.sleep, 1)`) is not a call here. Callees are resolved
through the module's imports and the bindings of the scopes around the call
(`s = requests.Session()`, `client: httpx.Client`); anything unresolved is left alone.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence

from clearsight.performance.catalogue import PerformanceCatalogue
from clearsight.performance.names import Scope
from clearsight.performance.rules import BLOCKING_IN_ASYNC, Detection, SleepFix, where_of
from clearsight.performance.walk import Placed

_MAX_SHOWN = 40  # characters of a callee's text in a message


def blocking_calls(
    function: ast.AsyncFunctionDef,
    nodes: Sequence[Placed],
    scope: Scope,
    catalogue: PerformanceCatalogue,
    libraries: frozenset[str],
) -> Iterator[Detection]:
    """`nodes`: the function body's `rule_nodes`."""
    standalone: set[int] = set()  # calls that are a statement of their own
    for node, _ in nodes:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            standalone.add(id(node.value))
        if not isinstance(node, ast.Call):
            continue
        qualname = scope.meaning(node.func).qualname
        kind = catalogue.blocking.get(qualname) if qualname else None
        if kind is None:
            continue
        shown = _shown(node.func)
        message = (
            f"`{shown}()` {kind.what} inside `async def {function.name}`: the event loop "
            f"stops until it returns, and every other task waits. Use {kind.instead}."
        )
        fix = None
        if qualname == "time.sleep" and id(node) in standalone:
            fix = _sleep_fix(node, scope, catalogue, libraries)
        yield Detection(BLOCKING_IN_ASYNC.code, where_of(node.func), message, fix)


def _shown(node: ast.expr) -> str:
    text = ast.unparse(node)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…"


def _sleep_fix(
    call: ast.Call, scope: Scope, catalogue: PerformanceCatalogue, libraries: frozenset[str]
) -> SleepFix | None:
    loops = sorted(libraries & catalogue.event_loops.keys())
    if len(loops) > 1:
        return None  # two event-loop libraries: which sleep is meant is a guess
    library = loops[0] if loops else "asyncio"
    sleep = f"{library}.{catalogue.event_loops[library]}"
    spelled, needs_import = _spelling(sleep, library, scope)
    if spelled is None:
        return None
    return SleepFix(where_of(call.func), spelled, library if needs_import else "", bool(loops))


def _spelling(sleep: str, library: str, scope: Scope) -> tuple[str | None, bool]:
    """How the code can name the event loop's sleep: a name bound to it or to its module,
    else the module's own name once it is imported (None if that name means something
    else here)."""
    names = sorted(scope.module.names)
    for name in names:
        if scope.lookup(name).qualname == library:
            return f"{name}.{sleep.rsplit('.', 1)[1]}", False
    for name in names:
        if scope.lookup(name).qualname == sleep:
            return name, False
    if scope.lookup(library).known or scope.lookup(library).local:
        return None, False
    if any(library in s.names for s in _chain(scope)):
        return None, False
    return sleep, True


def _chain(scope: Scope) -> Iterator[Scope]:
    current: Scope | None = scope
    while current is not None:
        yield current
        current = current.parent
