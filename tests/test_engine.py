"""The engine's contract: one call, plain findings, exact ranges, failures isolated."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from clearsight.checks.base import Rule
from clearsight.checks.complexity import HIGH_COMPLEXITY, LOW_MAINTAINABILITY
from clearsight.checks.registry import CHECKS
from clearsight.engine import CHECK_FAILED, LIMIT_REACHED, SYNTAX_ERROR, UNREADABLE, analyze
from clearsight.fixes import apply_edits, safe_fix_edits
from clearsight.model import Family, Finding, Severity, Span
from clearsight.settings import Settings, SettingsResolver, load_pyproject, settings_from_tables
from clearsight.source import SourceText


def codes(findings: Iterable[Finding]) -> list[str]:
    return [f.code for f in findings]


def complex_function(name: str = "tangled", branches: int = 12, indent: str = "") -> str:
    body = "".join(
        f"{indent}    if x == {i}:\n{indent}        return {i}\n" for i in range(branches)
    )
    return f"{indent}def {name}(x):\n{body}{indent}    return -1\n"


# -- complexity -------------------------------------------------------------------------------


def test_complex_function_is_reported_at_its_name_with_rank() -> None:
    findings = analyze(complex_function(), "m.py")
    finding = next(f for f in findings if f.code == HIGH_COMPLEXITY)
    assert finding.span == Span.of(0, 4, 0, 11)  # the name `tangled`, not the body
    assert "complexity 13" in finding.message and "rank C" in finding.message
    assert finding.metrics == {"complexity": 13, "rank": "C", "kind": "function"}
    assert finding.family is Family.COMPLEXITY
    assert finding.docs_url


def test_function_at_the_threshold_is_not_reported() -> None:
    # 9 branches + 1 = complexity 10: rank B, the default limit.
    assert HIGH_COMPLEXITY not in codes(analyze(complex_function(branches=9), "m.py"))


def test_threshold_is_configurable() -> None:
    settings = settings_from_tables({"complexity": {"max-complexity": 5}})
    assert HIGH_COMPLEXITY in codes(analyze(complex_function(branches=5), "m.py", settings))


def test_async_method_in_class_points_at_method_name() -> None:
    source = "class Box:\n    @property\n" + complex_function("run", indent="    ").replace(
        "def run", "async def run"
    )
    finding = next(f for f in analyze(source, "m.py") if f.metrics.get("kind") == "method")
    assert finding.span == Span.of(2, 14, 2, 17)
    assert "Method `Box.run`" in finding.message


def test_non_ascii_name_span_is_in_code_points() -> None:
    source = complex_function("función_😀".replace("_😀", "_漢字"))
    finding = next(f for f in analyze(source, "m.py") if f.code == HIGH_COMPLEXITY)
    line = source.splitlines()[0]
    assert line[finding.span.start.column : finding.span.end.column] == "función_漢字"


def test_low_maintainability_module_is_reported() -> None:
    # Many complex, uncommented functions drive radon's MI into rank C.
    source = "\n".join(complex_function(f"f{i}", branches=15) for i in range(25))
    findings = analyze(source, "m.py")
    finding = next(f for f in findings if f.code == LOW_MAINTAINABILITY)
    assert finding.metrics["rank"] == "C"
    assert finding.severity is Severity.INFO


def test_complexity_family_can_be_switched_off() -> None:
    settings = settings_from_tables({"complexity": {"enabled": False}})
    assert HIGH_COMPLEXITY not in codes(analyze(complex_function(), "m.py", settings))


# -- security ---------------------------------------------------------------------------------


def test_bandit_finding_carries_cwe_test_id_and_confidence() -> None:
    findings = analyze("import yaml\nyaml.load(data)\n", "m.py")
    finding = next(f for f in findings if f.code == "B506")
    assert finding.security is not None
    assert finding.security.test_id == "B506"
    assert finding.security.cwe == 20
    assert finding.security.confidence == "HIGH"
    assert finding.span.start.line == 1
    assert "bandit.readthedocs.io" in finding.docs_url


@pytest.mark.parametrize("prefix", ["é = 1; ", "漢字 = 1; ", "x = '😀'; ", "x = '\t'; "])
def test_security_columns_are_code_points(prefix: str) -> None:
    source = f"{prefix}eval(data)\n"
    finding = next(f for f in analyze(source, "m.py") if f.code == "B307")
    line = source.splitlines()[0]
    assert line[finding.span.start.column : finding.span.end.column] == "eval(data)"


def test_low_severity_or_low_confidence_is_never_an_error() -> None:
    findings = analyze("assert x\nimport subprocess\n", "m.py")
    assert {f.code for f in findings} >= {"B101", "B404"}
    assert all(f.severity is Severity.INFO for f in findings)


def test_high_severity_high_confidence_is_an_error() -> None:
    findings = analyze("import requests\nrequests.get(u, verify=False, timeout=5)\n", "m.py")
    assert next(f for f in findings if f.code == "B501").severity is Severity.ERROR


def test_nosec_without_ids_silences_the_line() -> None:
    assert "B307" not in codes(analyze("eval(data)  # nosec\n", "m.py"))


def test_nosec_with_other_id_keeps_the_finding() -> None:
    assert "B307" in codes(analyze("eval(data)  # nosec B602\n", "m.py"))
    assert "B307" not in codes(analyze("eval(data)  # nosec B307\n", "m.py"))


def test_bandit_skips_from_pyproject_are_honoured(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.bandit]\nskips = ["B101"]\n')
    settings = SettingsResolver().for_path(tmp_path / "m.py")
    findings = analyze("assert x\neval(data)\n", "m.py", settings)
    assert codes(findings) == ["B307"]


def test_bandit_tests_list_limits_to_those_tests(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.bandit]\ntests = ["B101"]\n')
    settings = SettingsResolver().for_path(tmp_path / "m.py")
    assert codes(analyze("assert x\neval(data)\n", "m.py", settings)) == ["B101"]


def test_bandit_configuration_change_between_runs_applies() -> None:
    skipping = settings_from_tables({}, {"skips": ["B101"]})
    assert codes(analyze("assert x\n", "m.py", skipping)) == []
    assert codes(analyze("assert x\n", "m.py", Settings())) == ["B101"]


def test_bandit_severity_filter() -> None:
    settings = settings_from_tables({"security": {"severity": "medium"}})
    assert codes(analyze("assert x\neval(data)\n", "m.py", settings)) == ["B307"]


def test_results_do_not_accumulate_between_runs() -> None:
    first = analyze("eval(data)\n", "a.py")
    second = analyze("eval(data)\n", "b.py")
    assert codes(first) == codes(second) == ["B307"]


def test_trojan_source_column_points_at_the_control_character() -> None:
    source = 'x = "\u202e abc"\n'
    finding = next(f for f in analyze(source, "m.py") if f.code == "B613")
    assert source[finding.span.start.column] == "\u202e"


# -- fixes ------------------------------------------------------------------------------------


def fixed(source: str) -> str:
    text, applied = apply_edits(source, safe_fix_edits(analyze(source, "m.py")))
    assert applied >= 1
    return text


def test_yaml_load_fix_round_trip() -> None:
    result = fixed("import yaml\n\ndata = yaml.load(stream)  # keep me\n")
    assert result == "import yaml\n\ndata = yaml.safe_load(stream)  # keep me\n"
    assert "B506" not in codes(analyze(result, "m.py"))


def test_yaml_load_with_loader_gets_no_automatic_fix() -> None:
    finding = next(
        f for f in analyze("import yaml\nyaml.load(s, Loader=yaml.Loader)\n", "m.py")
        if f.code == "B506"
    )  # fmt: skip
    assert finding.fixes == ()


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("requests.get(url, verify=False, timeout=3)", "requests.get(url, timeout=3)"),
        ("requests.get(url, timeout=3, verify=False)", "requests.get(url, timeout=3)"),
        ("requests.get(verify=False, url=u, timeout=3)", "requests.get(url=u, timeout=3)"),
    ],
)
def test_verify_false_fix_round_trip(before: str, after: str) -> None:
    result = fixed(f"import requests\nr = {before}\n")
    assert result == f"import requests\nr = {after}\n"
    assert "B501" not in codes(analyze(result, "m.py"))


def test_fix_on_line_with_wide_characters() -> None:
    result = fixed("import yaml\nd = {'😀': yaml.load(s)}\n")
    assert result == "import yaml\nd = {'😀': yaml.safe_load(s)}\n"


# -- settings and suppression -------------------------------------------------------------


def test_inline_ignore_with_code() -> None:
    source = "eval(a)  # clearsight: ignore[B307]\neval(b)\n"
    assert [(f.code, f.line) for f in analyze(source, "m.py")] == [("B307", 1)]


def test_inline_ignore_of_other_code_keeps_finding() -> None:
    """...and says the ignore is unused (CS-E004, a hint)."""
    assert codes(analyze("eval(a)  # clearsight: ignore[B101]\n", "m.py")) == ["B307", "CS-E004"]


def unused(source: str, settings: Settings | None = None) -> list[Finding]:
    return [f for f in analyze(source, "m.py", settings) if f.code == "CS-E004"]


def test_an_ignore_that_suppresses_nothing_is_reported_with_a_fix_that_removes_it() -> None:
    source = "x = 1  # clearsight: ignore[B307]\n"
    (finding,) = unused(source)
    assert finding.severity is Severity.HINT
    assert (finding.span.start.column, finding.span.end.column) == (7, 33)
    assert "`B307`" in finding.message
    (fix,) = finding.fixes
    assert fix.safe
    assert apply_edits(source, fix.edits)[0] == "x = 1\n"
    assert unused("x = 1  # clearsight: ignore\n")[0].message.startswith(
        "This `# clearsight: ignore` suppresses nothing"
    )
    # Only comments that trail code are judged.
    assert unused("# clearsight: ignore\nx = 1\n") == []


def test_an_ignore_that_is_partly_used_keeps_the_used_codes() -> None:
    source = "eval(a)  # clearsight: ignore[B307, CS-C001]\n"
    (finding,) = unused(source)
    assert "`CS-C001`" in finding.message and "B307" not in finding.message
    fixed = apply_edits(source, finding.fixes[0].edits)[0]
    assert fixed == "eval(a)  # clearsight: ignore[B307]\n"
    assert codes(analyze(fixed, "m.py")) == []


def test_ignores_that_cannot_be_judged_are_not_reported() -> None:
    """Codes of families switched off or not selected, unknown codes, a comment that keeps
    itself with CS-E004, a file that does not parse, a `#` inside a string."""
    off = settings_from_tables({"security": {"enabled": False}})
    assert unused("x = 1  # clearsight: ignore[B307]\n", off) == []
    assert (
        unused("x = 1  # clearsight: ignore[B307]\n", settings_from_tables({"select": ["CS-C"]}))
        == []
    )
    assert unused("x = 1  # clearsight: ignore[XYZ999]\n") == []
    assert unused("x = 1  # clearsight: ignore[B307, CS-E004]\n") == []
    assert unused("def f(:\n    pass  # clearsight: ignore[B307]\n") == []
    (finding,) = unused("s = '# clearsight: ignore'  # clearsight: ignore[B101]\n")
    assert finding.span.start.column == 28


def test_bare_inline_ignore_silences_every_code() -> None:
    assert codes(analyze("eval(a)  # clearsight: ignore\n", "m.py")) == []


def test_select_and_ignore_prefixes() -> None:
    source = "assert x\neval(a)\n" + complex_function()
    assert set(codes(analyze(source, "m.py", settings_from_tables({"select": ["B"]})))) == {
        "B101",
        "B307",
    }
    ignoring = settings_from_tables({"ignore": ["B1", HIGH_COMPLEXITY]})
    assert codes(analyze(source, "m.py", ignoring)) == ["B307"]


def test_severity_override_longest_prefix_wins() -> None:
    settings = settings_from_tables({"severity": {"B": "hint", "B307": "error"}})
    findings = {f.code: f.severity for f in analyze("assert x\neval(a)\n", "m.py", settings)}
    assert findings == {"B101": Severity.HINT, "B307": Severity.ERROR}


def test_invalid_values_are_reported_and_defaulted() -> None:
    settings = settings_from_tables(
        {
            "complexity": {"max-complexity": "ten", "enabled": "yes"},
            "security": {"confidence": "certain"},
            "severity": {"B101": "loud"},
            "colour": True,
        }
    )
    assert settings.complexity.max_complexity == 10
    assert settings.complexity.enabled is True
    assert settings.security.confidence == "LOW"
    assert settings.severity_overrides == ()
    assert len(settings.problems) == 5
    assert any("max-complexity" in p and "'ten'" in p for p in settings.problems)


def test_corrupt_pyproject_gives_defaults_and_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text("[tool.clearsight\nselect = [")
    settings = load_pyproject(path)
    assert settings.complexity.max_complexity == 10
    assert len(settings.problems) == 1 and "TOML" in settings.problems[0]


def test_settings_found_by_walking_up(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.clearsight.complexity]\nmax-complexity = 3\n")
    nested = tmp_path / "pkg" / "sub"
    nested.mkdir(parents=True)
    (nested / "pyproject.toml").write_text("[project]\nname = 'unrelated'\n")
    settings = SettingsResolver().for_path(nested / "m.py")
    assert settings.complexity.max_complexity == 3
    assert settings.root == str(tmp_path.resolve())


def test_fingerprint_changes_with_settings_that_change_findings() -> None:
    base = Settings().fingerprint()
    assert settings_from_tables({"complexity": {"max-complexity": 4}}).fingerprint() != base
    assert settings_from_tables({}, {"skips": ["B101"]}).fingerprint() != base
    assert settings_from_tables({}).fingerprint() == base


# -- bad input --------------------------------------------------------------------------------


def test_syntax_error_is_one_finding_at_the_error() -> None:
    findings = analyze("import os\n\ndef broken(:\n    pass\n", "m.py")
    assert codes(findings) == [SYNTAX_ERROR]
    assert findings[0].span.start.line == 2
    assert findings[0].severity is Severity.ERROR


def test_half_typed_code_reports_the_unclosed_bracket() -> None:
    findings = analyze("x = foo(1,\n", "m.py")
    assert codes(findings) == [SYNTAX_ERROR]
    assert findings[0].span.start == findings[0].span.start.__class__(0, 7)


def test_nul_byte_is_reported_at_its_position() -> None:
    findings = analyze("x = 1\ny = 2\0\n", "m.py")
    assert codes(findings) == [SYNTAX_ERROR]
    assert (findings[0].line, findings[0].column) == (1, 5)
    assert "NUL" in findings[0].message


def test_invalid_utf8_is_reported_and_the_rest_analysed() -> None:
    source = SourceText.from_bytes(b"x = '\xff'\neval(data)\n", "m.py")
    findings = analyze(source, "m.py")
    assert codes(findings) == [UNREADABLE, "B307"]
    assert (findings[0].line, findings[0].column) == (0, 5)


def test_pep263_latin1_file_is_decoded_by_its_cookie() -> None:
    raw = "# -*- coding: latin-1 -*-\nname = 'café'; eval(name)\n".encode("latin-1")
    findings = analyze(SourceText.from_bytes(raw, "m.py"), "m.py")
    assert codes(findings) == ["B307"]
    assert findings[0].column == len("name = 'café'; ")


def test_empty_file_has_no_findings() -> None:
    assert analyze("", "m.py") == []
    assert analyze(SourceText.from_bytes(b"", "m.py"), "m.py") == []


@pytest.mark.parametrize(
    "source",
    [
        "x = " + "-" * 5000 + "1\n",
        "x = " + "(" * 250 + "1" + ")" * 250 + "\n",
        "x = " + " + ".join(["1"] * 30000) + "\n",
    ],
    ids=["unary-chain", "parentheses", "long-sum"],
)
def test_deep_nesting_is_a_finding_not_a_crash(source: str) -> None:
    findings = analyze(source, "m.py")
    assert findings and findings[0].code in (SYNTAX_ERROR, LIMIT_REACHED)


def test_nesting_that_parses_but_exhausts_a_visitor_is_reported() -> None:
    import sys

    # 150 nested binary operations parse fine but recurse deeper than a low limit allows.
    source = "x = " + "(" * 150 + "1" + " + 1)" * 150 + "\n"
    tree_source = SourceText(source)
    assert tree_source.tree is not None
    tree_source.tokens  # noqa: B018 - tokenize before lowering the limit
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(250)
    try:
        findings = analyze(tree_source, "m.py")
    finally:
        sys.setrecursionlimit(limit)
    assert LIMIT_REACHED in codes(findings)
    assert all(f.code == LIMIT_REACHED for f in findings)


def test_file_over_the_size_limit_is_reported_not_analysed() -> None:
    settings = settings_from_tables({"limits": {"max-file-bytes": 100}})
    findings = analyze("eval(x)\n" * 50, "m.py", settings)
    assert codes(findings) == [LIMIT_REACHED]
    assert "400 bytes" in findings[0].message


class _ExplodingCheck:
    family = Family.PROVENANCE
    needs_tree = True

    def enabled(self, settings: Settings) -> bool:
        return True

    def rules(self) -> Iterable[Rule]:
        return ()

    def run(self, source: SourceText, settings: Settings) -> Iterator[Finding]:
        raise ValueError("plugin bug")


def test_a_check_that_raises_is_reported_and_others_still_run() -> None:
    findings = analyze("eval(x)\n", "m.py", checks=(_ExplodingCheck(), *CHECKS))
    assert sorted(codes(findings)) == ["B307", CHECK_FAILED]
    failure = next(f for f in findings if f.code == CHECK_FAILED)
    assert "provenance" in failure.message and "plugin bug" in failure.message


def test_a_check_that_runs_past_its_time_budget_is_stopped() -> None:
    class Slow(_ExplodingCheck):
        def run(self, source: SourceText, settings: Settings) -> Iterator[Finding]:
            while True:
                pass
            yield  # pragma: no cover

    settings = settings_from_tables({"limits": {"file-timeout": 0.2}})
    findings = analyze("eval(x)\n", "m.py", settings, checks=(Slow(), *CHECKS))
    assert sorted(codes(findings)) == ["B307", LIMIT_REACHED]


def test_every_clearsight_rule_is_documented_where_its_link_points() -> None:
    from clearsight.engine import all_rules

    docs = (Path(__file__).parent.parent / "docs" / "rules.md").read_text(encoding="utf-8")
    ours = [rule for rule in all_rules() if rule.code.startswith("CS-")]
    assert ours
    for rule in ours:
        assert f"\n### {rule.code}\n" in docs
        assert rule.docs_url.endswith(f"rules.md#{rule.code.lower()}")


def test_every_bandit_plugin_has_a_rule_with_a_docs_link() -> None:
    from bandit.core import extension_loader

    from clearsight.engine import all_rules

    rules = {rule.code: rule for rule in all_rules()}
    manager = extension_loader.MANAGER
    for test_id in [*manager.plugins_by_id, *manager.blacklist_by_id]:
        assert rules[test_id].docs_url.startswith("https://bandit.readthedocs.io/")
        assert rules[test_id].summary


@pytest.mark.parametrize(
    "raw",
    [b"# -*- coding: uft-8 -*-\nx = 1\n", b"\xef\xbb\xbf# coding: latin-1\nx = 1\n"],
    ids=["unknown-codec", "bom-contradicts-cookie"],
)
def test_a_coding_line_python_refuses_is_reported(raw: bytes) -> None:
    findings = analyze(SourceText.from_bytes(raw, "m.py"), "m.py")
    assert codes(findings) == [UNREADABLE]
    assert findings[0].line == 0 and "coding line" in findings[0].message
