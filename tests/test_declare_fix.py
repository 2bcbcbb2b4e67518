"""CS-D002's fix: declare the distribution in pyproject.toml, editing only the lines that
change (tomlkit keeps comments and layout); offered in the editor as a quick fix whose edit
targets pyproject.toml, never applied in bulk."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import client_capabilities
from test_lsp import (
    SERVER,
    EditorClient,
    apply_text_edits,
    code_actions,
    open_document,
    published,
    start,
)

from clearsight.deps.pyproject_edit import add_dependency, declaration_edit, lines_edit
from clearsight.engine import analyze
from clearsight.fixes import apply_edits, safe_fix_edits
from clearsight.settings import Settings

PYPROJECT = """\
# The demo project.
[project]
name = "demo"
version = "1.0"
dependencies = [
    "rich>=13",  # terminal output
]

[tool.other]
keep = true  # untouched
"""

STYLES = {
    "one entry per line": PYPROJECT,
    "one line": '[project]\nname = "demo"\ndependencies = ["rich"]  # one line\n',
    "no dependencies yet": '[project]\nname = "demo"\n\n[tool.x]\na = 1\n',
    "no final line break": '[project]\nname = "demo"\ndependencies = ["rich"]',
    "crlf": '[project]\r\nname = "demo"\r\ndependencies = [\r\n    "rich",\r\n]\r\n',
}


@pytest.mark.parametrize("style", STYLES)
def test_the_edit_changes_only_the_lines_tomlkit_changes(tmp_path: Path, style: str) -> None:
    text = STYLES[style]
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_bytes(text.encode())
    edit = declaration_edit(pyproject, "PyYAML")
    assert edit is not None
    declared = add_dependency(text, "PyYAML")
    assert apply_edits(text, [edit]) == (declared, 1)
    # Lines tomlkit kept (with their line breaks) are not rewritten.
    unchanged = set(text.splitlines(keepends=True)) & set(declared.splitlines(keepends=True))
    rewritten = edit.new_text.splitlines(keepends=True)
    assert all(line not in rewritten for line in unchanged if line.strip())


def test_lines_edit_turns_any_text_into_any_other() -> None:
    texts = ["", "a", "a\n", "a\nb", "a\nb\n", "x\na\nb\n", "a\r\nb\r\n", "a\nc\nb"]
    for old in texts:
        for new in texts:
            assert apply_edits(old, [lines_edit(old, new)])[0] == new, (old, new)


def test_no_edit_when_it_is_declared_or_the_file_cannot_take_it(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(add_dependency(PYPROJECT, "PyYAML"))
    assert declaration_edit(pyproject, "pyyaml") is None  # already there (PEP 503 names)
    pyproject.write_text('[project]\nname = "x"\ndynamic = ["dependencies"]\n')
    assert declaration_edit(pyproject, "PyYAML") is None
    pyproject.write_text("[project\nbroken")
    assert declaration_edit(pyproject, "PyYAML") is None
    assert declaration_edit(tmp_path / "missing.toml", "PyYAML") is None


def test_the_finding_carries_the_fix_and_bulk_fixing_leaves_it_alone(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    app = tmp_path / "app.py"
    text = "import yaml\n"
    (finding,) = [f for f in analyze(text, str(app), Settings()) if f.code == "CS-D002"]
    (fix,) = finding.fixes
    assert fix.title == "Declare `PyYAML` in pyproject.toml ([project] dependencies)"
    assert (fix.path, fix.safe) == (str(tmp_path / "pyproject.toml"), False)
    assert apply_edits(PYPROJECT, fix.edits)[0] == add_dependency(PYPROJECT, "PyYAML")
    assert finding.shifted(3).fixes == finding.fixes  # another file's lines do not move
    assert safe_fix_edits([finding]) == []


# -- in the editor --------------------------------------------------------------------------


@pytest_lsp.fixture(config=SERVER)
async def editor(lsp_client: EditorClient, tmp_path: Path):
    await start(lsp_client, client_capabilities("visual-studio-code"), tmp_path)
    yield lsp_client
    await lsp_client.shutdown_session()


async def test_the_quick_fix_declares_it_and_the_finding_goes(
    editor: EditorClient, tmp_path: Path
) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(PYPROJECT)
    uri = (tmp_path / "app.py").as_uri()
    open_document(editor, uri, "import yaml\n")
    found = await published(editor, uri, 1)
    (undeclared,) = [d for d in found if d.code == "CS-D002"]
    actions = await code_actions(editor, uri, [undeclared])
    (declare,) = [a for a in actions if a.title.startswith("Declare `PyYAML`")]
    if declare.edit is None:
        declare = await editor.code_action_resolve_async(declare)
    edit = declare.edit
    assert edit is not None
    changes = dict(edit.changes or {})
    for change in edit.document_changes or []:
        assert isinstance(change, types.TextDocumentEdit)
        changes[change.text_document.uri] = list(change.edits)
    assert list(changes) == [pyproject.as_uri()]
    declared = apply_text_edits(PYPROJECT, changes[pyproject.as_uri()], "utf-16")
    assert declared == add_dependency(PYPROJECT, "PyYAML")
    assert "# terminal output" in declared and "keep = true  # untouched" in declared
    # The editor saves pyproject.toml; the file watcher tells the server.
    count = len(editor.publications)
    pyproject.write_text(declared)
    editor.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=pyproject.as_uri(), type=types.FileChangeType.Changed)]
        )
    )
    after = await published(editor, uri, 1, after=count)
    assert "CS-D002" not in [d.code for d in after]


async def test_no_declare_fix_while_pyproject_has_unsaved_changes(
    editor: EditorClient, tmp_path: Path
) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    uri = (tmp_path / "app.py").as_uri()
    open_document(editor, uri, "import yaml\n")
    (undeclared,) = [d for d in await published(editor, uri, 1) if d.code == "CS-D002"]
    editor.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=(tmp_path / "pyproject.toml").as_uri(), language_id="toml", version=1,
                text=PYPROJECT.replace('"rich>=13"', '"rich>=14"'),
            )
        )
    )  # fmt: skip
    actions = await code_actions(editor, uri, [undeclared])
    assert not [a for a in actions if a.title.startswith("Declare")]
    assert [a for a in actions if a.title == "Ignore CS-D002 on this line"]


def test_yaml_is_installed_here() -> None:
    """The editor tests above rely on PyYAML being installed beside Clearsight (bandit
    depends on it), so that `import yaml` is installed-but-undeclared."""
    assert any(Path(p, "yaml", "__init__.py").exists() for p in sys.path)
