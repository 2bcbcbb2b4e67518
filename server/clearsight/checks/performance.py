"""Performance impacts: calls that block an event loop inside `async def` (CS-T001), database
queries once per item of a loop (CS-T010, CS-T011), and work in loops that grows with the
square of the data or is repeated on every pass (CS-T020-T024).

The analysis is in `clearsight.performance`; this family turns its detections into findings,
with the quick fix for `time.sleep` in async code. Test files get information, not warnings:
their cost is paid in CI, not by users.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator

from clearsight.checks.base import Rule, docs_url
from clearsight.checks.dataflow import is_test_file
from clearsight.model import Family, Finding, Fix, Position, Severity, Span, TextEdit
from clearsight.performance.analysis import (
    detect,
    function_facts,
    import_line,
    module_bindings,
    statement_facts,
)
from clearsight.performance.catalogue import bundled
from clearsight.performance.document import PerformanceDocument
from clearsight.performance.models import ProjectModels
from clearsight.performance.names import Scope
from clearsight.performance.rules import RULES, Detection, SleepFix, Where
from clearsight.performance.walk import module_parts
from clearsight.settings import Settings
from clearsight.source import SourceText


class PerformanceCheck:
    family = Family.PERFORMANCE
    needs_tree = True

    def enabled(self, settings: Settings) -> bool:
        return settings.performance.enabled

    def rules(self) -> Iterable[Rule]:
        for rule in RULES:
            yield Rule(
                code=rule.code,
                name=rule.name,
                family=Family.PERFORMANCE,
                summary=rule.summary,
                help=rule.help,
                docs_url=docs_url(rule.code),
                default_severity=Severity.WARNING,
            )

    def run(self, source: SourceText, settings: Settings) -> Iterator[Finding]:
        tree = source.tree
        if tree is None:
            raise ValueError("the performance family needs a syntax tree")
        catalogue = bundled()
        facts = [
            statement_facts(s, index == 0, [function_facts(f) for f in module_parts(s)[1]])
            for index, s in enumerate(tree.body)
        ]
        module = module_bindings(facts)
        models = ProjectModels(source.path, catalogue)
        scope = Scope.of_module(module, catalogue, models.package, models)
        found = [(0, d) for s in tree.body for d in detect(s, scope, module.libraries)]
        at = import_line((0, f) for f in facts)
        yield from findings_of(source, found, at)

    def new_document(self) -> PerformanceDocument:
        return PerformanceDocument()

    def run_document(
        self,
        source: SourceText,
        settings: Settings,
        document: PerformanceDocument,
        chunks: list[tuple[int, str, ast.Module | None]],
    ) -> Iterator[Finding]:
        """The same findings, for the editor, from the document's top-level statements,
        re-running only those an edit changed."""
        found, at = document.detections(chunks, bundled(), source.path)
        yield from findings_of(source, found, at)


def findings_of(
    source: SourceText, found: list[tuple[int, Detection]], import_at: int | None
) -> Iterator[Finding]:
    """Findings from detections placed `offset` lines down (`import_at`: the 1-based line an
    added import goes on)."""
    severity = Severity.INFO if is_test_file(source.path) else Severity.WARNING
    for offset, detection in found:
        fixes: tuple[Fix, ...] = ()
        if detection.sleep_fix is not None:
            fix = _sleep_fix(source, detection.sleep_fix, offset, import_at)
            fixes = (fix,) if fix is not None else ()
        yield Finding(
            code=detection.code,
            family=Family.PERFORMANCE,
            severity=severity,
            message=detection.message,
            span=_span(source, detection.where, offset),
            docs_url=docs_url(detection.code),
            fixes=fixes,
            metrics={"performance": True},
        )


def _span(source: SourceText, where: Where, offset: int) -> Span:
    line, column, end_line, end_column = where
    line, end_line = line - 1 + offset, end_line - 1 + offset
    return Span(
        Position(line, source.byte_to_char_column(line, column)),
        Position(end_line, source.byte_to_char_column(end_line, end_column)),
    )


def _sleep_fix(source: SourceText, fix: SleepFix, offset: int, import_at: int | None) -> Fix | None:
    # The call starts with its callee: one edit puts `await` before the new name.
    edits = [TextEdit(_span(source, fix.callee, offset), f"await {fix.sleep}")]
    if fix.import_module:
        if import_at is None:
            return None
        at = Position(import_at - 1, 0)
        edits.insert(0, TextEdit(Span(at, at), f"import {fix.import_module}\n"))
    return Fix(
        title=f"Replace with `await {fix.sleep}(...)`",
        edits=tuple(edits),
        safe=fix.safe,
    )
