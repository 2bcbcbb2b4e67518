"""Where a reviewer should look first: each hunk of the change scored from its evidence, with
the evidence written out as reasons ("new B506; AI-written, unreviewed; +6 complexity").

The weights are plain and stated here so a score can be explained: a new error counts 8, a
new warning 4, a new information 1; an added line written by AI and not reviewed adds up to
3; complexity growth of the functions the hunk touches adds its points (up to 6); a file
fixed often in the last 90 days up to 3; size up to 3; a newly declared dependency 1, or 4
when its name is not on PyPI or a typo away from a popular one. Findings a change introduced outside
any hunk (a dataflow path whose source was added elsewhere) go to the file's nearest hunk.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from clearsight.model import Family, Severity
from clearsight.review.changes import Hunk
from clearsight.review.compare import Compared
from clearsight.review.dependencies import DependencyChange

if TYPE_CHECKING:
    from clearsight.review.build import FileReview

SEVERITY_WEIGHT = {
    Severity.ERROR: 8.0,
    Severity.WARNING: 4.0,
    Severity.INFO: 1.0,
    Severity.HINT: 0.0,
}


@dataclass
class HunkRisk:
    path: str
    hunk: Hunk
    score: float = 0.0
    reasons: list[str] = field(default_factory=list)
    new: list[Compared] = field(default_factory=list)  # findings it introduced
    declared: list[DependencyChange] = field(default_factory=list)  # dependencies it adds
    ai_lines: int = 0
    unreviewed_ai: bool = False

    @property
    def level(self) -> str:
        if self.score >= 8:
            return "high"
        return "medium" if self.score >= 3 else "low"


def rank_hunks(
    files: Sequence[FileReview], dependencies: Sequence[DependencyChange] = ()
) -> list[HunkRisk]:
    ranked: list[HunkRisk] = []
    for review in files:
        change = review.change
        hunks = [HunkRisk(change.path, hunk) for hunk in change.hunks if hunk.new_count]
        if not hunks:
            continue
        if review.findings is not None:
            for compared in review.findings.introduced:
                _nearest(hunks, compared.finding.span.start.line).new.append(compared)
        for declared in dependencies:
            if declared.path == change.path and declared.change == "added" and declared.line:
                _nearest(hunks, declared.line - 1).declared.append(declared)
        for risk in hunks:
            _score(risk, review)
        ranked.extend(hunks)
    ranked.sort(key=lambda r: (-r.score, r.path, r.hunk.new_start))
    return ranked


def _nearest(hunks: list[HunkRisk], line: int) -> HunkRisk:
    def distance(risk: HunkRisk) -> int:
        added = risk.hunk.added
        if line in added:
            return 0
        return min(abs(line - added.start), abs(line - (added.stop - 1)))

    return min(hunks, key=distance)


def _score(risk: HunkRisk, review: FileReview) -> None:
    reasons: list[str] = []
    score = 0.0
    by_code: dict[str, list[Compared]] = {}
    for compared in risk.new:
        by_code.setdefault(compared.finding.code, []).append(compared)
        score += SEVERITY_WEIGHT[compared.finding.severity]
    for code, found in sorted(
        by_code.items(), key=lambda item: (min(c.finding.severity for c in item[1]), item[0])
    ):
        worst = min(c.finding.severity for c in found)
        count = f" x{len(found)}" if len(found) > 1 else ""
        family = found[0].finding.family
        what = "new dependency" if family is Family.DEPENDENCIES else "new"
        reasons.append(f"{what} {code}{count} ({worst.label})")
    for declared in risk.declared:
        if declared.verdict:
            score += SEVERITY_WEIGHT[Severity.WARNING]
            what = "not on PyPI" if declared.verdict == "not-on-pypi" else "a possible typosquat"
            reasons.append(f"declares `{declared.name}`, {what}")
        else:
            score += 1.0
            reasons.append(f"declares a new dependency `{declared.name}`")
    added = set(risk.hunk.added)
    ai = review.ai
    unreviewed = [b for b in ai.unreviewed_blocks if any(b[0] - 1 <= x <= b[1] - 1 for x in added)]
    ai_here = sum(1 for first, last, _ in unreviewed for x in added if first - 1 <= x <= last - 1)
    risk.unreviewed_ai = bool(unreviewed)
    risk.ai_lines = ai_here
    if unreviewed:
        score += min(3.0, 1.0 + ai_here / 10)
        tools = ", ".join(sorted(ai.tools)) or "an AI tool"
        reasons.append(f"AI-written ({tools}), unreviewed")
    if review.complexity is not None:
        growth = 0
        names = []
        for delta in review.complexity.functions:
            if any(delta.line - 1 <= line <= delta.end_line - 1 for line in added):
                growth += delta.growth
                names.append(delta.name)
        if growth > 0:
            score += min(6.0, float(growth))
            reasons.append(f"+{growth} complexity ({', '.join(names[:3])})")
    if review.fixes >= 2:
        score += min(3.0, math.log2(review.fixes))
        reasons.append(f"file fixed {review.fixes} times in 90 days")
    size = risk.hunk.new_count
    if size >= 20:
        score += min(3.0, size / 50)
        reasons.append(f"{size} lines")
    risk.score = round(score, 1)
    risk.reasons = reasons
