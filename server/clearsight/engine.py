"""The engine: source text + path + settings in, plain findings out.

Every front end (the CLI, the language server) calls `analyze`. It parses once, runs each
enabled check family on that one parse, isolates failures (a check that raises or runs
away is reported and the others' findings still come out), then applies the user's
selection, inline ignores and severity overrides.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import signal
import threading
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

from clearsight import disk_view
from clearsight.checks.base import Check, Rule, docs_url
from clearsight.checks.registry import CHECKS
from clearsight.model import Family, Finding, Fix, Severity, Span, TextEdit
from clearsight.settings import Settings
from clearsight.source import SourceText, regular_file_size
from clearsight.syntax_versions import describe, newer_syntax

LOG = logging.getLogger(__name__)

SYNTAX_ERROR = "CS-E001"
UNREADABLE = "CS-E002"
CHECK_FAILED = "CS-E003"
UNUSED_IGNORE = "CS-E004"
LIMIT_REACHED = "CS-E005"

_INLINE_IGNORE = re.compile(r"#\s*clearsight:\s*ignore(?:\[(?P<codes>[^\]]*)\])?", re.IGNORECASE)

ENGINE_RULES: tuple[Rule, ...] = (
    Rule(
        SYNTAX_ERROR, "syntax-error", Family.ENGINE, "The file does not parse as Python",
        "Python cannot parse this code, so no other check could look at it. Fix the syntax "
        "error at the marked position; half-typed code is reported here until it parses. "
        "When the line uses syntax of a later Python (PEP 701 f-strings, PEP 695 type "
        "parameters, `except*`, template strings) than the one running Clearsight, the "
        "message names the feature and the version: run Clearsight on that Python.",
        docs_url(SYNTAX_ERROR), Severity.ERROR,
    ),
    Rule(
        UNREADABLE, "unreadable-file", Family.ENGINE,
        "The file could not be read or decoded",
        "The file could not be read, or holds bytes that are not valid in its declared "
        "encoding (UTF-8 unless a PEP 263 coding line says otherwise), or is a notebook "
        "that is not nbformat 4 JSON or has a cell of an unknown type. Fix the permissions "
        "or re-save the file in UTF-8; save a notebook again from Jupyter.",
        docs_url(UNREADABLE), Severity.ERROR,
    ),
    Rule(
        CHECK_FAILED, "check-failed", Family.ENGINE, "A check failed on this file",
        "One check family raised an error on this file; the others still ran. Please report "
        "it with the file that triggers it.",
        docs_url(CHECK_FAILED), Severity.WARNING,
    ),
    Rule(
        UNUSED_IGNORE, "unused-ignore", Family.ENGINE,
        "A `# clearsight: ignore` comment suppresses nothing",
        "No finding on this line has the code the comment names (or, for a bare "
        "`# clearsight: ignore`, no finding at all): the code was fixed, or the code in the "
        "comment is wrong. A stale suppression hides the next real problem on the line; "
        "remove it (the quick fix does). Codes of families that are switched off or not "
        "selected are not judged, and nothing is judged while the file does not parse.",
        docs_url(UNUSED_IGNORE), Severity.HINT,
    ),
    Rule(
        LIMIT_REACHED, "limit-reached", Family.ENGINE,
        "The file is too large or too deep to analyse within the limits",
        "The file (or one check on it) went past a configured limit (size, nesting or time), "
        "so it was not fully analysed. Raise [tool.clearsight.limits] if the file must be "
        "checked, or exclude generated files.",
        docs_url(LIMIT_REACHED), Severity.WARNING,
    ),
)  # fmt: skip


class TimeBudgetExceeded(Exception):
    pass


@contextlib.contextmanager
def time_budget(seconds: float) -> Iterator[None]:
    """Interrupt the block after `seconds` of wall time (main thread on Unix only).

    Elsewhere (threads of the language server) it does nothing; there the size limit and
    the linear-time algorithms bound each step instead.
    """
    usable = (
        seconds > 0
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield
        return

    def on_alarm(signum: int, frame: object) -> None:
        raise TimeBudgetExceeded

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def engine_finding(code: str, message: str, span: Span, severity: Severity) -> Finding:
    return Finding(
        code=code,
        family=Family.ENGINE,
        severity=severity,
        message=message,
        span=span,
        docs_url=docs_url(code),
    )


def unreadable_finding(message: str) -> Finding:
    """For front ends: a file that could not be read at all."""
    return engine_finding(UNREADABLE, message, Span.point(0), Severity.ERROR)


def run_check(check: Check, source: SourceText, settings: Settings) -> list[Finding]:
    name = check.family.value
    try:
        with time_budget(settings.limits.file_timeout):
            return list(check.run(source, settings))
    except TimeBudgetExceeded:
        message = (
            f"The {name} check stopped after {settings.limits.file_timeout:g} s on this file "
            "([tool.clearsight.limits] file-timeout); its findings are missing."
        )
        return [engine_finding(LIMIT_REACHED, message, Span.point(0), Severity.WARNING)]
    except (RecursionError, MemoryError):
        message = f"The {name} check skipped this file: code is nested too deeply to analyse."
        return [engine_finding(LIMIT_REACHED, message, Span.point(0), Severity.WARNING)]
    except Exception as error:
        LOG.exception("check %s failed on %s", name, source.path)
        message = f"The {name} check failed on this file ({type(error).__name__}: {error})."
        return [engine_finding(CHECK_FAILED, message, Span.point(0), Severity.WARNING)]


def _comments_for_ignores(source: SourceText) -> dict[int, str]:
    if source.tree is not None:
        return source.comments
    # Tokens may stop early in broken code: read the lines instead.
    return {
        index + 1: line[line.index("#") :]
        for index, line in enumerate(source.lines)
        if "clearsight" in line and "#" in line
    }


def inline_ignores(comments: dict[int, str]) -> dict[int, frozenset[str] | None]:
    """0-based line -> codes ignored there (None: every code), from `# clearsight: ignore`
    comments (keyed by 1-based line, as tokenize numbers them)."""
    found: dict[int, frozenset[str] | None] = {}
    for line, comment in comments.items():
        match = _INLINE_IGNORE.search(comment) if "clearsight" in comment else None
        if match is None:
            continue
        codes = match.group("codes") or ""
        listed = frozenset(c.strip().upper() for c in codes.split(",") if c.strip())
        found[line - 1] = listed or None
    return found


def _ignored_by(finding: Finding, ignores: dict[int, frozenset[str] | None]) -> str | None:
    """The code of the line's ignore comment that suppresses the finding ("*" for a bare
    ignore), None when none does."""
    if finding.line not in ignores:
        return None
    codes = ignores[finding.line]
    if codes is None:
        return "*"
    return next((code for code in sorted(codes) if finding.code.upper().startswith(code)), None)


def source_problems(source: SourceText) -> list[Finding]:
    """Findings about the text itself: undecodable bytes, syntax errors."""
    findings = []
    if source.decode_problem is not None:
        problem = source.decode_problem
        if problem.reason.startswith("the coding line"):
            message = (
                f"Python cannot load this file: {problem.reason}. Read as UTF-8 to analyse "
                "the rest; fix or remove the coding line."
            )
        else:
            message = (
                f"Bytes that are not valid {problem.encoding} ({problem.reason}); they were "
                "replaced with U+FFFD to analyse the rest. Re-save the file as UTF-8."
            )
        span = Span.of(problem.line, problem.column, problem.line, problem.column + 1)
        findings.append(engine_finding(UNREADABLE, message, span, Severity.ERROR))
    parse_problem = source.parse_problem
    # A syntax error at a U+FFFD was caused by the undecodable bytes reported above.
    if parse_problem is not None and "U+FFFD" not in parse_problem.message:
        span = Span.of(
            parse_problem.line,
            parse_problem.column,
            parse_problem.end_line,
            parse_problem.end_column,
        )
        message = f"Syntax error: {parse_problem.message}. Other checks need code that parses."
        line = parse_problem.line
        line_text = source.lines[line] if 0 <= line < len(source.lines) else ""
        newer = newer_syntax(line_text, parse_problem.message)
        if newer is not None:
            message = f"Syntax error: {parse_problem.message}. {describe(newer)}"
        findings.append(engine_finding(SYNTAX_ERROR, message, span, Severity.ERROR))
    return findings


def apply_user_choices(
    findings: list[Finding],
    comments: dict[int, str],
    settings: Settings,
    unused_in: SourceText | None = None,
) -> list[Finding]:
    """Selection, inline ignores (from `comments`: 1-based line -> comment) and severity
    overrides, then position order. With `unused_in` (the text, when the findings are all
    there are: it parses), ignore comments that suppressed nothing are reported too."""
    ignores = inline_ignores(comments)
    result = []
    used: set[tuple[int, str]] = set()
    for finding in findings:
        if not settings.is_selected(finding.code):
            continue
        suppressor = _ignored_by(finding, ignores)
        if suppressor is not None:
            used.add((finding.line, suppressor))
            continue
        result.append(finding)
    if unused_in is not None and ignores:
        result.extend(_unused_ignores(unused_in, comments, ignores, used, settings))
    result = [_with_severity(finding, settings) for finding in result]
    result.sort(key=lambda f: (f.span.start, f.code))
    return result


def _with_severity(finding: Finding, settings: Settings) -> Finding:
    severity = settings.severity_for(finding.code, finding.severity)
    return finding if severity == finding.severity else replace(finding, severity=severity)


def _unused_ignores(
    source: SourceText,
    comments: dict[int, str],
    ignores: dict[int, frozenset[str] | None],
    used: set[tuple[int, str]],
    settings: Settings,
) -> Iterator[Finding]:
    if not settings.is_selected(UNUSED_IGNORE):
        return
    for line, codes in sorted(ignores.items()):
        unused = _unused_codes(line, codes, used, settings)
        text = source.line_text(line)
        start = _comment_start(text, comments.get(line + 1))
        match = _INLINE_IGNORE.search(text, start)
        # On a line of its own the comment trails no code: not judged (the editor's
        # statement-by-statement analysis does not keep comments between statements).
        if unused and match is not None and text[:start].strip():
            kept = sorted(c for c in codes or () if c not in unused)
            yield _unused_ignore_finding(source, line, match, unused, kept)


def _unused_codes(
    line: int, codes: frozenset[str] | None, used: set[tuple[int, str]], settings: Settings
) -> list[str]:
    """The codes of one line's ignore comment that suppressed nothing (["*"]: a bare
    ignore that did not), leaving out those that cannot be judged."""
    if codes is None:
        return [] if (line, "*") in used else ["*"]
    if UNUSED_IGNORE in codes:
        return []  # the comment keeps itself: it may be there for another configuration
    return sorted(c for c in codes if (line, c) not in used and _judged(c, settings))


def _judged(code: str, settings: Settings) -> bool:
    """Whether a finding with this code could have been reported here: its family is on
    and it is selected (an unknown code, or a prefix of none, is not judged)."""
    families = {family for known, family in _rule_families() if known.startswith(code)}
    return (
        bool(families)
        and settings.is_selected(code)
        and all(getattr(getattr(settings, f.value, None), "enabled", True) for f in families)
    )


@functools.cache
def _rule_families() -> tuple[tuple[str, Family], ...]:
    """Every rule's code (upper case) and family, gathered once (the editor asks on each
    edit of a file with ignore comments)."""
    return tuple((rule.code.upper(), rule.family) for rule in all_rules())


def _comment_start(text: str, comment: str | None) -> int:
    """Where the line's comment starts (a `#` in a string before it is not one)."""
    return max(text.rfind(comment) if comment else text.find("#"), 0)


def _unused_ignore_finding(
    source: SourceText, line: int, match: re.Match[str], unused: list[str], kept: list[str]
) -> Finding:
    span = Span.of(line, match.start(), line, match.end())
    if unused == ["*"]:
        what = "This `# clearsight: ignore` suppresses nothing: no finding is on this line."
    else:
        names = ", ".join(f"`{code}`" for code in unused)
        what = f"No finding on this line has the ignored code {names}."
    message = (
        f"{what} A stale suppression hides the next real problem here: remove it, or name "
        "the code that is reported."
    )
    if kept:  # the other codes still suppress findings: keep those
        title = "Remove the unused code" + ("s" if len(unused) > 1 else "")
        edit = TextEdit(span, f"# clearsight: ignore[{', '.join(kept)}]")
    else:
        title = "Remove the unused `# clearsight: ignore`"
        edit = TextEdit(_removal_span(source.line_text(line), line, match), "")
    finding = engine_finding(UNUSED_IGNORE, message, span, Severity.HINT)
    # "unnecessary": editors show the comment faded (LSP's Unnecessary tag).
    return replace(finding, fixes=(Fix(title, (edit,), safe=True),), metrics={"unnecessary": True})


def _removal_span(text: str, line: int, match: re.Match[str]) -> Span:
    """The comment and the blanks between it and the code before it."""
    start = len(text[: match.start()].rstrip(" \t"))
    return Span.of(line, start, line, match.end())


def finalize_findings(
    source: SourceText, findings: list[Finding], settings: Settings, checks: Sequence[Check]
) -> list[Finding]:
    """Let families that judge other families' findings (the AI-aware policy) see them all."""
    for check in checks:
        finalize = getattr(check, "finalize", None)
        if finalize is None or not check.enabled(settings):
            continue
        try:
            findings = finalize(source, findings, settings)
        except Exception as error:
            LOG.exception("finalizing %s failed on %s", check.family.value, source.path)
            message = f"The {check.family.value} policy failed ({type(error).__name__}: {error})."
            findings = [
                *findings,
                engine_finding(CHECK_FAILED, message, Span.point(0), Severity.WARNING),
            ]
    return findings


def over_size_limit(size: int, settings: Settings) -> Finding | None:
    """The finding for a file of `size` bytes over the analysis limit (None: within it).
    Front ends that know a file's size before reading it ask first: a file of gigabytes is
    then never read."""
    limit = settings.limits.max_file_bytes
    if size <= limit:
        return None
    message = (
        f"File is {size:,} bytes, over the {limit:,}-byte limit "
        "([tool.clearsight.limits] max-file-bytes); not analysed."
    )
    return engine_finding(LIMIT_REACHED, message, Span.point(0), Severity.WARNING)


def file_over_size_limit(path: Path, settings: Settings) -> Finding | None:
    """`over_size_limit` for a file on disk, from its size alone (it is not read)."""
    size = regular_file_size(path)
    return over_size_limit(size, settings) if size is not None else None


def analyze(
    source: str | SourceText,
    path: str,
    settings: Settings | None = None,
    checks: Sequence[Check] = CHECKS,
) -> list[Finding]:
    """All findings for one source text, sorted by position.

    `checks` defaults to every registered family; front ends never need to pass it.
    """
    settings = settings or Settings()
    if isinstance(source, str):
        source = SourceText(source, path=path)
    size = len(source.raw) if source.raw is not None else len(source.text)
    too_large = over_size_limit(size, settings)
    if too_large is not None:
        return [too_large]

    findings = source_problems(source)
    with disk_view.one_view():  # each file looked at once by all the families
        for check in checks:
            if check.enabled(settings) and (source.tree is not None or not check.needs_tree):
                findings.extend(run_check(check, source, settings))
    findings = finalize_findings(source, findings, settings, checks)
    comments = _comments_for_ignores(source)
    parsed = source.tree is not None
    return apply_user_choices(findings, comments, settings, source if parsed else None)


def all_rules() -> list[Rule]:
    """Every rule any check can report, for catalogues (SARIF driver, docs)."""
    rules = list(ENGINE_RULES)
    for check in CHECKS:
        rules.extend(check.rules())
    return rules
