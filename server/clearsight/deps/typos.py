"""Typosquat candidates: names a small edit away from a popular distribution.

The distance is Damerau-Levenshtein in its optimal-string-alignment form (insertions,
deletions, substitutions and swaps of two neighbouring characters, each costing one), on
PEP 503-normalised names. How many edits count, and how popular the other name must be,
depends on the length of the part that differs (`TIERS`): leading `-`-separated segments
both names share are set aside first, so that `pytest-lsp` is not taken for a typo of
`pytest-csv` (the part that differs, `lsp`, is too short to judge), while
`python-dateutils` still is one of `python-dateutil`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# How similar a name must be to a popular one, and how popular that one must be, to be
# reported. Short names are a few edits from many others by chance, so they are compared
# with the most downloaded packages only. The tiers were set from the snapshot itself: for
# each length, a random sample of PyPI names that are not popular was matched, and each
# tier keeps the share of them that would be reported at about 2% or less (see
# docs/dependencies.md). Rows: (differing-part length at least, edits at most, rank at most).
TIERS: tuple[tuple[int, int, int], ...] = (
    (4, 1, 250),
    (5, 1, 1_000),
    (6, 1, 2_000),
    (8, 1, 15_000),
    (9, 2, 1_000),
    (12, 2, 15_000),
)
MIN_COMPARED_LENGTH = TIERS[0][0]
TWO_EDITS_FROM_LENGTH = min(length for length, edits, _ in TIERS if edits == 2)


def max_edits(length: int) -> int:
    """The most edits any tier allows for a name (or differing part) of this length."""
    return max((edits for least, edits, _ in TIERS if length >= least), default=0)


def rank_limit(length: int, edits: int) -> int:
    """The worst rank a popular name may have to count, at this length and distance
    (0: it cannot count)."""
    return max(
        (rank for least, allowed, rank in TIERS if length >= least and edits <= allowed),
        default=0,
    )


def osa_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance, or `limit + 1` as soon as it must exceed `limit`.

    Only cells within `limit` of the diagonal are computed: O(len * limit).
    """
    la, lb = len(a), len(b)
    if abs(la - lb) > limit:
        return limit + 1
    over = limit + 1
    before: list[int] = []
    previous = list(range(lb + 1))
    for i in range(1, la + 1):
        current = [over] * (lb + 1)
        current[0] = i
        low, high = max(1, i - limit), min(lb, i + limit)
        best = current[0] if low == 1 else over
        char = a[i - 1]
        for j in range(low, high + 1):
            value = min(
                previous[j] + 1,
                current[j - 1] + 1,
                previous[j - 1] + (char != b[j - 1]),
            )
            if i > 1 and j > 1 and char == b[j - 2] and a[i - 2] == b[j - 1]:
                value = min(value, before[j - 2] + 1)
            current[j] = value
            best = min(best, value)
        if best > limit:
            return over
        before, previous = previous, current
    return min(previous[lb], over)


def differing_part(name: str, other: str) -> str:
    """`name` without the leading `-`-separated segments it shares with `other`."""
    mine, theirs = name.split("-"), other.split("-")
    shared = 0
    while shared < min(len(mine), len(theirs)) - 1 and mine[shared] == theirs[shared]:
        shared += 1
    return "-".join(mine[shared:])


def _bigrams(name: str) -> set[str]:
    return {name[i : i + 2] for i in range(len(name) - 1)}


@dataclass(frozen=True)
class Near:
    """A popular distribution `edits` away from the name asked about."""

    name: str  # PEP 503-normalised
    rank: int  # 1 = the most downloaded
    edits: int


class PopularNames:
    """The popular distributions, searchable for names a typo away.

    Candidates are narrowed with a bigram count before any distance is computed: one edit
    destroys at most three of a name's distinct bigrams (a swap), so a name within `k`
    edits shares at least `len(bigrams) - 3k` of them.
    """

    def __init__(self, ranked: Sequence[tuple[int, str]]) -> None:
        self.rank_of: dict[str, int] = {name: rank for rank, name in ranked}
        self._names = [name for _, name in ranked]
        self._postings: dict[str, list[int]] | None = None

    def __contains__(self, name: object) -> bool:
        return name in self.rank_of

    def __len__(self) -> int:
        return len(self._names)

    def prepare(self) -> None:
        """Build the bigram index now rather than at the first search (editor start-up)."""
        self._index()

    def _index(self) -> dict[str, list[int]]:
        if self._postings is None:
            postings: dict[str, list[int]] = {}
            for position, name in enumerate(self._names):
                for gram in _bigrams(name):
                    postings.setdefault(gram, []).append(position)
            self._postings = postings
        return self._postings

    def _candidates(self, name: str, limit: int) -> Iterable[str]:
        grams = _bigrams(name)
        needed = len(grams) - 3 * limit
        if needed <= 0:
            # Too short for the filter to prune: compare with every name of a close length.
            return (n for n in self._names if abs(len(n) - len(name)) <= limit)
        postings = self._index()
        counts: Counter[int] = Counter()
        for gram in grams:
            counts.update(postings.get(gram, ()))
        return (self._names[position] for position, count in counts.items() if count >= needed)

    def near(self, name: str) -> list[Near]:
        """Popular names `name` (not popular itself) may be a typo of, by `TIERS`,
        closest and most popular first."""
        if name in self.rank_of:
            return []
        limit = max_edits(len(name))
        if limit == 0:
            return []
        found = []
        for candidate in self._candidates(name, limit):
            length = len(differing_part(name, candidate))
            budget = max_edits(length)
            if budget == 0:
                continue
            edits = osa_distance(name, candidate, budget)
            rank = self.rank_of[candidate]
            if edits <= budget and rank <= rank_limit(length, edits):
                found.append(Near(candidate, rank, edits))
        found.sort(key=lambda near: (near.edits, near.rank))
        return found
