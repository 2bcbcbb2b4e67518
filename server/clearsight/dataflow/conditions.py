"""Branch conditions that vouch for a value on the branch where they hold.

`if ".." in name: return` leaves `name` safe for paths after the `if`; `if x.isdigit():`
makes `x` digits inside it; `if url.netloc in ALLOWED:` (with `url = urlparse(target)`)
vouches for `target` as a redirect. A fact is what a branch knows about one variable: the
classes it is now safe for, or the constant it must equal.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from clearsight.dataflow.frame import Env, Frame
from clearsight.dataflow.language import SAFE_WORD_CHECKS
from clearsight.dataflow.values import Value, join_all

if TYPE_CHECKING:
    from clearsight.dataflow.interpreter import Interpreter


@dataclass(frozen=True)
class Fact:
    """What a branch knows about one variable."""

    classes: frozenset[str] = frozenset()  # classes it is now safe for
    excludes: frozenset[str] = frozenset()  # text it cannot contain
    value: Value | None = None  # the constant(s) it must be
    # Text it starts and ends with, and text it cannot contain between its first and its
    # last character (`"'" not in s[1:-1]`): together, a quoted literal (`'...'`).
    starts: str | None = None
    ends: str | None = None
    inner: frozenset[str] = frozenset()

    def both(self, other: Fact) -> Fact:
        """Both facts hold (`a and b`)."""
        return Fact(
            self.classes | other.classes,
            self.excludes | other.excludes,
            self.value if self.value is not None else other.value,
            self.starts or other.starts,
            self.ends or other.ends,
            self.inner | other.inner,
        )

    def literal_quote(self) -> str | None:
        """The quote of the string literal the value must be, if it must be one."""
        quote = self.starts
        if quote in ("'", '"') and self.ends == quote and quote in self.inner:
            return quote
        return None

    def either(self, other: Fact) -> Fact | None:
        """One of the facts holds (`a or b`): what is true either way."""
        value = None
        if self.value is not None and other.value is not None:
            value = join_all([self.value, other.value])
        classes = self.classes & other.classes
        if self.value is not None and other.value is None:
            classes = other.classes
        elif other.value is not None and self.value is None:
            classes = self.classes
        fact = Fact(
            classes,
            self.excludes & other.excludes,
            value,
            self.starts if self.starts == other.starts else None,
            self.ends if self.ends == other.ends else None,
            self.inner & other.inner,
        )
        useful = fact.classes or fact.excludes or fact.value is not None or fact.inner
        return fact if useful or fact.starts or fact.ends else None


Facts = dict[str, Fact]
FALSY = Value(consts=frozenset({"", None}))

# A URL prefix that fixes the scheme and the host.
FIXED_HOST = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#\\@]+[/?#]")
_HOST_ATTRIBUTES = frozenset({"netloc", "hostname", "host"})
# An anchored pattern made only of word-character classes and quantifiers.
_SAFE_PATTERN = re.compile(
    r"^\^?(?:\[(?:\\w|\\d|a-z|A-Z|0-9|_|-)+\]|\\w|\\d|[A-Za-z0-9_]|[+*?]|\{\d+(?:,\d*)?\})+(?:\$|\\Z)?$"
)
_MATCHERS = frozenset({"re.match", "re.fullmatch", "re.search"})
# Calls that give a string view of their argument (a check on it is a check on that).
_STRING_VIEWS = frozenset({"builtins.str", "os.fspath", "os.path.normcase", "builtins.repr"})


def _union(a: Facts, b: Facts) -> Facts:
    merged = dict(a)
    for name, fact in b.items():
        merged[name] = merged[name].both(fact) if name in merged else fact
    return merged


def _intersection(a: Facts, b: Facts) -> Facts:
    merged: Facts = {}
    for name in a.keys() & b.keys():
        fact = a[name].either(b[name])
        if fact is not None:
            merged[name] = fact
    return merged


class Conditions:
    """What a branch learns from its test (mixed into `Interpreter`)."""

    def refine(
        self: Interpreter, test: ast.expr, env: Env | None, truth: bool, frame: Frame
    ) -> Env | None:
        if env is None:
            return None
        saved = frame.env
        frame.env = env
        try:
            facts = self.facts(test, truth, frame)
            for name, fact in facts.items():
                current = self.lookup(name, frame)
                if fact.value is not None:
                    env[name] = fact.value
                elif current.taints:
                    value = current.cleared(fact.classes).excluding(fact.excludes)
                    quote = fact.literal_quote()
                    if quote is not None:
                        # A quoted literal that cannot end early: inert as code or data.
                        value = value.quoted_by(quote).excluding(frozenset({quote}))
                    env[name] = value
        finally:
            frame.env = saved
        return env

    def facts(self: Interpreter, test: ast.expr, truth: bool, frame: Frame) -> Facts:
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            return self.facts(test.operand, not truth, frame)
        if isinstance(test, ast.BoolOp):
            parts = [self.facts(value, truth, frame) for value in test.values]
            conjunction = isinstance(test.op, ast.And) == truth
            result = parts[0]
            for part in parts[1:]:
                result = _union(result, part) if conjunction else _intersection(result, part)
            return result
        if isinstance(test, ast.Compare) and len(test.ops) == 1:
            return self._compare_facts(test.left, test.ops[0], test.comparators[0], truth, frame)
        if isinstance(test, ast.Call):
            return self._call_facts(test, truth, frame) if truth else {}
        if isinstance(test, ast.NamedExpr):
            return self.facts(test.value, truth, frame)
        if isinstance(test, ast.Name):
            facts: Facts = {}
            recorded = frame.conditions.get(test.id)
            if recorded is not None:
                frame.conditions.pop(test.id)  # `ok = ok and ...`: no endless recursion
                try:
                    facts = self.facts(recorded, truth, frame)
                finally:
                    frame.conditions[test.id] = recorded
            if not truth:
                # A falsy value is empty: nothing untrusted is in it.
                facts = _union(facts, {test.id: Fact(value=FALSY)})
            return facts
        return {}

    def _vouched(
        self: Interpreter,
        node: ast.expr,
        classes: frozenset[str],
        frame: Frame,
        excludes: frozenset[str] = frozenset(),
    ) -> Facts:
        """The fact for the variable `node` names and the one it is a view of."""
        facts: Facts = {}
        name = self._variable(node, frame)
        if name is None:
            return facts
        fact = Fact(classes, excludes)
        facts[name] = fact
        view_of = self.lookup(name, frame).view_of
        if view_of is not None:
            facts[view_of] = fact
        return facts

    def _variable(self: Interpreter, node: ast.expr, frame: Frame) -> str | None:
        """The variable an expression reads, seeing through `str(x)` and the like."""
        if isinstance(node, ast.Name):
            return node.id
        if isinstance(node, ast.Call) and len(node.args) == 1 and not node.keywords:
            callee = self.evaluate(node.func, frame)
            if callee.ref and self.catalogue.canonical(callee.ref) in _STRING_VIEWS:
                return self._variable(node.args[0], frame)
        return None

    def _compare_facts(
        self: Interpreter, left: ast.expr, op: ast.cmpop, right: ast.expr, truth: bool, frame: Frame
    ) -> Facts:
        catalogue = self.catalogue
        holds = truth if isinstance(op, ast.Eq | ast.In | ast.Is) else not truth
        if isinstance(op, ast.In | ast.NotIn):
            needle = self.evaluate(left, frame)
            if needle.known and isinstance(needle.const, str) and needle.const and not holds:
                inner = _inner_of(right)
                if inner is not None:
                    return {inner: Fact(inner=frozenset({needle.const}))}
                classes = frozenset({"path"}) if ".." in needle.const else frozenset()
                return self._vouched(right, classes, frame, frozenset({needle.const}))
        if not isinstance(op, ast.Eq | ast.NotEq | ast.In | ast.NotIn):
            return {}
        if not holds:
            return {}
        if isinstance(left, ast.Attribute) and left.attr in _HOST_ATTRIBUTES:
            return self._vouched(left.value, frozenset({"redirect", "ssrf"}), frame)
        name = self._variable(left, frame)
        if name is None:
            return {}
        other = self.evaluate(right, frame)
        # `holds`: on this branch the positive relation (== or in) is true.
        if isinstance(op, ast.Eq | ast.NotEq) and other.known:
            return {name: Fact(value=other)}
        if isinstance(op, ast.In | ast.NotIn):
            allowed = _constant_members(other)
            if allowed is not None:
                return {name: Fact(value=allowed)}
            if other.consts is None and other.entries is not None and not other.taints:
                return self._vouched(left, catalogue.injection_classes, frame)
        return {}

    def _call_facts(self: Interpreter, test: ast.Call, truth: bool, frame: Frame) -> Facts:
        catalogue = self.catalogue
        func = test.func
        if isinstance(func, ast.Attribute):
            if func.attr in SAFE_WORD_CHECKS:
                return self._vouched(func.value, catalogue.injection_classes, frame)
            receiver = self.evaluate(func.value, frame)
            viewed = self._variable(func.value, frame)
            if viewed is not None:
                receiver = self.lookup(viewed, frame)
            if func.attr in ("startswith", "endswith") and test.args and viewed is not None:
                affix = self.evaluate(test.args[0], frame)
                if affix.known and affix.const in ("'", '"'):
                    kind = "starts" if func.attr == "startswith" else "ends"
                    return {viewed: Fact(**{kind: affix.const})}  # type: ignore[arg-type]
            if func.attr == "startswith" and test.args:
                prefix = self.evaluate(test.args[0], frame)
                text = prefix.const if prefix.known else None
                if isinstance(text, str) and FIXED_HOST.match(text):
                    return self._vouched(func.value, frozenset({"redirect", "ssrf"}), frame)
                if "normalised" in receiver.flags and not prefix.taints:
                    return self._vouched(func.value, frozenset({"path"}), frame)
            if func.attr == "is_relative_to" and "normalised" in receiver.flags:
                return self._vouched(func.value, frozenset({"path"}), frame)
        callee = self.evaluate(func, frame)
        name = catalogue.canonical(callee.ref) if callee.ref else None
        if name is None:
            return {}
        if name == "builtins.isinstance" and len(test.args) == 2:
            kind = self.evaluate(test.args[1], frame)
            if kind.ref in ("builtins.int", "builtins.float", "builtins.bool"):
                return self._vouched(test.args[0], catalogue.injection_classes, frame)
        if name in _MATCHERS and len(test.args) >= 2:
            pattern = self.evaluate(test.args[0], frame)
            text = pattern.const if pattern.known else None
            anchored = isinstance(text, str) and (name == "re.fullmatch" or text.startswith("^"))
            if (
                anchored
                and (name != "re.search" or text.startswith("^"))
                and _SAFE_PATTERN.match(text)
            ):  # type: ignore[arg-type]
                ends = name == "re.fullmatch" or text.endswith(("$", "\\Z"))  # type: ignore[union-attr]
                if ends:
                    return self._vouched(test.args[1], catalogue.injection_classes, frame)
        guard = catalogue.guards.get(name)
        if guard is not None:
            argument = test.args[guard.position] if guard.position < len(test.args) else None
            if argument is None and guard.keyword:
                argument = next((k.value for k in test.keywords if k.arg == guard.keyword), None)
            if argument is not None:
                return self._vouched(argument, guard.classes, frame)
        return {}


def _inner_of(node: ast.expr) -> str | None:
    """The variable `node` is the inside of (`s[1:-1]`), if it is that."""
    if not (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name)):
        return None
    part = node.slice
    if not isinstance(part, ast.Slice) or part.step is not None:
        return None
    lower = part.lower.value if isinstance(part.lower, ast.Constant) else None
    upper = part.upper
    upper_value = None
    if isinstance(upper, ast.UnaryOp) and isinstance(upper.op, ast.USub):
        upper_value = -upper.operand.value if isinstance(upper.operand, ast.Constant) else None
    if lower == 1 and upper_value == -1:
        return node.value.id
    return None


def _constant_members(value: Value) -> Value | None:
    """A value that is one of a constant collection's members, if it is constant."""
    items = value.items
    if items is not None and items and all(item.known for item in items):
        return join_all(items)
    if value.entries is not None and value.entries:
        from clearsight.dataflow.language import fold

        return join_all(fold(k) for k, _ in value.entries)
    if value.known and isinstance(value.const, str | tuple | frozenset):
        return None
    return None
