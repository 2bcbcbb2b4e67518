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
    def moved_key(self) -> tuple[str, str, str]:
        """What identifies it across files (code moved from one module to another)."""
        return (self.finding.code, self.line_text, self.scope.rpartition(".")[2])


def normalised(line: str) -> str:
    return " ".join(line.split())


def scopes_by_line(text: str) -> list[str]:
    """The innermost definition (`Class.method`) each 0-based line is in; "" outside any
    and for every line of a file that does not parse."""
    lines = text.count("\n") + 1
    found = [""] * lines
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escapes in old code are not ours to say
            tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return found
    stack: list[tuple[ast.AST, str]] = [(tree, "")]
    while stack:
        node, prefix = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}.{child.name}" if prefix else child.name
                first = min([child.lineno, *(d.lineno for d in child.decorator_list)]) - 1
                last = (child.end_lineno or child.lineno) - 1
                for line in range(max(first, 0), min(last + 1, lines)):
                    found[line] = name  # children come later and overwrite: innermost wins
                stack.append((child, name))
            else:
                stack.append((child, prefix))
    return found


def place(findings: Sequence[Finding], text: str) -> list[Placed]:
    """Each finding with its fingerprint, in the order given."""
    lines = text.split("\n")
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
