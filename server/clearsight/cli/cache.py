"""A content-hash cache of findings under `.clearsight_cache/`.

An entry's key covers everything that can change a file's findings: its bytes, its path,
the settings' fingerprint and the versions of Python, Clearsight, bandit and radon. A
corrupt or unreadable entry is a miss, never an error.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from importlib import metadata
from pathlib import Path

from clearsight.model import Finding


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "unknown"


def tool_versions() -> str:
    from clearsight import __version__

    parts = [
        f"py{sys.version_info.major}.{sys.version_info.minor}",
        f"clearsight{__version__}",
        f"bandit{_version('bandit')}",
        f"radon{_version('radon')}",
    ]
    return "-".join(parts)


# Where a finding sits, as `review.fingerprints.Placed` says it: the enclosing definition,
# the normalised line and the fingerprint they make.
Place = tuple[str, str, str]


def _well_formed_place(place: object) -> bool:
    return isinstance(place, list) and len(place) == 3 and all(isinstance(p, str) for p in place)


def _well_formed(finding: Finding) -> bool:
    """Types a formatter relies on (a hand-edited or foreign entry must not crash output)."""
    positions = (finding.span.start, finding.span.end)
    numbers = [value for p in positions for value in (p.line, p.column)]
    return (
        all(type(value) is int and value >= 0 for value in numbers)
        and isinstance(finding.code, str)
        and isinstance(finding.message, str)
    )


class FindingCache:
    def __init__(self, directory: Path) -> None:
        self.directory = directory / hashlib.sha256(tool_versions().encode()).hexdigest()[:12]
        self.hits = 0
        self.misses = 0
        self.problem: str | None = None  # why entries could not be written, once

    @staticmethod
    def key(content: bytes, path: str, settings_fingerprint: str) -> str:
        digest = hashlib.sha256(content)
        digest.update(b"\0" + path.encode("utf-8", "surrogateescape"))
        digest.update(b"\0" + settings_fingerprint.encode())
        return digest.hexdigest()

    def _file(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key[2:]}.json"

    def get(self, key: str) -> tuple[list[Finding], list[Place] | None] | None:
        """The entry's findings and, when it has them, their places (None: worked out
        again from the text)."""
        data = self.get_json(key)
        try:
            if not isinstance(data, list):
                raise TypeError("a cache entry is a list of findings")
            findings = [Finding.from_dict(item) for item in data]
            if not all(_well_formed(finding) for finding in findings):
                raise TypeError("a cache entry holds a malformed finding")
        except (ValueError, KeyError, TypeError, AttributeError):
            self.misses += 1
            return None
        self.hits += 1
        places = [item.get("place") for item in data]
        if all(_well_formed_place(place) for place in places):
            return findings, [(place[0], place[1], place[2]) for place in places]
        return findings, None

    def put(self, key: str, findings: list[Finding], places: list[Place] | None = None) -> None:
        """`places`: the findings' own (same order), kept so that a run served from the
        cache need not read and parse the file again to fingerprint them."""
        items = [f.to_dict() for f in findings]
        if places is not None:
            for item, place in zip(items, places, strict=True):
                item["place"] = list(place)
        self.put_json(key, items)

    def get_json(self, key: str) -> object:
        """The entry's JSON value; None when there is none or it cannot be read."""
        try:
            return json.loads(self._file(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def put_json(self, key: str, value: object) -> None:
        target = self._file(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            if not (self.directory.parent / "CACHEDIR.TAG").exists():
                (self.directory.parent / "CACHEDIR.TAG").write_text(
                    "Signature: 8a477f597d28d172789f06886806bc55\n"
                    "# This folder is a cache made by clearsight; it can be deleted.\n"
                )
                (self.directory.parent / ".gitignore").write_text("*\n")
            handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
        except OSError as error:
            self._failed(error)
            return
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(value, stream)
            os.replace(temporary, target)  # atomic: readers never see half an entry
        except OSError as error:
            Path(temporary).unlink(missing_ok=True)  # a full disk keeps no half entries
            self._failed(error)

    def say_problem(self) -> None:
        """On stderr, once a run is over: why nothing was cached (a read-only folder)."""
        if self.problem is not None:
            print(f"clearsight: warning: {self.problem}", file=sys.stderr)

    def _failed(self, error: OSError) -> None:
        """A read-only or full disk only costs speed: the run goes on, and says so once."""
        if self.problem is None:
            reason = error.strerror or str(error)
            self.problem = f"results are not cached: cannot write {self.directory} ({reason})"
