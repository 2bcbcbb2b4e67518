"""The editor's "new code" mode: of a buffer's findings, keep those its change introduced
against the review's base, and those already there in code the change touched, marked
*adjacent* (SonarQube for IDE's "focus on new code"; reviewdog's users miss findings just
outside the diff). Same base resolution, fingerprints and matching as `clearsight review`.

Working out the base's findings costs one analysis of the base's text, kept by content; the
base itself is resolved again after a few seconds, so a moved HEAD or base is seen.
"""

from __future__ import annotations

import difflib
import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import replace
from pathlib import Path

from clearsight.engine import analyze
from clearsight.gitrun import GitError
from clearsight.model import Finding
from clearsight.review.changes import (
    FileChange,
    Hunk,
    ReviewError,
    detached_head,
    operation_in_progress,
    read_blobs,
    repository_root,
    resolve_base,
)
from clearsight.review.compare import compare_file
from clearsight.review.fingerprints import Placed, place, scopes_by_indent
from clearsight.review.notices import Notices
from clearsight.settings import Settings
from clearsight.source import SourceText

BASE_SECONDS = 3.0  # how long a resolved base is trusted before git is asked again
# Each git call of the editor's new code mode; past it the file shows every finding.
EDITOR_GIT_SECONDS = 10.0
_KEPT_ANALYSES = 64
ADJACENT_NOTE = " (Adjacent: there before this change, in code it touched.)"


def hunks_between(before: str, after: str) -> list[Hunk]:
    """The hunks turning `before` into `after`, numbered as git numbers them. The lines
    both share at the start and the end are set aside first: an edit is local, and difflib
    is quadratic in what is left."""
    old, new = before.splitlines(), after.splitlines()
    shortest = min(len(old), len(new))
    start = 0
    while start < shortest and old[start] == new[start]:
        start += 1
    end = 0
    while end < shortest - start and old[-1 - end] == new[-1 - end]:
        end += 1
    middle_old, middle_new = old[start : len(old) - end], new[start : len(new) - end]
    found = []
    matcher = difflib.SequenceMatcher(None, middle_old, middle_new)  # junk: popular lines
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        i1, i2, j1, j2 = i1 + start, i2 + start, j1 + start, j2 + start
        found.append(Hunk(i1 + 1 if i2 > i1 else i1, i2 - i1, j1 + 1 if j2 > j1 else j1, j2 - j1))
    return found


class ChangedScope:
    """Shared by the server's documents; safe to use from its worker threads."""

    def __init__(self, notices: Notices | None = None) -> None:
        self.notices = notices or Notices()
        self._lock = threading.Lock()
        self._roots: dict[Path, Path | None] = {}
        self._bases: dict[tuple[Path, str], tuple[float, str | None]] = {}
        self._blobs: dict[tuple[str, str], str | None] = {}
        # The base's findings, placed (fingerprinted), by its text's digest, path, settings.
        self._analyses: OrderedDict[tuple[str, str, str], list[Placed]] = OrderedDict()

    def base_text(self, path: str, requested: str | None) -> tuple[bool, str | None]:
        """(whether the file is under git with a base, its text at the base or None when
        the base does not have it)."""
        root = self._root(Path(path).parent)
        if root is None:
            return False, None
        commit = self._base(root, requested or "")
        if commit is None:
            return False, None
        try:
            relative = Path(path).resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            self.notices.say(f"outside:{root}", f"{path} is outside the repository {root}: every "
                      "finding of it is shown.")  # fmt: skip
            return False, None
        key = (commit, relative)
        with self._lock:
            if key in self._blobs:
                return True, self._blobs[key]
        try:
            blob = f"{commit}:{relative}"
            data = read_blobs(root, [blob], EDITOR_GIT_SECONDS).get(blob)
        except GitError as error:
            data = None
            message = f"{error}: {relative} is compared with an empty base."
            self.notices.say(f"blob:{error}", message)
        text = SourceText.from_bytes(data, path).text if data is not None else None
        with self._lock:
            if len(self._blobs) > 512:
                self._blobs.clear()
            self._blobs[key] = text
        return True, text

    def base_commit(self, path: str, requested: str | None) -> str:
        """The commit a file is compared with ("" when it cannot be)."""
        root = self._root(Path(path).parent)
        return (self._base(root, requested or "") or "") if root is not None else ""

    def same_as_base(self, path: str, text: str, requested: str | None) -> bool:
        """Whether the file is as the base has it: nothing in it is new (no need to
        analyse it)."""
        tracked, before = self.base_text(path, requested)
        return tracked and before == text

    def _root(self, folder: Path) -> Path | None:
        with self._lock:
            known = folder in self._roots
            root = self._roots.get(folder)
        if known:
            return root
        try:
            root = repository_root(folder, EDITOR_GIT_SECONDS)
        except (ReviewError, GitError, OSError) as error:
            root = None
            if "took more than" in str(error):
                self.notices.say(f"slow:{folder}", f"{error}: every finding is shown.")
            else:
                self.notices.say(
                    "no-git",
                    f"{folder} is not in a git repository: its files show every finding "
                    "(the new code mode compares with a git base).",
                )
        with self._lock:
            self._roots[folder] = root
        return root

    def forget_bases(self) -> None:
        """HEAD or a branch moved: resolve every base again at the next analysis."""
        with self._lock:
            self._bases.clear()

    def _base(self, root: Path, requested: str) -> str | None:
        now = time.monotonic()
        with self._lock:
            known = self._bases.get((root, requested))
        if known is not None and now - known[0] < BASE_SECONDS:
            return known[1]
        commit: str | None = None
        operation = operation_in_progress(root, EDITOR_GIT_SECONDS)
        if operation:
            self.notices.say(
                f"{operation}:{root}",
                f"a {operation} is in progress in {root}: every finding is shown until it ends.",
            )
        else:
            try:
                base = resolve_base(root, requested or None, EDITOR_GIT_SECONDS)
                commit = base.commit
                if detached_head(root, EDITOR_GIT_SECONDS):
                    self.notices.say(
                        f"detached:{root}:{commit}",
                        f"HEAD is detached in {root}: new code is what differs from "
                        f"{base.name} ({base.how}, {commit[:12]}).",
                        warning=False,
                    )
            except (ReviewError, GitError) as error:
                self.notices.say(f"base:{root}:{error}", f"{error}: every finding is shown.")
        with self._lock:
            self._bases[(root, requested)] = (now, commit)
        return commit

    def _base_findings(self, text: str, path: str, settings: Settings) -> list[Placed]:
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        key = (digest, path, settings.fingerprint())
        with self._lock:
            found = self._analyses.get(key)
            if found is not None:
                self._analyses.move_to_end(key)
                return found
        found = place(
            analyze(SourceText(text, path=path), path, settings), text, scopes_by_indent(text)
        )
        with self._lock:
            self._analyses[key] = found
            while len(self._analyses) > _KEPT_ANALYSES:
                self._analyses.popitem(last=False)
        return found

    def shown(
        self,
        path: str,
        text: str,
        findings: list[Finding],
        settings: Settings,
        base: str | None = None,
    ) -> list[Finding]:
        """The findings to show in "changed" mode: introduced, and adjacent ones marked.
        A file outside git (or with no base to compare with) shows them all; a file the base
        does not have is new, all its findings introduced. Definitions are found by
        indentation (`scopes_by_indent`) on both sides: no parse on every keystroke."""
        tracked, before = self.base_text(path, base)
        if not tracked or before is None:
            return findings
        if before == text:
            return []
        change = FileChange(path, path, "modified", hunks=hunks_between(before, text))
        placed = self._base_findings(before, path, settings)
        compared = compare_file(
            change, before, [p.finding for p in placed], text, findings,
            base_placed=placed, new_scopes=scopes_by_indent(text),
        )  # fmt: skip
        kept = [c.finding for c in compared.introduced]
        kept += [_adjacent(c.finding) for c in compared.kept if c.where != "outside"]
        return sorted(kept, key=lambda f: (f.span.start.line, f.span.start.column, f.code))


def _adjacent(finding: Finding) -> Finding:
    return replace(
        finding,
        message=finding.message + ADJACENT_NOTE,
        metrics={**finding.metrics, "review": "adjacent"},
    )
