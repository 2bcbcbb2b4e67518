"""The project's history as the risk report reads it: the last revisions of the first-parent
line (each merge is one step, as it landed), the Python files of each as git stores them
(path and blob), and the renames between consecutive revisions. Everything comes from git
objects (`ls-tree`, `diff-tree`, `cat-file`), never a checkout.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from clearsight.cli.discovery import PYTHON_SUFFIXES, SKIPPED_DIRS
from clearsight.gitrun import GitError, run_git
from clearsight.review import changes

GIT_SECONDS = 300.0
DEFAULT_HISTORY = 50  # commits, when neither --history nor --since is given
_UNIT, _RECORD = "\x1f", "\x1e"
_SHA = re.compile(r"^[0-9a-f]{40}$")
_ENVIRONMENTS = frozenset({".venv", "venv", "env", ".env", "site-packages"})


class HistoryError(Exception):
    """The history cannot be read (not a repository, no commit): said to the user."""


@dataclass(frozen=True)
class Revision:
    commit: str
    parents: tuple[str, ...]
    time: int  # the committer's time, seconds since the epoch
    author: str  # "Name <email>"
    subject: str

    @property
    def short(self) -> str:
        return self.commit[:10]


@dataclass
class Snapshot:
    """One revision's Python files: path (from the repository root) to blob."""

    revision: Revision
    files: dict[str, str] = field(default_factory=dict)
    renamed: dict[str, str] = field(default_factory=dict)  # new path: path in the revision before


def _git(root: Path, *args: str, stdin: bytes | None = None) -> bytes:
    return run_git(root, "-c", "core.quotePath=false", *args, stdin=stdin, timeout=GIT_SECONDS)


def revisions(root: Path, limit: int | None, since: str | None = None) -> list[Revision]:
    """The last `limit` first-parent revisions up to HEAD (or those since `since`), oldest
    first."""
    fmt = _UNIT.join(("%H", "%P", "%ct", "%an <%ae>", "%s")) + _RECORD
    args = ["log", "--first-parent", f"--format={fmt}"]
    if limit is not None:
        args.append(f"--max-count={limit}")
    if since:
        args.append(f"--since={since}")
    try:
        out = _git(root, *args, "HEAD", "--")
    except GitError as error:
        raise HistoryError(f"no history to report on in {root} ({error})") from error
    found = []
    for record in out.decode("utf-8", "replace").split(_RECORD):
        parts = record.strip("\n").split(_UNIT)
        if len(parts) != 5 or not _SHA.match(parts[0]):
            continue
        commit, parents, time, author, subject = parts
        found.append(Revision(commit, tuple(parents.split()), int(time), author, subject))
    return found[::-1]


def is_shallow(root: Path) -> bool:
    try:
        return _git(root, "rev-parse", "--is-shallow-repository").strip() == b"true"
    except GitError:
        return False


def is_python_path(path: str) -> bool:
    """A Python file `clearsight check` would look at, by its path alone (tool and
    environment folders left out)."""
    parts = PurePosixPath(path).parts
    if not path.endswith(PYTHON_SUFFIXES) or not parts:
        return False
    return not any(part in SKIPPED_DIRS or part in _ENVIRONMENTS for part in parts[:-1])


def tree_files(root: Path, commit: str) -> dict[str, tuple[str, str]]:
    """Every regular file of a revision: path to (mode, blob)."""
    out = _git(root, "ls-tree", "-r", "-z", "--full-tree", commit)
    files: dict[str, tuple[str, str]] = {}
    for entry in out.decode("utf-8", "surrogateescape").split("\0"):
        meta, _, path = entry.partition("\t")
        fields = meta.split(" ")
        if len(fields) == 3 and fields[1] == "blob" and fields[0] in ("100644", "100755"):
            files[path] = (fields[0], fields[2])
    return files


def renames(root: Path, pairs: Iterable[tuple[str, str]]) -> dict[str, dict[str, str]]:
    """For each (revision, the one before it): its renamed files, new path to old path, as
    git's rename detection sees them (one `diff-tree --stdin` for all)."""
    lines = "".join(f"{commit} {before}\n" for commit, before in pairs)
    if not lines:
        return {}
    out = _git(
        root, "diff-tree", "--stdin", "-r", "-z", "-M", "--raw", "--diff-filter=R",
        stdin=lines.encode(),
    )  # fmt: skip
    found: dict[str, dict[str, str]] = {}
    tokens = out.decode("utf-8", "surrogateescape").split("\0")
    current = ""
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.startswith(":"):
            # ":old_mode new_mode old_blob new_blob R<score>", then the old and new paths.
            if index + 2 < len(tokens) and token.split(" ")[-1].startswith("R"):
                found.setdefault(current, {})[tokens[index + 2]] = tokens[index + 1]
                index += 3
                continue
            index += 1
            continue
        if _SHA.match(token):
            current = token
        index += 1
    return found


def snapshots(root: Path, chosen: list[Revision]) -> list[Snapshot]:
    """The Python files of each revision, with the renames from the revision before (the
    oldest revision's from its first parent, when it has one)."""
    pairs = []
    for index, revision in enumerate(chosen):
        before = chosen[index - 1].commit if index else (revision.parents or ("",))[0]
        if before:
            pairs.append((revision.commit, before))
    moved = renames(root, pairs)
    found = []
    for revision in chosen:
        files = {
            path: blob for path, (_mode, blob) in tree_files(root, revision.commit).items()
            if is_python_path(path)
        }  # fmt: skip
        found.append(Snapshot(revision, files, moved.get(revision.commit, {})))
    return found


def read_blobs(root: Path, blobs: Iterable[str], batch: int = 2000) -> dict[str, bytes]:
    """The contents of blobs, `batch` per `git cat-file --batch` (bounded memory in git's
    answer)."""
    wanted = list(dict.fromkeys(blobs))
    found: dict[str, bytes] = {}
    for start in range(0, len(wanted), batch):
        found.update(changes.read_blobs(root, wanted[start : start + batch], GIT_SECONDS))
    return found


def first_parent_files(root: Path, revision: Revision) -> dict[str, str]:
    """The Python files of the revision just before `revision` on its first parent
    (none for a root commit, or the boundary of a shallow clone)."""
    if not revision.parents:
        return {}
    try:
        files = tree_files(root, revision.parents[0])
    except GitError:
        return {}  # a shallow clone's boundary: the parent is not there
    return {path: blob for path, (_mode, blob) in files.items() if is_python_path(path)}
