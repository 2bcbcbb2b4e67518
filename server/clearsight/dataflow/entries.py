"""Entry points: every function of the file, run with what its callers may pass.

A function is run once on its own. Its parameters are unknown, except where a framework
says what they hold: a Flask route's `<name>` parameters, a FastAPI route's parameters
(validated types excepted), a Django view's request and URL parameters, a method's `self`.
The catalogue's `handlers` tables say which decorators and names mean what.
"""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING

from clearsight.dataflow.catalogue import Handler
from clearsight.dataflow.frame import Frame
from clearsight.dataflow.scope import Definition
from clearsight.dataflow.values import NUMBER, UNKNOWN, Value, container, mapping

if TYPE_CHECKING:
    from clearsight.dataflow.interpreter import Interpreter

# Flask's `<converter:name>` route variables; int/float converters give numbers.
_ROUTE_VARIABLE = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
_NUMBER_CONVERTERS = frozenset({"int", "float"})


class Entries:
    """Entry frames for functions (mixed into `Interpreter`)."""

    def entry_frame(self: Interpreter, definition: Definition) -> Frame:
        node = definition.node
        assert not isinstance(node, ast.ClassDef)
        arguments = node.args
        positional = [*arguments.posonlyargs, *arguments.args]
        env: dict[str, Value] = {p.arg: UNKNOWN for p in [*positional, *arguments.kwonlyargs]}
        if arguments.vararg is not None:
            env[arguments.vararg.arg] = container(None, pytype="tuple")
        if arguments.kwarg is not None:
            env[arguments.kwarg.arg] = mapping(None)
        own = positional
        if definition.owner is not None and positional and not self.is_staticmethod(definition):
            first = positional[0].arg
            if self.is_classmethod(definition):
                env[first] = Value(local=definition.owner)
            else:
                env[first] = Value(instance_of=definition.owner)
            own = positional[1:]
        frame = Frame(definition.module, definition, env, anchor=definition.anchor)
        for handler in definition.module.handlers:
            if handler.parameters in ("path-template", "typed"):
                template = self._route(definition, handler)
                if template is None:
                    continue
                frame.handler = handler
                if handler.request_object and "<" not in template:
                    self.fixed = frozenset((handler.request_object, a) for a in handler.route_fixed)
                if handler.parameters == "path-template":
                    self._bind_template(template, own, env, frame)
                else:
                    self._bind_typed(handler, [*own, *arguments.kwonlyargs], definition, env, frame)
                break
            if handler.parameters == "request" and self._bind_request(
                handler, own, definition, env
            ):
                frame.handler = handler
                break
        return frame

    def _route(self: Interpreter, definition: Definition, handler: Handler) -> str | None:
        """The path template of a route decorator (`@app.route("/u/<name>")`), or None."""
        for decorator in getattr(definition.node, "decorator_list", ()):
            if not (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)):
                continue
            if decorator.func.attr not in handler.decorators:
                continue
            first = decorator.args[0] if decorator.args else None
            if first is None:
                first = next(
                    (k.value for k in decorator.keywords if k.arg in ("rule", "path")), None
                )
            if (
                isinstance(first, ast.Constant)
                and isinstance(first.value, str)
                and first.value.startswith("/")
            ):
                return first.value
        return None

    def _bind_template(
        self: Interpreter,
        template: str,
        parameters: list[ast.arg],
        env: dict[str, Value],
        frame: Frame,
    ) -> None:
        variables = {
            m.group("name"): m.group("converter") for m in _ROUTE_VARIABLE.finditer(template)
        }
        for parameter in parameters:
            if parameter.arg not in variables:
                continue
            if variables[parameter.arg] in _NUMBER_CONVERTERS:
                env[parameter.arg] = NUMBER
            else:
                env[parameter.arg] = self.source_value(
                    "remote", f"the URL parameter `{parameter.arg}`", parameter, frame
                )

    def _bind_typed(
        self: Interpreter,
        handler: Handler,
        parameters: list[ast.arg],
        definition: Definition,
        env: dict[str, Value],
        frame: Frame,
    ) -> None:
        defaults = _defaults(definition.node)
        module_frame = Frame(definition.module, None, {}, anchor=definition.anchor)
        clean = frozenset(handler.clean_annotations)
        for parameter in parameters:
            default = defaults.get(parameter.arg)
            if default is not None and isinstance(default, ast.Call):
                called = self.evaluate(default.func, module_frame)
                if called.ref and self.catalogue.canonical(called.ref) in handler.unbound_defaults:
                    continue
            annotation = self._annotation(parameter.annotation, module_frame)
            if annotation is not None:
                if annotation in handler.request_annotations:
                    env[parameter.arg] = Value(type=annotation)
                    continue
                if annotation.removeprefix("builtins.") in clean or annotation in clean:
                    env[parameter.arg] = NUMBER
                    continue
            env[parameter.arg] = self.source_value(
                "remote", f"the request parameter `{parameter.arg}`", parameter, frame
            )

    def _annotation(self: Interpreter, node: ast.expr | None, frame: Frame) -> str | None:
        """The qualified name an annotation names (`Annotated[int, ...]` and `int | None`
        name `int`)."""
        if node is None:
            return None
        if isinstance(node, ast.Subscript):
            base = self._annotation(node.value, frame)
            inner = (
                node.slice.elts[0]
                if isinstance(node.slice, ast.Tuple) and node.slice.elts
                else node.slice
            )
            if base and base.rpartition(".")[2] in ("Annotated", "Optional"):
                return self._annotation(inner, frame)
            return base
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            left = self._annotation(node.left, frame)
            return (
                left if left not in (None, "builtins.None") else self._annotation(node.right, frame)
            )
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                return self._annotation(ast.parse(node.value, mode="eval").body, frame)
            except SyntaxError:
                return None
        value = self.evaluate(node, frame)
        return self.catalogue.canonical(value.ref) if value.ref else None

    def _bind_request(
        self: Interpreter,
        handler: Handler,
        parameters: list[ast.arg],
        definition: Definition,
        env: dict[str, Value],
    ) -> bool:
        """A Django-style view or helper: the parameter named (or annotated as) the request
        is one. Its other parameters are not followed: a function taking `request` may be
        a helper rather than a view, and URL converters are typed in another file."""
        module_frame = Frame(definition.module, None, {}, anchor=definition.anchor)
        for parameter in parameters:
            annotation = self._annotation(parameter.annotation, module_frame)
            if (
                parameter.arg == handler.request_parameter
                or annotation in handler.request_annotations
            ):
                env[parameter.arg] = Value(type=handler.request_type)
                return True
        return False


def _defaults(node: ast.AST) -> dict[str, ast.expr]:
    arguments = node.args  # type: ignore[attr-defined]
    positional = [*arguments.posonlyargs, *arguments.args]
    found = {
        p.arg: d
        for p, d in zip(
            positional[len(positional) - len(arguments.defaults) :], arguments.defaults, strict=True
        )
    }
    for parameter, default in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True):
        if default is not None:
            found[parameter.arg] = default
    return found
