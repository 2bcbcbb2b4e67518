"""`clearsight report`: the risk report over a real git history (made with the git binary):
a root commit, a rename, a deleted file, a merge, a fix and a file that never parses. Each
revision's counts are checked against `clearsight check` run on that revision's files as
`git archive` gives them."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from test_provenance import git

APP = "import yaml\n\n\ndef load(text):\n    return yaml.load(text)\n"
UTIL = "def add(a, b):\n    return a + b\n"
BROKEN = "def broken(:\n    pass\n"
BRANCHY = "".join(f"    if x == {i}:\n        return {i}\n" for i in range(12))


def commit(repo: Path, message: str, files: dict[str, str | None]) -> None:
    for name, text in files.items():
        path = repo / name
        if text is None:
            git(repo, "rm", "-q", name)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        git(repo, "add", name)
    git(repo, "commit", "-qm", message)


def history_repo(root: Path) -> Path:
    repo = root / "repo"
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.name", "Ann Human")
    git(repo, "config", "user.email", "ann@example.com")
    commit(repo, "Start", {"app.py": APP, "util.py": UTIL, "broken.py": BROKEN, "old.py": UTIL})
    commit(repo, "Evaluate", {"app.py": APP + "\n\ndef ev(s):\n    return eval(s)\n"})
    git(repo, "mv", "util.py", "tools_util.py")
    git(repo, "commit", "-qm", "Move util")
    commit(repo, "Drop old", {"old.py": None})
    git(repo, "checkout", "-q", "-b", "feature")
    feature = "import pickle\n\n\ndef read(b):\n    return pickle.loads(b)\n"
    commit(repo, "Feature", {"feature.py": feature})
    git(repo, "checkout", "-q", "main")
    grown = (repo / "app.py").read_text() + f"\n\ndef pick(x):\n{BRANCHY}    return -1\n"
    commit(repo, "Grow", {"app.py": grown})
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge feature", "feature")
    fixed = (repo / "app.py").read_text().replace("yaml.load(text)", "yaml.safe_load(text)")
    commit(repo, "Fix the unsafe yaml load", {"app.py": fixed})
    return repo


def report(repo: Path, *args: str, code: int = 0) -> dict[str, Any]:
    """`clearsight report --format json ARGS`, its JSON document (or its stderr)."""
    done = subprocess.run(
        [sys.executable, "-m", "clearsight.cli.main", "report", "--no-cache", "--format",
         "json", *args],
        cwd=repo, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == code, done.stderr
    return json.loads(done.stdout) if code == 0 else {"stderr": done.stderr}


def check_counts(repo: Path, commit: str, scratch: Path) -> dict[str, dict[str, int]]:
    """`clearsight check` of one revision's files, unpacked from `git archive`."""
    folder = scratch / commit[:10]
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit], cwd=repo, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    done = subprocess.run(
        [sys.executable, "-m", "clearsight.cli.main", "check", "--no-cache", "--format",
         "json", "--exit-zero", "."],
        cwd=folder, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    counts: dict[str, Counter[str]] = {}
    for finding in json.loads(done.stdout)["findings"]:
        counts.setdefault(finding["family"], Counter())[finding["severity"]] += 1
    return {family: dict(by) for family, by in sorted(counts.items())}


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    repo = history_repo(tmp_path_factory.mktemp("report"))
    return repo, report(repo)


def test_each_revision_counts_what_check_finds_in_it(
    made: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    repo, data = made
    subjects = [r["subject"] for r in data["revisions"]]
    # The first-parent line: the feature's own commit is inside the merge.
    assert subjects == [
        "Start", "Evaluate", "Move util", "Drop old", "Grow", "Merge feature",
        "Fix the unsafe yaml load",
    ]  # fmt: skip
    assert [r["merge"] for r in data["revisions"]] == [False] * 5 + [True, False]
    for revision in data["revisions"]:
        assert revision["findings"] == check_counts(repo, revision["commit"], tmp_path), revision
    security = [r["findings"].get("security", {}) for r in data["revisions"]]
    assert security[0] == {"warning": 1}  # yaml.load
    assert security[-1].get("warning", 0) == 2  # eval and pickle.loads; yaml.load fixed


def test_hotspots_follow_renames_merges_and_deletions(made: tuple[Path, dict[str, Any]]) -> None:
    _repo, data = made
    spots = {h["path"]: h for h in data["hotspots"]}
    assert set(spots) == {"app.py", "tools_util.py", "broken.py", "feature.py"}  # not old.py
    assert spots["tools_util.py"]["churn"] == 1  # created; the rename alone is no change
    assert spots["feature.py"]["churn"] == 1  # the merge brought it
    app = spots["app.py"]
    assert app["churn"] == 4 and app["fixes"] == 1
    assert any("changed by 4 of the last 7 commits (1 say" in r for r in app["reasons"])
    assert app["worst_function"] == "pick" and app["worst_complexity"] == 13
    assert any("pick has complexity 13 (limit 10)" in r for r in app["reasons"])
    assert {f["code"] for f in app["top_findings"]} >= {"B307", "CS-C001"}
    assert data["hotspots"][0]["path"] == "app.py"  # the riskiest first
    assert spots["tools_util.py"]["risk"] < app["risk"]


def test_functions_show_complexity_before_and_now(made: tuple[Path, dict[str, Any]]) -> None:
    _repo, data = made
    functions = {(f["path"], f["name"]): f for f in data["functions"]}
    assert functions[("app.py", "pick")]["before"] is None  # added in the window
    assert functions[("app.py", "pick")]["complexity"] == 13
    load = functions[("app.py", "load")]
    assert load["before"] == 1 and load["changes"] == 1  # the fix changed it
    assert functions[("tools_util.py", "add")]["changes"] == 0  # only moved
    assert data["functions"][0]["name"] == "pick"


def test_a_file_that_never_parses_is_counted_and_said(made: tuple[Path, dict[str, Any]]) -> None:
    _repo, data = made
    assert all(r["unparsed"] == 1 for r in data["revisions"])
    assert any("do not parse" in note and "broken.py" in note for note in data["notes"])
    broken = next(h for h in data["hotspots"] if h["path"] == "broken.py")
    assert broken["top_findings"][0]["code"] == "CS-E001"


def test_history_bounds_the_window(made: tuple[Path, dict[str, Any]]) -> None:
    repo, _data = made
    two = report(repo, "--history", "2")
    assert [r["subject"] for r in two["revisions"]] == ["Merge feature", "Fix the unsafe yaml load"]
    # The window's first commit is compared with its parent: the merge changed feature.py.
    assert {h["path"]: h["churn"] for h in two["hotspots"]}["feature.py"] == 1
    assert "no commit since 2099-01-01" in report(repo, "--since", "2099-01-01", code=2)["stderr"]
    assert "--history must be at least 1" in report(repo, "--history", "0", code=2)["stderr"]
    since = report(repo, "--since", "2000-01-01")
    assert len(since["revisions"]) == 7  # every commit is after 2000
    only_tools = report(repo, "--history", "3", "tools_util.py")
    assert [h["path"] for h in only_tools["hotspots"]] == ["tools_util.py"]


def test_odd_repositories_still_give_a_report(tmp_path: Path) -> None:
    one = tmp_path / "one"
    one.mkdir()
    git(one, "init", "-q", "-b", "main")
    commit(one, "Only", {"README.md": "hello\n"})
    data = report(one)
    assert len(data["revisions"]) == 1 and data["hotspots"] == []
    assert "HEAD has no Python files to report on" in data["notes"]

    repo = history_repo(tmp_path / "full")
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "2", repo.as_uri(), str(shallow))
    data = report(shallow)
    assert len(data["revisions"]) == 2
    assert any("shallow clone" in note for note in data["notes"])

    plain = tmp_path / "plain"
    plain.mkdir()
    assert "not in a git repository" in report(plain, code=2)["stderr"]
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q")
    assert "no history to report on" in report(empty, code=2)["stderr"]
