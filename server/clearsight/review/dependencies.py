"""Dependency changes in a change: distributions added, removed or re-versioned in the
declaration files (`pyproject.toml`, `setup.cfg`, `requirements*.txt`) and the lock files
(`uv.lock`, `poetry.lock`, `Pipfile.lock`), with each newly declared name checked as an
import is: not on PyPI (the bundled snapshot), so possibly hallucinated, or a typo away
from a popular distribution.

Declarations are read by the dependency family's own reader (`deps.project`), the base's
from its git objects written to a temporary folder as they were laid out, never a checkout.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from clearsight.deps.names import normalize
from clearsight.deps.project import Declarations, read_declarations
from clearsight.deps.pypi import bundled_index
from clearsight.gitrun import GitError
from clearsight.review.changes import Change, FileChange, list_tree, read_blobs

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

LOCK_FILES = frozenset({"uv.lock", "poetry.lock", "Pipfile.lock"})
_DECLARATION_FILES = frozenset({"pyproject.toml", "setup.cfg"})


@dataclass(frozen=True)
class DependencyChange:
    name: str  # as written
    change: str  # "added", "removed" or "re-versioned"
    where: str  # "pyproject.toml [project.dependencies]", "app/uv.lock"
    before: str | None  # the requirement as written, or the locked version
    after: str | None
    verdict: str = ""  # "" (nothing known against it), "not-on-pypi" or "typosquat"
    detail: str = ""  # why the verdict, for the reader
    path: str = ""  # the file, relative to the repository root
    line: int = 0  # 1-based line in the working tree's file that adds it; 0 when unknown

    @property
    def key(self) -> str:
        return normalize(self.name)


def is_declaration_file(path: str) -> bool:
    name = PurePosixPath(path).name
    parent = PurePosixPath(path).parent.name
    return (
        name in _DECLARATION_FILES
        or name in LOCK_FILES
        or (name.startswith("requirements") and name.endswith((".txt", ".in")))
        or (parent == "requirements" and name.endswith((".txt", ".in")))
    )


def dependency_changes(change: Change) -> tuple[list[DependencyChange], list[str]]:
    """The changes, and problems reading them (a lock file that does not parse)."""
    touched = [f for f in change.files if is_declaration_file(f.path) and not f.binary]
    found: list[DependencyChange] = []
    problems: list[str] = []
    folders = sorted({project_folder(f.path) for f in touched})
    for folder in folders:
        declared = [f for f in touched if not is_lock(f.path)]
        if any(project_folder(f.path) == folder for f in declared):
            try:
                found += _declared_changes(change, folder)
            except GitError as error:
                problems.append(f"{folder or '.'}: the base's declarations: {error}")
    for entry in touched:
        if is_lock(entry.path):
            try:
                found += _lock_changes(change, entry)
            except ValueError as error:
                problems.append(f"{entry.path}: {error}")
    return found, problems


def is_lock(path: str) -> bool:
    return PurePosixPath(path).name in LOCK_FILES


def project_folder(path: str) -> str:
    """The folder of the project a declaration file belongs to ("" for the root)."""
    parent = PurePosixPath(path).parent
    if parent.name == "requirements" and not PurePosixPath(path).name.startswith("requirements"):
        parent = parent.parent
    return "" if str(parent) == "." else str(parent)


def _declared_changes(change: Change, folder: str) -> list[DependencyChange]:
    now = read_declarations(change.root / folder)
    before = declarations_at(change.root, change.base.commit, folder)
    prefix = f"{folder}/" if folder else ""
    old = _by_key(before)
    new = _by_key(now)
    found = []
    for key in sorted(new.keys() | old.keys()):
        after_specs, before_specs = new.get(key, {}), old.get(key, {})
        if key not in old:
            for where, spec in sorted(after_specs.items()):
                name = next(r.name for r in now.requirements if r.key == key)
                verdict, detail = judge(name)
                found.append(
                    DependencyChange(name, "added", prefix + where, None, spec, verdict, detail,
                                     prefix + where.split(" ")[0].split(":")[0])
                )  # fmt: skip
        elif key not in new:
            name = next(r.name for r in before.requirements if r.key == key)
            for where, spec in sorted(before_specs.items()):
                found.append(
                    DependencyChange(name, "removed", prefix + where, spec, None,
                                     path=prefix + where.split(" ")[0].split(":")[0])
                )  # fmt: skip
        elif set(after_specs.values()) != set(before_specs.values()):
            name = next(r.name for r in now.requirements if r.key == key)
            where = sorted(after_specs)[0]
            found.append(
                DependencyChange(
                    name, "re-versioned", prefix + where,
                    ", ".join(sorted(set(before_specs.values()))),
                    ", ".join(sorted(set(after_specs.values()))),
                    path=prefix + where.split(" ")[0].split(":")[0],
                )
            )  # fmt: skip
    return found


def _by_key(declarations: Declarations) -> dict[str, dict[str, str]]:
    """key -> {where (without a line number): the requirement as written}."""
    found: dict[str, dict[str, str]] = {}
    for requirement in declarations.requirements:
        where, _, line = requirement.where.rpartition(":")
        if not line.isdigit():  # only requirements files' have a line number: drop it
            where = requirement.where
        found.setdefault(requirement.key, {})[where] = " ".join(requirement.spec.split())
    return found


def declarations_at(root: Path, commit: str, folder: str) -> Declarations:
    """The project's declarations at a commit: its declaration files' blobs written to a
    temporary folder with the same layout, read by the same reader (never a checkout)."""
    names = [
        path
        for path in list_tree(root, commit, folder)
        if is_declaration_file(path) and not is_lock(path)
    ]
    contents = read_blobs(root, [f"{commit}:{path}" for path in names])
    with tempfile.TemporaryDirectory(prefix="clearsight-base-") as scratch:
        for path in names:
            data = contents.get(f"{commit}:{path}")
            if data is None:
                continue
            relative = PurePosixPath(path).relative_to(folder) if folder else PurePosixPath(path)
            target = Path(scratch, *relative.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        return read_declarations(Path(scratch))


def _lock_changes(change: Change, entry: FileChange) -> list[DependencyChange]:
    after = {}
    if entry.status != "deleted":
        try:
            after = locked_versions(entry.path, (change.root / entry.path).read_bytes())
        except OSError as error:
            raise ValueError(f"could not be read ({error.strerror or error})") from error
    before = {}
    if entry.old_blob:
        blob = read_blobs(change.root, [entry.old_blob]).get(entry.old_blob)
        if blob is not None:
            before = locked_versions(entry.old_path or entry.path, blob)
    found = []
    for key in sorted(after.keys() | before.keys()):
        name_after, version_after = after.get(key, (None, None))
        name_before, version_before = before.get(key, (None, None))
        name = name_after or name_before or key
        if key not in before:
            kind = "added"
        elif key not in after:
            kind = "removed"
        elif version_after != version_before:
            kind = "re-versioned"
        else:
            continue
        found.append(
            DependencyChange(name, kind, entry.path, version_before, version_after, path=entry.path)
        )
    return found


def locked_versions(path: str, data: bytes) -> dict[str, tuple[str, str]]:
    """key -> (name, version) of a lock file's packages; ValueError when it does not parse."""
    name = PurePosixPath(path).name
    try:
        text = data.decode("utf-8")
        if name == "Pipfile.lock":
            document = json.loads(text)
            return {
                normalize(package): (package, str(info.get("version", "")).lstrip("="))
                for section in ("default", "develop")
                for package, info in (document.get(section) or {}).items()
                if isinstance(info, dict)
            }
        document = tomllib.loads(text)
    except (
        UnicodeDecodeError,
        json.JSONDecodeError,
        tomllib.TOMLDecodeError,
        AttributeError,
    ) as error:
        raise ValueError(f"does not parse ({error})") from error
    packages = document.get("package", [])
    if not isinstance(packages, list):
        raise ValueError("has no [[package]] list")
    return {
        normalize(p["name"]): (p["name"], str(p.get("version", "")))
        for p in packages
        if isinstance(p, dict) and isinstance(p.get("name"), str)
    }


def judge(name: str) -> tuple[str, str]:
    """What is known against a newly declared name, as CS-D001 and CS-D003 judge imports."""
    index = bundled_index()
    if not index.exists(name):
        near = index.near_popular(name)
        hint = f" Did you mean `{near[0].name}`?" if near else ""
        return "not-on-pypi", (
            f"`{name}` is not on PyPI (snapshot {index.snapshot}): a hallucinated or mistyped "
            "name installs nothing, or whatever an attacker registers under it later. Check "
            f"it is the package you mean (or that it comes from a private index).{hint}"
        )
    if index.is_popular(name):
        return "", ""
    near = index.near_popular(name)
    if near:
        closest = near[0]
        return "typosquat", (
            f"`{name}` is {closest.edits} edit{'s' if closest.edits != 1 else ''} away from "
            f"`{closest.name}`, a popular package (rank {closest.rank:,}), and is not popular "
            f"itself: a typo, or a typosquat. Did you mean `{closest.name}`?"
        )
    return "", ""


def placed(changes: Iterable[DependencyChange], change: Change) -> list[DependencyChange]:
    """Each change with the added line that mentions its name, where there is one."""
    files = {f.path: f for f in change.files}
    found = []
    texts: dict[str, list[str]] = {}
    for entry in changes:
        file = files.get(entry.path)
        if file is None or entry.change == "removed":
            found.append(entry)
            continue
        if entry.path not in texts:
            try:
                texts[entry.path] = (change.root / entry.path).read_text("utf-8").splitlines()
            except (OSError, UnicodeDecodeError):
                texts[entry.path] = []
        lines = texts[entry.path]
        wanted = entry.name.lower()
        line = next(
            (
                n + 1
                for n in sorted(file.added_lines)
                if n < len(lines) and wanted in lines[n].lower()
            ),
            0,
        )
        found.append(replace(entry, line=line))
    return found
