"""Statements, flow-sensitively: each path through a function has its own variables.

`run_block` takes the variables before a block and returns them after it (None when no
path gets through: return, raise, break, a call that never returns). Branches run on
copies and meet by `join_envs`; a branch whose test folds to a constant is the only one
run; loops run until their variables stop changing (a few rounds at most).
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from clearsight.dataflow.expressions import describe, where
from clearsight.dataflow.frame import Env, Frame, Loop, join_envs, target_names
from clearsight.dataflow.scope import Definition
from clearsight.dataflow.values import UNKNOWN, Step, Value, container, join, join_all

if TYPE_CHECKING:
    from clearsight.dataflow.interpreter import Interpreter

MAX_ROUNDS = 3  # times a loop body is run before its variables are taken as settled


class Statements:
    """The statement half of the interpreter (mixed into `Interpreter`)."""

    def run_block(
        self: Interpreter, body: list[ast.stmt], env: Env | None, frame: Frame
    ) -> Env | None:
        for statement in body:
            if env is None:
                return None
            self.budget -= 1
            frame.env = env
            env = self.run_statement(statement, env, frame)
        return env

    def run_statement(self: Interpreter, node: ast.stmt, env: Env, frame: Frame) -> Env | None:
        method = getattr(self, f"_s_{type(node).__name__}", None)
        if method is None:
            return env
        return method(node, env, frame)

    # -- assignments ---------------------------------------------------------------------

    def _s_Assign(self: Interpreter, node: ast.Assign, env: Env, frame: Frame) -> Env | None:
        value = self.evaluate(node.value, frame)
        for target in node.targets:
            self.assign(target, value, frame, node)
        test_like = isinstance(node.value, ast.Call | ast.Compare | ast.BoolOp | ast.UnaryOp)
        for target in node.targets:
            for name in target_names(target):
                if test_like and isinstance(target, ast.Name):
                    frame.conditions[name] = node.value
                else:
                    frame.conditions.pop(name, None)
        return frame.env

    def _s_AnnAssign(self: Interpreter, node: ast.AnnAssign, env: Env, frame: Frame) -> Env | None:
        if node.value is not None:
            self.assign(node.target, self.evaluate(node.value, frame), frame, node)
        return frame.env

    def _s_AugAssign(self: Interpreter, node: ast.AugAssign, env: Env, frame: Frame) -> Env | None:
        current = self.evaluate(_as_load(node.target), frame)
        value = self.binary(node.op, current, self.evaluate(node.value, frame))
        self.assign(node.target, value, frame, node)
        return frame.env

    def assign(
        self: Interpreter, target: ast.expr, value: Value, frame: Frame, node: ast.AST
    ) -> None:
        if isinstance(target, ast.Name):
            if value.taints:
                value = value.with_step(Step(where(target, frame), f"`{target.id}`"))
            frame.env[target.id] = value
            self.check_secret_name(target.id, value, target, frame)
            self.check_setting(target.id, value, target, frame)
        elif isinstance(target, ast.Tuple | ast.List):
            self._unpack(target, value, frame, node)
        elif isinstance(target, ast.Starred):
            self.assign(target.value, container(None, value.taints), frame, node)
        elif isinstance(target, ast.Subscript):
            self._store_item(target, value, frame)
        elif isinstance(target, ast.Attribute):
            self._store_attribute(target, value, frame)

    def _unpack(
        self: Interpreter, target: ast.Tuple | ast.List, value: Value, frame: Frame, node: ast.AST
    ) -> None:
        elements = target.elts
        starred = [i for i, e in enumerate(elements) if isinstance(e, ast.Starred)]
        items = value.items
        if items is not None and not starred and len(items) == len(elements):
            for element, item in zip(elements, items, strict=True):
                self.assign(element, item, frame, node)
            return
        element_value = value.element()
        for element in elements:
            self.assign(element, element_value, frame, node)

    def _store_item(self: Interpreter, target: ast.Subscript, value: Value, frame: Frame) -> None:
        base = self.evaluate(target.value, frame)
        key = (
            self.evaluate(target.slice, frame)
            if not isinstance(target.slice, ast.Slice)
            else UNKNOWN
        )
        self.check_store(base, key, value, target, frame)
        if key.known and isinstance(key.const, str):
            self.check_secret_name(key.const, value, target, frame)
            self.check_setting(key.const, value, target, frame)
        elif isinstance(target.slice, ast.Name):
            self.check_secret_name(target.slice.id, value, target, frame)
        updated = self._with_item(base, key, value)
        if updated is not None:
            self.rebind(target.value, updated, frame)

    def _with_item(self: Interpreter, base: Value, key: Value, value: Value) -> Value | None:
        from clearsight.dataflow.values import mapping, taints_of

        if base.entries is not None or base.pytype == "dict":
            entries = base.entries
            if entries is not None and key.known:
                kept = tuple(
                    (k, v)
                    for k, v in entries
                    if not (k == key.const and type(k) is type(key.const))
                )
                return mapping((*kept, (key.const, value)))
            return mapping(None, taints_of([base, key, value]))
        if base.items is not None and key.known and isinstance(key.const, int):
            items = list(base.items)
            if -len(items) <= key.const < len(items):
                items[key.const] = value
                return container(tuple(items), pytype=base.pytype)
        if base.pytype in ("list", "tuple") or base.items is not None:
            return container(None, taints_of([base, value]), pytype=base.pytype)
        if (
            base.instance_of is None
            and base.ref is None
            and base.type is None
            and base.local is None
        ):
            return mapping(None, taints_of([base, value])) if value.taints else None
        return None

    def _store_attribute(
        self: Interpreter, target: ast.Attribute, value: Value, frame: Frame
    ) -> None:
        self.check_secret_name(target.attr, value, target, frame)
        self.check_setting(target.attr, value, target, frame)
        if isinstance(target.value, ast.Name):
            owner = self.lookup(target.value.id, frame)
            if owner.instance_of is not None:
                if value.taints:
                    value = value.with_step(Step(where(target, frame), f"`{describe(target)}`"))
                frame.env[target.value.id] = owner.with_field(target.attr, value)
            elif owner.local is not None and owner.local.is_class:
                owner.local.namespace.setdefault(target.attr, value)

    # -- expressions as statements -------------------------------------------------------

    def _s_Expr(self: Interpreter, node: ast.Expr, env: Env, frame: Frame) -> Env | None:
        self.evaluate(node.value, frame)
        if isinstance(node.value, ast.Call) and self.never_returns(node.value, frame):
            return None
        return frame.env

    def never_returns(self: Interpreter, node: ast.Call, frame: Frame) -> bool:
        callee = (
            self.evaluate(node.func, frame) if not isinstance(node.func, ast.Attribute) else None
        )
        if callee is None:
            base = self.evaluate(node.func.value, frame)  # type: ignore[attr-defined]
            if base.ref is None:
                return False
            name = f"{base.ref}.{node.func.attr}"  # type: ignore[attr-defined]
        elif callee.ref is not None:
            name = callee.ref
        else:
            return False
        return self.catalogue.canonical(name) in self.catalogue.no_return

    # -- control flow --------------------------------------------------------------------

    def _s_Return(self: Interpreter, node: ast.Return, env: Env, frame: Frame) -> Env | None:
        value = self.evaluate(node.value, frame) if node.value is not None else UNKNOWN
        if node.value is not None:
            self.check_return(value, node.value, frame)
        frame.returns.append(value)
        return None

    def _s_Raise(self: Interpreter, node: ast.Raise, env: Env, frame: Frame) -> Env | None:
        if node.exc is not None:
            self.evaluate(node.exc, frame)
        return None

    def _s_Break(self: Interpreter, node: ast.Break, env: Env, frame: Frame) -> Env | None:
        if frame.loops:
            frame.loops[-1].breaks.append(dict(env))
        return None

    def _s_Continue(self: Interpreter, node: ast.Continue, env: Env, frame: Frame) -> Env | None:
        if frame.loops:
            frame.loops[-1].continues.append(dict(env))
        return None

    def _s_If(self: Interpreter, node: ast.If, env: Env, frame: Frame) -> Env | None:
        test = self.evaluate(node.test, frame)
        truth = self.truth(test)
        if truth is True:
            return self.run_block(
                node.body, self.refine(node.test, dict(frame.env), True, frame), frame
            )
        if truth is False:
            return self.run_block(
                node.orelse, self.refine(node.test, dict(frame.env), False, frame), frame
            )
        base = frame.env
        taken = self.run_block(node.body, self.refine(node.test, dict(base), True, frame), frame)
        other = self.run_block(node.orelse, self.refine(node.test, dict(base), False, frame), frame)
        return join_envs(taken, other)

    def _s_While(self: Interpreter, node: ast.While, env: Env, frame: Frame) -> Env | None:
        truth = self.truth(self.evaluate(node.test, frame))
        if truth is False:
            return self.run_block(node.orelse, env, frame)
        return self._loop(node, env, frame, infinite=truth is True)

    def _s_For(
        self: Interpreter, node: ast.For | ast.AsyncFor, env: Env, frame: Frame
    ) -> Env | None:
        iterable = self.evaluate(node.iter, frame)
        return self._loop(node, env, frame, element=self.iterate(iterable))

    _s_AsyncFor = _s_For

    def _loop(
        self: Interpreter,
        node: ast.For | ast.AsyncFor | ast.While,
        env: Env,
        frame: Frame,
        element: Value | None = None,
        infinite: bool = False,
    ) -> Env | None:
        """The variables after a loop: those of every round, until they stop changing."""
        head: Env = dict(env)
        loop = Loop()
        frame.loops.append(loop)
        try:
            for _ in range(MAX_ROUNDS if self.budget > 0 else 1):
                state: Env | None = dict(head)
                frame.env = state
                if isinstance(node, ast.While):
                    state = self.refine(node.test, state, True, frame)
                if element is not None and state is not None:
                    frame.env = state
                    self.assign(node.target, element, frame, node)  # type: ignore[union-attr]
                    state = frame.env
                state = self.run_block(node.body, state, frame)
                for continued in loop.continues:
                    state = join_envs(state, continued)
                loop.continues.clear()
                merged = join_envs(head, state)
                if merged == head:
                    break
                head = merged if merged is not None else head
        finally:
            frame.loops.pop()
        exit_state: Env | None = None if infinite else dict(head)
        if isinstance(node, ast.While) and exit_state is not None:
            exit_state = self.refine(node.test, exit_state, False, frame)
        if exit_state is not None and node.orelse:
            exit_state = self.run_block(node.orelse, exit_state, frame)
        for broken in loop.breaks:
            exit_state = join_envs(exit_state, broken)
        return exit_state

    def _s_Try(self: Interpreter, node: ast.Try, env: Env, frame: Frame) -> Env | None:
        before = dict(env)
        after_body = self.run_block(node.body, env, frame)
        # An exception can leave the body anywhere: handlers start from either end.
        handler_entry = join_envs(before, after_body)
        outcomes = []
        if after_body is not None:
            outcomes.append(self.run_block(node.orelse, after_body, frame))
        for handler in node.handlers:
            state = dict(handler_entry) if handler_entry is not None else None
            if state is not None and handler.name:
                state[handler.name] = UNKNOWN
            outcomes.append(self.run_block(handler.body, state, frame))
        result: Env | None = None
        for outcome in outcomes:
            result = join_envs(result, outcome)
        if node.finalbody:
            if result is None:
                # Only exceptional paths reach the finally: run it for its sinks.
                self.run_block(node.finalbody, dict(handler_entry or before), frame)
                return None
            result = self.run_block(node.finalbody, result, frame)
        return result

    _s_TryStar = _s_Try

    def _s_With(
        self: Interpreter, node: ast.With | ast.AsyncWith, env: Env, frame: Frame
    ) -> Env | None:
        for item in node.items:
            value = self.evaluate(item.context_expr, frame)
            if item.optional_vars is not None:
                # `with x as y`: y is what __enter__ returns, x itself for files and most others.
                self.assign(item.optional_vars, value, frame, node)
        return self.run_block(node.body, frame.env, frame)

    _s_AsyncWith = _s_With

    def _s_Match(self: Interpreter, node: ast.Match, env: Env, frame: Frame) -> Env | None:
        subject = self.evaluate(node.subject, frame)
        result: Env | None = None
        remaining: Env | None = dict(env)
        for case in node.cases:
            if remaining is None:
                break
            matches = self._pattern_matches(case.pattern, subject)
            if matches is False:
                continue
            state = dict(remaining)
            frame.env = state
            self._bind_pattern(case.pattern, subject, frame)
            state = frame.env
            if case.guard is not None:
                guard = self.truth(self.evaluate(case.guard, frame))
                if guard is False:
                    continue
                state = self.refine(case.guard, state, True, frame)
                matches = matches if guard is True else None
            result = join_envs(result, self.run_block(case.body, state, frame))
            if matches is True:
                remaining = None  # later cases never run
        return join_envs(result, remaining)

    def _pattern_matches(self: Interpreter, pattern: ast.pattern, subject: Value) -> bool | None:
        if isinstance(pattern, ast.MatchValue):
            if subject.consts is None or not isinstance(pattern.value, ast.Constant):
                return None
            wanted = pattern.value.value
            hits = {const == wanted for const in subject.consts}
            return hits.pop() if len(hits) == 1 else None
        if isinstance(pattern, ast.MatchSingleton):
            if subject.consts is None:
                return None
            hits = {const is pattern.value for const in subject.consts}
            return hits.pop() if len(hits) == 1 else None
        if isinstance(pattern, ast.MatchOr):
            outcomes = [self._pattern_matches(p, subject) for p in pattern.patterns]
            if any(o is True for o in outcomes):
                return True
            return False if all(o is False for o in outcomes) else None
        if isinstance(pattern, ast.MatchAs) and pattern.pattern is None:
            return True  # `case _:` / `case name:`
        return None

    def _bind_pattern(
        self: Interpreter, pattern: ast.pattern, subject: Value, frame: Frame
    ) -> None:
        if isinstance(pattern, ast.MatchAs):
            if pattern.pattern is not None:
                self._bind_pattern(pattern.pattern, subject, frame)
            if pattern.name:
                frame.env[pattern.name] = subject
        elif isinstance(pattern, ast.MatchOr):
            for option in pattern.patterns:
                self._bind_pattern(option, subject, frame)
        elif isinstance(pattern, ast.MatchSequence):
            for index, inner in enumerate(pattern.patterns):
                item = (
                    subject.items[index]
                    if subject.items is not None and index < len(subject.items)
                    else subject.element()
                )
                self._bind_pattern(inner, item, frame)
        elif isinstance(pattern, ast.MatchStar) and pattern.name:
            frame.env[pattern.name] = container(None, subject.taints)
        elif isinstance(pattern, ast.MatchMapping):
            for key, inner in zip(pattern.keys, pattern.patterns, strict=True):
                key_value = key.value if isinstance(key, ast.Constant) else None
                found = subject.entry(key_value) if key_value is not None else None
                self._bind_pattern(inner, found if found is not None else subject.element(), frame)
            if pattern.rest:
                frame.env[pattern.rest] = subject
        elif isinstance(pattern, ast.MatchClass):
            for inner in [*pattern.patterns, *pattern.kwd_patterns]:
                self._bind_pattern(inner, Value(taints=subject.taints), frame)

    def _s_Assert(self: Interpreter, node: ast.Assert, env: Env, frame: Frame) -> Env | None:
        self.evaluate(node.test, frame)
        if self.truth(self.evaluate(node.test, frame)) is False:
            return None
        return self.refine(node.test, dict(frame.env), True, frame)

    def _s_Delete(self: Interpreter, node: ast.Delete, env: Env, frame: Frame) -> Env | None:
        for target in node.targets:
            if isinstance(target, ast.Name):
                frame.env.pop(target.id, None)
        return frame.env

    # -- definitions and imports ---------------------------------------------------------

    def _s_FunctionDef(
        self: Interpreter, node: ast.FunctionDef | ast.AsyncFunctionDef, env: Env, frame: Frame
    ) -> Env | None:
        definition = self.define(node, frame)
        value = Value(local=definition)
        if frame.class_definition is not None and frame.definition is None:
            frame.class_definition.namespace[node.name] = value
        frame.env[node.name] = value
        return frame.env

    _s_AsyncFunctionDef = _s_FunctionDef

    def _s_ClassDef(self: Interpreter, node: ast.ClassDef, env: Env, frame: Frame) -> Env | None:
        definition = self.define(node, frame)
        definition.bases = tuple(self.evaluate(base, frame) for base in node.bases)
        body = Frame(
            frame.module,
            None,
            {},
            class_definition=definition,
            depth=frame.depth,
            anchor=frame.anchor,
        )
        body.env = dict(frame.env) if frame.definition is not None else {}
        before = set(body.env)
        self.run_block(node.body, body.env, body)
        for name, value in body.env.items():
            if name not in before or name in definition.namespace:
                definition.namespace.setdefault(name, value)
        frame.env[node.name] = Value(local=definition)
        return frame.env

    def define(
        self: Interpreter,
        node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda,
        frame: Frame,
    ) -> Definition:
        """The definition a `def`/`class`/`lambda` makes, once per node: the first frame to
        run it (its closure) is the one entry points and calls see."""
        existing = self.definitions.get(id(node))
        if existing is not None and existing.node is node:
            return existing
        closure = dict(frame.env) if frame.definition is not None else {}
        if frame.definition is not None:
            for name, value in frame.definition.closure.items():
                closure.setdefault(name, value)
        owner = frame.class_definition
        definition = Definition(node, frame.module, closure, owner, anchor=frame.anchor)
        decorators = getattr(node, "decorator_list", [])
        definition.decorators = tuple(self.evaluate(d, frame) for d in decorators)
        self.definitions[id(node)] = definition
        if not isinstance(node, ast.ClassDef | ast.Lambda) and frame.module.path is None:
            # An entry point: of the statement being run at module (or class) level, or
            # of the entry whose run defines it (a nested function).
            if frame.definition is None and self.defining is not None:
                self.defining.append(definition)
            elif frame.definition is not None:
                self.nested.append(definition)
        return definition

    def _s_Import(self: Interpreter, node: ast.Import, env: Env, frame: Frame) -> Env | None:
        for alias in node.names:
            if alias.asname:
                frame.env[alias.asname] = self.module_value(alias.name)
            else:
                top = alias.name.split(".", 1)[0]
                frame.env[top] = self.module_value(top)
        return frame.env

    def _s_ImportFrom(
        self: Interpreter, node: ast.ImportFrom, env: Env, frame: Frame
    ) -> Env | None:
        module = self.absolute_module(node.module or "", node.level, frame)
        for alias in node.names:
            if alias.name == "*":
                continue
            name = f"{module}.{alias.name}" if module else alias.name
            frame.env[alias.asname or alias.name] = self.module_value(
                self.catalogue.canonical(name)
            )
        return frame.env

    def module_value(self: Interpreter, name: str) -> Value:
        # A name only: a project module's member is looked up when it is used, so that
        # importing a module costs nothing until the code calls into it.
        return Value(ref=name)

    def absolute_module(self: Interpreter, module: str, level: int, frame: Frame) -> str:
        if not level:
            return module
        package = frame.module.package.split(".") if frame.module.package else []
        if level > 1:
            package = package[: len(package) - (level - 1)] if len(package) >= level - 1 else []
        base = ".".join(package)
        return f"{base}.{module}" if base and module else (base or module)

    def _s_Global(self: Interpreter, node: ast.Global, env: Env, frame: Frame) -> Env | None:
        return env

    def _s_Pass(self: Interpreter, node: ast.Pass, env: Env, frame: Frame) -> Env | None:
        return env


def _as_load(target: ast.expr) -> ast.expr:
    """An assignment target read as an expression (for `x += ...`)."""
    return target


def joined(values: list[Value]) -> Value:
    return join_all(values)


_ = join
