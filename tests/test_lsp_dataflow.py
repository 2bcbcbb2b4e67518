"""The dataflow family through the real language server: findings whose path arrives as
related information, updated by the edit that puts a sanitizer between source and sink."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest_lsp
from lsprotocol import types
from pytest_lsp import client_capabilities
from test_lsp import (
    SERVER,
    EditorClient,
    edit,
    hover,
    open_document,
    pushed_until,
    start,
)

APP = textwrap.dedent(
    """
    from flask import Flask, request

    app = Flask(__name__)


    def load(name):
        return open("files/" + name).read()


    @app.route("/file")
    def file():
        param = request.args.get("name", "")
        bar = param
        return load(bar)
    """
).lstrip()


@pytest_lsp.fixture(config=SERVER)
async def push_client(lsp_client: EditorClient, tmp_path: Path):
    capabilities = client_capabilities("visual-studio-code")
    await start(lsp_client, capabilities, tmp_path)
    yield lsp_client
    await lsp_client.shutdown_session()


def flows(diagnostics: list[types.Diagnostic]) -> list[types.Diagnostic]:
    return [d for d in diagnostics if str(d.code).startswith("CS-S")]


async def test_a_flow_arrives_with_its_source_and_steps_as_related_information(
    push_client: EditorClient, tmp_path: Path
) -> None:
    path = tmp_path / "app.py"
    path.write_text(APP, encoding="utf-8")
    uri = path.as_uri()
    open_document(push_client, uri, APP)
    diagnostics = await pushed_until(push_client, uri, lambda found: bool(flows(found)))
    (flow,) = flows(diagnostics)
    assert flow.code == "CS-S001"
    assert flow.range.start.line == 6  # open() in load()
    assert flow.severity == types.DiagnosticSeverity.Warning
    assert "the request parameter `name` (line 12)" in flow.message
    related = flow.related_information or []
    assert [r.location.range.start.line for r in related][:3] == [11, 11, 12]
    assert all(r.location.uri == uri for r in related)
    assert related[0].message.startswith("source: the request parameter `name`")
    assert any("passed to `load()` as `name`" in r.message for r in related)
    assert flow.code_description is not None
    assert flow.code_description.href.endswith("rules.md#cs-s001")
    text = await hover(push_client, uri, 6, 12)
    assert text is not None and "CWE-22" in text


async def test_a_sanitizer_typed_between_source_and_sink_clears_the_finding(
    push_client: EditorClient, tmp_path: Path
) -> None:
    path = tmp_path / "app.py"
    path.write_text(APP, encoding="utf-8")
    uri = path.as_uri()
    open_document(push_client, uri, APP)
    await pushed_until(push_client, uri, lambda found: bool(flows(found)))
    # `bar = param` -> `bar = os.path.basename(param)`, typed as the editor sends it.
    edit(
        push_client,
        uri,
        2,
        (12, 10, 12, 15, "os.path.basename(param)"),
        (0, 0, 0, 0, "import os\n"),
    )
    await pushed_until(push_client, uri, lambda found: not flows(found))
    edit(push_client, uri, 3, (13, 10, 13, 33, "param"))
    again = await pushed_until(push_client, uri, lambda found: bool(flows(found)))
    assert flows(again)[0].range.start.line == 7
