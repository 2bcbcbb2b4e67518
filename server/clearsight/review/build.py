"""Making a review: the change (`changes`), each changed Python file analysed at the base
and in the working tree by the one engine (through the finding cache), the findings matched
(`compare`), complexity deltas, the AI-written share of the added lines (provenance), and
every hunk ranked by risk (`risk`).

Only files that differ are analysed, each side once; the base's files come from git
objects, never a checkout.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from clearsight.checks.new_dependency import NEW_DEPENDENCY
from clearsight.cli.cache import FindingCache
from clearsight.cli.runner import FileResult, run, run_contents
from clearsight.deps.imports import scan_imports
from clearsight.model import Finding
from clearsight.provenance.service import SERVICE
from clearsight.review.changes import Change, FileChange, commits_touching, read_blobs
from clearsight.review.compare import FileFindings, compare_file, match_moves
from clearsight.review.complexity import ComplexityChange, complexity_change
from clearsight.review.dependencies import DependencyChange, dependency_changes, placed
from clearsight.review.risk import HunkRisk, rank_hunks
from clearsight.settings import Settings
from clearsight.source import SourceText

MAX_FILE_BYTES = 4_000_000  # as the engine's analysis limit: larger files are only listed


@dataclass
class AIShare:
    """The AI-written part of a file's added lines."""

    lines: int = 0  # added lines attributed to an AI tool (or mixed)
    tools: dict[str, int] = field(default_factory=dict)  # "claude (opus-4)" -> lines
    unreviewed_blocks: list[tuple[int, int, str]] = field(default_factory=list)  # 1-based


@dataclass
class FileReview:
    change: FileChange
    findings: FileFindings | None = None  # None for files that are not analysed
    complexity: ComplexityChange | None = None
    ai: AIShare = field(default_factory=AIShare)
    commits: int = 0  # commits that touched the file in the last 90 days
    fixes: int = 0  # of them, those whose subject says it fixes something
    note: str = ""  # why the file was not analysed, if it was not
    unreadable: bool = False  # the working tree's file could not be read: the review is partial


@dataclass
class Review:
    change: Change
    files: list[FileReview]
    hunks: list[HunkRisk]
    moved: int  # findings that moved with their code from one file to another
    dependencies: list[DependencyChange] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # what could not be read, and why

    @property
    def introduced(self) -> list[tuple[str, Finding, str]]:
        """(path, finding, where) of every finding the change introduced."""
        return [
            (f.change.path, c.finding, c.where)
            for f in self.files
            if f.findings is not None
            for c in f.findings.introduced
        ]


def build_review(
    change: Change,
    settings_for: Callable[[Path], Settings],
    jobs: int = 1,
    cache: FindingCache | None = None,
    progress: Callable[[int], None] | None = None,
) -> Review:
    """`progress` is told of each file analysed, at the base or in the working tree (as
    many as `analysis_count(change)`)."""
    root, base = change.root, change.base

    def review_settings(path: Path) -> Settings:
        # New imports (CS-D006) are those the review's base did not have.
        settings = settings_for(path)
        return replace(settings, dependencies=replace(settings.dependencies, base=base.commit))

    reviews = [FileReview(f) for f in change.files]
    analysed = [r for r in reviews if _analysable(r, root)]
    blobs = read_blobs(root, [r.change.old_blob for r in analysed if r.change.old_blob])
    current = [r for r in analysed if r.change.status != "deleted"]
    new_results = run(
        [root / r.change.path for r in current], review_settings, jobs, cache, progress
    ).files
    new_by_path = dict(zip((r.change.path for r in current), new_results, strict=True))
    base_inputs = [
        (blobs[r.change.old_blob], root / (r.change.old_path or r.change.path), r.change.path)
        for r in analysed
        if r.change.old_blob in blobs
    ]
    base_results = run_contents(
        [(raw, path) for raw, path, _ in base_inputs], review_settings, jobs, cache, progress
    )
    base_by_path = {
        name: (raw, result)
        for (raw, _, name), result in zip(base_inputs, base_results, strict=True)
    }
    for entry in analysed:
        path = entry.change.path
        base_text, base_findings = _side(base_by_path.get(path))
        new_result = new_by_path.get(path)
        if new_result is not None and new_result.unreadable:
            # Not a deletion: the file is there, and what it says is unknown.
            entry.note = new_result.findings[0].message.rstrip(".")
            entry.unreadable = True
            continue
        new_text, new_findings = (None, [])
        if new_result is not None:
            new_text, new_findings = _text_of(new_result, root / path), new_result.findings
        if entry.change.old_path not in (None, path):
            new_findings = _imports_kept_through_rename(new_findings, base_text)
        entry.findings = compare_file(
            entry.change, base_text, base_findings, new_text, new_findings
        )
        limit = settings_for(root / path).complexity.max_complexity
        entry.complexity = complexity_change(base_text, new_text, path, limit)
        if new_text is not None:
            entry.ai = _ai_share(new_text, root / path, entry.change, settings_for(root / path))
    moved = match_moves([r.findings for r in analysed if r.findings is not None])
    _add_churn(root, reviews)
    declared, problems = dependency_changes(change)
    declared = placed(declared, change)
    return Review(change, reviews, rank_hunks(reviews, declared), moved, declared, problems)


def _imports_kept_through_rename(findings: list[Finding], base_text: str | None) -> list[Finding]:
    """CS-D006 knows a file by its path, so a renamed file looks new to it and all its
    imports new; the review knows the old path, and drops those the old file had."""
    if base_text is None:
        return findings
    old = SourceText(base_text)
    if old.tree is None:
        return findings
    before = {imported.top for imported in scan_imports(old).imports}
    return [
        f
        for f in findings
        if not (
            f.code == NEW_DEPENDENCY
            and f.metrics.get("new_file")
            and f.metrics.get("module") in before
        )
    ]


def analysis_count(change: Change) -> int:
    """How many analyses a review of `change` makes, at most (for a progress bar)."""
    python = [f for f in change.files if f.is_python]
    return sum(f.status != "deleted" for f in python) + sum(bool(f.old_blob) for f in python)


def _analysable(review: FileReview, root: Path) -> bool:
    change = review.change
    if change.submodule:
        review.note = "a submodule: its commits are not reviewed here"
    elif change.binary:
        review.note = "a binary file"
    elif not change.is_python:
        return False
    elif change.status != "deleted" and not (root / change.path).is_file():
        review.note = "not a regular file in the working tree"
    elif change.status != "deleted" and _size(root / change.path) > MAX_FILE_BYTES:
        review.note = f"larger than {MAX_FILE_BYTES:,} bytes: not analysed"
    else:
        return True
    return False


def _size(path: Path) -> int:
    """0 for a file gone since git listed it: reading it says why, as for any file."""
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _side(found: tuple[bytes, FileResult] | None) -> tuple[str | None, list[Finding]]:
    if found is None:
        return None, []
    raw, result = found
    text = result.text if result.text is not None else SourceText.from_bytes(raw, "").text
    return text, result.findings


def _text_of(result: FileResult, path: Path) -> str | None:
    if result.text is not None:
        return result.text
    try:
        return SourceText.from_bytes(path.read_bytes(), str(path)).text
    except OSError:
        return None


def _ai_share(text: str, path: Path, change: FileChange, settings: Settings) -> AIShare:
    share = AIShare()
    if not settings.provenance.enabled:
        return share
    added = change.added_lines
    try:
        provenance = SERVICE.file_provenance(SourceText(text, path=str(path)), settings)
    except (OSError, ValueError):
        return share
    ai_lines = provenance.ai_lines() & added
    share.lines = len(ai_lines)
    for unit in provenance.ai_units:
        lines = set(range(unit.unit.first, unit.unit.last + 1)) & ai_lines
        if lines:
            attribution = unit.attribution
            tool = (attribution.tool or "unknown tool") + (
                f" ({attribution.model})" if attribution.model else ""
            )
            share.tools[tool] = share.tools.get(tool, 0) + len(lines)
    for block in provenance.blocks():
        if not block.reviewed and any(block.first <= line <= block.last for line in added):
            share.unreviewed_blocks.append((block.first + 1, block.last + 1, block.scope))
    return share


def _add_churn(root: Path, reviews: Sequence[FileReview]) -> None:
    paths = [r.change.path for r in reviews if r.change.status != "added"]
    counts = commits_touching(root, paths)
    for review in reviews:
        commits, fixes = counts.get(review.change.path, (0, 0))
        review.commits, review.fixes = commits, fixes
