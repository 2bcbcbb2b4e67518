"""Findings -> LSP messages. Pure translation: no analysis happens here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lsprotocol import types

from clearsight.lsp.positions import to_client
from clearsight.model import Finding, Fix, Severity, Span
from clearsight.source import SourceText

SOURCE = "clearsight"

_SEVERITY = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
    Severity.HINT: types.DiagnosticSeverity.Hint,
}


def lsp_range(source: SourceText, span: Span, encoding: str) -> types.Range:
    start, end = span.start, span.end
    return types.Range(
        start=types.Position(
            line=start.line,
            character=to_client(source.line_text(start.line), start.column, encoding),
        ),
        end=types.Position(
            line=end.line, character=to_client(source.line_text(end.line), end.column, encoding)
        ),
    )


def related_information(
    source: SourceText, finding: Finding, uri: str | None, encoding: str
) -> list[types.DiagnosticRelatedInformation] | None:
    found = []
    for related in finding.related:
        if related.path is not None:
            # Another file: its text is not at hand, so whole lines (character 0).
            start = types.Position(line=related.span.start.line, character=0)
            end = types.Position(line=related.span.end.line, character=0)
            location = types.Location(
                uri=Path(related.path).absolute().as_uri(), range=types.Range(start, end)
            )
        elif uri is not None:
            location = types.Location(uri=uri, range=lsp_range(source, related.span, encoding))
        else:
            continue
        found.append(types.DiagnosticRelatedInformation(location=location, message=related.message))
    return found or None


def diagnostic(
    source: SourceText,
    finding: Finding,
    index: int,
    encoding: str,
    stale: bool = False,
    uri: str | None = None,
) -> types.Diagnostic:
    message = finding.message
    if stale:
        message = f"{message} (from the last version that parsed)"
    return types.Diagnostic(
        range=lsp_range(source, finding.span, encoding),
        message=message,
        severity=_SEVERITY[finding.severity],
        code=finding.code,
        code_description=types.CodeDescription(href=finding.docs_url) if finding.docs_url else None,
        source=SOURCE,
        related_information=related_information(source, finding, uri, encoding),
        tags=[types.DiagnosticTag.Unnecessary] if finding.metrics.get("unnecessary") else None,
        # Which finding of the analysed version this is, so code actions can find its fixes.
        data={"index": index, "fixes": len(finding.fixes)},
    )


def text_edits(source: SourceText, fix: Fix, encoding: str) -> list[types.TextEdit]:
    return [
        types.TextEdit(range=lsp_range(source, edit.span, encoding), new_text=edit.new_text)
        for edit in fix.edits
    ]


def workspace_edit(
    uri: str, version: int | None, source: SourceText, fix_edits: list[types.TextEdit]
) -> types.WorkspaceEdit:
    if version is None:
        return types.WorkspaceEdit(changes={uri: list(fix_edits)})
    document = types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version)
    return types.WorkspaceEdit(
        document_changes=[types.TextDocumentEdit(text_document=document, edits=list(fix_edits))]
    )


def hover_markdown(finding: Finding, rule_help: str | None) -> str:
    lines = [f"**{finding.code}** · {finding.severity.label} · {finding.family.value}", ""]
    lines.append(finding.message)
    if finding.security is not None and finding.security.cwe:
        cwe = finding.security.cwe
        link = f"[CWE-{cwe}](https://cwe.mitre.org/data/definitions/{cwe}.html)"
        if finding.security.bandit_severity:
            detail = (
                f"bandit severity {finding.security.bandit_severity.lower()}, confidence "
                f"{finding.security.confidence.lower()}"
            )
        else:  # a dataflow finding: its path is in the related information
            detail = f"dataflow, confidence {finding.security.confidence.lower()}"
        lines += ["", f"{link} · {detail}"]
    if rule_help:
        lines += ["", rule_help]
    if finding.fixes:
        lines += ["", "Fix: " + "; ".join(fix.title for fix in finding.fixes)]
    if finding.docs_url:
        lines += ["", f"[Documentation]({finding.docs_url})"]
    return "\n".join(lines)


def data_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def plain_params(value: Any) -> Any:
    """pygls hands custom messages' params over as named tuples: back to dicts."""
    if hasattr(value, "_asdict"):
        return {k: plain_params(v) for k, v in value._asdict().items()}
    if isinstance(value, (list, tuple)):
        return [plain_params(v) for v in value]
    if hasattr(value, "__dict__") and not isinstance(value, type):
        return {k: plain_params(v) for k, v in vars(value).items()}
    return value
