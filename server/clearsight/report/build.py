"""Making the risk report: every distinct file content of the chosen revisions analysed once
(through the finding cache, so a later report costs only what changed), then per revision
the open findings by family and severity (wily's view of a history), per file at HEAD its
risk (a hotspot), and per function its complexity at the start of the window and now and
how many revisions changed it.

A file's risk, stated so it can be explained (each part capped, then added):
- open findings: an error 8, a warning 4, an information 1 (as in the review; up to 40);
- churn: 3 per commit of the window that changed the file (up to 30);
- complexity: its worst function's points above the limit (up to 20), and 5 more when the
  module's maintainability rank is C;
- AI-written lines nobody reviewed: 20 times their share of the file's lines.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from clearsight.checks.complexity import complexity_facts
from clearsight.checks.new_dependency import NEW_DEPENDENCY
from clearsight.cli.cache import FindingCache
from clearsight.cli.runner import run_contents, tune_garbage_collector
from clearsight.model import Finding, Severity
from clearsight.provenance import report as provenance_report
from clearsight.provenance.service import SERVICE
from clearsight.report.history import (
    Revision,
    Snapshot,
    first_parent_files,
    is_shallow,
    read_blobs,
    snapshots,
)
from clearsight.report.timeline import (
    DeclaredChange,
    WeekAuthorship,
    authorship,
    dependency_timeline,
)
from clearsight.review.changes import FIX_SUBJECT
from clearsight.review.risk import SEVERITY_WEIGHT
from clearsight.settings import Settings
from clearsight.source import SourceText

MAX_FILE_BYTES = 4_000_000  # as the engine's analysis limit
TOP_FINDINGS = 10


@dataclass(frozen=True)
class FunctionFact:
    complexity: int
    line: int  # 1-based
    digest: str  # of its lines: a different digest means the revision changed it


@dataclass
class FileState:
    """One file content (a path at a blob), analysed."""

    findings: list[Finding]
    lines: int  # lines of code (radon's SLOC), or every line when it does not parse
    parses: bool
    functions: dict[str, FunctionFact] = field(default_factory=dict)
    rank: str | None = None  # maintainability rank


@dataclass
class RevisionSummary:
    revision: Revision
    files: int
    lines: int
    counts: dict[str, dict[str, int]]  # family: severity: open findings
    unparsed: int  # files that do not parse

    @property
    def total(self) -> int:
        return sum(sum(by.values()) for by in self.counts.values())


@dataclass
class Hotspot:
    path: str
    lines: int
    risk: float
    reasons: list[str]
    severities: dict[str, int]
    top: list[Finding]
    churn: int  # commits of the window that changed it
    fixes: int  # of them, those whose subject says they fix something
    worst_function: str | None
    worst_complexity: int
    rank: str | None
    ai_lines: int = 0
    unreviewed_ai_lines: int = 0


@dataclass
class FunctionTrend:
    path: str
    name: str
    line: int
    complexity: int
    before: int | None  # at the window's first revision; None: added since
    changes: int  # revisions of the window that changed it


@dataclass
class Report:
    root: Path
    revisions: list[RevisionSummary]
    hotspots: list[Hotspot]
    functions: list[FunctionTrend]
    limit: int  # the complexity limit at the root
    authorship: list[WeekAuthorship] = field(default_factory=list)
    dependencies: list[DeclaredChange] = field(default_factory=list)
    unreviewed_ai_lines: int = 0  # at HEAD, in every file of the report
    notes: list[str] = field(default_factory=list)


def history_settings(settings: Settings) -> Settings:
    """The settings a past revision is analysed with: provenance findings are about the
    working tree's ledger, and new dependencies about a base, so both are left out."""
    provenance = replace(settings.provenance, enabled=False)
    return replace(settings, provenance=provenance, ignore=(*settings.ignore, NEW_DEPENDENCY))


FACTS_VERSION = "facts-1"  # the cached shape below; a new shape, a new version


def file_facts(job: tuple[bytes, str]) -> dict[str, Any]:
    """What the report needs of one content besides its findings, as JSON (cached, and
    worked out in worker processes): lines of code, whether it parses, its maintainability
    rank and its functions' complexity, line and text digest."""
    raw, path = job
    source = SourceText.from_bytes(raw, path)
    unparsed = {"lines": len(source.lines), "parses": False, "rank": None, "functions": {}}
    if source.tree is None:
        return unparsed
    try:
        facts = complexity_facts(source)
    except (ValueError, RecursionError, MemoryError):
        return unparsed
    lines = source.text.split("\n")
    functions = {}
    for block in facts.blocks:
        if block.kind == "class":
            continue
        body = "\n".join(line.rstrip() for line in lines[block.line - 1 : block.end_line])
        digest = hashlib.sha1(body.encode("utf-8", "surrogatepass"), usedforsecurity=False)
        functions[block.name] = [block.complexity, block.line, digest.hexdigest()]
    rank = facts.maintainability.rank if facts.raw.sloc else None
    return {"lines": facts.raw.sloc, "parses": True, "rank": rank, "functions": functions}


def _state(facts: dict[str, Any], findings: list[Finding]) -> FileState:
    functions = {
        name: FunctionFact(int(c), int(line), str(digest))
        for name, (c, line, digest) in facts["functions"].items()
    }
    return FileState(findings, facts["lines"], facts["parses"], functions, facts["rank"])


def _all_facts(
    jobs_list: list[tuple[bytes, str]], jobs: int, cache: FindingCache | None
) -> list[dict[str, Any]]:
    """`file_facts` of each content: from the cache, else worked out (in parallel)."""
    keys = [FindingCache.key(raw, path, FACTS_VERSION) for raw, path in jobs_list]
    found: list[dict[str, Any] | None] = [None] * len(jobs_list)
    if cache is not None:
        for index, key in enumerate(keys):
            entry = cache.get_json(key)
            if isinstance(entry, dict) and set(entry) == {"lines", "parses", "rank", "functions"}:
                found[index] = entry
    missing = [i for i, entry in enumerate(found) if entry is None]
    work = [jobs_list[i] for i in missing]
    if jobs > 1 and len(work) >= 8:
        with ProcessPoolExecutor(max_workers=jobs, initializer=tune_garbage_collector) as pool:
            computed = list(pool.map(file_facts, work, chunksize=4))
    else:
        computed = [file_facts(job) for job in work]
    for index, facts in zip(missing, computed, strict=True):
        found[index] = facts
        if cache is not None:
            cache.put_json(keys[index], facts)
    return [entry for entry in found if entry is not None]


def analyse_states(
    root: Path,
    wanted: set[tuple[str, str]],
    settings_for: Callable[[Path], Settings],
    jobs: int,
    cache: FindingCache | None,
    progress: Callable[[int], None] | None = None,
) -> dict[tuple[str, str], FileState]:
    """Each (path, blob) analysed once; the cache makes unchanged contents free."""
    ordered = sorted(wanted)
    states: dict[tuple[str, str], FileState] = {}
    step = 500  # blobs read and analysed together: bounded memory
    for start in range(0, len(ordered), step):
        part = ordered[start : start + step]
        contents = read_blobs(root, {blob for _, blob in part})
        analysable = [
            (key, contents[key[1]]) for key in part
            if key[1] in contents and len(contents[key[1]]) <= MAX_FILE_BYTES
        ]  # fmt: skip
        results = run_contents(
            [(raw, root / path) for (path, _), raw in analysable],
            lambda p: history_settings(settings_for(p)), jobs, cache, progress,
        )  # fmt: skip
        facts = _all_facts([(raw, str(root / path)) for (path, _), raw in analysable], jobs, cache)
        for ((path, blob), _raw), result, fact in zip(analysable, results, facts, strict=True):
            states[(path, blob)] = _state(fact, result.findings)
        for path, blob in part:
            raw = contents.get(blob)
            if raw is not None and (path, blob) not in states:  # too big: listed only
                states[(path, blob)] = FileState([], raw.count(b"\n") + 1, parses=False)
    return states


def _counts(states: list[FileState]) -> dict[str, dict[str, int]]:
    counts: dict[str, Counter[str]] = {}
    for state in states:
        for finding in state.findings:
            counts.setdefault(finding.family.value, Counter())[finding.severity.name.lower()] += 1
    return {family: dict(by) for family, by in sorted(counts.items())}


@dataclass
class Plan:
    """What a report reads: the revisions' files, and the distinct contents to analyse."""

    root: Path
    chosen: list[Revision]
    shots: list[Snapshot]
    wanted: set[tuple[str, str]]  # (path, blob)
    kept: Callable[[str], bool]  # whether a path is in the report


def plan_report(
    root: Path,
    chosen: list[Revision],
    paths: tuple[str, ...] = (),
    excluded: Callable[[str], bool] = lambda path: False,
) -> Plan:
    """`paths`: folders or files (from the root) the report is limited to; `excluded`:
    whether the project's settings leave a path out."""

    def kept(path: str) -> bool:
        inside = not paths or any(path == p or path.startswith(p.rstrip("/") + "/") for p in paths)
        return inside and not excluded(path)

    shots = snapshots(root, chosen)
    for shot in shots:
        shot.files = {path: blob for path, blob in shot.files.items() if kept(path)}
    wanted = {(p, b) for s in shots for p, b in s.files.items()}
    return Plan(root, chosen, shots, wanted, kept)


def build_report(
    plan: Plan,
    settings_for: Callable[[Path], Settings],
    jobs: int = 1,
    cache: FindingCache | None = None,
    progress: Callable[[int], None] | None = None,
) -> Report:
    """`progress` is told of each distinct content analysed (`len(plan.wanted)` in all)."""
    root, shots = plan.root, plan.shots
    notes: list[str] = []
    states = analyse_states(root, plan.wanted, settings_for, jobs, cache, progress)
    summaries = [_summary(shot, states) for shot in shots]
    limit = settings_for(root / "__init__.py").complexity.max_complexity
    hotspots, functions = _head(root, shots, states, settings_for, limit, jobs)
    if is_shallow(root):
        notes.append(
            "this is a shallow clone: the history goes back only to the commits fetched "
            "(`git fetch --unshallow` for all of it)"
        )
    if not shots or not shots[-1].files:
        notes.append("HEAD has no Python files to report on")
    unparsed = [p for p, b in shots[-1].files.items() if not states[(p, b)].parses] if shots else []
    if unparsed:
        names = ", ".join(sorted(unparsed)[:5]) + (" …" if len(unparsed) > 5 else "")
        notes.append(
            f"{len(unparsed)} file(s) at HEAD do not parse, so have no complexity: {names}"
        )
    weeks = authorship(root, plan.chosen, plan.kept)
    declared = dependency_timeline(root, plan.chosen)
    unreviewed = sum(h.unreviewed_ai_lines for h in hotspots)
    return Report(root, summaries, hotspots, functions, limit, weeks, declared, unreviewed, notes)


def _summary(shot: Snapshot, states: dict[tuple[str, str], FileState]) -> RevisionSummary:
    present = [states[(p, b)] for p, b in shot.files.items() if (p, b) in states]
    return RevisionSummary(
        shot.revision,
        files=len(present),
        lines=sum(s.lines for s in present),
        counts=_counts(present),
        unparsed=sum(1 for s in present if not s.parses),
    )


def _head(
    root: Path,
    shots: list[Snapshot],
    states: dict[tuple[str, str], FileState],
    settings_for: Callable[[Path], Settings],
    limit: int,
    jobs: int,
) -> tuple[list[Hotspot], list[FunctionTrend]]:
    """Hotspots and function trends of the files at HEAD, following renames back."""
    if not shots:
        return [], []
    churn: Counter[str] = Counter()
    fixes: Counter[str] = Counter()
    changes: dict[str, Counter[str]] = {}
    before: dict[str, dict[str, FunctionFact]] = {}
    previous = first_parent_files(root, shots[0].revision)
    for index, shot in enumerate(shots):
        fixing = bool(FIX_SUBJECT.search(shot.revision.subject))
        for new, old in shot.renamed.items():  # the history follows the file
            for table in (churn, fixes):
                if old in table:
                    table[new] += table.pop(old)
            if old in changes:
                changes[new] = changes.pop(old)
            if old in before:
                before[new] = before.pop(old)
        for path, blob in shot.files.items():
            old_blob = previous.get(shot.renamed.get(path, path))
            state = states.get((path, blob))
            if index == 0 and state is not None:
                before[path] = state.functions
            if old_blob == blob:
                continue
            churn[path] += 1
            fixes[path] += fixing
            if index == 0 or state is None:
                continue
            old_state = states.get((shot.renamed.get(path, path), old_blob or ""))
            old_functions = old_state.functions if old_state else {}
            for name, fact in state.functions.items():
                if old_functions.get(name) is None or old_functions[name].digest != fact.digest:
                    changes.setdefault(path, Counter())[name] += 1
        previous = shot.files
    head = shots[-1]
    commits = len(shots)
    hotspots = []
    functions = []
    ai = _head_ai_lines(root, head, settings_for, jobs)
    for path, blob in sorted(head.files.items()):
        state = states.get((path, blob))
        if state is None:
            continue
        spot = _hotspot(path, state, churn[path], fixes[path], commits, limit, ai.get(path, (0, 0)))
        hotspots.append(spot)
        for name, fact in state.functions.items():
            was = before.get(path, {}).get(name)
            count = changes.get(path, Counter())[name]
            trend = FunctionTrend(
                path, name, fact.line, fact.complexity, was.complexity if was else None, count
            )
            functions.append(trend)
    hotspots.sort(key=lambda h: (-h.risk, h.path))
    functions.sort(key=lambda f: (-(f.complexity * (1 + f.changes)), f.path, f.line))
    return hotspots, functions


def _hotspot(
    path: str,
    state: FileState,
    churn: int,
    fixes: int,
    commits: int,
    limit: int,
    ai: tuple[int, int],
) -> Hotspot:
    severities = Counter(f.severity.name.lower() for f in state.findings)
    points = min(40.0, sum(SEVERITY_WEIGHT[f.severity] for f in state.findings))
    reasons = []
    if points:
        shown = ", ".join(
            _plural(severities[s.name.lower()], s.name.lower())
            for s in Severity
            if severities[s.name.lower()] and s is not Severity.HINT
        )
        reasons.append(f"open findings: {shown}")
    churn_points = min(30.0, 3.0 * churn)
    if churn:
        said = f"changed by {churn} of the last {commits} commits"
        reasons.append(said + (f" ({fixes} say they fix something)" if fixes else ""))
    worst = max(state.functions.items(), key=lambda item: item[1].complexity, default=None)
    worst_complexity = worst[1].complexity if worst else 0
    complexity_points = min(20.0, max(0, worst_complexity - limit))
    if worst and worst_complexity > limit:
        reasons.append(f"{worst[0]} has complexity {worst_complexity} (limit {limit})")
    if state.rank == "C":
        complexity_points += 5
        reasons.append("maintainability rank C")
    ai_lines, unreviewed = ai
    ai_points = 20.0 * unreviewed / state.lines if state.lines else 0.0
    if unreviewed:
        reasons.append(f"{unreviewed} AI-written line(s) not reviewed")
    risk = round(points + churn_points + complexity_points + min(20.0, ai_points), 1)
    top = sorted(state.findings, key=lambda f: (f.severity, f.span.start.line))[:TOP_FINDINGS]
    return Hotspot(
        path, state.lines, risk, reasons, dict(severities), top, churn, fixes,
        worst[0] if worst else None, worst_complexity, state.rank, ai_lines, unreviewed,
    )  # fmt: skip


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


def _head_ai_lines(
    root: Path, head: Snapshot, settings_for: Callable[[Path], Settings], jobs: int
) -> dict[str, tuple[int, int]]:
    """Per file at HEAD, its AI-written lines and the unreviewed ones (blame runs in git,
    so threads overlap them)."""
    if not settings_for(root / "__init__.py").provenance.enabled:
        return {}
    texts = read_blobs(root, head.files.values())
    paths = [p for p, b in sorted(head.files.items()) if b in texts]

    def one(path: str) -> tuple[int, int]:
        return _ai_lines(root, path, texts[head.files[path]], settings_for(root / path))

    with ThreadPoolExecutor(max_workers=max(1, jobs) * 2) as pool:
        return dict(zip(paths, pool.map(one, paths), strict=True))


def _ai_lines(root: Path, path: str, contents: bytes, settings: Settings) -> tuple[int, int]:
    """AI-written lines of the file at HEAD, and of them the ones in unreviewed blocks."""
    source = SourceText.from_bytes(contents, str(root / path))
    summary = provenance_report.summarize(path, SERVICE.file_provenance(source, settings, True))
    unreviewed = sum(block.last - block.first + 1 for block in summary.unreviewed)
    return summary.ai_lines, unreviewed
