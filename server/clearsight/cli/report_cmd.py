"""`clearsight report [PATHS]`: where risk is accumulating, over the project's history.

Reads the last revisions from git objects (never a checkout), analyses each distinct file
content once through the finding cache, and writes the report as one self-contained HTML
page with charts (`--format html`, the default) or as JSON (`--format json`).
Exit codes: 0 written, 2 an error (not a repository, no commit, a bad argument).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from clearsight.cli.discovery import excluded
from clearsight.cli.history_options import (
    add_run_options,
    cache_for,
    error,
    repository_and_paths,
    settings_saying_problems,
    write_output,
)
from clearsight.cli.runner import progress_bar
from clearsight.gitrun import GitError
from clearsight.report.build import build_report, plan_report
from clearsight.report.data import report_data
from clearsight.report.history import DEFAULT_HISTORY, HistoryError, revisions
from clearsight.report.html import ReportError, page, plotly_script
from clearsight.review.changes import ReviewError
from clearsight.settings import SettingsResolver

EXIT_CLEAN, EXIT_ERROR = 0, 2
DEFAULT_PAGE = Path("clearsight-report.html")


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "report", help="where risk is accumulating: hotspots and trends over the history"
    )
    parser.add_argument("paths", nargs="*", help="only files under these paths")
    window = parser.add_mutually_exclusive_group()
    window.add_argument(
        "--history", type=int, metavar="N",
        help=f"the last N commits of the first-parent line (default: {DEFAULT_HISTORY})",
    )  # fmt: skip
    window.add_argument(
        "--since", metavar="DATE", help='the commits since DATE ("2026-01-01", "90 days ago")'
    )
    parser.add_argument(
        "--format", choices=("html", "json"), default="html",
        help="html: one self-contained page with charts (needs clearsight[report]); json: "
        "the same data (default: html)",
    )  # fmt: skip
    parser.add_argument(
        "--output", "-o", type=Path,
        help=f"write the report to this file (default: {DEFAULT_PAGE} for html, stdout "
        "for json)",
    )  # fmt: skip
    add_run_options(parser)


def run(args: argparse.Namespace) -> int:
    if args.jobs < 1:
        return error("--jobs must be at least 1")
    if args.history is not None and args.history < 1:
        return error("--history must be at least 1")
    script = None
    if args.format == "html":
        try:
            script = plotly_script()  # before the work: a missing extra is said at once
        except ReportError as problem:
            return error(str(problem))
    try:
        root, paths = repository_and_paths(args.paths)
        limit = None if args.since else (args.history or DEFAULT_HISTORY)
        chosen = revisions(root, limit, args.since)
    except (ReviewError, HistoryError, GitError) as problem:
        return error(str(problem))
    if not chosen:
        return error(f"no commit {'since ' + args.since if args.since else 'to report on'}")
    resolver = SettingsResolver()
    settings_for = settings_saying_problems(resolver)
    cache = cache_for(args, root)
    print(
        f"clearsight: report over {len(chosen)} commit(s), {chosen[0].short} to {chosen[-1].short}",
        file=sys.stderr,
    )
    try:
        plan = plan_report(root, chosen, tuple(paths), lambda p: excluded(root / p, resolver))
        with progress_bar(len(plan.wanted), "Analysing history") as advance:
            report = build_report(plan, settings_for, args.jobs, cache, advance)
    except GitError as problem:
        return error(str(problem))
    if cache:
        cache.say_problem()
    for note in report.notes:
        print(f"clearsight: note: {note}", file=sys.stderr)
    data = report_data(report)
    output = args.output
    if script is not None:
        text = page(data, script)
        output = output or DEFAULT_PAGE
    else:
        text = json.dumps(data, indent=2) + "\n"
    if not write_output(output, text):
        return EXIT_ERROR
    if output is not None:
        print(f"clearsight: wrote {output}", file=sys.stderr)
    return EXIT_CLEAN
