"""The risk report's weekly timelines over a real git history: who wrote the added lines
(an agent as author, an AI co-author trailer, a git-ai note splitting a commit's lines),
and the declared distributions added and removed (a typosquat and a name not on PyPI
flagged as the review flags them)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from test_provenance import git
from test_report import report

WEEKS = ("2026-10-05", "2026-10-12", "2026-10-19", "2026-10-26", "2026-11-02")
CLAUDE = "Claude <noreply@anthropic.com>"
PYPROJECT = '[project]\nname = "demo"\nversion = "1"\ndependencies = [{deps}]\n'


def _commit(repo: Path, week: str, message: str, files: dict[str, str], author: str = "") -> str:
    for name, text in files.items():
        (repo / name).write_text(text)
        git(repo, "add", name)
    moment = f"{week}T12:00:00+00:00"
    env = {"GIT_AUTHOR_DATE": moment, "GIT_COMMITTER_DATE": moment}
    git(repo, "commit", "-qm", message, *(["--author", author] if author else []), env=env)
    return git(repo, "rev-parse", "HEAD")


def lines(count: int, name: str) -> str:
    return "".join(f"{name}_{i} = {i}\n" for i in range(count))


def add_timeline(repo: Path) -> None:
    """Five weeks of commits on top of `repo` (HEAD moves on)."""
    _commit(repo, WEEKS[0], "Declare", {"pyproject.toml": PYPROJECT.format(deps='"requests>=2"'),
                                        "plain.py": lines(5, "plain")})  # fmt: skip
    _commit(repo, WEEKS[1], "Agent work", {"agent.py": lines(4, "agent")}, author=CLAUDE)
    _commit(repo, WEEKS[2], f"Pair work\n\nCo-authored-by: {CLAUDE}",
            {"helper.py": lines(3, "helper")})  # fmt: skip
    noted = _commit(repo, WEEKS[3], "Generated part", {"gen.py": lines(6, "gen")})
    note = "gen.py\n  abcd1234abcd1234 1-3\n  h_0123456789abcd 4-6\n---\n" + json.dumps({
        "schema_version": "authorship/3.0.0",
        "prompts": {"abcd1234abcd1234": {"agent_id": {"tool": "cursor", "model": "gpt-5"}}},
    })  # fmt: skip
    git(repo, "notes", "--ref=ai", "add", "-m", note, noted)
    deps = '"reqeusts>=2", "flask", "zzqx-quantum-authlib-77"'
    _commit(repo, WEEKS[4], "New dependencies", {"pyproject.toml": PYPROJECT.format(deps=deps)})


def timeline_repo(root: Path) -> Path:
    repo = root / "timeline"
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.name", "Ann Human")
    git(repo, "config", "user.email", "ann@example.com")
    add_timeline(repo)
    return repo


def by_week(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {week["week"]: week for week in data["authorship"]["weeks"]}


def test_added_lines_are_split_by_what_each_commit_says(tmp_path: Path) -> None:
    data = report(timeline_repo(tmp_path))
    weeks = by_week(data)
    assert set(weeks) == set(WEEKS[:4])  # the last commit adds no Python line
    assert weeks[WEEKS[0]]["lines"] == {"human": 5, "ai": 0, "mixed": 0, "unknown": 0}
    assert weeks[WEEKS[1]]["lines"]["ai"] == 4 and weeks[WEEKS[1]]["tools"] == {"claude": 4}
    assert weeks[WEEKS[2]]["lines"]["mixed"] == 3 and weeks[WEEKS[2]]["tools"] == {"claude": 3}
    assert weeks[WEEKS[3]]["lines"] == {"human": 3, "ai": 3, "mixed": 0, "unknown": 0}
    assert weeks[WEEKS[3]]["tools"] == {"cursor (gpt-5)": 3}
    # The agent's file at HEAD: AI-written and nobody marked it reviewed.
    assert data["authorship"]["unreviewed_ai_lines"] >= 4


def test_declared_distributions_added_and_removed_are_flagged(tmp_path: Path) -> None:
    data = report(timeline_repo(tmp_path))
    changes = {(c["name"], c["change"]): c for c in data["dependencies"]}
    assert set(changes) == {
        ("requests", "removed"), ("reqeusts", "added"), ("flask", "added"),
        ("zzqx-quantum-authlib-77", "added"),
    }  # fmt: skip
    assert {c["week"] for c in changes.values()} == {WEEKS[4]}
    typo = changes[("reqeusts", "added")]  # not in the PyPI snapshot, a typo of requests
    assert typo["verdict"] in ("typosquat", "not-on-pypi")
    assert "Did you mean `requests`?" in typo["detail"]
    assert changes[("zzqx-quantum-authlib-77", "added")]["verdict"] == "not-on-pypi"
    assert changes[("flask", "added")]["verdict"] == ""


def test_a_window_after_the_declarations_sees_no_dependency_change(tmp_path: Path) -> None:
    repo = timeline_repo(tmp_path)
    _commit(repo, "2026-11-09", "More", {"more.py": lines(2, "more")})
    data = report(repo, "--history", "1")
    assert data["dependencies"] == []
    assert [w["lines"]["human"] for w in data["authorship"]["weeks"]] == [2]
