"""Per-file provenance summaries, shared by `clearsight provenance` and the editor's report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from clearsight.notebook import CellMap
from clearsight.provenance.model import Attribution
from clearsight.provenance.service import Block, FileProvenance


@dataclass
class FileSummary:
    path: str
    lines: int  # lines holding code
    ai_lines: int
    unreviewed: list[Block] = field(default_factory=list)
    all_blocks: list[Block] = field(default_factory=list)
    reviewed_blocks: int = 0
    sources: list[str] = field(default_factory=list)  # evidence kinds, e.g. "git-trailer"
    tools: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    pending: bool = False
    cells: CellMap | None = None  # a notebook's: blocks are named by cell and line in it

    @property
    def share(self) -> float:
        return self.ai_lines / self.lines if self.lines else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "lines": self.lines,
            "ai_lines": self.ai_lines,
            "ai_share": round(self.share, 4),
            "reviewed_blocks": self.reviewed_blocks,
            "unreviewed_blocks": [_block_dict(block, self.cells) for block in self.unreviewed],
            "sources": self.sources,
            "tools": self.tools,
            "problems": self.problems,
        }


def _attribution_dict(attribution: Attribution) -> dict[str, Any]:
    return {
        "author": attribution.kind.value,
        "tool": attribution.tool,
        "model": attribution.model,
        "evidence": attribution.evidence.value,
        "commit": attribution.commit,
        "confidence": attribution.confidence,
    }


def _block_dict(block: Block, cells: CellMap | None) -> dict[str, Any]:
    # 1-based lines, as people and other tools count them; in a notebook, in the cell.
    if cells is None:
        return {
            "first_line": block.first + 1,
            "last_line": block.last + 1,
            **_attribution_dict(block.attribution),
        }
    cell, first = cells.locate(block.first)
    return {
        "cell": cell,
        "first_line": first + 1,
        "last_line": first + 1 + block.last - block.first,
        **_attribution_dict(block.attribution),
    }


def block_place(block: Block, cells: CellMap | None) -> str:
    """Where a block is, as people read it: `lines 3-5`, or `cell 2, lines 1-3`."""
    if cells is None:
        return f"lines {block.first + 1}-{block.last + 1}"
    cell, first = cells.locate(block.first)
    return f"cell {cell}, lines {first + 1}-{first + 1 + block.last - block.first}"


def summarize(path: str, provenance: FileProvenance, cells: CellMap | None = None) -> FileSummary:
    """`cells`: a notebook's (the provenance is its joined code's); blocks stop at cells."""
    counted = {line for entry in provenance.units for line in entry.unit.lines()}
    blocks = provenance.blocks(cells.starts if cells else ())
    ai_units = provenance.ai_units
    return FileSummary(
        path=path,
        lines=len(counted),
        ai_lines=len(provenance.ai_lines()),
        unreviewed=[block for block in blocks if not block.reviewed],
        all_blocks=blocks,
        reviewed_blocks=sum(1 for block in blocks if block.reviewed),
        sources=provenance.evidence(),
        tools=sorted({u.attribution.tool for u in ai_units if u.attribution.tool}),
        problems=list(dict.fromkeys(provenance.problems)),
        pending=provenance.pending,
        cells=cells,
    )


def totals(summaries: list[FileSummary]) -> dict[str, Any]:
    lines = sum(s.lines for s in summaries)
    ai = sum(s.ai_lines for s in summaries)
    return {
        "files": len(summaries),
        "files_with_ai": sum(1 for s in summaries if s.ai_lines),
        "lines": lines,
        "ai_lines": ai,
        "ai_share": round(ai / lines, 4) if lines else 0.0,
        "unreviewed_blocks": sum(len(s.unreviewed) for s in summaries),
    }


def markdown(summaries: list[FileSummary], title: str = "Provenance report") -> str:
    """The report the editor shows: AI share, unreviewed blocks with links, sources."""
    total = totals(summaries)
    out = [
        f"# {title}",
        "",
        f"{total['files_with_ai']} of {total['files']} files hold AI-written code: "
        f"{total['ai_lines']} of {total['lines']} code lines ({total['ai_share']:.0%}); "
        f"**{total['unreviewed_blocks']} unreviewed block(s)**.",
        "",
        "| File | AI share | Unreviewed blocks | Sources |",
        "|---|---:|---:|---|",
    ]
    out += _file_rows(summaries)
    out += _unreviewed_section(summaries)
    out += _problems_section(summaries)
    return "\n".join(out) + "\n"


def _file_rows(summaries: list[FileSummary]) -> list[str]:
    """A table row per file with AI-written code or a problem, most unreviewed first."""
    rows = []
    for s in sorted(summaries, key=lambda s: (-len(s.unreviewed), -s.ai_lines, s.path)):
        if s.ai_lines or s.problems:
            tools = ", ".join(s.tools) or "-"
            rows.append(
                f"| `{s.path}` | {s.share:.0%} | {len(s.unreviewed)} | "
                f"{', '.join(s.sources) or '-'} ({tools}) |"
            )
    return rows


def _unreviewed_section(summaries: list[FileSummary]) -> list[str]:
    """Every unreviewed block, listed with where it came from (nothing if there is none)."""
    unreviewed = [(s, b) for s in summaries for b in s.unreviewed]
    if not unreviewed:
        return []
    return ["", "## Unreviewed AI-written blocks", ""] + [
        _block_item(summary, block) for summary, block in unreviewed
    ]


def _block_item(summary: FileSummary, block: Block) -> str:
    a = block.attribution
    return (
        f"- `{summary.path}` {block_place(block, summary.cells)}: {a.tool or 'AI'}"
        f"{f' ({a.model})' if a.model else ''}, {a.evidence.value}"
        f"{f', commit {a.commit[:7]}' if a.commit else ''}"
    )


def _problems_section(summaries: list[FileSummary]) -> list[str]:
    """Problems met reading each file's provenance (nothing if there are none)."""
    problems = [(s.path, p) for s in summaries for p in s.problems]
    if not problems:
        return []
    return ["", "## Problems", ""] + [f"- `{path}`: {p}" for path, p in problems]


def text(summaries: list[FileSummary]) -> str:
    rows = []
    for s in summaries:
        if not (s.ai_lines or s.problems):
            continue
        rows.append(
            f"{s.path}: {s.share:.0%} AI ({s.ai_lines}/{s.lines} lines), "
            f"{len(s.unreviewed)} unreviewed block(s); sources: {', '.join(s.sources) or '-'}"
            f"{'; tools: ' + ', '.join(s.tools) if s.tools else ''}"
        )
        for block in s.unreviewed:
            a = block.attribution
            rows.append(f"  {block_place(block, s.cells)}: unreviewed, {a.describe()}")
        rows += [f"  problem: {p}" for p in s.problems]
    total = totals(summaries)
    rows.append(
        f"{total['files_with_ai']} of {total['files']} files with AI-written code; "
        f"{total['ai_lines']}/{total['lines']} lines ({total['ai_share']:.0%}); "
        f"{total['unreviewed_blocks']} unreviewed block(s)."
    )
    return "\n".join(rows) + "\n"
