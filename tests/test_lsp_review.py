"""`clearsight/review` over LSP: the real server over stdio reviews the workspace's change,
the same document `clearsight review --format json` prints, for an editor's review view."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import client_capabilities
from test_lsp import SERVER, EditorClient, start
from test_review import SHELL, git

from clearsight.lsp.convert import plain_params


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: EditorClient):
    yield lsp_client
    await lsp_client.shutdown_session()


def make_change(root: Path) -> Path:
    (root / "app").mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Ann Human")
    git(root, "config", "user.email", "ann@example.com")
    (root / "app" / "jobs.py").write_text(SHELL)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "Start")
    git(root, "checkout", "-q", "-b", "feature")
    (root / "app" / "jobs.py").write_text(SHELL + "\n\ndef ev(s):\n    return eval(s)\n")
    (root / "other.py").write_text("import pickle\n\n\ndef f(b):\n    return pickle.loads(b)\n")
    return root


async def review(client: EditorClient, params: dict[str, Any]) -> dict[str, Any]:
    answer = await client.protocol.send_request_async("clearsight/review", params)
    return plain_params(answer)


async def test_the_review_request_returns_the_ranked_change(
    client: EditorClient, tmp_path: Path
) -> None:
    root = make_change(tmp_path / "repo")
    await start(client, client_capabilities("visual-studio-code"), root)
    found = await review(client, {})
    assert found["base"]["name"] == "main"
    assert found["root"] == str(root.resolve())
    introduced = {(f["path"], f["code"]) for f in found["findings"]["introduced"]}
    assert {("app/jobs.py", "B307"), ("other.py", "B301")} <= introduced
    assert found["hunks"][0]["reasons"] and found["hunks"][0]["score"] > 0
    assert found["markdown"].startswith("<!-- clearsight-review -->")
    only_app = await review(client, {"folder": (root / "app").as_uri()})
    assert [f["path"] for f in only_app["files"]] == ["app/jobs.py"]


async def test_a_folder_outside_git_or_an_unknown_base_is_a_clear_error(
    client: EditorClient, tmp_path: Path
) -> None:
    root = make_change(tmp_path / "repo")
    plain = tmp_path / "plain"
    plain.mkdir()
    await start(client, client_capabilities("visual-studio-code"), root)
    with pytest.raises(JsonRpcException, match="not in a git repository"):
        await review(client, {"folder": plain.as_uri()})
    with pytest.raises(JsonRpcException, match="'nope' is not a commit"):
        await review(client, {"base": "nope"})
    # The server is still there and answers.
    assert (await review(client, {}))["summary"]["files"] == 2


async def test_changed_scope_shows_what_the_change_introduced_and_adjacent_findings(
    client: EditorClient, tmp_path: Path
) -> None:
    from test_lsp import codes, open_document, pushed_until, replace_all

    root = make_change(tmp_path / "repo")
    git(root, "checkout", "-q", "--", ".")  # the file as the base has it
    git(root, "clean", "-qfd")
    options = {"debounce": 0, "scope": "changed"}
    await start(client, client_capabilities("visual-studio-code"), root, options)
    path = root / "app" / "jobs.py"
    uri = path.as_uri()
    text = SHELL.replace("def run(cmd):\n", "def run(cmd):\n    print('running', cmd)\n")
    text += "\n\ndef ev(s):\n    return eval(s)\n"
    open_document(client, uri, text)
    shown = await pushed_until(client, uri, lambda d: "B307" in codes(d))
    assert codes(shown) == ["B307", "B602"]  # not B404: an untouched import line
    (adjacent,) = [d for d in shown if d.code == "B602"]
    assert "Adjacent: there before this change" in adjacent.message
    replace_all(client, uri, SHELL, 2)  # back to the base's text: nothing is new
    await pushed_until(client, uri, lambda d: d == [])
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"clearsight": {"debounce": 0, "scope": "all"}})
    )
    everything = await pushed_until(client, uri, lambda d: "B404" in codes(d))
    assert {"B404", "B602"} <= set(codes(everything))


async def test_a_commit_moves_the_base_and_the_new_code_view_follows(
    client: EditorClient, tmp_path: Path
) -> None:
    from test_lsp import codes, open_document, pushed_until

    root = make_change(tmp_path / "repo")
    options = {"debounce": 0, "scope": "changed", "base": "HEAD"}
    await start(client, client_capabilities("visual-studio-code"), root, options)
    path = root / "app" / "jobs.py"
    uri = path.as_uri()
    open_document(client, uri, path.read_text())
    await pushed_until(client, uri, lambda d: codes(d) == ["B307"])  # eval() is uncommitted
    git(root, "commit", "-qam", "Evaluate")
    head = root / ".git" / "refs" / "heads" / "feature"
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=head.as_uri(), type=types.FileChangeType.Changed)]
        )
    )
    await pushed_until(client, uri, lambda d: d == [])  # committed: no longer new against HEAD


async def test_changed_scope_a_moved_function_brings_nothing_new(
    client: EditorClient, tmp_path: Path
) -> None:
    """A function moved down the file, unchanged: its old finding is in lines the diff
    shows, so it is there, marked adjacent, never new; the new finding is new."""
    from test_lsp import codes, open_document, pushed_until

    root = make_change(tmp_path / "repo")
    git(root, "checkout", "-q", "--", ".")
    git(root, "clean", "-qfd")
    options = {"debounce": 0, "scope": "changed"}
    await start(client, client_capabilities("visual-studio-code"), root, options)
    uri = (root / "app" / "jobs.py").as_uri()
    run_function = "def run(cmd):\n    return subprocess.run(cmd, shell=True)\n"
    moved = SHELL.replace(run_function, "") + "\n\n" + run_function
    assert moved != SHELL
    added = moved + "\n\ndef ev(s):\n    return eval(s)\n"
    open_document(client, uri, added)
    shown = await pushed_until(client, uri, lambda d: "B307" in codes(d))
    new = [d.code for d in shown if "Adjacent" not in d.message]
    assert new == ["B307"] and "B602" in codes(shown)


async def test_outside_git_the_changed_scope_says_so_once_and_shows_everything(
    client: EditorClient, tmp_path: Path
) -> None:
    from test_lsp import codes, open_document, pushed_until

    plain = tmp_path / "plain"
    plain.mkdir()
    options = {"debounce": 0, "scope": "changed"}
    await start(client, client_capabilities("visual-studio-code"), plain, options)
    for name in ("a.py", "b.py"):
        uri = (plain / name).as_uri()
        open_document(client, uri, SHELL)
        await pushed_until(client, uri, lambda d: {"B404", "B602"} <= set(codes(d)))
    said = [m.message for m in client.messages if "not in a git repository" in m.message]
    assert len(said) == 1 and "every finding" in said[0], client.messages


async def test_a_rebase_in_progress_shows_everything_until_it_ends(
    client: EditorClient, tmp_path: Path
) -> None:
    """A rebase stopped on a conflict: the working tree is neither the branch nor its
    base, so every finding shows, and the server says why once."""
    from test_lsp import codes, open_document, pushed_until

    root = make_change(tmp_path / "repo")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "Feature")
    git(root, "checkout", "-q", "main")
    (root / "other.py").write_text("x = 1\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "Main")
    git(root, "checkout", "-q", "feature")
    rebase = subprocess.run(
        ["git", "rebase", "main"], cwd=root, capture_output=True, text=True, timeout=60
    )
    assert rebase.returncode != 0  # stopped on other.py's conflict
    options = {"debounce": 0, "scope": "changed"}
    await start(client, client_capabilities("visual-studio-code"), root, options)
    uri = (root / "app" / "jobs.py").as_uri()
    open_document(client, uri, (root / "app" / "jobs.py").read_text())
    await pushed_until(client, uri, lambda d: {"B307", "B404", "B602"} <= set(codes(d)))
    said = [m.message for m in client.messages if "rebase is in progress" in m.message]
    assert len(said) == 1, client.messages


async def test_a_detached_head_still_compares_with_the_base_and_logs_it(
    client: EditorClient, tmp_path: Path
) -> None:
    from test_lsp import codes, open_document, pushed_until

    root = make_change(tmp_path / "repo")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "Feature")
    git(root, "checkout", "-q", "--detach", "feature")
    options = {"debounce": 0, "scope": "changed"}
    await start(client, client_capabilities("visual-studio-code"), root, options)
    uri = (root / "app" / "jobs.py").as_uri()
    open_document(client, uri, (root / "app" / "jobs.py").read_text())
    await pushed_until(client, uri, lambda d: codes(d) == ["B307"])
    logged = [m.message for m in client.log_messages if "HEAD is detached" in m.message]
    assert len(logged) == 1 and "main" in logged[0], client.log_messages


async def test_the_baseline_setting_hides_the_reports_findings(
    client: EditorClient, tmp_path: Path
) -> None:
    """A baseline written by `clearsight check --format json -o`: its findings stay hidden
    when code is added above them; a new one shows; a broken baseline file shows every
    finding and says so once."""
    import sys

    from test_lsp import codes, open_document, pushed_until

    root = tmp_path / "project"
    root.mkdir()
    (root / "jobs.py").write_text(SHELL)
    made = subprocess.run(
        [sys.executable, "-m", "clearsight.cli.main", "check", "--no-cache", "--format",
         "json", "-o", "baseline.json", "."],
        cwd=root, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert made.returncode == 1, made.stderr
    options = {"debounce": 0, "baseline": "baseline.json"}
    await start(client, client_capabilities("visual-studio-code"), root, options)
    uri = (root / "jobs.py").as_uri()
    text = "import os\n\n" + SHELL + "\n\ndef ev(s):\n    return eval(s)\n"
    open_document(client, uri, text)
    await pushed_until(client, uri, lambda d: codes(d) == ["B307"])
    (root / "baseline.json").write_text("{broken")
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[
                types.FileEvent(
                    uri=(root / "baseline.json").as_uri(), type=types.FileChangeType.Changed
                )
            ]
        )
    )
    await pushed_until(client, uri, lambda d: {"B307", "B404", "B602"} <= set(codes(d)))
    said = [m.message for m in client.messages if "baseline" in m.message]
    assert len(said) == 1 and "is not JSON" in said[0] and "every finding" in said[0]


async def test_workspace_diagnostics_of_closed_files_follow_the_new_code_mode(
    client: EditorClient, tmp_path: Path
) -> None:
    """A pull of the whole workspace in the new code mode: a committed file unchanged
    reports nothing, a changed one what it introduced, an untracked one everything; a
    result id from the mode "all" is not answered "unchanged"."""
    from test_lsp import by_uri, codes, ids_of, pull_capabilities, workspace_pull

    root = make_change(tmp_path / "repo")
    (root / "app" / "old.py").write_text(SHELL)
    git(root, "add", "app/old.py")
    git(root, "commit", "-qm", "Old")
    await start(client, pull_capabilities(), root, {"scope": "changed", "base": "HEAD"})
    reports = by_uri((await workspace_pull(client)).items)
    jobs, old, other = (root / "app" / "jobs.py", root / "app" / "old.py", root / "other.py")
    assert codes(reports[old.as_uri()].items) == []
    assert codes(reports[jobs.as_uri()].items) == ["B307"]
    assert {"B301", "B403"} <= set(codes(reports[other.as_uri()].items))
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"clearsight": {"scope": "all"}})
    )
    everything = by_uri((await workspace_pull(client, ids_of(reports.values()))).items)
    assert {"B404", "B602"} <= set(codes(everything[old.as_uri()].items))
