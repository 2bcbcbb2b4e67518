"""Provenance as a check family: unreviewed AI-written blocks, and the AI-aware policy.

The attribution itself lives in `clearsight.provenance`; this module turns it into findings
(CS-P001 on the first line of each unreviewed AI block) and, after every family has run,
applies the policy for AI-written ranges: security findings one severity louder, a stricter
complexity limit, and an unreviewed block holding a security finding raised to a warning.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace

from clearsight.checks.base import Rule, docs_url
from clearsight.model import Family, Finding, Related, Severity, Span
from clearsight.provenance.service import SERVICE, Block, ProvenanceService
from clearsight.settings import Settings
from clearsight.source import SourceText

UNREVIEWED_AI = "CS-P001"
# Families whose findings are one level louder in AI-written code: security holes,
# hallucinated or unexpected dependencies and performance impacts are what AI code brings.
_RAISED = (Family.SECURITY, Family.DEPENDENCIES, Family.PERFORMANCE)
_LOUDER = {
    Severity.HINT: Severity.INFO,
    Severity.INFO: Severity.WARNING,
    Severity.WARNING: Severity.ERROR,
    Severity.ERROR: Severity.ERROR,
}


def _source_of(block: Block) -> str:
    attribution = block.attribution
    where = attribution.tool or "an AI tool"
    if attribution.model:
        where += f" ({attribution.model})"
    evidence = attribution.evidence.value.replace("-", " ")
    if attribution.commit:
        evidence += f" of commit {attribution.commit[:7]}"
    return f"{where}, by {evidence}, confidence {attribution.confidence:.0%}"


def _policy_applies(findings: list[Finding]) -> bool:
    """Whether any finding is one the AI-aware policy changes: attribution is not free."""
    candidates = any(f.metrics.get("ai_only") for f in findings)
    return candidates or any(f.family in _RAISED for f in findings)


def _with_ai_limit(finding: Finding, ai_lines: set[int]) -> Finding | None:
    """A finding over the stricter limit for AI-written code only: kept (and explained)
    where AI wrote it, dropped elsewhere. Other findings pass unchanged."""
    if not finding.metrics.get("ai_only"):
        return finding
    if finding.line not in ai_lines:
        return None
    return replace(
        finding,
        message=finding.message + " (AI-written code has this stricter limit: "
        "[tool.clearsight.provenance] ai-max-complexity.)",
    )


def _raised_if_ai(finding: Finding, ai_lines: set[int], settings: Settings) -> Finding:
    """Security, dependency and performance findings in AI-written lines, one severity
    louder."""
    louder = _LOUDER[finding.severity]
    if (
        finding.family in _RAISED
        and finding.line in ai_lines
        and settings.provenance.raise_security
        and louder != finding.severity
    ):
        return replace(
            finding,
            severity=louder,
            message=finding.message + " (Raised one level: AI-written code.)",
            metrics={**finding.metrics, "ai": True},
        )
    return finding


class ProvenanceCheck:
    family = Family.PROVENANCE
    needs_tree = False

    def __init__(self, service: ProvenanceService = SERVICE) -> None:
        self.service = service

    def enabled(self, settings: Settings) -> bool:
        return settings.provenance.enabled

    def rules(self) -> Iterable[Rule]:
        yield Rule(
            code=UNREVIEWED_AI,
            name="unreviewed-ai-code",
            family=self.family,
            summary="AI-written code that no person has reviewed yet",
            help=(
                "These lines were written by an AI tool (git trailers or authors, git-ai notes, "
                "Agent Trace records, an @generated marker, or a multi-line insertion the "
                "editor saw) and nobody has marked them reviewed. AI code brings unasked-for "
                "behaviour, dependencies and security holes: read it, then use the code "
                "action 'Mark as reviewed' (recorded in .clearsight/provenance.jsonl, keyed by "
                "content, so any later change asks for a new review). 'Mark as human-written' "
                "corrects a wrong attribution."
            ),
            docs_url=docs_url(UNREVIEWED_AI),
            default_severity=Severity.INFO,
        )

    def run(self, source: SourceText, settings: Settings) -> Iterator[Finding]:
        provenance = self.service.file_provenance(source, settings)
        severity = Severity.parse(settings.provenance.unreviewed_severity)
        for block in provenance.blocks(source.part_starts):
            if block.reviewed:
                continue
            lines = block.last - block.first + 1
            text = source.line_text(block.first) if block.first < len(source.lines) else ""
            indent = len(text) - len(text.lstrip())
            yield Finding(
                code=UNREVIEWED_AI,
                family=self.family,
                severity=severity,
                message=(
                    f"Unreviewed AI-written code: {lines} line{'s' if lines != 1 else ''} from "
                    f"{_source_of(block)}. Review it, then mark it reviewed."
                ),
                span=Span.of(block.first, indent, block.first, len(text.rstrip("\r\n"))),
                docs_url=docs_url(UNREVIEWED_AI),
                metrics={
                    "first_line": block.first,
                    "last_line": block.last,
                    "keys": list(block.keys),
                    "tool": block.attribution.tool,
                    "model": block.attribution.model,
                    "evidence": block.attribution.evidence.value,
                    "confidence": block.attribution.confidence,
                },
            )

    def finalize(
        self, source: SourceText, findings: list[Finding], settings: Settings
    ) -> list[Finding]:
        """The AI-aware policy, once every family's findings are known."""
        if not _policy_applies(findings):
            return findings
        ai_lines = self.service.file_provenance(source, settings).ai_lines()
        out = []
        for finding in findings:
            limited = _with_ai_limit(finding, ai_lines)
            if limited is not None:
                out.append(_raised_if_ai(limited, ai_lines, settings))
        return [self._with_security(f, out, settings) for f in out]

    def _with_security(
        self, finding: Finding, findings: list[Finding], settings: Settings
    ) -> Finding:
        if finding.code != UNREVIEWED_AI:
            return finding
        first, last = finding.metrics["first_line"], finding.metrics["last_line"]
        holes = [f for f in findings if f.family == Family.SECURITY and first <= f.line <= last]
        if not holes:
            return finding
        inside = sorted({f.code for f in holes})
        # Each security finding in the block, so the editor can jump to it from here.
        related = tuple(Related(f.span, f"{f.code}: {f.message}") for f in holes)
        return replace(
            finding,
            severity=Severity.parse(settings.provenance.unreviewed_security_severity),
            message=finding.message + f" It contains security findings ({', '.join(inside)}).",
            metrics={**finding.metrics, "security": inside},
            related=finding.related + related,
        )
