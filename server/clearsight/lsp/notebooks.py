"""Open notebook documents (LSP 3.17 notebook sync): which cells each notebook has, in order.

The cells' texts are open documents like any other (`Documents`, under the cells' URIs), so
an edit of a cell, its diagnostics, hovers and quick fixes work as for a file. Only the
structure is kept here: cells added, removed, moved, or changed from code to markdown. A
change that names a cell the notebook does not have is ignored (and logged), never fatal.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Protocol

from lsprotocol import types

from clearsight.lsp.documents import Document, Documents
from clearsight.notebook import join_cells

LOG = logging.getLogger(__name__)


@dataclass
class OpenNotebook:
    uri: str
    version: int
    cells: list[types.NotebookCell] = field(default_factory=list)


class CellListener(Protocol):
    """Told of each cell's text as it opens, changes and closes (provenance observes it)."""

    def opened(self, uri: str, text: str) -> None: ...

    def changed(
        self, uri: str, before: str, change: types.TextDocumentContentChangeEvent, after: str
    ) -> None: ...

    def closed(self, uri: str, text: str | None) -> None: ...


@dataclass(frozen=True)
class JoinedCells:
    """A notebook's open code cells as one text (as `clearsight.notebook` joins them) and
    where one of its cells starts in it."""

    text: str
    part_starts: tuple[int, ...]
    first_line: int  # of the cell asked about


class Notebooks:
    def __init__(self, listener: CellListener | None = None) -> None:
        self._open: dict[str, OpenNotebook] = {}
        self._notebook_of: dict[str, str] = {}  # a cell's URI -> its notebook's
        self.listener = listener

    def get(self, uri: str) -> OpenNotebook | None:
        return self._open.get(uri)

    def notebook_of(self, cell_uri: str) -> str | None:
        return self._notebook_of.get(cell_uri)

    def open(self, params: types.DidOpenNotebookDocumentParams, documents: Documents) -> None:
        notebook = params.notebook_document
        self._open[notebook.uri] = OpenNotebook(
            notebook.uri, notebook.version, list(notebook.cells)
        )
        for item in params.cell_text_documents:
            self._open_cell(notebook.uri, item, documents)

    def _open_cell(self, notebook: str, item: types.TextDocumentItem, documents: Documents) -> None:
        documents.open(item)
        self._notebook_of[item.uri] = notebook
        if self.listener is not None:
            self.listener.opened(item.uri, item.text)

    def _close_cell(self, uri: str, documents: Documents) -> None:
        if self.listener is not None and uri in self._notebook_of:
            self.listener.closed(uri, None)
        documents.close(uri)
        self._notebook_of.pop(uri, None)

    def change(
        self, params: types.DidChangeNotebookDocumentParams, documents: Documents, encoding: str
    ) -> None:
        notebook = self._open.get(params.notebook_document.uri)
        if notebook is None:
            LOG.warning("a change of a notebook not open: %s", params.notebook_document.uri)
            return
        notebook.version = params.notebook_document.version
        changes = params.change.cells
        if changes is None:
            return
        if changes.structure is not None:
            self._restructure(notebook, changes.structure, documents)
        kinds = {cell.document: cell.kind for cell in changes.data or ()}
        for cell in notebook.cells:
            cell.kind = kinds.get(cell.document, cell.kind)
        for content in changes.text_content or ():
            document = documents.get(content.document.uri)
            if document is None or self._notebook_of.get(content.document.uri) != notebook.uri:
                LOG.warning("a change of a cell not in %s: %s", notebook.uri, content.document.uri)
                continue
            for change in content.changes:
                before = document.text
                document.apply([change], encoding)
                if self.listener is not None:
                    self.listener.changed(document.uri, before, change, document.text)
            document.version = content.document.version

    def _restructure(
        self,
        notebook: OpenNotebook,
        structure: types.NotebookDocumentCellChangeStructure,
        documents: Documents,
    ) -> None:
        array = structure.array
        start = min(max(array.start, 0), len(notebook.cells))
        end = min(start + max(array.delete_count, 0), len(notebook.cells))
        notebook.cells[start:end] = list(array.cells or ())
        for item in structure.did_open or ():
            self._open_cell(notebook.uri, item, documents)
        for closed in structure.did_close or ():
            self._close_cell(closed.uri, documents)

    def close(
        self, params: types.DidCloseNotebookDocumentParams, documents: Documents
    ) -> list[str]:
        """Forget the notebook and its cells; the URIs of the cells closed."""
        notebook = self._open.pop(params.notebook_document.uri, None)
        cells = [item.uri for item in params.cell_text_documents]
        if notebook is not None:
            cells += [cell.document for cell in notebook.cells]
        for uri in cells:
            self._close_cell(uri, documents)
        return list(dict.fromkeys(cells))

    def code_cells(self, uri: str, documents: Documents) -> list[Document]:
        """The notebook's Python code cells that are open, in order."""
        notebook = self._open.get(uri)
        if notebook is None:
            return []
        found = []
        for cell in notebook.cells:
            document = documents.get(cell.document)
            if (
                cell.kind == types.NotebookCellKind.Code
                and document is not None
                and document.language_id == "python"
            ):
                found.append(document)
        return found

    def joined(self, cell_uri: str, documents: Documents) -> JoinedCells | None:
        """The code of the notebook holding this cell, joined, and where the cell is in it
        (None for a document that is not an open code cell)."""
        notebook = self._notebook_of.get(cell_uri)
        cells = self.code_cells(notebook, documents) if notebook else []
        text, placed = join_cells([(index, cell.text) for index, cell in enumerate(cells)])
        for cell, document in zip(placed.cells, cells, strict=True):
            if document.uri == cell_uri:
                return JoinedCells(text, placed.starts, cell.first_line)
        return None
