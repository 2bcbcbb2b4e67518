"""Modules and definitions the dataflow analysis runs: what names mean where.

A `ModuleScope` is one module's globals after its body has run (imports as qualified names,
constants, its functions and classes as `Definition`s) and the frameworks it uses. A
`Definition` is a function, method or class of analysed code, with the variables of the
function it was defined in (its closure), so nested route handlers see what their
enclosing function set.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from clearsight.dataflow.catalogue import Handler

if TYPE_CHECKING:
    from clearsight.dataflow.module import Anchor
    from clearsight.dataflow.values import Value

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda


@dataclass(eq=False)
class ModuleScope:
    """One module: the analysed file (`path` None) or a project module it imports."""

    tree: ast.Module
    name: str  # dotted module name ("pkg.views"), "" when unknown
    package: str  # for relative imports
    path: str | None = None  # another module's file; None for the analysed file
    globals: dict[str, Value] = field(default_factory=dict)
    # Frameworks whose handler rules apply: the module imports them.
    handlers: tuple[Handler, ...] = ()
    # Top-level names the module imports (for the handlers' `imports`).
    imported: frozenset[str] = frozenset()
    ran: bool = False

    def __repr__(self) -> str:
        return f"ModuleScope({self.name or self.path or '<file>'})"


@dataclass(eq=False)
class Definition:
    """A function, method, lambda or class of analysed code (identity is the node)."""

    node: FunctionNode | ast.ClassDef
    module: ModuleScope
    closure: Mapping[str, Value] = field(default_factory=dict)
    owner: Definition | None = None  # the class a method is defined in
    # A class's body names (methods, class attributes) and base classes.
    namespace: dict[str, Value] = field(default_factory=dict)
    bases: tuple[Value, ...] = ()
    decorators: tuple[Value, ...] = ()
    anchor: Anchor | None = None  # the unit it is defined in (analysed file only)

    @property
    def name(self) -> str:
        return getattr(self.node, "name", "<lambda>")

    @property
    def is_class(self) -> bool:
        return isinstance(self.node, ast.ClassDef)

    @property
    def qualname(self) -> str:
        return f"{self.owner.qualname}.{self.name}" if self.owner else self.name

    def __repr__(self) -> str:
        return f"Definition({self.qualname})"
