"""Open documents as the editor sees them: text + version, edited incrementally.

Kept here rather than in pygls's workspace because pygls splits lines with str.splitlines,
which also breaks at form feeds and U+2028, so incremental edits after such a character
land on the wrong line. LSP lines end at \\n, \\r\\n or \\r only.
"""

from __future__ import annotations

from dataclasses import dataclass

from lsprotocol import types

from clearsight.lsp.positions import offset_at


@dataclass
class Document:
    uri: str
    text: str
    version: int | None
    language_id: str = "python"

    def apply(self, changes: list[types.TextDocumentContentChangeEvent], encoding: str) -> None:
        for change in changes:
            if isinstance(change, types.TextDocumentContentChangePartial):
                # Only the lines up to the edit are looked at (a huge buffer's edit near its
                # top costs what the edit does, not what its million lines do).
                start = offset_at(
                    self.text, change.range.start.line, change.range.start.character, encoding
                )
                end = offset_at(
                    self.text, change.range.end.line, change.range.end.character, encoding
                )
                start, end = min(start, end), max(start, end)
                self.text = self.text[:start] + change.text + self.text[end:]
            else:
                self.text = change.text


class Documents:
    def __init__(self) -> None:
        self._open: dict[str, Document] = {}

    def open(self, item: types.TextDocumentItem) -> Document:
        document = Document(item.uri, item.text, item.version, item.language_id)
        self._open[item.uri] = document
        return document

    def get(self, uri: str) -> Document | None:
        return self._open.get(uri)

    def close(self, uri: str) -> None:
        self._open.pop(uri, None)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(list(self._open.values()))

    def __len__(self) -> int:
        return len(self._open)
