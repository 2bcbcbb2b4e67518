"""The rule catalogue's examples (clearsight/data/rule_examples.toml) say what they show.

Each table's `bad` is reported with its code and its `good` (the fix) is not; every table
is a real rule, and every rule has a table or is named in the catalogue's "Not shown here"
line, so a new rule without an example fails here.
"""

from __future__ import annotations

import ast
import re
import sys
from functools import cache
from importlib.resources import files
from typing import Any

import pytest

from clearsight.engine import all_rules, analyze
from clearsight.settings import Settings
from clearsight.source import SourceText

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

SYNTAX_ERROR = "CS-E001"  # its `bad` example is the one that does not parse
_NOT_SHOWN = re.compile(r"^#\s*Not shown here \(they need more than one file\):(?P<codes>.*)$")


def catalogue_text() -> str:
    return files("clearsight").joinpath("data", "rule_examples.toml").read_text(encoding="utf-8")


@cache
def catalogue() -> dict[str, Any]:
    return tomllib.loads(catalogue_text())


def not_shown() -> set[str]:
    """The codes of the top-of-file comment line listing the rules left out."""
    lines = [m for line in catalogue_text().splitlines() if (m := _NOT_SHOWN.match(line))]
    assert len(lines) == 1, "the catalogue needs one '# Not shown here (...): ...' line"
    return {code for code in re.split(r"[\s,]+", lines[0].group("codes")) if code}


def rule_codes() -> set[str]:
    return {rule.code for rule in all_rules()}


def codes_found(text: str) -> list[str]:
    findings = analyze(SourceText(text, path="example.py"), "example.py", Settings())
    return [finding.code for finding in findings]


@pytest.mark.parametrize("code", list(catalogue()), ids=list(catalogue()))
def test_the_bad_example_is_reported_and_the_good_one_is_not(code: str) -> None:
    example = catalogue()[code]
    assert set(example) == {"bad", "good"}, f"[{code}] has keys {sorted(example)}"
    assert code in codes_found(example["bad"]), f"[{code}] bad is not reported with {code}"
    assert code not in codes_found(example["good"]), f"[{code}] good is reported with {code}"


@pytest.mark.parametrize("code", list(catalogue()), ids=list(catalogue()))
def test_the_examples_are_python_that_parses(code: str) -> None:
    example = catalogue()[code]
    ast.parse(example["good"], filename=f"{code}-good.py")
    if code == SYNTAX_ERROR:
        with pytest.raises(SyntaxError):
            ast.parse(example["bad"])
    else:
        ast.parse(example["bad"], filename=f"{code}-bad.py")


def test_every_table_is_a_rule_code() -> None:
    unknown = sorted(set(catalogue()) - rule_codes())
    assert not unknown, f"tables that are no rule's code: {unknown}"


def test_the_rules_left_out_are_rules_and_have_no_table() -> None:
    left_out = not_shown()
    assert not sorted(left_out - rule_codes()), "the 'Not shown here' line names unknown codes"
    assert not sorted(left_out & set(catalogue())), "a rule both left out and shown"


def test_every_rule_has_an_example_or_is_listed_as_not_shown() -> None:
    missing = sorted(rule_codes() - set(catalogue()) - not_shown())
    assert not missing, (
        f"rules without an example in rule_examples.toml: {missing}; add a table, or list "
        "the code in its '# Not shown here' line"
    )
