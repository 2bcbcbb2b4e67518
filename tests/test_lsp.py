"""The language server end to end: a real `clearsight server` process over stdio, driven by
pytest-lsp's client with the capabilities of real editors."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

SERVER = ClientServerConfig(server_command=[sys.executable, "-m", "clearsight", "server"])
NO_DEBOUNCE = {"debounce": 0}


def pull_capabilities(encodings: list[str] | None = None) -> types.ClientCapabilities:
    """Neovim 0.11's capabilities: pull diagnostics, code-action resolve."""
    capabilities = client_capabilities("neovim@v0.11.0")
    assert capabilities.general is not None
    capabilities.general.position_encodings = encodings or ["utf-16"]
    return capabilities


async def start(client: LanguageClient, capabilities: types.ClientCapabilities, root: Path) -> None:
    registrations: list[types.Registration] = []
    client.__dict__["registrations"] = registrations

    # Real editors accept the server's dynamic registrations (file watchers); so does ours.
    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def on_register(params: types.RegistrationParams) -> None:
        registrations.extend(params.registrations)

    await client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities,
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="project")],
            initialization_options=NO_DEBOUNCE,
        )
    )


@pytest_lsp.fixture(config=SERVER)
async def push_client(lsp_client: LanguageClient, tmp_path: Path):
    """VS Code 1.65: no pull diagnostics, so the server pushes them."""
    await start(lsp_client, client_capabilities("visual-studio-code"), tmp_path)
    yield lsp_client
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=SERVER)
async def pull_client(lsp_client: LanguageClient, tmp_path: Path):
    await start(lsp_client, pull_capabilities(), tmp_path)
    yield lsp_client
    await lsp_client.shutdown_session()


def open_document(client: LanguageClient, uri: str, text: str, version: int = 1) -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="python", version=version, text=text
            )
        )
    )


def replace_all(client: LanguageClient, uri: str, text: str, version: int) -> None:
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


async def pushed_until(client: LanguageClient, uri: str, predicate, timeout: float = 30.0):
    """Wait for published diagnostics of `uri` that satisfy `predicate`; return them."""

    async def wait() -> list[types.Diagnostic]:
        while True:
            current = client.diagnostics.get(uri)
            if current is not None and predicate(list(current)):
                return list(current)
            await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)

    return await asyncio.wait_for(wait(), timeout)


async def pulled(client: LanguageClient, uri: str, previous: str | None = None):
    return await client.text_document_diagnostic_async(
        types.DocumentDiagnosticParams(
            text_document=types.TextDocumentIdentifier(uri=uri), previous_result_id=previous
        )
    )


def codes(diagnostics: list[types.Diagnostic]) -> list[str]:
    return sorted(str(d.code) for d in diagnostics)


INSECURE = "import yaml\n\n\ndef load(stream):\n    return yaml.load(stream)\n"


async def test_open_publishes_bandit_findings_with_code_source_and_link(
    push_client: LanguageClient, tmp_path: Path
) -> None:
    uri = (tmp_path / "app.py").as_uri()
    open_document(push_client, uri, INSECURE)
    diagnostics = await pushed_until(push_client, uri, lambda d: len(d) > 0)
    (finding,) = diagnostics
    assert finding.code == "B506" and finding.source == "clearsight"
    assert finding.range == types.Range(
        start=types.Position(line=4, character=11), end=types.Position(line=4, character=28)
    )
    assert finding.severity == types.DiagnosticSeverity.Warning
    assert finding.code_description is not None
    assert "bandit.readthedocs.io" in finding.code_description.href


async def test_change_updates_and_close_clears(push_client: LanguageClient, tmp_path: Path) -> None:
    uri = (tmp_path / "app.py").as_uri()
    open_document(push_client, uri, INSECURE)
    await pushed_until(push_client, uri, lambda d: codes(d) == ["B506"])
    replace_all(push_client, uri, INSECURE.replace("yaml.load", "yaml.safe_load"), 2)
    await pushed_until(push_client, uri, lambda d: d == [])
    replace_all(push_client, uri, "eval(x)\n", 3)
    await pushed_until(push_client, uri, lambda d: codes(d) == ["B307"])
    push_client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    await pushed_until(push_client, uri, lambda d: d == [])


async def test_pull_client_gets_reports_and_unchanged_for_same_result(
    pull_client: LanguageClient, tmp_path: Path
) -> None:
    uri = (tmp_path / "app.py").as_uri()
    open_document(pull_client, uri, INSECURE)
    first = await pulled(pull_client, uri)
    assert isinstance(first, types.RelatedFullDocumentDiagnosticReport)
    assert codes(first.items) == ["B506"]
    assert first.result_id
    again = await pulled(pull_client, uri, previous=first.result_id)
    assert isinstance(again, types.RelatedUnchangedDocumentDiagnosticReport)
    replace_all(pull_client, uri, "eval(x)\n", 2)
    changed = await pulled(pull_client, uri, previous=first.result_id)
    assert isinstance(changed, types.RelatedFullDocumentDiagnosticReport)
    assert codes(changed.items) == ["B307"]
    assert pull_client.diagnostics.get(uri) is None  # nothing was pushed to a pull client
