"""Security dataflow: untrusted data followed from where it enters to where it is dangerous.

The analysis (`clearsight.dataflow`) finds flows from sources (a request parameter, a
socket, the command line) to sinks (a file path, a shell command, an SQL statement),
through assignments, string building, containers and the file's own functions, and stops
at sanitizers and at checks that vouch for the data. This family turns its flows into
findings, one stable code per vulnerability class (`CS-S001`…), each with the path the
data took as related locations. It also judges bandit's findings on the same lines: where
a flow and bandit describe the same problem only the flow is kept, and where bandit's rule
fired on a constant command or SQL statement its finding is lowered to information.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterable, Iterator
from dataclasses import replace

from clearsight.checks.base import Rule, docs_url
from clearsight.dataflow.catalogue import Catalogue, VulnerabilityClass, bundled, extended
from clearsight.dataflow.document import DocumentFlows
from clearsight.dataflow.interpreter import Options, Result, analyze_tree
from clearsight.dataflow.project import ProjectModules
from clearsight.dataflow.sinks import SettingFinding
from clearsight.dataflow.values import Flow, Where
from clearsight.model import (
    Family,
    Finding,
    Fix,
    Related,
    SecurityDetail,
    Severity,
    Span,
    TextEdit,
)
from clearsight.settings import Settings
from clearsight.source import SourceText

_LOUDER = {Severity.ERROR: Severity.WARNING, Severity.WARNING: Severity.WARNING}
_TEST_FOLDERS = frozenset({"tests", "test", "testing"})


def is_test_file(path: str) -> bool:
    """Test code (pytest's and unittest's usual names): it runs in CI, not in front of users,
    so an app it builds to echo input exposes nobody."""
    parts = os.path.normpath(path).split(os.sep)
    name = parts[-1]
    return (
        name.startswith("test_")
        or name.endswith("_test.py")
        or name == "conftest.py"
        or any(part in _TEST_FOLDERS for part in parts[:-1])
    )


# bandit tests whose finding means nothing when what they look at is a constant.
_CONSTANT_HARMLESS = frozenset(
    {"B602", "B604", "B605", "B608", "B307", "B102", "B609", "B301", "B302", "B506"}
)


def catalogue_for(settings: Settings) -> Catalogue:
    return extended(settings.security.catalogue_json)


def options_for(settings: Settings, path: str = "") -> Options:
    kinds = {"remote", "random"}
    if settings.security.local_sources != "OFF":
        kinds.add("local")
    return Options(kinds=frozenset(kinds), shallow=bool(path) and is_test_file(path))


def project_for(path: str) -> ProjectModules | None:
    """The project around a file on disk; None for a buffer with no real path."""
    if not path or path.startswith("<") or not os.path.isabs(os.path.abspath(path)):
        return None
    if not os.path.isdir(os.path.dirname(os.path.abspath(path))):
        return None
    return ProjectModules(path)


def analyze_source(source: SourceText, settings: Settings) -> Result:
    tree = source.tree
    if tree is None:
        raise ValueError("the dataflow analysis needs a syntax tree")
    return analyze_tree(
        tree,
        source.path,
        catalogue_for(settings),
        options_for(settings, source.path),
        project_for(source.path),
        source.lines,
    )


class DataflowCheck:
    family = Family.SECURITY
    needs_tree = True

    def enabled(self, settings: Settings) -> bool:
        return settings.security.enabled and settings.security.dataflow

    def rules(self) -> Iterable[Rule]:
        for vulnerability in bundled().classes.values():
            yield rule_of(vulnerability)

    def run(self, source: SourceText, settings: Settings) -> Iterator[Finding]:
        result = analyze_source(source, settings)
        yield from result_findings(source, result, settings)

    def new_document(self) -> DocumentFlows:
        return DocumentFlows()

    def run_document(
        self,
        source: SourceText,
        settings: Settings,
        document: DocumentFlows,
        chunks: list[tuple[int, str, ast.Module | None]],
    ) -> Iterator[Finding]:
        """The same findings, for the editor: from the document's top-level statements,
        reusing what the units an edit did not change found (`dataflow.document`)."""
        result = document.analyze(
            chunks,
            catalogue_for(settings),
            options_for(settings, source.path),
            project_for(source.path),
            (settings.fingerprint(),),
        )
        yield from result_findings(source, result, settings)

    def finalize(
        self, source: SourceText, findings: list[Finding], settings: Settings
    ) -> list[Finding]:
        return judge_bandit(findings, settings)


def rule_of(vulnerability: VulnerabilityClass) -> Rule:
    return Rule(
        code=vulnerability.code,
        name=vulnerability.name,
        family=Family.SECURITY,
        summary=vulnerability.title,
        help=f"{vulnerability.why} {vulnerability.fix} (CWE-{vulnerability.cwe})",
        docs_url=docs_url(vulnerability.code),
        default_severity=Severity.parse(vulnerability.severity),
    )


def result_findings(source: SourceText, result: Result, settings: Settings) -> Iterator[Finding]:
    catalogue = catalogue_for(settings)
    for flow in result.flows:
        finding = flow_finding(source, flow, catalogue, settings)
        if finding is not None:
            yield finding
    for setting in result.settings:
        yield setting_finding(source, setting, catalogue)
    if result.constant_sites:
        yield _constants_marker(result.constant_sites)


def flow_finding(
    source: SourceText, flow: Flow, catalogue: Catalogue, settings: Settings
) -> Finding | None:
    vulnerability = catalogue.classes[flow.vulnerability]
    taint = flow.taint
    severity = Severity.parse(vulnerability.severity)
    if taint.kind == "local":
        local = settings.security.local_sources
        if local == "OFF":
            return None
        severity = max(severity, Severity.parse(local))  # never louder than the class
    elif taint.assumed:
        # The path crosses a call nothing models: as likely, not as certain.
        severity = _LOUDER.get(severity, severity)
    if is_test_file(source.path):
        severity = max(severity, Severity.INFO)
    source_line = taint.where.line
    origin = (
        taint.label if taint.where.path is None else f"{taint.label} ({_short(taint.where.path)})"
    )
    via = [step.note for step in taint.steps if step.note.startswith("`")]
    through = f" (via {' → '.join(dict.fromkeys(via))})" if via else ""
    detail = f" {flow.detail}" if flow.detail else ""
    where_source = f" (line {source_line})" if taint.where.path is None else ""
    if vulnerability.injection or flow.vulnerability == "trust-boundary":
        message = (
            f"{vulnerability.title}: {origin}{where_source} reaches {flow.sink_label}{detail}"
            f"{through} without validation. {vulnerability.hint}"
        )
    else:  # a weak value in a secret's place: nothing to validate, something to replace
        shown = [name for name in dict.fromkeys(via) if name != flow.sink_label]
        through = f" (via {' → '.join(shown)})" if shown else ""
        message = (
            f"{vulnerability.title}: {origin}{where_source} becomes {flow.sink_label}"
            f"{through}. {vulnerability.hint}"
        )
    if taint.assumed:
        message += " (The path goes through a call Clearsight has no model for.)"
    related = _related(source, flow)
    return Finding(
        code=vulnerability.code,
        family=Family.SECURITY,
        severity=severity,
        message=message,
        span=span_of(source, flow.sink),
        docs_url=docs_url(vulnerability.code),
        security=SecurityDetail(
            test_id=vulnerability.code,
            test_name=vulnerability.name,
            bandit_severity="",
            confidence="MEDIUM" if taint.assumed else "HIGH",
            cwe=vulnerability.cwe,
        ),
        metrics={
            "dataflow": True,
            "cwe": vulnerability.cwe,
            "source_kind": taint.kind,
            "source_line": source_line - 1 if taint.where.path is None else None,
            "steps": len(taint.steps),
            "assumed": taint.assumed,
        },
        related=related,
    )


def _related(source: SourceText, flow: Flow) -> tuple[Related, ...]:
    """The source, each step and (for a sink in another module) the sink, in order."""
    taint = flow.taint
    found = [_located(source, taint.where, f"source: {taint.label}")]
    for step in taint.steps:
        held = step.note.startswith("`")
        note = f"step: {step.note} holds it" if held else f"step: {step.note}"
        found.append(_located(source, step.where, note))
    if flow.sink.path is not None:
        found.append(_located(source, flow.sink, f"sink: {flow.sink_label}"))
    unique: dict[tuple[object, ...], Related] = {}
    for related in found:
        unique.setdefault((related.path, related.span, related.message), related)
    return tuple(unique.values())


def _located(source: SourceText, where: Where, message: str) -> Related:
    if where.path is not None:
        return Related(Span.of(where.line - 1, 0, where.end_line - 1, 0), message, where.path)
    return Related(span_of(source, where), message)


def span_of(source: SourceText, where: Where) -> Span:
    line = max(where.line - 1, 0)
    start = source.byte_to_char_column(line, where.column)
    if where.end_line == where.line:
        end = source.byte_to_char_column(line, where.end_column)
    else:
        end = len(source.line_text(line))  # a node over several lines: its first line
    return Span.of(line, start, line, max(end, start))


def setting_finding(source: SourceText, setting: SettingFinding, catalogue: Catalogue) -> Finding:
    vulnerability = catalogue.classes[setting.vulnerability]
    message = f"{vulnerability.title} ({setting.detail}). {vulnerability.hint}"
    severity = Severity.parse(vulnerability.severity)
    if is_test_file(source.path):
        severity = max(severity, Severity.INFO)
    return Finding(
        code=vulnerability.code,
        family=Family.SECURITY,
        severity=severity,
        message=message,
        span=span_of(source, setting.where),
        docs_url=docs_url(vulnerability.code),
        security=SecurityDetail(
            vulnerability.code, vulnerability.name, "", "HIGH", vulnerability.cwe
        ),
        metrics={"dataflow": True, "cwe": vulnerability.cwe},
        fixes=_setting_fixes(source, setting),
    )


def _setting_fixes(source: SourceText, setting: SettingFinding) -> tuple[Fix, ...]:
    """The flag switched on; not safe (`--fix` leaves it): a cookie marked `secure` is
    no longer sent over plain HTTP, which a development server may rely on."""
    fix = setting.fix
    if fix is None or fix.where.line != fix.where.end_line:
        return ()
    return (Fix(fix.title, (TextEdit(span_of(source, fix.where), fix.new_text),), safe=False),)


_CONSTANTS = "CS-S000"  # internal: carries the constant sites to `judge_bandit`, then dropped


def _constants_marker(sites: frozenset[tuple[int, int]]) -> Finding:
    return Finding(
        code=_CONSTANTS,
        family=Family.SECURITY,
        severity=Severity.HINT,
        message="",
        span=Span.point(0),
        metrics={"constant_sites": sorted(sites)},
    )


def judge_bandit(findings: list[Finding], settings: Settings) -> list[Finding]:
    """One finding per problem: a flow replaces bandit's finding of the same class on its
    line (keeping bandit's fixes), and bandit's findings on constants become information."""
    catalogue = catalogue_for(settings)
    constants: set[tuple[int, int]] = set()
    flows: dict[tuple[int, str], Finding] = {}
    for finding in findings:
        if finding.code == _CONSTANTS:
            constants.update(tuple(site) for site in finding.metrics["constant_sites"])
        elif finding.metrics.get("dataflow"):
            vulnerability = catalogue.class_of(finding.code)
            for test in vulnerability.bandit if vulnerability else ():
                flows.setdefault((finding.line, test), finding)
    merged_fixes: dict[int, list] = {}
    louder: dict[int, Severity] = {}  # bandit's severity, when it was louder than the flow's
    kept: list[Finding] = []
    for finding in findings:
        if finding.code == _CONSTANTS:
            continue
        bandit = finding.security is not None and finding.security.bandit_severity != ""
        if bandit and (finding.line, finding.code) in flows:
            flow = flows[(finding.line, finding.code)]
            merged = merged_fixes.setdefault(id(flow), [])
            merged.extend(finding.fixes)
            louder.setdefault(id(flow), finding.severity)
            louder[id(flow)] = min(louder[id(flow)], finding.severity)
            continue
        if bandit and finding.code in _CONSTANT_HARMLESS and _at_constant(finding, constants):
            finding = replace(
                finding,
                severity=max(finding.severity, Severity.INFO),
                message=finding.message
                + " Its argument is a constant: nothing untrusted reaches it.",
            )
        kept.append(finding)
    if merged_fixes:
        kept = [
            _merged(f, merged_fixes[id(f)], louder[id(f)]) if id(f) in merged_fixes else f
            for f in kept
        ]
    return kept


def _merged(flow: Finding, fixes: list, bandit_severity: Severity) -> Finding:
    """The flow, with bandit's fixes and, when bandit's rule says more (`eval` of an
    environment variable: the flow's local source is information, bandit's rule a
    warning), bandit's severity: one finding, never quieter than either."""
    return replace(
        flow, fixes=flow.fixes + tuple(fixes), severity=min(flow.severity, bandit_severity)
    )


def _at_constant(finding: Finding, constants: set[tuple[int, int]]) -> bool:
    line = finding.metrics.get("bandit_line")
    column = finding.metrics.get("bandit_col")
    return line is not None and (line, column) in constants


def _short(path: str) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return path


_ = ast
