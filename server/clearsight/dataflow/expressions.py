"""Expressions: what each kind of expression gives, from what its parts give.

Names resolve through the running function, its closure, the module's globals and the
builtins; attributes and subscripts follow known structure (a container's element, a
source object's attribute); operators combine taints and fold constants.
"""

from __future__ import annotations

import ast
import builtins
import operator
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from clearsight.dataflow import language
from clearsight.dataflow.catalogue import ObjectSource
from clearsight.dataflow.frame import Frame
from clearsight.dataflow.values import (
    NUMBER,
    UNKNOWN,
    Taint,
    Value,
    Where,
    bounded,
    constant,
    container,
    join,
    join_all,
    mapping,
    taints_of,
)

if TYPE_CHECKING:
    from clearsight.dataflow.interpreter import Interpreter

_BUILTIN_NAMES = frozenset(dir(builtins))
_FOLDABLE: dict[type[ast.AST], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Div: operator.truediv,
    ast.Pow: operator.pow, ast.LShift: operator.lshift, ast.RShift: operator.rshift,
    ast.BitOr: operator.or_, ast.BitAnd: operator.and_, ast.BitXor: operator.xor,
}  # fmt: skip
_COMPARE: dict[type[ast.AST], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge, ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b, ast.Is: operator.is_, ast.IsNot: operator.is_not,
}  # fmt: skip


def where(node: ast.AST, frame: Frame) -> Where:
    line = getattr(node, "lineno", 1)
    end_line = getattr(node, "end_lineno", None) or line
    anchor = frame.anchor
    base = anchor.base if anchor is not None else 0
    return Where(
        line - base,
        getattr(node, "col_offset", 0),
        end_line - base,
        getattr(node, "end_col_offset", None) or getattr(node, "col_offset", 0),
        frame.module.path,
        anchor.key if anchor is not None and frame.module.path is None else None,
    )


def describe(node: ast.AST) -> str:
    """Short source-like text for messages: `request.args.get()`, `bar`."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{describe(node.value)}.{node.attr}"
    if isinstance(node, ast.Call):
        return f"{describe(node.func)}()"
    if isinstance(node, ast.Subscript):
        inner = node.slice
        key = repr(inner.value) if isinstance(inner, ast.Constant) else "…"
        return f"{describe(node.value)}[{key}]"
    return "…"


class Expressions:
    """The expression half of the interpreter (mixed into `Interpreter`)."""

    def evaluate(self: Interpreter, node: ast.expr | None, frame: Frame) -> Value:
        if node is None:
            return UNKNOWN
        method = getattr(self, f"_e_{type(node).__name__}", None)
        if method is None:
            return UNKNOWN
        return method(node, frame)

    # -- names and constants -----------------------------------------------------------

    def _e_Constant(self: Interpreter, node: ast.Constant, frame: Frame) -> Value:
        value = node.value
        if isinstance(value, str | bytes) and len(value) > language.MAX_TEXT:
            return Value(
                pytype=type(value).__name__, prefix=value[:64] if isinstance(value, str) else ""
            )
        if value is Ellipsis:
            return UNKNOWN
        return constant(value)

    def _e_Name(self: Interpreter, node: ast.Name, frame: Frame) -> Value:
        return self.lookup(node.id, frame)

    def lookup(self: Interpreter, name: str, frame: Frame) -> Value:
        value = frame.env.get(name)
        if value is not None:
            return value
        value = frame.lookup_closure(name)
        if value is not None:
            return value
        if frame.class_definition is not None and frame.definition is None:
            value = frame.class_definition.namespace.get(name)  # a class body's own names
            if value is not None:
                return value
        value = frame.module.globals.get(name)
        if value is not None:
            return value
        if name in _BUILTIN_NAMES:
            return Value(ref=f"builtins.{name}")
        return UNKNOWN

    # -- attributes and subscripts -------------------------------------------------------

    def _e_Attribute(self: Interpreter, node: ast.Attribute, frame: Frame) -> Value:
        base = self.evaluate(node.value, frame)
        return self.attribute(base, node.attr, node, frame)

    def attribute(self: Interpreter, base: Value, name: str, node: ast.AST, frame: Frame) -> Value:
        catalogue = self.catalogue
        if base.ref is not None:
            qualified = catalogue.canonical(f"{base.ref}.{name}")
            found = self.ref_value(qualified, node, frame)
            source = catalogue.object_sources.get(base.ref)
            if source is not None and name in source.attributes:
                if (base.ref, name) in self.fixed:
                    return Value(pytype="str", prefix="/")
                return self.source_attribute(source, name, node, frame)
            if source is not None and name in source.methods:
                return Value(ref=qualified)
            return found
        if base.instance_of is not None:
            field = base.field(name)
            if field is not None:
                return field
            member = self.class_member(base.instance_of, name)
            if member is not None:
                if member.local is not None and not member.local.is_class:
                    return Value(local=member.local, receiver=base)
                return member
            inherited = self.inherited_attribute(base, name, node, frame)
            if inherited is not None:
                return inherited
        if base.local is not None and base.local.is_class:
            member = self.class_member(base.local, name)
            if member is not None:
                return member
        if base.type is not None:
            typed = self.typed_attribute(base.type, name, node, frame)
            if typed is not None:
                return typed
        if base.taints:
            # An attribute of untrusted data (`url.netloc`, `upload.filename`) is untrusted.
            return Value(taints=base.taints, view_of=base.view_of)
        return UNKNOWN

    def typed_attribute(
        self: Interpreter, type_name: str, name: str, node: ast.AST, frame: Frame
    ) -> Value | None:
        for ancestor in self.catalogue.lineage(type_name):
            source = self.catalogue.object_sources.get(ancestor)
            if source is not None and name in source.attributes:
                result_type = self.catalogue.types.get(f"{ancestor}.{name}")
                return self.source_attribute(source, name, node, frame, result_type)
            result_type = self.catalogue.types.get(f"{ancestor}.{name}")
            if result_type is not None:
                return Value(type=result_type)
            if source is not None and name in source.methods:
                return Value(type=ancestor, ref=None)
        return None

    def source_attribute(
        self: Interpreter,
        source: ObjectSource,
        name: str,
        node: ast.AST,
        frame: Frame,
        type_: str | None = None,
    ) -> Value:
        """A source object's attribute (or method result): untrusted, except for the
        classes the catalogue clears it for, and only under some keys for some mappings."""
        label = source.attributes.get(name) or source.methods.get(name, "untrusted data")
        value = self.source_value(source.kind, f"the {label}", node, frame, type_=type_)
        cleared = source.cleared.get(name)
        if cleared:
            value = value.cleared(cleared)
        prefixes = source.keys.get(name)
        if prefixes:
            value = replace(value, key_prefixes=prefixes)
        return value

    def source_value(
        self: Interpreter,
        kind: str,
        label: str,
        node: ast.AST,
        frame: Frame,
        ref: str | None = None,
        type_: str | None = None,
    ) -> Value:
        taint = Taint(kind=kind, label=label, where=where(node, frame))
        return Value(taints=frozenset((taint,)), ref=ref, type=type_)

    def ref_value(self: Interpreter, qualified: str, node: ast.AST, frame: Frame) -> Value:
        """What a qualified name is: an untrusted value, another module's definition, or
        just the name."""
        catalogue = self.catalogue
        source = catalogue.value_sources.get(qualified)
        if source is not None:
            value = self.source_value(
                source.kind, f"the {source.label}", node, frame, ref=qualified
            )
            return value
        found = self.project_value(qualified, load=False)
        if found is not None:
            return found
        return Value(ref=qualified)

    def _e_Subscript(self: Interpreter, node: ast.Subscript, frame: Frame) -> Value:
        base = self.evaluate(node.value, frame)
        index = node.slice
        if isinstance(index, ast.Slice):
            lower = self.evaluate(index.lower, frame) if index.lower else None
            upper = self.evaluate(index.upper, frame) if index.upper else None
            step = self.evaluate(index.step, frame) if index.step else None
            return language.slice_value(base, lower, upper, step)
        key = self.evaluate(index, frame)
        return self.subscript(base, key, node, frame)

    def subscript(self: Interpreter, base: Value, key: Value, node: ast.AST, frame: Frame) -> Value:
        if (
            base.key_prefixes is not None
            and isinstance(key.const, str)
            and not key.const.startswith(base.key_prefixes)
        ):
            return UNKNOWN  # a key the server sets (META["REMOTE_ADDR"])
        if key.known:
            result = language.subscript_const(base, key.const)
            if isinstance(key.const, str):
                result = self.keyed(result, key.const, node, frame)
            return result
        if base.entries is not None or base.items is not None:
            return base.element()
        if base.taints:
            return Value(taints=base.taints, pytype="str" if base.pytype == "str" else None)
        return UNKNOWN

    def keyed(self: Interpreter, value: Value, key: str, node: ast.AST, frame: Frame) -> Value:
        """A value read from a source mapping by name: the label names the key."""
        if not value.taints or len(key) > 64:
            return value
        renamed = []
        changed = False
        for taint in value.taints:
            if not taint.keyed and not taint.steps and taint.kind != "random":
                taint = Taint(
                    kind=taint.kind,
                    label=f"{taint.label} `{key}`",
                    where=where(node, frame),
                    cleared=taint.cleared,
                    assumed=taint.assumed,
                    keyed=True,
                )
                changed = True
            renamed.append(taint)
        return Value(taints=bounded(renamed), pytype=value.pytype) if changed else value

    # -- operators -----------------------------------------------------------------------

    def _e_BinOp(self: Interpreter, node: ast.BinOp, frame: Frame) -> Value:
        left = self.evaluate(node.left, frame)
        right = self.evaluate(node.right, frame)
        result = self.binary(node.op, left, right)
        if result.pytype == "str" or (isinstance(node.op, ast.Mod) and language.is_text(left)):
            self.note_constant(node, [result], frame)
        return result

    def binary(self: Interpreter, op: ast.operator, left: Value, right: Value) -> Value:
        folded = self._fold_binary(op, left, right)
        if folded is not None:
            return folded
        if isinstance(op, ast.Add):
            if (
                left.items is not None
                or right.items is not None
                or left.pytype in ("list", "tuple")
            ):
                return self._add_sequences(left, right)
            if language.is_text(left) or language.is_text(right):
                return language.concat([left, right])
        if isinstance(op, ast.Mod) and (language.is_text(left) or left.taints):
            # "%s" % value: the format's text up to its first field is kept.
            prefix = left.prefix.split("%", 1)[0] if left.prefix else ""
            arguments = right.items if right.items is not None else (right,)
            return Value(taints=taints_of([left, *arguments, right]), prefix=prefix, pytype="str")
        if isinstance(op, ast.Div) and (
            left.type == "pathlib.Path" or right.type == "pathlib.Path"
        ):
            return Value(taints=taints_of([left, right]), type="pathlib.Path")
        if isinstance(op, ast.Mult) and (language.is_text(left) or language.is_text(right)):
            return Value(taints=taints_of([left, right]), pytype=left.pytype or right.pytype)
        if left.number and right.number:
            return Value(number=True, taints=taints_of([left, right]))
        return Value(
            taints=taints_of([left, right]), type=left.type if left.type == right.type else None
        )

    def _add_sequences(self: Interpreter, left: Value, right: Value) -> Value:
        if left.items is not None and right.items is not None:
            return container((*left.items, *right.items), pytype=left.pytype)
        lead = left.items if left.items is not None else left.lead
        return container(None, taints_of([left, right]), pytype=left.pytype or "list", lead=lead)

    def _fold_binary(
        self: Interpreter, op: ast.operator, left: Value, right: Value
    ) -> Value | None:
        function = _FOLDABLE.get(type(op))
        if function is None or not (left.known and right.known):
            return None
        a, b = left.const, right.const
        if isinstance(op, ast.Pow | ast.LShift) and isinstance(b, int) and abs(b) > 64:
            return None
        if isinstance(op, ast.Mult) and (isinstance(a, str | bytes) or isinstance(b, str | bytes)):
            count = b if isinstance(a, str | bytes) else a
            if (
                not isinstance(count, int)
                or count * len(a if isinstance(a, str | bytes) else b) > language.MAX_TEXT
            ):  # type: ignore[arg-type]
                return None
        try:
            return language.fold(function(a, b))
        except Exception:
            return None

    def _e_BoolOp(self: Interpreter, node: ast.BoolOp, frame: Frame) -> Value:
        values = []
        for operand in node.values:
            value = self.evaluate(operand, frame)
            truth = self.truth(value)
            is_or = isinstance(node.op, ast.Or)
            if (truth is True and is_or) or (truth is False and not is_or):
                values.append(value)
                return join_all(values)
            if truth is None or operand is node.values[-1]:
                values.append(value)
        return join_all(values)

    def truth(self: Interpreter, value: Value) -> bool | None:
        """Whether a value is certainly true / false (None: either)."""
        if value.consts is not None:
            truths = set()
            for const in value.consts:
                try:
                    truths.add(bool(const))
                except Exception:
                    return None
            return truths.pop() if len(truths) == 1 else None
        if value.prefix:  # a string that starts with text is not empty
            return True
        if value.items is not None and value.pytype in ("list", "tuple"):
            return bool(value.items)
        if value.ref is not None or value.local is not None or value.instance_of is not None:
            return True
        return None

    def _e_UnaryOp(self: Interpreter, node: ast.UnaryOp, frame: Frame) -> Value:
        operand = self.evaluate(node.operand, frame)
        if isinstance(node.op, ast.Not):
            truth = self.truth(operand)
            return constant(not truth) if truth is not None else Value(number=True, pytype="bool")
        if operand.known and isinstance(operand.const, int | float | complex):
            try:
                return language.fold(
                    {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Invert: operator.invert}[
                        type(node.op)
                    ](operand.const)
                )
            except Exception:
                return NUMBER
        return Value(number=operand.number, taints=operand.taints)

    def _e_Compare(self: Interpreter, node: ast.Compare, frame: Frame) -> Value:
        left = self.evaluate(node.left, frame)
        result: bool | None = True
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = self.evaluate(comparator, frame)
            outcome = self.compare(op, left, right)
            if outcome is False:
                return constant(False)
            if outcome is None:
                result = None
            left = right
        return constant(True) if result else Value(number=True, pytype="bool")

    def compare(self: Interpreter, op: ast.cmpop, left: Value, right: Value) -> bool | None:
        function = _COMPARE.get(type(op))
        if function is None:
            return None
        if isinstance(op, ast.In | ast.NotIn) and left.known and right.known is False:
            # `"x" in text` with the text partly known: true if the known part holds it.
            needle = left.const
            if (
                isinstance(needle, str)
                and needle
                and (needle in right.prefix or needle in right.suffix)
            ):
                return isinstance(op, ast.In)
        if not (left.consts is not None and right.consts is not None):
            return None
        outcomes = set()
        for a in left.consts:
            for b in right.consts:
                try:
                    outcomes.add(bool(function(a, b)))
                except Exception:
                    return None
        return outcomes.pop() if len(outcomes) == 1 else None

    def _e_IfExp(self: Interpreter, node: ast.IfExp, frame: Frame) -> Value:
        truth = self.truth(self.evaluate(node.test, frame))
        if truth is True:
            return self.evaluate(node.body, frame)
        if truth is False:
            return self.evaluate(node.orelse, frame)
        return join(
            self._refined(node.body, node.test, True, frame),
            self._refined(node.orelse, node.test, False, frame),
        )

    def _refined(
        self: Interpreter, node: ast.expr, test: ast.expr, truth: bool, frame: Frame
    ) -> Value:
        """An expression evaluated where `test` has this truth (`x if ok(x) else ""`)."""
        saved = frame.env
        refined = self.refine(test, dict(saved), truth, frame)
        if refined is None:
            return UNKNOWN
        frame.env = refined
        try:
            return self.evaluate(node, frame)
        finally:
            frame.env = saved

    def _e_NamedExpr(self: Interpreter, node: ast.NamedExpr, frame: Frame) -> Value:
        value = self.evaluate(node.value, frame)
        self.assign(node.target, value, frame, node)
        return value

    # -- strings -------------------------------------------------------------------------

    def _e_JoinedStr(self: Interpreter, node: ast.JoinedStr, frame: Frame) -> Value:
        parts = [self.evaluate(value, frame) for value in node.values]
        result = language.concat(parts)
        self.note_constant(node, [result], frame)
        for value in node.values:  # bandit reports the text part's own position (3.12)
            if isinstance(value, ast.Constant):
                self.note_constant(value, [result], frame)
        return result

    def _e_FormattedValue(self: Interpreter, node: ast.FormattedValue, frame: Frame) -> Value:
        value = self.evaluate(node.value, frame)
        if node.format_spec is not None or node.conversion not in (-1, None):
            if value.known and node.format_spec is None and node.conversion == ord("s"):
                return language.fold(str(value.const))
            if node.conversion == ord("r"):
                # repr() quotes the text and escapes line breaks: safe for logs.
                return Value(
                    taints=value.cleared(frozenset({"log", "header"})).taints, pytype="str"
                )
            return Value(taints=value.taints, pytype="str")
        if value.known and not isinstance(value.const, str):
            try:
                return language.fold(format(value.const))
            except Exception:
                return Value(pytype="str")
        if value.pytype != "str" and not value.known:
            return Value(
                taints=value.taints, prefix=value.prefix, suffix=value.suffix, pytype="str"
            )
        return value

    # -- containers ----------------------------------------------------------------------

    def _e_List(self: Interpreter, node: ast.List, frame: Frame) -> Value:
        return self._sequence(node.elts, frame, "list")

    def _e_Tuple(self: Interpreter, node: ast.Tuple, frame: Frame) -> Value:
        return self._sequence(node.elts, frame, "tuple")

    def _e_Set(self: Interpreter, node: ast.Set, frame: Frame) -> Value:
        values = [self.evaluate(e, frame) for e in node.elts]
        consts = None
        if all(v.known for v in values):
            consts = frozenset(v.const for v in values)
        return Value(
            taints=taints_of(values), pytype="set", items=tuple(values) if consts else None
        )

    def _sequence(self: Interpreter, elements: list[ast.expr], frame: Frame, pytype: str) -> Value:
        items: list[Value] = []
        known = True
        extra = []
        for element in elements:
            if isinstance(element, ast.Starred):
                value = self.evaluate(element.value, frame)
                if value.items is not None and known:
                    items.extend(value.items)
                else:
                    known = False
                    extra.append(value.element())
                continue
            items.append(self.evaluate(element, frame))
        if not known:
            return container(None, taints_of([*items, *extra]), pytype=pytype, lead=tuple(items))
        return container(tuple(items), pytype=pytype)

    def _e_Dict(self: Interpreter, node: ast.Dict, frame: Frame) -> Value:
        entries = []
        known = True
        taints = []
        for key_node, value_node in zip(node.keys, node.values, strict=True):
            value = self.evaluate(value_node, frame)
            if key_node is None:  # **other
                if value.entries is not None:
                    entries.extend(value.entries)
                else:
                    known = False
                    taints.append(value)
                continue
            key = self.evaluate(key_node, frame)
            taints.append(key)
            if key.known:
                entries = [(k, v) for k, v in entries if k != key.const]
                entries.append((key.const, value))
            else:
                known = False
                taints.append(value)
        return mapping(
            tuple(entries) if known else None, taints_of([*taints, *(v for _, v in entries)])
        )

    def _comprehension(
        self: Interpreter, generators: list[ast.comprehension], frame: Frame
    ) -> Frame:
        """A frame for a comprehension's body: targets bound to their iterables' elements,
        conditions applied (variables do not leak out)."""
        inner = Frame(
            frame.module, frame.definition, dict(frame.env), depth=frame.depth, anchor=frame.anchor
        )
        inner.class_definition = frame.class_definition
        for generator in generators:
            iterable = self.evaluate(generator.iter, inner)
            self.assign(generator.target, self.iterate(iterable), inner, generator)
            for condition in generator.ifs:
                refined = self.refine(condition, inner.env, True, inner)
                if refined is not None:
                    inner.env = refined
        return inner

    def _e_ListComp(self: Interpreter, node: ast.ListComp, frame: Frame) -> Value:
        inner = self._comprehension(node.generators, frame)
        return container(None, self.evaluate(node.elt, inner).taints)

    def _e_SetComp(self: Interpreter, node: ast.SetComp, frame: Frame) -> Value:
        inner = self._comprehension(node.generators, frame)
        return Value(taints=self.evaluate(node.elt, inner).taints, pytype="set")

    def _e_GeneratorExp(self: Interpreter, node: ast.GeneratorExp, frame: Frame) -> Value:
        inner = self._comprehension(node.generators, frame)
        return container(None, self.evaluate(node.elt, inner).taints, pytype=None)

    def _e_DictComp(self: Interpreter, node: ast.DictComp, frame: Frame) -> Value:
        inner = self._comprehension(node.generators, frame)
        values = [self.evaluate(node.key, inner), self.evaluate(node.value, inner)]
        return mapping(None, taints_of(values))

    def iterate(self: Interpreter, iterable: Value) -> Value:
        """What a loop over the value binds each time round."""
        if iterable.items is not None or iterable.entries is not None:
            if iterable.entries is not None:
                return (
                    join_all(language.fold(k) for k, _ in iterable.entries)
                    if iterable.entries
                    else UNKNOWN
                )
            return iterable.element()
        if iterable.known and isinstance(iterable.const, str):
            return Value(pytype="str")
        return Value(taints=iterable.taints, pytype="str" if iterable.pytype == "str" else None)

    # -- the rest ------------------------------------------------------------------------

    def _e_Await(self: Interpreter, node: ast.Await, frame: Frame) -> Value:
        return self.evaluate(node.value, frame)

    def _e_Starred(self: Interpreter, node: ast.Starred, frame: Frame) -> Value:
        return self.evaluate(node.value, frame)

    def _e_Lambda(self: Interpreter, node: ast.Lambda, frame: Frame) -> Value:
        return Value(local=self.define(node, frame))

    def _e_Yield(self: Interpreter, node: ast.Yield, frame: Frame) -> Value:
        frame.yields = True
        if node.value is not None:
            frame.returns.append(self.evaluate(node.value, frame))
        return UNKNOWN

    def _e_YieldFrom(self: Interpreter, node: ast.YieldFrom, frame: Frame) -> Value:
        frame.yields = True
        frame.returns.append(self.iterate(self.evaluate(node.value, frame)))
        return UNKNOWN

    def _e_Call(self: Interpreter, node: ast.Call, frame: Frame) -> Value:
        return self.call(node, frame)
