"""Seeded random edits of a text, as a user makes them, for the tests that compare the
editor's incremental analysis with the whole-file engine after every edit."""

from __future__ import annotations

import random
from collections.abc import Sequence


def random_edits(text: str, count: int, seed: int, snippets: Sequence[str]) -> list[str]:
    """Versions of `text` after characters typed and deleted, lines duplicated, removed and
    moved, and `snippets` pasted."""
    rng = random.Random(seed)
    lines = text.splitlines(keepends=True)
    versions = []
    for _ in range(count):
        random_edit(lines, rng, snippets)
        versions.append("".join(lines))
    return versions


def random_edit(
    lines: list[str],
    rng: random.Random,
    snippets: Sequence[str],
    typed: str = "ab_'\"(",
    actions: int = 6,
    indent_snippets: bool = False,
) -> None:
    """One edit of `lines` (with their line breaks), in place: a character of `typed` typed
    or one deleted, a line duplicated, removed or moved, or a snippet pasted (actions 5 and
    up), with the indentation of the line it lands on half the time if `indent_snippets`."""
    index = rng.randrange(len(lines))
    action = rng.randrange(actions)
    if action == 0 and lines[index].strip():
        column = rng.randrange(len(lines[index].rstrip("\n")) + 1)
        lines[index] = lines[index][:column] + rng.choice(typed) + lines[index][column:]
    elif action == 1 and len(lines[index]) > 1:
        column = rng.randrange(len(lines[index]) - 1)
        lines[index] = lines[index][:column] + lines[index][column + 1 :]
    elif action == 2:
        lines.insert(index, lines[index])
    elif action == 3 and len(lines) > 2:
        del lines[index]
    elif action == 4 and len(lines) > 2:
        line = lines.pop(index)
        lines.insert(rng.randrange(len(lines)), line)
    else:
        snippet = rng.choice(snippets)
        if indent_snippets:
            current = lines[index]
            indent = (
                current[: len(current) - len(current.lstrip(" "))] if rng.random() < 0.5 else ""
            )
            snippet = "".join(indent + part for part in snippet.splitlines(keepends=True))
        lines.insert(index, snippet)
