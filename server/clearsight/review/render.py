"""A review as text (rich, for a terminal), Markdown (one pull-request comment), JSON
(documented in docs/review.md), SARIF (with `baselineState` and fingerprints) and GitHub
annotations (new findings only). Renderers only translate the review."""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from rich.console import Console
from rich.table import Table
from rich.text import Text

from clearsight import __version__
from clearsight.cli import output
from clearsight.cli.runner import FileResult
from clearsight.model import Finding, Severity
from clearsight.review.build import FileReview, Review
from clearsight.review.compare import Compared
from clearsight.review.dependencies import DependencyChange
from clearsight.review.risk import HunkRisk

# The first line of the Markdown report: the GitHub Action finds its own comment by it and
# updates that one comment instead of adding another on every push.
COMMENT_MARKER = "<!-- clearsight-review -->"
TOP_HUNKS = 15  # hunks listed in "where to look first"
MAX_DETAILS = 60  # files given a details section in Markdown; the rest are counted
# GitHub refuses comments over 65,536 characters: the details stop before this.
MAX_COMMENT_CHARS = 60_000


# -- the summary every format shares ------------------------------------------------------


def summary(review: Review) -> dict[str, Any]:
    files = review.files
    added = sum(f.change.added for f in files)
    removed = sum(f.change.removed for f in files)
    introduced = Counter(
        c.finding.severity.label for f in files if f.findings for c in f.findings.introduced
    )
    fixed = sum(len(f.findings.fixed) for f in files if f.findings)
    in_changed = sum(len(f.findings.in_changed_code()) for f in files if f.findings)
    ai_lines = sum(f.ai.lines for f in files)
    tools: Counter[str] = Counter()
    for f in files:
        tools.update(f.ai.tools)
    unreviewed = sum(len(f.ai.unreviewed_blocks) for f in files)
    high = sum(1 for h in review.hunks if h.level == "high")
    declared = Counter(d.change for d in review.dependencies)
    flagged = sum(1 for d in review.dependencies if d.verdict)
    effort = 1 + (added > 50) + (added > 250) + (added > 1000) + (high > 0)
    reasons = [f"{added:,} lines added in {len(files)} files"]
    if introduced:
        reasons.append(_counted(introduced) + " introduced")
    if ai_lines:
        reasons.append(f"{_share(ai_lines, added)} AI-written")
    if high:
        reasons.append(f"{high} high-risk hunk{'s' if high != 1 else ''}")
    if declared.get("added"):
        reasons.append(
            f"{declared['added']} dependenc{'ies' if declared['added'] != 1 else 'y'} added"
        )
    return {
        "files": len(files),
        "added": added,
        "removed": removed,
        "hunks": sum(len(f.change.hunks) for f in files),
        "analysed": sum(1 for f in files if f.findings is not None),
        "introduced": {s.label: introduced.get(s.label, 0) for s in Severity},
        "fixed": fixed,
        "in_changed_code": in_changed,
        "moved": review.moved,
        "ai_added_lines": ai_lines,
        "ai_share": round(ai_lines / added, 3) if added else 0.0,
        "ai_tools": dict(tools.most_common()),
        "unreviewed_ai_blocks": unreviewed,
        "dependencies": {
            "added": declared.get("added", 0),
            "removed": declared.get("removed", 0),
            "re-versioned": declared.get("re-versioned", 0),
            "flagged": flagged,
        },
        "effort": min(effort, 5),
        "effort_reasons": reasons,
    }


def _counted(counts: Counter[str]) -> str:
    return ", ".join(f"{counts[s.label]} {s.label}" for s in Severity if counts.get(s.label))


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "0%"


def _base_line(review: Review) -> str:
    base = review.change.base
    return f"{base.name} ({base.commit[:12]}), {base.how}"


# -- JSON ---------------------------------------------------------------------------------


def _finding(path: str, compared: Compared) -> dict[str, Any]:
    out = {
        **output.finding_json(path, compared.finding),
        "state": compared.state,
        "where": compared.where,
        "scope": compared.placed.scope,
        "fingerprint": compared.placed.fingerprint,
    }
    if compared.previous is not None:
        out["previous_message"] = compared.previous.message
    return out


def _file(review: FileReview) -> dict[str, Any]:
    change = review.change
    out: dict[str, Any] = {
        "path": change.path,
        "old_path": change.old_path,
        "status": change.status,
        "added": change.added,
        "removed": change.removed,
        "binary": change.binary,
        "analysed": review.findings is not None,
        "note": review.note or None,
        "hunks": [
            {
                "old_start": h.old_start,
                "old_count": h.old_count,
                "new_start": h.new_start,
                "new_count": h.new_count,
            }
            for h in change.hunks
        ],
        "ai": {
            "lines": review.ai.lines,
            "tools": review.ai.tools,
            "unreviewed_blocks": [
                {"start": a, "end": b, "scope": scope}
                for a, b, scope in review.ai.unreviewed_blocks
            ],
        },
        "commits_90_days": review.commits,
        "fixes_90_days": review.fixes,
    }
    if change.similarity is not None:
        out["similarity"] = change.similarity
    if review.complexity is not None:
        out["complexity"] = {
            "functions": [
                {"name": d.name, "line": d.line, "before": d.before, "after": d.after}
                for d in review.complexity.functions
            ],
            "maintainability_rank": {
                "before": review.complexity.rank_before,
                "after": review.complexity.rank_after,
            },
        }
    return out


def _hunk(risk: HunkRisk) -> dict[str, Any]:
    hunk = risk.hunk
    return {
        "path": risk.path,
        "new_start": hunk.new_start,
        "new_count": hunk.new_count,
        "old_start": hunk.old_start,
        "old_count": hunk.old_count,
        "score": risk.score,
        "level": risk.level,
        "reasons": risk.reasons,
        "ai_lines": risk.ai_lines,
        "findings": [c.placed.fingerprint for c in risk.new],
    }


def format_json(review: Review) -> str:
    files = review.files
    document = {
        "tool": "clearsight",
        "version": __version__,
        "base": {
            "commit": review.change.base.commit,
            "name": review.change.base.name,
            "how": review.change.base.how,
        },
        "summary": summary(review),
        "notes": review.change.notes,
        "problems": review.problems,
        "hunks": [_hunk(h) for h in review.hunks],
        "dependencies": [
            {
                "name": d.name,
                "change": d.change,
                "where": d.where,
                "path": d.path,
                "line": d.line or None,
                "before": d.before,
                "after": d.after,
                "verdict": d.verdict or None,
                "detail": d.detail or None,
            }
            for d in review.dependencies
        ],
        "findings": {
            "introduced": [
                _finding(f.change.path, c)
                for f in files
                if f.findings
                for c in f.findings.introduced
            ],
            "fixed": [
                _finding(f.change.old_path or f.change.path, c)
                for f in files
                if f.findings
                for c in f.findings.fixed
            ],
            "in_changed_code": [
                _finding(f.change.path, c)
                for f in files
                if f.findings
                for c in f.findings.in_changed_code()
            ],
        },
        "files": [_file(f) for f in files],
    }
    return json.dumps(document, indent=2) + "\n"


# -- text ---------------------------------------------------------------------------------

_STYLE = {
    Severity.ERROR: "red",
    Severity.WARNING: "yellow",
    Severity.INFO: "cyan",
    Severity.HINT: "dim",
}


def format_text(review: Review, color: bool = False, width: int = 110) -> str:
    buffer = io.StringIO()
    console = Console(
        file=buffer, force_terminal=color, no_color=not color, width=width, highlight=False
    )
    facts = summary(review)
    console.print(Text(f"Review against {_base_line(review)}", style="bold"))
    console.print(
        f"{facts['files']} files changed, +{facts['added']} -{facts['removed']} lines; "
        f"AI-written: {_share(facts['ai_added_lines'], facts['added'])} of the added lines"
        + (f" ({', '.join(facts['ai_tools'])})" if facts["ai_tools"] else "")
        + (
            f", {facts['unreviewed_ai_blocks']} unreviewed AI block(s)"
            if facts["unreviewed_ai_blocks"]
            else ""
        )
    )
    introduced = facts["introduced"]
    console.print(
        f"Findings: {sum(introduced.values())} introduced"
        + (
            f" ({', '.join(f'{n} {s}' for s, n in introduced.items() if n)})"
            if any(introduced.values())
            else ""
        )
        + f", {facts['fixed']} fixed, {facts['in_changed_code']} already in the changed code"
        + (f", {facts['moved']} moved with their code" if facts["moved"] else "")
    )
    console.print(f"Review effort {facts['effort']}/5: {'; '.join(facts['effort_reasons'])}")
    for note in [*review.change.notes, *review.problems]:
        console.print(f"note: {note}", style="yellow")
    if review.dependencies:
        console.print(Text("Dependency changes", style="bold"))
        for declared in review.dependencies:
            console.print(f"  {_dependency_line(declared)}")
    hunks = [h for h in review.hunks if h.score > 0][:TOP_HUNKS]
    if hunks:
        table = Table(title="Where to look first", title_justify="left", show_lines=False)
        table.add_column("risk", justify="right")
        table.add_column("where")
        table.add_column("why")
        for risk in hunks:
            end = risk.hunk.new_start + max(risk.hunk.new_count, 1) - 1
            table.add_row(
                f"{risk.score:g}",
                f"{risk.path}:{risk.hunk.new_start}-{end}",
                "; ".join(risk.reasons),
            )
        console.print(table)
    for line in complexity_lines(review):
        console.print(f"complexity: {line}")
    for path, first, last, scope in unreviewed_blocks(review):
        console.print(
            f"unreviewed AI block: {path}:{first}-{last}" + (f" ({scope})" if scope else "")
        )
    for entry in review.files:
        if entry.findings is None or not (entry.findings.introduced or entry.findings.fixed):
            continue
        console.print(Text(entry.change.path, style="bold"))
        for compared in entry.findings.introduced:
            _text_finding(console, "new", compared)
        for compared in entry.findings.fixed:
            _text_finding(console, "fixed", compared)
    for entry in review.files:
        if entry.note:
            console.print(f"{entry.change.path}: {entry.note}", style="dim")
    return buffer.getvalue()


def complexity_lines(review: Review) -> list[str]:
    """Functions whose complexity rose or that are new above the limit, and modules whose
    maintainability rank dropped, most growth first."""
    deltas = [
        (delta.growth, f.change.path, delta)
        for f in review.files
        if f.complexity is not None
        for delta in f.complexity.functions
    ]
    deltas.sort(key=lambda item: (-item[0], item[1], item[2].line))
    lines = []
    for _, path, delta in deltas[:MAX_DETAILS]:
        before = "new" if delta.before is None else str(delta.before)
        lines.append(f"{path}:{delta.line} {delta.name}: {before} -> {delta.after}")
    for entry in review.files:
        change = entry.complexity
        if change is not None and change.rank_dropped:
            lines.append(
                f"{entry.change.path}: maintainability rank {change.rank_before} -> "
                f"{change.rank_after}"
            )
    return lines


def unreviewed_blocks(review: Review) -> list[tuple[str, int, int, str]]:
    return [
        (f.change.path, first, last, scope)
        for f in review.files
        for first, last, scope in f.ai.unreviewed_blocks
    ]


def _dependency_line(declared: DependencyChange) -> str:
    if declared.change == "added":
        what = f"+ {declared.after}"
    elif declared.change == "removed":
        what = f"- {declared.before}"
    else:
        what = f"~ {declared.name}: {declared.before} -> {declared.after}"
    flag = f" [{declared.verdict}] {declared.detail}" if declared.verdict else ""
    return f"{what} ({declared.where}){flag}"


def _text_finding(console: Console, label: str, compared: Compared) -> None:
    finding = compared.finding
    line = Text(f"  {label:5} ")
    line.append(f"{finding.code}", style=_STYLE[finding.severity])
    where = "" if compared.where == "changed" or label == "fixed" else f", {compared.where}"
    line.append(f" [{finding.severity.label}{where}] line {finding.line + 1}: {finding.message}")
    console.print(line)


# -- Markdown -----------------------------------------------------------------------------


def _escape(text: str) -> str:
    return (
        text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
        .replace("\n", " ")
    )  # fmt: skip


def _link(path: str, line: int, link_base: str | None, label: str | None = None) -> str:
    text = _escape(label or f"{path}:{line}")
    if not link_base:
        return f"`{text}`" if not label else text
    return f"[{text}]({link_base.rstrip('/')}/{quote(path)}#L{line})"


def format_markdown(review: Review, link_base: str | None = None) -> str:
    facts = summary(review)
    introduced = facts["introduced"]
    out = [
        COMMENT_MARKER,
        "## Clearsight review",
        "",
        f"Compared with {_escape(_base_line(review))}. **Review effort {facts['effort']}/5**: "
        + _escape("; ".join(facts["effort_reasons"]))
        + ".",
        "",
        "| | |",
        "| --- | --- |",
        f"| Files changed | {facts['files']} (+{facts['added']} -{facts['removed']} lines) |",
        f"| Introduced | {sum(introduced.values())}"
        + (
            f" ({_escape(', '.join(f'{n} {s}' for s, n in introduced.items() if n))})"
            if any(introduced.values())
            else ""
        )
        + " |",
        f"| Fixed | {facts['fixed']} |",
        f"| Already in the changed code | {facts['in_changed_code']} |",
        f"| AI-written added lines | {_share(facts['ai_added_lines'], facts['added'])}"
        + (f" ({_escape(', '.join(facts['ai_tools']))})" if facts["ai_tools"] else "")
        + " |",
        f"| Unreviewed AI blocks | {facts['unreviewed_ai_blocks']} |",
    ]
    for note in [*review.change.notes, *review.problems]:
        out += ["", f"> **Note:** {_escape(note)}"]
    if review.dependencies:
        out += ["", "### Dependency changes", "", "| Change | Distribution | Where | Check |"]
        out.append("| --- | --- | --- | --- |")
        for d in review.dependencies:
            shown = d.after if d.change == "added" else d.before
            if d.change == "re-versioned":
                shown = f"{d.name}: {d.before} -> {d.after}"
            check = f"**{d.verdict}**: {_escape(d.detail)}" if d.verdict else ""
            where = _escape(d.where)
            out.append(f"| {d.change} | `{_escape(shown or d.name)}` | {where} | {check} |")
    hunks = [h for h in review.hunks if h.score > 0][:TOP_HUNKS]
    if hunks:
        out += ["", "### Where to look first", "", "| Risk | Where | Why |", "| ---: | --- | --- |"]
        for risk in hunks:
            end = risk.hunk.new_start + max(risk.hunk.new_count, 1) - 1
            where = _link(
                risk.path,
                risk.hunk.new_start,
                link_base,
                f"{risk.path}:{risk.hunk.new_start}-{end}",
            )
            out.append(
                f"| {risk.score:g} ({risk.level}) | {where} | {_escape('; '.join(risk.reasons))} |"
            )
    complexity = complexity_lines(review)
    if complexity:
        out += ["", "### Complexity", ""] + [f"- {_escape(line)}" for line in complexity]
    blocks = unreviewed_blocks(review)
    if blocks:
        out += ["", "### Unreviewed AI blocks", ""]
        for path, first, last, scope in blocks[:MAX_DETAILS]:
            shown = _link(path, first, link_base, f"{path}:{first}-{last}")
            out.append(f"- {shown}" + (f" ({_escape(scope)})" if scope else ""))
        if len(blocks) > MAX_DETAILS:
            out.append(f"- … and {len(blocks) - MAX_DETAILS} more")
    detailed = [
        f for f in review.files if f.findings and (f.findings.introduced or f.findings.fixed)
    ]
    # The files whose new findings are worst first, so what a long comment leaves out is
    # what matters least.
    detailed.sort(key=_detail_order)
    if detailed:
        out += ["", "### Findings by file"]
    used = sum(len(line) + 1 for line in out)
    shown = 0
    for entry in detailed[:MAX_DETAILS]:
        section = _details(entry, link_base)
        size = sum(len(line) + 1 for line in section)
        if used + size > MAX_COMMENT_CHARS:
            break
        out += section
        used += size
        shown += 1
    if len(detailed) > shown:
        out += [
            "",
            f"… and {len(detailed) - shown} more files with findings "
            "(the JSON and SARIF reports list them all).",
        ]
    return "\n".join(out) + "\n"


def _detail_order(entry: FileReview) -> tuple[int, int, str]:
    findings = entry.findings
    assert findings is not None
    worst = min((c.finding.severity for c in findings.introduced), default=Severity.HINT + 1)
    return (worst, -len(findings.introduced), entry.change.path)


def _details(entry: FileReview, link_base: str | None) -> list[str]:
    findings = entry.findings
    assert findings is not None
    counts = f"{len(findings.introduced)} new, {len(findings.fixed)} fixed"
    lines = ["", f"<details><summary>{_escape(entry.change.path)}: {counts}</summary>", ""]
    for compared in findings.introduced:
        lines.append(_markdown_finding("new", entry.change.path, compared, link_base))
    old = entry.change.old_path or entry.change.path
    for compared in findings.fixed:
        lines.append(_markdown_finding("fixed", old, compared, None))
    return [*lines, "", "</details>"]


def _markdown_finding(label: str, path: str, compared: Compared, link_base: str | None) -> str:
    finding = compared.finding
    line = finding.line + 1
    where = "" if compared.where == "changed" or label == "fixed" else f", {compared.where}"
    return (
        f"- **{label}** `{finding.code}` ({finding.severity.label}{where}) "
        f"{_link(path, line, link_base)}: {_escape(finding.message)}"
    )


# -- SARIF and GitHub ---------------------------------------------------------------------

_BASELINE_STATE = {"new": "new", "unchanged": "unchanged", "updated": "updated", "fixed": "absent"}


def _absolute(review: Review, path: str) -> str:
    return str(review.change.root / path)


def format_sarif(review: Review) -> str:
    """Every finding of the analysed files, with its `baselineState` against the base, and
    the fixed ones as `absent`: whole files, so code scanning keeps its own tracking."""
    results: list[FileResult] = []
    states: dict[int, Compared] = {}
    for entry in review.files:
        findings = entry.findings
        if findings is None:
            continue
        current = [*findings.introduced, *findings.kept]
        current.sort(key=lambda c: (c.finding.span.start.line, c.finding.span.start.column))
        for compared in [*current, *findings.fixed]:
            states[id(compared.finding)] = compared
        results.append(
            FileResult(_absolute(review, entry.change.path), [c.finding for c in current])
        )
        if findings.fixed:
            old = entry.change.old_path or entry.change.path
            results.append(FileResult(_absolute(review, old), [c.finding for c in findings.fixed]))

    def extra(finding: Finding) -> dict[str, Any]:
        compared = states[id(finding)]
        return {
            "baselineState": _BASELINE_STATE[compared.state],
            "partialFingerprints": {"clearsight/v1": compared.placed.fingerprint},
        }

    base = review.change.base
    properties = {"base": {"commit": base.commit, "name": base.name, "how": base.how}}
    return output.format_sarif(results, extra, properties)


def format_github_review(review: Review) -> str:
    results = [
        FileResult(
            relative_to_cwd(review.change.root / f.change.path),
            [c.finding for c in f.findings.introduced],
        )
        for f in review.files
        if f.findings is not None and f.findings.introduced
    ]
    return output.format_github(results)


RENDERERS: dict[str, Callable[..., str]] = {
    "json": format_json,
    "sarif": format_sarif,
    "github": format_github_review,
}


def relative_to_cwd(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
