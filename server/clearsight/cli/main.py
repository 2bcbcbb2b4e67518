"""`clearsight` command line. `clearsight check` runs the engine over files, headless.

Exit codes: 0 no findings, 1 findings, 2 an error (a file or path that could not be read,
a bad argument).
"""

from __future__ import annotations

import argparse
import ast
import codecs
import contextlib
import difflib
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from clearsight import __version__
from clearsight.cli import (
    merge_cmd,
    output,
    provenance_cmd,
    report_cmd,
    review_cmd,
    rule_cmd,
    shard,
    show_settings,
)
from clearsight.cli.cache import FindingCache
from clearsight.cli.discovery import CommandLineExcludes, discover
from clearsight.cli.runner import (
    FileResult,
    analyze_bytes,
    cells_of,
    content_digest,
    default_jobs,
    is_terminal,
    place_results,
    progress_bar,
    run,
)
from clearsight.deps.environment import ENVIRONMENTS
from clearsight.fixes import apply_edits, safe_fix_edits
from clearsight.model import Family, Finding, Severity, TextEdit
from clearsight.notebook import changed_cells, is_notebook
from clearsight.notebook_analysis import fix_notebook
from clearsight.provenance.service import SERVICE
from clearsight.review.baseline import Baseline, BaselineError
from clearsight.settings import Settings, SettingsResolver
from clearsight.source import SourceText

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _globs(value: str) -> list[str]:
    return [glob.strip() for glob in value.split(",") if glob.strip()]


def _codes(value: str) -> list[str]:
    return [code.strip().upper() for code in value.split(",") if code.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clearsight",
        description="Complexity, security and provenance checks for (AI-written) Python.",
    )
    parser.add_argument("--version", action="version", version=f"clearsight {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="check files and report findings")
    check.add_argument("paths", nargs="*", default=["."], help="files or folders (default: .)")
    check.add_argument(
        "--format", choices=["text", "json", "sarif", "github"], default="text",
        help="report format (default: text)",
    )  # fmt: skip
    check.add_argument("--select", type=_codes, help="only these codes or prefixes (B,CS-C001)")
    check.add_argument("--ignore", type=_codes, help="skip these codes or prefixes")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even with findings")
    check.add_argument(
        "--fail-on", choices=["hint", "info", "warning", "error"], default="hint",
        help="exit 1 only for findings at least this severe; all are still reported "
        "(default: hint, any finding)",
    )  # fmt: skip
    check.add_argument(
        "--stdin-filename", metavar="PATH",
        help="read the source from stdin and report it under PATH (settings come from PATH)",
    )  # fmt: skip
    check.add_argument(
        "--jobs", "-j", type=int, default=default_jobs(),
        help="worker processes (default: all cores)",
    )  # fmt: skip
    check.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    check.add_argument(
        "--cache-dir", type=Path, default=None,
        help="where the cache lives (default: .clearsight_cache in the current folder)",
    )  # fmt: skip
    check.add_argument(
        "--fix", action="store_true",
        help="apply the safe fixes findings carry (with --stdin-filename: print the fixed source)",
    )  # fmt: skip
    check.add_argument(
        "--python", metavar="PATH",
        help="the project's interpreter (or environment folder) whose installed packages "
        "imports are looked up in; read, never run (default: [tool.clearsight.dependencies] "
        "python, else the project's .venv or venv, else the Python running Clearsight)",
    )  # fmt: skip
    check.add_argument("--quiet", "-q", action="store_true", help="no summary line")
    check.add_argument(
        "--output-file", "-o", type=Path, metavar="FILE",
        help="write the report to FILE instead of standard output",
    )  # fmt: skip
    check.add_argument(
        "--show-settings", type=Path, metavar="PATH",
        help="print the settings PATH is checked with and where each came from, then exit",
    )  # fmt: skip
    check.add_argument(
        "--diff", action="store_true",
        help="print the safe fixes as a unified diff instead of applying them (exit 1 when "
        "there is one)",
    )  # fmt: skip
    check.add_argument(
        "--exclude", type=_globs, metavar="GLOBS",
        help="comma list of gitignore-style globs (from the current folder) to leave out, "
        "instead of the usual tool folders and the project's exclude",
    )  # fmt: skip
    check.add_argument(
        "--extend-exclude", type=_globs, metavar="GLOBS", default=[],
        help="comma list of globs to leave out on top of the usual ones and the project's",
    )  # fmt: skip
    check.add_argument(
        "--statistics", action="store_true",
        help="instead of the findings, how many of each code, most first (text, or json "
        "with --format json)",
    )  # fmt: skip
    check.add_argument(
        "--baseline", type=Path, metavar="FILE",
        help="report only findings not in FILE, the JSON report of an earlier run "
        "(clearsight check --format json -o FILE); findings are matched by fingerprint, "
        "not line, so code added above them does not bring them back",
    )  # fmt: skip
    check.add_argument(
        "--shard", type=shard.parse_shard, metavar="I/N",
        help="check only the I-th of N shares of the files (1 <= I <= N), the same on every "
        "machine and balanced by size, for a CI matrix; `clearsight merge` joins the shards' "
        "JSON or SARIF reports into the report of a single run",
    )  # fmt: skip
    provenance_cmd.add_parser(commands)
    review_cmd.add_parser(commands)
    report_cmd.add_parser(commands)
    rule_cmd.add_parser(commands)
    merge_cmd.add_parser(commands)
    server = commands.add_parser("server", help="run the language server (stdio by default)")
    server.add_argument("--stdio", action="store_true", help="talk LSP on stdin/stdout (default)")
    server.add_argument("--tcp", metavar="HOST:PORT", help="listen on a TCP port (for debugging)")
    return parser


def _report_settings_problems(settings: Settings, reported: set[str]) -> None:
    for problem in settings.problems:
        if problem not in reported:
            reported.add(problem)
            print(f"clearsight: warning: {problem}", file=sys.stderr)


def _report_environment(
    path: Path, settings: Settings, reported: set[str], *, fallback: bool = False
) -> None:
    """A configured interpreter that cannot be used, once per project; with `fallback`, also
    that the project's imports were looked up in Clearsight's own environment (said only
    where dependency findings depend on it, so clean runs stay quiet)."""
    if not settings.dependencies.enabled:
        return
    found = ENVIRONMENTS.for_file(str(path.absolute()), settings)
    if found.notice is None or found.notice in reported or not (found.problem or fallback):
        return
    reported.add(found.notice)
    print(f"clearsight: {'warning' if found.problem else 'note'}: {found.notice}", file=sys.stderr)


def _report_fallbacks(
    results: list[FileResult], settings_for: Callable[[Path], Settings], reported: set[str]
) -> None:
    for result in results:
        if any(finding.family is Family.DEPENDENCIES for finding in result.findings):
            path = Path(result.path)
            _report_environment(path, settings_for(path), reported, fallback=True)


def _write_atomic(path: Path, data: bytes) -> None:
    """Replace a file's content without ever leaving it half written."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, path.stat().st_mode & 0o7777)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _parses(text: str) -> bool:
    try:
        ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _apply_keeping_syntax(text: str, edits: list[TextEdit], path: str) -> tuple[str, int]:
    """Apply the edits, but never turn code that parses into code that does not: an edit
    that would is left out (and reported; it is a bug in its fixer)."""
    fixed, applied = apply_edits(text, edits)
    if not applied or _parses(fixed) or not _parses(text):
        return fixed, applied
    kept: list[TextEdit] = []
    for edit in edits:
        candidate, count = apply_edits(text, [*kept, edit])
        if count == len(kept) + 1 and _parses(candidate):
            kept.append(edit)
    skipped = len(edits) - len(kept)
    print(
        f"clearsight: warning: {path}: {skipped} fix{'es' if skipped != 1 else ''} not applied: "
        "the result would not parse (please report this)",
        file=sys.stderr,
    )
    return apply_edits(text, kept)


def _fixed_bytes(raw: bytes, path: str, findings: list[Finding]) -> tuple[bytes, int]:
    """The file's bytes with the findings' safe fixes applied, and how many were applied.

    The result keeps the file's encoding (coding cookie), BOM and line endings; bytes that
    could not be decoded faithfully are never rewritten, nor is code that parses ever
    rewritten into code that does not.
    """
    edits = safe_fix_edits(findings)
    if not edits:
        return raw, 0
    if is_notebook(path):  # the cells' sources in the JSON; outputs and metadata untouched
        return fix_notebook(raw, edits, lambda text, own: _apply_keeping_syntax(text, own, path))
    source = SourceText.from_bytes(raw, path)
    if source.decode_problem is not None:
        return raw, 0
    fixed, applied = _apply_keeping_syntax(source.text, edits, path)
    if not applied:
        return raw, 0
    encoded = fixed.encode(source.encoding)
    if raw.startswith(b"\xef\xbb\xbf") and not encoded.startswith(b"\xef\xbb\xbf"):
        encoded = b"\xef\xbb\xbf" + encoded
    return encoded, applied


def _show_settings(args: argparse.Namespace, resolver: SettingsResolver) -> int:
    path = args.show_settings
    final = resolver.for_path(path).with_cli_overrides(args.select, args.ignore, args.python)
    _report_settings_problems(final, set())
    rows = show_settings.resolved(path, resolver, final)
    sys.stdout.write(show_settings.format_settings(path, rows, args.format == "json"))
    return EXIT_CLEAN


def _print_diffs(results: list[FileResult]) -> int:
    """The safe fixes of every file as one unified diff (git's a/ b/ names), nothing
    written: exit 1 when there is a fix, 0 when there is none."""
    changed = 0
    for result in results:
        if result.unreadable or not safe_fix_edits(result.findings):
            continue
        try:
            raw = Path(result.path).read_bytes()
        except OSError:
            continue
        fixed, applied = _fixed_bytes(raw, result.path, result.findings)
        if not applied:
            continue
        name = Path(result.path).as_posix()
        for label, before, after in _changed_texts(raw, fixed, result.path):
            shown = f"{name}:{label}" if label else name
            # A cell's last line has no line break: shown with one, as cells are.
            lines = [
                (text if text.endswith("\n") or not text else text + "\n").splitlines(True)
                for text in (before, after)
            ]
            sys.stdout.writelines(difflib.unified_diff(*lines, f"a/{shown}", f"b/{shown}"))
        changed += 1
    print(f"{changed} file{'s' if changed != 1 else ''} would be fixed.", file=sys.stderr)
    return EXIT_FINDINGS if changed else EXIT_CLEAN


def _changed_texts(raw: bytes, fixed: bytes, path: str) -> list[tuple[str, str, str]]:
    """(label, before, after) of what a fix changed: the file, or each changed cell of a
    notebook (labelled `cell N`, as findings name them)."""
    if not is_notebook(path):
        old, new = SourceText.from_bytes(raw, path), SourceText.from_bytes(fixed, path)
        return [("", old.text, new.text)]
    return [
        (f"cell {number}", before, after) for number, before, after in changed_cells(raw, fixed)
    ]


def _fix_files(
    results: list[FileResult], resolver: SettingsResolver, args: argparse.Namespace
) -> int:
    """Apply safe fixes to files on disk, then re-analyse them. Returns edits applied."""
    total = 0
    for index, result in enumerate(results):
        if result.unreadable or not safe_fix_edits(result.findings):
            continue
        path = Path(result.path)
        try:
            raw = path.read_bytes()
        except OSError as error:
            print(f"clearsight: warning: {path}: not fixed, it cannot be read now "
                  f"({error.strerror or error})", file=sys.stderr)  # fmt: skip
            continue
        if result.digest is not None and content_digest(raw) != result.digest:
            # The findings' edits are positions in the text that was checked, not in this.
            print(f"clearsight: warning: {path}: not fixed, it changed during the run; "
                  "run again to fix it", file=sys.stderr)  # fmt: skip
            continue
        encoded, applied = _fixed_bytes(raw, result.path, result.findings)
        if not applied:
            continue
        _write_atomic(path, encoded)
        total += applied
        settings = resolver.for_path(path).with_cli_overrides(args.select, args.ignore, args.python)
        findings, text = analyze_bytes(encoded, result.path, settings)
        cells = cells_of(encoded, result.path)
        results[index] = FileResult(
            result.path, findings, text, cells=cells, digest=content_digest(encoded)
        )
    return total


def _check_stdin(args: argparse.Namespace, resolver: SettingsResolver, reported: set[str]) -> int:
    raw = sys.stdin.buffer.read()
    path = args.stdin_filename
    settings = resolver.for_path(Path(path).absolute()).with_cli_overrides(
        args.select, args.ignore, args.python
    )
    _report_settings_problems(settings, reported)
    _report_environment(Path(path), settings, reported)
    findings, text = analyze_bytes(raw, path, settings)
    _report_fallbacks([FileResult(path, findings)], lambda _: settings, reported)
    baseline = args.loaded_baseline
    if args.fix:
        if baseline is not None:
            findings = _not_in_baseline([FileResult(path, findings, text)], baseline)[0].findings
        fixed, applied = _fixed_bytes(raw, path, findings)
        sys.stdout.flush()
        sys.stdout.buffer.write(fixed)
        sys.stdout.buffer.flush()
        if applied:
            findings, text = analyze_bytes(fixed, path, settings)
        if baseline is not None:
            findings = _not_in_baseline([FileResult(path, findings, text)], baseline)[0].findings
        _report_fixes(applied, args)
        return _exit_code(findings, args)
    results = [FileResult(path, findings, text, cells=cells_of(raw, path))]
    if baseline is not None:
        results = _not_in_baseline(results, baseline)
    _emit(results, args)
    return _exit_code(results[0].findings, args)


def _load_baseline(args: argparse.Namespace) -> bool:
    """Reads --baseline into args.loaded_baseline; False (said on stderr) when unusable."""
    args.loaded_baseline = None
    if args.baseline is None:
        return True
    try:
        args.loaded_baseline = Baseline.load(args.baseline, Path.cwd())
    except BaselineError as error:
        print(f"clearsight: error: {error}", file=sys.stderr)
        return False
    skipped = args.loaded_baseline.skipped
    if skipped:
        print(
            f"clearsight: warning: {skipped} entr{'ies' if skipped != 1 else 'y'} of the "
            f"baseline {args.baseline} without path, code or fingerprint left out",
            file=sys.stderr,
        )
    return True


def _not_in_baseline(results: list[FileResult], baseline: Baseline) -> list[FileResult]:
    """The results with the baseline's findings taken out (fingerprinted if not yet)."""
    place_results([r for r in results if r.placed is None])
    here = Path.cwd()
    kept = []
    for result in results:
        new = baseline.new(result.path, result.placed or [], here)
        kept.append(replace(result, findings=[p.finding for p in new], placed=new))
        baseline.hidden += len(result.findings) - len(new)
    return kept


def _emit(results: list[FileResult], args: argparse.Namespace) -> None:
    """The report, on standard output or in --output-file. JSON and SARIF carry each
    finding's fingerprints (for --baseline, and code scanning's alert tracking)."""
    if args.format in ("json", "sarif"):
        place_results([r for r in results if r.placed is None])
    to_file = args.output_file is not None
    baseline = args.loaded_baseline
    if baseline is not None and baseline.hidden and not args.quiet:
        hidden = baseline.hidden
        print(
            f"{hidden} finding{'s' if hidden != 1 else ''} in the baseline {args.baseline} "
            "not shown.",
            file=sys.stderr,
        )
    if args.statistics:
        report = output.format_statistics(results, as_json=args.format == "json")
    elif args.format == "text":
        report = output.format_text(results, color=is_terminal(sys.stdout) and not to_file)
        summary = "" if args.quiet else output.summary_line(results) + "\n"
        if to_file or not args.fix:
            report += summary
        elif summary:
            sys.stderr.write(summary)
    elif args.format == "json":
        report = output.format_json(results, shard=_shard_metadata(args, str))
    elif args.format == "sarif":
        metadata = _shard_metadata(args, lambda path: output.artifact_uri(path)[0])
        report = output.format_sarif(
            results, run_properties={shard.SARIF_PROPERTY: metadata} if metadata else None
        )
    else:
        report = output.FORMATTERS[args.format](results)
    if to_file:
        _write_report(args.output_file, report)
    else:
        sys.stdout.write(report)


def _write_report(path: Path, report: str) -> None:
    """Write the whole report or nothing (an earlier report there stays until then)."""
    try:
        if path.exists():
            _write_atomic(path, report.encode("utf-8", "clearsight.output"))
        else:
            path.write_bytes(report.encode("utf-8", "clearsight.output"))
    except OSError as error:
        print(f"clearsight: error: cannot write {path}: {error.strerror}", file=sys.stderr)
        raise SystemExit(EXIT_ERROR) from error


def check(args: argparse.Namespace) -> int:
    resolver = SettingsResolver()
    reported: set[str] = set()
    if args.jobs < 1:
        print("clearsight: error: --jobs must be at least 1", file=sys.stderr)
        return EXIT_ERROR
    if args.show_settings is not None:
        return _show_settings(args, resolver)
    if args.diff and args.fix:
        print(
            "clearsight: error: --diff shows the fixes --fix applies: choose one", file=sys.stderr
        )
        return EXIT_ERROR
    if args.statistics and args.format not in ("text", "json"):
        print("clearsight: error: --statistics prints text or json", file=sys.stderr)
        return EXIT_ERROR
    if not _load_baseline(args):
        return EXIT_ERROR
    if args.stdin_filename:
        if args.shard is not None:
            print("clearsight: error: --shard shares files: not with --stdin-filename",
                  file=sys.stderr)  # fmt: skip
            return EXIT_ERROR
        return _check_stdin(args, resolver, reported)

    excludes = CommandLineExcludes(
        tuple(args.exclude) if args.exclude is not None else None, tuple(args.extend_exclude)
    )
    found = discover(args.paths, resolver, excludes)
    _report_discovery(found.warnings, found.errors)

    def settings_for(path: Path) -> Settings:
        settings = resolver.for_path(path)
        _report_settings_problems(settings, reported)
        settings = settings.with_cli_overrides(args.select, args.ignore, args.python)
        _report_environment(path, settings, reported)
        return settings

    files = found.files
    if args.shard is not None:
        files = _take_shard(found.files, args, settings_for)
    cache = None if args.no_cache else FindingCache(args.cache_dir or Path(".clearsight_cache"))
    with progress_bar(len(files), "Checking") as advance:
        results = run(files, settings_for, args.jobs, cache, advance).files
    if cache:
        cache.say_problem()
    baseline = args.loaded_baseline
    if baseline is not None:
        results = _not_in_baseline(results, baseline)
    if args.diff:
        return _print_diffs(results)
    if args.fix:
        # Only the shown findings' fixes: the baseline's are the legacy code's.
        _report_fixes(_fix_files(results, resolver, args), args)
        if baseline is not None:  # the fixed files, analysed again
            results = [r if r.placed is not None else _not_in_baseline([r], baseline)[0]
                       for r in results]  # fmt: skip
    _report_provenance_data(files, settings_for)
    _report_fallbacks(results, settings_for, reported)
    _emit(results, args)
    if found.errors or any(r.unreadable for r in results):
        return EXIT_ERROR
    return _exit_code(_all_findings(results), args)


def _take_shard(
    files: list[Path], args: argparse.Namespace, settings_for: Callable[[Path], Settings]
) -> list[Path]:
    """This shard's files (in the order a single run checks them); keeps in args what
    the shard's report says of the run."""
    spec: shard.ShardSpec = args.shard
    positions = shard.partition(files, spec.count)[spec.index - 1]
    extra = [f"baseline={shard.file_digest(args.baseline)}"] if args.baseline else []
    args.shard_run = (spec, files, positions, settings_for, extra)
    return [files[position] for position in positions]


def _shard_metadata(
    args: argparse.Namespace, reported_as: Callable[[str], str]
) -> dict[str, object] | None:
    """The shard's part of a JSON or SARIF report (None when not a shard)."""
    taken = getattr(args, "shard_run", None)
    if taken is None:
        return None
    spec, files, positions, settings_for, extra = taken
    return shard.shard_metadata(
        spec, files, positions, settings_for, lambda path: reported_as(str(path)), extra
    )


def _report_provenance_data(files: list[Path], settings_for: Callable[[Path], Settings]) -> None:
    """Broken ledger or Agent Trace lines: said once per line on stderr, never fatal."""
    said: set[str] = set()
    for directory in sorted({path.parent for path in files}):
        settings = settings_for(directory / "__init__.py")
        if not settings.provenance.enabled:
            continue
        for problem in SERVICE.data_problems(directory / "__init__.py", settings):
            if problem not in said:
                said.add(problem)
                print(f"clearsight: warning: {problem}", file=sys.stderr)


def _report_discovery(warnings: list[str], errors: list[tuple[str, str]]) -> None:
    for warning in warnings:
        print(f"clearsight: warning: {warning}", file=sys.stderr)
    for path, reason in errors:
        print(f"clearsight: error: {path}: {reason}", file=sys.stderr)


def _report_fixes(applied: int, args: argparse.Namespace) -> None:
    if not args.quiet:
        print(f"Applied {applied} fix{'es' if applied != 1 else ''}.", file=sys.stderr)


def _all_findings(results: list[FileResult]) -> list[Finding]:
    return [finding for result in results for finding in result.findings]


def _exit_code(findings: list[Finding], args: argparse.Namespace) -> int:
    """1 when a finding is at least as severe as --fail-on (and not --exit-zero)."""
    threshold = Severity.parse(args.fail_on)
    failing = any(finding.severity <= threshold for finding in findings)  # ERROR is 1
    return EXIT_FINDINGS if failing and not args.exit_zero else EXIT_CLEAN


def _output_errors(error: UnicodeError) -> tuple[str | bytes, int]:
    """Encoding errors on stdout/stderr never abort a run: a file name's undecodable bytes
    (surrogate escapes) are written back as the bytes they were, any other character the
    stream cannot encode (a lone surrogate from a string literal) as a backslash escape."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    char = error.object[error.start]
    if 0xDC80 <= ord(char) <= 0xDCFF:
        return bytes([ord(char) - 0xDC00]), error.start + 1
    return char.encode("ascii", "backslashreplace").decode("ascii"), error.start + 1


codecs.register_error("clearsight.output", _output_errors)


def _robust_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(ValueError, OSError):
                reconfigure(errors="clearsight.output")


def main(argv: Sequence[str] | None = None) -> int:
    _robust_streams()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "check":
            return check(args)
        if args.command == "provenance":
            return provenance_cmd.run(args)
        if args.command == "review":
            return review_cmd.run(args)
        if args.command == "report":
            return report_cmd.run(args)
        if args.command == "rule":
            return rule_cmd.run(args)
        if args.command == "merge":
            return merge_cmd.run(args)
        if args.command == "server":
            from clearsight.lsp.server import run as run_server

            run_server(args.tcp)
            return EXIT_CLEAN
    except KeyboardInterrupt:
        return EXIT_ERROR
    except BrokenPipeError:  # `clearsight check | head`
        return EXIT_CLEAN
    parser.error(f"unknown command {args.command}")
    return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
