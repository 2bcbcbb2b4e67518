"""`clearsight review [PATHS]`: what a change introduced against its base, ranked by risk.

Exit codes as `check`'s: 0 nothing new at or above `--fail-on`, 1 new findings, 2 an error
(not a repository, an unknown base, a bad argument). `--fail-on` counts only the findings
the change introduced, so a legacy codebase can adopt it and block only what a pull request
adds.
"""

from __future__ import annotations

import argparse
import os
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
from clearsight.cli.runner import is_terminal, progress_bar
from clearsight.gitrun import GitError
from clearsight.model import Severity
from clearsight.review.build import analysis_count, build_review
from clearsight.review.changes import ReviewError, collect_change, resolve_base
from clearsight.review.render import RENDERERS, format_markdown, format_text
from clearsight.settings import SettingsResolver

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
FORMATS = ("text", "markdown", "json", "sarif", "github")


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "review",
        help="what a change introduced against its base (committed, staged, unstaged and "
        "untracked), ranked by risk",
    )
    parser.add_argument("paths", nargs="*", help="only changes under these paths")
    parser.add_argument(
        "--base", metavar="REV",
        help="compare with this revision (default: the merge-base of HEAD with its upstream "
        "branch, else origin/HEAD, main or master; else HEAD)",
    )  # fmt: skip
    parser.add_argument("--format", choices=FORMATS, default="text")
    parser.add_argument("--output", "-o", type=Path, help="write the report to this file")
    parser.add_argument(
        "--fail-on", choices=["hint", "info", "warning", "error", "never"], default="never",
        help="exit 1 when the change introduced a finding at least this severe "
        "(default: never)",
    )  # fmt: skip
    parser.add_argument(
        "--link-base", metavar="URL",
        help="Markdown line links: URL/path#Lline (e.g. https://github.com/o/r/blob/<sha>)",
    )  # fmt: skip
    add_run_options(parser)


def run(args: argparse.Namespace) -> int:
    if args.jobs < 1:
        return error("--jobs must be at least 1")
    try:
        root, paths = repository_and_paths(args.paths)
        base = resolve_base(root, args.base)
        change = collect_change(root, base, paths)
    except (ReviewError, GitError) as problem:
        return error(str(problem))
    resolver = SettingsResolver()
    settings_for = settings_saying_problems(resolver)

    change.files = [f for f in change.files if not excluded(root / f.path, resolver)]
    print(
        f"clearsight: reviewing against {base.name} ({base.commit[:12]}): {base.how}",
        file=sys.stderr,
    )
    cache = cache_for(args, root)
    with progress_bar(analysis_count(change), "Reviewing") as advance:
        review = build_review(change, settings_for, args.jobs, cache, advance)
    if cache:
        cache.say_problem()
    if args.format == "text":
        color = args.output is None and is_terminal(sys.stdout) and "NO_COLOR" not in os.environ
        text = format_text(review, color=color)
    elif args.format == "markdown":
        text = format_markdown(review, args.link_base)
    else:
        text = RENDERERS[args.format](review)
    if not write_output(args.output, text):
        return EXIT_ERROR
    unreadable = [f.change.path for f in review.files if f.unreadable]
    for path in unreadable:
        print(f"clearsight: error: {path}: could not be read; it is not reviewed", file=sys.stderr)
    if unreadable:
        return EXIT_ERROR
    if args.fail_on == "never":
        return EXIT_CLEAN
    threshold = Severity.parse(args.fail_on)
    failing = any(finding.severity <= threshold for _, finding, _ in review.introduced)
    return EXIT_FINDINGS if failing else EXIT_CLEAN
