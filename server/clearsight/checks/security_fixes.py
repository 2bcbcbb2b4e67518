"""Real fixes for security findings whose secure form is unambiguous.

Each fixer gets the call bandit flagged (found again in the engine's tree by position) and
returns the edit, or nothing when the secure form would change the call's meaning in a way
we cannot see (extra arguments, unusual spelling).
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from clearsight.model import Fix, Span, TextEdit
from clearsight.source import SourceText

Fixer = Callable[[SourceText, ast.Call], Fix | None]


def _call_at(source: SourceText, span: Span) -> ast.Call | None:
    tree = source.tree
    if tree is None:
        return None
    line = span.start.line + 1
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and node.lineno == line
            and source.byte_to_char_column(line - 1, node.col_offset) == span.start.column
        ):
            return node
    return None


def _char_span(
    source: SourceText, line: int, byte_start: int, end_line: int, byte_end: int
) -> Span:
    return Span.of(
        line - 1,
        source.byte_to_char_column(line - 1, byte_start),
        end_line - 1,
        source.byte_to_char_column(end_line - 1, byte_end),
    )


def yaml_safe_load(source: SourceText, call: ast.Call) -> Fix | None:
    """B506: `yaml.load(data)` -> `yaml.safe_load(data)` (only with no Loader given)."""
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr == "load"):
        return None
    if len(call.args) != 1 or call.keywords or func.end_lineno is None:
        return None
    end = func.end_col_offset or 0
    span = _char_span(source, func.end_lineno, end - len("load"), func.end_lineno, end)
    return Fix("Use yaml.safe_load()", (TextEdit(span, "safe_load"),))


def remove_verify_false(source: SourceText, call: ast.Call) -> Fix | None:
    """B501: drop `verify=False` so the TLS certificate is checked again."""
    arguments: list[ast.AST] = [*call.args, *call.keywords]
    for index, keyword in enumerate(call.keywords):
        if not (
            keyword.arg == "verify"
            and isinstance(keyword.value, ast.Constant)
            and keyword.value.value is False
        ):
            continue
        position = len(call.args) + index
        value = keyword.value
        if position > 0:  # remove ", verify=False" starting after the previous argument
            previous = arguments[position - 1]
            start = (previous.end_lineno, previous.end_col_offset)
            stop = (value.end_lineno, value.end_col_offset)
        elif len(arguments) > 1:  # first argument: remove "verify=False, "
            following = arguments[1]
            start = (keyword.lineno, keyword.col_offset)
            stop = (following.lineno, following.col_offset)
        else:
            start = (keyword.lineno, keyword.col_offset)
            stop = (value.end_lineno, value.end_col_offset)
        if None in (*start, *stop):
            return None
        span = _char_span(source, start[0], start[1], stop[0], stop[1])  # type: ignore[arg-type]
        return Fix("Remove verify=False (check TLS certificates)", (TextEdit(span, ""),))
    return None


FIXERS: dict[str, Fixer] = {
    "B506": yaml_safe_load,
    "B501": remove_verify_false,
}


def fixes_for(source: SourceText, test_id: str, span: Span) -> tuple[Fix, ...]:
    fixer = FIXERS.get(test_id)
    if fixer is None:
        return ()
    call = _call_at(source, span)
    if call is None:
        return ()
    fix = fixer(source, call)
    return (fix,) if fix else ()
