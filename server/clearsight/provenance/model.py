"""The provenance model: who wrote a statement, on what evidence, and whether it was reviewed."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class AuthorKind(str, enum.Enum):
    AI = "ai"
    HUMAN = "human"
    MIXED = "mixed"  # a statement whose lines came from both
    UNKNOWN = "unknown"  # no evidence either way (not committed, not observed): not "human"


class Evidence(str, enum.Enum):
    """Which source said so. The value is what reports and the ledger show."""

    MARKED = "marked"  # clearsight/markProvenance or "Mark as human-written"
    GIT_AI_NOTE = "git-ai-note"
    AGENT_TRACE = "agent-trace"
    BULK_INSERTION = "bulk-insertion"
    EXTERNAL_WRITE = "external-write"
    GIT_TRAILER = "git-trailer"
    GIT_AUTHOR = "git-author"  # the commit's author or committer is an agent
    GIT_MESSAGE = "git-message"  # e.g. "Generated with Claude Code" in the message body
    INLINE_MARKER = "inline-marker"  # an @generated header
    GIT_HISTORY = "git-history"  # committed by a person with no AI marker


# Stronger evidence overrides weaker for the same statement (lower number wins).
EVIDENCE_RANK: dict[Evidence, int] = {
    Evidence.MARKED: 0,
    Evidence.GIT_AI_NOTE: 1,
    Evidence.AGENT_TRACE: 2,
    Evidence.BULK_INSERTION: 3,
    Evidence.EXTERNAL_WRITE: 3,
    Evidence.GIT_AUTHOR: 4,
    Evidence.GIT_TRAILER: 5,
    Evidence.GIT_MESSAGE: 5,
    Evidence.INLINE_MARKER: 6,
    Evidence.GIT_HISTORY: 7,
}

# How sure each source is that its attribution is right for every line it covers.
EVIDENCE_CONFIDENCE: dict[Evidence, float] = {
    Evidence.MARKED: 1.0,
    Evidence.GIT_AI_NOTE: 0.95,
    Evidence.AGENT_TRACE: 0.9,
    Evidence.GIT_AUTHOR: 0.9,
    # A trailer says an AI took part in the commit, not that it wrote every line of it.
    Evidence.GIT_TRAILER: 0.7,
    Evidence.GIT_MESSAGE: 0.7,
    # A multi-line insertion may be a completion, an agent's edit or a paste.
    Evidence.BULK_INSERTION: 0.6,
    Evidence.EXTERNAL_WRITE: 0.6,
    Evidence.INLINE_MARKER: 0.6,
    Evidence.GIT_HISTORY: 0.5,
}


@dataclass(frozen=True)
class Attribution:
    kind: AuthorKind
    evidence: Evidence
    tool: str | None = None
    model: str | None = None
    commit: str | None = None  # the commit the evidence came from, when it came from git
    confidence: float = 0.0

    @classmethod
    def of(
        cls,
        kind: AuthorKind,
        evidence: Evidence,
        tool: str | None = None,
        model: str | None = None,
        commit: str | None = None,
    ) -> Attribution:
        return cls(kind, evidence, tool, model, commit, EVIDENCE_CONFIDENCE[evidence])

    @property
    def is_ai(self) -> bool:
        return self.kind in (AuthorKind.AI, AuthorKind.MIXED)

    def describe(self) -> str:
        """ "AI · claude · commit 1a2b3c4" style, for hovers and reports."""
        parts = [self.kind.value.upper() if self.kind == AuthorKind.AI else self.kind.value]
        if self.tool:
            parts.append(self.tool + (f" ({self.model})" if self.model else ""))
        if self.commit:
            parts.append(f"commit {self.commit[:7]}")
        parts.append(self.evidence.value)
        return " · ".join(parts)


UNKNOWN = Attribution(AuthorKind.UNKNOWN, Evidence.GIT_HISTORY, confidence=0.0)


def stronger(a: Attribution | None, b: Attribution | None) -> Attribution | None:
    if a is None or b is None:
        return a or b
    return a if EVIDENCE_RANK[a.evidence] <= EVIDENCE_RANK[b.evidence] else b


def combine_lines(attributions: list[Attribution]) -> Attribution:
    """One statement's attribution from its lines': AI and human lines together are mixed."""
    known = [a for a in attributions if a.kind != AuthorKind.UNKNOWN]
    if not known:
        return UNKNOWN
    kinds = {a.kind for a in known}
    best = min(known, key=lambda a: EVIDENCE_RANK[a.evidence])
    if len(kinds) == 1:
        return best
    ai = next((a for a in known if a.is_ai), best)
    return Attribution(AuthorKind.MIXED, ai.evidence, ai.tool, ai.model, ai.commit, ai.confidence)
