"""Which finding of one revision is which finding of another.

Line numbers move whenever code above them changes, so a finding is known by what it is
and where it sits, not by its line: its code, the text of its line with whitespace
normalised, the definition around it (`Class.method`), and its index among findings with
the same three (two equal calls in one function stay two findings). SonarQube matches
issues between analyses the same way, by rule and line hash.
"""

from __future__ import annotations

import ast
import hashlib
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

from clearsight.model import Finding


@dataclass(frozen=True)
class Placed:
    """A finding with what identifies it across revisions."""

    finding: Finding
    scope: str  # the enclosing definition, "" at module level
    line_text: str  # normalised
    fingerprint: str

    @property
    def line_hash(self) -> str:
        """The normalised line's digest: with the code, what still matches when the
        definition around a finding is read differently (by indentation in the editor)."""
        return hashlib.sha256(self.line_text.encode("utf-8", "surrogatepass")).hexdigest()[:16]

    @property
    def moved_key(self) -> tuple[str, str, str]:
        """What identifies it across files (code moved from one module to another)."""
        return (self.finding.code, self.line_text, self.scope.rpartition(".")[2])


def normalised(line: str) -> str:
    return " ".join(line.split())


def scopes_by_line(text: str, tree: ast.Module | None = None) -> list[str]:
    """The innermost definition (`Class.method`) each 0-based line is in; "" outside any
    and for every line of a file that does not parse. `tree`: the text's, when parsed."""
    lines = text.count("\n") + 1
    found = [""] * lines
    if tree is None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # invalid escapes in old code are not ours to say
                tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return found
    # Definitions are statements: only statement bodies are walked, not expressions.
    stack: list[tuple[list[ast.stmt], str]] = [(tree.body, "")]
    while stack:
        body, prefix = stack.pop()
        for child in body:
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}.{child.name}" if prefix else child.name
                first = min([child.lineno, *(d.lineno for d in child.decorator_list)]) - 1
                last = (child.end_lineno or child.lineno) - 1
                for line in range(max(first, 0), min(last + 1, lines)):
                    found[line] = name  # children come later and overwrite: innermost wins
                stack.append((child.body, name))
            else:
                stack.extend((inner, prefix) for inner in _bodies(child))
    return found


_DEFINITION = re.compile(r"([ \t]*)(?:async[ \t]+)?(?:def|class)[ \t]+(\w+)")


def scopes_by_indent(text: str) -> list[str]:
    """`scopes_by_line` from indentation alone, without parsing: a `def`/`class` line (with
    the decorators above it) opens a scope that lasts while lines are indented deeper;
    blank lines go on, a comment or code line as shallow as the definition ends it. Cheap
    enough for every keystroke (the editor's new code mode); a line of a string that reads
    like a definition, or dedented string content, misleads it the same way in both
    revisions, so fingerprints still match."""
    found: list[str] = []
    open_scopes: list[tuple[int, str]] = []  # (indent, qualified name)
    decorated: tuple[int, int] | None = None  # (first line, indent) of pending decorators
    for number, line in enumerate(text.split("\n")):
        stripped = line.lstrip(" \t")
        indent = len(line) - len(stripped)
        code = bool(stripped) and not stripped.startswith("#")
        if stripped:
            while open_scopes and open_scopes[-1][0] >= indent:
                open_scopes.pop()
        match = _DEFINITION.match(line) if code else None
        if match:
            parent = open_scopes[-1][1] if open_scopes else ""
            name = f"{parent}.{match.group(2)}" if parent else match.group(2)
            open_scopes.append((indent, name))
            if decorated is not None:
                found[decorated[0] : number] = [name] * (number - decorated[0])
            decorated = None
        elif code and stripped.startswith("@"):
            decorated = decorated or (number, indent)
        elif (
            code
            and decorated is not None
            and indent <= decorated[1]
            and not stripped.startswith((")", "]", "}"))
        ):
            decorated = None  # not a decorator's continuation: no definition follows
        found.append(open_scopes[-1][1] if open_scopes else "")
    return found


def _bodies(statement: ast.stmt) -> list[list[ast.stmt]]:
    found = []
    for field in ("body", "orelse", "finalbody"):
        value = getattr(statement, field, None)
        if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
            found.append(value)
    for handler in getattr(statement, "handlers", ()):
        found.append(handler.body)
    for case in getattr(statement, "cases", ()):
        found.append(case.body)
    return found


def place(findings: Sequence[Finding], text: str, scopes: list[str] | None = None) -> list[Placed]:
    """Each finding with its fingerprint, in the order given. `scopes`: the text's
    `scopes_by_line`, when already worked out."""
    lines = text.split("\n")
    if scopes is None:
        scopes = scopes_by_line(text)
    seen: dict[tuple[str, str, str], int] = {}
    placed = []
    ordered = sorted(range(len(findings)), key=lambda i: _order(findings[i]))
    fingerprints: dict[int, Placed] = {}
    for index in ordered:
        finding = findings[index]
        line = finding.span.start.line
        line_text = normalised(lines[line]) if 0 <= line < len(lines) else ""
        scope = scopes[line] if 0 <= line < len(scopes) else ""
        key = (finding.code, line_text, scope)
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        digest = hashlib.sha256(
            "\0".join((*key, str(occurrence))).encode("utf-8", "surrogatepass")
        ).hexdigest()[:20]
        fingerprints[index] = Placed(finding, scope, line_text, digest)
    placed = [fingerprints[i] for i in range(len(findings))]
    return placed


def _order(finding: Finding) -> tuple[int, int, str, str]:
    start = finding.span.start
    return (start.line, start.column, finding.code, finding.message)
