"""Complexity: radon's cyclomatic complexity per block and maintainability index per module.

Both come from the engine's one syntax tree; the maintainability index uses the linear raw
metrics of `raw_metrics` instead of `radon.raw.analyze`, with radon's formula and inputs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from radon.complexity import cc_rank
from radon.metrics import halstead_visitor_report, mi_compute, mi_rank
from radon.visitors import Class, ComplexityVisitor, Function, HalsteadVisitor

from clearsight.checks.base import Rule, docs_url
from clearsight.checks.raw_metrics import raw_metrics
from clearsight.model import Family, Finding, Severity, Span
from clearsight.settings import Settings
from clearsight.source import SourceText

HIGH_COMPLEXITY = "CS-C001"
LOW_MAINTAINABILITY = "CS-C002"

_DEFINITION_NAME = re.compile(r"(?:async\s+)?(?:def|class)\s+(\w+)")


@dataclass(frozen=True)
class Block:
    """One function, method or class as `radon cc` reports it."""

    kind: str  # "function", "method" or "class"
    name: str  # as radon prints it: "Class.method" for methods
    line: int  # 1-based, the `def`/`class` line
    byte_column: int
    end_line: int
    complexity: int

    @property
    def rank(self) -> str:
        return cc_rank(self.complexity)


@dataclass(frozen=True)
class Maintainability:
    score: float
    halstead_volume: float
    total_complexity: int
    lloc: int
    comment_percent: float

    @property
    def rank(self) -> str:
        return mi_rank(self.score)


def _blocks(visitor: ComplexityVisitor) -> list[Block]:
    found = []
    for block in visitor.blocks:
        if isinstance(block, Class):
            kind = "class"
        elif isinstance(block, Function) and block.is_method:
            kind = "method"
        else:
            kind = "function"
        found.append(
            Block(
                kind=kind,
                name=block.fullname,
                line=block.lineno,
                byte_column=block.col_offset,
                end_line=block.endline,
                complexity=block.complexity,
            )
        )
    return found


def analyse_complexity(source: SourceText) -> tuple[list[Block], Maintainability]:
    """Every block's cyclomatic complexity and the module's maintainability index.

    Numbers equal `radon cc` (default options) and `radon mi` (multi-line strings counted
    as comments, radon's default). Requires a parsed tree.
    """
    tree = source.tree
    if tree is None:
        raise ValueError("complexity needs a syntax tree")
    visitor = ComplexityVisitor.from_ast(tree)
    halstead = halstead_visitor_report(HalsteadVisitor.from_ast(tree))
    raw = raw_metrics(source)
    comment_lines = raw.comments + raw.multi
    percent = comment_lines / float(raw.sloc) * 100 if raw.sloc != 0 else 0
    # radon passes LLOC where its formula says SLOC; keep that so the numbers agree.
    score = mi_compute(halstead.volume, visitor.total_complexity, raw.lloc, percent)
    mi = Maintainability(score, halstead.volume, visitor.total_complexity, raw.lloc, percent)
    return _blocks(visitor), mi


class ComplexityCheck:
    family = Family.COMPLEXITY
    needs_tree = True

    def enabled(self, settings: Settings) -> bool:
        return settings.complexity.enabled

    def rules(self) -> Iterable[Rule]:
        yield Rule(
            code=HIGH_COMPLEXITY,
            name="high-cyclomatic-complexity",
            family=self.family,
            summary="Function, method or class has too many independent paths",
            help=(
                "Cyclomatic complexity counts the independent paths through code (radon's "
                "measure; rank A 1-5, B 6-10, C 11-20, D 21-30, E 31-40, F 41+). Every path "
                "is a case to test and to review, and complex AI-written code is where "
                "defects hide. Split the function into smaller ones, return early instead "
                "of nesting, or replace long if/elif chains with a lookup table."
            ),
            docs_url=docs_url(HIGH_COMPLEXITY),
            default_severity=Severity.WARNING,
        )
        yield Rule(
            code=LOW_MAINTAINABILITY,
            name="low-maintainability-index",
            family=self.family,
            summary="Module has a low maintainability index",
            help=(
                "The maintainability index (radon's variant, 0-100) combines Halstead volume, "
                "cyclomatic complexity, logical lines and comment density; rank C (9 or "
                "less) means the module is hard to change safely. Split the module, simplify "
                "its most complex functions and document the non-obvious parts."
            ),
            docs_url=docs_url(LOW_MAINTAINABILITY),
            default_severity=Severity.INFO,
        )

    def run(self, source: SourceText, settings: Settings) -> Iterator[Finding]:
        blocks, mi = analyse_complexity(source)
        limit = settings.complexity.max_complexity
        for block in blocks:
            if block.complexity <= limit:
                continue
            label = {"function": "Function", "method": "Method", "class": "Class"}[block.kind]
            yield Finding(
                code=HIGH_COMPLEXITY,
                family=self.family,
                severity=Severity.WARNING,
                message=(
                    f"{label} `{block.name}` has cyclomatic complexity {block.complexity} "
                    f"(rank {block.rank}; limit {limit}). Each branch is another path to test "
                    "and review: split it into smaller functions or return early instead of "
                    "nesting."
                ),
                span=_name_span(source, block),
                docs_url=docs_url(HIGH_COMPLEXITY),
                metrics={"complexity": block.complexity, "rank": block.rank, "kind": block.kind},
            )
        worst_allowed = settings.complexity.min_maintainability_rank
        if mi.rank > worst_allowed:
            first = source.line_text(0)
            yield Finding(
                code=LOW_MAINTAINABILITY,
                family=self.family,
                severity=Severity.INFO,
                message=(
                    f"Module maintainability index is {mi.score:.1f} (rank {mi.rank}; rank "
                    f"{worst_allowed} or better expected). It is hard to change safely: split "
                    "the module and simplify its most complex functions."
                ),
                span=Span.of(0, 0, 0, len(first)),
                docs_url=docs_url(LOW_MAINTAINABILITY),
                metrics={"maintainability_index": round(mi.score, 2), "rank": mi.rank},
            )


def _name_span(source: SourceText, block: Block) -> Span:
    """The definition's name, not its whole body (where an editor should underline)."""
    line = block.line - 1
    text = source.line_text(line)
    start = source.byte_to_char_column(line, block.byte_column)
    match = _DEFINITION_NAME.match(text, start)
    if match:
        return Span.of(line, match.start(1), line, match.end(1))
    return Span.of(line, start, line, len(text))
