"""What the history says week by week: who wrote the Python lines added (people, AI tools,
or both), and which distributions the project declared and dropped.

**Authorship** of a commit's added lines, from the provenance family's evidence:
- *ai*: the commit's author or committer is an agent, or a git-ai note gives the lines to
  an AI tool;
- *mixed*: the commit names an AI co-author or tool (a trailer such as `Co-authored-by:
  Claude`, or "Generated with …" in its message): an AI took part, but which lines are whose
  is not recorded;
- *human*: nothing in the commit says an AI took part (or a git-ai note gives the lines to
  a person);
- *unknown*: the commit's metadata could not be read.
Every non-merge commit of the window is counted, including those a merge brought in.

**Dependencies**: the distributions declared (pyproject.toml, setup.cfg, requirements
files; read by the dependency family's reader from git objects) at each revision of the
window, compared with the revision before. A newly declared name is judged as the review
judges it: not on PyPI (possibly hallucinated), or a typo away from a popular one.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from clearsight.deps.project import Declarations
from clearsight.gitrun import GitError, run_git
from clearsight.provenance.commits import commit_attribution
from clearsight.provenance.git import CommitInfo, commit_infos
from clearsight.provenance.model import AuthorKind, Evidence
from clearsight.provenance.notes import parse_note
from clearsight.report.history import GIT_SECONDS, Revision, is_python_path, tree_files
from clearsight.review.dependencies import (
    declarations_at,
    is_declaration_file,
    is_lock,
    judge,
    project_folder,
)

KINDS = ("human", "ai", "mixed", "unknown")
_MIXED_EVIDENCE = frozenset({Evidence.GIT_TRAILER, Evidence.GIT_MESSAGE})


def week_of(seconds: int) -> str:
    """The Monday (ISO week start, UTC) of a moment, as YYYY-MM-DD."""
    day = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).date()
    return (day - datetime.timedelta(days=day.weekday())).isoformat()


@dataclass
class WeekAuthorship:
    week: str
    lines: Counter[str] = field(default_factory=Counter)  # kind: added lines
    tools: Counter[str] = field(default_factory=Counter)  # "claude (opus-4)": ai+mixed lines
    commits: int = 0


@dataclass(frozen=True)
class DeclaredChange:
    week: str
    commit: str
    name: str
    change: str  # "added" or "removed"
    where: str  # "pyproject.toml", "api/requirements.txt"
    verdict: str = ""  # "", "not-on-pypi" or "typosquat"
    detail: str = ""


def _commits(root: Path, chosen: list[Revision]) -> list[tuple[str, int, dict[str, int]]]:
    """(commit, committer time, added lines per path) of every non-merge commit of the
    window, with `git log --numstat`."""
    oldest = chosen[0]
    spec = [f"{oldest.parents[0]}..{chosen[-1].commit}"] if oldest.parents else [chosen[-1].commit]
    out = run_git(
        root, "-c", "core.quotePath=false", "log", "--no-merges", "--no-renames", "--numstat",
        "--format=%x1e%H %ct", *spec, "--", timeout=GIT_SECONDS,
    )  # fmt: skip
    found = []
    for record in out.decode("utf-8", "surrogateescape").split("\x1e"):
        lines = record.strip("\n").split("\n")
        head = lines[0].split(" ")
        if len(head) != 2:
            continue
        added: dict[str, int] = {}
        for row in lines[1:]:
            parts = row.split("\t")
            if len(parts) == 3 and parts[0].isdigit():
                added[parts[2]] = int(parts[0])
        found.append((head[0], int(head[1]), added))
    return found


def _split(info: CommitInfo | None, added: dict[str, int]) -> tuple[Counter[str], Counter[str]]:
    """(added lines by kind, AI-involved lines by tool) of one commit."""
    kinds: Counter[str] = Counter()
    tools: Counter[str] = Counter()
    total = sum(added.values())
    if info is None:
        kinds["unknown"] += total
        return kinds, tools
    attribution = commit_attribution(info)
    noted = parse_note(info.note, info.commit).files if info.note else {}
    for path, count in added.items():
        ranges = noted.get(path)
        if ranges:  # a git-ai note says which lines are an AI tool's
            remaining = count
            for first, last, who in ranges:
                if who.kind is AuthorKind.AI and remaining:
                    take = min(last - first + 1, remaining)
                    remaining -= take
                    kinds["ai"] += take
                    tools[_tool(who.tool, who.model)] += take
            kinds["human"] += remaining
            continue
        if not attribution.is_ai:
            kinds["human"] += count
            continue
        kind = "mixed" if attribution.evidence in _MIXED_EVIDENCE else "ai"
        kinds[kind] += count
        tools[_tool(attribution.tool, attribution.model)] += count
    return kinds, tools


def _tool(tool: str | None, model: str | None) -> str:
    name = tool or "an unnamed AI tool"
    return f"{name} ({model})" if model else name


def authorship(
    root: Path, chosen: list[Revision], kept: Callable[[str], bool]
) -> list[WeekAuthorship]:
    """Added Python lines per week by kind, oldest week first (`kept`: the report's paths)."""
    if not chosen:
        return []
    commits = _commits(root, chosen)
    try:
        infos = commit_infos(root, [commit for commit, _, _ in commits])
    except GitError:
        infos = {}
    weeks: dict[str, WeekAuthorship] = {}
    for commit, time, added in commits:
        python = {p: n for p, n in added.items() if is_python_path(p) and kept(p)}
        if not python:
            continue
        week = weeks.setdefault(week_of(time), WeekAuthorship(week_of(time)))
        kinds, tools = _split(infos.get(commit), python)
        week.lines.update(kinds)
        week.tools.update(tools)
        week.commits += 1
    return [weeks[key] for key in sorted(weeks)]


def _declared(root: Path, commit: str, folders: list[str]) -> dict[tuple[str, str], str]:
    """(project folder, normalised name) -> the name as written, at one revision."""
    found: dict[tuple[str, str], str] = {}
    for folder in folders:
        declarations: Declarations = declarations_at(root, commit, folder)
        for requirement in declarations.requirements:
            found.setdefault((folder, requirement.key), requirement.name)
    return found


def dependency_timeline(root: Path, chosen: list[Revision]) -> list[DeclaredChange]:
    """Declared distributions added and removed, revision by revision (the first revision
    compared with its parent, when it has one)."""
    changes: list[DeclaredChange] = []
    previous: dict[tuple[str, str], str] | None = None
    previous_files: frozenset[tuple[str, str]] | None = None
    start = chosen[0].parents[0] if chosen and chosen[0].parents else None
    steps = ([start] if start else []) + [r.commit for r in chosen]
    times = {r.commit: r.time for r in chosen}
    for commit in steps:
        try:
            files = tree_files(root, commit)
        except GitError:
            continue  # a shallow clone's boundary
        declaring = frozenset(
            (path, blob) for path, (_mode, blob) in files.items()
            if is_declaration_file(path) and not is_lock(path)
        )  # fmt: skip
        if declaring == previous_files and previous is not None:
            continue  # the same declaration files: the same distributions
        folders = sorted({project_folder(path) for path, _ in declaring})
        now = _declared(root, commit, folders)
        if previous is not None and commit in times:
            changes += _compare(previous, now, commit, week_of(times[commit]))
        previous, previous_files = now, declaring
    return changes


def _compare(
    before: dict[tuple[str, str], str], after: dict[tuple[str, str], str], commit: str, week: str
) -> list[DeclaredChange]:
    found = []
    for key in sorted(after.keys() - before.keys()):
        name = after[key]
        verdict, detail = judge(name)
        where = key[0] or "."
        found.append(DeclaredChange(week, commit, name, "added", where, verdict, detail))
    for key in sorted(before.keys() - after.keys()):
        where = key[0] or "."
        found.append(DeclaredChange(week, commit, before[key], "removed", where))
    return found
