"""A baseline: the findings of an earlier `clearsight check --format json` run, which are
not shown again (adopting Clearsight on a legacy codebase, as with bandit's `--baseline`
or SonarQube's new code period).

A finding is known by the fingerprint the review of a change uses (code, normalised line,
definition, occurrence), so code added or removed above an old finding does not bring it
back. A finding whose fingerprint is not in the baseline is matched again by its code and
line alone, once per baseline entry: the editor finds definitions by indentation and may
name one differently from the command line's syntax tree. Editing the finding's own line
brings it back, as it should: that line is new code.
"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from clearsight.model import Finding
from clearsight.review.fingerprints import Placed, place, scopes_by_indent
from clearsight.review.notices import Notices

_NO_FINGERPRINTS = (
    "{file} has no fingerprints: write it again with `clearsight check --format json "
    "-o {file}` (a report from before fingerprints, or another tool's)"
)


class BaselineError(Exception):
    """The baseline file cannot be used; the message says why, for the user."""


@dataclass
class _FileBaseline:
    exact: dict[str, tuple[str, str]] = field(default_factory=dict)  # fingerprint: loose key
    loose: Counter[tuple[str, str]] = field(default_factory=Counter)  # (code, line hash)


@dataclass
class Baseline:
    source: Path
    files: dict[str, _FileBaseline]  # by normalised absolute path
    skipped: int = 0  # malformed entries, left out
    hidden: int = 0  # findings it took out, counted by whoever filters with it

    @classmethod
    def load(cls, file: Path, relative_to: Path) -> Baseline:
        """The baseline in `file`; its relative paths are taken from `relative_to` (the
        folder the run that wrote it ran in). BaselineError when it cannot be used."""
        try:
            document = json.loads(file.read_bytes())
        except OSError as error:
            raise BaselineError(f"cannot read the baseline {file}: {error.strerror}") from error
        except (ValueError, UnicodeDecodeError) as error:
            raise BaselineError(f"the baseline {file} is not JSON: {error}") from error
        entries = document.get("findings") if isinstance(document, dict) else None
        if not isinstance(entries, list):
            raise BaselineError(
                f"the baseline {file} is not a report of `clearsight check --format json` "
                '(no "findings" list)'
            )
        files: dict[str, _FileBaseline] = {}
        skipped = 0
        for entry in entries:
            fields = _fields(entry)
            if fields is None:
                skipped += 1
                continue
            path, code, fingerprint, line_hash = fields
            known = files.setdefault(_key(path, relative_to), _FileBaseline())
            known.exact[fingerprint] = (code, line_hash)
            known.loose[(code, line_hash)] += 1
        if entries and not files:
            raise BaselineError(_NO_FINGERPRINTS.format(file=file))
        return cls(file, files, skipped)

    def new(self, path: str, placed: Sequence[Placed], relative_to: Path) -> list[Placed]:
        """Of one file's findings, those the baseline does not have, in the order given."""
        known = self.files.get(_key(path, relative_to))
        if known is None:
            return list(placed)
        loose = known.loose.copy()
        unmatched: list[int] = []
        for index, item in enumerate(placed):
            loose_key = known.exact.get(item.fingerprint)
            if loose_key is not None and loose_key[0] == item.finding.code:
                loose[loose_key] -= 1
            else:
                unmatched.append(index)
        hidden = set(range(len(placed))) - set(unmatched)
        for index in unmatched:
            key = (placed[index].finding.code, placed[index].line_hash)
            if loose[key] > 0:
                loose[key] -= 1
                hidden.add(index)
        return [item for index, item in enumerate(placed) if index not in hidden]


def _fields(entry: object) -> tuple[str, str, str, str] | None:
    if not isinstance(entry, dict):
        return None
    values = [entry.get(name) for name in ("path", "code", "fingerprint", "line_hash")]
    if not all(isinstance(value, str) and value for value in values):
        return None
    path, code, fingerprint, line_hash = values
    return path, code, fingerprint, line_hash  # type: ignore[return-value]


def _key(path: str, relative_to: Path) -> str:
    return os.path.normpath(os.path.join(relative_to, path))


class BaselineWatch:
    """The editor's baseline file, read again when it changes on disk (a new
    `clearsight check --format json -o FILE`). Safe to use from worker threads."""

    def __init__(self, notices: Notices | None = None) -> None:
        self.notices = notices or Notices()
        self._lock = threading.Lock()
        self._loaded: dict[Path, tuple[tuple[int, int], Baseline | None]] = {}

    def shown(
        self, file: Path, relative_to: Path, path: str, text: str, findings: list[Finding]
    ) -> list[Finding]:
        """Of a buffer's findings, those not in the baseline `file`; all of them (and why,
        said once) when the file cannot be used. Definitions are found by indentation:
        no parse per keystroke (the line's own match covers where that differs)."""
        baseline = self.get(file, relative_to)
        if baseline is None or not findings:
            return findings
        placed = place(findings, text, scopes_by_indent(text))
        return [p.finding for p in baseline.new(path, placed, relative_to)]

    @staticmethod
    def stamp(file: Path) -> str:
        try:
            status = file.stat()
        except OSError:
            return "missing"
        return f"{status.st_mtime_ns}:{status.st_size}"

    def get(self, file: Path, relative_to: Path) -> Baseline | None:
        try:
            status = file.stat()
            stamp = (status.st_mtime_ns, status.st_size)
        except OSError as error:
            self.notices.say(
                f"baseline:{file}:{error.strerror}",
                f"cannot read the baseline {file}: {error.strerror}; every finding is shown.",
            )
            return None
        with self._lock:
            known = self._loaded.get(file)
        if known is not None and known[0] == stamp:
            return known[1]
        baseline: Baseline | None = None
        try:
            baseline = Baseline.load(file, relative_to)
        except BaselineError as error:
            self.notices.say(f"baseline:{file}:{stamp}", f"{error}; every finding is shown.")
        with self._lock:
            self._loaded[file] = (stamp, baseline)
        return baseline
