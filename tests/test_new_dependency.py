"""CS-D006, new dependencies: third-party distributions a file imports that it did not at
the git base. Every repository here is real, made with the git binary in a temporary
folder; the distributions are the ones installed for Clearsight itself (requests, PyYAML,
rich)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from clearsight.checks.new_dependency import NEW_DEPENDENCY, NewDependencyCheck
from clearsight.deps.baseline import base_commit, base_file
from clearsight.engine import analyze
from clearsight.model import Finding, Severity
from clearsight.settings import Settings, settings_from_tables
from clearsight.source import SourceText

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs the git binary")

CHECK = NewDependencyCheck()
GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.org",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.org",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(repo: Path, *arguments: str) -> str:
    done = subprocess.run(
        ["git", *arguments], cwd=repo, env=GIT_ENV, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def repository(root: Path, files: dict[str, str]) -> Path:
    """A repository whose first commit holds `files`."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "--quiet", "--initial-branch=main")
    write(root, files)
    git(root, "add", "--all")
    git(root, "commit", "--quiet", "--message", "first")
    return root


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def check(root: Path, name: str, text: str, settings: Settings | None = None) -> list[Finding]:
    write(root, {name: text})
    source = SourceText(text, path=str(root / name))
    return list(CHECK.run(source, settings or Settings()))


def distributions(findings: list[Finding]) -> list[str]:
    return [f.metrics["distribution"] for f in findings]


def test_a_distribution_the_file_did_not_import_at_head_is_reported_once(tmp_path: Path) -> None:
    repo = repository(tmp_path, {"app.py": "import requests\n"})
    head = git(repo, "rev-parse", "HEAD")
    text = (
        "import json\nimport requests\nimport yaml\nfrom yaml import safe_load\n"
        "import rich.console\n"
    )
    findings = check(repo, "app.py", text)
    assert distributions(findings) == ["PyYAML", "rich"]
    first = findings[0]
    assert first.code == NEW_DEPENDENCY and first.severity is Severity.INFO
    assert (first.line, first.column, first.span.end.column) == (2, 7, 11)  # `yaml`, once
    assert f"HEAD ({head[:10]})" in first.message and "`PyYAML`" in first.message
    assert first.metrics["new_file"] is False and first.metrics["base_commit"] == head


def test_the_same_distribution_through_another_module_is_not_new(tmp_path: Path) -> None:
    repo = repository(tmp_path, {"app.py": "import yaml.loader\n", "helpers.py": ""})
    text = "from yaml import safe_load\nimport os\nimport helpers\nfrom . import x\n"
    assert check(repo, "app.py", text) == []


def test_committing_the_change_makes_it_the_base(tmp_path: Path) -> None:
    repo = repository(tmp_path, {"app.py": "import requests\n"})
    assert distributions(check(repo, "app.py", "import requests\nimport yaml\n")) == ["PyYAML"]
    git(repo, "commit", "--quiet", "--all", "--message", "yaml")
    assert check(repo, "app.py", "import requests\nimport yaml\n") == []


def test_a_new_untracked_file_reports_all_its_third_party_imports(tmp_path: Path) -> None:
    repo = repository(tmp_path, {"app.py": "import requests\n"})
    findings = check(repo, "tools/new.py", "import os\nimport requests\nimport yaml\n")
    assert distributions(findings) == ["requests", "PyYAML"]
    assert all(f.metrics["new_file"] for f in findings)
    assert "This file is new since HEAD" in findings[0].message


def test_ignored_files_and_files_outside_a_repository_are_not_judged(tmp_path: Path) -> None:
    repo = repository(tmp_path / "repo", {".gitignore": "scratch/\n", "app.py": ""})
    assert check(repo, "scratch/try.py", "import yaml\n") == []
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    assert check(outside, "app.py", "import yaml\n") == []
    assert list(CHECK.run(SourceText("import yaml\n", path="<buffer>"), Settings())) == []


def test_a_repository_without_commits_has_no_base(tmp_path: Path) -> None:
    git(tmp_path, "init", "--quiet")
    assert check(tmp_path, "app.py", "import yaml\n") == []
    assert base_commit(tmp_path / "app.py") == ""


def test_a_configured_base_revision_is_compared_with(tmp_path: Path) -> None:
    repo = repository(tmp_path, {"app.py": "import requests\n"})
    git(repo, "branch", "release")
    write(repo, {"app.py": "import requests\nimport yaml\n"})
    git(repo, "commit", "--quiet", "--all", "--message", "yaml")
    text = "import requests\nimport yaml\n"
    assert check(repo, "app.py", text) == []  # HEAD already imports yaml
    settings = settings_from_tables({"dependencies": {"base": "release"}})
    (finding,) = check(repo, "app.py", text, settings)
    assert finding.metrics["base"] == "release"
    assert "release (" in finding.message
    unknown = settings_from_tables({"dependencies": {"base": "no-such-branch"}})
    assert check(repo, "app.py", text, unknown) == []


def test_a_base_that_looks_like_an_option_is_refused_by_the_settings() -> None:
    problems: list[str] = []
    settings = settings_from_tables(
        {"dependencies": {"base": "--output=/tmp/x"}}, problems=problems
    )
    assert settings.dependencies.base == "HEAD"
    assert any("tool.clearsight.dependencies.base" in problem for problem in problems)


def test_a_base_version_that_does_not_parse_is_not_compared(tmp_path: Path) -> None:
    repo = repository(tmp_path, {"app.py": "import requests\ndef broken(:\n"})
    assert check(repo, "app.py", "import requests\nimport yaml\n") == []


def test_warm_look_ups_need_no_git_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = repository(tmp_path, {"app.py": "import requests\n"})
    first = base_file(str(repo / "app.py"))
    assert first is not None and first.text == "import requests\n"
    monkeypatch.setenv("PATH", "")  # git can no longer be found: answers come from the cache
    assert base_file(str(repo / "app.py")) == first
    assert distributions(check(repo, "app.py", "import requests\nimport yaml\n")) == ["PyYAML"]


def test_without_git_nothing_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = repository(tmp_path, {"app.py": "import requests\n"})
    monkeypatch.setenv("PATH", "")
    assert check(repo, "app.py", "import requests\nimport yaml\n") == []


def test_the_engine_reports_it_and_the_cli_cache_follows_the_base(tmp_path: Path) -> None:
    repo = repository(tmp_path, {"app.py": "import requests\n"})
    write(repo, {"app.py": "import requests\nimport yaml\n"})
    found = analyze("import requests\nimport yaml\n", str(repo / "app.py"))
    assert NEW_DEPENDENCY in [f.code for f in found]

    def cli_codes() -> list[str]:
        run = subprocess.run(
            [sys.executable, "-m", "clearsight", "check", "--format", "json", "app.py"],
            cwd=repo, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        return [f["code"] for f in json.loads(run.stdout)["findings"]]

    assert NEW_DEPENDENCY in cli_codes()
    git(repo, "commit", "--quiet", "--all", "--message", "yaml")
    assert NEW_DEPENDENCY not in cli_codes()  # same file bytes, new base: not replayed
