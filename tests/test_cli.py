"""End-to-end specification of `clearsight check`: the real command, real files, no mocks.

Every test builds a small project under tmp_path, runs `python -m clearsight.cli.main check`
as a subprocess and asserts on its exit code, stdout and stderr (and on the files it
leaves behind: the cache, files rewritten by --fix).
"""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import jsonschema
import pytest

TESTS = Path(__file__).resolve().parent
SARIF_PACKAGE = "@microsoft/jest-sarif"
SARIF_SCHEMA_IN_PACKAGE = "package/lib/schemas/sarif-2.1.0-rtm.5.json"

# Findings every test can rely on (positions are 1-based, as every format prints them).
YAML_LOAD = "import yaml\n\n\ndef load(text):\n    return yaml.load(text)\n"  # B506 at 5:12
ASSERT = "def check(x):\n    assert x\n"  # B101 at 2:5
CLEAN = "def add(a, b):\n    return a + b\n"
# A dataflow finding (CS-S001 at 6:12) whose path is lines 5 and 6.
FLOW = (
    "from flask import Flask, request\napp = Flask(__name__)\n\n@app.route('/f')\n"
    "def f():\n    name = request.args['name']\n    return open(name).read()\n"
)


def branches(name: str, count: int) -> str:
    """A function with `count` ifs: cyclomatic complexity count + 1."""
    body = "".join(f"    if x == {i}:\n        return {i}\n" for i in range(count))
    return f"def {name}(x):\n{body}    return -1\n"


# -- running the command --------------------------------------------------------------------


@dataclass
class Run:
    returncode: int
    stdout_bytes: bytes
    stderr: str
    seconds: float

    @property
    def stdout(self) -> str:
        return self.stdout_bytes.decode("utf-8", "surrogateescape")

    def json(self) -> dict[str, Any]:
        return json.loads(self.stdout)

    def codes(self) -> list[str]:
        return [finding["code"] for finding in self.json()["findings"]]


def clearsight(
    *args: str | Path,
    cwd: Path,
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60,
) -> Run:
    """Run `clearsight check ARGS` in `cwd`; fail on a traceback, whatever the exit code."""
    command = [sys.executable, "-m", "clearsight.cli.main", "check", *map(str, args)]
    started = time.monotonic()
    completed = subprocess.run(
        command,
        cwd=cwd,
        input=stdin if stdin is not None else b"",
        capture_output=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
    stderr = completed.stderr.decode("utf-8", "replace")
    assert "Traceback" not in stderr, stderr
    return Run(completed.returncode, completed.stdout, stderr, time.monotonic() - started)


def clearsight_each(*commands: tuple[str | Path, ...], cwd: Path, **options: Any) -> list[Run]:
    """Independent runs of the command side by side (they share nothing but the project)."""
    with ThreadPoolExecutor(max_workers=len(commands)) as pool:
        return list(pool.map(lambda args: clearsight(*args, cwd=cwd, **options), commands))


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def paths_and_codes(run: Run) -> set[tuple[str, str]]:
    return {(finding["path"], finding["code"]) for finding in run.json()["findings"]}


# -- output formats -------------------------------------------------------------------------


def test_text_format_shows_location_code_severity_message_and_source_line(tmp_path: Path) -> None:
    write(tmp_path, {"loader.py": YAML_LOAD})
    run = clearsight("--no-cache", cwd=tmp_path)
    lines = run.stdout.splitlines()
    assert lines[0].startswith("loader.py:5:12: B506 [warning] Use of unsafe yaml load.")
    assert lines[1] == "        return yaml.load(text)"
    assert lines[2] == "               " + "^" * len("yaml.load(text)")
    assert lines[-1] == "Found 1 finding in 1 file (1 warning)."
    assert "\x1b[" not in run.stdout  # no colour codes when stdout is not a terminal


def test_quiet_text_output_has_no_summary_line(tmp_path: Path) -> None:
    write(tmp_path, {"loader.py": YAML_LOAD})
    run = clearsight("--no-cache", "-q", cwd=tmp_path)
    assert run.stdout.startswith("loader.py:5:12: B506")
    assert "Found" not in run.stdout


def test_json_format_lists_findings_with_path_line_column_and_code(tmp_path: Path) -> None:
    write(tmp_path, {"loader.py": YAML_LOAD, "pkg/checks.py": ASSERT, "clean.py": CLEAN})
    document = clearsight("--no-cache", "--format", "json", cwd=tmp_path).json()
    assert document["files_checked"] == 3
    found = {(f["path"], f["line"], f["column"], f["code"]) for f in document["findings"]}
    assert found == {("loader.py", 5, 12, "B506"), ("pkg/checks.py", 2, 5, "B101")}
    yaml_finding = next(f for f in document["findings"] if f["code"] == "B506")
    assert yaml_finding["severity"] == "warning"
    assert yaml_finding["end_line"] == 5
    assert yaml_finding["end_column"] == 12 + len("yaml.load(text)")


def test_github_format_writes_one_annotation_per_finding(tmp_path: Path) -> None:
    write(tmp_path, {"loader.py": YAML_LOAD, "pkg/checks.py": ASSERT})
    run = clearsight("--no-cache", "--format", "github", cwd=tmp_path)
    assert run.returncode == 1
    lines = run.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(
        "::warning file=loader.py,line=5,col=12,endLine=5,endColumn=27,title=B506::"
        "B506 Use of unsafe yaml load."
    )
    # bandit's low severity is shown as a notice, never as an error.
    assert lines[1].startswith("::notice file=pkg/checks.py,line=2,col=5,")


def test_github_format_escapes_percent_newline_comma_and_colon(tmp_path: Path) -> None:
    # B105 quotes the string literal in its message: a real "%", "," ":" and newline.
    write(tmp_path, {"50% a,b:c.py": 'password = "50%,\\nx:y"\n'})
    run = clearsight("--no-cache", "--format", "github", cwd=tmp_path)
    lines = run.stdout.splitlines()
    assert len(lines) == 1  # the message's newline does not start a second line
    properties, message = lines[0].split("::")[1:]
    # In properties "%", "," and ":" are escaped; in the message only "%" and line breaks.
    assert properties.startswith("notice file=50%25 a%2Cb%3Ac.py,line=1,col=12,")
    assert message == (
        "B105 Possible hardcoded password: '50%25,%0Ax:y' "
        "(CWE-259, severity low, confidence medium)"
    )


def test_text_format_keeps_one_line_per_finding_when_a_message_holds_a_newline(
    tmp_path: Path,
) -> None:
    write(tmp_path, {"secrets.py": 'password = "line one\\nline two\\x1b[31m"\n'})
    run = clearsight("--no-cache", "-q", cwd=tmp_path)
    headline, source, caret = run.stdout.splitlines()
    assert headline.startswith("secrets.py:1:12: B105 [info] Possible hardcoded password:")
    assert "line one" in headline and "line two" in headline
    assert "\x1b" not in run.stdout  # no escape sequence from the file reaches the terminal
    assert source == '    password = "line one\\nline two\\x1b[31m"'
    assert caret.startswith("    " + " " * 11 + "^")


def test_columns_are_counted_in_code_points_in_every_format(tmp_path: Path) -> None:
    # "é" is two UTF-8 bytes and "😀" four (two UTF-16 units); each is one code point.
    write(tmp_path, {"wide.py": 'import yaml\ns = "é😀"; yaml.load(s)\n'})
    text, data, github, sarif = clearsight_each(
        *[("--no-cache", "--format", name) for name in ("text", "json", "github", "sarif")],
        cwd=tmp_path,
    )
    assert text.stdout.startswith("wide.py:2:11: B506")
    assert text.stdout.splitlines()[2] == "    " + " " * 10 + "^" * len("yaml.load(s)")
    [finding] = data.json()["findings"]
    assert (finding["column"], finding["end_column"]) == (11, 23)
    assert ",line=2,col=11,endLine=2,endColumn=23," in github.stdout
    region = sarif.json()["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
    assert (region["startColumn"], region["endColumn"]) == (11, 23)


# -- SARIF ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sarif_schema() -> dict[str, Any]:
    """The official SARIF 2.1.0 schema, as the npm package @microsoft/jest-sarif ships it.

    Fetched once with `npm pack` into tests/.cache (git-ignored) and reused after that.
    """
    cache = TESTS / ".cache" / "jest-sarif"
    schema = cache / SARIF_SCHEMA_IN_PACKAGE
    if not schema.is_file():
        npm = shutil.which("npm")
        assert npm, "npm is needed once to fetch the SARIF schema package"
        cache.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=cache.parent) as scratch:
            packed = subprocess.run(
                [npm, "pack", SARIF_PACKAGE, "--json"],
                cwd=scratch,
                capture_output=True,
                text=True,
                timeout=120,
                check=True,
            )
            tarball = Path(scratch) / json.loads(packed.stdout)[0]["filename"]
            unpacked = Path(scratch) / "unpacked"
            with tarfile.open(tarball) as archive:
                if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4 / 3.10.12
                    archive.extractall(unpacked, filter="data")
                else:
                    archive.extractall(unpacked)  # the npm registry's own package
            try:
                os.replace(unpacked, cache)  # atomic: a parallel session sees all or nothing
            except OSError:
                if not schema.is_file():  # not just another session that got there first
                    raise
    return json.loads(schema.read_text(encoding="utf-8"))


def validate_sarif(document: dict[str, Any], schema: dict[str, Any]) -> None:
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])


# RFC 3986 URI-reference characters; a relative reference's first segment has no ":".
_URI_REFERENCE = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*")


def artifact_uris(document: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [
        (
            location["physicalLocation"]["artifactLocation"]["uri"],
            location["physicalLocation"]["artifactLocation"].get("uriBaseId"),
        )
        for result in document["runs"][0]["results"]
        for location in result["locations"]
    ]


@dataclass
class SarifRun:
    project: Path
    outside: Path
    run: Run

    @property
    def document(self) -> dict[str, Any]:
        return self.run.json()


@pytest.fixture(scope="module")
def varied_sarif(tmp_path_factory: pytest.TempPathFactory) -> SarifRun:
    """One SARIF run over findings of every kind the engine reports, in awkward file names."""
    root = tmp_path_factory.mktemp("sarif")
    project = write(
        root / "project",
        {
            "loader.py": YAML_LOAD,
            "net.py": "import requests\n\nrequests.get('https://x', verify=False, timeout=5)\n",
            "complex.py": branches("decide", 12),
            "broken.py": "def f(:\n    pass\n",
            "latin.py": b'name = "caf\xe9"\n',
            "with space #1 %.py": ASSERT,
            "scheme:like.py": ASSERT,
            "clean.py": CLEAN,
            "flows.py": FLOW,
        },
    )
    (project / "unreadable.py").symlink_to("/proc/self/mem")  # EIO even for root
    (project / "link.py").symlink_to("loader.py")
    outside = write(root, {"outside/elsewhere.py": ASSERT}) / "outside" / "elsewhere.py"
    run = clearsight("--no-cache", "--format", "sarif", ".", outside, cwd=project)
    return SarifRun(project, outside, run)


def test_sarif_output_validates_against_the_sarif_2_1_0_schema(
    varied_sarif: SarifRun, sarif_schema: dict[str, Any]
) -> None:
    assert varied_sarif.run.returncode == 2  # unreadable.py
    document = varied_sarif.document
    codes = {result["ruleId"] for result in document["runs"][0]["results"]}
    assert {"B506", "B501", "B101", "CS-C001", "CS-E001", "CS-E002"} <= codes
    validate_sarif(document, sarif_schema)


def test_sarif_carries_a_dataflow_finding_s_path_as_a_code_flow(varied_sarif: SarifRun) -> None:
    run = varied_sarif.document["runs"][0]
    (flow,) = [r for r in run["results"] if r["ruleId"] == "CS-S001"]
    steps = flow["codeFlows"][0]["threadFlows"][0]["locations"]
    lines = [s["location"]["physicalLocation"]["region"]["startLine"] for s in steps]
    assert lines == [6, 6, 7]
    assert steps[0]["location"]["message"]["text"].startswith("source: the request parameter")
    assert steps[-1]["location"]["message"]["text"].startswith("sink:")
    rule = run["tool"]["driver"]["rules"][flow["ruleIndex"]]
    assert "external/cwe/cwe-22" in rule["properties"]["tags"]
    assert float(rule["properties"]["security-severity"]) > 0


def test_sarif_without_findings_validates(tmp_path: Path, sarif_schema: dict[str, Any]) -> None:
    write(tmp_path, {"clean.py": CLEAN})
    run = clearsight("--no-cache", "--format", "sarif", cwd=tmp_path)
    assert run.returncode == 0
    document = run.json()
    assert document["runs"][0]["results"] == []
    validate_sarif(document, sarif_schema)


def test_sarif_rules_and_results_point_at_each_other(varied_sarif: SarifRun) -> None:
    sarif_run = varied_sarif.document["runs"][0]
    assert sarif_run["columnKind"] == "unicodeCodePoints"
    rules = sarif_run["tool"]["driver"]["rules"]
    assert len({rule["id"] for rule in rules}) == len(rules)
    for rule in rules:
        assert rule["helpUri"].startswith("https://")
    for result in sarif_run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


def test_sarif_bandit_results_carry_the_bandit_id_and_its_docs(varied_sarif: SarifRun) -> None:
    sarif_run = varied_sarif.document["runs"][0]
    rules = sarif_run["tool"]["driver"]["rules"]
    yaml_result = next(
        result
        for result in sarif_run["results"]
        if result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "loader.py"
    )
    location = yaml_result["locations"][0]["physicalLocation"]
    assert yaml_result["ruleId"] == "B506"
    assert (location["region"]["startLine"], location["region"]["startColumn"]) == (5, 12)
    rule = rules[yaml_result["ruleIndex"]]
    assert rule["id"] == "B506"
    assert "bandit" in rule["helpUri"] and "b506" in rule["helpUri"]
    assert "security" in rule["properties"]["tags"]
    assert yaml_result["properties"]["cwe"] == "CWE-20"


def test_sarif_rule_descriptions_are_prose_not_module_names(varied_sarif: SarifRun) -> None:
    rules = varied_sarif.document["runs"][0]["tool"]["driver"]["rules"]
    descriptions = {rule["id"]: rule["shortDescription"]["text"] for rule in rules}
    assert "yaml" in descriptions["B506"].lower()
    assert not [text for text in descriptions.values() if text.startswith("bandit.")], descriptions


def test_sarif_artifact_uris_are_valid_uri_references_for_awkward_names(
    varied_sarif: SarifRun,
) -> None:
    document = varied_sarif.document
    uris = artifact_uris(document)
    for uri, base in uris:
        assert _URI_REFERENCE.fullmatch(uri), uri
        if base is not None:
            assert ":" not in uri.split("/")[0], uri  # it would read as a URI scheme
    relative = {unquote(uri) for uri, base in uris if base == "%SRCROOT%"}
    # A symbolic link is reported under its own name, as the other formats do.
    assert {"with space #1 %.py", "scheme:like.py", "loader.py", "link.py"} <= relative
    absolute = [uri for uri, base in uris if base is None]
    assert absolute == [varied_sarif.outside.resolve().as_uri()]
    root = document["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert root == varied_sarif.project.resolve().as_uri() + "/"


# -- exit codes and selection ---------------------------------------------------------------


def test_exit_code_is_0_without_findings(tmp_path: Path) -> None:
    write(tmp_path, {"clean.py": CLEAN})
    run = clearsight("--no-cache", cwd=tmp_path)
    assert (run.returncode, run.stdout) == (0, "Found 0 findings in 1 file.\n")


def test_exit_code_is_1_with_findings(tmp_path: Path) -> None:
    write(tmp_path, {"clean.py": CLEAN, "loader.py": YAML_LOAD})
    assert clearsight("--no-cache", cwd=tmp_path).returncode == 1


def test_exit_zero_reports_findings_but_exits_0(tmp_path: Path) -> None:
    write(tmp_path, {"loader.py": YAML_LOAD})
    run = clearsight("--no-cache", "--exit-zero", cwd=tmp_path)
    assert run.returncode == 0
    assert "B506" in run.stdout


def test_fail_on_sets_the_least_severity_that_fails(tmp_path: Path) -> None:
    """`import subprocess` alone is information (bandit: low severity); yaml.load is a
    warning or louder. Every finding is reported whatever --fail-on says."""
    write(tmp_path, {"imports.py": "import subprocess\n"})
    assert clearsight("--no-cache", cwd=tmp_path).returncode == 1  # any finding, by default
    quiet = clearsight("--no-cache", "--fail-on", "warning", cwd=tmp_path)
    assert quiet.returncode == 0
    assert "B404 [info]" in quiet.stdout
    write(tmp_path, {"loader.py": YAML_LOAD})
    loud = clearsight("--no-cache", "--fail-on", "warning", cwd=tmp_path)
    assert loud.returncode == 1
    assert "B506" in loud.stdout and "B404" in loud.stdout
    bad = clearsight("--no-cache", "--fail-on", "loud", cwd=tmp_path)
    assert bad.returncode == 2
    assert "invalid choice" in bad.stderr


def test_missing_path_exits_2_with_a_clear_message_and_checks_the_rest(tmp_path: Path) -> None:
    write(tmp_path, {"loader.py": YAML_LOAD})
    run = clearsight("--no-cache", "loader.py", "nope.py", cwd=tmp_path)
    assert run.returncode == 2
    assert run.stderr == "clearsight: error: nope.py: does not exist\n"
    assert "loader.py:5:12: B506" in run.stdout


def test_a_broken_symlink_is_an_error_even_with_exit_zero(tmp_path: Path) -> None:
    write(tmp_path, {"loader.py": YAML_LOAD})
    (tmp_path / "gone.py").symlink_to("deleted.py")
    run = clearsight("--no-cache", "--exit-zero", cwd=tmp_path)
    assert run.returncode == 2
    assert run.stderr == "clearsight: error: gone.py: is a broken symbolic link\n"
    assert "loader.py:5:12: B506" in run.stdout


def test_bad_jobs_value_is_an_error_without_traceback(tmp_path: Path) -> None:
    write(tmp_path, {"clean.py": CLEAN})
    run = clearsight("--no-cache", "--jobs", "0", cwd=tmp_path)
    assert run.returncode == 2
    assert "--jobs must be at least 1" in run.stderr


@pytest.fixture
def mixed_project(tmp_path: Path) -> Path:
    return write(
        tmp_path,
        {
            "loader.py": YAML_LOAD,  # B506
            "checks.py": ASSERT,  # B101
            "complex.py": branches("decide", 12),  # CS-C001
            "broken.py": "x = (\n",  # CS-E001
        },
    )


def test_select_keeps_only_the_listed_codes_and_prefixes(mixed_project: Path) -> None:
    run = clearsight("--no-cache", "--format", "json", "--select", "b5,CS-E", cwd=mixed_project)
    assert sorted(run.codes()) == ["B506", "CS-E001"]


def test_ignore_drops_the_listed_codes_and_prefixes(mixed_project: Path) -> None:
    run = clearsight("--no-cache", "--format", "json", "--ignore", "B,CS-E001", cwd=mixed_project)
    assert run.codes() == ["CS-C001"]


def test_select_from_settings_applies_when_the_command_line_has_none(mixed_project: Path) -> None:
    write(mixed_project, {"pyproject.toml": '[tool.clearsight]\nselect = ["CS-C"]\n'})
    run = clearsight("--no-cache", "--format", "json", cwd=mixed_project)
    assert run.codes() == ["CS-C001"]


def test_inline_ignore_with_a_code_silences_only_that_code(tmp_path: Path) -> None:
    source = (
        "import subprocess\n"
        "subprocess.call('ls', shell=True)  # clearsight: ignore[B602]\n"
        "subprocess.call('ls', shell=True)  # clearsight: ignore\n"
        "subprocess.call('ls', shell=True)\n"
    )
    write(tmp_path, {"run.py": source})
    run = clearsight("--no-cache", "--format", "json", "--ignore", "B404", cwd=tmp_path)
    found = sorted((f["line"], f["code"]) for f in run.json()["findings"])
    assert found == [(2, "B607"), (4, "B602"), (4, "B607")]


def test_nosec_silences_bandit_findings_on_its_line(tmp_path: Path) -> None:
    source = (
        "import subprocess  # nosec\n"
        "subprocess.call('ls', shell=True)  # nosec B602\n"
        "subprocess.call('ls', shell=True)  # nosec\n"
        "subprocess.call('ls', shell=True)\n"
    )
    write(tmp_path, {"run.py": source})
    run = clearsight("--no-cache", "--format", "json", cwd=tmp_path)
    found = sorted((f["line"], f["code"]) for f in run.json()["findings"])
    assert found == [(2, "B607"), (4, "B602"), (4, "B607")]


def test_tool_bandit_skips_turn_those_tests_off(tmp_path: Path) -> None:
    write(tmp_path, {"checks.py": ASSERT, "loader.py": YAML_LOAD})
    write(tmp_path, {"pyproject.toml": '[tool.bandit]\nskips = ["B101"]\n'})
    run = clearsight("--no-cache", "--format", "json", cwd=tmp_path)
    assert run.codes() == ["B506"]


def test_security_severity_threshold_drops_lower_findings(tmp_path: Path) -> None:
    write(tmp_path, {"checks.py": ASSERT, "loader.py": YAML_LOAD})
    write(tmp_path, {"pyproject.toml": '[tool.clearsight.security]\nseverity = "medium"\n'})
    run = clearsight("--no-cache", "--format", "json", cwd=tmp_path)
    assert run.codes() == ["B506"]  # B101 is low severity


def test_a_check_family_can_be_turned_off(tmp_path: Path) -> None:
    both = YAML_LOAD + "\n\n" + branches("decide", 12)
    write(
        tmp_path,
        {
            "no_security/pyproject.toml": "[tool.clearsight.security]\nenabled = false\n",
            "no_security/both.py": both,
            "no_complexity/pyproject.toml": "[tool.clearsight.complexity]\nenabled = false\n",
            "no_complexity/both.py": both,
        },
    )
    run = clearsight("--no-cache", "--format", "json", cwd=tmp_path)
    assert paths_and_codes(run) == {
        ("no_security/both.py", "CS-C001"),
        ("no_complexity/both.py", "B506"),
    }


def test_severity_override_changes_the_reported_severity(tmp_path: Path) -> None:
    write(tmp_path, {"loader.py": YAML_LOAD, "checks.py": ASSERT})
    write(
        tmp_path,
        {"pyproject.toml": '[tool.clearsight.severity]\nB506 = "hint"\nB1 = "error"\n'},
    )
    text, github = clearsight_each(
        ("--no-cache",), ("--no-cache", "--format", "github"), cwd=tmp_path
    )
    assert "loader.py:5:12: B506 [hint]" in text.stdout
    assert "checks.py:2:5: B101 [error]" in text.stdout
    assert "::error file=checks.py," in github.stdout
    assert "::notice file=loader.py," in github.stdout


def test_settings_come_from_the_nearest_pyproject_above_the_file(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pyproject.toml": "[tool.clearsight.complexity]\nmax-complexity = 3\n",
            "top.py": branches("top", 4),
            "sub/pyproject.toml": "[tool.clearsight.complexity]\nmax-complexity = 20\n",
            "sub/deep/inner.py": branches("inner", 4),
            "other/pyproject.toml": "[project]\nname = 'not-configured'\n",
            "other/plain.py": branches("plain", 4),
        },
    )
    run = clearsight("--no-cache", "--format", "json", cwd=tmp_path)
    # other/pyproject.toml has no [tool.clearsight]: the root's settings still apply there.
    assert paths_and_codes(run) == {("top.py", "CS-C001"), ("other/plain.py", "CS-C001")}


def test_an_invalid_setting_is_reported_once_and_its_default_used(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": '[tool.clearsight.complexity]\nmax-complexity = "ten"\n'})
    for index in range(3):
        write(tmp_path, {f"pkg{index}/m.py": branches(f"f{index}", 9 + index)})  # 3 folders
    run = clearsight("--no-cache", "--format", "json", "--jobs", "2", cwd=tmp_path)
    assert run.stderr == (
        "clearsight: warning: tool.clearsight.complexity.max-complexity: expected a positive "
        "integer, got 'ten'; using 10\n"
    )
    # Complexities 10, 11 and 12: the default limit of 10 flags the two above it.
    assert paths_and_codes(run) == {("pkg1/m.py", "CS-C001"), ("pkg2/m.py", "CS-C001")}
    assert run.returncode == 1


def test_an_invalid_severity_override_is_reported_and_ignored(tmp_path: Path) -> None:
    write(tmp_path, {"loader.py": YAML_LOAD})
    write(tmp_path, {"pyproject.toml": '[tool.clearsight.severity]\nB506 = "loud"\n'})
    run = clearsight("--no-cache", "--format", "json", cwd=tmp_path)
    assert run.stderr.count("clearsight: warning: tool.clearsight.severity.B506") == 1
    assert [f["severity"] for f in run.json()["findings"]] == ["warning"]


def test_a_corrupt_pyproject_is_reported_and_default_settings_used(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": "[tool.clearsight\nselect = [\n", "loader.py": YAML_LOAD})
    write(tmp_path, {"complex.py": branches("decide", 12)})
    run = clearsight("--no-cache", "--format", "json", cwd=tmp_path)
    assert run.returncode == 1
    assert run.stderr.startswith("clearsight: warning: ")
    assert "pyproject.toml: could not be read as TOML" in run.stderr
    assert run.stderr.count("\n") == 1
    assert sorted(run.codes()) == ["B506", "CS-C001"]


def test_a_file_over_max_file_bytes_is_reported_not_analysed(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": "[tool.clearsight.limits]\nmax-file-bytes = 100\n"})
    write(tmp_path, {"big.py": YAML_LOAD + "# padding\n" * 20, "loader.py": YAML_LOAD})
    run = clearsight("--no-cache", "--format", "json", cwd=tmp_path)
    found = {(f["path"], f["code"]): f["message"] for f in run.json()["findings"]}
    assert set(found) == {("big.py", "CS-E005"), ("loader.py", "B506")}
    assert "over the 100-byte limit" in found[("big.py", "CS-E005")]


def test_a_file_of_a_gigabyte_is_reported_over_the_limit_without_being_read(
    tmp_path: Path,
) -> None:
    # Sparse: a gigabyte on no disk. Read whole (and decoded, and sent to a worker) it
    # would take gigabytes of memory; the peak of the run and its workers stays small.
    with open(tmp_path / "huge.py", "wb") as handle:
        handle.truncate(1 << 30)
    write(tmp_path, {"loader.py": YAML_LOAD})
    measure = (
        "import resource, subprocess, sys; "
        "done = subprocess.run(sys.argv[1:], capture_output=True); "
        "sys.stdout.buffer.write(done.stdout); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)"
    )
    command = [sys.executable, "-m", "clearsight.cli.main", "check", "--no-cache"]
    completed = subprocess.run(
        [sys.executable, "-c", measure, *command, "--format", "json", "--jobs", "2"],
        cwd=tmp_path,
        capture_output=True,
        timeout=120,
    )
    findings = json.loads(completed.stdout)["findings"]
    found = {(f["path"], f["code"]): f["message"] for f in findings}
    assert set(found) == {("huge.py", "CS-E005"), ("loader.py", "B506")}
    assert (
        "File is 1,073,741,824 bytes, over the 4,000,000-byte limit"
        in found[("huge.py", "CS-E005")]
    )
    peak_kib = int(completed.stderr.split()[-1])
    assert peak_kib < 300 * 1024, f"peak resident size {peak_kib} KiB"


def test_a_file_over_the_time_limit_is_reported_and_not_cached(tmp_path: Path) -> None:
    project = write(tmp_path / "project", {"loader.py": YAML_LOAD})
    write(project, {"pyproject.toml": "[tool.clearsight.limits]\nfile-timeout = 0.000001\n"})
    cache = tmp_path / "cache"
    run = clearsight("--cache-dir", cache, "--format", "json", cwd=project)
    assert run.returncode == 1
    assert set(run.codes()) == {"CS-E005"}
    assert "file-timeout" in run.json()["findings"][0]["message"]
    # Running out of time depends on the machine's load: the next run tries again.
    assert cache_entries(cache) == {}


def test_tool_clearsight_written_with_dotted_keys_is_read(tmp_path: Path) -> None:
    # [tool] + `clearsight.select = ...` is the same TOML table as [tool.clearsight].
    write(tmp_path, {"pyproject.toml": '[tool]\nclearsight.select = ["B506"]\n'})
    write(tmp_path, {"loader.py": YAML_LOAD, "checks.py": ASSERT})
    run = clearsight("--no-cache", "--format", "json", cwd=tmp_path)
    assert run.codes() == ["B506"]


def test_a_pyproject_mentioning_tool_clearsight_in_a_comment_does_not_hide_the_parent_settings(
    tmp_path: Path,
) -> None:
    write(tmp_path, {"pyproject.toml": '[tool.bandit]\nskips = ["B101"]\n'})
    write(
        tmp_path,
        {
            "sub/pyproject.toml": '[project]\nname = "sub"\n# lint: see [tool.clearsight] above\n',
            "sub/checks.py": ASSERT,
        },
    )
    run = clearsight("--no-cache", "--format", "json", cwd=tmp_path)
    assert run.codes() == []


def test_codes_in_settings_match_case_insensitively_like_the_command_line(tmp_path: Path) -> None:
    write(tmp_path, {"loader.py": YAML_LOAD, "checks.py": ASSERT})
    assert clearsight(
        "--no-cache", "--format", "json", "--select", "b506", cwd=tmp_path
    ).codes() == ["B506"]
    write(tmp_path, {"pyproject.toml": '[tool.clearsight]\nselect = ["b506"]\n'})
    run = clearsight("--no-cache", "--format", "json", cwd=tmp_path)
    assert run.codes() == ["B506"]  # not silently nothing (and exit 0)


# -- cache ----------------------------------------------------------------------------------


def cache_entries(cache: Path) -> dict[Path, tuple[int, int]]:
    """Every finding entry in the cache, with (inode, mtime_ns): a rewrite changes both."""
    return {
        path: (path.stat().st_ino, path.stat().st_mtime_ns)
        for path in cache.rglob("*.json")
        if path.is_file()
    }


@pytest.fixture
def cached_project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    write(project, {"loader.py": YAML_LOAD, "checks.py": ASSERT, "clean.py": CLEAN})
    return project


def test_a_second_run_is_served_from_the_cache(cached_project: Path) -> None:
    cache = cached_project.parent / "cache"
    first = clearsight("--cache-dir", cache, cwd=cached_project)
    entries = cache_entries(cache)
    assert len(entries) == 3  # one per file
    second = clearsight("--cache-dir", cache, cwd=cached_project)
    assert (second.returncode, second.stdout) == (first.returncode, first.stdout)
    assert cache_entries(cache) == entries  # nothing was analysed and written again


def test_the_same_environment_under_another_name_is_served_from_the_cache(
    cached_project: Path,
) -> None:
    names = [Path(sys.executable).parent / name for name in ("python", "python3")]
    if not all(name.exists() for name in names):
        pytest.skip("this environment has no python and python3 side by side")
    cache = cached_project.parent / "cache"
    runs = []
    for interpreter in names:
        command = [str(interpreter), "-m", "clearsight.cli.main", "check", "--cache-dir"]
        runs.append(
            subprocess.run(
                [*command, str(cache), "--format", "json"], cwd=cached_project,
                capture_output=True, timeout=60,
            )
        )  # fmt: skip
        if len(runs) == 1:
            entries = cache_entries(cache)
    assert runs[0].stdout == runs[1].stdout
    assert cache_entries(cache) == entries  # the second name found the first one's entries


def test_cached_findings_are_what_the_second_run_reports(cached_project: Path) -> None:
    cache = cached_project.parent / "cache"
    clearsight("--cache-dir", cache, "loader.py", cwd=cached_project)
    [entry] = cache_entries(cache)
    findings = json.loads(entry.read_text())
    findings[0]["message"] = "served from the cache"
    entry.write_text(json.dumps(findings))
    run = clearsight("--cache-dir", cache, "loader.py", cwd=cached_project)
    assert "loader.py:5:12: B506 [warning] served from the cache" in run.stdout


def test_fingerprints_are_served_from_the_cache_and_recomputed_when_damaged(
    cached_project: Path,
) -> None:
    cache = cached_project.parent / "cache"
    fresh = clearsight("--cache-dir", cache, "--format", "json", "loader.py", cwd=cached_project)
    [entry] = cache_entries(cache)
    items = json.loads(entry.read_text())
    scope, line_text, fingerprint = items[0]["place"]
    assert fingerprint == fresh.json()["findings"][0]["fingerprint"]
    # A warm run does not read and parse the file again to fingerprint its findings.
    items[0]["place"] = [scope, line_text, "from-the-cache"]
    entry.write_text(json.dumps(items))
    served = clearsight("--cache-dir", cache, "--format", "json", "loader.py", cwd=cached_project)
    assert served.json()["findings"][0]["fingerprint"] == "from-the-cache"
    # A damaged place is worked out again from the text, as the first run did.
    items[0]["place"] = [scope, 3]
    entry.write_text(json.dumps(items))
    again = clearsight("--cache-dir", cache, "--format", "json", "loader.py", cwd=cached_project)
    assert again.json() == fresh.json()


def test_editing_a_file_misses_the_cache(cached_project: Path) -> None:
    cache = cached_project.parent / "cache"
    clearsight("--cache-dir", cache, cwd=cached_project)
    before = cache_entries(cache)
    write(cached_project, {"clean.py": CLEAN + "\n\n" + YAML_LOAD})
    run = clearsight("--cache-dir", cache, "--format", "json", cwd=cached_project)
    after = cache_entries(cache)
    assert len(after) == len(before) + 1
    assert {path: after[path] for path in before} == before  # the others were hits
    assert ("clean.py", "B506") in paths_and_codes(run)


def test_changing_max_complexity_invalidates_cached_findings(tmp_path: Path) -> None:
    project = write(tmp_path / "project", {"decide.py": branches("decide", 6)})  # complexity 7
    cache = tmp_path / "cache"

    def codes() -> list[str]:
        return clearsight("--cache-dir", cache, "--format", "json", cwd=project).codes()

    assert codes() == []
    write(project, {"pyproject.toml": "[tool.clearsight.complexity]\nmax-complexity = 6\n"})
    assert codes() == ["CS-C001"]
    write(project, {"pyproject.toml": "[tool.clearsight.complexity]\nmax-complexity = 7\n"})
    assert codes() == []
    assert len(cache_entries(cache)) == 3  # one entry per settings fingerprint


def test_no_cache_neither_writes_a_cache_nor_creates_its_folder(cached_project: Path) -> None:
    runs = clearsight_each(
        ("--no-cache",),
        ("--no-cache", "--cache-dir", cached_project.parent / "c"),
        cwd=cached_project,
    )
    assert [run.returncode for run in runs] == [1, 1]
    assert not (cached_project / ".clearsight_cache").exists()
    assert not (cached_project.parent / "c").exists()


def test_default_cache_lives_in_the_working_folder_and_is_not_checked(
    cached_project: Path,
) -> None:
    first = clearsight("--format", "json", cwd=cached_project)
    cache = cached_project / ".clearsight_cache"
    assert len(cache_entries(cache)) == 3
    assert (cache / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172")
    second = clearsight("--format", "json", cwd=cached_project)
    assert second.json()["files_checked"] == first.json()["files_checked"] == 3


CORRUPT_ENTRIES = [
    b"\xff\xfe\x00 not even text",
    b'[{"code": "B506", "fam',  # a write cut short
    b'{"findings": []}',
    b'[{"code": "B506"}]',
    b"[1, 2]",
    b"null",
    b'[{"code": "B506", "family": "security", "severity": "warning", "message": "m",'
    b' "span": {"start": {"line": "5", "column": 11}, "end": {"line": 4, "column": 26}}}]',
]


def test_corrupt_cache_entries_are_misses(tmp_path: Path) -> None:
    project = tmp_path / "project"
    for index in range(len(CORRUPT_ENTRIES)):
        write(project, {f"m{index}.py": f"{YAML_LOAD}\n\nN = {index}\n"})
    cache = tmp_path / "cache"
    fresh = clearsight("--cache-dir", cache, "--format", "json", cwd=project)
    entries = sorted(cache_entries(cache))
    assert len(entries) == len(CORRUPT_ENTRIES)
    for entry, garbage in zip(entries, CORRUPT_ENTRIES, strict=True):
        entry.write_bytes(garbage)
    run = clearsight("--cache-dir", cache, "--format", "json", cwd=project)
    assert (run.returncode, run.json()) == (fresh.returncode, fresh.json())
    for entry in entries:  # each file was analysed again and its entry rewritten whole
        assert json.loads(entry.read_text())[0]["code"] == "B506"


# -- --fix ----------------------------------------------------------------------------------

FIXABLE = (
    "import requests\n"
    "import yaml\n"
    "\n"
    "\n"
    "def fetch(url, text):\n"
    "    # keep this comment\n"
    "    data = yaml.load(text)  # and this one\n"
    "    reply = requests.get(url, verify=False, timeout=10)\n"
    "    return data, reply\n"
)
FIXED = FIXABLE.replace("yaml.load(", "yaml.safe_load(").replace("verify=False, ", "")


def test_fix_rewrites_the_file_and_the_findings_are_gone(tmp_path: Path) -> None:
    write(tmp_path, {"fetch.py": FIXABLE})
    before = clearsight("--no-cache", "--format", "json", cwd=tmp_path)
    assert sorted(before.codes()) == ["B501", "B506"]
    fixed = clearsight("--no-cache", "--fix", cwd=tmp_path)
    assert fixed.returncode == 0
    assert "Applied 2 fixes." in fixed.stderr
    assert (tmp_path / "fetch.py").read_text() == FIXED
    after = clearsight("--no-cache", "--format", "json", cwd=tmp_path)
    assert (after.returncode, after.codes()) == (0, [])


def test_fix_keeps_line_endings_bom_and_other_bytes_exactly(tmp_path: Path) -> None:
    crlf_bom = b"\xef\xbb\xbf" + FIXABLE.replace("\n", "\r\n").encode()
    latin1 = ("# -*- coding: latin-1 -*-\n# café\n" + FIXABLE).encode("latin-1")
    write(tmp_path, {"crlf.py": crlf_bom, "latin.py": latin1, "no_fix.py": CLEAN})
    mode = (tmp_path / "latin.py").stat().st_mode
    run = clearsight("--no-cache", "--fix", "--format", "json", cwd=tmp_path)
    assert run.returncode == 0, run.stdout
    assert run.json()["findings"] == []
    assert (tmp_path / "crlf.py").read_bytes() == (
        b"\xef\xbb\xbf" + FIXED.replace("\n", "\r\n").encode()
    )
    assert (tmp_path / "latin.py").read_bytes() == (
        "# -*- coding: latin-1 -*-\n# café\n" + FIXED
    ).encode("latin-1")
    assert (tmp_path / "latin.py").stat().st_mode == mode
    assert (tmp_path / "no_fix.py").read_text() == CLEAN
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary file left behind


def test_fix_leaves_a_file_with_undecodable_bytes_untouched(tmp_path: Path) -> None:
    raw = FIXABLE.encode() + b'oops = "\xff"\n'
    write(tmp_path, {"fetch.py": raw})
    run = clearsight("--no-cache", "--fix", "--format", "json", cwd=tmp_path)
    assert (tmp_path / "fetch.py").read_bytes() == raw
    assert "CS-E002" in run.codes()


def test_fix_uses_fixes_from_cached_findings(tmp_path: Path) -> None:
    project = write(tmp_path / "project", {"fetch.py": FIXABLE})
    cache = tmp_path / "cache"
    clearsight("--cache-dir", cache, cwd=project)
    assert len(cache_entries(cache)) == 1
    run = clearsight("--cache-dir", cache, "--fix", cwd=project)
    assert run.returncode == 0
    assert (project / "fetch.py").read_text() == FIXED


def test_fix_never_turns_code_that_parses_into_a_syntax_error(tmp_path: Path) -> None:
    source = (
        "import requests\nimport yaml\n\n"
        'reply = requests.get("u", verify=(False), timeout=1)\n'
        'data = yaml.load("x")\n'
    )
    write(tmp_path, {"fetch.py": source})
    run = clearsight("--no-cache", "--fix", "--format", "json", cwd=tmp_path)
    fixed = (tmp_path / "fetch.py").read_text()
    compile(fixed, "fetch.py", "exec")
    assert 'data = yaml.safe_load("x")\n' in fixed
    assert "CS-E001" not in run.codes()


def test_fix_removes_a_parenthesised_verify_false(tmp_path: Path) -> None:
    write(
        tmp_path, {"fetch.py": 'import requests\n\nrequests.get("u", verify=(False), timeout=1)\n'}
    )
    clearsight("--no-cache", "--fix", cwd=tmp_path)
    assert (tmp_path / "fetch.py").read_text() == (
        'import requests\n\nrequests.get("u", timeout=1)\n'
    )


def test_fix_removes_verify_false_from_a_call_spread_over_lines(tmp_path: Path) -> None:
    # The layout black and ruff format give a long call.
    source = 'import requests\n\nrequests.get(\n    "u",\n    verify=False,\n    timeout=1,\n)\n'
    write(tmp_path, {"fetch.py": source})
    run = clearsight("--no-cache", "--fix", "--format", "json", cwd=tmp_path)
    assert run.codes() == []
    assert (tmp_path / "fetch.py").read_text() == source.replace("    verify=False,\n", "")


def test_fix_with_stdin_prints_the_fixed_source_and_touches_no_file(tmp_path: Path) -> None:
    write(tmp_path, {"fetch.py": FIXABLE})
    run = clearsight("--fix", "--stdin-filename", "fetch.py", cwd=tmp_path, stdin=FIXABLE.encode())
    assert run.stdout == FIXED
    assert run.returncode == 0
    assert (tmp_path / "fetch.py").read_text() == FIXABLE


def test_fix_with_stdin_keeps_the_encoding_bom_and_line_endings(tmp_path: Path) -> None:
    latin1 = ("# -*- coding: latin-1 -*-\nname = 'café'\n" + FIXABLE).encode("latin-1")
    crlf_bom = b"\xef\xbb\xbf" + FIXABLE.replace("\n", "\r\n").encode()
    for raw in (latin1, crlf_bom):
        run = clearsight("--fix", "--stdin-filename", "x.py", cwd=tmp_path, stdin=raw)
        expected = raw.replace(b"yaml.load(", b"yaml.safe_load(").replace(b"verify=False, ", b"")
        assert run.stdout_bytes == expected


def test_fix_with_stdin_prints_undecodable_source_unchanged(tmp_path: Path) -> None:
    raw = b'\xef\xbb\xbfimport yaml\r\nname = "\xff"\r\nyaml.load(name)\r\n'
    run = clearsight("--fix", "--stdin-filename", "x.py", cwd=tmp_path, stdin=raw)
    assert run.stdout_bytes == raw  # not even the B506 fix: the text was not read faithfully
    assert run.returncode == 1


# -- --stdin-filename and --jobs ------------------------------------------------------------


def test_stdin_is_reported_under_the_given_path(tmp_path: Path) -> None:
    run = clearsight("--stdin-filename", "pkg/loader.py", cwd=tmp_path, stdin=YAML_LOAD.encode())
    assert run.returncode == 1
    assert run.stdout.startswith("pkg/loader.py:5:12: B506 [warning]")


def test_stdin_takes_settings_from_the_given_path_folder(tmp_path: Path) -> None:
    write(tmp_path, {"strict/pyproject.toml": "[tool.clearsight.complexity]\nmax-complexity = 2\n"})
    source = branches("decide", 3).encode()  # complexity 4

    strict, relaxed = clearsight_each(
        ("--format", "json", "--stdin-filename", "strict/new_module.py"),  # need not exist
        ("--format", "json", "--stdin-filename", "relaxed/new_module.py"),
        cwd=tmp_path,
        stdin=source,
    )
    assert strict.codes() == ["CS-C001"]
    assert relaxed.codes() == []


def test_jobs_1_and_jobs_2_give_identical_results(tmp_path: Path) -> None:
    sources = [YAML_LOAD, ASSERT, CLEAN, branches("decide", 11), "x = (\n"]
    for index in range(20):
        write(tmp_path, {f"pkg{index % 3}/module_{index:02}.py": sources[index % len(sources)]})
    serial, parallel = clearsight_each(
        ("--no-cache", "--jobs", "1", "--format", "json"),
        ("--no-cache", "--jobs", "2", "--format", "json"),
        cwd=tmp_path,
    )
    assert serial.json()["files_checked"] == 20
    assert len(serial.json()["findings"]) == 16
    assert parallel.stdout == serial.stdout
    assert parallel.returncode == serial.returncode == 1


# -- discovery ------------------------------------------------------------------------------


def checked_paths(run: Run) -> set[str]:
    return {finding["path"] for finding in run.json()["findings"]}


def git_visible_python_files(root: Path) -> set[str]:
    """The Python files git does not ignore in `root` (made a repository with the real git)."""
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.py"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    return set(listed.stdout.split())


def test_gitignored_files_are_skipped_as_git_skips_them(tmp_path: Path) -> None:
    files = [
        "app.py",
        "gen_model.py",
        "build/out.py",
        "sub/gen_keep.py",
        "sub/gen_other.py",
        "sub/local_settings.py",
        "sub/deep/local_more.py",
        "sub/deep/kept.py",
    ]
    write(tmp_path, dict.fromkeys(files, ASSERT))
    write(tmp_path, {".gitignore": "gen_*.py\nbuild/\n"})
    write(tmp_path, {"sub/.gitignore": "!gen_keep.py\nlocal_*.py\n"})
    listed = git_visible_python_files(tmp_path)
    assert listed == {"app.py", "sub/deep/kept.py", "sub/gen_keep.py"}
    run = clearsight("--no-cache", "--format", "json", cwd=tmp_path)
    assert checked_paths(run) == listed


def test_invalid_gitignore_lines_are_skipped_as_git_skips_them(tmp_path: Path) -> None:
    write(tmp_path, {"app.py": ASSERT, "gen_model.py": ASSERT, "y.py": ASSERT})
    write(tmp_path, {".gitignore": "gen_*.py\n!\n[z-a].py\n\\\n"})
    run = clearsight("--no-cache", "--format", "json", cwd=tmp_path)
    assert (run.returncode, run.stderr) == (1, "")
    assert checked_paths(run) == git_visible_python_files(tmp_path) == {"app.py", "y.py"}


def test_an_invalid_exclude_pattern_is_reported_once_and_the_others_apply(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": '[tool.clearsight]\nexclude = ["!", "gen_*.py"]\n'})
    write(tmp_path, {"app.py": ASSERT, "gen_model.py": ASSERT, "pkg/gen_more.py": ASSERT})
    run = clearsight("--no-cache", "--format", "json", cwd=tmp_path)
    assert run.stderr.count("clearsight: warning: ") == 1
    assert "tool.clearsight.exclude: invalid pattern '!'" in run.stderr
    assert checked_paths(run) == {"app.py"}


def test_respect_gitignore_false_checks_ignored_files(tmp_path: Path) -> None:
    write(tmp_path, {"app.py": ASSERT, "gen_model.py": ASSERT, ".gitignore": "gen_*.py\n"})
    write(tmp_path, {"pyproject.toml": "[tool.clearsight]\nrespect-gitignore = false\n"})
    run = clearsight("--no-cache", "--format", "json", cwd=tmp_path)
    assert checked_paths(run) == {"app.py", "gen_model.py"}


def test_exclude_globs_are_relative_to_the_pyproject_folder(tmp_path: Path) -> None:
    project = tmp_path / "project"
    write(
        project,
        {
            "pyproject.toml": (
                '[tool.clearsight]\nexclude = ["generated/", "*_pb2.py", "/top_only.py"]\n'
            ),
            "app.py": ASSERT,
            "top_only.py": ASSERT,
            "pkg/top_only.py": ASSERT,
            "pkg/service_pb2.py": ASSERT,
            "generated/models.py": ASSERT,
            "pkg/generated/more.py": ASSERT,
        },
    )
    run = clearsight("--no-cache", "--format", "json", "project", cwd=tmp_path)
    assert checked_paths(run) == {"project/app.py", "project/pkg/top_only.py"}


def test_environment_and_tool_folders_are_skipped(tmp_path: Path) -> None:
    skipped = [".git", "__pycache__", "node_modules", ".tox", "x.egg-info"]
    write(tmp_path, {f"{folder}/lib.py": ASSERT for folder in skipped})
    write(tmp_path, {"app.py": ASSERT, "pkg/venvironment/lib.py": ASSERT})
    # A real virtual environment, under a name nothing else would skip.
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "env")], check=True
    )
    write(tmp_path, {"env/lib/injected.py": ASSERT})
    run = clearsight("--no-cache", "--format", "json", cwd=tmp_path)
    assert checked_paths(run) == {"app.py", "pkg/venvironment/lib.py"}


def test_a_package_named_venv_is_checked_unless_it_is_an_environment(tmp_path: Path) -> None:
    # The standard library has a real `venv` package; only pyvenv.cfg marks an environment.
    write(tmp_path, {"venv/__init__.py": ASSERT, ".venv/pyvenv.cfg": "home = /usr\n"})
    write(tmp_path, {".venv/lib/site.py": ASSERT})
    run = clearsight("--no-cache", "--format", "json", cwd=tmp_path)
    assert checked_paths(run) == {"venv/__init__.py"}


def test_explicitly_named_files_are_always_checked(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            ".gitignore": "gen_*.py\n",
            "pyproject.toml": '[tool.clearsight]\nexclude = ["generated/"]\n',
            "gen_model.py": ASSERT,
            "generated/models.py": ASSERT,
            "venv/tool.py": ASSERT,
            "venv/pyvenv.cfg": "home = /usr\n",
            "bin/script": "#!/usr/bin/env python3\n" + ASSERT,
        },
    )
    named = ["gen_model.py", "generated/models.py", "venv/tool.py", "bin/script"]
    walked, run = clearsight_each(
        ("--no-cache", "--format", "json"), ("--no-cache", "--format", "json", *named), cwd=tmp_path
    )
    assert checked_paths(walked) == set()
    assert checked_paths(run) == set(named)


def test_only_python_files_are_picked_up_from_folders(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": ASSERT, "b.pyw": ASSERT, "c.txt": ASSERT, "d.pyi": ASSERT})
    run = clearsight("--no-cache", "--format", "json", cwd=tmp_path)
    assert checked_paths(run) == {"a.py", "b.pyw"}


# -- bad input ------------------------------------------------------------------------------


def test_a_syntax_error_is_one_finding_and_other_files_are_still_checked(tmp_path: Path) -> None:
    write(tmp_path, {"broken.py": "import os\n\ndef f(:\n    pass\n", "loader.py": YAML_LOAD})
    run, text = clearsight_each(
        ("--no-cache", "--format", "json"), ("--no-cache", "broken.py"), cwd=tmp_path
    )
    assert run.returncode == 1
    found = [(f["path"], f["line"], f["column"], f["code"]) for f in run.json()["findings"]]
    assert found == [("broken.py", 3, 7, "CS-E001"), ("loader.py", 5, 12, "B506")]
    assert text.stdout.startswith("broken.py:3:7: CS-E001 [error] Syntax error: invalid syntax.")


def test_nul_bytes_are_a_syntax_error_at_the_nul(tmp_path: Path) -> None:
    write(tmp_path, {"nul.py": b"x = 1\ny = 2\x00\n"})
    run, text = clearsight_each(("--no-cache", "--format", "json"), ("--no-cache",), cwd=tmp_path)
    [finding] = run.json()["findings"]
    assert (finding["code"], finding["line"], finding["column"]) == ("CS-E001", 2, 6)
    assert "NUL" in finding["message"]
    assert text.returncode == 1
    assert b"\x00" not in text.stdout_bytes


def test_bytes_that_are_not_utf8_are_reported_where_they_are(tmp_path: Path) -> None:
    write(tmp_path, {"bad.py": b'import os\nname = "caf\xe9"\nos.system(name)\n'})
    run = clearsight("--no-cache", "--format", "json", cwd=tmp_path)
    assert run.returncode == 1  # the file was read: a finding, not an error
    findings = run.json()["findings"]
    assert next((f["code"], f["line"], f["column"]) for f in findings) == ("CS-E002", 2, 12)
    assert "B605" in [f["code"] for f in findings]  # the rest of the file was still analysed


def test_an_unknown_coding_declaration_is_reported(tmp_path: Path) -> None:
    # Python refuses this file ("SyntaxError: encoding problem: klingon").
    write(tmp_path, {"alien.py": "# -*- coding: klingon -*-\nx = 1\n"})
    run = clearsight("--no-cache", "--format", "json", cwd=tmp_path)
    assert run.returncode == 1
    [finding] = run.json()["findings"]
    assert finding["code"] in {"CS-E001", "CS-E002"}
    assert finding["line"] == 1
    assert "klingon" in finding["message"]


def test_an_empty_file_has_no_findings(tmp_path: Path) -> None:
    write(tmp_path, {"empty.py": b"", "__init__.py": b"\n"})
    run = clearsight("--no-cache", cwd=tmp_path)
    assert (run.returncode, run.stdout, run.stderr) == (0, "Found 0 findings in 2 files.\n", "")


def test_a_100000_line_file_is_checked_through_to_its_last_line(tmp_path: Path) -> None:
    # A generated module: 10,000 lines of code, then a 90,000-line string literal (the shape
    # that made radon's raw metrics quadratic), then a finding on the very last line.
    code = "".join(f"ROW_{i} = ({i}, 'row {i}')\n" for i in range(10_000))
    text = "".join(f"line {i}: some text, 50% of it\n" for i in range(89_994))
    source = (
        f'"""Generated."""\nimport yaml\n\n{code}TEXT = """\n{text}"""\nDATA = yaml.load(TEXT)\n'
    )
    write(tmp_path, {"generated.py": source})
    assert source.count("\n") == 100_000
    run = clearsight("--no-cache", "--format", "json", cwd=tmp_path)
    assert [(f["line"], f["column"], f["code"]) for f in run.json()["findings"]] == [
        (100_000, 8, "B506")
    ]
    assert run.seconds < 30


DEEP_SOURCES = {
    "parens_190.py": "x = " + "(" * 190 + "1" + ")" * 190 + "\n",
    "unary_5000.py": "x = " + "-" * 5000 + "1\n",
    "unary_900.py": "x = " + "-" * 900 + "1\n",
    "sum_50000.py": "x = " + "+".join(["1"] * 50_000) + "\n",
    "lists_180.py": "x = " + "[" * 180 + "]" * 180 + "\n",
    "ifs_99.py": "".join("    " * i + "if x:\n" for i in range(99)) + "    " * 99 + "pass\n",
}


def test_deeply_nested_code_gives_findings_not_crashes(tmp_path: Path) -> None:
    write(tmp_path, {**DEEP_SOURCES, "loader.py": YAML_LOAD})
    serial, parallel = clearsight_each(
        ("--no-cache", "--format", "json", "--jobs", "1"),
        ("--no-cache", "--format", "json", "--jobs", "2"),
        cwd=tmp_path,
    )
    assert (serial.returncode, serial.stderr, parallel.stderr) == (1, "", "")
    assert parallel.stdout == serial.stdout
    assert serial.json()["files_checked"] == len(DEEP_SOURCES) + 1
    findings = serial.json()["findings"]
    assert {f["code"] for f in findings} <= {"CS-E001", "CS-E005", "B506"}
    # Code too deep to analyse is reported as such: a finding, never a crash nor silence.
    [unary] = [f for f in findings if f["path"] == "unary_5000.py"]
    assert unary["code"] in {"CS-E001", "CS-E005"}
    assert "nested too deeply" in unary["message"]
    assert ("loader.py", "B506") in paths_and_codes(serial)


def test_an_unreadable_file_is_an_error_and_the_rest_is_checked(tmp_path: Path) -> None:
    write(tmp_path, {"loader.py": YAML_LOAD})
    (tmp_path / "unreadable.py").symlink_to("/proc/self/mem")  # read() fails with EIO
    run, text = clearsight_each(
        ("--no-cache", "--format", "json"), ("--no-cache", "unreadable.py"), cwd=tmp_path
    )
    assert run.returncode == 2
    found = {(f["path"], f["code"]): f["message"] for f in run.json()["findings"]}
    assert found[("unreadable.py", "CS-E002")] == "Could not read the file: Input/output error."
    assert ("loader.py", "B506") in found
    assert text.returncode == 2
    assert text.stdout.startswith("unreadable.py:1:1: CS-E002 [error] Could not read the file")


def test_a_symlink_loop_is_an_error_with_a_clear_message(tmp_path: Path) -> None:
    write(tmp_path, {"loader.py": YAML_LOAD})
    (tmp_path / "a.py").symlink_to("b.py")
    (tmp_path / "b.py").symlink_to("a.py")
    run, named = clearsight_each(("--no-cache",), ("--no-cache", "a.py"), cwd=tmp_path)
    assert run.returncode == 2
    assert run.stderr.splitlines() == [
        "clearsight: error: a.py: is a symbolic link loop",
        "clearsight: error: b.py: is a symbolic link loop",
    ]
    assert "loader.py:5:12: B506" in run.stdout
    assert (named.returncode, named.stderr) == (
        2,
        "clearsight: error: a.py: is a symbolic link loop\n",
    )


def test_an_ignored_broken_symlink_is_not_an_error(tmp_path: Path) -> None:
    write(tmp_path, {"clean.py": CLEAN, ".gitignore": "gone.py\n"})
    (tmp_path / "gone.py").symlink_to("deleted.py")
    run = clearsight("--no-cache", cwd=tmp_path)
    assert (run.returncode, run.stderr) == (0, "")


def test_a_symlink_loop_of_folders_does_not_hang(tmp_path: Path) -> None:
    write(tmp_path, {"pkg/mod.py": ASSERT})
    (tmp_path / "pkg" / "again").symlink_to("..")
    (tmp_path / "pkg" / "self").symlink_to(".")
    (tmp_path / "x.py").symlink_to("pkg")  # a folder named like a Python file
    run, named = clearsight_each(
        ("--no-cache", "--format", "json"),
        ("--no-cache", "--format", "json", "pkg/again/pkg/self"),
        cwd=tmp_path,
        timeout=30,
    )
    assert (run.returncode, checked_paths(run)) == (1, {"pkg/mod.py"})
    assert checked_paths(named) == {"pkg/again/pkg/self/mod.py"}


def test_a_fifo_named_like_a_python_file_does_not_hang_the_run(tmp_path: Path) -> None:
    write(tmp_path, {"loader.py": YAML_LOAD})
    os.mkfifo(tmp_path / "pipe.py")
    run = clearsight("--no-cache", "--format", "json", cwd=tmp_path, timeout=30)
    assert (run.returncode, checked_paths(run)) == (1, {"loader.py"})


def test_unencodable_text_in_names_and_messages_never_crashes_output(tmp_path: Path) -> None:
    # A lone surrogate in a string literal (B105 quotes it) and a file name that is not
    # UTF-8, written to a strict UTF-8 stdout.
    write(tmp_path, {"secrets.py": 'password = "\\ud800"\n'})
    (tmp_path / os.fsdecode(b"caf\xe9.py")).write_text(ASSERT)
    formats = ("text", "json", "sarif", "github")
    runs = clearsight_each(
        *[("--no-cache", "--format", name) for name in formats],
        cwd=tmp_path,
        env={"PYTHONIOENCODING": "utf-8"},
    )
    for name, run in zip(formats, runs, strict=True):
        assert run.returncode == 1, name
        assert "B105" in run.stdout and "B101" in run.stdout, name
    assert b"caf\xe9.py:2:5: B101" in runs[0].stdout_bytes  # the name's own bytes
    assert "password: '\\ud800'" in runs[0].stdout


# -- terminal behaviour ---------------------------------------------------------------------


def test_no_progress_bar_or_escape_codes_when_output_is_not_a_terminal(tmp_path: Path) -> None:
    for index in range(220):  # above the progress bar's threshold
        write(tmp_path, {f"pkg/m{index:03}.py": CLEAN})
    write(tmp_path, {"loader.py": YAML_LOAD})
    run = clearsight("--no-cache", "--jobs", "2", cwd=tmp_path)
    assert run.returncode == 1
    assert run.stderr == ""
    assert "\x1b" not in run.stdout and "\r" not in run.stdout
    assert run.stdout.endswith("Found 1 finding in 221 files (1 warning).\n")


def run_with_terminal_stderr(
    *args: str, cwd: Path, timeout: float = 60, subcommand: str = "check"
) -> tuple[bytes, bytes]:
    """Run the command with stderr on a pseudo-terminal (stdout piped); return both."""
    controller, terminal = os.openpty()
    command = [sys.executable, "-m", "clearsight.cli.main", subcommand, *args]
    with subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=terminal) as process:
        os.close(terminal)
        received = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 1)
            if not ready:
                continue
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the terminal closed: the process is done with it
                break
            if not chunk:
                break
            received += chunk
        os.close(controller)
        assert process.stdout is not None
        stdout = process.stdout.read()
        assert process.wait(timeout=timeout) == 0
    return stdout, received


def test_progress_bar_is_drawn_on_a_terminal_stderr_and_never_in_the_report(
    tmp_path: Path,
) -> None:
    for index in range(220):
        write(tmp_path, {f"pkg/m{index:03}.py": CLEAN})
    stdout, terminal = run_with_terminal_stderr("--no-cache", "--jobs", "2", cwd=tmp_path)
    assert stdout == b"Found 0 findings in 220 files.\n"  # `check > report.txt` stays clean
    assert b"Checking" in terminal
    assert b"Traceback" not in terminal


def test_cache_misses_when_the_projects_declared_dependencies_change(tmp_path: Path) -> None:
    # `rich` is installed here (Clearsight depends on it) but not declared by this project.
    write(
        tmp_path,
        {
            "pyproject.toml": '[project]\nname = "demo"\ndependencies = []\n',
            "app.py": "import rich\n\nrich.print('hi')\n",
        },
    )
    first = clearsight("--format", "json", "app.py", cwd=tmp_path)
    assert ("app.py", "CS-D002") in paths_and_codes(first)
    write(tmp_path, {"pyproject.toml": '[project]\nname = "demo"\ndependencies = ["rich"]\n'})
    second = clearsight("--format", "json", "app.py", cwd=tmp_path)
    assert ("app.py", "CS-D002") not in paths_and_codes(second)
