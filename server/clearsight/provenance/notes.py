"""git-ai authorship notes (refs/notes/ai, `authorship/3.x`): line ranges per file per author.

A note is an attestation section (a file path, then indented `<author id> <ranges>` lines,
ranges like `1-5,7`) and, after a `---` line, JSON metadata whose `prompts` map AI author
ids to `agent_id` {tool, model} and whose `humans` map `h_` ids to people. Line numbers
refer to the file as the note's commit left it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from clearsight.provenance.model import Attribution, AuthorKind, Evidence


@dataclass
class NoteAttribution:
    # path -> [(first, last) 1-based inclusive, attribution]
    files: dict[str, list[tuple[int, int, Attribution]]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _ranges(text: str) -> list[tuple[int, int]]:
    out = []
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        out.append((int(first), int(last or first)))
    return out


def _author(author_id: str, meta: dict, commit: str) -> Attribution:
    if author_id.startswith("h_"):
        return Attribution.of(AuthorKind.HUMAN, Evidence.GIT_AI_NOTE, commit=commit)
    prompts = meta.get("prompts") if isinstance(meta.get("prompts"), dict) else {}
    sessions = meta.get("sessions") if isinstance(meta.get("sessions"), dict) else {}
    entry = prompts.get(author_id) or sessions.get(author_id.split("::")[0]) or {}
    agent = entry.get("agent_id") if isinstance(entry, dict) else None
    agent = agent if isinstance(agent, dict) else {}
    tool = agent.get("tool") if isinstance(agent.get("tool"), str) else None
    model = agent.get("model") if isinstance(agent.get("model"), str) else None
    return Attribution.of(AuthorKind.AI, Evidence.GIT_AI_NOTE, tool, model, commit)


def _metadata(text: str, result: NoteAttribution) -> dict:
    try:
        meta = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as error:
        result.problems.append(f"git-ai note metadata is not valid JSON ({error.msg})")
        return {}
    if not isinstance(meta, dict):
        result.problems.append("git-ai note metadata is not a JSON object")
        return {}
    version = str(meta.get("schema_version", ""))
    if version and not version.startswith("authorship/3"):
        result.problems.append(f"git-ai note schema {version!r} is not authorship/3.x; read as 3.x")
    return meta


def _sections(text: str) -> tuple[str, str]:
    """The attestation and the metadata text; a note may hold metadata only."""
    attestation, sep, metadata = text.partition("\n---\n")
    if not sep and text.startswith("---\n"):
        return "", text[4:]
    return attestation, metadata


def _file_path(row: str) -> str:
    """An attestation line naming a file: its path, which may be in double quotes."""
    path = row.strip()
    if len(path) >= 2 and path[0] == path[-1] == '"':
        return path[1:-1]
    return path


def parse_note(text: str, commit: str) -> NoteAttribution:
    result = NoteAttribution()
    attestation, metadata = _sections(text)
    meta = _metadata(metadata, result)
    current: str | None = None
    for number, row in enumerate(attestation.splitlines(), start=1):
        if not row.strip():
            continue
        if not row[0].isspace():
            current = _file_path(row)
            result.files.setdefault(current, [])
            continue
        author_id, _, ranges = row.strip().rpartition(" ")
        try:
            spans = _ranges(ranges)
        except ValueError:
            result.problems.append(f"git-ai note line {number}: cannot read ranges {ranges!r}")
            continue
        if current is None or not author_id:
            result.problems.append(f"git-ai note line {number}: a range without a file")
            continue
        attribution = _author(author_id, meta, commit)
        result.files[current].extend((first, last, attribution) for first, last in spans)
    return result
