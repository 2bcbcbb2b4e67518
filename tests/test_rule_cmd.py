"""`clearsight rule CODE` through the real command: what, why, fix, the catalogue's example
(reported, fixed), the CWE its finding carries, and the configuration lines."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from test_rule_examples import catalogue


def rule(*args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "clearsight.cli.main", "rule", *args],
        capture_output=True, text=True, timeout=120, cwd=Path(__file__).parent,
    )  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    return done


def test_a_bandit_rule_is_explained_with_its_example_and_cwe() -> None:
    done = rule("b602")  # codes are case-insensitive, as on the command line
    assert done.returncode == 0
    out = done.stdout
    assert out.startswith("B602  subprocess_popen_with_shell_equals_true\n")
    assert "security, default severity warning, CWE-78" in out
    assert "What: Test for use of popen with shell equals true" in out
    example = catalogue()["B602"]
    for line in example["bad"].strip("\n").splitlines() + example["good"].strip("\n").splitlines():
        assert f"    {line}".rstrip() in out
    assert "# nosec B602" in out and '[tool.clearsight] ignore = ["B602"]' in out


def test_a_dataflow_rule_as_json() -> None:
    done = rule("CS-S001", "--format", "json")
    document = json.loads(done.stdout)
    assert document["code"] == "CS-S001" and document["cwe"] == 22
    assert document["example"]["reported"] == catalogue()["CS-S001"]["bad"]
    assert {"everywhere", "in some files", "on one line"} <= {
        c["for"] for c in document["configuration"]
    }
    assert not any("nosec" in c["how"] for c in document["configuration"])  # bandit's only


def test_a_rule_without_an_example_and_an_unknown_code() -> None:
    shown = rule("CS-P001")
    assert shown.returncode == 0 and "Reported:" not in shown.stdout
    assert "What: " in shown.stdout
    unknown = rule("CS-S01")
    assert unknown.returncode == 2
    assert "no rule 'CS-S01'. Did you mean" in unknown.stderr
