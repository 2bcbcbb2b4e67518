"""The risk report as plain data: what `clearsight report --format json` prints and what the
HTML page's charts are drawn from (documented in docs/report.md)."""

from __future__ import annotations

import datetime
from dataclasses import asdict
from typing import Any

from clearsight import __version__
from clearsight.model import Finding
from clearsight.report.build import Hotspot, Report, RevisionSummary
from clearsight.report.history import Revision
from clearsight.report.timeline import KINDS, WeekAuthorship

SCHEMA_VERSION = 1
FUNCTIONS_LISTED = 50


def _date(seconds: int) -> str:
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).isoformat(
        timespec="seconds"
    )


def _revision(revision: Revision) -> dict[str, Any]:
    return {
        "commit": revision.commit,
        "short": revision.short,
        "date": _date(revision.time),
        "author": revision.author,
        "subject": revision.subject,
        "merge": len(revision.parents) > 1,
    }


def _summary(summary: RevisionSummary) -> dict[str, Any]:
    return {
        **_revision(summary.revision),
        "files": summary.files,
        "lines": summary.lines,
        "unparsed": summary.unparsed,
        "findings": summary.counts,
        "total": summary.total,
    }


def _finding(finding: Finding) -> dict[str, Any]:
    return {
        "line": finding.span.start.line + 1,
        "column": finding.span.start.column + 1,
        "code": finding.code,
        "family": finding.family.value,
        "severity": finding.severity.name.lower(),
        "message": finding.message,
    }


def _hotspot(hotspot: Hotspot) -> dict[str, Any]:
    return {
        "path": hotspot.path,
        "lines": hotspot.lines,
        "risk": hotspot.risk,
        "reasons": hotspot.reasons,
        "findings": hotspot.severities,
        "top_findings": [_finding(f) for f in hotspot.top],
        "churn": hotspot.churn,
        "fixes": hotspot.fixes,
        "worst_function": hotspot.worst_function,
        "worst_complexity": hotspot.worst_complexity,
        "maintainability_rank": hotspot.rank,
        "ai_lines": hotspot.ai_lines,
        "unreviewed_ai_lines": hotspot.unreviewed_ai_lines,
    }


def _week(week: WeekAuthorship) -> dict[str, Any]:
    return {
        "week": week.week,
        "commits": week.commits,
        "lines": {kind: week.lines.get(kind, 0) for kind in KINDS},
        "tools": dict(week.tools.most_common()),
    }


def report_data(report: Report) -> dict[str, Any]:
    revisions = report.revisions
    return {
        "tool": "clearsight",
        "version": __version__,
        "schema": SCHEMA_VERSION,
        "root": str(report.root),
        "window": {
            "revisions": len(revisions),
            "first": _revision(revisions[0].revision) if revisions else None,
            "last": _revision(revisions[-1].revision) if revisions else None,
        },
        "complexity_limit": report.limit,
        "notes": report.notes,
        "revisions": [_summary(s) for s in revisions],
        "hotspots": [_hotspot(h) for h in report.hotspots],
        "functions": [asdict(f) for f in report.functions[:FUNCTIONS_LISTED]],
        "authorship": {
            "weeks": [_week(w) for w in report.authorship],
            "unreviewed_ai_lines": report.unreviewed_ai_lines,
        },
        "dependencies": [asdict(change) for change in report.dependencies],
    }
