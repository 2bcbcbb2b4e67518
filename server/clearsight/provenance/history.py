"""Attribution of the committed version of a file: blame + commit metadata + git-ai notes +
Agent Trace records, folded into statement keys so that the buffer can look them up by
content whatever has moved since."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from clearsight.notebook import code_line_origins, is_notebook, notebook_text
from clearsight.provenance import git
from clearsight.provenance.commits import commit_attribution
from clearsight.provenance.model import Attribution, combine_lines
from clearsight.provenance.notes import parse_note
from clearsight.provenance.trace import TRACE_PATH, TraceIndex, TraceRange, parse_traces
from clearsight.provenance.units import statement_units
from clearsight.source import SourceText


@dataclass(frozen=True)
class RootState:
    """What invalidates history attribution: HEAD, the notes ref, the trace file."""

    head: str | None
    notes: str | None
    trace_stamp: tuple[int, int] | None

    def stamp(self) -> tuple[str | None, str | None, tuple[int, int] | None]:
        return (self.head, self.notes, self.trace_stamp)


@dataclass
class HeadAttribution:
    stamp: tuple[object, ...]
    keys: dict[str, Attribution] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    tracked: bool = False
    blob: str | None = None  # the committed content's object id

    @property
    def has_ai(self) -> bool:
        return any(attribution.is_ai for attribution in self.keys.values())


def root_state(root: Path) -> RootState:
    try:
        stat = (root / TRACE_PATH).stat()
        trace_stamp: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
    except OSError:
        trace_stamp = None
    return RootState(git.revision(root, "HEAD"), git.revision(root, git.NOTES_REF), trace_stamp)


def read_traces(root: Path) -> TraceIndex:
    try:
        data = (root / TRACE_PATH).read_bytes()
    except FileNotFoundError:
        return TraceIndex()
    except OSError as error:
        return TraceIndex(problems=[f"{TRACE_PATH}: cannot read ({error})"])
    return parse_traces(data)


class CommitCache:
    """Commit metadata never changes for a commit id: read each once per process."""

    def __init__(self) -> None:
        self._infos: dict[str, git.CommitInfo] = {}
        self._lock = threading.Lock()

    def get(self, root: Path, commits: set[str]) -> dict[str, git.CommitInfo]:
        with self._lock:
            missing = commits - self._infos.keys()
        if missing:
            found = git.commit_infos(root, missing)
            with self._lock:
                self._infos.update(found)
        with self._lock:
            return {c: self._infos[c] for c in commits if c in self._infos}


COMMITS = CommitCache()
# git-ai notes by commit: path -> [(first, last) 1-based inclusive, attribution].
_NotedFiles = dict[str, dict[str, list[tuple[int, int, Attribution]]]]


def _in_ranges(ranges: list[tuple[int, int, Attribution]], line: int) -> Attribution | None:
    found = None
    for first, last, attribution in ranges:
        if first <= line <= last:
            found = attribution  # later ranges win, as later records do
    return found


def _trace_for_line(
    ranges: list[TraceRange], blamed: git.BlameLine, head_line: int, blamed_commits: set[str]
) -> Attribution | None:
    found = None
    for rng in ranges:
        # Ranges recorded against a commit that blame shows map through it; others are taken
        # to describe the committed file as it is now.
        if rng.revision and rng.revision in blamed_commits:
            line = blamed.original_line if blamed.commit == rng.revision else None
        else:
            line = head_line
        if line is not None and rng.first <= line <= rng.last:
            found = rng.attribution
    return found


def head_attribution(
    root: Path,
    relative: str,
    state: RootState,
    same_blob: Callable[[str], HeadAttribution | None] | None = None,
) -> HeadAttribution:
    """`same_blob(blob_id)` may return an earlier result for the same committed content
    (HEAD moved without touching the file): it is reused, not blamed again."""
    result = HeadAttribution(stamp=(relative, *state.stamp()))
    if state.head is None:
        return result  # a repository without commits
    blob = git.revision(root, f"HEAD:{relative}")
    if blob is None:
        return result  # not committed yet
    earlier = same_blob(blob) if same_blob else None
    if earlier is not None:
        return replace(earlier, stamp=result.stamp)
    result.tracked, result.blob = True, blob
    _attribute_blob(root, relative, blob, result)
    return result


def _attribute_blob(root: Path, relative: str, blob: str, result: HeadAttribution) -> None:
    """Blame the committed content and fold every line's evidence into `result`'s keys."""
    if _is_shallow(root):
        result.problems.append(
            "shallow clone: lines older than the oldest fetched commit are attributed to it; "
            "fetch the full history (git fetch --unshallow) for complete provenance"
        )
    raw = git.read_blob(root, blob)
    origins = code_line_origins(raw) if is_notebook(relative) else None
    if is_notebook(relative) and origins is None:
        return  # its code cannot be placed in git's lines: unknown, not guessed
    blamed = git.blame(root, relative, "HEAD")
    infos = COMMITS.get(root, {line.commit for line in blamed})
    traces = read_traces(root)
    result.problems.extend(traces.problems)
    notes = _notes_by_commit(infos, result.problems)
    trace_ranges = traces.files.get(relative, [])
    per_line = _line_attributions(blamed, relative, infos, notes, trace_ranges)
    if origins is not None:
        # A notebook: git's lines are its JSON's; statements are its joined code cells'.
        source = SourceText(notebook_text(raw), path=relative)
        per_line = [per_line[line] if line < len(per_line) else None for line in origins]
    else:
        source = SourceText.from_bytes(raw, relative)
    result.keys.update(_statement_attributions(source, per_line))


def _is_shallow(root: Path) -> bool:
    return git.run_git(root, "rev-parse", "--is-shallow-repository").strip() == b"true"


def _notes_by_commit(infos: dict[str, git.CommitInfo], problems: list[str]) -> _NotedFiles:
    """The blamed commits' git-ai notes, parsed; what cannot be read goes to `problems`."""
    notes: _NotedFiles = {}
    for commit, info in infos.items():
        if info.note:
            parsed = parse_note(info.note, commit)
            notes[commit] = parsed.files
            problems.extend(f"commit {commit[:7]}: {p}" for p in parsed.problems)
    return notes


def _line_attributions(
    blamed: list[git.BlameLine],
    relative: str,
    infos: dict[str, git.CommitInfo],
    notes: _NotedFiles,
    trace_ranges: list[TraceRange],
) -> list[Attribution | None]:
    """Each committed line's author. The most specific evidence wins: a git-ai note of the
    line's commit, then an Agent Trace record, then what the commit itself says."""
    commit_level = {commit: commit_attribution(info) for commit, info in infos.items()}
    blamed_commits = {line.commit for line in blamed}
    per_line: list[Attribution | None] = []
    for number, line in enumerate(blamed, start=1):
        noted = notes.get(line.commit, {}).get(line.original_path or relative)
        attribution = (
            (_in_ranges(noted, line.original_line) if noted else None)
            or _trace_for_line(trace_ranges, line, number, blamed_commits)
            or commit_level.get(line.commit)
        )
        per_line.append(attribution)
    return per_line


def _statement_attributions(
    source: SourceText, per_line: list[Attribution | None]
) -> dict[str, Attribution]:
    """Each statement's author from its lines' authors; statements with none are left out."""
    keys: dict[str, Attribution] = {}
    for unit in statement_units(source):
        lines = [per_line[i] for i in unit.lines() if i < len(per_line) and per_line[i]]
        if lines:
            keys[unit.key] = combine_lines([a for a in lines if a is not None])
    return keys
