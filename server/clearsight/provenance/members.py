"""Units of a long top-level class, member by member, without parsing the whole class.

The body's members are found by their indentation (outside triple-quoted strings) and each
is parsed on its own as the body of `if 1:`, so string contents and therefore statement
keys are exactly those of a whole-file parse. Anything unexpected (a dedented continuation
line, a member that does not parse) returns None and the caller parses the class whole.
"""

from __future__ import annotations

import ast
import itertools
import re
import threading

from clearsight.provenance.units import Unit, UnitKeys, _Collector, _header_dump, _moved
from clearsight.segments import _CONTINUES, _STARTS_CODE, _open_quote

_CLASS = re.compile(r"class\s+(\w+)")
_HEADER_LINES = 20  # a class line with its bases spans at most this many lines
# (units, the line of the first statement's `def`/`class`/code, not its decorators)
_MEMBERS: dict[tuple[str, str], tuple[tuple[Unit, ...], int] | None] = {}
_LIMIT = 50_000
_lock = threading.Lock()


def _code(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _class_header(lines: list[str]) -> tuple[int, ast.ClassDef] | None:
    """The last line of the decorators + `class Name(...):` header, and its node."""
    start = 0
    while start < len(lines) and lines[start].startswith("@"):
        start += 1
    if start >= len(lines) or not _CLASS.match(lines[start]):
        return None
    for end in range(start, min(len(lines), start + _HEADER_LINES)):
        try:
            tree = ast.parse("\n".join(lines[: end + 1]) + "\n    pass")
        except SyntaxError:
            continue
        node = tree.body[0] if len(tree.body) == 1 else None
        return (end, node) if isinstance(node, ast.ClassDef) else None
    return None


def _body_line(line: str, indent: str) -> str | None:
    """The code after `indent` if `line` is code at the body's level; "" for code deeper
    in; None for code left of the body (a continuation line the split cannot place)."""
    if not line.startswith(indent):
        return None
    rest = line[len(indent) :]
    return rest if _STARTS_CODE.match(rest) else ""


def _quote_after(line: str, quote: str | None) -> str | None:
    """The triple quote still open after `line`."""
    return _open_quote(line, quote) if '"""' in line or "'''" in line else quote


def _starts_member(rest: str, previous: str) -> bool:
    # `else:`/`except ...:` continue the member above; a decorator's member is below it.
    return bool(rest) and not _CONTINUES.match(rest) and not previous.startswith("@")


def _member_bounds(lines: list[str], start: int, indent: str) -> list[tuple[int, int]] | None:
    """(first, end) of each member of a body indented by `indent`, from line `start`."""
    bounds: list[int] = []
    quote: str | None = None
    previous = ""
    for number in range(start, len(lines)):
        line = lines[number]
        rest = _body_line(line, indent) if quote is None and _code(line) else ""
        if rest is None:
            return None  # parse the class whole instead
        if _starts_member(rest, previous):
            bounds.append(number)
        previous = rest or previous
        quote = _quote_after(line, quote)
    bounds.append(len(lines))
    return [(a, b) for a, b in itertools.pairwise(bounds) if b > a]


def _member(lines: list[str], qualname: str, keys: UnitKeys) -> tuple[tuple[Unit, ...], int] | None:
    text = "\n".join(lines)
    cached = _MEMBERS.get((qualname, text), False)
    if cached is not False:
        return cached  # type: ignore[return-value]
    units: tuple[tuple[Unit, ...], int] | None = None
    try:
        tree = ast.parse("if 1:\n" + text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        tree = None
    if tree is not None and len(tree.body) == 1 and isinstance(tree.body[0], ast.If):
        collector = _Collector(["if 1:", *lines], keys)
        collector.statements(tree.body[0].body, qualname)
        first_line = tree.body[0].body[0].lineno - 2
        units = (tuple(_moved(unit, -1) for unit in collector.units), first_line)
    with _lock:
        if len(_MEMBERS) >= _LIMIT:
            _MEMBERS.clear()
        _MEMBERS[(qualname, text)] = units
    return units


def _body_bounds(lines: list[str], header_end: int) -> list[tuple[int, int]] | None:
    body_start = next((n for n in range(header_end + 1, len(lines)) if _code(lines[n])), None)
    if body_start is None:
        return None
    indent = lines[body_start][: len(lines[body_start]) - len(lines[body_start].lstrip())]
    return _member_bounds(lines, body_start, indent) if indent else None


def class_units(lines: list[str], keys: UnitKeys) -> tuple[Unit, ...] | None:
    """The units of a top-level class segment (lines relative to it), or None."""
    header = _class_header(lines)
    if header is None:
        return None
    header_end, node = header
    bounds = _body_bounds(lines, header_end)
    if not bounds:
        return None
    body_start = bounds[0][0]
    units: list[Unit] = []
    first_statement = body_start
    for number, (first, end) in enumerate(bounds):
        member = _member(lines[first:end], node.name, keys)
        if member is None:
            return None
        units.extend(_moved(unit, first) for unit in member[0])
        if number == 0:
            first_statement = first + member[1]
    # As the whole-file walk does: the header runs to the line before the first body
    # statement's own line (a decorated method's decorators are in both).
    collector = _Collector(lines, keys)
    header_last = max(0, first_statement - 1)
    collector.add(0, header_last, "", "head", lambda: _header_dump(node), node.name)
    units.extend(collector.units)
    units.sort(key=lambda unit: (unit.first, unit.last))
    return tuple(units)
