"""The plain data every front end consumes: findings, their ranges and their fixes.

Units are explicit: lines are 0-based, columns are *code points* into the line's text.
Byte offsets (bandit, ast) and UTF-16 units (LSP clients) are converted at the edges only
(see `clearsight.source.SourceText`).
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field, replace
from typing import Any


class Severity(enum.IntEnum):
    """How loudly a finding is shown. Values follow LSP's DiagnosticSeverity."""

    ERROR = 1
    WARNING = 2
    INFO = 3
    HINT = 4

    @classmethod
    def parse(cls, text: str) -> Severity:
        aliases = {"information": "info", "warn": "warning"}
        name = aliases.get(text.strip().lower(), text.strip().lower())
        return cls[name.upper()]

    @property
    def label(self) -> str:
        return self.name.lower()


class Family(str, enum.Enum):
    """The check family a finding belongs to."""

    COMPLEXITY = "complexity"
    SECURITY = "security"
    PROVENANCE = "provenance"
    DEPENDENCIES = "dependencies"
    PERFORMANCE = "performance"
    ENGINE = "engine"  # syntax errors, unreadable files, failing checks, bad settings


@dataclass(frozen=True, order=True)
class Position:
    line: int  # 0-based
    column: int  # 0-based, in code points


@dataclass(frozen=True, order=True)
class Span:
    start: Position
    end: Position

    @classmethod
    def of(cls, line: int, column: int, end_line: int, end_column: int) -> Span:
        return cls(Position(line, column), Position(end_line, end_column))

    @classmethod
    def point(cls, line: int, column: int = 0) -> Span:
        return cls(Position(line, column), Position(line, column))


@dataclass(frozen=True)
class TextEdit:
    span: Span
    new_text: str


@dataclass(frozen=True)
class Fix:
    """A change that resolves (or deliberately silences) a finding.

    `safe` fixes keep behaviour for every caller and may be applied in bulk (`--fix`,
    `source.fixAll`); unsafe ones are offered one at a time.
    """

    title: str
    edits: tuple[TextEdit, ...]
    safe: bool = True
    # The file the edits apply to when it is not the finding's own (declaring a dependency
    # edits pyproject.toml). Such a fix is never applied in bulk.
    path: str | None = None


@dataclass(frozen=True)
class SecurityDetail:
    test_id: str  # bandit's id, e.g. "B506"
    test_name: str  # bandit's plugin name, e.g. "yaml_load"
    bandit_severity: str  # LOW / MEDIUM / HIGH, as bandit reports it
    confidence: str  # LOW / MEDIUM / HIGH
    cwe: int | None  # CWE id, None when bandit gives none


@dataclass(frozen=True)
class Related:
    """Another place that explains a finding (LSP relatedInformation, SARIF relatedLocations)."""

    span: Span
    message: str
    path: str | None = None  # another file; None means the finding's own file


@dataclass(frozen=True)
class Finding:
    code: str  # stable: "CS-C001" for ours, "B506" for bandit's
    family: Family
    severity: Severity
    message: str
    span: Span
    docs_url: str = ""
    fixes: tuple[Fix, ...] = ()
    security: SecurityDetail | None = None
    # Machine-readable numbers behind the message (e.g. {"complexity": 12, "rank": "C"}).
    metrics: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    related: tuple[Related, ...] = ()

    @property
    def line(self) -> int:
        return self.span.start.line

    @property
    def column(self) -> int:
        return self.span.start.column

    def shifted(self, lines: int) -> Finding:
        """The same finding `lines` lines further down (for text analysed on its own)."""
        if not lines:
            return self

        def move(span: Span) -> Span:
            return Span(
                Position(span.start.line + lines, span.start.column),
                Position(span.end.line + lines, span.end.column),
            )

        fixes = tuple(
            fix
            if fix.path is not None  # another file's lines: they do not move
            else replace(fix, edits=tuple(TextEdit(move(e.span), e.new_text) for e in fix.edits))
            for fix in self.fixes
        )
        metrics = dict(self.metrics)
        if "bandit_line" in metrics:
            metrics["bandit_line"] += lines
        related = tuple(
            r if r.path is not None else replace(r, span=move(r.span)) for r in self.related
        )
        return replace(self, span=move(self.span), fixes=fixes, metrics=metrics, related=related)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["family"] = self.family.value
        data["severity"] = self.severity.label
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        def span(d: dict[str, Any]) -> Span:
            return Span(Position(**d["start"]), Position(**d["end"]))

        fixes = tuple(
            Fix(
                title=f["title"],
                edits=tuple(TextEdit(span(e["span"]), e["new_text"]) for e in f["edits"]),
                safe=f["safe"],
                path=f.get("path"),
            )
            for f in data.get("fixes", ())
        )
        security = data.get("security")
        return cls(
            code=data["code"],
            family=Family(data["family"]),
            severity=Severity.parse(data["severity"]),
            message=data["message"],
            span=span(data["span"]),
            docs_url=data.get("docs_url", ""),
            fixes=fixes,
            security=SecurityDetail(**security) if security else None,
            metrics=dict(data.get("metrics") or {}),
            related=tuple(
                Related(span(r["span"]), r["message"], r.get("path"))
                for r in data.get("related", ())
            ),
        )
