"""Declaring a dependency in pyproject.toml without losing the file's formatting or comments."""

from __future__ import annotations

from pathlib import Path

import tomlkit
from tomlkit.items import Array, Table

from clearsight.deps.names import normalize
from clearsight.deps.project import requirement_name
from clearsight.model import Position, Span, TextEdit
from clearsight.segments import common_ends
from clearsight.source import lines_with_breaks


class CannotDeclare(ValueError):
    """The file cannot take the dependency (no [project] table, dynamic dependencies…)."""


def add_dependency(pyproject_text: str, distribution: str) -> str:
    """`pyproject_text` with `distribution` appended to `[project] dependencies`.

    Comments, ordering, quoting and the array's layout (one line, or one entry per line
    with its indentation) are kept. A distribution already listed (compared after PEP 503
    normalisation, whatever its version specifier) leaves the text unchanged. Raises
    `CannotDeclare` when there is no [project] table or `dependencies` is dynamic, and
    tomlkit's `ParseError` (a ValueError) when the text is not TOML.
    """
    if requirement_name(distribution) != distribution:
        raise CannotDeclare(f"{distribution!r} is not a distribution name")
    document = tomlkit.parse(pyproject_text)
    project = document.get("project")
    if not isinstance(project, Table):
        raise CannotDeclare("pyproject.toml has no [project] table")
    dynamic = project.get("dynamic", [])
    if "dependencies" in dynamic:
        raise CannotDeclare("[project] declares its dependencies as dynamic")
    dependencies = project.get("dependencies")
    if dependencies is None:
        array = tomlkit.array()
        array.append(distribution)
        project["dependencies"] = array
        return tomlkit.dumps(document)
    if not isinstance(dependencies, Array):
        raise CannotDeclare("[project] dependencies is not an array")
    wanted = normalize(distribution)
    for entry in dependencies:
        name = requirement_name(str(entry))
        if name is not None and normalize(name) == wanted:
            return pyproject_text
    if "\n" in dependencies.as_string():
        dependencies.add_line(distribution, indent=_indent_of(dependencies))
    else:
        dependencies.append(distribution)
    return tomlkit.dumps(document)


def _indent_of(array: Array) -> str:
    """The indentation of the array's entries, as written (four spaces if none)."""
    for line in array.as_string().splitlines()[1:]:
        stripped = line.lstrip(" \t")
        if stripped and not stripped.startswith(("]", "#")):
            return line[: len(line) - len(stripped)]
    return "    "


def declaration_edit(pyproject: Path, distribution: str) -> TextEdit | None:
    """The edit of `pyproject` (as it is on disk) that declares `distribution` in
    `[project] dependencies`: only the lines that change. None when the file cannot be
    read or take it, or already declares it."""
    try:
        with pyproject.open(encoding="utf-8", newline="") as file:  # keep \r\n as it is
            text = file.read()
        declared = add_dependency(text, distribution)
    except (OSError, UnicodeDecodeError, ValueError):  # CannotDeclare, tomlkit's ParseError
        return None
    return None if declared == text else lines_edit(text, declared)


def lines_edit(old: str, new: str) -> TextEdit:
    """One edit turning `old` into `new`, replacing whole lines between their common
    leading and trailing lines (a small edit, not the whole file)."""
    old_lines, new_lines = lines_with_breaks(old), lines_with_breaks(new)
    prefix, suffix = common_ends(old_lines, new_lines)
    end = len(old_lines) - suffix
    replacement = "".join(new_lines[prefix : len(new_lines) - suffix])
    if end < len(old_lines) or not old_lines or old_lines[-1].endswith(("\n", "\r")):
        end_position = Position(end, 0)
    else:  # up to the end of a last line without a line break
        end_position = Position(end - 1, len(old_lines[-1]))
    return TextEdit(Span(Position(prefix, 0), end_position), replacement)
