"""`clearsight/riskReport` over LSP: the real server over stdio builds the risk report of
a real git history, the same data as `clearsight report --format json`, and the page with
the slot where the editor puts its own plotly.js."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from pygls.exceptions import JsonRpcException
from pytest_lsp import client_capabilities
from test_lsp import SERVER, EditorClient, start
from test_report import history_repo, report

from clearsight.lsp.convert import plain_params


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: EditorClient):
    yield lsp_client
    await lsp_client.shutdown_session()


async def risk_report(client: EditorClient, params: dict[str, Any]) -> dict[str, Any]:
    answer = await client.protocol.send_request_async("clearsight/riskReport", params)
    return plain_params(answer)


async def test_the_risk_report_request_returns_the_page_and_its_data(
    client: EditorClient, tmp_path: Path
) -> None:
    repo = history_repo(tmp_path)
    await start(client, client_capabilities("visual-studio-code"), repo)
    found = await risk_report(client, {"history": 3})
    assert found["root"] == str(repo.resolve())
    expected = report(repo, "--history", "3")
    assert [r["commit"] for r in found["data"]["revisions"]] == [
        r["commit"] for r in expected["revisions"]
    ]
    assert found["data"]["hotspots"] == expected["hotspots"]
    html = found["html"]
    assert found["scriptSlot"] in html and "<script>" in html
    assert "plotly.js v" not in html  # the editor brings its own


async def test_bad_params_and_a_folder_outside_git_are_clear_errors(
    client: EditorClient, tmp_path: Path
) -> None:
    repo = history_repo(tmp_path)
    plain = tmp_path / "plain"
    plain.mkdir()
    await start(client, client_capabilities("visual-studio-code"), repo)
    with pytest.raises(JsonRpcException, match="history must be a whole number"):
        await risk_report(client, {"history": 0})
    with pytest.raises(JsonRpcException, match="not in a git repository"):
        await risk_report(client, {"folder": plain.as_uri()})
    assert len((await risk_report(client, {"history": 1}))["data"]["revisions"]) == 1
