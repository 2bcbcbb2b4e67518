"""Notebook documents through the real language server (LSP 3.17 notebook sync, as VS Code
sends it): every code cell of an open notebook gets its diagnostics at the cell's own
positions, the cells analysed together as the kernel runs them; cells edited, added,
removed and closed; quick fixes and hovers in a cell."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest_lsp
from lsprotocol import types
from test_lsp import (
    SERVER,
    EditorClient,
    client_capabilities,
    code_actions,
    codes,
    published,
    pull_capabilities,
    pulled,
    pushed_until,
    start,
)
from test_lsp_provenance import LEDGER, NEW_FUNCTION
from test_notebooks import notebook as nbformat_notebook
from test_provenance import git, make_repo


@pytest_lsp.fixture(config=SERVER)
async def pull_client(lsp_client: EditorClient, tmp_path: Path):
    await start(lsp_client, pull_capabilities(), tmp_path)
    yield lsp_client
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=SERVER)
async def push_client(lsp_client: EditorClient, tmp_path: Path):
    await start(lsp_client, client_capabilities("visual-studio-code"), tmp_path)
    yield lsp_client
    await lsp_client.shutdown_session()


class Notebook:
    """A notebook as an editor holds it: cells (URI, kind, text, version), sent as VS Code
    sends them."""

    def __init__(self, client: EditorClient, folder: Path, cells: list[tuple[str, str]]) -> None:
        self.client, self.path = client, folder / "analysis.ipynb"
        self.uri, self.version, self.made = self.path.as_uri(), 1, 0
        self.cells: list[list] = [self._cell(kind, text) for kind, text in cells]

    def _cell(self, kind: str, text: str) -> list:
        self.made += 1
        uri = f"vscode-notebook-cell:{self.path.as_posix()}#W{self.made}sZmlsZQ%3D%3D"
        return [uri, kind, text, 1]

    @staticmethod
    def _notebook_cell(cell: list) -> types.NotebookCell:
        kind = types.NotebookCellKind.Code if cell[1] == "code" else types.NotebookCellKind.Markup
        return types.NotebookCell(kind=kind, document=cell[0])

    @staticmethod
    def _item(cell: list) -> types.TextDocumentItem:
        language = "python" if cell[1] == "code" else "markdown"
        return types.TextDocumentItem(uri=cell[0], language_id=language, version=cell[3],
                                      text=cell[2])  # fmt: skip

    def open(self) -> None:
        self.client.notebook_document_did_open(
            types.DidOpenNotebookDocumentParams(
                notebook_document=types.NotebookDocument(
                    uri=self.uri, notebook_type="jupyter-notebook", version=self.version,
                    cells=[self._notebook_cell(c) for c in self.cells],
                ),
                cell_text_documents=[self._item(c) for c in self.cells],
            )
        )  # fmt: skip

    def _change(self, cells: types.NotebookDocumentCellChanges) -> None:
        self.version += 1
        self.client.notebook_document_did_change(
            types.DidChangeNotebookDocumentParams(
                notebook_document=types.VersionedNotebookDocumentIdentifier(
                    uri=self.uri, version=self.version
                ),
                change=types.NotebookDocumentChangeEvent(cells=cells),
            )
        )

    def type_in(self, index: int, line: int, character: int, text: str) -> None:
        cell = self.cells[index]
        lines = cell[2].split("\n")
        lines[line] = lines[line][:character] + text + lines[line][character:]
        cell[2], cell[3] = "\n".join(lines), cell[3] + 1
        at = types.Position(line=line, character=character)
        self._change(types.NotebookDocumentCellChanges(text_content=[
            types.NotebookDocumentCellContentChanges(
                document=types.VersionedTextDocumentIdentifier(uri=cell[0], version=cell[3]),
                changes=[types.TextDocumentContentChangePartial(
                    range=types.Range(start=at, end=at), text=text)],
            )
        ]))  # fmt: skip

    def insert(self, index: int, kind: str, text: str) -> list:
        cell = self._cell(kind, text)
        self.cells.insert(index, cell)
        self._change(types.NotebookDocumentCellChanges(structure=types.NotebookDocumentCellChangeStructure(
            array=types.NotebookCellArrayChange(start=index, delete_count=0,
                                                cells=[self._notebook_cell(cell)]),
            did_open=[self._item(cell)],
        )))  # fmt: skip
        return cell

    def remove(self, index: int) -> None:
        cell = self.cells.pop(index)
        self._change(types.NotebookDocumentCellChanges(structure=types.NotebookDocumentCellChangeStructure(
            array=types.NotebookCellArrayChange(start=index, delete_count=1),
            did_close=[types.TextDocumentIdentifier(uri=cell[0])],
        )))  # fmt: skip

    def close(self) -> None:
        self.client.notebook_document_did_close(
            types.DidCloseNotebookDocumentParams(
                notebook_document=types.NotebookDocumentIdentifier(uri=self.uri),
                cell_text_documents=[types.TextDocumentIdentifier(uri=c[0]) for c in self.cells],
            )
        )


async def shown(client: EditorClient, uri: str) -> list[tuple[str, int, int]]:
    report = await pulled(client, uri)
    assert isinstance(report, types.RelatedFullDocumentDiagnosticReport)
    return sorted((str(d.code), d.range.start.line, d.range.start.character) for d in report.items)


CELLS = [
    ("markdown", "# Loading"),
    ("code", "%matplotlib inline\nimport os\n!pip install requests"),
    ("code", "def load(text):\n    return eval(text)"),
]


async def test_each_code_cell_gets_its_findings_at_its_own_positions(
    pull_client: EditorClient, tmp_path: Path
) -> None:
    notebook = Notebook(pull_client, tmp_path, CELLS)
    notebook.open()
    assert await shown(pull_client, notebook.cells[2][0]) == [("B307", 1, 11)]
    assert await shown(pull_client, notebook.cells[1][0]) == []  # magics: no syntax error
    assert await shown(pull_client, notebook.cells[0][0]) == []  # markdown: not Python


async def test_cells_edited_added_and_removed_are_analysed_together(
    pull_client: EditorClient, tmp_path: Path
) -> None:
    notebook = Notebook(pull_client, tmp_path, CELLS)
    notebook.open()
    assert await shown(pull_client, notebook.cells[2][0]) == [("B307", 1, 11)]
    # An edit in a cell: its findings follow it.
    notebook.type_in(2, 0, 0, "x = 1\n")
    assert await shown(pull_client, notebook.cells[2][0]) == [("B307", 2, 11)]
    # A new cell using the module another cell imports: os is known there.
    added = notebook.insert(3, "code", "os.system(input())")
    assert await shown(pull_client, added[0]) == [("CS-S002", 0, 0)]
    # The importing cell removed: `os` is no longer the module, so no flow is claimed
    # (bandit still warns by the call's name, as the command line does).
    notebook.remove(1)
    assert await shown(pull_client, added[0]) == [("B605", 0, 0)]
    assert await shown(pull_client, notebook.cells[1][0]) == [("B307", 2, 11)]
    # A cell that does not parse: its own syntax error, the others still checked.
    broken = notebook.insert(1, "code", "def broken(:\n    pass")
    assert await shown(pull_client, broken[0]) == [("CS-E001", 0, 11)]
    assert await shown(pull_client, notebook.cells[2][0]) == [("B307", 2, 11)]
    notebook.close()
    assert await shown(pull_client, notebook.cells[2][0]) == []  # closed: nothing to report


async def test_diagnostics_are_pushed_per_cell_with_the_cell_version(
    push_client: EditorClient, tmp_path: Path
) -> None:
    notebook = Notebook(push_client, tmp_path, CELLS)
    notebook.open()
    cell = notebook.cells[2]
    diagnostics = await published(push_client, cell[0], 1)
    assert [(d.code, d.range.start.line) for d in diagnostics] == [("B307", 1)]
    notebook.type_in(2, 1, 4, "\n    ")
    diagnostics = await published(push_client, cell[0], 2)
    assert [(d.code, d.range.start.line) for d in diagnostics] == [("B307", 2)]


async def test_quick_fixes_and_hovers_work_in_a_cell(
    pull_client: EditorClient, tmp_path: Path
) -> None:
    notebook = Notebook(pull_client, tmp_path, [
        ("code", "import os"), ("code", "x = 1  # clearsight: ignore[B101]\neval(input())"),
    ])  # fmt: skip
    notebook.open()
    cell = notebook.cells[1]
    report = await pulled(pull_client, cell[0])
    assert isinstance(report, types.RelatedFullDocumentDiagnosticReport)
    unused = next(d for d in report.items if d.code == "CS-E004")
    assert unused.range.start.line == 0
    actions = await code_actions(pull_client, cell[0], [unused])
    fix = next(a for a in actions if a.kind == types.CodeActionKind.QuickFix)
    if fix.edit is None:  # Neovim resolves an action's edit lazily
        fix = await pull_client.code_action_resolve_async(fix)
    assert fix.edit is not None and fix.edit.document_changes
    change = fix.edit.document_changes[0]
    assert change.text_document.uri == cell[0] and change.text_document.version == 1
    assert [(e.range.start.line, e.new_text) for e in change.edits] == [(0, "")]
    hover = await pull_client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=cell[0]),
            position=types.Position(line=1, character=2),
        )
    )
    assert hover is not None and "CS-S004" in hover.contents.value  # type: ignore[union-attr]


# -- provenance in cells ------------------------------------------------------------------------


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: EditorClient):
    """Started by the test, in the repository it makes."""
    yield lsp_client
    await lsp_client.shutdown_session()


CLAUDE = "Add cells\n\nCo-authored-by: Claude <noreply@anthropic.com>"
HUMAN_CELL = "%matplotlib inline\nimport os"
AI_CELL = "def load(text):\n    data = eval(text)\n    return data"


def _command_of(action: types.CodeAction | types.Command) -> types.Command:
    command = action.command
    if isinstance(action, types.Command):
        # The test client's converter reads a CodeAction that carries a command (and no
        # edit) as a Command whose `command` is the nested object's repr: read it back.
        command = types.Command(**ast.literal_eval(action.command))
    assert isinstance(command, types.Command)
    return command


async def test_ai_written_cells_from_git_history_are_shown_hovered_and_marked_reviewed(
    client: EditorClient, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path)  # a human's first commit
    human = nbformat_notebook(("code", HUMAN_CELL))
    (repo / "analysis.ipynb").write_text(human, encoding="utf-8")
    git(repo, "add", "analysis.ipynb")
    git(repo, "commit", "-q", "-m", "Notebook")
    ai = nbformat_notebook(("code", HUMAN_CELL), ("markdown", "# Load"), ("code", AI_CELL))
    (repo / "analysis.ipynb").write_text(ai, encoding="utf-8")
    git(repo, "commit", "-q", "-am", CLAUDE)
    await start(client, client_capabilities("visual-studio-code"), repo)
    notebook = Notebook(client, repo, [("code", HUMAN_CELL), ("markdown", "# Load"),
                                           ("code", AI_CELL)])  # fmt: skip
    notebook.open()
    human_uri, ai_uri = notebook.cells[0][0], notebook.cells[2][0]
    diagnostics = await pushed_until(client, ai_uri, lambda d: "CS-P001" in codes(d))
    (block,) = [d for d in diagnostics if d.code == "CS-P001"]
    # At the cell's own first line, a warning for the eval it holds (raised one level).
    assert (block.range.start.line, block.severity) == (0, types.DiagnosticSeverity.Warning)
    assert "3 lines from claude" in block.message and "B307" in block.message
    assert "CS-P001" not in codes(client.diagnostics.get(human_uri, []))
    hover = await client.text_document_hover_async(
        types.HoverParams(text_document=types.TextDocumentIdentifier(uri=ai_uri),
                          position=types.Position(line=2, character=6))
    )  # fmt: skip
    assert hover is not None and "AI · claude · commit" in hover.contents.value
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=ai_uri), range=block.range,
            context=types.CodeActionContext(diagnostics=[block]),
        )
    )  # fmt: skip
    (review,) = [a for a in actions or [] if a.title.startswith("Mark as reviewed")]
    assert review.title == "Mark as reviewed (lines 1-3)"
    command = _command_of(review)
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command.command, arguments=command.arguments)
    )
    assert result["statements"] == 3  # the def, the assignment, the return
    await pushed_until(client, ai_uri, lambda d: "CS-P001" not in codes(d))
    records = [json.loads(line) for line in (repo / LEDGER).read_text().splitlines()]
    assert [(r["type"], r["path"]) for r in records] == [("review", "analysis.ipynb")]
    # The command line reads the same review: the notebook has no unreviewed block left.
    done = subprocess.run(
        [sys.executable, "-m", "clearsight.cli.main", "check", "--no-cache", "--format", "json",
         "--select", "CS-P001", "analysis.ipynb"],
        cwd=repo, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert json.loads(done.stdout)["findings"] == [], done.stderr


async def test_a_function_inserted_at_once_into_a_cell_is_recorded_as_ai_written(
    client: EditorClient, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path)
    await start(client, client_capabilities("visual-studio-code"), repo)
    notebook = Notebook(client, repo, [("code", HUMAN_CELL), ("code", "x = 1\n")])
    notebook.open()
    uri = notebook.cells[1][0]
    await pushed_until(client, uri, lambda d: "CS-P001" not in codes(d))
    notebook.type_in(1, 1, 0, NEW_FUNCTION.lstrip("\n"))  # a completion, at once
    diagnostics = await pushed_until(client, uri, lambda d: "CS-P001" in codes(d))
    (block,) = [d for d in diagnostics if d.code == "CS-P001"]
    assert block.range.start.line == 1 and "bulk insertion" in block.message
    (record,) = [json.loads(line) for line in (repo / LEDGER).read_text().splitlines()]
    assert (record["evidence"], record["path"], len(record["keys"])) == (
        "bulk-insertion", "analysis.ipynb", 5,
    )  # fmt: skip
