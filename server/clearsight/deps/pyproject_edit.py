"""Declaring a dependency in pyproject.toml without losing the file's formatting or comments."""

from __future__ import annotations

import tomlkit
from tomlkit.items import Array, Table

from clearsight.deps.names import normalize
from clearsight.deps.project import requirement_name


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
