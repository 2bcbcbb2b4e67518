"""What a rule means, for people: its catalogue entry (what, why, how to fix), a short
example that it reports and the fix it does not (data/rule_examples.toml, each checked by
tests/test_rule_examples.py), its CWE as the example's finding carries it, and how to
configure it. Used by `clearsight rule CODE`."""

from __future__ import annotations

import difflib
import functools
import sys
from dataclasses import dataclass
from importlib import resources

from clearsight.checks.base import Rule
from clearsight.engine import all_rules, analyze
from clearsight.settings import Settings
from clearsight.source import SourceText

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib


@dataclass(frozen=True)
class Explanation:
    rule: Rule
    bad: str | None  # an example it reports
    good: str | None  # the same code, fixed
    cwe: int | None


@functools.cache
def _examples() -> dict[str, dict[str, str]]:
    text = resources.files("clearsight").joinpath("data", "rule_examples.toml").read_text("utf-8")
    return tomllib.loads(text)


def _rules() -> dict[str, Rule]:
    return {rule.code: rule for rule in all_rules()}


def explain(code: str) -> Explanation | None:
    rule = _rules().get(code.strip().upper())
    if rule is None:
        return None
    example = _examples().get(rule.code, {})
    bad, good = example.get("bad"), example.get("good")
    cwe = None
    if bad is not None:
        found = analyze(SourceText(bad, path="example.py"), "example.py", Settings())
        for finding in found:
            if finding.code == rule.code and finding.security is not None:
                cwe = finding.security.cwe or None
                break
    return Explanation(rule, bad, good, cwe)


def plain_summary(summary: str, code: str) -> str:
    """bandit's summaries of some plugins are Markdown ("**B605: Test for …**")."""
    text = summary.strip().strip("*").strip()
    prefix = f"{code}:"
    return text[len(prefix) :].strip() if text.startswith(prefix) else text


def similar(code: str) -> list[str]:
    return difflib.get_close_matches(code.strip().upper(), list(_rules()), n=3, cutoff=0.5)


def configuration(code: str) -> list[tuple[str, str]]:
    """(what for, how) lines: every way to turn the rule off or re-grade it."""
    lines = [
        ("everywhere", f'[tool.clearsight] ignore = ["{code}"]'),
        ("in some files", f'[tool.clearsight.per-file-ignores] "scripts/*.py" = ["{code}"]'),
        ("on one line", f"# clearsight: ignore[{code}]"),
        ("another severity", f'[tool.clearsight.severity] "{code}" = "warning"'),
        ("only this", f"clearsight check --select {code}"),
    ]
    if code.startswith("B"):
        lines.insert(3, ("bandit's way", f'# nosec {code}, or [tool.bandit] skips = ["{code}"]'))
    return lines
