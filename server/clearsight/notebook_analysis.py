"""The engine on a Jupyter notebook: its code cells joined (`clearsight.notebook`), analysed
once as one text, the findings kept in that text's lines (`CellMap` places them in cells).

A cell that does not parse is reported (CS-E001, at its line) and left out, so the other
cells are still checked: the kernel compiles each cell on its own, so one cell's syntax
error does not stop the others from running either.

Provenance is judged on the joined code (git's lines of the JSON are mapped to the code's,
`clearsight.provenance.history`), a run of AI-written statements reported per cell.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace

from clearsight.engine import SYNTAX_ERROR, analyze, source_problems, unreadable_finding
from clearsight.incremental import IncrementalAnalyzer
from clearsight.model import Finding, Span, TextEdit
from clearsight.notebook import (
    Cell,
    CellMap,
    NotebookProblem,
    join_cells,
    read_notebook,
    unmasked,
    with_sources,
)
from clearsight.settings import Settings
from clearsight.source import SourceText

ApplyEdits = Callable[[str, list[TextEdit]], tuple[str, int]]


def analyze_notebook(
    raw: bytes, path: str, settings: Settings
) -> tuple[list[Finding], str, CellMap | None]:
    """The notebook's findings, its joined code (positions are in it) and its cells."""
    notebook = read_notebook(raw)
    if isinstance(notebook, NotebookProblem):
        return [unreadable_finding(f"Could not read the notebook: {notebook.message}.")], "", None
    problems = [
        unreadable_finding(f"Could not read part of the notebook: {problem.message}.")
        for problem in notebook.problems
    ]
    if not notebook.python or not notebook.cells.cells:
        return problems, notebook.text, notebook.cells
    joined = _joined_findings(notebook.text, notebook.cells, path, settings)
    findings = [*problems, *joined]
    findings.sort(key=lambda f: (f.span.start, f.code))
    return findings, notebook.text, notebook.cells


def analyze_cells(
    sources: Sequence[str],
    path: str,
    settings: Settings,
    analyzer: IncrementalAnalyzer | None = None,
) -> list[list[Finding]]:
    """The findings of each code cell (sources in order) in the cell's own lines, as an
    editor shows them in the cell; a finding's related locations and fixes in other cells
    are left out. `analyzer`: the notebook's, so that an edit re-checks what it touched."""
    text, cells = join_cells(list(enumerate(sources)))
    per_cell: list[list[Finding]] = [[] for _ in sources]
    if not cells.cells:
        return per_cell
    for finding in _joined_findings(text, cells, path, settings, analyzer):
        cell = cells.cell_at(finding.span.start.line) or cells.cells[-1]
        per_cell[cell.index].append(_within(finding, cell))
    return per_cell


def _within(finding: Finding, cell: Cell) -> Finding:
    """A finding of the joined text in its cell's lines."""
    first, end = cell.first_line, cell.first_line + max(cell.lines, 1)
    inside = replace(
        finding,
        related=tuple(r for r in finding.related
                      if r.path is not None or first <= r.span.start.line < end),
        fixes=tuple(fix for fix in finding.fixes
                    if fix.path is not None or all(_in_cell(e, cell) for e in fix.edits)),
    )  # fmt: skip
    moved = inside.shifted(-first)
    if "first_line" in moved.metrics:  # a block's lines (CS-P001): its quick fixes use them
        metrics = dict(moved.metrics)
        for key in ("first_line", "last_line"):
            metrics[key] = max(metrics[key] - first, 0)
        moved = replace(moved, metrics=metrics)
    last = max(cell.lines - 1, 0)
    if moved.span.start.line > last:  # a finding past the end: the cell's last line
        moved = replace(moved, span=Span.point(last))
    if moved.span.end.line > last + 1:
        moved = replace(moved, span=Span(moved.span.start, moved.span.start))
    return moved


def _joined_findings(
    text: str,
    cells: CellMap,
    path: str,
    settings: Settings,
    analyzer: IncrementalAnalyzer | None = None,
) -> list[Finding]:
    """The engine on the joined code cells (those that do not parse left out, each with its
    syntax error). Positions are in the joined text."""
    text, syntax = _without_unparsable_cells(text, cells, path)
    if analyzer is not None:
        found = analyzer.analyze(text, settings, cells.starts)[1]
    else:
        found = analyze(SourceText(text, path=path, part_starts=cells.starts), path, settings)
    return [*syntax, *(_cell_lines_named(f, cells) for f in found)]


_LINE_NAMED = re.compile(r"\bline (\d+)\b")


def _cell_lines_named(finding: Finding, cells: CellMap) -> Finding:
    """A finding whose message (or a related location's) names a line of the joined text
    ("the console input (line 9)") names its cell and line there instead."""

    def named(text: str) -> str:
        def cell_line(match: re.Match[str]) -> str:
            cell, line = cells.locate(int(match.group(1)) - 1)
            return f"cell {cell}, line {line + 1}"

        return _LINE_NAMED.sub(cell_line, text)

    if "line " not in finding.message and not finding.related:
        return finding
    related = tuple(replace(r, message=named(r.message)) for r in finding.related)
    return replace(finding, message=named(finding.message), related=related)


def _without_unparsable_cells(text: str, cells: CellMap, path: str) -> tuple[str, list[Finding]]:
    """The joined text with every cell that does not parse blanked (its lines kept), and
    the syntax errors found."""
    lines = text.splitlines(keepends=True)
    errors: list[Finding] = []
    blanked: set[int] = set()
    while True:
        source = SourceText("".join(lines), path=path)
        problem = source.parse_problem
        if problem is None:
            return source.text, errors
        cell = cells.cell_at(problem.line)
        if cell is None or cell.number in blanked:
            return source.text, errors  # the engine reports what is left
        errors.extend(f for f in source_problems(source) if f.code == SYNTAX_ERROR)
        blanked.add(cell.number)
        for line in range(cell.first_line, cell.first_line + cell.lines):
            lines[line] = "\n"


def _in_cell(edit: TextEdit, cell: Cell) -> TextEdit | None:
    """The edit in the cell's own lines, or None when it reaches outside the cell."""
    first, end = cell.first_line, cell.first_line + cell.lines
    start, stop = edit.span.start, edit.span.end
    if not (first <= start.line and (stop.line < end or (stop.line == end and stop.column == 0))):
        return None
    return replace(
        edit,
        span=Span.of(start.line - first, start.column, stop.line - first, stop.column),
    )


def fix_notebook(raw: bytes, edits: list[TextEdit], apply: ApplyEdits) -> tuple[bytes, int]:
    """The notebook with the edits applied cell by cell (each cell's edits by `apply`,
    which keeps a cell that parses parsing), and how many were applied. Edits that reach
    across cells, or that would move a cell's IPython lines, are left out. Outputs,
    metadata and the other cells are left as they are."""
    notebook = read_notebook(raw)
    if isinstance(notebook, NotebookProblem) or not edits:
        return raw, 0
    lines = notebook.text.splitlines(keepends=True)
    sources: dict[int, str] = {}
    applied = 0
    for cell in notebook.cells.cells:
        own = [e for e in (_in_cell(edit, cell) for edit in edits) if e is not None]
        if not own:
            continue
        text = "".join(lines[cell.first_line : cell.first_line + cell.lines])
        fixed, count = apply(text, own)
        source = unmasked(notebook, cell, fixed) if count else None
        if source is not None:
            sources[cell.index] = source
            applied += count
    if not sources:
        return raw, 0
    return with_sources(raw, notebook, sources), applied
