"""Provenance through the real language server over stdio (pytest-lsp), on real git repos."""

from __future__ import annotations

import ast
import asyncio
import json
import textwrap
from pathlib import Path
from typing import Any

import pytest_lsp
from lsprotocol import types
from pytest_lsp import client_capabilities
from test_lsp import (
    SERVER,
    EditorClient,
    by_uri,
    close_document,
    codes,
    edit,
    ids_of,
    open_document,
    pull_capabilities,
    pushed_until,
    replace_all,
    start,
    workspace_pull,
)
from test_provenance import AI_CODE, HUMAN_CODE, commit_ai, git, make_repo

LEDGER = Path(".clearsight") / "provenance.jsonl"
NEW_FUNCTION = (
    "\n\ndef added(rows):\n    seen = set()\n    for row in rows:\n        seen.add(row)\n"
    "    return seen\n"
)


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: EditorClient):
    yield lsp_client
    await lsp_client.shutdown_session()


async def start_in(client: EditorClient, root: Path) -> None:
    capabilities = client_capabilities("visual-studio-code")  # push diagnostics
    await start(client, capabilities, root)


def has(code: str):
    return lambda diagnostics: code in codes(diagnostics)


def lacks(code: str):
    return lambda diagnostics: code not in codes(diagnostics)


async def provenance_report(client: EditorClient) -> dict:
    """The custom request's answer, as JSON (pygls hands it over as named tuples)."""
    answer = await client.protocol.send_request_async("clearsight/provenanceReport", {})

    def plain(value: Any) -> Any:
        if hasattr(value, "_asdict"):
            return {k: plain(v) for k, v in value._asdict().items()}
        return [plain(v) for v in value] if isinstance(value, list | tuple) else value

    return plain(answer)


def ledger_records(root: Path) -> list[dict]:
    path = root / LEDGER
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


async def test_history_attribution_arrives_without_blocking_and_review_clears_it(
    client: EditorClient, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path)
    commit_ai(repo, "Add\n\nCo-authored-by: Claude <noreply@anthropic.com>")
    await start_in(client, repo)
    uri = (repo / "app.py").as_uri()
    text = (repo / "app.py").read_text()
    open_document(client, uri, text)
    diagnostics = await pushed_until(client, uri, has("CS-P001"))
    (unreviewed,) = [d for d in diagnostics if d.code == "CS-P001"]
    first = text.splitlines().index("def generated(items):")
    assert unreviewed.range.start.line == first
    assert unreviewed.severity == types.DiagnosticSeverity.Information
    assert "claude" in unreviewed.message
    # Hover and the file lens tell where the code came from.
    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=first + 2, character=8),
        )
    )
    assert hover is not None and "AI · claude · commit" in hover.contents.value
    assert "unreviewed" in hover.contents.value
    lenses = await client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    assert any(
        lens.range.start.line == 0 and "unreviewed block" in lens.command.title for lens in lenses
    )
    # The code action carries the command; executing it records the review.
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=unreviewed.range,
            context=types.CodeActionContext(diagnostics=[unreviewed]),
        )
    )
    (review,) = [a for a in actions if a.title.startswith("Mark as reviewed")]
    command = review.command
    if isinstance(review, types.Command):
        # The test client's converter reads a CodeAction that carries a command (and no
        # edit) as a Command whose `command` is the nested object's repr: read it back.
        command = types.Command(**ast.literal_eval(review.command))
    assert command is not None and command.command == "clearsight.markReviewed"
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command.command, arguments=command.arguments)
    )
    assert result["statements"] >= 5
    await pushed_until(client, uri, lacks("CS-P001"))
    (record,) = ledger_records(repo)
    assert record["type"] == "review" and record["reviewer"] == "Ann Human <ann@example.com>"
    # Changing a reviewed statement makes it new content: no longer reviewed AI code.
    line = text.splitlines().index("        if item > 10:")
    edit(client, uri, 2, (line, 18, line, 20, "99"))
    await pushed_until(client, uri, lacks("CS-P001"))


async def test_bulk_insertion_is_recorded_but_formatting_and_pasting_existing_code_are_not(
    client: EditorClient, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path)
    await start_in(client, repo)
    uri = (repo / "app.py").as_uri()
    open_document(client, uri, HUMAN_CODE)
    await pushed_until(client, uri, lacks("CS-P001"))
    end = len(HUMAN_CODE.splitlines())
    # Moving existing code is not new content (cut + paste of the human function).
    moved = HUMAN_CODE.replace("def human(value):\n    return value + 1\n", "")
    moved = "def human(value):\n    return value + 1\n\n\n" + moved
    replace_all(client, uri, moved, 2)
    await asyncio.sleep(0.5)
    replace_all(client, uri, HUMAN_CODE, 3)
    # A completion inserting a whole function at once.
    edit(client, uri, 4, (end, 0, end, 0, NEW_FUNCTION))
    diagnostics = await pushed_until(client, uri, has("CS-P001"))
    (block,) = [d for d in diagnostics if d.code == "CS-P001"]
    assert block.range.start.line == end + 2
    assert "bulk insertion" in block.message
    (record,) = ledger_records(repo)
    assert record["type"] == "attribution" and record["evidence"] == "bulk-insertion"
    assert record["path"] == "app.py" and len(record["keys"]) == 5
    assert "seen" not in json.dumps(record)  # hashes, never code


async def test_mark_provenance_notification_and_human_correction(
    client: EditorClient, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path)
    await start_in(client, repo)
    uri = (repo / "app.py").as_uri()
    open_document(client, uri, HUMAN_CODE)
    await pushed_until(client, uri, lacks("CS-P001"))
    client.protocol.notify(
        "clearsight/markProvenance",
        {
            "uri": uri,
            "ranges": [{"start": {"line": 3, "character": 0}, "end": {"line": 4, "character": 99}}],
            "tool": "codex",
            "model": "gpt-5-codex",
        },
    )
    diagnostics = await pushed_until(client, uri, has("CS-P001"))
    (block,) = [d for d in diagnostics if d.code == "CS-P001"]
    assert "codex (gpt-5-codex)" in block.message and block.range.start.line == 3
    span = {"start": {"line": 3, "character": 0}, "end": {"line": 4, "character": 5}}
    await client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command="clearsight.markHumanWritten", arguments=[{"uri": uri, "range": span}]
        )
    )
    await pushed_until(client, uri, lacks("CS-P001"))
    kinds = [(r["type"], r["author"]) for r in ledger_records(repo)]
    assert kinds == [("attribution", "ai"), ("attribution", "human")]


async def test_external_write_of_a_closed_file(client: EditorClient, tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    await start_in(client, repo)
    path = repo / "app.py"
    uri = path.as_uri()
    open_document(client, uri, HUMAN_CODE)
    await pushed_until(client, uri, lacks("CS-P001"))
    close_document(client, uri)
    path.write_text(HUMAN_CODE + AI_CODE)  # an agent writing the file directly
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=uri, type=types.FileChangeType.Changed)]
        )
    )
    for _ in range(100):
        if ledger_records(repo):
            break
        await asyncio.sleep(0.1)
    (record,) = ledger_records(repo)
    assert record["evidence"] == "external-write" and len(record["keys"]) == 6
    open_document(client, uri, path.read_text(), version=10)
    diagnostics = await pushed_until(client, uri, has("CS-P001"))
    assert any("external write" in d.message for d in diagnostics)


async def test_a_checkout_is_not_an_external_write(client: EditorClient, tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    commit_ai(repo, "More code")  # by Ann: human
    git(repo, "checkout", "-q", "HEAD~1")
    await start_in(client, repo)
    path = repo / "app.py"
    open_document(client, path.as_uri(), path.read_text())
    await pushed_until(client, path.as_uri(), lacks("CS-P001"))
    close_document(client, path.as_uri())
    git(repo, "checkout", "-q", "main")  # the file grows by the committed code
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=path.as_uri(), type=types.FileChangeType.Changed)]
        )
    )
    # The server answers requests in order: once the report is back, the event was handled.
    report = await provenance_report(client)
    await asyncio.sleep(1.0)
    assert ledger_records(repo) == []
    assert "0 of 1 files hold AI-written code" in report["markdown"]


async def test_provenance_report_request(client: EditorClient, tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    commit_ai(repo, "Add\n\nCo-authored-by: Cursor Agent <cursoragent@cursor.com>")
    (repo / "other.py").write_text(textwrap.dedent("print('hello')\n"))
    await start_in(client, repo)
    report = await provenance_report(client)
    markdown = report["markdown"]
    assert "1 of 2 files hold AI-written code" in markdown
    assert "`app.py`" in markdown and "cursor" in markdown
    assert report["totals"]["unreviewed_blocks"] == 1


async def test_a_hand_broken_ledger_is_reported_once_and_valid_records_still_count(
    client: EditorClient, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path)
    commit_ai(repo, "Add\n\nCo-authored-by: Claude <noreply@anthropic.com>")
    from clearsight.provenance.service import ProvenanceService
    from clearsight.settings import Settings
    from clearsight.source import SourceText

    path = repo / "app.py"
    source = SourceText(path.read_text(), path=str(path))
    ProvenanceService().mark_reviewed(source, Settings(), range(0, len(source.lines)), "Ann")
    with (repo / LEDGER).open("a") as handle:
        handle.write("{this is not json\n")
    await start_in(client, repo)
    uri = path.as_uri()
    open_document(client, uri, path.read_text())
    await pushed_until(client, uri, lacks("CS-P001"))  # the valid review still counts
    for _ in range(50):
        messages = [m.message for m in client.messages]
        if any("provenance" in m for m in messages):
            break
        await asyncio.sleep(0.1)
    assert any("provenance.jsonl:2" in m and "skipped" in m for m in messages), messages


async def test_workspace_diagnostics_follow_history_and_reviews(
    client: EditorClient, tmp_path: Path
) -> None:
    """Closed files: provenance arrives once history is read, and a review recorded in the
    ledger changes the file's result even though its text did not change."""
    repo = make_repo(tmp_path)
    commit_ai(repo, "Add\n\nCo-authored-by: Claude <noreply@anthropic.com>")
    await start(client, pull_capabilities(), repo)
    uri = (repo / "app.py").as_uri()
    reports: dict = {}
    for _ in range(100):  # history is read in the background; ask again until it is there
        reports = by_uri((await workspace_pull(client)).items)
        if "CS-P001" in codes(reports[uri].items):
            break
        await asyncio.sleep(0.2)
    assert "CS-P001" in codes(reports[uri].items)
    unchanged = by_uri((await workspace_pull(client, ids_of(reports.values()))).items)
    assert isinstance(unchanged[uri], types.WorkspaceUnchangedDocumentDiagnosticReport)
    from clearsight.provenance.service import ProvenanceService
    from clearsight.settings import Settings
    from clearsight.source import SourceText

    path = repo / "app.py"
    source = SourceText(path.read_text(), path=str(path))
    ProvenanceService().mark_reviewed(source, Settings(), range(0, len(source.lines)), "Ann")
    after = by_uri((await workspace_pull(client, ids_of(reports.values()))).items)
    assert isinstance(after[uri], types.WorkspaceFullDocumentDiagnosticReport)
    assert "CS-P001" not in codes(after[uri].items)


async def test_unreviewed_block_points_at_its_security_findings(
    client: EditorClient, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path)
    with (repo / "app.py").open("a") as handle:
        handle.write(
            "\n\ndef run(cmd):\n    import subprocess\n    subprocess.call(cmd, shell=True)\n"
        )
    git(repo, "commit", "-qam", "Add\n\nCo-authored-by: Claude <noreply@anthropic.com>")
    await start_in(client, repo)
    uri = (repo / "app.py").as_uri()
    open_document(client, uri, (repo / "app.py").read_text())
    diagnostics = await pushed_until(client, uri, has("CS-P001"))
    (block,) = [d for d in diagnostics if d.code == "CS-P001"]
    (shell,) = [d for d in diagnostics if d.code == "B602"]
    assert block.severity == types.DiagnosticSeverity.Warning
    assert block.related_information is not None
    assert {(r.location.uri, r.location.range.start.line) for r in block.related_information} >= {
        (uri, shell.range.start.line)
    }
    (module,) = [d for d in diagnostics if d.code == "B404"]  # low: information, raised
    assert module.severity == types.DiagnosticSeverity.Warning
    assert "Raised one level: AI-written code" in module.message
