"""Agent Trace records (`.agent-trace/traces.jsonl`, spec v0.1): read them, and write them.

A record lists files, each with conversations whose contributor (`ai`, `human`, `mixed`,
`unknown`, and a `model_id`) produced line ranges (1-based, inclusive). `vcs.revision` is
the commit the ranges were recorded against.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clearsight.provenance.ledger import now
from clearsight.provenance.model import Attribution, AuthorKind, Evidence
from clearsight.provenance.patterns import tool_from_name

TRACE_PATH = Path(".agent-trace") / "traces.jsonl"
SPEC_VERSION = "0.1.0"


@dataclass(frozen=True)
class TraceRange:
    first: int  # 1-based, inclusive
    last: int
    attribution: Attribution
    revision: str | None


@dataclass
class TraceIndex:
    files: dict[str, list[TraceRange]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _contributor(conversation: dict[str, Any], tool: str | None, rng: dict) -> Attribution:
    contributor = rng.get("contributor") or conversation.get("contributor") or {}
    kind = AuthorKind(str(contributor.get("type", "ai")).lower())
    model = contributor.get("model_id")
    model = model if isinstance(model, str) else None
    if model and not tool:
        tool = tool_from_name(model.split("/")[0])
    return Attribution.of(kind, Evidence.AGENT_TRACE, tool, model)


def _read_record(record: dict[str, Any], index: TraceIndex) -> None:
    vcs = record.get("vcs") if isinstance(record.get("vcs"), dict) else {}
    revision = vcs.get("revision") if isinstance(vcs.get("revision"), str) else None
    tool_info = record.get("tool") if isinstance(record.get("tool"), dict) else {}
    tool = tool_from_name(tool_info["name"]) if isinstance(tool_info.get("name"), str) else None
    for entry in record["files"]:
        ranges = index.files.setdefault(str(entry["path"]), [])
        for conversation in entry.get("conversations", []):
            for rng in conversation.get("ranges", []):
                first, last = int(rng["start_line"]), int(rng["end_line"])
                if first < 1 or last < first:
                    raise ValueError(f"bad range {first}-{last}")
                attribution = _contributor(conversation, tool, rng)
                ranges.append(TraceRange(first, last, attribution, revision))


def parse_traces(data: bytes, name: str = str(TRACE_PATH)) -> TraceIndex:
    index = TraceIndex()
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
            if not isinstance(record, dict) or not isinstance(record.get("files"), list):
                raise ValueError("not an Agent Trace record")
            _read_record(record, index)
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            index.problems.append(f"{name}:{number}: skipped an unreadable record ({error})")
    return index


def export_record(
    path: str, ranges: list[tuple[int, int, Attribution]], revision: str | None, version: str
) -> dict[str, Any]:
    """One Agent Trace record for one file's AI-written ranges (1-based, inclusive)."""
    conversations: dict[tuple[str | None, str | None], list[dict[str, int]]] = {}
    for first, last, attribution in ranges:
        key = (attribution.tool, attribution.model)
        conversations.setdefault(key, []).append({"start_line": first, "end_line": last})
    record: dict[str, Any] = {
        "version": SPEC_VERSION,
        "id": str(uuid.uuid4()),
        "timestamp": now(),
        "tool": {"name": "clearsight", "version": version},
        "files": [
            {
                "path": path,
                "conversations": [
                    {
                        "contributor": {"type": "ai", **({"model_id": model} if model else {})},
                        "ranges": spans,
                        **({"metadata": {"tool": tool}} if tool else {}),
                    }
                    for (tool, model), spans in conversations.items()
                ],
            }
        ],
    }
    if revision:
        record["vcs"] = {"type": "git", "revision": revision}
    return record


def dumps(record: dict[str, Any]) -> str:
    return json.dumps(record, sort_keys=True)
