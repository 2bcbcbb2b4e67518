"""What a commit's metadata says about who wrote it: authors, trailers, message markers."""

from __future__ import annotations

from clearsight.provenance.git import CommitInfo
from clearsight.provenance.model import Attribution, AuthorKind, Evidence
from clearsight.provenance.patterns import (
    AIDER_MODEL,
    IDENTITY_TRAILERS,
    MODEL_TRAILERS,
    TOOL_TRAILERS,
    tool_for_identity,
    tool_from_name,
    tool_in_message,
)


def _model(info: CommitInfo) -> str | None:
    for key, value in info.trailers:
        if key in MODEL_TRAILERS and value:
            return value
    for text in (info.author, info.committer, *(v for _, v in info.trailers)):
        found = AIDER_MODEL.search(text)
        if found:
            return found.group("model")
    return None


def _from_tool_trailers(info: CommitInfo) -> tuple[str, str | None] | None:
    for key, value in info.trailers:
        if key in TOOL_TRAILERS and value:
            # "Assisted-by: AGENT:MODEL" (Linux, Fedora); "Generated-by: Claude Code".
            agent, _, model = value.partition(":")
            return tool_from_name(agent), (model.strip() or None)
    return None


def commit_attribution(info: CommitInfo) -> Attribution:
    """AI when any marker names an agent, else the human who committed it."""
    model = _model(info)
    for identity in (info.author, info.committer):
        tool = tool_for_identity(identity)
        if tool:
            return Attribution.of(AuthorKind.AI, Evidence.GIT_AUTHOR, tool, model, info.commit)
    for key, value in info.trailers:
        tool = tool_for_identity(value) if key in IDENTITY_TRAILERS else None
        if tool:
            return Attribution.of(AuthorKind.AI, Evidence.GIT_TRAILER, tool, model, info.commit)
    named = _from_tool_trailers(info)
    if named:
        tool, trailer_model = named
        return Attribution.of(
            AuthorKind.AI, Evidence.GIT_TRAILER, tool, trailer_model or model, info.commit
        )
    tool = tool_in_message(info.message)
    if tool:
        return Attribution.of(AuthorKind.AI, Evidence.GIT_MESSAGE, tool, model, info.commit)
    return Attribution.of(AuthorKind.HUMAN, Evidence.GIT_HISTORY, commit=info.commit)
