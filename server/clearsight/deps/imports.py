"""Every import in a syntax tree, with where it sits and what guards it.

Statements are visited block by block (not node by node: an import is always a statement),
so a 2,000-line module costs a few thousand visits. Calls with a literal module name
(`importlib.import_module("x")`, `__import__("x")`, `pytest.importorskip("x")`) are looked
for only in files that mention those names.
"""

from __future__ import annotations

import ast
import bisect
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import cast

from clearsight.source import SourceText

_IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError"})
_BROAD_ERRORS = _IMPORT_ERRORS | {"Exception", "BaseException"}
_EXPECTING = frozenset({"assertRaises", "assertRaisesRegex", "raises"})
_DYNAMIC_CALLS = ("import_module", "__import__", "importorskip")
# Ways code changes where imports are found at run time: sys.path edits, import hooks,
# site folders, pytest's syspath_prepend, CPython's test helpers DirsOnSysPath and
# imports_under_tool. In such a file a module that looks missing may well be found.
EXTENDS_IMPORT_PATH = (
    "sys.path",
    "meta_path",
    "path_hooks",
    "addsitedir",
    "syspath_prepend",
    "DirsOnSysPath",
    "imports_under_tool",
    "PYTHONPATH",
)
_SYS_GUARDS = frozenset({"version_info", "platform", "implementation", "modules"})
_GUARD_NAMES = re.compile(
    r"^(?:IS_)?(?:PY\d*|PYPY|JYTHON|WIN(?:DOWS|32)?|MS_WINDOWS|MAC(?:OS)?|DARWIN|LINUX|POSIX)$"
)
# `except*` (ast.TryStar) exists from Python 3.11.
_TRY_NODES: tuple[type[ast.stmt], ...] = (
    ast.Try,
    *([ast.TryStar] if hasattr(ast, "TryStar") else []),
)
_DECORATED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_FROM_MODULE = re.compile(r"from\s+(\.*)\s*([^\W\d][\w.]*)?", re.UNICODE)


@dataclass(frozen=True)
class Guard:
    """What surrounds an import."""

    optional: bool = False  # try/except ImportError, suppress(ImportError), its handler
    conditional: bool = False  # under a Python-version or platform check
    type_checking: bool = False  # under `if TYPE_CHECKING:`
    expected_to_fail: bool = False  # inside assertRaises(ImportError) / pytest.raises
    in_function: bool = False
    in_try: bool = False  # in a `try:` body, whatever its handlers catch


@dataclass(frozen=True)
class ImportedModule:
    """One imported module, positioned on its name as written (0-based line, code points)."""

    module: str  # absolute dotted name, "" for `from . import x`
    level: int  # leading dots of a relative import; 0 for absolute
    line: int
    column: int
    end_line: int
    end_column: int
    # End column of the first component when the name is written plainly on one line, so
    # that it can be replaced by a fix; None when it cannot be addressed.
    top_end_column: int | None
    kind: str  # "import", "from" or "call"
    binds_top: bool  # `import a.b` without `as`: the name `a` is bound (and used later)
    guard: Guard = Guard()
    names: tuple[str, ...] = ()  # `from a import b, c`: ("b", "c"), possibly submodules

    @property
    def top(self) -> str:
        return self.module.split(".")[0]


@dataclass(frozen=True)
class ImportScan:
    imports: tuple[ImportedModule, ...]
    # The file changes the import path at run time (sys.path, import hooks…).
    extends_import_path: bool
    # False when Python would refuse to compile the file (a `from __future__` import after
    # other statements): its imports never run.
    compiles: bool


def _names(node: ast.expr | None) -> set[str]:
    if node is None:
        return set()
    if isinstance(node, ast.Tuple):
        return {name for element in node.elts for name in _names(element)}
    if isinstance(node, ast.Name):
        return {node.id}
    if isinstance(node, ast.Attribute):
        return {node.attr}
    return set()


def _call_name(node: ast.expr) -> str:
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Attribute):
            return func.attr
        if isinstance(func, ast.Name):
            return func.id
    return ""


def _catches_import_errors(handler: ast.ExceptHandler) -> bool:
    return handler.type is None or bool(_names(handler.type) & _BROAD_ERRORS)


def _with_guard(node: ast.With | ast.AsyncWith, guard: Guard) -> Guard:
    for item in node.items:
        call = item.context_expr
        name = _call_name(call)
        if not isinstance(call, ast.Call) or not call.args:
            continue
        if name in _EXPECTING and _names(call.args[0]) & _IMPORT_ERRORS:
            guard = replace(guard, expected_to_fail=True)
        elif name == "suppress" and any(_names(arg) & _IMPORT_ERRORS for arg in call.args):
            guard = replace(guard, optional=True)
    return guard


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _is_guard_attribute(node: ast.Attribute) -> bool:
    """`sys.version_info`, `sys.platform`, `os.name`, `platform.x`, `util.find_spec`…"""
    owner = node.value.id if isinstance(node.value, ast.Name) else ""
    if owner == "sys" and node.attr in _SYS_GUARDS:
        return True
    if (owner == "os" and node.attr == "name") or owner == "platform":
        return True
    return node.attr == "find_spec" or bool(_GUARD_NAMES.match(node.attr))


def _is_guard_name(node: ast.Name) -> bool:
    """`find_spec`, `PLATFORM`, and flags such as `PY3` or `IS_WINDOWS`."""
    return node.id in ("find_spec", "PLATFORM") or bool(_GUARD_NAMES.match(node.id))


def _is_environment_guard(test: ast.expr) -> bool:
    """A test on the Python version, implementation or platform, or on whether a module
    can be found: code behind it is meant for some environments only."""
    for node in ast.walk(test):
        if isinstance(node, ast.Attribute) and _is_guard_attribute(node):
            return True
        if isinstance(node, ast.Name) and _is_guard_name(node):
            return True
    return False


def _if_blocks(node: ast.If, guard: Guard) -> Iterator[tuple[list[ast.stmt], Guard]]:
    """An `if` statement's body and else branch, each with its guard."""
    if _is_type_checking(node.test):
        yield node.body, replace(guard, type_checking=True)
        yield node.orelse, guard
    elif isinstance(node.test, ast.UnaryOp) and _is_type_checking(node.test.operand):
        yield node.body, guard
        yield node.orelse, replace(guard, type_checking=True)
    elif _is_environment_guard(node.test):
        yield node.body, replace(guard, conditional=True)
        yield node.orelse, replace(guard, conditional=True)
    else:
        yield node.body, guard
        yield node.orelse, guard


def _try_blocks(node: ast.Try, guard: Guard) -> Iterator[tuple[list[ast.stmt], Guard]]:
    """A `try` statement's (or `try`/`except*`'s) blocks, each with its guard."""
    optional = any(_catches_import_errors(h) for h in node.handlers)
    yield node.body, replace(guard, optional=guard.optional or optional, in_try=True)
    for handler in node.handlers:
        # A fallback import runs only when the first one failed.
        fallback = _catches_import_errors(handler)
        yield handler.body, replace(guard, optional=True) if fallback else guard
    yield node.orelse, guard
    yield node.finalbody, guard


def _blocks(node: ast.stmt, guard: Guard) -> Iterator[tuple[list[ast.stmt], Guard]]:
    """The statement lists nested directly in `node`, each with its guard."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        yield node.body, replace(guard, in_function=True)
    elif isinstance(node, ast.ClassDef):
        yield node.body, guard
    elif isinstance(node, ast.If):
        yield from _if_blocks(node, guard)
    elif isinstance(node, _TRY_NODES):
        yield from _try_blocks(cast(ast.Try, node), guard)  # or TryStar: the same fields
    elif isinstance(node, ast.With | ast.AsyncWith):
        yield node.body, _with_guard(node, guard)
    elif isinstance(node, ast.For | ast.AsyncFor | ast.While):
        yield node.body, guard
        yield node.orelse, guard
    elif isinstance(node, ast.Match):
        for case in node.cases:
            yield case.body, guard


class _Positions:
    """Code-point positions of module names as written."""

    def __init__(self, source: SourceText) -> None:
        self.source = source

    def _char(self, line: int, byte_column: int) -> int:
        return self.source.byte_to_char_column(line, byte_column)

    def alias(self, alias: ast.alias) -> tuple[int, int, int, int, int | None]:
        line = alias.lineno - 1
        start = self._char(line, alias.col_offset)
        text = self.source.line_text(line)
        name, top = alias.name, alias.name.split(".")[0]
        top_end = start + len(top) if text[start : start + len(top)] == top else None
        if text[start : start + len(name)] == name:
            return line, start, line, start + len(name), top_end
        end_line = (alias.end_lineno or alias.lineno) - 1
        end = self._char(end_line, alias.end_col_offset or alias.col_offset)
        return line, start, end_line, end, top_end

    def from_module(self, node: ast.ImportFrom) -> tuple[int, int, int, int, int | None]:
        line = node.lineno - 1
        start = self._char(line, node.col_offset)
        text = self.source.line_text(line)
        match = _FROM_MODULE.match(text, start)
        module = node.module or ""
        if match is not None and (match.group(2) or "") == module:
            begin = match.start(1)
            end = match.end(2) if match.group(2) else match.end(1)
            top_end = match.start(2) + len(module.split(".")[0]) if module else None
            return line, begin, line, end, top_end if node.level == 0 else None
        return line, start, line, start + len("from"), None

    def literal(self, node: ast.Constant) -> tuple[int, int, int, int, int | None]:
        line = node.lineno - 1
        start = self._char(line, node.col_offset)
        end_line = (node.end_lineno or node.lineno) - 1
        end = self._char(end_line, node.end_col_offset or node.col_offset)
        value = str(node.value)
        text = self.source.line_text(line)[start:end]
        if end_line == line and len(text) == len(value) + 2 and text[1:-1] == value:
            top = value.split(".")[0]
            return line, start + 1, line, end - 1, start + 1 + len(top)
        return line, start, end_line, end, None


def _dynamic_import(call: ast.Call, guard: Guard, positions: _Positions) -> ImportedModule | None:
    """The module a dynamic-import call names, when it is a literal string."""
    name = _call_name(call)
    if name not in _DYNAMIC_CALLS or not call.args:
        return None
    argument = call.args[0]
    if not isinstance(argument, ast.Constant):
        return None
    value = argument.value
    if not isinstance(value, str) or not value.strip(". "):
        return None
    level = len(value) - len(value.lstrip("."))
    line, column, end_line, end, top_end = positions.literal(argument)
    call_guard = replace(guard, optional=True) if name == "importorskip" else guard
    return ImportedModule(
        value.lstrip("."), level, line, column, end_line, end, top_end,
        "call", False, call_guard,
    )  # fmt: skip


def _dynamic_imports(
    node: ast.stmt, guard: Guard, positions: _Positions
) -> Iterator[ImportedModule]:
    """Literal-name dynamic imports in a statement's own expressions."""
    for child in ast.iter_child_nodes(node):
        # Nested statements are visited as blocks of their own.
        if isinstance(child, ast.stmt | ast.ExceptHandler | ast.match_case):
            continue
        for sub in ast.walk(child):
            found = _dynamic_import(sub, guard, positions) if isinstance(sub, ast.Call) else None
            if found is not None:
                yield found


def _statement_imports(
    node: ast.stmt, guard: Guard, positions: _Positions
) -> Iterator[ImportedModule]:
    if isinstance(node, ast.Import):
        for alias in node.names:
            line, column, end_line, end, top_end = positions.alias(alias)
            yield ImportedModule(
                alias.name, 0, line, column, end_line, end, top_end,
                "import", alias.asname is None, guard,
            )  # fmt: skip
    elif isinstance(node, ast.ImportFrom):
        line, column, end_line, end, top_end = positions.from_module(node)
        names = tuple(alias.name for alias in node.names if alias.name != "*")
        yield ImportedModule(
            node.module or "", node.level, line, column, end_line, end, top_end,
            "from", False, guard, names,
        )  # fmt: skip


def statement_kind(node: ast.stmt) -> str:
    """What matters about a top-level statement for where `from __future__` may go:
    "docstring", "future" or "other"."""
    if isinstance(node, ast.ImportFrom) and node.module == "__future__":
        return "future"
    if (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    ):
        return "docstring"
    return "other"


def compiles(kinds: Sequence[str]) -> bool:
    """False when a `from __future__` import follows other statements (a compile error);
    `kinds` are the module's top-level statements' `statement_kind`s, in order."""
    start = 1 if kinds and kinds[0] == "docstring" else 0
    seen_other = False
    for kind in kinds[start:]:
        is_future = kind == "future"
        if is_future and seen_other:
            return False
        seen_other = seen_other or not is_future
    return True


def combine_scans(parts: Sequence[tuple[int, ImportScan]], kinds: Sequence[str]) -> ImportScan:
    """The scan of a module from the scans of its consecutive top-level statements, each
    with the 0-based line its text starts at, and the kinds of all its top-level
    statements. Equal to scanning the module itself: an import's guards come from the
    statements around it, which are in the same top-level statement."""
    imports = tuple(
        replace(imported, line=imported.line + offset, end_line=imported.end_line + offset)
        for offset, scan in parts
        for imported in scan.imports
    )
    return ImportScan(
        imports=imports,
        extends_import_path=any(scan.extends_import_path for _, scan in parts),
        compiles=compiles(kinds),
    )


class _ImportLines:
    """Line numbers (1-based) of lines that mention `import`: a statement whose lines
    mention it nowhere holds no import (of any kind: `import_module`, `__import__` and
    `importorskip` contain the word too), so its body need not be visited."""

    def __init__(self, source: SourceText) -> None:
        self.numbers = [n for n, line in enumerate(source.lines, start=1) if "import" in line]

    def touch(self, node: ast.stmt) -> bool:
        first = node.lineno
        if isinstance(node, _DECORATED) and node.decorator_list:
            first = min(first, *(decorator.lineno for decorator in node.decorator_list))
        index = bisect.bisect_left(self.numbers, first)
        return index < len(self.numbers) and self.numbers[index] <= (node.end_lineno or first)


def scan_imports(source: SourceText) -> ImportScan:
    """Every import in the source's tree (which must exist)."""
    tree = source.tree
    if tree is None:
        raise ValueError("scanning imports needs a syntax tree")
    text = source.text
    positions = _Positions(source)
    lines = _ImportLines(source)
    dynamic = any(name in text for name in _DYNAMIC_CALLS)
    found: list[ImportedModule] = []
    pending: list[tuple[list[ast.stmt], Guard]] = [(tree.body, Guard())]
    while pending:
        statements, guard = pending.pop()
        for node in statements:
            if isinstance(node, ast.Import | ast.ImportFrom):
                found.extend(_statement_imports(node, guard, positions))
                continue
            if not lines.touch(node):
                continue
            if dynamic:
                found.extend(_dynamic_imports(node, guard, positions))
            pending.extend(_blocks(node, guard))
    found.sort(key=lambda item: (item.line, item.column))
    return ImportScan(
        imports=tuple(found),
        extends_import_path=any(marker in text for marker in EXTENDS_IMPORT_PATH),
        compiles=compiles([statement_kind(node) for node in tree.body]),
    )
