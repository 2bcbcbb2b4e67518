"""The command line's conveniences, through the real command: `--statistics` (counts per code,
most first), `--exclude`, `--extend-exclude` and `--diff`."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from test_cli import YAML_LOAD, clearsight, write

TWO_EVALS = "def a(s):\n    return eval(s)\n\n\ndef b(s):\n    return eval(s)\n"


def test_statistics_count_each_code_most_first(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": TWO_EVALS, "b.py": YAML_LOAD + "\n\n" + TWO_EVALS})
    done = clearsight("--no-cache", "--statistics", ".", cwd=tmp_path)
    rows = [line.split(None, 3) for line in done.stdout.splitlines()]
    assert rows[0][:3] == ["4", "B307", "warning"]
    assert rows[0][3] == "Use of possibly insecure function - consider using safer ast.literal_eval"
    b506 = next(row for row in rows if row[1] == "B506")
    assert b506[0] == "1" and "[1 fixable]" in done.stdout  # yaml.safe_load()
    assert done.returncode == 1  # the exit code still follows the findings
    assert "a.py:" not in done.stdout  # no finding lines, only the counts


def test_statistics_as_json_and_refused_for_sarif(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": TWO_EVALS})
    done = clearsight("--no-cache", "--statistics", "--format", "json", ".", cwd=tmp_path)
    (row,) = json.loads(done.stdout)
    assert row == {"code": "B307", "count": 2, "severity": "warning", "fixable": 0,
                   "name": row["name"]} and row["name"]  # fmt: skip
    refused = clearsight("--statistics", "--format", "sarif", ".", cwd=tmp_path)
    assert refused.returncode == 2 and "--statistics prints text or json" in refused.stderr


def _checked(done_stdout: str) -> set[str]:
    return {f["path"].removeprefix("./") for f in json.loads(done_stdout)["findings"]}


def test_exclude_replaces_the_usual_exclusions_and_extend_exclude_adds(tmp_path: Path) -> None:
    risky = "def ev(s):\n    return eval(s)\n"
    write(tmp_path, {
        "pyproject.toml": '[tool.clearsight]\nexclude = ["app/legacy/"]\n',
        "app/a.py": risky, "app/legacy/old.py": risky, "build/gen.py": risky,
        "node_modules/pkg/x.py": risky,
    })  # fmt: skip
    args = ("--no-cache", "--format", "json", ".")
    assert _checked(clearsight(*args, cwd=tmp_path).stdout) == {"app/a.py", "build/gen.py"}
    extended = clearsight("--extend-exclude", "build/,*.tmp", *args, cwd=tmp_path)
    assert _checked(extended.stdout) == {"app/a.py"}
    replaced = clearsight("--exclude", "app/", *args, cwd=tmp_path)
    # Instead of the usual folders (node_modules) and the project's exclude, only app/.
    assert _checked(replaced.stdout) == {"build/gen.py", "node_modules/pkg/x.py"}
    named = clearsight("--extend-exclude", "app/", "--no-cache", "--format", "json",
                       "app/a.py", cwd=tmp_path)  # fmt: skip
    assert _checked(named.stdout) == {"app/a.py"}  # a file named on the command line is checked


def test_diff_shows_the_safe_fixes_and_writes_nothing(tmp_path: Path) -> None:
    write(tmp_path, {"loader.py": YAML_LOAD, "clean.py": "x = 1\n"})
    before = (tmp_path / "loader.py").read_bytes()
    done = clearsight("--no-cache", "--diff", ".", cwd=tmp_path)
    assert done.returncode == 1
    assert (tmp_path / "loader.py").read_bytes() == before
    assert done.stdout.startswith("--- a/loader.py\n+++ b/loader.py\n")
    assert "-    return yaml.load(text)\n+    return yaml.safe_load(text)\n" in done.stdout
    assert "1 file would be fixed." in done.stderr
    # The diff is exactly what --fix then does.
    patched = subprocess.run(["git", "apply", "--check", "-"], cwd=tmp_path, input=done.stdout,
                             text=True, capture_output=True, check=False)  # fmt: skip
    assert patched.returncode == 0, patched.stderr
    clearsight("--no-cache", "--fix", ".", cwd=tmp_path)
    assert (tmp_path / "loader.py").read_text() == YAML_LOAD.replace("yaml.load", "yaml.safe_load")
    nothing = clearsight("--no-cache", "--diff", ".", cwd=tmp_path)
    assert nothing.returncode == 0 and nothing.stdout == ""
    both = clearsight("--diff", "--fix", ".", cwd=tmp_path)
    assert both.returncode == 2 and "choose one" in both.stderr


def test_show_settings_gives_each_value_and_where_it_came_from(tmp_path: Path) -> None:
    write(tmp_path, {
        "pyproject.toml": (
            '[tool.clearsight]\nignore = ["B404"]\n[tool.clearsight.complexity]\n'
            'max-complexity = 8\n[tool.clearsight.per-file-ignores]\n"tools/*.py" = ["B603"]\n'
        ),
        "tests/test_app.py": "", "tools/run.py": "", "app.py": "",
    })  # fmt: skip
    config = str(tmp_path / "pyproject.toml")

    def shown(path: str, *extra: str) -> dict[str, tuple[Any, str]]:
        done = clearsight("--show-settings", path, "--format", "json", *extra, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        return {e["key"]: (e["value"], e["from"]) for e in done.json()["settings"]}

    app = shown("app.py", "--select", "B")
    assert app["complexity.max-complexity"] == (8, config)
    assert app["complexity.enabled"] == (True, "default")
    assert app["ignore"] == (["B404"], config)
    assert app["select"] == (["B"], "command line")
    test = shown("tests/test_app.py")
    assert test["ignore"] == (["B404", "B101"], "per-file ignores / test-file defaults")
    assert test["severity"][0] == {"B105": "hint", "B106": "hint", "B107": "hint"}
    tool = shown("tools/run.py")
    assert tool["ignore"][0] == ["B404", "B603"]
    text = clearsight("--show-settings", "app.py", cwd=tmp_path)
    assert "complexity.max-complexity" in text.stdout and f"= 8  # {config}" in text.stdout
