"""What a change is, as git sees it: the base it is compared with, and the files and hunks
that differ between the base and the working tree (committed, staged and unstaged changes,
and untracked files that are not ignored).

Everything is read through `clearsight.gitrun` (no shell, fixed arguments, settings that
could run programs switched off) and from git objects: the base's files come from
`git cat-file --batch`, never from a checkout.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from clearsight.gitrun import GitError, run_git

SUBMODULE_MODE = "160000"
_EMPTY_BLOB = "0" * 40
_HUNK = re.compile(rb"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


class ReviewError(Exception):
    """The review cannot be made (not a repository, an unknown base): said to the user."""


@dataclass(frozen=True)
class Base:
    """The revision a change is compared with, and how it was chosen."""

    commit: str
    name: str  # as asked or found: "origin/main", "HEAD~3"
    how: str  # "given", "merge-base with origin/main", ...


@dataclass(frozen=True)
class Hunk:
    """Lines of one file that the change replaced: `old_count` lines from `old_start` of the
    base by `new_count` lines from `new_start` of the working tree (1-based; a count of 0
    means a pure insertion or deletion, after that line)."""

    old_start: int
    old_count: int
    new_start: int
    new_count: int

    @property
    def added(self) -> range:
        """The working tree's lines this hunk added, 0-based."""
        return range(self.new_start - 1, self.new_start - 1 + self.new_count)


@dataclass
class FileChange:
    path: str  # in the working tree, relative to the repository root, "/"-separated
    old_path: str | None  # in the base; None for a file the change added
    status: str  # "added", "modified", "deleted", "renamed", "copied", "type-changed"
    old_blob: str | None = None
    binary: bool = False
    submodule: bool = False
    hunks: list[Hunk] = field(default_factory=list)
    added: int = 0
    removed: int = 0
    similarity: int | None = None  # for a rename, git's percentage

    @property
    def added_lines(self) -> set[int]:
        return {line for hunk in self.hunks for line in hunk.added}

    @property
    def is_python(self) -> bool:
        return self.path.endswith((".py", ".pyi")) and not self.binary and not self.submodule


@dataclass
class Change:
    root: Path
    base: Base
    files: list[FileChange]
    notes: list[str] = field(default_factory=list)  # what the user should know (shallow, ...)


# A review of a large change may take git a while; the editor asks with a shorter limit.
REVIEW_GIT_SECONDS = 300.0


def _git(
    root: Path, *args: str, stdin: bytes | None = None, timeout: float = REVIEW_GIT_SECONDS
) -> bytes:
    return run_git(root, "-c", "core.quotePath=false", *args, stdin=stdin, timeout=timeout)


def repository_root(folder: Path, timeout: float = REVIEW_GIT_SECONDS) -> Path:
    try:
        out = _git(folder, "rev-parse", "--show-toplevel", timeout=timeout)
    except GitError as error:
        raise ReviewError(f"{folder} is not in a git repository ({error})") from error
    return Path(out.decode("utf-8", "surrogateescape").strip())


def _commit(root: Path, name: str, timeout: float = REVIEW_GIT_SECONDS) -> str | None:
    try:
        out = _git(
            root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{name}^{{commit}}",
            timeout=timeout,
        )  # fmt: skip
    except GitError:
        return None
    return out.decode().strip() or None


def _merge_base(root: Path, commit: str, timeout: float = REVIEW_GIT_SECONDS) -> str | None:
    try:
        out = _git(root, "merge-base", "HEAD", commit, timeout=timeout)
        return out.decode().strip() or None
    except GitError:
        return None


def _is_shallow(root: Path, timeout: float = REVIEW_GIT_SECONDS) -> bool:
    try:
        out = _git(root, "rev-parse", "--is-shallow-repository", timeout=timeout)
        return out.strip() == b"true"
    except GitError:
        return False


def operation_in_progress(root: Path, timeout: float = REVIEW_GIT_SECONDS) -> str | None:
    """ "rebase" while a rebase (or `git am`) is stopped half-way: the working tree is then
    neither the branch nor its base."""
    try:
        out = _git(
            root, "rev-parse", "--git-path", "rebase-merge", "--git-path", "rebase-apply",
            timeout=timeout,
        )  # fmt: skip
    except GitError:
        return None
    for line in out.decode("utf-8", "surrogateescape").splitlines():
        found = Path(line.strip())
        if line.strip() and (found if found.is_absolute() else root / found).exists():
            return "rebase"
    return None


def detached_head(root: Path, timeout: float = REVIEW_GIT_SECONDS) -> bool:
    try:
        _git(root, "symbolic-ref", "--quiet", "HEAD", timeout=timeout)
    except GitError:
        return True
    return False


def resolve_base(root: Path, requested: str | None, timeout: float = REVIEW_GIT_SECONDS) -> Base:
    """The base of the review: the one asked for; else the merge-base of HEAD with its
    upstream branch, `origin/HEAD`, `main` or `master`; else HEAD itself (the uncommitted
    changes)."""
    if requested:
        commit = _commit(root, requested, timeout)
        if commit is None:
            hint = (
                " This is a shallow clone: fetch the base too (`git fetch --deepen`, or "
                "`fetch-depth: 0` in actions/checkout)."
                if _is_shallow(root, timeout)
                else ""
            )
            raise ReviewError(f"the base {requested!r} is not a commit of this repository.{hint}")
        return Base(commit, requested, "given")
    for candidate in (
        "@{upstream}",
        "origin/HEAD",
        "main",
        "master",
        "origin/main",
        "origin/master",
    ):
        commit = _commit(root, candidate, timeout)
        if commit is None:
            continue
        merge_base = _merge_base(root, commit, timeout)
        if merge_base is not None:
            name = "the upstream branch" if candidate == "@{upstream}" else candidate
            return Base(merge_base, candidate, f"merge-base of HEAD with {name}")
    head = _commit(root, "HEAD", timeout)
    if head is None:
        raise ReviewError("the repository has no commit yet to compare with")
    return Base(head, "HEAD", "HEAD (no upstream, origin/HEAD, main or master)")


def collect_change(root: Path, base: Base, paths: Sequence[str] = ()) -> Change:
    """The files and hunks that differ between `base` and the working tree, under `paths`
    (relative to `root`; all when empty)."""
    limit = ["--", *paths] if paths else []
    common = ("--no-color", "--no-ext-diff", "--no-textconv", "-M")
    raw = _git(root, "diff", *common, "--raw", "-z", "--abbrev=40", base.commit, *limit)
    files = _parse_raw(raw)
    patch = _git(root, "diff", *common, "-U0", "--submodule=short", base.commit, *limit)
    _add_hunks(files, patch)
    untracked = _git(root, "ls-files", "--others", "--exclude-standard", "-z", *limit)
    for name in untracked.decode("utf-8", "surrogateescape").split("\0"):
        if name:
            files.append(_untracked(root, name))
    notes: list[str] = []
    conflicted = _git(root, "diff", "--name-only", "--diff-filter=U", "-z")
    if conflicted.strip(b"\0"):
        names = ", ".join(n for n in conflicted.decode("utf-8", "replace").split("\0") if n)
        notes.append(f"the working tree has unresolved conflicts ({names}): reviewed as it is")
    if _is_shallow(root):
        notes.append("this is a shallow clone: churn counts only the commits fetched")
    files.sort(key=lambda f: f.path)
    return Change(root, base, files, notes)


_STATUS = {
    "A": "added", "M": "modified", "D": "deleted", "R": "renamed", "C": "copied",
    "T": "type-changed", "U": "modified",
}  # fmt: skip


def _parse_raw(raw: bytes) -> list[FileChange]:
    """`git diff --raw -z`: ":old_mode new_mode old_sha new_sha status\\0path\\0[path\\0]"."""
    fields = raw.decode("utf-8", "surrogateescape").split("\0")
    found: list[FileChange] = []
    index = 0
    while index < len(fields) and fields[index].startswith(":"):
        old_mode, new_mode, old_sha, _new_sha, status = fields[index][1:].split(" ")
        letter, score = status[0], status[1:]
        if letter in "RC":
            old_path, path = fields[index + 1], fields[index + 2]
            index += 3
        else:
            old_path = path = fields[index + 1]
            index += 2
        added = letter == "A"
        found.append(
            FileChange(
                path=path,
                old_path=None if added else old_path,
                status=_STATUS.get(letter, "modified"),
                old_blob=None if added or old_sha == _EMPTY_BLOB else old_sha,
                submodule=SUBMODULE_MODE in (old_mode, new_mode),
                similarity=int(score) if letter in "RC" and score.isdigit() else None,
            )
        )
    return found


def _add_hunks(files: list[FileChange], patch: bytes) -> None:
    """Hunks, added and removed line counts, and binary files, from `git diff -U0`: each
    file's section found by its header line (`a/old b/new`)."""
    by_header = {
        f"a/{f.old_path or f.path} b/{f.path}".encode("utf-8", "surrogateescape"): f for f in files
    }
    for section in re.split(rb"^diff --git ", patch, flags=re.MULTILINE):
        header, _, body = section.partition(b"\n")
        change = by_header.get(header)
        if change is None:  # a name git quoted (control characters): no hunks known
            continue
        for line in body.split(b"\n"):
            match = _HUNK.match(line)
            if match:
                old_start, old_count, new_start, new_count = (
                    int(g) if g is not None else 1 for g in match.groups()
                )
                change.hunks.append(Hunk(old_start, old_count, new_start, new_count))
                change.added += new_count
                change.removed += old_count
            elif line.startswith(b"Binary files ") or line == b"GIT binary patch":
                change.binary = True


def _untracked(root: Path, name: str) -> FileChange:
    change = FileChange(path=name, old_path=None, status="added")
    try:
        data = (root / name).read_bytes()
    except OSError:
        return change
    if b"\0" in data[:8000]:
        change.binary = True
        return change
    count = data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
    if count:
        change.hunks.append(Hunk(0, 0, 1, count))
    change.added = count
    return change


def read_blobs(
    root: Path, blobs: Iterable[str], timeout: float = REVIEW_GIT_SECONDS
) -> dict[str, bytes]:
    """The contents of git blobs, in one `git cat-file --batch`."""
    wanted = list(dict.fromkeys(blobs))
    if not wanted:
        return {}
    batch = "".join(f"{b}\n" for b in wanted).encode()
    out = _git(root, "cat-file", "--batch", stdin=batch, timeout=timeout)
    found: dict[str, bytes] = {}
    position = 0
    for blob in wanted:
        end = out.index(b"\n", position)
        header = out[position:end].split(b" ")
        position = end + 1
        if len(header) < 3 or header[1] == b"missing":
            continue
        size = int(header[2])
        found[blob] = out[position : position + size]
        position += size + 1
    return found


def list_tree(root: Path, commit: str, folder: str) -> list[str]:
    """The files of `folder` at `commit` and of its `requirements/` folder (paths from the
    repository root)."""
    prefix = f"{folder}/" if folder else ""
    found: list[str] = []
    for listed in (prefix, f"{prefix}requirements/"):
        out = _git(
            root, "ls-tree", "--name-only", "-z", commit, *(["--", listed] if listed else [])
        )
        found += [name for name in out.decode("utf-8", "surrogateescape").split("\0") if name]
    return found


FIX_SUBJECT = re.compile(r"\b(fix(e[sd])?|bug|hotfix|regression|revert)\b", re.IGNORECASE)


def commits_touching(
    root: Path, paths: Sequence[str], since: str = "90 days ago"
) -> dict[str, tuple[int, int]]:
    """For each path: how many commits changed it in the period, and how many of those say
    in their subject that they fix something (churn, and where bugs were)."""
    if not paths:
        return {}
    try:
        out = _git(
            root, "log", "--no-merges", "--no-renames", "--format=%x00%s", "--name-only",
            f"--since={since}", "--", *paths,
        )  # fmt: skip
    except GitError:
        return {}
    counts: dict[str, tuple[int, int]] = {}
    fixing = False
    for line in out.decode("utf-8", "surrogateescape").splitlines():
        if line.startswith("\0"):
            fixing = bool(FIX_SUBJECT.search(line))
        elif line.strip():
            commits, fixes = counts.get(line, (0, 0))
            counts[line] = (commits + 1, fixes + int(fixing))
    return counts
