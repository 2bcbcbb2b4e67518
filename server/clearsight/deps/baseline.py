"""A file as it was at a git base revision (`HEAD` by default), read with the git binary.

git runs with a fixed argument list (never a shell), in the repository's folder, with a
time limit; a revision from the settings that starts with `-` is refused, so it cannot be
read as an option. Anything that goes wrong (git missing, not a repository, a repository
without commits, an unknown revision, a time-out) means "no base": the caller reports
nothing.

Costs are kept off the edit path by caching: the repository of a folder; the base commit
per repository and revision, re-asked only when git's own files change (`HEAD`, its
reflog, `packed-refs`, `FETCH_HEAD`); the Python files' blob ids and sizes per commit (one
`git ls-tree`); the blob's contents per blob id. A warm look-up runs no git process.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

from clearsight import disk_view, gitrun

GIT_TIMEOUT = 5.0  # seconds, per git command
_STAMP_FILES = ("HEAD", "logs/HEAD", "packed-refs", "FETCH_HEAD", "ORIG_HEAD")
_MAX_BLOB_BYTES = 4_000_000
_COMPARED_SUFFIXES = (".py", ".pyi", ".pyw", ".ipynb")  # notebooks: their code cells
# "Not a repository" is asked again after this long (`git init` in an open workspace).
_RECHECK_SECONDS = 10.0


@dataclass(frozen=True)
class Repository:
    top: Path  # the work tree's top folder
    git_dir: Path  # where git keeps its files (a worktree's own folder for worktrees)


@dataclass(frozen=True)
class BaseFile:
    """The file at the base revision."""

    commit: str  # full commit id of the base
    revision: str  # as configured ("HEAD", "origin/main")
    relative: str  # the file's path in the repository, with `/`
    text: str | None  # None: the file is not in the base (a new file)
    blob: str | None = None  # the blob id of its contents at the base


def run_git(repository_folder: Path, *arguments: str) -> str | None:
    """git's standard output, or None when git is missing, fails or takes too long."""
    try:
        out = gitrun.run_git(repository_folder, *arguments, timeout=GIT_TIMEOUT)
    except gitrun.GitError:
        return None
    return out.decode("utf-8", "surrogateescape")


def valid_revision(revision: str) -> bool:
    """A revision that git cannot take for an option or a path outside the repository."""
    return bool(revision.strip()) and not revision.startswith("-") and "\0" not in revision


class _Baseline:
    def __init__(self) -> None:
        self._repositories: dict[str, tuple[float, Repository | None]] = {}
        self._ignored: dict[tuple[str, str], bool] = {}
        self._commits: dict[tuple[str, str], tuple[tuple[int, ...], str | None]] = {}
        self._trees: dict[tuple[str, str], dict[str, tuple[str, int]] | None] = {}
        self._texts: dict[str, str | None] = {}
        self._lock = threading.Lock()

    def repository(self, folder: Path) -> Repository | None:
        """The work tree holding `folder`. git is asked only in the folder that has the
        `.git` entry (found by walking up), so a tree of folders costs one git run."""
        key = str(folder)
        cached = self._repositories.get(key)
        if cached is not None and (cached[1] is not None or time.monotonic() < cached[0]):
            return cached[1]
        found = None
        if (folder / ".git").exists():
            output = run_git(folder, "rev-parse", "--show-toplevel", "--absolute-git-dir")
            lines = output.splitlines() if output else []
            if len(lines) == 2:
                found = Repository(Path(lines[0]), Path(lines[1]))
        elif folder.parent != folder:
            found = self.repository(folder.parent)
        with self._lock:
            self._repositories[key] = (time.monotonic() + _RECHECK_SECONDS, found)
        return found

    def commit(self, repository: Repository, revision: str) -> str | None:
        """The base commit id, or None (no commits yet, unknown revision)."""
        if not valid_revision(revision):
            return None
        stamp = _git_stamp(repository.git_dir, revision)
        key = (str(repository.top), revision)
        cached = self._commits.get(key)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        output = run_git(
            repository.top, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"
        )
        commit = output.strip() if output else None
        with self._lock:
            self._commits[key] = (stamp, commit or None)
        return commit or None

    def tree(self, repository: Repository, commit: str) -> dict[str, tuple[str, int]] | None:
        """Every Python file of the commit: path -> (blob id, size), from one `git ls-tree`
        (one git run per commit, not one per file)."""
        key = (str(repository.top), commit)
        if key in self._trees:
            return self._trees[key]
        output = run_git(repository.top, "ls-tree", "-r", "-l", "-z", "--full-tree", commit)
        found = None if output is None else _python_blobs(output)
        with self._lock:
            if len(self._trees) > 16:
                self._trees.clear()
            self._trees[key] = found
        return found

    def ignored(self, repository: Repository, relative: str) -> bool:
        """True for a file git ignores (generated, scratch): it has no base and is not new."""
        key = (str(repository.top), relative)
        if key not in self._ignored:
            # `check-ignore` exits 0 for an ignored path (and prints it), 1 otherwise.
            output = run_git(repository.top, "check-ignore", "--", relative)
            with self._lock:
                self._ignored[key] = bool(output and output.strip())
        return self._ignored[key]

    def text(self, repository: Repository, blob: str, size: int) -> str | None:
        if blob in self._texts:
            return self._texts[blob]
        text = None
        if size <= _MAX_BLOB_BYTES:
            text = run_git(repository.top, "cat-file", "blob", blob)
        with self._lock:
            if len(self._texts) > 4096:
                self._texts.clear()
            self._texts[blob] = text
        return text


def _python_blobs(listing: str) -> dict[str, tuple[str, int]]:
    """`git ls-tree -r -l -z` entries (`MODE TYPE ID SIZE<TAB>PATH`) of Python sources and
    notebooks."""
    found = {}
    for entry in listing.split("\0"):
        header, _, path = entry.partition("\t")
        fields = header.split()
        if len(fields) == 4 and fields[1] == "blob" and path.endswith(_COMPARED_SUFFIXES):
            size = fields[3]
            found[path] = (fields[2], int(size) if size.isdigit() else _MAX_BLOB_BYTES + 1)
    return found


def _git_stamp(git_dir: Path, revision: str) -> tuple[int, ...]:
    """Changes whenever HEAD or the ref may have moved (commit, checkout, fetch, reset)."""
    stamps = []
    names = list(_STAMP_FILES)
    if revision != "HEAD":
        names.extend(f"{kind}/{revision}" for kind in ("refs/heads", "refs/remotes", "refs/tags"))
    for name in names:
        status = disk_view.stat(str(git_dir / name))
        stamps.extend((-1, -1) if status is None else (status.st_mtime_ns, status.st_size))
    return tuple(stamps)


BASELINE = _Baseline()


def base_file(path: str, revision: str = "HEAD") -> BaseFile | None:
    """The file at the base revision; None when there is no base to compare with (not a
    file on disk, not in a git work tree, git missing, no commits yet, unknown revision).
    A file the base does not have comes back with `text=None`."""
    if path.startswith("<"):
        return None
    absolute = Path(path).absolute()
    repository = BASELINE.repository(absolute.parent)
    if repository is None:
        return None
    commit = BASELINE.commit(repository, revision)
    if commit is None:
        return None
    try:
        relative = absolute.resolve().relative_to(repository.top.resolve()).as_posix()
    except ValueError:
        return None
    tree = BASELINE.tree(repository, commit)
    if tree is None:
        return None
    if relative not in tree:
        if BASELINE.ignored(repository, relative):
            return None
        return BaseFile(commit, revision, relative, None)
    blob, size = tree[relative]
    text = BASELINE.text(repository, blob, size)
    if text is None:
        return None  # unreadable or too large: no comparison
    return BaseFile(commit, revision, relative, text, blob)


def base_commit(path: Path, revision: str = "HEAD") -> str:
    """The base commit id for a file's repository ("" without one): part of the CLI
    cache key, since new-dependency findings change when the base moves."""
    repository = BASELINE.repository(path.absolute().parent)
    if repository is None:
        return ""
    return BASELINE.commit(repository, revision) or ""
