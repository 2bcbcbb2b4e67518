"""Who counts as an AI in git metadata: one table, easy to extend.

Each pattern says which tool a trailer value, an author or a committer identity names. Matching
is case-insensitive on the whole "Name <email>" text. Order matters: the first match wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class IdentityPattern:
    tool: str
    pattern: re.Pattern[str]


def _p(tool: str, regex: str) -> IdentityPattern:
    return IdentityPattern(tool, re.compile(regex, re.IGNORECASE))


# Identities seen in `Co-authored-by:` trailers and as commit authors/committers of agents.
# Emails and bot names are specific; bare names match only as the whole name ("Claude",
# "Claude Code"), so a person called Claude or Devin is never taken for an agent.
_END = r"\s*(?:<|$)"
AI_IDENTITIES: tuple[IdentityPattern, ...] = (
    _p("claude", r"noreply@anthropic\.com"
       r"|^claude(?: code)?(?: (?:opus|sonnet|haiku)[\w .-]*)?" + _END),
    _p("copilot", r"copilot@github\.com|\+copilot@users\.noreply\.github\.com|copilot-swe-agent"
       r"|^(?:github )?copilot(?: agent)?" + _END),
    _p("codex", r"noreply@openai\.com|chatgpt-codex-connector|^(?:openai )?codex(?: cli)?" + _END),
    _p("cursor", r"cursoragent@cursor\.com|^cursor(?: agent)?" + _END),
    _p("aider", r"noreply@aider\.chat|\(aider\)"),
    _p("gemini", r"gemini-code-assist|google-labs-jules|^gemini(?: code assist| cli)?" + _END),
    _p("devin", r"devin-ai-integration"),
    _p("amazon-q", r"amazon-q-developer"),
    _p("windsurf", r"@codeium\.com|^windsurf" + _END),
    _p("openhands", r"openhands@all-hands\.dev|^openhands" + _END),
)  # fmt: skip

# Trailer keys that carry an AI identity ("Co-authored-by: Claude <noreply@anthropic.com>").
IDENTITY_TRAILERS = ("co-authored-by",)
# Trailer keys whose value names a tool, optionally with a model: "Assisted-by: claude:opus-4".
TOOL_TRAILERS = ("assisted-by", "generated-by", "ai-tool", "ai-assisted-by")
# Trailer keys that name only the model ("AI-Model: gpt-5").
MODEL_TRAILERS = ("ai-model",)

# Lines in a commit message body that tools write instead of trailers.
MESSAGE_MARKERS: tuple[IdentityPattern, ...] = (
    _p("claude", r"generated with \[?claude code"),
    _p("codex", r"generated (?:with|by) \[?codex"),
    _p("copilot", r"generated (?:with|by) \[?(?:github )?copilot"),
)

# Inline markers in source comments near the top of a file.
INLINE_GENERATED = re.compile(r"@generated\b|\bai[- ]generated\b", re.IGNORECASE)
INLINE_TOOL = re.compile(r"generated (?:by|with)\s+(?P<tool>[\w .-]+)", re.IGNORECASE)

# The model in parentheses after an aider identity: "aider (gpt-4o) <noreply@aider.chat>".
AIDER_MODEL = re.compile(r"aider \((?P<model>[^)]+)\)", re.IGNORECASE)


def tool_for_identity(identity: str) -> str | None:
    """The AI tool an identity ("Name <email>") belongs to, or None for anyone else."""
    for entry in AI_IDENTITIES:
        if entry.pattern.search(identity):
            return entry.tool
    return None


def tool_from_name(name: str) -> str:
    """Normalise a free-form tool name ("Claude Code", "GitHub Copilot") to a table name."""
    known = tool_for_identity(name)
    return known if known else re.sub(r"[^a-z0-9.-]+", "-", name.strip().lower()).strip("-")


def tool_in_message(message: str) -> str | None:
    for entry in MESSAGE_MARKERS:
        if entry.pattern.search(message):
            return entry.tool
    return None
