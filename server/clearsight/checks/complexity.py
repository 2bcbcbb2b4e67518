"""Complexity: radon's cyclomatic complexity per block and maintainability index per module.

Both come from the engine's one syntax tree; the maintainability index uses the linear raw
metrics of `raw_metrics` instead of `radon.raw.analyze`, with radon's formula and inputs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from types import SimpleNamespace
from typing import Any

from radon.complexity import cc_rank
from radon.metrics import halstead_visitor_report, mi_compute, mi_rank
from radon.visitors import Class, ComplexityVisitor, Function, HalsteadVisitor

from clearsight.checks.base import Rule, docs_url
from clearsight.checks.raw_metrics import RawMetrics, raw_metrics
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


@dataclass(frozen=True)
class ComplexityFacts:
    """What the complexity family needs from one text. Facts of consecutive top-level
    statements combine (`combine_facts`) into the facts of the module they make up."""

    blocks: tuple[Block, ...]
    operators_seen: frozenset[Any]
    operands_seen: frozenset[Any]
    operators: int
    operands: int
    total_complexity: int  # radon's module total, including its +1 for the module
    raw: RawMetrics

    @property
    def maintainability(self) -> Maintainability:
        h1, h2 = len(self.operators_seen), len(self.operands_seen)
        report = halstead_visitor_report(
            SimpleNamespace(
                distinct_operators=h1,
                distinct_operands=h2,
                operators=self.operators,
                operands=self.operands,
            )
        )
        raw = self.raw
        comment_lines = raw.comments + raw.multi
        percent = comment_lines / float(raw.sloc) * 100 if raw.sloc != 0 else 0
        # radon passes LLOC where its formula says SLOC; keep that so the numbers agree.
        score = mi_compute(report.volume, self.total_complexity, raw.lloc, percent)
        return Maintainability(score, report.volume, self.total_complexity, raw.lloc, percent)


def complexity_facts(
    source: SourceText,
    visitor: ComplexityVisitor | None = None,
    raw: RawMetrics | None = None,
) -> ComplexityFacts:
    """The facts of `source`. A caller that already has radon's visitor of this tree, or
    the raw line counts of the lines the text stands for, passes them in."""
    tree = source.tree
    if tree is None:
        raise ValueError("complexity needs a syntax tree")
    visitor = visitor or ComplexityVisitor.from_ast(tree)
    halstead = HalsteadVisitor.from_ast(tree)
    return ComplexityFacts(
        blocks=tuple(_blocks(visitor)),
        operators_seen=frozenset(halstead.operators_seen),
        operands_seen=frozenset(halstead.operands_seen),
        operators=halstead.operators,
        operands=halstead.operands,
        total_complexity=visitor.total_complexity,
        raw=raw if raw is not None else raw_metrics(source),
    )


def combine_facts(parts: list[tuple[int, ComplexityFacts]]) -> ComplexityFacts:
    """The facts of a module from those of its consecutive parts, each with the 0-based
    line its text starts at."""
    return replace(_combined_counts([facts for _, facts in parts]), blocks=_moved_blocks(parts))


def module_maintainability(parts: list[ComplexityFacts]) -> Maintainability:
    """The maintainability index of a module from the facts of its consecutive parts
    (`combine_facts` without moving every block: the editor asks for it on each edit)."""
    return _combined_counts(parts).maintainability


def _combined_counts(parts: list[ComplexityFacts]) -> ComplexityFacts:
    return ComplexityFacts(
        blocks=(),
        operators_seen=frozenset().union(*(f.operators_seen for f in parts)),
        operands_seen=frozenset().union(*(f.operands_seen for f in parts)),
        operators=sum(f.operators for f in parts),
        operands=sum(f.operands for f in parts),
        # Each part's total counts the module's +1 once; the module counts it once.
        total_complexity=sum(f.total_complexity - 1 for f in parts) + 1,
        raw=summed_raw([f.raw for f in parts]),
    )


def _moved_blocks(parts: list[tuple[int, ComplexityFacts]]) -> tuple[Block, ...]:
    # Built directly, not with `dataclasses.replace`: a long class's parts have hundreds
    # of blocks, moved on every edit in it.
    return tuple(
        block
        if not offset
        else Block(
            block.kind,
            block.name,
            block.line + offset,
            block.byte_column,
            block.end_line + offset,
            block.complexity,
        )
        for offset, facts in parts
        for block in facts.blocks
    )


def summed_raw(raws: list[RawMetrics]) -> RawMetrics:
    fields = RawMetrics.__dataclass_fields__
    return RawMetrics(*(sum(getattr(r, name) for r in raws) for name in fields))


def analyse_complexity(source: SourceText) -> tuple[list[Block], Maintainability]:
    """Every block's cyclomatic complexity and the module's maintainability index.

    Numbers equal `radon cc` (default options) and `radon mi` (multi-line strings counted
    as comments, radon's default). Requires a parsed tree.
    """
    facts = complexity_facts(source)
    return list(facts.blocks), facts.maintainability


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
        yield from block_findings(source, blocks, settings)
        yield from module_findings(source, mi, settings)


def block_findings(
    source: SourceText, blocks: Iterable[Block], settings: Settings, line_offset: int = 0
) -> Iterator[Finding]:
    """CS-C001 for each block over the limit. `source` holds the blocks' text, whose first
    line is line `line_offset` of the module (blocks' lines are module lines)."""
    general = settings.complexity.max_complexity
    # Blocks over the stricter limit for AI-written code are candidates: the provenance
    # policy keeps those that are AI-written and drops the rest (no second radon pass).
    ai_limit = settings.provenance.ai_max_complexity if settings.provenance.enabled else general
    for block in blocks:
        if block.complexity <= min(general, ai_limit):
            continue
        ai_only = block.complexity <= general
        limit = ai_limit if ai_only else general
        label = {"function": "Function", "method": "Method", "class": "Class"}[block.kind]
        yield Finding(
            code=HIGH_COMPLEXITY,
            family=Family.COMPLEXITY,
            severity=Severity.WARNING,
            message=(
                f"{label} `{block.name}` has cyclomatic complexity {block.complexity} "
                f"(rank {block.rank}; limit {limit}). Each branch is another path to test "
                "and review: split it into smaller functions or return early instead of "
                "nesting."
            ),
            span=_name_span(source, block, line_offset),
            docs_url=docs_url(HIGH_COMPLEXITY),
            metrics={
                "complexity": block.complexity,
                "rank": block.rank,
                "kind": block.kind,
                **({"ai_only": True} if ai_only else {}),
            },
        )


def module_findings(
    source: SourceText, mi: Maintainability, settings: Settings
) -> Iterator[Finding]:
    """CS-C002 when the module's maintainability index ranks below the configured rank."""
    worst_allowed = settings.complexity.min_maintainability_rank
    if mi.rank <= worst_allowed:
        return
    yield Finding(
        code=LOW_MAINTAINABILITY,
        family=Family.COMPLEXITY,
        severity=Severity.INFO,
        message=(
            f"Module maintainability index is {mi.score:.1f} (rank {mi.rank}; rank "
            f"{worst_allowed} or better expected). It is hard to change safely: split "
            "the module and simplify its most complex functions."
        ),
        span=Span.of(0, 0, 0, len(source.line_text(0))),
        docs_url=docs_url(LOW_MAINTAINABILITY),
        metrics={"maintainability_index": round(mi.score, 2), "rank": mi.rank},
    )


def _name_span(source: SourceText, block: Block, line_offset: int = 0) -> Span:
    """The definition's name, not its whole body (where an editor should underline)."""
    local = block.line - 1 - line_offset
    line = block.line - 1
    text = source.line_text(local)
    start = source.byte_to_char_column(local, block.byte_column)
    match = _DEFINITION_NAME.match(text, start)
    if match:
        return Span.of(line, match.start(1), line, match.end(1))
    return Span.of(line, start, line, len(text))
