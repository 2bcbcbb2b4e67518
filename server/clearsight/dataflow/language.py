"""Python's own semantics for data: strings, containers and the builtins that make them.

Pure functions from values to values. A method that changes its receiver (`lst.append(x)`)
returns the receiver's new value too; the interpreter rebinds the variable. Constant
folding runs Python's own `str` methods on constants only, with results kept short.
"""

from __future__ import annotations

import _string  # type: ignore[import-not-found]  # str.format's own field parser
import string
from collections.abc import Sequence

from clearsight.dataflow.values import (
    MAX_CONSTS,
    MAX_ITEMS,
    NUMBER,
    UNKNOWN,
    Const,
    Value,
    bounded,
    constant,
    container,
    join,
    join_all,
    mapping,
    taints_of,
)

MAX_TEXT = 4096  # longest constant string folding keeps

BOOL_STR_METHODS = frozenset(
    {"isdigit", "isnumeric", "isdecimal", "isalpha", "isalnum", "isspace", "islower",
     "isupper", "istitle", "isidentifier", "isascii", "isprintable", "startswith", "endswith"}
)  # fmt: skip
INT_STR_METHODS = frozenset({"find", "rfind", "index", "rindex", "count", "__len__"})
SAME_STR_METHODS = frozenset(
    {"strip", "lstrip", "rstrip", "lower", "upper", "casefold", "title", "capitalize",
     "swapcase", "center", "ljust", "rjust", "zfill", "expandtabs", "translate",
     "removeprefix", "removesuffix", "replace", "format_map", "encode", "decode",
     "__str__", "tobytes", "hex"}
)  # fmt: skip
SPLIT_STR_METHODS = frozenset({"split", "rsplit", "splitlines", "partition", "rpartition"})
SAFE_WORD_CHECKS = frozenset({"isdigit", "isnumeric", "isdecimal", "isalpha", "isalnum"})


def is_text(value: Value) -> bool:
    return value.pytype in ("str", "bytes") or bool(value.prefix or value.suffix)


def fold(value: object) -> Value:
    """A Python constant (from folding) as a value, or UNKNOWN when it is too big."""
    if isinstance(value, str | bytes) and len(value) > MAX_TEXT:
        return Value(pytype=type(value).__name__)
    if isinstance(value, bool | int | float | complex | str | bytes) or value is None:
        return constant(value)
    if isinstance(value, tuple) and len(value) <= MAX_ITEMS:
        return container(tuple(fold(item) for item in value), pytype="tuple")
    if isinstance(value, list) and len(value) <= MAX_ITEMS:
        return container(tuple(fold(item) for item in value))
    return UNKNOWN


def concat(parts: Sequence[Value]) -> Value:
    """The string made of `parts` in order (f-strings, `+`, `join`)."""
    consts = [p.const for p in parts]
    if all(p.known and isinstance(c, str) for p, c in zip(parts, consts, strict=True)):
        text = "".join(consts)  # type: ignore[arg-type]
        return fold(text)
    combined = _combinations(parts)
    if combined is not None:
        return combined
    prefix = ""
    for part in parts:
        if part.known and isinstance(part.const, str):
            prefix += part.const
            continue
        prefix += part.prefix
        break
    suffix = ""
    for part in reversed(parts):
        if part.known and isinstance(part.const, str):
            suffix = part.const + suffix
            continue
        suffix = part.suffix + suffix
        break
    taints = taints_of(_quoted(parts))
    return Value(taints=taints, prefix=prefix[:MAX_TEXT], suffix=suffix[-MAX_TEXT:], pytype="str")


def _combinations(parts: Sequence[Value]) -> Value | None:
    """The strings a few parts of a few constants each can make (`"sh -c " or "cmd /c "`
    then `"echo x"`), when there are few enough of them."""
    texts = [""]
    for part in parts:
        options = part.consts
        if options is None or not all(isinstance(o, str) for o in options):
            return None
        texts = [t + o for t in texts for o in sorted(options)]  # type: ignore[operator]
        if len(texts) > MAX_CONSTS or any(len(t) > MAX_TEXT for t in texts):
            return None
    values = [fold(t) for t in texts]
    result = values[0]
    for value in values[1:]:
        result = join(result, value)
    return result


def _quoted(parts: Sequence[Value]) -> list[Value]:
    """The parts, each untrusted one marked with the quote around it, if any."""
    marked = list(parts)
    for index, part in enumerate(parts):
        if not part.taints or index == 0 or index == len(parts) - 1:
            continue
        before, after = parts[index - 1], parts[index + 1]
        left = before.const if before.known and isinstance(before.const, str) else before.suffix
        right = after.const if after.known and isinstance(after.const, str) else after.prefix
        if left and right and left[-1] == right[0] and left[-1] in "'\"":
            marked[index] = part.quoted_by(left[-1])
    return marked


def _all_known(values: Sequence[Value]) -> bool:
    return all(v.known for v in values)


def _fold_call(receiver: Value, method: str, args: Sequence[Value]) -> Value | None:
    """`receiver.method(*args)` computed, when everything is one known constant."""
    if not (receiver.known and _all_known(args)):
        return None
    target = receiver.const
    if not isinstance(target, str | bytes) or len(target) > MAX_TEXT:
        return None
    values = [a.const for a in args]
    if method in ("center", "ljust", "rjust", "zfill", "expandtabs") and any(
        isinstance(v, int) and v > MAX_TEXT for v in values
    ):
        return None
    try:
        return fold(getattr(target, method)(*values))
    except Exception:
        return None


def str_method(
    receiver: Value, method: str, args: list[Value], kwargs: dict[str, Value]
) -> Value | None:
    """A str/bytes method's result, or None when the method is not one of these."""
    if method in BOOL_STR_METHODS:
        folded = None if kwargs else _fold_call(receiver, method, args)
        return folded or Value(number=True, pytype="bool")
    if method in INT_STR_METHODS:
        folded = None if kwargs else _fold_call(receiver, method, args)
        return folded or Value(number=True, pytype="int")
    if method == "join" and args:
        return _join(receiver, args[0])
    if method == "format":
        return format_string(receiver, args, kwargs)
    if method in SPLIT_STR_METHODS:
        folded = None if kwargs else _fold_call(receiver, method, args)
        if folded is not None:
            return folded
        pytype = "tuple" if "partition" in method else "list"
        return container(None, receiver.taints, pytype=pytype)
    if method in SAME_STR_METHODS:
        folded = None if kwargs else _fold_call(receiver, method, args)
        if folded is not None:
            return folded
        taints = taints_of([receiver, *args[1:2]]) if method == "replace" else receiver.taints
        pytype = {"encode": "bytes", "decode": "str", "hex": "str"}.get(method, receiver.pytype)
        keep_prefix = method in ("rstrip", "removesuffix", "ljust", "encode", "decode")
        keep_suffix = method in ("lstrip", "removeprefix", "rjust", "zfill")
        value = Value(
            taints=bounded(taints),
            pytype=pytype or "str",
            prefix=receiver.prefix if keep_prefix else "",
            suffix=receiver.suffix if keep_suffix else "",
        )
        if method == "replace" and len(args) >= 2 and args[0].known and args[1].known:
            old, new = args[0].const, args[1].const
            if isinstance(old, str) and len(old) == 1 and isinstance(new, str) and old not in new:
                value = value.excluding(frozenset({old}))  # every occurrence is gone
        return value
    return None


def _join(separator: Value, iterable: Value) -> Value:
    items = iterable.items
    if items is not None and separator.known and isinstance(separator.const, str):
        parts: list[Value] = []
        for index, item in enumerate(items):
            if index:
                parts.append(separator)
            parts.append(item)
        return concat(parts)
    return Value(taints=taints_of([separator, iterable.element()]), pytype="str")


def format_string(template: Value, args: list[Value], kwargs: dict[str, Value]) -> Value:
    """`template.format(...)`, following `{0[key]}` and `{name.attr}` into the arguments."""
    text = template.const if template.known else None
    if not isinstance(text, str):
        return Value(taints=taints_of([template, *args, *kwargs.values()]), pytype="str")
    parts: list[Value] = []
    automatic = 0
    try:
        pieces = list(string.Formatter().parse(text))
    except ValueError:
        return Value(taints=taints_of([template, *args, *kwargs.values()]), pytype="str")
    for literal, field_name, _spec, _conversion in pieces:
        if literal:
            parts.append(fold(literal))
        if field_name is None:
            continue
        if field_name == "":
            field_name = str(automatic)
            automatic += 1
        parts.append(_format_field(field_name, args, kwargs))
    return concat(parts)


def _format_field(field_name: str, args: list[Value], kwargs: dict[str, Value]) -> Value:
    try:
        first, rest = _string.formatter_field_name_split(field_name)
    except ValueError:
        return Value(taints=taints_of([*args, *kwargs.values()]))
    if isinstance(first, int):
        value = args[first] if first < len(args) else UNKNOWN
    else:
        value = kwargs.get(first, UNKNOWN)
    for is_attribute, key in rest:
        if is_attribute:
            value = value.field(key) or Value(taints=value.taints)
        else:
            value = subscript_const(value, key)
    return value


def subscript_const(base: Value, key: Const) -> Value:
    """`base[key]` for a constant key (or index)."""
    if base.entries is not None:
        found = base.entry(key)
        if found is not None:
            return found
        if not base.taints:
            return UNKNOWN
    if isinstance(key, int) and not isinstance(key, bool):
        if base.items is not None:
            if -len(base.items) <= key < len(base.items):
                return base.items[key]
            return UNKNOWN  # IndexError at run time: nothing flows
        if base.lead is not None and 0 <= key < len(base.lead):
            return base.lead[key]
        if base.known and isinstance(base.const, str | bytes):
            try:
                return fold(base.const[key])
            except IndexError:
                return UNKNOWN
        if is_text(base) and key >= 0 and key < len(base.prefix):
            return fold(base.prefix[key])
    return base.element() if base.pytype != "str" else Value(taints=base.taints, pytype="str")


def slice_value(base: Value, lower: Value | None, upper: Value | None, step: Value | None) -> Value:
    """`base[lower:upper:step]`: constants fold, known items are cut, and a slice that stays
    inside a string's constant prefix or suffix is constant."""
    bounds = []
    for bound in (lower, upper, step):
        if bound is None:
            bounds.append(None)
        elif bound.known and (bound.const is None or isinstance(bound.const, int)):
            bounds.append(bound.const)
        else:
            return _unknown_slice(base)
    start, stop, stride = bounds
    if base.items is not None:
        items = base.items[slice(start, stop, stride)]  # type: ignore[misc]
        return container(items, pytype=base.pytype)
    if base.known and isinstance(base.const, str | bytes):
        return fold(base.const[slice(start, stop, stride)])  # type: ignore[misc]
    if is_text(base) and stride in (None, 1):
        prefix, suffix = base.prefix, base.suffix
        start = 0 if start is None else start
        if start >= 0 and stop is not None and 0 <= stop <= len(prefix):
            return fold(prefix[start:stop])
        if start < 0 and len(suffix) >= -start and (stop is None or -len(suffix) <= stop < 0):
            return fold(suffix[start:stop] if stop is not None else suffix[start:])
        new_prefix = prefix[start:] if start >= 0 else ""
        new_suffix = suffix if stop is None else ""
        return Value(taints=base.taints, prefix=new_prefix, suffix=new_suffix, pytype=base.pytype)
    return _unknown_slice(base)


def _unknown_slice(base: Value) -> Value:
    if base.items is not None or base.lead is not None or base.pytype in ("list", "tuple"):
        return container(None, base.taints, pytype=base.pytype or "list")
    return Value(taints=base.taints, pytype=base.pytype)


def list_method(
    receiver: Value, method: str, args: list[Value]
) -> tuple[Value, Value | None] | None:
    """(result, the receiver after the call or None when unchanged) for a list method."""
    items = receiver.items
    if method == "append" and len(args) == 1:
        if items is not None:
            return UNKNOWN, container((*items, args[0]), pytype=receiver.pytype)
        return UNKNOWN, container(None, taints_of([receiver, args[0]]), lead=receiver.lead)
    if method == "extend" and len(args) == 1:
        other = args[0]
        if items is not None and other.items is not None:
            return UNKNOWN, container((*items, *other.items), pytype=receiver.pytype)
        lead = items if items is not None else receiver.lead
        return UNKNOWN, container(None, taints_of([receiver, other.element()]), lead=lead)
    if method == "insert" and len(args) == 2:
        position = args[0].const
        if items is not None and isinstance(position, int) and not isinstance(position, bool):
            new = list(items)
            new.insert(position, args[1])
            return UNKNOWN, container(tuple(new), pytype=receiver.pytype)
        return UNKNOWN, container(None, taints_of([receiver, args[1]]))
    if method == "pop":
        return _pop(receiver, args)
    if method == "remove" and len(args) == 1:
        if items is not None and args[0].known:
            for index, item in enumerate(items):
                if item.known and item.const == args[0].const:
                    return UNKNOWN, container(items[:index] + items[index + 1 :])
        return UNKNOWN, container(None, receiver.taints)
    if method == "clear":
        return UNKNOWN, container(())
    if method == "copy":
        return receiver, None
    if method == "reverse":
        if items is not None:
            return UNKNOWN, container(tuple(reversed(items)), pytype=receiver.pytype)
        return UNKNOWN, None
    if method == "sort":
        return UNKNOWN, container(None, receiver.taints) if items else None
    if method in ("index", "count"):
        return NUMBER, None
    return None


def _pop(receiver: Value, args: list[Value]) -> tuple[Value, Value | None]:
    items = receiver.items
    if items is not None and items:
        if not args:
            return items[-1], container(items[:-1], pytype=receiver.pytype)
        position = args[0].const
        in_range = isinstance(position, int) and -len(items) <= position < len(items)
        if in_range and not isinstance(position, bool):
            index = position % len(items)  # type: ignore[operator]
            rest = items[:index] + items[index + 1 :]
            return items[index], container(rest, pytype=receiver.pytype)
    return receiver.element(), container(None, receiver.taints)


def dict_method(
    receiver: Value, method: str, args: list[Value], kwargs: dict[str, Value]
) -> tuple[Value, Value | None] | None:
    entries = receiver.entries
    key = args[0] if args else None
    if method in ("get", "pop", "setdefault") and key is not None:
        default = args[1] if len(args) > 1 else (constant(None) if method != "pop" else UNKNOWN)
        if entries is not None and key.known:
            found = receiver.entry(key.const)
            result = found if found is not None else default
            if method == "pop":
                rest = tuple((k, v) for k, v in entries if k != key.const)
                return result, mapping(rest)
            if method == "setdefault" and found is None:
                return result, mapping((*entries, (key.const, default)))
            return result, None
        result = join(receiver.element(), default) if method != "pop" else receiver.element()
        return result, None
    if method == "update":
        new = list(entries or ())
        others = [a for a in args] + ([mapping(tuple(kwargs.items()))] if kwargs else [])
        known = entries is not None
        for other in others:
            if other.entries is None:
                known = False
            else:
                for k, v in other.entries:
                    new = [(old, value) for old, value in new if old != k]
                    new.append((k, v))
        taints = taints_of([receiver, *others])
        return UNKNOWN, mapping(tuple(new) if known else None, taints)
    if method == "keys":
        if entries is not None:
            return container(tuple(fold(k) for k, _ in entries)), None
        return container(None, receiver.taints), None
    if method == "values":
        if entries is not None:
            return container(tuple(v for _, v in entries)), None
        return container(None, receiver.taints), None
    if method == "items":
        if entries is not None:
            pairs = tuple(container((fold(k), v), pytype="tuple") for k, v in entries)
            return container(pairs), None
        return container(None, receiver.taints), None
    if method == "copy":
        return receiver, None
    if method == "clear":
        return UNKNOWN, mapping(())
    if method == "popitem":
        return container(None, receiver.taints, pytype="tuple"), None
    return None


def set_method(
    receiver: Value, method: str, args: list[Value]
) -> tuple[Value, Value | None] | None:
    if method in ("add", "update", "discard", "remove"):
        if method in ("discard", "remove"):
            return UNKNOWN, None
        added = args[0] if method == "add" and args else join_all(a.element() for a in args)
        return UNKNOWN, Value(taints=taints_of([receiver, added]), pytype="set")
    if method in ("union", "intersection", "difference", "symmetric_difference", "copy"):
        return Value(taints=taints_of([receiver, *args]), pytype="set"), None
    if method in ("issubset", "issuperset", "isdisjoint"):
        return Value(number=True, pytype="bool"), None
    return None


def builtin_container(name: str, args: list[Value], kwargs: dict[str, Value]) -> Value | None:
    """Builtins that make containers or walk them: list(), sorted(), zip(), next()..."""
    first = args[0] if args else None
    if name in ("list", "tuple"):
        if first is None:
            return container((), pytype=name)
        if first.items is not None:
            return container(first.items, pytype=name)
        if first.entries is not None:
            return container(tuple(fold(k) for k, _ in first.entries), pytype=name)
        return container(None, first.element().taints, pytype=name)
    if name in ("set", "frozenset"):
        return Value(taints=first.element().taints if first else frozenset(), pytype="set")
    if name == "dict":
        base = first.entries if first is not None and first.entries is not None else ()
        known = first is None or first.entries is not None
        entries = (*base, *kwargs.items()) if known else None
        taints = taints_of([*(args[:1]), *kwargs.values()])
        return mapping(entries, taints)
    if name == "sorted" and first is not None:
        return container(None, first.element().taints)
    if name == "reversed" and first is not None:
        if first.items is not None:
            return container(tuple(reversed(first.items)))
        return container(None, first.element().taints)
    if name == "enumerate" and first is not None:
        return container(None, first.element().taints)
    if name == "zip":
        return container(None, taints_of(a.element() for a in args))
    if name == "iter" and first is not None:
        return first
    if name == "next" and first is not None:
        element = first.element()
        return join(element, args[1]) if len(args) > 1 else element
    return None
