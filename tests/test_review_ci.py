"""The review in CI: the composite GitHub Action's shell steps run here as a runner would run
them (inputs and contexts given as the environment variables the action maps them to),
and the pre-commit hooks' entries run on a real repository's staged files."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_review import SHELL, git

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def shims(tmp_path: Path) -> Path:
    """`clearsight` and `python` on PATH, as the action's install step leaves them."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for name, command in (("clearsight", "-m clearsight.cli.main"), ("python", "")):
        script = folder / name
        script.write_text(f'#!/bin/sh\nexec "{sys.executable}" {command} "$@"\n')
        script.chmod(0o755)
    return folder


@pytest.fixture
def pull_request(tmp_path: Path) -> Path:
    """A clone with a pull request's branch checked out and its base only on the remote."""
    origin = tmp_path / "origin"
    (origin / "app").mkdir(parents=True)
    git(origin, "init", "-q", "-b", "main")
    git(origin, "config", "user.name", "Ann Human")
    git(origin, "config", "user.email", "ann@example.com")
    (origin / "app" / "jobs.py").write_text(SHELL)
    git(origin, "add", "-A")
    git(origin, "commit", "-qm", "Start")
    git(origin, "checkout", "-q", "-b", "feature")
    (origin / "app" / "jobs.py").write_text(SHELL + "\n\ndef ev(s):\n    return eval(s)\n")
    git(origin, "commit", "-qam", "Evaluate")
    clone = tmp_path / "checkout"
    git(tmp_path, "clone", "-q", "--depth", "1", "-b", "feature", f"file://{origin}", str(clone))
    return clone


def steps() -> dict[str, dict[str, Any]]:
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    assert action["runs"]["using"] == "composite"
    return {step.get("name", step.get("uses", "")): step for step in action["runs"]["steps"]}


def run_step(
    step: dict[str, Any], cwd: Path, contexts: dict[str, str], shims: Path, output: Path
) -> subprocess.CompletedProcess[str]:
    """A shell step with its `env:` expressions evaluated from `contexts`."""

    def evaluate(value: str) -> str:
        return re.sub(r"\$\{\{\s*(.*?)\s*\}\}", lambda m: _expression(m.group(1), contexts), value)

    env = {name: evaluate(str(value)) for name, value in step.get("env", {}).items()}
    environment = {
        **os.environ,
        **env,
        "PATH": f"{shims}{os.pathsep}{os.environ['PATH']}",
        "GITHUB_OUTPUT": str(output),
    }
    assert step["shell"] == "bash"
    return subprocess.run(
        ["bash", "-e", "-c", step["run"]], cwd=cwd, env=environment, capture_output=True,
        text=True, timeout=300,
    )  # fmt: skip


def _expression(text: str, contexts: dict[str, str]) -> str:
    for alternative in text.split("||"):
        value = contexts.get(alternative.strip(), "")
        if value:
            return value
    return ""


def outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def test_the_action_reviews_a_pull_request_from_a_shallow_checkout(
    pull_request: Path, shims: Path, tmp_path: Path
) -> None:
    found = steps()
    contexts = {
        "inputs.base": "", "inputs.paths": "", "inputs.fail-on": "warning",
        "github.base_ref": "main", "github.server_url": "https://github.com",
        "github.repository": "o/r", "github.sha": "abc123", "runner.temp": str(tmp_path),
    }  # fmt: skip
    base_out = tmp_path / "base.out"
    done = run_step(found["Find the base"], pull_request, contexts, shims, base_out)
    assert done.returncode == 0, done.stderr
    contexts["steps.base.outputs.rev"] = outputs(base_out)["rev"]
    assert contexts["steps.base.outputs.rev"] == "origin/main"
    review_out = tmp_path / "review.out"
    done = run_step(found["Review the change"], pull_request, contexts, shims, review_out)
    assert done.returncode == 0, done.stderr
    assert outputs(review_out)["introduced"] == "1"
    assert "::warning file=app/jobs.py,line=15," in done.stdout  # the new eval, annotated
    markdown = (tmp_path / "clearsight-review.md").read_text()
    assert markdown.startswith("<!-- clearsight-review -->\n")
    assert "https://github.com/o/r/blob/abc123/app/jobs.py#L15" in markdown
    assert outputs(review_out)["sarif"].endswith("clearsight-review.sarif")
    failed = run_step(found["Fail on new findings"], pull_request, contexts, shims, review_out)
    assert failed.returncode == 1
    contexts["inputs.fail-on"] = "error"
    assert (
        run_step(
            found["Fail on new findings"], pull_request, contexts, shims, review_out
        ).returncode
        == 0
    )


def test_the_pre_commit_hooks_run_on_staged_files(tmp_path: Path) -> None:
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.name", "Ann Human")
    git(repo, "config", "user.email", "ann@example.com")
    (repo / "jobs.py").write_text(SHELL)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "Start")
    (repo / "new.py").write_text("def ev(s):\n    return eval(s)\n")
    git(repo, "add", "new.py")

    def hook(name: str, files: list[str]) -> subprocess.CompletedProcess[str]:
        command, *arguments = hooks[name]["entry"].split()
        assert command == "clearsight"
        return subprocess.run(
            [sys.executable, "-m", "clearsight.cli.main", *arguments, *files],
            cwd=repo, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    assert hooks["clearsight"]["types_or"] == ["python", "pyi"]
    assert hook("clearsight", ["new.py"]).returncode == 1  # B307 is a warning
    assert hooks["clearsight-review"]["pass_filenames"] is False
    review = hook("clearsight-review", [])
    assert review.returncode == 1 and "B307" in review.stdout
    git(repo, "commit", "-qm", "Evaluate")
    assert hook("clearsight-review", ["--base", "HEAD"]).returncode == 0  # nothing new since
