"""How a change moved complexity: functions whose cyclomatic complexity rose (before ->
after), new functions above the limit, and modules whose maintainability index dropped a
rank. Computed with radon's visitors through the complexity family's `complexity_facts`,
for the base and the working text of each changed file."""

from __future__ import annotations

from dataclasses import dataclass

from clearsight.checks.complexity import ComplexityFacts, complexity_facts
from clearsight.source import SourceText

_RANKS = "ABCDEF"


@dataclass(frozen=True)
class FunctionDelta:
    name: str  # "Class.method"
    line: int  # 1-based, in the working tree
    end_line: int
    before: int | None  # None: the function is new
    after: int

    @property
    def growth(self) -> int:
        return self.after - (self.before or 0)


@dataclass(frozen=True)
class ComplexityChange:
    functions: tuple[FunctionDelta, ...]  # rose, or new above the limit
    rank_before: str | None
    rank_after: str | None

    @property
    def rank_dropped(self) -> bool:
        if self.rank_before is None or self.rank_after is None:
            return False
        return _RANKS.index(self.rank_after) > _RANKS.index(self.rank_before)


def _facts(text: str | None, path: str) -> ComplexityFacts | None:
    if text is None:
        return None
    source = SourceText(text, path=path)
    if source.tree is None:
        return None
    try:
        return complexity_facts(source)
    except (ValueError, RecursionError, MemoryError):
        return None


def complexity_change(
    base_text: str | None, new_text: str | None, path: str, limit: int
) -> ComplexityChange | None:
    """None when the working text cannot be measured (it does not parse, or is gone)."""
    after = _facts(new_text, path)
    if after is None:
        return None
    before = _facts(base_text, path)
    old = {b.name: b.complexity for b in before.blocks} if before is not None else {}
    functions = []
    for block in after.blocks:
        if block.kind == "class":
            continue
        previous = old.get(block.name)
        if (previous is not None and block.complexity > previous) or (
            previous is None and block.complexity > limit
        ):
            functions.append(
                FunctionDelta(block.name, block.line, block.end_line, previous, block.complexity)
            )
    functions.sort(key=lambda f: (-f.growth, f.name))
    return ComplexityChange(
        tuple(functions),
        before.maintainability.rank if before is not None and before.raw.sloc else None,
        after.maintainability.rank if after.raw.sloc else None,
    )
