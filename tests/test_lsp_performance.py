"""The performance family through the real language server: a blocking call typed into an
async function is reported as the user types it, and its quick fix clears it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest_lsp
from lsprotocol import types
from test_lsp import (
    SERVER,
    EditorClient,
    apply_workspace_edit,
    code_actions,
    diagnostics_of,
    edit,
    open_document,
    pull_capabilities,
    replace_all,
    start,
    titled,
)

SERVICE = textwrap.dedent(
    """
    import asyncio
    import time


    async def poll(urls):
        seen = []
        for url in urls:
            await asyncio.sleep(0)
        return seen
    """
).lstrip()


@pytest_lsp.fixture(config=SERVER)
async def pull_client(lsp_client: EditorClient, tmp_path: Path):
    await start(lsp_client, pull_capabilities(), tmp_path)
    yield lsp_client
    await lsp_client.shutdown_session()


def performance(diagnostics: list[types.Diagnostic]) -> list[types.Diagnostic]:
    return [d for d in diagnostics if str(d.code).startswith("CS-T")]


async def test_a_sleep_typed_into_an_async_loop_is_reported_and_fixed(
    pull_client: EditorClient, tmp_path: Path
) -> None:
    path = tmp_path / "service.py"
    path.write_text(SERVICE, encoding="utf-8")
    uri = path.as_uri()
    open_document(pull_client, uri, SERVICE)
    assert performance(await diagnostics_of(pull_client, uri, 1)) == []
    # A new first line in the loop, then `time.sleep(1)` typed on it a character at a time.
    edit(pull_client, uri, 2, (6, 20, 6, 20, "\n        "))
    typed = "time.sleep(1)"
    for index, character in enumerate(typed):
        edit(pull_client, uri, index + 3, (7, 8 + index, 7, 8 + index, character))
    text = SERVICE.replace("in urls:\n", f"in urls:\n        {typed}\n", 1)
    version = len(typed) + 2
    (found,) = performance(await diagnostics_of(pull_client, uri, version))
    assert found.code == "CS-T001"
    assert found.range.start.line == 7 and found.range.start.character == 8
    assert found.severity == types.DiagnosticSeverity.Warning
    assert "async def poll" in found.message
    assert found.code_description is not None
    assert found.code_description.href.endswith("rules.md#cs-t001")
    action = titled(await code_actions(pull_client, uri, [found]), "Replace with `await")
    resolved = await pull_client.code_action_resolve_async(action)
    fixed = apply_workspace_edit(text, uri, version, resolved.edit, pull_client.encoding)
    assert "        await asyncio.sleep(1)\n" in fixed
    replace_all(pull_client, uri, fixed, version + 1)
    assert performance(await diagnostics_of(pull_client, uri, version + 1)) == []


async def test_a_growth_typed_into_a_loop_makes_its_search_quadratic(
    pull_client: EditorClient, tmp_path: Path
) -> None:
    path = tmp_path / "service.py"
    text = SERVICE.replace(
        "        await asyncio.sleep(0)\n", "        if url not in seen:\n            pass\n"
    )
    path.write_text(text, encoding="utf-8")
    uri = path.as_uri()
    open_document(pull_client, uri, text)
    assert performance(await diagnostics_of(pull_client, uri, 1)) == []
    edit(pull_client, uri, 2, (8, 12, 8, 16, "seen.append(url)"))
    (found,) = performance(await diagnostics_of(pull_client, uri, 2))
    assert (found.code, found.range.start.line) == ("CS-T022", 7)
    edit(pull_client, uri, 3, (5, 11, 5, 13, "set()"), (8, 17, 8, 23, "add"))
    assert performance(await diagnostics_of(pull_client, uri, 3)) == []


MODELS = textwrap.dedent(
    """
    from django.db import models


    class Author(models.Model):
        name = models.CharField(max_length=100)


    class Book(models.Model):
        title = models.CharField(max_length=200)
        author = models.ForeignKey(Author, on_delete=models.CASCADE)
    """
).lstrip()

VIEW = textwrap.dedent(
    """
    from .models import Book


    def titles(ids):
        found = []
        for pk in ids:
            found.append(pk)
        return found
    """
).lstrip()


async def opened_in_app(client: EditorClient, root: Path, name: str, text: str) -> str:
    """`text` saved as `shop/<name>` beside `shop/models.py` and opened; its URI, once its
    first diagnostics (with no performance finding) have come."""
    app = root / "shop"
    app.mkdir()
    (app / "__init__.py").write_text("", encoding="utf-8")
    (app / "models.py").write_text(MODELS, encoding="utf-8")
    path = app / name
    path.write_text(text, encoding="utf-8")
    uri = path.as_uri()
    open_document(client, uri, text)
    assert performance(await diagnostics_of(client, uri, 1)) == []
    return uri


async def test_a_query_typed_into_a_loop_is_an_n_plus_1_until_it_leaves_the_loop(
    pull_client: EditorClient, tmp_path: Path
) -> None:
    uri = await opened_in_app(pull_client, tmp_path, "views.py", VIEW)
    # `found.append(pk)` -> `found.append(Book.objects.get(pk=pk).title)`
    edit(pull_client, uri, 2, (6, 21, 6, 23, "Book.objects.get(pk=pk).title"))
    (found,) = performance(await diagnostics_of(pull_client, uri, 2))
    assert (found.code, found.range.start.line) == ("CS-T010", 6)
    assert "`Book.objects.get(...)` runs a database query" in found.message
    assert found.code_description is not None
    assert found.code_description.href.endswith("rules.md#cs-t010")
    # One query before the loop instead.
    edit(
        pull_client,
        uri,
        3,
        (6, 21, 6, 50, "books[pk].title"),
        (4, 0, 4, 0, "    books = Book.objects.in_bulk(ids)\n"),
    )
    assert performance(await diagnostics_of(pull_client, uri, 3)) == []


SHELF = textwrap.dedent(
    """
    from .models import Book


    def shelf():
        lines = []
        for book in Book.objects.all():
            lines.append(book.title)
        return lines
    """
).lstrip()


async def test_a_relation_typed_into_a_queryset_loop_until_select_related_is_added(
    pull_client: EditorClient, tmp_path: Path
) -> None:
    uri = await opened_in_app(pull_client, tmp_path, "shelf.py", SHELF)
    # `book.title` -> `book.author.name`, typed as the editor sends it.
    edit(pull_client, uri, 2, (6, 26, 6, 31, "author.name"))
    (found,) = performance(await diagnostics_of(pull_client, uri, 2))
    assert (found.code, found.range.start.line) == ("CS-T011", 6)
    assert 'select_related("author")' in found.message
    # `Book.objects.all()` -> `Book.objects.select_related("author")`
    edit(pull_client, uri, 3, (5, 29, 5, 34, 'select_related("author")'))
    assert performance(await diagnostics_of(pull_client, uri, 3)) == []
