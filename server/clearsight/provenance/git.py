"""The few git questions provenance asks, through `clearsight.gitrun` (no shell, fixed
arguments, timeouts, repository settings that could run programs switched off); blame runs
with --no-textconv for the same reason.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from clearsight.gitrun import GitError, run_git

LOG = logging.getLogger(__name__)

NOTES_REF = "refs/notes/ai"
_UNIT, _RECORD = "\x1f", "\x1e"


def repository_root(path: Path) -> Path | None:
    """The work tree holding `path`, or None (not a repository, or git is unusable)."""
    directory = path if path.is_dir() else path.parent
    try:
        out = run_git(directory, "rev-parse", "--show-toplevel")
    except (GitError, FileNotFoundError, NotADirectoryError):
        return None
    return Path(out.decode("utf-8", "surrogateescape").strip())


def revision(root: Path, spec: str) -> str | None:
    """The object id `spec` names (a commit, or `HEAD:path` for a blob), or None."""
    try:
        out = run_git(root, "rev-parse", "--verify", "--quiet", spec)
    except GitError:
        return None
    return out.decode().strip() or None


def read_blob(root: Path, blob: str) -> bytes:
    return run_git(root, "cat-file", "blob", blob)


@dataclass(frozen=True)
class BlameLine:
    commit: str
    original_line: int  # 1-based, in the file as that commit left it
    original_path: str


def blame(root: Path, relative: str, rev: str) -> list[BlameLine]:
    """Per line of `relative` at `rev`: the commit that last changed it."""
    out = run_git(root, "blame", "--porcelain", "--no-textconv", rev, "--", relative)
    return parse_blame(out.decode("utf-8", "surrogateescape"))


def parse_blame(text: str) -> list[BlameLine]:
    lines: list[BlameLine] = []
    paths: dict[str, str] = {}
    header: list[str] | None = None
    for row in text.split("\n"):
        if row.startswith("\t"):
            if header is not None:
                commit = header[0]
                lines.append(BlameLine(commit, int(header[1]), paths.get(commit, "")))
            header = None
        elif header is None and row:
            header = row.split()
        elif header is not None and row.startswith("filename "):
            paths[header[0]] = row[len("filename ") :]
    return lines


@dataclass(frozen=True)
class CommitInfo:
    commit: str
    author: str  # "Name <email>"
    committer: str
    message: str
    trailers: tuple[tuple[str, str], ...]  # (lower-cased key, value)
    note: str = ""  # the git-ai note on refs/notes/ai, when there is one
    problems: tuple[str, ...] = field(default=(), compare=False)


def commit_infos(root: Path, commits: Iterable[str]) -> dict[str, CommitInfo]:
    wanted = sorted(set(commits))
    if not wanted:
        return {}
    fmt = _UNIT.join(["%H", "%an <%ae>", "%cn <%ce>", "%B", "%(trailers:only,unfold)", "%N"])
    out = run_git(
        root, "log", "--no-walk=unsorted", "--stdin", f"--notes={NOTES_REF}",
        f"--format={fmt}{_RECORD}", stdin="\n".join(wanted).encode(),
    )  # fmt: skip
    infos: dict[str, CommitInfo] = {}
    for record in out.decode("utf-8", "replace").split(_RECORD):
        parts = record.lstrip("\n").split(_UNIT)
        if len(parts) != 6:
            continue
        commit, author, committer, message, trailer_text, note = parts
        infos[commit] = CommitInfo(
            commit, author, committer, message, _trailers(trailer_text), note.strip()
        )
    return infos


def _trailers(text: str) -> tuple[tuple[str, str], ...]:
    pairs = []
    for row in text.splitlines():
        key, sep, value = row.partition(":")
        if sep and key.strip():
            pairs.append((key.strip().lower(), value.strip()))
    return tuple(pairs)


def user_identity(root: Path | None) -> str:
    """git's user.name <user.email>, as reviews record it; "unknown reviewer" without one."""
    values = []
    for key in ("user.name", "user.email"):
        try:
            values.append(run_git(root or Path.cwd(), "config", "--get", key).decode().strip())
        except GitError:
            values.append("")
    name, email = values
    if not name and not email:
        return "unknown reviewer"
    return f"{name} <{email}>" if email else name
