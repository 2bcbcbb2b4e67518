"""Calls: methods of builtin types, the catalogue's library functions, and the analysed
code's own functions, classes and methods (run with the arguments' values, memoised).

A call nothing models hands its arguments' (and receiver's) taint on, marked as assumed,
except where the call's name says it returns a boolean or a count.
"""

from __future__ import annotations

import ast
from dataclasses import replace
from typing import TYPE_CHECKING

from clearsight.dataflow import language
from clearsight.dataflow.expressions import describe, where
from clearsight.dataflow.frame import Frame
from clearsight.dataflow.scope import Definition
from clearsight.dataflow.sinks import goes_through
from clearsight.dataflow.values import (
    NUMBER,
    UNKNOWN,
    Step,
    Value,
    Where,
    constant,
    container,
    join,
    join_all,
    mapping,
    taints_of,
)

if TYPE_CHECKING:
    from clearsight.dataflow.interpreter import Interpreter

# Methods of untrusted mappings (request.args, headers, cookies) that read from them.
_MAPPING_READS = frozenset(
    {"get", "getlist", "getall", "get_all", "getone", "values", "items", "keys", "lists",
     "to_dict", "dict", "copy", "pop", "popitem", "listvalues", "get_list"}
)  # fmt: skip
_KEYED_READS = frozenset({"get", "getlist", "getall", "get_all", "getone", "pop", "get_list"})
# Method names that return a boolean or a number whatever their receiver is.
_COUNTING_PREFIXES = ("is_", "has_", "can_", "should_", "count", "len", "size")
_COUNTING_METHODS = frozenset(
    {"exists", "is_file", "is_dir", "startswith", "endswith", "isdigit", "isalnum", "isalpha",
     "find", "rfind", "index", "count", "__len__", "__contains__", "__bool__", "__eq__",
     "__hash__", "match_count", "total_seconds", "timestamp", "qsize", "fileno", "poll",
     "wait", "returncode", "tell", "seek", "bit_length", "rowcount", "lastrowid"}
)  # fmt: skip
MAX_DEPTH = 4  # calls followed into the analysed code below an entry point


def _made_of_constants(value: Value) -> bool:
    if value.taints:
        return False
    if value.fixed or value.consts is not None:
        return True
    if value.items is not None:
        return all(_made_of_constants(item) for item in value.items)
    return False


class Calls:
    """The call half of the interpreter (mixed into `Interpreter`)."""

    def call(self: Interpreter, node: ast.Call, frame: Frame) -> Value:
        args, kwargs = self.arguments(node, frame)
        func = node.func
        called = func.attr if isinstance(func, ast.Attribute) else describe(func)
        self.check_call_policies(called, args, kwargs, None, node, frame)
        if isinstance(func, ast.Attribute):
            receiver = self.evaluate(func.value, frame)
            return self.method_call(receiver, func.attr, args, kwargs, node, frame)
        callee = self.evaluate(func, frame)
        return self.call_value(callee, args, kwargs, node, frame)

    def arguments(
        self: Interpreter, node: ast.Call, frame: Frame
    ) -> tuple[list[Value], dict[str, Value]]:
        args: list[Value] = []
        for argument in node.args:
            if isinstance(argument, ast.Starred):
                spread = self.evaluate(argument.value, frame)
                if spread.items is not None:
                    args.extend(spread.items)
                else:
                    args.append(Value(taints=spread.taints))
                continue
            args.append(self.evaluate(argument, frame))
        kwargs: dict[str, Value] = {}
        for keyword in node.keywords:
            value = self.evaluate(keyword.value, frame)
            if keyword.arg is not None:
                kwargs[keyword.arg] = value
            elif value.entries is not None:
                kwargs.update({str(k): v for k, v in value.entries})
            else:
                kwargs["**"] = value
        return args, kwargs

    # -- calls on a receiver -------------------------------------------------------------

    def method_call(
        self: Interpreter,
        receiver: Value,
        name: str,
        args: list[Value],
        kwargs: dict[str, Value],
        node: ast.Call,
        frame: Frame,
    ) -> Value:
        builtin = self._builtin_method(receiver, name, args, kwargs, node, frame)
        if builtin is not None:
            if name == "format":
                self.note_constant(node, [builtin], frame)
            return builtin
        catalogue = self.catalogue
        if receiver.ref is not None:
            source = catalogue.object_sources.get(receiver.ref)
            if source is not None and name in source.methods:
                return self.source_attribute(source, name, node, frame)
            qualified = catalogue.canonical(f"{receiver.ref}.{name}")
            if self.knows(qualified) or self.project_value(qualified) is not None:
                return self.call_qualified(qualified, args, kwargs, node, frame)
            if not receiver.taints and not catalogue.method_sinks.get(name):
                return self.call_qualified(qualified, args, kwargs, node, frame)
        if receiver.instance_of is not None:
            method = self.class_member(receiver.instance_of, name)
            if method is not None and method.local is not None:
                return self.invoke(method.local, args, kwargs, node, frame, receiver=receiver)
            if method is not None:
                return self.call_value(method, args, kwargs, node, frame)
            for base in self.library_bases(receiver.instance_of):
                typed = self._typed_method(base, receiver, name, args, kwargs, node, frame)
                if typed is not None:
                    return typed
        if receiver.local is not None and receiver.local.is_class:
            member = self.class_member(receiver.local, name)
            if member is not None and member.local is not None:
                bound = Value(local=receiver.local) if self.is_classmethod(member.local) else None
                return self.invoke(member.local, args, kwargs, node, frame, receiver=bound)
        if receiver.type is not None:
            typed = self._typed_method(receiver.type, receiver, name, args, kwargs, node, frame)
            if typed is not None:
                return typed
        if receiver.local is not None and not receiver.local.is_class:
            return UNKNOWN  # a function's attribute (`f.cache_clear()`)
        if self.check_method_sinks(name, receiver, args, kwargs, node, frame):
            return UNKNOWN  # a sink's result (a cursor) does not carry what went in
        if catalogue.clean_receivers and any(
            goes_through(node.func, attribute) for attribute in catalogue.clean_receivers
        ):
            return UNKNOWN  # a database query's result
        if receiver.taints and name in _MAPPING_READS and receiver.pytype is None:
            return self._mapping_read(receiver, name, args, node, frame)
        return self.unknown_call(name, receiver)

    def _builtin_method(
        self: Interpreter,
        receiver: Value,
        name: str,
        args: list[Value],
        kwargs: dict[str, Value],
        node: ast.Call,
        frame: Frame,
    ) -> Value | None:
        """Methods of str, bytes, list, tuple, dict and set values."""
        pytype = receiver.pytype
        if pytype in ("str", "bytes") or (pytype is None and language.is_text(receiver)):
            return language.str_method(receiver, name, args, kwargs)
        if receiver.fixed and not receiver.taints and name in language.SAME_STR_METHODS:
            made = all(_made_of_constants(a) for a in args)
            return Value(pytype="bytes" if name == "encode" else "str", fixed=made)
        if (
            pytype is None
            and receiver.taints
            and receiver.type is None
            and name
            in language.SAME_STR_METHODS
            | language.BOOL_STR_METHODS
            | language.SPLIT_STR_METHODS
            | {"join", "format"}
        ):
            return language.str_method(receiver, name, args, kwargs)
        changed: tuple[Value, Value | None] | None = None
        if pytype in ("list", "tuple") or (pytype is None and receiver.items is not None):
            changed = language.list_method(receiver, name, args)
        elif pytype == "dict" or (
            pytype is None and receiver.entries is not None and receiver.type is None
        ):
            changed = language.dict_method(receiver, name, args, kwargs)
        elif pytype == "set":
            changed = language.set_method(receiver, name, args)
        if changed is None:
            return None
        result, new_receiver = changed
        if new_receiver is not None and isinstance(node.func, ast.Attribute):
            self.rebind(node.func.value, new_receiver, frame)
        return result

    def _mapping_read(
        self: Interpreter,
        receiver: Value,
        name: str,
        args: list[Value],
        node: ast.Call,
        frame: Frame,
    ) -> Value:
        """`request.args.get("q")`: the untrusted value, named by its key."""
        key = args[0] if args else None
        if (
            receiver.key_prefixes is not None
            and key is not None
            and isinstance(key.const, str)
            and not key.const.startswith(receiver.key_prefixes)
        ):
            return args[1] if name == "get" and len(args) > 1 else UNKNOWN
        result = Value(taints=receiver.taints)
        if name in ("getlist", "getall", "get_all", "values", "keys", "items", "lists", "get_list"):
            result = container(None, receiver.taints)
        elif name in ("to_dict", "dict", "copy"):
            result = mapping(None, receiver.taints)
        if name in _KEYED_READS and args and args[0].known and isinstance(args[0].const, str):
            result = self.keyed(result, args[0].const, node, frame)
        if name == "get" and len(args) > 1:
            result = join(result, args[1])
        return result

    def _typed_method(
        self: Interpreter,
        type_name: str,
        receiver: Value,
        name: str,
        args: list[Value],
        kwargs: dict[str, Value],
        node: ast.Call,
        frame: Frame,
    ) -> Value | None:
        """A method of a library class the catalogue knows (or of a keyed container)."""
        catalogue = self.catalogue
        for ancestor in catalogue.lineage(type_name):
            buffer = catalogue.buffers.get(ancestor)
            if buffer is not None and (name in buffer.writes or name in buffer.reads):
                if name in buffer.reads:
                    return Value(taints=receiver.taints, pytype="str")
                written = replace(receiver, taints=taints_of([receiver, *args]))
                if isinstance(node.func, ast.Attribute):
                    self.rebind(node.func.value, written, frame)
                return NUMBER
            keyed = catalogue.containers.get(ancestor)
            if keyed is not None:
                handled = self._keyed_container(keyed, receiver, name, args, node, frame)
                if handled is not None:
                    return handled
            source = catalogue.object_sources.get(ancestor)
            if source is not None and name in source.methods:
                result_type = catalogue.types.get(f"{ancestor}.{name}")
                return self.source_attribute(source, name, node, frame, result_type)
            qualified = f"{ancestor}.{name}"
            if self.knows(qualified):
                if qualified not in catalogue.sinks:
                    # Known for its result's type only (`sqlite3.Connection.execute` returns
                    # a cursor): it is still the sink its name is (`execute` runs SQL).
                    self.check_method_sinks(name, receiver, args, kwargs, node, frame)
                return self.call_qualified(qualified, args, kwargs, node, frame, receiver=receiver)
        return None

    def knows(self: Interpreter, qualified: str) -> bool:
        catalogue = self.catalogue
        return (
            qualified in catalogue.sinks
            or qualified in catalogue.types
            or qualified in catalogue.sanitizers
            or qualified in catalogue.propagators
            or qualified in catalogue.flags
            or qualified in catalogue.call_sources
            or qualified in catalogue.views
            or qualified in catalogue.guards
        )

    def _keyed_container(
        self: Interpreter,
        keyed,
        receiver: Value,
        name: str,
        args: list[Value],
        node: ast.Call,
        frame: Frame,
    ) -> Value | None:
        entries = receiver.entries
        if name == keyed.store_method and len(args) > max(*keyed.store_keys, keyed.store_value):
            keys = [args[i] for i in keyed.store_keys]
            value = args[keyed.store_value]
            if entries is not None and all(k.known for k in keys):
                key = tuple(k.const for k in keys)
                new = (*((k, v) for k, v in entries if k != key), (key, value))
            else:
                new = None
            updated = replace(receiver, entries=new, taints=taints_of([receiver, value, *keys]))
            if isinstance(node.func, ast.Attribute):
                self.rebind(node.func.value, updated, frame)
            return UNKNOWN
        if name in keyed.load_methods and len(args) > max(keyed.load_keys):
            keys = [args[i] for i in keyed.load_keys]
            if entries is not None and all(k.known for k in keys):
                found = receiver.entry(tuple(k.const for k in keys))
                return found if found is not None else Value()
            return receiver.element()
        return None

    # -- calls of a value ----------------------------------------------------------------

    def call_value(
        self: Interpreter,
        callee: Value,
        args: list[Value],
        kwargs: dict[str, Value],
        node: ast.Call,
        frame: Frame,
    ) -> Value:
        if callee.local is not None:
            return self.invoke(callee.local, args, kwargs, node, frame, receiver=callee.receiver)
        if callee.ref is not None:
            return self.call_qualified(callee.ref, args, kwargs, node, frame)
        if callee.instance_of is not None:
            method = self.class_member(callee.instance_of, "__call__")
            if method is not None and method.local is not None:
                return self.invoke(method.local, args, kwargs, node, frame, receiver=callee)
        return self.unknown_call(describe(node.func), None)

    def call_qualified(
        self: Interpreter,
        name: str,
        args: list[Value],
        kwargs: dict[str, Value],
        node: ast.Call,
        frame: Frame,
        receiver: Value | None = None,
    ) -> Value:
        catalogue = self.catalogue
        name = catalogue.canonical(name)
        defined = self.project_value(name)
        if defined is not None and defined.local is not None:
            return self.invoke(defined.local, args, kwargs, node, frame)
        if name.startswith("builtins."):
            special = self._builtin_call(name[9:], args, kwargs, node, frame)
            if special is not None:
                return special
        inputs = [*args, *kwargs.values(), *([receiver] if receiver is not None else [])]
        if name in catalogue.clean_results:
            return Value(type=catalogue.types.get(name))
        sinks = catalogue.sinks.get(name, ())
        for sink in sinks:
            self.check_sink(sink, name, args, kwargs, receiver, node, frame)
        result_type = catalogue.types.get(name)
        flags = self.flags_for(name, args, kwargs, receiver, node, frame)
        source = catalogue.call_sources.get(name)
        if source is not None:
            label = source.label if source.kind == "random" else f"the {source.label}"
            label = (
                f"a value from `{name.removeprefix('builtins.')}()`"
                if source.kind == "random"
                else label
            )
            value = self.source_value(source.kind, label, node, frame, type_=result_type)
            return replace(value, number=False)
        if name in catalogue.sanitizers:
            classes = catalogue.expand(catalogue.sanitizers[name])
            value = Value(taints=taints_of(inputs), type=result_type).cleared(classes)
            if catalogue.injection_classes <= classes:
                value = replace(value, number=True) if name.startswith("builtins.") else value
            return value
        if name in catalogue.views:
            value = Value(taints=taints_of(inputs), type=result_type)
            first = node.args[0] if node.args else None
            view_of = first.id if isinstance(first, ast.Name) else None
            if (
                view_of is None
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
            ):
                view_of = node.func.value.id
            flags = flags | ({"normalised"} if catalogue.views[name] else set())
            return replace(value, view_of=view_of, flags=frozenset(flags))
        if name in catalogue.propagators:
            fixed = bool(inputs) and all(_made_of_constants(v) for v in inputs)
            return Value(
                taints=taints_of(inputs), type=result_type, flags=frozenset(flags), fixed=fixed
            )
        if result_type is not None:
            keyed = catalogue.containers.get(result_type)
            return Value(type=result_type, flags=frozenset(flags), entries=() if keyed else None)
        if sinks:
            return UNKNOWN
        if name in catalogue.no_return:
            return UNKNOWN
        last = name.rpartition(".")[2]
        if last[:1].isupper():
            # A library class nothing models: its instance (what made it is not followed).
            return Value(type=name, flags=frozenset(flags))
        return self.unknown_call(name, receiver)

    def _builtin_call(
        self: Interpreter,
        name: str,
        args: list[Value],
        kwargs: dict[str, Value],
        node: ast.Call,
        frame: Frame,
    ) -> Value | None:
        made = language.builtin_container(name, args, kwargs)
        if made is not None:
            return made
        if (
            name == "getattr"
            and len(args) >= 2
            and args[1].known
            and isinstance(args[1].const, str)
        ):
            found = self.attribute(args[0], args[1].const, node, frame)
            return join(found, args[2]) if len(args) > 2 else found
        if name in ("str", "repr", "format") and args and args[0].known and not kwargs:
            try:
                return language.fold(
                    {"str": str, "repr": repr, "format": format}[name](args[0].const)
                )
            except Exception:
                return None
        if name == "str" and args:
            value = args[0]
            if value.pytype == "str":
                return value
            return Value(
                taints=value.taints, prefix=value.prefix, suffix=value.suffix, pytype="str"
            )
        return None

    def unknown_call(self: Interpreter, name: str, receiver: Value | None) -> Value:
        """A call nothing models. A method of untrusted data (`upload.read()`) is assumed to
        give untrusted data (marked as assumed); a function is not followed at all: what it
        does with its arguments is unknown, and unknown is silent."""
        last = name.rpartition(".")[2].rstrip("()")
        if last in _COUNTING_METHODS or last.startswith(_COUNTING_PREFIXES):
            return NUMBER
        if receiver is None or not receiver.taints:
            return UNKNOWN
        return Value(taints=receiver.taints).assumed()

    # -- the analysed code's own functions and classes ----------------------------------

    def invoke(
        self: Interpreter,
        definition: Definition,
        args: list[Value],
        kwargs: dict[str, Value],
        node: ast.Call,
        frame: Frame,
        receiver: Value | None = None,
    ) -> Value:
        if definition.is_class:
            return self.instantiate(definition, args, kwargs, node, frame)
        if self.is_staticmethod(definition):
            receiver = None
        key = (definition, tuple(args), tuple(sorted(kwargs.items())), receiver)
        cached = self.memo.get(key)
        if cached is not None:
            return cached
        if frame.depth >= MAX_DEPTH or definition in self.active or self.budget <= 0:
            # Too deep, recursive or over budget: what it returns is not followed.
            return self.not_followed(definition, args, kwargs, receiver, node, frame)
        call_site = where(node, frame)
        result = self.run_call(definition, args, kwargs, receiver, call_site, frame.depth + 1)
        self.memo[key] = result
        return result

    def not_followed(
        self: Interpreter,
        definition: Definition,
        args: list[Value],
        kwargs: dict[str, Value],
        receiver: Value | None,
        node: ast.Call,
        frame: Frame,
    ) -> Value:
        return self.unknown_call(definition.name, receiver)

    def run_call(
        self: Interpreter,
        definition: Definition,
        args: list[Value],
        kwargs: dict[str, Value],
        receiver: Value | None,
        call_site: Where,
        depth: int,
    ) -> Value:
        """The value a function of analysed code returns for these arguments."""
        env = self.bind_parameters(definition, args, kwargs, receiver, call_site)
        inner = Frame(definition.module, definition, env, depth=depth, anchor=definition.anchor)
        self.active.append(definition)
        try:
            result = self.run_function(definition, inner)
        finally:
            self.active.pop()
        if result.taints:
            result = result.with_step(Step(call_site, f"returned by `{definition.name}()`"))
        return result

    def run_function(self: Interpreter, definition: Definition, frame: Frame) -> Value:
        if self.evaluator is not None:
            self.evaluator.entered(definition.anchor)
        function = definition.node
        if isinstance(function, ast.Lambda):
            return self.evaluate(function.body, frame)
        end = self.run_block(function.body, frame.env, frame)
        values = list(frame.returns)
        if end is not None and not frame.yields:
            values.append(constant(None))
        if frame.yields:
            return container(None, taints_of(values), pytype=None)
        return join_all(values) if values else UNKNOWN

    def bind_parameters(
        self: Interpreter,
        definition: Definition,
        args: list[Value],
        kwargs: dict[str, Value],
        receiver: Value | None,
        call_site,
    ) -> dict[str, Value]:
        parameters = definition.node.args
        positional = [*parameters.posonlyargs, *parameters.args]
        values = list(args)
        if receiver is not None:
            values.insert(0, receiver)
        env: dict[str, Value] = {}
        defaults = parameters.defaults
        first_default = len(positional) - len(defaults)
        module_frame = Frame(definition.module, None, {}, anchor=definition.anchor)
        for index, parameter in enumerate(positional):
            if index < len(values):
                value = values[index]
            elif parameter.arg in kwargs:
                value = kwargs[parameter.arg]
            elif index >= first_default:
                value = self.evaluate(defaults[index - first_default], module_frame)
            else:
                value = UNKNOWN
            env[parameter.arg] = self.passed(value, definition, parameter.arg, call_site)
        if parameters.vararg is not None:
            rest = tuple(values[len(positional) :])
            env[parameters.vararg.arg] = container(rest, pytype="tuple")
        for parameter, default in zip(parameters.kwonlyargs, parameters.kw_defaults, strict=True):
            if parameter.arg in kwargs:
                value = kwargs[parameter.arg]
            elif default is not None:
                value = self.evaluate(default, module_frame)
            else:
                value = UNKNOWN
            env[parameter.arg] = self.passed(value, definition, parameter.arg, call_site)
        if parameters.kwarg is not None:
            named = {p.arg for p in [*positional, *parameters.kwonlyargs]}
            extra = tuple((k, v) for k, v in kwargs.items() if k not in named and k != "**")
            env[parameters.kwarg.arg] = mapping(
                extra if "**" not in kwargs else None, taints_of(v for _, v in extra)
            )
        return env

    def passed(
        self: Interpreter, value: Value, definition: Definition, parameter: str, call_site
    ) -> Value:
        if not value.taints:
            return value
        return value.with_step(Step(call_site, f"passed to `{definition.name}()` as `{parameter}`"))

    def instantiate(
        self: Interpreter,
        definition: Definition,
        args: list[Value],
        kwargs: dict[str, Value],
        node: ast.Call,
        frame: Frame,
    ) -> Value:
        instance = Value(instance_of=definition)
        initializer = self.class_member(definition, "__init__")
        if initializer is None or initializer.local is None:
            return instance
        init = initializer.local
        key = (init, tuple(args), tuple(sorted(kwargs.items())), instance)
        cached = self.memo.get(key)
        if cached is not None:
            return cached
        if frame.depth >= MAX_DEPTH or init in self.active or self.budget <= 0:
            return instance
        built = self.run_init(definition, init, args, kwargs, where(node, frame), frame.depth + 1)
        self.memo[key] = built
        return built

    def run_init(
        self: Interpreter,
        definition: Definition,
        init: Definition,
        args: list[Value],
        kwargs: dict[str, Value],
        call_site: Where,
        depth: int,
    ) -> Value:
        """The instance a class of analysed code's `__init__` builds from these arguments."""
        if self.evaluator is not None:
            self.evaluator.entered(init.anchor)
        instance = Value(instance_of=definition)
        env = self.bind_parameters(init, args, kwargs, instance, call_site)
        inner = Frame(init.module, init, env, depth=depth, anchor=init.anchor)
        self.active.append(init)
        try:
            end = self.run_block(init.node.body, inner.env, inner)  # type: ignore[union-attr]
        finally:
            self.active.pop()
        self_name = self.first_parameter(init)
        built = (end or inner.env).get(self_name, instance) if self_name else instance
        return built if built.instance_of is definition else instance

    def class_member(self: Interpreter, definition: Definition, name: str) -> Value | None:
        """A name defined in a class body or in one of its analysed base classes."""
        seen: set[int] = set()
        pending = [definition]
        while pending:
            current = pending.pop(0)
            if id(current) in seen or len(seen) > 32:
                continue
            seen.add(id(current))
            if name in current.namespace:
                return current.namespace[name]
            pending.extend(
                b.local for b in current.bases if b.local is not None and b.local.is_class
            )
        return None

    def library_bases(self: Interpreter, definition: Definition) -> list[str]:
        """The library classes (qualified names) a class of analysed code derives from."""
        found: list[str] = []
        seen: set[int] = set()
        pending = [definition]
        while pending:
            current = pending.pop(0)
            if id(current) in seen or len(seen) > 32:
                continue
            seen.add(id(current))
            for base in current.bases:
                if base.ref is not None:
                    found.append(self.catalogue.canonical(base.ref))
                elif base.local is not None and base.local.is_class:
                    pending.append(base.local)
        return found

    def first_parameter(self: Interpreter, definition: Definition) -> str | None:
        parameters = [*definition.node.args.posonlyargs, *definition.node.args.args]
        return parameters[0].arg if parameters else None

    def _decorator_names(self: Interpreter, definition: Definition) -> set[str]:
        node = definition.node
        names = set()
        for decorator in getattr(node, "decorator_list", ()):
            if isinstance(decorator, ast.Name):
                names.add(decorator.id)
            elif isinstance(decorator, ast.Attribute):
                names.add(decorator.attr)
        return names

    def is_staticmethod(self: Interpreter, definition: Definition) -> bool:
        return "staticmethod" in self._decorator_names(definition)

    def is_classmethod(self: Interpreter, definition: Definition) -> bool:
        return "classmethod" in self._decorator_names(definition)

    def rebind(self: Interpreter, target: ast.expr, value: Value, frame: Frame) -> None:
        """A container or object changed by a method call: the variable holds the change."""
        if isinstance(target, ast.Name):
            if (
                target.id in frame.env
                or frame.definition is None
                or frame.lookup_closure(target.id) is None
            ):
                frame.env[target.id] = value
        elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
            owner = frame.env.get(target.value.id)
            if owner is not None and owner.instance_of is not None:
                frame.env[target.value.id] = owner.with_field(target.attr, value)
