"""What the dataflow analysis knows about a value: pure, immutable data.

A `Value` is an abstraction of every value an expression may have on the paths that reach
it: the untrusted data it may carry (`Taint`s, each with the path it took), the constants it
may be, the text every possible string starts and ends with, a container's elements where
their place is known, and what it is (a module, a library function, an instance of a class).
Paths meet by `join`: the result describes every value either side may have.

Positions are the syntax tree's: 1-based lines (relative to the text that was parsed, see
`Where.shifted`) and UTF-8 byte columns; the check turns them into code points once.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from clearsight.dataflow.scope import Definition

# Bounds that keep values small whatever the code does: a value remembers a few of its
# taints (the shortest paths), a few of its possible constants, and a path's last steps.
MAX_TAINTS = 4
MAX_CONSTS = 8
MAX_STEPS = 10
MAX_ITEMS = 64
# Classes whose injection needs to close a quoted literal (SQL also needs no backslash).
QUOTED_SAFE = frozenset({"sql", "xpath", "code"})
# Classes whose injection needs a line break.
LINE_CLASSES = frozenset({"header", "log"})
LINE_BREAKS = frozenset({"\r", "\n"})

Const = Hashable  # str, bytes, int, float, bool, None, or a tuple of those


@dataclass(frozen=True, slots=True)
class Where:
    """A place in a file: ast's 1-based lines and UTF-8 byte columns."""

    line: int
    column: int
    end_line: int
    end_column: int
    path: str | None = None  # another module's file; None: the analysed file
    # The unit of the analysed file the lines are relative to (`module.Anchor.key`);
    # None: lines of the whole file (or of `path`).
    anchor: tuple[str, int] | None = None


@dataclass(frozen=True, slots=True)
class Step:
    """One hop of untrusted data on its way to a sink, for the finding's story."""

    where: Where
    note: str


@dataclass(frozen=True, slots=True)
class Taint:
    """Untrusted data from one source, with the path it took and what it was cleaned for."""

    kind: str  # "remote", "local" or "random" (see the catalogue's source kinds)
    label: str  # what the source is: "the request parameter `name`"
    where: Where  # the source expression
    steps: tuple[Step, ...] = ()
    # Vulnerability classes it was sanitised for (html.escape clears "xss").
    cleared: frozenset[str] = frozenset()
    # It passed through a call nothing models, assumed to hand its input on.
    assumed: bool = False
    # The label already names the key it was read with (`the request parameter `q``).
    keyed: bool = False
    # Text it is known not to contain (a check returned, or `replace` removed it).
    excludes: frozenset[str] = frozenset()
    # The quote that encloses it in the string it is part of (`"name = '" + x + "'"`).
    quoted: str | None = None

    def sort_key(self) -> tuple[int, int, str]:
        """Best explained first; where a source is does not count, so the choice does not
        depend on which lines an edit moved (ties are settled by absolute position)."""
        return (int(self.assumed), len(self.steps), self.label)

    def with_step(self, step: Step) -> Taint:
        if self.steps and self.steps[-1] == step:
            return self
        steps = (*self.steps, step)
        if len(steps) > MAX_STEPS:
            steps = steps[-MAX_STEPS:]
        return replace(self, steps=steps)

    def cleared_for(self, classes: frozenset[str]) -> Taint:
        if classes <= self.cleared:
            return self
        return replace(self, cleared=self.cleared | classes)

    def reaches(self, vulnerability: str, kinds: frozenset[str]) -> bool:
        if self.kind not in kinds or vulnerability in self.cleared:
            return False
        if vulnerability in LINE_CLASSES and self.excludes >= LINE_BREAKS:
            return False  # no line break left: it cannot start a new header or log line
        if (
            self.quoted is not None
            and self.quoted in self.excludes
            and vulnerability in QUOTED_SAFE
        ):
            # Inside a quoted literal it cannot close: inert where literals end only there
            # (SQL strings also end at a backslash-escaped quote in some databases).
            return vulnerability == "sql" and "\\" not in self.excludes
        return True


def bounded(taints: Iterable[Taint]) -> frozenset[Taint]:
    """At most MAX_TAINTS taints, the best-explained ones (deterministic)."""
    unique = frozenset(taints)
    if len(unique) <= MAX_TAINTS:
        return unique
    return frozenset(sorted(unique, key=_full_key)[:MAX_TAINTS])


def _full_key(taint: Taint) -> tuple[object, ...]:
    where = taint.where
    return (*taint.sort_key(), where.anchor or ("", 0), where.line, where.column, repr(taint))


@dataclass(frozen=True, slots=True)
class Value:
    taints: frozenset[Taint] = frozenset()
    # Every constant it may be, when all are known (a few at most); None: not known.
    consts: frozenset[Const] | None = None
    # Text every string it may be starts / ends with (for partly constant strings).
    prefix: str = ""
    suffix: str = ""
    # A list's or tuple's elements in order, when the shape is known.
    items: tuple[Value, ...] | None = None
    # A dict's (or a keyed container's) entries by constant key, when all keys are known.
    entries: tuple[tuple[Const, Value], ...] | None = None
    # The qualified name it is: a module, a library function or class, an object such as
    # "flask.request" (canonical, see the catalogue's aliases).
    ref: str | None = None
    # The qualified name of a library class it is an instance of ("sqlite3.Cursor").
    type: str | None = None
    # States set on an object by calls (a parser that resolves external entities).
    flags: frozenset[str] = frozenset()
    # A function or class of the analysed code, or an instance of such a class.
    local: Definition | None = None
    instance_of: Definition | None = None
    # An instance's attributes, as its own methods (or the code) set them.
    fields: tuple[tuple[str, Value], ...] = ()
    # The variable this is a parsed or normalised view of (`urlparse(x)`), so a check on
    # the view vouches for the variable too.
    view_of: str | None = None
    number: bool = False  # a number or a boolean: carries no text
    # The Python type, when known: "str", "bytes", "list", "tuple", "dict", "set", "int"...
    pytype: str | None = None
    # A list's first elements when the rest is not known (`["git", "clone"] + args`).
    lead: tuple[Value, ...] | None = None
    # A bound method: the object it was looked up on.
    receiver: Value | None = None
    # A source mapping whose client data is only under keys with these prefixes.
    key_prefixes: tuple[str, ...] | None = None
    # Made from constants only, through calls that add nothing (`b64decode("...")`),
    # though its value is not computed.
    fixed: bool = False

    # -- what it holds ----------------------------------------------------------------

    @property
    def tainted(self) -> bool:
        return bool(self.taints)

    def taints_for(self, vulnerability: str, kinds: frozenset[str]) -> list[Taint]:
        """The taints that reach a sink of this class, best explained first."""
        found = [t for t in self.taints if t.reaches(vulnerability, kinds)]
        return sorted(found, key=_full_key)

    @property
    def const(self) -> Const | None:
        """The one constant it is, or None (also when it may be None or other things)."""
        if self.consts is not None and len(self.consts) == 1:
            return next(iter(self.consts))
        return None

    @property
    def known(self) -> bool:
        return self.consts is not None and len(self.consts) == 1

    def field(self, name: str) -> Value | None:
        for key, value in self.fields:
            if key == name:
                return value
        return None

    def entry(self, key: Const) -> Value | None:
        if self.entries is None:
            return None
        for k, value in self.entries:
            if k == key and type(k) is type(key):
                return value
        return None

    def element(self) -> Value:
        """Any one of its elements (a container's, or an iterable's)."""
        if self.items is not None:
            return join_all(self.items)
        if self.entries is not None:
            return join_all(v for _, v in self.entries)
        if self.consts is not None and all(isinstance(c, str | bytes) for c in self.consts):
            return Value(number=False)  # characters of constant text: clean
        return Value(taints=self.taints)

    # -- new values from it -------------------------------------------------------------

    def with_taints(self, taints: Iterable[Taint]) -> Value:
        return replace(self, taints=bounded(taints))

    def with_step(self, step: Step) -> Value:
        if not self.taints:
            return self
        return replace(self, taints=frozenset(t.with_step(step) for t in self.taints))

    def cleared(self, classes: frozenset[str]) -> Value:
        if not self.taints:
            return self
        return replace(self, taints=frozenset(t.cleared_for(classes) for t in self.taints))

    def excluding(self, texts: frozenset[str]) -> Value:
        if not self.taints:
            return self
        return replace(
            self, taints=frozenset(replace(t, excludes=t.excludes | texts) for t in self.taints)
        )

    def quoted_by(self, quote: str) -> Value:
        if not self.taints:
            return self
        return replace(
            self,
            taints=frozenset(t if t.quoted else replace(t, quoted=quote) for t in self.taints),
        )

    def assumed(self) -> Value:
        if not self.taints:
            return self
        return replace(self, taints=frozenset(replace(t, assumed=True) for t in self.taints))

    def with_field(self, name: str, value: Value) -> Value:
        fields = (*((k, v) for k, v in self.fields if k != name), (name, value))
        return replace(self, fields=fields[-MAX_ITEMS:])


UNKNOWN = Value()
NUMBER = Value(number=True)


def constant(value: Const) -> Value:
    if isinstance(value, str):
        return Value(consts=frozenset((value,)), prefix=value, suffix=value, pytype="str")
    if isinstance(value, bool | int | float | complex):
        return Value(consts=frozenset((value,)), number=True, pytype=type(value).__name__)
    if isinstance(value, bytes):
        return Value(consts=frozenset((value,)), pytype="bytes")
    return Value(consts=frozenset((value,)), pytype=None if value is None else "tuple")


def text_of(taints: Iterable[Taint], prefix: str = "", suffix: str = "") -> Value:
    return Value(taints=bounded(taints), prefix=prefix, suffix=suffix)


def taints_of(values: Iterable[Value]) -> frozenset[Taint]:
    found: set[Taint] = set()
    for value in values:
        found.update(value.taints)
    return bounded(found)


def container(
    items: tuple[Value, ...] | None,
    taints: Iterable[Taint] = (),
    pytype: str | None = "list",
    lead: tuple[Value, ...] | None = None,
) -> Value:
    """A list or tuple: its taints are its elements' (so imprecise uses see them all)."""
    if items is not None and len(items) > MAX_ITEMS:
        lead, items = items[:MAX_ITEMS], None
    own = set(taints)
    if items is not None:
        own.update(taints_of(items))
        lead = None
    elif lead is not None:
        own.update(taints_of(lead))
        lead = lead[:MAX_ITEMS] or None
    return Value(taints=bounded(own), items=items, pytype=pytype, lead=lead)


def mapping(
    entries: tuple[tuple[Const, Value], ...] | None,
    taints: Iterable[Taint] = (),
    pytype: str | None = "dict",
) -> Value:
    if entries is not None and len(entries) > MAX_ITEMS:
        entries = None
    own = set(taints)
    if entries is not None:
        own.update(taints_of(v for _, v in entries))
    return Value(taints=bounded(own), entries=entries, pytype=pytype)


def _common_prefix(a: str, b: str) -> str:
    """The text both start with (character by character: these are not paths)."""
    size = min(len(a), len(b))
    index = 0
    while index < size and a[index] == b[index]:
        index += 1
    return a[:index]


def _common_suffix(a: str, b: str) -> str:
    return _common_prefix(a[::-1], b[::-1])[::-1]


def join(a: Value, b: Value) -> Value:
    """A value that may be either: taints and constants united, shapes kept if shared."""
    if a is b or a == b:
        return a
    consts = None
    if a.consts is not None and b.consts is not None:
        union = a.consts | b.consts
        consts = union if len(union) <= MAX_CONSTS else None
    items = None
    if a.items is not None and b.items is not None and len(a.items) == len(b.items):
        items = tuple(join(x, y) for x, y in zip(a.items, b.items, strict=True))
    entries = _join_entries(a.entries, b.entries)
    return Value(
        taints=bounded(a.taints | b.taints),
        consts=consts,
        prefix=_common_prefix(a.prefix, b.prefix),
        suffix=_common_suffix(a.suffix, b.suffix),
        items=items,
        entries=entries,
        ref=a.ref if a.ref == b.ref else None,
        type=a.type if a.type == b.type else None,
        flags=a.flags | b.flags,
        local=a.local if a.local is b.local else None,
        instance_of=a.instance_of if a.instance_of is b.instance_of else None,
        fields=_join_fields(a.fields, b.fields),
        view_of=a.view_of if a.view_of == b.view_of else None,
        number=a.number and b.number,
        pytype=a.pytype if a.pytype == b.pytype else None,
        lead=_join_lead(a, b),
        receiver=a.receiver if a.receiver == b.receiver else None,
        fixed=a.fixed and b.fixed,
    )


def _join_lead(a: Value, b: Value) -> tuple[Value, ...] | None:
    first = a.items if a.items is not None else a.lead
    second = b.items if b.items is not None else b.lead
    if not first or not second:
        return None
    size = min(len(first), len(second))
    return tuple(join(x, y) for x, y in zip(first[:size], second[:size], strict=True))


def _join_entries(
    a: tuple[tuple[Const, Value], ...] | None, b: tuple[tuple[Const, Value], ...] | None
) -> tuple[tuple[Const, Value], ...] | None:
    if a is None or b is None:
        return None
    merged: dict[tuple[type, Const], Value] = {}
    order: list[tuple[type, Const]] = []
    for key, value in (*a, *b):
        slot = (type(key), key)
        if slot in merged:
            merged[slot] = join(merged[slot], value)
        else:
            merged[slot] = value
            order.append(slot)
    return tuple((slot[1], merged[slot]) for slot in order)


def _join_fields(
    a: tuple[tuple[str, Value], ...], b: tuple[tuple[str, Value], ...]
) -> tuple[tuple[str, Value], ...]:
    if a == b:
        return a
    merged: dict[str, Value] = {}
    for name, value in (*a, *b):
        merged[name] = join(merged[name], value) if name in merged else value
    return tuple(merged.items())


def join_all(values: Iterable[Value]) -> Value:
    result: Value | None = None
    for value in values:
        result = value if result is None else join(result, value)
    return result if result is not None else UNKNOWN


@dataclass(frozen=True)
class Flow:
    """Untrusted data that reaches a sink: the result of the analysis, for the check."""

    vulnerability: str  # the catalogue's class: "sql", "path", ...
    sink: Where  # the dangerous expression
    sink_label: str  # "`cursor.execute()`"
    taint: Taint
    detail: str = ""  # what about the sink makes it dangerous ("with shell=True")
    extra: dict[str, object] = field(default_factory=dict, compare=False, hash=False)
