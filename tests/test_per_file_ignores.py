"""Per-file ignores and the built-in test-file defaults, through the real console script on
a real project layout (requests 2.32.3's sdist: src/ and tests/), and in the editor."""

from __future__ import annotations

import json
import tarfile
from collections import Counter
from pathlib import Path

import pytest_lsp
from pytest_lsp import client_capabilities
from test_cli import clearsight, write
from test_lsp import SERVER, EditorClient, codes, open_document, pushed_until, start
from test_review import requests_sdists


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: EditorClient):
    yield lsp_client
    await lsp_client.shutdown_session()


def unpack_requests(tmp_path: Path) -> Path:
    _old, new = requests_sdists()
    with tarfile.open(new) as archive:
        archive.extractall(tmp_path, filter="data")
    return tmp_path / "requests-2.32.3"


def counts(project: Path) -> Counter[tuple[str, str, bool]]:
    """(code, severity, in tests/) of the assert and hard-coded password findings."""
    done = clearsight("--no-cache", "--exit-zero", "--format", "json", ".", cwd=project,
                      timeout=600)  # fmt: skip
    found = json.loads(done.stdout)["findings"]
    return Counter(
        (f["code"], f["severity"], f["path"].lstrip("./").startswith("tests/"))
        for f in found if f["code"] in ("B101", "B105", "B106", "B107")
    )  # fmt: skip


def test_tests_of_a_real_project_lose_their_assert_noise_and_keep_the_rest(
    tmp_path: Path,
) -> None:
    project = unpack_requests(tmp_path)
    default = counts(project)
    with (project / "pyproject.toml").open("a") as stream:
        stream.write("\n[tool.clearsight]\ntest-defaults = false\n")
    off = counts(project)
    assert off[("B101", "info", True)] > 500  # requests' tests assert, as tests do
    assert default[("B101", "info", True)] == 0
    # The library's own asserts are still reported, defaults or not.
    assert default[("B101", "info", False)] == off[("B101", "info", False)] > 0
    # A "hard-coded password" in the tests is test data: a hint, no longer information.
    assert default[("B105", "hint", True)] == off[("B105", "info", True)] >= 1


def test_per_file_ignores_take_globs_from_the_project_root(tmp_path: Path) -> None:
    shell = "import subprocess\n\n\ndef run(c):\n    return subprocess.run(c, shell=True)\n"
    write(tmp_path, {
        "pyproject.toml": (
            '[tool.clearsight.per-file-ignores]\n"scripts/*.py" = ["B602", "b404"]\n'
            '"__init__.py" = ["B"]\n"broken" = "B101"\n'
        ),
        "scripts/deploy.py": shell,
        "app/jobs.py": shell,
        "app/__init__.py": "def ev(s):\n    return eval(s)\n",
    })  # fmt: skip
    done = clearsight("--no-cache", "--format", "json", ".", cwd=tmp_path)
    found = {(f["path"].lstrip("./"), f["code"]) for f in done.json()["findings"]}
    assert ("app/jobs.py", "B602") in found and ("app/jobs.py", "B404") in found
    assert not any(path == "scripts/deploy.py" for path, _ in found)
    assert not any(path == "app/__init__.py" for path, _ in found)
    assert "per-file-ignores.'broken': expected a glob and a list of codes" in done.stderr


def test_a_test_file_can_still_select_what_the_defaults_turn_off(tmp_path: Path) -> None:
    write(tmp_path, {"tests/test_app.py": "def test_it():\n    assert 1\n"})
    assert clearsight("--no-cache", ".", cwd=tmp_path).returncode == 0
    write(tmp_path, {"pyproject.toml": "[tool.clearsight]\ntest-defaults = false\n"})
    shown = clearsight("--no-cache", ".", cwd=tmp_path)
    assert "tests/test_app.py:2:5: B101" in shown.stdout


async def test_the_editor_applies_the_test_defaults(client: EditorClient, tmp_path: Path) -> None:
    await start(client, client_capabilities("visual-studio-code"), tmp_path, {"debounce": 0})
    test_file = (tmp_path / "tests" / "test_app.py").as_uri()
    module = (tmp_path / "app.py").as_uri()
    text = "def test_it(x):\n    assert x\n    return eval(x)\n"
    open_document(client, test_file, text)
    open_document(client, module, text)
    assert codes(await pushed_until(client, test_file, lambda d: bool(d))) == ["B307"]
    assert set(codes(await pushed_until(client, module, lambda d: len(d) >= 2))) >= {"B101", "B307"}
