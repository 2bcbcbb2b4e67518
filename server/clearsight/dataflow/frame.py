"""One running function (or module body, or class body) of the abstract interpreter."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from clearsight.dataflow.catalogue import Handler

if TYPE_CHECKING:
    from clearsight.dataflow.module import Anchor
from clearsight.dataflow.scope import Definition, ModuleScope
from clearsight.dataflow.values import Value, join

Env = dict[str, Value]


def join_envs(a: Env | None, b: Env | None) -> Env | None:
    """The variables after two paths meet (None: a path that does not go on)."""
    if a is None:
        return None if b is None else dict(b)
    if b is None:
        return dict(a)
    if a is b:
        return dict(a)
    merged = dict(a)
    for name, value in b.items():
        old = merged.get(name)
        # Bound on one path only: reading it on the other raises, so it holds that value.
        merged[name] = value if old is None else join(old, value)
    return merged


@dataclass
class Loop:
    """Where the paths that leave a loop body early go."""

    breaks: list[Env] = field(default_factory=list)
    continues: list[Env] = field(default_factory=list)


@dataclass
class Frame:
    module: ModuleScope
    definition: Definition | None
    env: Env
    # The class being defined, for a class body.
    class_definition: Definition | None = None
    returns: list[Value] = field(default_factory=list)
    yields: bool = False
    loops: list[Loop] = field(default_factory=list)
    handler: Handler | None = None  # set for a route handler / view
    # Variables holding a test's result (`ok = url_has_allowed_host_and_scheme(url)`), so
    # `if ok:` vouches as the test would.
    conditions: dict[str, ast.expr] = field(default_factory=dict)
    depth: int = 0  # calls between the entry point and this frame
    # The unit of the analysed file this frame's code is in (positions are relative to it).
    anchor: Anchor | None = None

    def lookup_closure(self, name: str) -> Value | None:
        if self.definition is not None:
            return self.definition.closure.get(name)
        return None


def target_names(target: ast.expr) -> list[str]:
    """The plain names an assignment target binds."""
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, ast.Tuple | ast.List):
        return [name for element in target.elts for name in target_names(element)]
    if isinstance(target, ast.Starred):
        return target_names(target.value)
    return []
