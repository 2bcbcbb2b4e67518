"""Real fixes for security findings whose secure form is unambiguous.

Each fixer gets the call bandit flagged (found again in the engine's tree from bandit's own
line and byte column) and returns the edit, or nothing when the secure form would change
the call's meaning in a way we cannot see (extra arguments, unusual spelling).
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from clearsight.model import Fix, Span, TextEdit
from clearsight.source import SourceText

Fixer = Callable[[SourceText, ast.Call], Fix | None]


def call_at(source: SourceText, line: int, byte_column: int) -> ast.Call | None:
    """The innermost call starting at `byte_column` whose lines include 1-based `line`.

    bandit reports some issues on the line of an argument (B501 on `verify=False`) with the
    call's column, so a call spread over several lines is found by its range.
    """
    tree = source.tree
    if tree is None:
        return None
    best: ast.Call | None = None
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and node.col_offset == byte_column
            and node.lineno <= line <= (node.end_lineno or node.lineno)
            and (best is None or node.lineno >= best.lineno)
        ):
            best = node
    return best


def _char_span(source: SourceText, start: tuple[int, int], end: tuple[int, int]) -> Span:
    """(1-based line, byte column) pairs from ast -> a code-point span."""
    return Span.of(
        start[0] - 1,
        source.byte_to_char_column(start[0] - 1, start[1]),
        end[0] - 1,
        source.byte_to_char_column(end[0] - 1, end[1]),
    )


def _start(node: ast.AST) -> tuple[int, int]:
    return node.lineno, node.col_offset  # type: ignore[attr-defined]


def _end(node: ast.AST) -> tuple[int, int]:
    return node.end_lineno, node.end_col_offset  # type: ignore[attr-defined]


def yaml_safe_load(source: SourceText, call: ast.Call) -> Fix | None:
    """B506: `yaml.load(data)` -> `yaml.safe_load(data)` (only with no Loader given)."""
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr == "load"):
        return None
    if len(call.args) != 1 or call.keywords or func.end_lineno is None:
        return None
    line, end = _end(func)
    span = _char_span(source, (line, end - len("load")), (line, end))
    return Fix("Use yaml.safe_load()", (TextEdit(span, "safe_load"),))


def remove_verify_false(source: SourceText, call: ast.Call) -> Fix | None:
    """B501: drop `verify=False` so the TLS certificate is checked again."""
    arguments: list[ast.AST] = sorted([*call.args, *call.keywords], key=_start)
    for index, argument in enumerate(arguments):
        if not (
            isinstance(argument, ast.keyword)
            and argument.arg == "verify"
            and isinstance(argument.value, ast.Constant)
            and argument.value.value is False
        ):
            continue
        # Cut from the argument to the next one, or from the previous argument to the
        # closing parenthesis: commas, parentheses around False and trailing commas go too.
        close_paren = (call.end_lineno, (call.end_col_offset or 1) - 1)
        if index + 1 < len(arguments):
            start, stop = _start(argument), _start(arguments[index + 1])
        elif index > 0:
            start, stop = _end(arguments[index - 1]), close_paren
        else:
            start, stop = _start(argument), close_paren
        span = _char_span(source, start, stop)  # type: ignore[arg-type]
        return Fix("Remove verify=False (check TLS certificates)", (TextEdit(span, ""),))
    return None


FIXERS: dict[str, Fixer] = {
    "B506": yaml_safe_load,
    "B501": remove_verify_false,
}


def fixes_for(source: SourceText, test_id: str, line: int, byte_column: int) -> tuple[Fix, ...]:
    """Fixes for a bandit issue at bandit's own (1-based line, byte column)."""
    fixer = FIXERS.get(test_id)
    if fixer is None:
        return ()
    call = call_at(source, line, byte_column)
    if call is None:
        return ()
    fix = fixer(source, call)
    return (fix,) if fix else ()
