"""Report formats for `clearsight check`: text, json, sarif (2.1.0) and github annotations.

Formatters only translate findings; lines and columns are printed 1-based, columns in code
points (SARIF says so with `columnKind`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from clearsight import __version__
from clearsight.checks.base import Rule
from clearsight.cli.runner import FileResult, read_file, text_of
from clearsight.engine import all_rules
from clearsight.explain import plain_summary
from clearsight.model import Finding, Severity, Span
from clearsight.notebook import CellMap
from clearsight.source import SourceText

INFORMATION_URI = "https://github.com/clearsight-dev/clearsight"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def _source_lines(result: FileResult) -> list[str]:
    if result.text is not None:
        return SourceText(result.text).lines
    raw = None if result.unreadable else read_file(Path(result.path))
    return SourceText(text_of(raw, result.path)).lines if isinstance(raw, bytes) else []


def _placed(cells: CellMap | None, span: Span) -> tuple[int | None, Span]:
    """A span as it is shown: in a notebook, its cell (1-based) and the span in that cell's
    lines (an end in another cell is cut to the start)."""
    if cells is None:
        return None, span
    cell, line = cells.locate(span.start.line)
    end_cell, end_line = cells.locate(span.end.line)
    end = (end_line, span.end.column) if end_cell == cell else (line, span.start.column)
    return cell, Span.of(line, span.start.column, *end)


# C0 controls and DEL shown as their Unicode "control pictures" (one character each, so the
# caret under a source line stays aligned): a message or line never breaks the one-line
# format or sends escape sequences to the terminal. Tabs are expanded separately.
_CONTROL_PICTURES = {code: 0x2400 + code for code in range(0x20) if code != 0x09}
_CONTROL_PICTURES[0x7F] = 0x2421


def _printable(text: str) -> str:
    return text.translate(_CONTROL_PICTURES)


def format_text(results: list[FileResult], color: bool = False) -> str:
    def paint(text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if color else text

    colors = {Severity.ERROR: "31", Severity.WARNING: "33", Severity.INFO: "36", Severity.HINT: "2"}
    out: list[str] = []
    for result in results:
        if not result.findings:
            continue
        lines = _source_lines(result)
        for finding in result.findings:
            start = finding.span.start
            cell, shown = _placed(result.cells, finding.span)
            in_cell = f"cell {cell}:" if cell is not None else ""
            position = f"{shown.start.line + 1}:{shown.start.column + 1}:"
            where = paint(f"{_printable(result.path)}:{in_cell}{position}", "1")
            code = paint(finding.code, colors[finding.severity])
            message = _printable(finding.message)
            out.append(f"{where} {code} [{finding.severity.label}] {message}")
            if 0 <= start.line < len(lines) and lines[start.line].strip():
                text = (
                    lines[start.line].expandtabs(4)
                    if "\t" in lines[start.line]
                    else lines[start.line]
                )
                out.append(f"    {_printable(text)}")
                prefix = lines[start.line][: start.column]
                indent = len(prefix.expandtabs(4)) if "\t" in prefix else len(prefix)
                end = finding.span.end
                width = max(1, end.column - start.column) if end.line == start.line else 1
                out.append("    " + " " * indent + paint("^" * width, colors[finding.severity]))
    return "\n".join(out) + ("\n" if out else "")


def summary_line(results: list[FileResult]) -> str:
    count = sum(len(r.findings) for r in results)
    files = len(results)
    by_severity = {s: 0 for s in Severity}
    for result in results:
        for finding in result.findings:
            by_severity[finding.severity] += 1
    parts = ", ".join(f"{n} {s.label}" for s, n in by_severity.items() if n)
    noun = "finding" if count == 1 else "findings"
    return f"Found {count} {noun} in {files} file{'s' if files != 1 else ''}" + (
        f" ({parts})." if parts else "."
    )


def finding_json(path: str, finding: Finding, cells: CellMap | None = None) -> dict[str, Any]:
    """`cells`: a notebook's, whose findings name their cell (1-based) and lines in it."""
    data = finding.to_dict()
    cell, span = _placed(cells, finding.span)
    start, end = span.start, span.end
    data.pop("span")
    if cells is not None:
        data["related"] = [_in_cell(entry, cells) for entry in data.get("related", [])]
        for fix in data.get("fixes", []):
            fix["edits"] = [_in_cell(edit, cells) for edit in fix.get("edits", [])]
    return {
        "path": path,
        **({"cell": cell} if cell is not None else {}),
        "line": start.line + 1,
        "column": start.column + 1,
        "end_line": end.line + 1,
        "end_column": end.column + 1,
        **data,
    }


def _in_cell(entry: dict[str, Any], cells: CellMap) -> dict[str, Any]:
    """A related location's or a fix edit's dict with its span in its cell's lines and the
    cell named (those in other files kept as they are)."""
    if entry.get("path") is not None or "span" not in entry:
        return entry
    span = entry["span"]
    start, end = span["start"], span["end"]
    cell, moved = _placed(
        cells, Span.of(start["line"], start["column"], end["line"], end["column"])
    )
    as_dict = {
        "start": {"line": moved.start.line, "column": moved.start.column},
        "end": {"line": moved.end.line, "column": moved.end.column},
    }
    return {**entry, "cell": cell, "span": as_dict}


def _fingerprints(result: FileResult) -> list[dict[str, str]]:
    """Per finding, what matches it in a later run (`--baseline`), when worked out."""
    if result.placed is None:
        return [{} for _ in result.findings]
    return [{"fingerprint": p.fingerprint, "line_hash": p.line_hash} for p in result.placed]


def format_json(results: list[FileResult], shard: dict[str, Any] | None = None) -> str:
    """`shard`: what a shard's report says of its run (`clearsight merge` reads it)."""
    findings = [
        {**finding_json(r.path, f, r.cells), **marks}
        for r in results
        for f, marks in zip(r.findings, _fingerprints(r), strict=True)
    ]
    document = {
        "tool": "clearsight",
        "version": __version__,
        "files_checked": len(results),
        "findings": findings,
        **({"shard": shard} if shard is not None else {}),
    }
    return json.dumps(document, indent=2) + "\n"


def format_statistics(results: list[FileResult], as_json: bool = False) -> str:
    """How many findings of each code, most first (ruff's --statistics): the count, the
    code, its severity (the most severe seen), how many carry a safe fix, and what it is."""
    rules = {rule.code: rule for rule in all_rules()}
    counts: dict[str, list[Finding]] = {}
    for result in results:
        for finding in result.findings:
            counts.setdefault(finding.code, []).append(finding)
    rows = []
    for code, found in sorted(counts.items(), key=lambda item: (-len(item[1]), item[0])):
        rule = rules.get(code)
        rows.append({
            "code": code,
            "count": len(found),
            "severity": min(f.severity for f in found).name.lower(),
            "fixable": sum(1 for f in found if any(fix.safe for fix in f.fixes)),
            "name": plain_summary(rule.summary, code) if rule else found[0].message,
        })  # fmt: skip
    if as_json:
        return json.dumps(rows, indent=2) + "\n"
    width = max((len(str(row["count"])) for row in rows), default=1)
    code_width = max((len(row["code"]) for row in rows), default=4)
    lines = [
        f"{row['count']:>{width}}  {row['code']:<{code_width}}  {row['severity']:<7}  "
        + (f"[{row['fixable']} fixable] " if row["fixable"] else "") + row["name"]
        for row in rows
    ]  # fmt: skip
    return "".join(line + "\n" for line in lines)


_SARIF_LEVEL = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFO: "note",
    Severity.HINT: "note",
}


def _cell_property(cell: int | None) -> dict[str, Any]:
    """A SARIF location's property bag naming a notebook's cell (1-based)."""
    return {"properties": {"cell": cell}} if cell is not None else {}


def _related_locations(
    finding: Finding, own: dict[str, Any], cells: CellMap | None = None
) -> list[dict[str, Any]]:
    out = []
    for number, related in enumerate(finding.related, start=1):
        artifact, cell, span = own, None, related.span
        if related.path is not None:
            uri, relative = artifact_uri(related.path)
            artifact = {"uri": uri, **({"uriBaseId": "%SRCROOT%"} if relative else {})}
        else:
            cell, span = _placed(cells, span)
        out.append(
            {
                "id": number,
                "message": {"text": related.message},
                "physicalLocation": {
                    "artifactLocation": artifact,
                    "region": {"startLine": span.start.line + 1},
                },
                **_cell_property(cell),
            }
        )
    return out


def _code_flows(
    finding: Finding, own: dict[str, Any], cells: CellMap | None = None
) -> list[dict[str, Any]]:
    """A dataflow finding's path as one SARIF thread flow: the source, each step, the sink."""
    steps = []
    for related in finding.related:
        artifact, cell, span = own, None, related.span
        if related.path is not None:
            uri, relative = artifact_uri(related.path)
            artifact = {"uri": uri, **({"uriBaseId": "%SRCROOT%"} if relative else {})}
            region: dict[str, Any] = {"startLine": span.start.line + 1}
        else:
            cell, span = _placed(cells, span)
            region = {
                "startLine": span.start.line + 1,
                "startColumn": span.start.column + 1,
                "endLine": span.end.line + 1,
                "endColumn": span.end.column + 1,
            }
        steps.append((artifact, region, related.message, cell))
    sink_cell, sink = _placed(cells, finding.span)
    start, end = sink.start, sink.end
    sink_region = {
        "startLine": start.line + 1,
        "startColumn": start.column + 1,
        "endLine": end.line + 1,
        "endColumn": end.column + 1,
    }
    if not any(message.startswith("sink:") for _, _, message, _ in steps):
        steps.append((own, sink_region, "sink: " + finding.message.split(":", 1)[0], sink_cell))
    locations = [
        {
            "location": {
                "physicalLocation": {"artifactLocation": artifact, "region": region},
                "message": {"text": message},
                **_cell_property(cell),
            }
        }
        for artifact, region, message, cell in steps
    ]
    return [{"threadFlows": [{"locations": locations}]}]


# GitHub code scanning ranks security alerts by this score (CVSS-like, 0-10).
_SECURITY_SEVERITY = {Severity.ERROR: "8.0", Severity.WARNING: "5.5", Severity.INFO: "2.0"}


def _sarif_rule(rule: Rule) -> dict[str, Any]:
    # SARIF's tags are a set (uniqueItems); "security" is the tag GitHub code scanning reads.
    tags = [rule.family.value]
    properties: dict[str, Any] = {"tags": tags}
    cwe = _rule_cwe(rule)
    if cwe is not None:
        tags.append(f"external/cwe/cwe-{cwe}")
        properties["security-severity"] = _SECURITY_SEVERITY.get(rule.default_severity, "2.0")
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.help},
        "help": {
            "text": f"{rule.help}\n{rule.docs_url}",
            "markdown": f"{rule.help}\n\n[Documentation]({rule.docs_url})",
        },
        "helpUri": rule.docs_url,
        "defaultConfiguration": {"level": _SARIF_LEVEL[rule.default_severity]},
        "properties": properties,
    }


def _rule_cwe(rule: Rule) -> int | None:
    """The CWE of a dataflow rule (its help ends with it), None for other rules."""
    if not rule.code.startswith("CS-S") or not rule.help.endswith(")"):
        return None
    tail = rule.help.rsplit("(CWE-", 1)
    return int(tail[1][:-1]) if len(tail) == 2 and tail[1][:-1].isdigit() else None


def artifact_uri(path: str) -> tuple[str, bool]:
    """A URI relative to the working directory (GitHub maps it onto the repository).

    The path is reported as given (a symbolic link is not replaced by its target) and
    percent-encoded, so spaces, `%`, `#` or `:` in file names still make a valid URI.
    """
    absolute = Path(os.path.abspath(path))
    base = Path.cwd().resolve()
    # The path as given, then with its folder resolved (a path through a linked folder).
    for candidate in (absolute, absolute.parent.resolve() / absolute.name):
        try:
            relative = candidate.relative_to(base).as_posix()
        except ValueError:
            continue
        return quote(relative, safe="/", errors="surrogateescape"), True
    return "file://" + quote(absolute.as_posix(), safe="/", errors="surrogateescape"), False


def _directory_uri(directory: Path) -> str:
    uri = directory.resolve().as_uri()
    return uri if uri.endswith("/") else uri + "/"


def format_sarif(
    results: list[FileResult],
    extra: Callable[[Finding], dict[str, Any]] | None = None,
    run_properties: dict[str, Any] | None = None,
) -> str:
    """`extra` gives more properties for a finding's result (a review's `baselineState`),
    `run_properties` the run's own (the review's base)."""
    rules = {rule.code: rule for rule in all_rules()}
    used: dict[str, int] = {}
    driver_rules: list[dict[str, Any]] = []
    sarif_results: list[dict[str, Any]] = []
    for result in results:
        uri, relative = artifact_uri(result.path)
        for finding, marks in zip(result.findings, _fingerprints(result), strict=True):
            if finding.code not in used:
                rule = rules.get(finding.code) or Rule(
                    finding.code, finding.code.lower(), finding.family, finding.message,
                    finding.message, finding.docs_url, finding.severity,
                )  # fmt: skip
                used[finding.code] = len(driver_rules)
                driver_rules.append(_sarif_rule(rule))
            cell, span = _placed(result.cells, finding.span)
            start, end = span.start, span.end
            location: dict[str, Any] = {"uri": uri}
            if relative:
                location["uriBaseId"] = "%SRCROOT%"
            entry: dict[str, Any] = {
                "ruleId": finding.code,
                "ruleIndex": used[finding.code],
                "level": _SARIF_LEVEL[finding.severity],
                "message": {"text": finding.message},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": location,
                            "region": {
                                "startLine": start.line + 1,
                                "startColumn": start.column + 1,
                                "endLine": end.line + 1,
                                "endColumn": end.column + 1,
                            },
                        },
                        **_cell_property(cell),
                    }
                ],
            }
            if finding.related:
                entry["relatedLocations"] = _related_locations(finding, location, result.cells)
                if finding.metrics.get("dataflow"):
                    entry["codeFlows"] = _code_flows(finding, location, result.cells)
            if finding.security is not None:
                entry["properties"] = {
                    "bandit_severity": finding.security.bandit_severity,
                    "confidence": finding.security.confidence,
                    "cwe": f"CWE-{finding.security.cwe}" if finding.security.cwe else None,
                }
            if marks:
                entry["partialFingerprints"] = {
                    "clearsight/v1": marks["fingerprint"],
                    "clearsight/line/v1": marks["line_hash"],
                }
            if extra is not None:
                entry.update(extra(finding))
            sarif_results.append(entry)
    document = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "clearsight",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": driver_rules,
                    }
                },
                "columnKind": "unicodeCodePoints",
                "originalUriBaseIds": {"%SRCROOT%": {"uri": _directory_uri(Path.cwd())}},
                "results": sarif_results,
                **({"properties": run_properties} if run_properties else {}),
            }
        ],
    }
    return json.dumps(document, indent=2) + "\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def format_github(results: list[FileResult]) -> str:
    """GitHub Actions workflow commands: one annotation per finding."""
    command = {
        Severity.ERROR: "error",
        Severity.WARNING: "warning",
        Severity.INFO: "notice",
        Severity.HINT: "notice",
    }
    out = []
    for result in results:
        path = _escape_property(Path(result.path).as_posix())
        for finding in result.findings:
            cell, span = _placed(result.cells, finding.span)
            start, end = span.start, span.end
            title = finding.code + (f" (cell {cell})" if cell is not None else "")
            properties = (
                f"file={path},line={start.line + 1},col={start.column + 1},"
                f"endLine={end.line + 1},endColumn={end.column + 1},"
                f"title={_escape_property(title)}"
            )
            message = _escape_data(f"{finding.code} {finding.message}")
            out.append(f"::{command[finding.severity]} {properties}::{message}")
    return "\n".join(out) + ("\n" if out else "")


FORMATTERS: dict[str, Callable[[list[FileResult]], str]] = {
    "json": format_json,
    "sarif": format_sarif,
    "github": format_github,
}
