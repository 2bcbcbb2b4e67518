"""`clearsight review`: what a change introduced against its base, in real git repositories
made here with the `git` binary, through the real command line (a subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt
from test_cli import sarif_schema, validate_sarif  # noqa: F401  (a fixture)
from test_provenance import git

SHELL = textwrap.dedent(
    """
    import subprocess


    def run(cmd):
        return subprocess.run(cmd, shell=True)


    def size(x):
        if x > 10:
            return "big"
        return "small"
    """
).lstrip()


def review(repo: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "clearsight.cli.main", "review", "--no-cache", *args],
        cwd=cwd or repo, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    return done


def review_json(repo: Path, *args: str) -> dict[str, Any]:
    done = review(repo, "--format", "json", *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "app").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.name", "Ann Human")
    git(repo, "config", "user.email", "ann@example.com")
    (repo / "app" / "__init__.py").write_text("")
    (repo / "app" / "jobs.py").write_text(SHELL)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Start")
    git(repo, "checkout", "-q", "-b", "feature")
    return repo


def codes(findings: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    return [(f["code"], f["path"], f["line"]) for f in findings]


def test_lines_shifted_by_the_change_keep_their_old_findings(repo: Path) -> None:
    shifted = "import yaml\n\n\ndef load(text):\n    return yaml.load(text)\n\n\n" + SHELL
    (repo / "app" / "jobs.py").write_text(shifted)
    git(repo, "commit", "-qam", "Add a loader")
    found = review_json(repo)
    introduced = codes(found["findings"]["introduced"])
    assert ("B506", "app/jobs.py", 5) in introduced
    assert not any(code == "B602" for code, _, _ in introduced)  # moved down 7 lines, still old
    assert found["findings"]["fixed"] == []
    assert found["base"]["how"] == "merge-base of HEAD with main"
    assert found["summary"]["added"] == 7 and found["summary"]["removed"] == 0


def test_staged_unstaged_and_untracked_changes_count_and_ignored_files_do_not(
    repo: Path,
) -> None:
    (repo / ".gitignore").write_text("build/\n")
    (repo / "build").mkdir()
    (repo / "build" / "gen.py").write_text("eval(input())\n")
    pickled = "import pickle\n\n\ndef f(b):\n    return pickle.loads(b)\n"
    (repo / "app" / "staged.py").write_text(pickled)
    git(repo, "add", "app/staged.py")
    (repo / "app" / "jobs.py").write_text(SHELL.replace("shell=True", "shell=False"))
    (repo / "app" / "untracked.py").write_text("x = eval(input())\n")
    found = review_json(repo)
    paths = {f["path"]: f["status"] for f in found["files"]}
    assert paths == {
        ".gitignore": "added",
        "app/jobs.py": "modified",
        "app/staged.py": "added",
        "app/untracked.py": "added",
    }
    introduced = {code for code, _, _ in codes(found["findings"]["introduced"])}
    assert {"B301", "CS-S004"} <= introduced
    assert "B602" in {f["code"] for f in found["findings"]["fixed"]}
    assert found["base"]["name"] == "main"


def test_a_rename_is_a_move_not_new_findings(repo: Path) -> None:
    git(repo, "mv", "app/jobs.py", "app/tasks.py")
    (repo / "app" / "tasks.py").write_text(SHELL + "\n\ndef other():\n    return 1\n")
    git(repo, "commit", "-qam", "Rename")
    found = review_json(repo)
    (entry,) = [f for f in found["files"] if f["path"] == "app/tasks.py"]
    assert entry["status"] == "renamed" and entry["old_path"] == "app/jobs.py"
    assert found["findings"]["introduced"] == [] and found["findings"]["fixed"] == []


def test_code_moved_to_another_module_is_not_new(repo: Path) -> None:
    (repo / "app" / "jobs.py").write_text("def keep():\n    return 1\n")
    (repo / "app" / "shell.py").write_text("# moved here\n" + SHELL)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "Move run() to its own module")
    found = review_json(repo)
    assert found["findings"]["introduced"] == [] and found["findings"]["fixed"] == []
    assert found["summary"]["moved"] >= 1


def test_old_findings_in_a_touched_function_are_adjacent(repo: Path) -> None:
    (repo / "app" / "jobs.py").write_text(
        SHELL.replace("def run(cmd):\n", "def run(cmd):\n    print('running', cmd)\n")
    )
    found = review_json(repo)
    kept = found["findings"]["in_changed_code"]
    assert ("B602", "adjacent") in {(f["code"], f["where"]) for f in kept}
    assert found["findings"]["introduced"] == []


def test_an_assistant_s_commit_counts_as_ai_written_and_unreviewed(repo: Path) -> None:
    (repo / "app" / "loader.py").write_text(
        "import yaml\n\n\ndef load(text):\n    return yaml.load(text)\n"
    )
    git(repo, "add", "-A")
    git(
        repo, "commit", "-qm",
        "Add a loader\n\nCo-Authored-By: Claude <noreply@anthropic.com>",
    )  # fmt: skip
    found = review_json(repo)
    assert found["summary"]["ai_added_lines"] >= 2
    assert any("claude" in tool.lower() for tool in found["summary"]["ai_tools"])
    assert found["summary"]["unreviewed_ai_blocks"] >= 1
    (top, *_) = found["hunks"]
    assert top["path"] == "app/loader.py"
    assert any(reason.startswith("AI-written") for reason in top["reasons"])
    assert any(reason.startswith("new B506") for reason in top["reasons"])
    assert "unreviewed AI block: app/loader.py:4-5 (load)" in review(repo).stdout


def test_complexity_growth_is_reported_before_and_after(repo: Path) -> None:
    branches = "".join(f"    if x == {i}:\n        return {i}\n" for i in range(6))
    (repo / "app" / "jobs.py").write_text(
        SHELL.replace('    if x > 10:\n        return "big"\n', branches)
    )
    found = review_json(repo)
    (entry,) = [f for f in found["files"] if f["path"] == "app/jobs.py"]
    (delta,) = entry["complexity"]["functions"]
    assert (delta["name"], delta["before"], delta["after"]) == ("size", 2, 7)
    assert any("+5 complexity (size)" in r for h in found["hunks"] for r in h["reasons"])
    markdown = review(repo, "--format", "markdown").stdout
    assert "### Complexity" in markdown and "app/jobs.py:8 size: 2 -&gt; 7" in markdown
    assert "complexity: app/jobs.py:8 size: 2 -> 7" in review(repo).stdout


def test_fail_on_counts_only_new_findings(repo: Path) -> None:
    (repo / "app" / "jobs.py").write_text(SHELL + "\n\ndef more():\n    return 2\n")
    assert review(repo, "--fail-on", "info").returncode == 0  # B602 is old
    (repo / "app" / "jobs.py").write_text(SHELL + "\n\ndef more(s):\n    return eval(s)\n")
    assert review(repo, "--fail-on", "warning").returncode == 1
    assert review(repo).returncode == 0  # never, unless asked


def test_bad_input_gets_a_clear_error(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "plain"
    outside.mkdir()
    done = review(outside)
    assert done.returncode == 2 and "not in a git repository" in done.stderr
    done = review(repo, "--base", "no-such-branch")
    assert done.returncode == 2 and "'no-such-branch' is not a commit" in done.stderr
    (repo / "data.bin").write_bytes(b"\0\1\2binary")
    git(repo, "add", "data.bin")
    found = review_json(repo, "--base", "HEAD")
    (entry,) = found["files"]
    assert entry["binary"] and entry["note"] == "a binary file"


def test_a_shallow_clone_without_the_base_says_how_to_fetch_it(repo: Path, tmp_path: Path) -> None:
    (repo / "app" / "jobs.py").write_text(SHELL + "\n# one\n")
    git(repo, "commit", "-qam", "one")
    (repo / "app" / "jobs.py").write_text(SHELL + "\n# two\n")
    git(repo, "commit", "-qam", "two")
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", "-b", "feature", f"file://{repo}", str(clone))
    done = review(clone, "--base", "main")
    assert done.returncode == 2
    assert "shallow clone" in done.stderr and "fetch-depth: 0" in done.stderr


def test_sarif_carries_baseline_state_and_validates(
    repo: Path,
    sarif_schema: dict[str, Any],  # noqa: F811
) -> None:
    (repo / "app" / "jobs.py").write_text(
        SHELL.replace("shell=True", "shell=False") + "\n\ndef ev(s):\n    return eval(s)\n"
    )
    done = review(repo, "--format", "sarif")
    document = json.loads(done.stdout)
    validate_sarif(document, sarif_schema)
    states = {(r["ruleId"], r["baselineState"]) for r in document["runs"][0]["results"]}
    assert ("B307", "new") in states and ("B602", "absent") in states
    assert ("B404", "unchanged") in states
    results = document["runs"][0]["results"]
    fingerprints = [r["partialFingerprints"]["clearsight/v1"] for r in results]
    assert len(set(fingerprints)) == len(fingerprints)
    assert document["runs"][0]["properties"]["base"]["name"] == "main"


def test_markdown_is_one_comment_with_a_table_details_and_links(repo: Path) -> None:
    (repo / "app" / "jobs.py").write_text(SHELL + "\n\ndef ev(s):\n    return eval(s)\n")
    done = review(repo, "--format", "markdown", "--link-base", "https://example.com/blob/abc")
    tokens = MarkdownIt("commonmark").enable("table").parse(done.stdout)
    kinds = {t.type for t in tokens}
    assert {"table_open", "heading_open", "html_block"} <= kinds
    html = MarkdownIt("commonmark").enable("table").render(done.stdout)
    assert '<a href="https://example.com/blob/abc/app/jobs.py#L15">' in html
    assert "<details><summary>app/jobs.py: 1 new, 0 fixed</summary>" in html


def test_github_annotations_are_for_new_findings_only(repo: Path) -> None:
    (repo / "app" / "jobs.py").write_text(SHELL + "\n\ndef ev(s):\n    return eval(s)\n")
    lines = review(repo, "--format", "github").stdout.splitlines()
    assert lines and all("B307" in line for line in lines)
    assert all("file=app/jobs.py,line=15," in line for line in lines)


def test_paths_limit_the_review(repo: Path) -> None:
    (repo / "app" / "jobs.py").write_text(SHELL + "\n# changed\n")
    (repo / "other.py").write_text("eval(input())\n")
    found = review_json(repo, "app")
    assert [f["path"] for f in found["files"]] == ["app/jobs.py"]


REQUESTS_RELEASES = ("2.31.0", "2.32.3")  # 2.32 moved the package under src/


def requests_sdists() -> list[Path]:
    """Two real releases of requests, pip-downloaded once into tests/.cache."""
    cache = Path(__file__).parent / ".cache" / "requests-sdists"
    cache.mkdir(parents=True, exist_ok=True)
    wanted = [cache / f"requests-{version}.tar.gz" for version in REQUESTS_RELEASES]
    for version, archive in zip(REQUESTS_RELEASES, wanted, strict=True):
        if not archive.is_file():
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary",
                 ":all:", "-d", str(cache), f"requests=={version}"],
                check=True, timeout=300,
            )  # fmt: skip
    return wanted


def test_a_real_upstream_release_marks_none_of_its_unchanged_code_new(tmp_path: Path) -> None:
    import tarfile

    old, new = requests_sdists()
    repo = tmp_path / "requests"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.name", "Ann Human")
    git(repo, "config", "user.email", "ann@example.com")
    for archive in (old, new):
        for entry in repo.iterdir():
            if entry.name != ".git":
                subprocess.run(["rm", "-rf", str(entry)], check=True)
        with tarfile.open(archive) as bundle:
            bundle.extractall(tmp_path / "unpacked", filter="data")
        top = next((tmp_path / "unpacked").iterdir())
        for entry in top.iterdir():
            entry.rename(repo / entry.name)
        top.rmdir()
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", archive.name)
    found = review_json(repo, "--base", "HEAD~1")
    statuses = [f["status"] for f in found["files"]]
    assert statuses.count("renamed") >= 20  # requests/ -> src/requests/
    introduced = found["findings"]["introduced"]
    assert introduced, "2.32 adds code with findings (timeouts, asserts in new tests)"
    assert {f["where"] for f in introduced} == {"changed"}, [
        (f["path"], f["line"], f["code"]) for f in introduced if f["where"] != "changed"
    ]
    assert not any(f["code"] == "CS-D006" for f in introduced)  # renamed files' imports
    assert len(found["findings"]["fixed"]) <= 3


def test_dependency_changes_in_declarations_and_lock_files(repo: Path) -> None:
    lock = '[[package]]\nname = "{0}"\nversion = "{1}"\n'
    (repo / "pyproject.toml").write_text(
        '[project]\nname = "app"\ndependencies = ["requests>=2.0", "rich"]\n'
    )
    (repo / "requirements.txt").write_text("flask==2.0\n")
    (repo / "uv.lock").write_text(lock.format("requests", "2.30.0") + lock.format("idna", "3.4"))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "Declare")
    git(repo, "checkout", "-q", "-b", "deps")
    (repo / "pyproject.toml").write_text(
        '[project]\nname = "app"\ndependencies = [\n    "requests>=2.31",\n    "rich",\n'
        '    "reqeusts",\n    "clearsight-surely-not-a-real-package",\n]\n'
    )
    (repo / "requirements.txt").write_text("# nothing pinned any more\n")
    (repo / "uv.lock").write_text(
        lock.format("requests", "2.32.3") + lock.format("certifi", "2024.2.2")
    )
    found = review_json(repo, "--base", "HEAD")
    changes = {(d["name"], d["change"], d["path"]): d for d in found["dependencies"]}
    assert changes[("requests", "re-versioned", "pyproject.toml")]["after"] == "requests>=2.31"
    assert changes[("flask", "removed", "requirements.txt")]["before"] == "flask==2.0"
    assert changes[("requests", "re-versioned", "uv.lock")]["after"] == "2.32.3"
    assert ("certifi", "added", "uv.lock") in changes and ("idna", "removed", "uv.lock") in changes
    typo = changes[("reqeusts", "added", "pyproject.toml")]
    assert typo["verdict"] in ("typosquat", "not-on-pypi")
    assert "Did you mean `requests`?" in typo["detail"]
    made_up = changes[("clearsight-surely-not-a-real-package", "added", "pyproject.toml")]
    assert made_up["verdict"] == "not-on-pypi" and made_up["line"] == 7
    assert not any(d["name"] == "rich" for d in found["dependencies"])
    (top, *_) = found["hunks"]
    assert top["path"] == "pyproject.toml"
    assert any("not on PyPI" in reason for reason in top["reasons"])
    assert found["summary"]["dependencies"]["flagged"] == 2


def test_a_finding_on_a_rewritten_line_is_updated_not_new_and_fixed(repo: Path) -> None:
    (repo / "app" / "jobs.py").write_text(SHELL.replace("shell=True)", "shell=True, timeout=30)"))
    found = review_json(repo)
    assert found["findings"]["introduced"] == [] and found["findings"]["fixed"] == []
    (updated,) = [f for f in found["findings"]["in_changed_code"] if f["code"] == "B602"]
    assert (updated["state"], updated["where"]) == ("updated", "changed")


def test_a_large_change_shows_progress_on_a_terminal_only(repo: Path) -> None:
    from test_cli import run_with_terminal_stderr

    for index in range(220):
        (repo / "app" / f"m{index:03}.py").write_text(f"def f{index}(x):\n    return x + {index}\n")
    report = repo.parent / "report.json"
    stdout, terminal = run_with_terminal_stderr(
        "--no-cache", "--format", "json", "-o", str(report), cwd=repo, subcommand="review"
    )
    assert stdout == b""
    assert json.loads(report.read_text())["summary"]["files"] == 220  # the report stays clean
    assert b"Reviewing" in terminal and b"Traceback" not in terminal
    piped = review(repo, "--format", "json")
    assert "Reviewing" not in piped.stderr and "\x1b" not in piped.stderr


def test_deleted_files_submodules_and_conflicts_are_said_and_the_rest_reviewed(
    repo: Path, tmp_path: Path
) -> None:
    library = tmp_path / "library"
    library.mkdir()
    git(library, "init", "-q", "-b", "main")
    git(library, "config", "user.name", "Lib")
    git(library, "config", "user.email", "lib@example.com")
    (library / "lib.py").write_text("x = 1\n")
    git(library, "add", "-A")
    git(library, "commit", "-qm", "lib")
    allow = ("-c", "protocol.file.allow=always")
    git(repo, *allow, "submodule", "add", "-q", str(library), "vendor/lib")
    git(repo, "rm", "-q", "app/jobs.py")
    git(repo, "commit", "-qm", "Vendor a library, drop the jobs")
    # A conflict: both branches change the same line of one file.
    (repo / "app" / "conf.py").write_text("MODE = 'a'\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "conf a")
    git(repo, "checkout", "-q", "-b", "other", "HEAD~1")
    (repo / "app" / "conf.py").write_text("MODE = 'b'\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "conf b")
    merged = subprocess.run(["git", "merge", "-q", "feature"], cwd=repo, capture_output=True)
    assert merged.returncode != 0  # conflicted, as intended
    (repo / "app" / "new.py").write_text("x = eval(input())\n")
    found = review_json(repo, "--base", "main")
    by_path = {f["path"]: f for f in found["files"]}
    assert by_path["app/jobs.py"]["status"] == "deleted"
    assert {f["code"] for f in found["findings"]["fixed"]} >= {"B602", "B404"}
    assert "submodule" in by_path["vendor/lib"]["note"]
    assert any("unresolved conflicts (app/conf.py)" in note for note in found["notes"])
    assert "CS-S004" in {f["code"] for f in found["findings"]["introduced"]}


def test_the_markdown_of_a_300_file_change_stays_one_readable_comment(repo: Path) -> None:
    for index in range(300):
        body = "".join(f"def f{n}(s):\n    return eval(s)\n\n\n" for n in range(3))
        (repo / "app" / f"module_with_a_long_name_{index:03}.py").write_text(body)
    (repo / "app" / "worst.py").write_text(
        "import subprocess\nsubprocess.run(input(), shell=True)\n"
    )
    done = review(repo, "--format", "markdown", "--link-base", "https://example.com/o/r/blob/x")
    assert done.returncode == 0
    text = done.stdout
    assert len(text) < 65_536  # GitHub's limit for one comment
    assert "| Files changed | 301 (+" in text
    assert "more files with findings (the JSON and SARIF reports list them all)." in text
    first_details = text.index("<details>")
    assert text.index("app/worst.py", first_details) < text.index("module_with", first_details)
    MarkdownIt("commonmark").enable("table").parse(text)  # parses


def test_scopes_by_indentation_agree_with_the_syntax_tree_on_real_code() -> None:
    import os as stdlib_os

    from clearsight.review.fingerprints import scopes_by_indent, scopes_by_line

    folder = Path(stdlib_os.__file__).parent
    compared = agreeing = 0
    for name in ("subprocess.py", "argparse.py", "inspect.py", "typing.py", "dataclasses.py"):
        text = (folder / name).read_text(encoding="utf-8")
        exact, cheap = scopes_by_line(text), scopes_by_indent(text)
        code = [i for i, line in enumerate(text.split("\n")) if line.strip()]
        compared += len(code)
        agreeing += sum(exact[i] == cheap[i] for i in code)
    # 97.9% on 3.11's modules, 98.5% on 3.12's: the rest are examples in docstrings.
    assert agreeing / compared > 0.97, agreeing / compared
