"""`clearsight provenance [PATHS]`: who wrote what, and what still needs a human."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from clearsight import __version__
from clearsight.cli.discovery import discover
from clearsight.notebook import (
    CellMap,
    NotebookProblem,
    code_line_origins,
    is_notebook,
    read_notebook,
)
from clearsight.provenance import git, report
from clearsight.provenance.model import Attribution
from clearsight.provenance.service import SERVICE
from clearsight.provenance.trace import dumps, export_record
from clearsight.settings import SettingsResolver
from clearsight.source import SourceText, read_file


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "provenance", help="per-file AI share, unreviewed AI blocks and their sources"
    )
    parser.add_argument("paths", nargs="*", default=["."], help="files or folders (default: .)")
    parser.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    parser.add_argument(
        "--export",
        choices=("agent-trace",),
        help="write the AI-written ranges as Agent Trace records (JSON lines) instead",
    )
    parser.add_argument("--output", "-o", type=Path, help="write to this file instead of stdout")


def _summaries(paths: list[str]) -> tuple[list[report.FileSummary], list[SourceText], int]:
    resolver = SettingsResolver()
    found = discover(paths, resolver)
    for path, reason in found.errors:
        print(f"clearsight: error: {path}: {reason}", file=sys.stderr)
    summaries, sources = [], []
    status = 2 if found.errors else 0
    for path in found.files:
        raw = read_file(path)
        read = _source(raw, str(path)) if isinstance(raw, bytes) else raw
        if isinstance(read, str):
            print(f"clearsight: error: {path}: {read}", file=sys.stderr)
            status = 2
            continue
        source, cells = read
        provenance = SERVICE.file_provenance(source, resolver.for_path(path), full=True)
        summaries.append(report.summarize(str(path), provenance, cells))
        sources.append(source)
    return summaries, sources, status


def _source(raw: bytes, path: str) -> tuple[SourceText, CellMap | None] | str:
    """The text whose provenance is read: a notebook's joined code cells (and where each
    cell is in it), else the file; or why a notebook cannot be read."""
    if not is_notebook(path):
        return SourceText.from_bytes(raw, path), None
    notebook = read_notebook(raw)
    if isinstance(notebook, NotebookProblem):
        return f"could not read the notebook: {notebook.message}"
    source = SourceText(notebook.text, path=path, part_starts=notebook.cells.starts)
    return source, notebook.cells


def _export(summaries: list[report.FileSummary]) -> str:
    lines = []
    for summary in summaries:
        path = Path(summary.path).absolute()
        root = git.repository_root(path)
        revision = git.revision(root, "HEAD") if root else None
        relative = path.relative_to(root).as_posix() if root else summary.path
        ranges = [(b.first + 1, b.last + 1, b.attribution) for b in summary.all_blocks]
        if summary.cells is not None:  # a notebook's records count the lines of its JSON
            ranges = _file_ranges(path, ranges)
        if ranges:
            lines.append(dumps(export_record(relative, ranges, revision, __version__)))
    return "".join(line + "\n" for line in lines)


def _file_ranges(
    path: Path, ranges: list[tuple[int, int, Attribution]]
) -> list[tuple[int, int, Attribution]]:
    """A notebook's ranges (1-based lines of its joined code) in the lines of the file,
    as git and Agent Trace count them; none when the code cannot be placed there."""
    try:
        origins = code_line_origins(path.read_bytes())
    except OSError:
        origins = None
    if not origins:
        return []
    return [(origins[first - 1] + 1, origins[last - 1] + 1, a) for first, last, a in ranges]


def run(args: argparse.Namespace) -> int:
    summaries, _sources, status = _summaries(args.paths)
    if args.export == "agent-trace":
        out = _export(summaries)
    elif args.format == "json":
        data = {"files": [s.to_dict() for s in summaries], "totals": report.totals(summaries)}
        out = json.dumps(data, indent=2) + "\n"
    elif args.format == "markdown":
        out = report.markdown(summaries)
    else:
        out = report.text(summaries)
    problems = {p for s in summaries for p in s.problems}
    for problem in sorted(problems):
        print(f"clearsight: warning: {problem}", file=sys.stderr)
    if args.output:
        args.output.write_text(out, encoding="utf-8")
    else:
        sys.stdout.write(out)
    return status
