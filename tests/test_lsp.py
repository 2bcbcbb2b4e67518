"""The language server end to end: a real `clearsight server` process over stdio, driven by
pytest-lsp's client with the capabilities of real editors."""

from __future__ import annotations

import asyncio
import itertools
import re
import sys
from collections.abc import Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.protocol import default_converter
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

NO_DEBOUNCE = {"debounce": 0}
FIX_ALL = "source.fixAll.clearsight"


class EditorClient(LanguageClient):
    """pytest-lsp's client, also keeping every publication (with its version) and every
    dynamic registration, as an editor would."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.publications: list[types.PublishDiagnosticsParams] = []
        self.registrations: list[types.Registration] = []
        # $/progress values by token, as sent; the tokens to cancel as soon as they begin.
        self.progress_values: dict[types.ProgressToken, list[Any]] = {}
        self.cancel_on_begin: set[types.ProgressToken] = set()
        self.encoding = "utf-16"  # the negotiated position encoding, set by `start`


def _on_publish(client: EditorClient, params: types.PublishDiagnosticsParams) -> None:
    client.diagnostics[params.uri] = params.diagnostics
    client.publications.append(params)


def _on_register(client: EditorClient, params: types.RegistrationParams) -> None:
    client.registrations.extend(params.registrations)  # real editors accept them


def _on_progress(client: EditorClient, params: types.ProgressParams) -> None:
    client.progress_values.setdefault(params.token, []).append(params.value)
    value = params.value if isinstance(params.value, dict) else {}
    if value.get("kind") == "begin" and params.token in client.cancel_on_begin:
        client.window_work_done_progress_cancel(
            types.WorkDoneProgressCancelParams(token=params.token)
        )


def make_client() -> EditorClient:
    client = EditorClient(converter_factory=default_converter)
    register_lsp_features(
        client,
        {
            **DEFAULT_CLIENT_FEATURES,
            types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS: _on_publish,
            types.CLIENT_REGISTER_CAPABILITY: _on_register,
            types.PROGRESS: _on_progress,
        },
    )
    return client


SERVER = ClientServerConfig(
    server_command=[sys.executable, "-m", "clearsight", "server"], client_factory=make_client
)


# -- editors ----------------------------------------------------------------------------------


def pull_capabilities(encodings: list[str] | None = None) -> types.ClientCapabilities:
    """Neovim 0.11's capabilities: pull diagnostics, code-action resolve."""
    capabilities = client_capabilities("neovim@v0.11.0")
    assert capabilities.general is not None
    capabilities.general.position_encodings = encodings or ["utf-16"]
    return capabilities


def refreshing_pull_capabilities() -> types.ClientCapabilities:
    """Neovim, also accepting `workspace/diagnostic/refresh` (as VS Code does)."""
    capabilities = pull_capabilities()
    assert capabilities.workspace is not None
    if capabilities.workspace.diagnostics is None:
        capabilities.workspace.diagnostics = types.DiagnosticWorkspaceClientCapabilities(
            refresh_support=True
        )
    return capabilities


def emacs_capabilities() -> types.ClientCapabilities:
    """Emacs 29 (eglot): push diagnostics, no code-action resolve, prefers UTF-32."""
    return client_capabilities("emacs@v29.1")


async def start(
    client: EditorClient,
    capabilities: types.ClientCapabilities,
    root: Path,
    options: dict[str, Any] | None = None,
) -> types.InitializeResult:
    result = await client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities,
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="project")],
            initialization_options=NO_DEBOUNCE if options is None else options,
        )
    )
    client.encoding = str(result.capabilities.position_encoding or "utf-16")
    return result


@pytest_lsp.fixture(config=SERVER)
async def push_client(lsp_client: EditorClient, tmp_path: Path):
    """VS Code 1.65: no pull diagnostics, so the server pushes them."""
    await start(lsp_client, client_capabilities("visual-studio-code"), tmp_path)
    yield lsp_client
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=SERVER)
async def pull_client(lsp_client: EditorClient, tmp_path: Path):
    await start(lsp_client, pull_capabilities(), tmp_path)
    yield lsp_client
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: EditorClient):
    """A server not yet initialised: the test chooses the editor and the options."""
    yield lsp_client
    await lsp_client.shutdown_session()  # does nothing if it was never initialised


# -- documents --------------------------------------------------------------------------------


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


def edit(
    client: LanguageClient, uri: str, version: int, *changes: tuple[int, int, int, int, str]
) -> None:
    """Incremental changes, each (start line, start character, end line, end character, text)
    in the negotiated encoding's units, applied in order."""
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(
                        start=types.Position(line=start_line, character=start_character),
                        end=types.Position(line=end_line, character=end_character),
                    ),
                    text=text,
                )
                for start_line, start_character, end_line, end_character, text in changes
            ],
        )
    )


def close_document(client: LanguageClient, uri: str) -> None:
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )


# -- diagnostics ------------------------------------------------------------------------------


async def pushed_until(client: LanguageClient, uri: str, predicate, timeout: float = 30.0):
    """Wait for published diagnostics of `uri` that satisfy `predicate`; return them."""

    async def wait() -> list[types.Diagnostic]:
        while True:
            current = client.diagnostics.get(uri)
            if current is not None and predicate(list(current)):
                return list(current)
            await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)

    return await asyncio.wait_for(wait(), timeout)


async def published(
    client: EditorClient, uri: str, version: int | None = None, after: int = 0, timeout=20.0
) -> list[types.Diagnostic]:
    """The diagnostics of the first publication for `uri` (of `version`, if given) among
    the publications from index `after` on."""

    def found() -> types.PublishDiagnosticsParams | None:
        return next(
            (
                p
                for p in client.publications[after:]
                if p.uri == uri and (version is None or p.version == version)
            ),
            None,
        )

    async def wait() -> list[types.Diagnostic]:
        while (publication := found()) is None:
            await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        return list(publication.diagnostics)

    return await asyncio.wait_for(wait(), timeout)


async def pulled(client: LanguageClient, uri: str, previous: str | None = None):
    return await client.text_document_diagnostic_async(
        types.DocumentDiagnosticParams(
            text_document=types.TextDocumentIdentifier(uri=uri), previous_result_id=previous
        )
    )


def is_pull(client: LanguageClient) -> bool:
    capabilities = client.capabilities
    return bool(
        capabilities and capabilities.text_document and capabilities.text_document.diagnostic
    )


async def diagnostics_of(client: EditorClient, uri: str, version: int) -> list[types.Diagnostic]:
    """The diagnostics of `version` of the document, pulled or pushed as the editor does."""
    if is_pull(client):
        report = await pulled(client, uri)
        assert isinstance(report, types.RelatedFullDocumentDiagnosticReport)
        return list(report.items)
    return await published(client, uri, version)


def codes(diagnostics: Sequence[types.Diagnostic]) -> list[str]:
    return sorted(str(d.code) for d in diagnostics)


def lines_of(diagnostics: Sequence[types.Diagnostic]) -> list[int]:
    return sorted(d.range.start.line for d in diagnostics)


def only(diagnostics: Sequence[types.Diagnostic], code: str) -> types.Diagnostic:
    (found,) = [d for d in diagnostics if d.code == code]
    return found


# -- positions and edits, as an editor computes them (independent of the server's code) ------

LINE_END = re.compile(r"\r\n|\r|\n")  # LSP's line ends; \f and \u2028 are not among them


def units(text: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    if encoding == "utf-16":
        return len(text.encode("utf-16-le")) // 2
    assert encoding == "utf-32"
    return len(text)


def lsp_range(text: str, line: int, start: int, end: int, encoding: str) -> types.Range:
    """A range on `line` of `text` between two code-point columns, in `encoding` units."""
    line_text = LINE_END.split(text)[line]
    return types.Range(
        start=types.Position(line=line, character=units(line_text[:start], encoding)),
        end=types.Position(line=line, character=units(line_text[:end], encoding)),
    )


def range_of(text: str, needle: str, encoding: str) -> types.Range:
    """Where `needle` (on one line, once in `text`) is."""
    (hit,) = [
        (number, line.index(needle))
        for number, line in enumerate(LINE_END.split(text))
        if needle in line
    ]
    number, column = hit
    return lsp_range(text, number, column, column + len(needle), encoding)


def offset(text: str, position: types.Position, encoding: str) -> int:
    """An LSP position -> offset into `text`; positions a correct server never sends (inside a
    character, past a line's end, past the last line) fail the test."""
    starts = [0, *(match.end() for match in LINE_END.finditer(text))]
    assert position.line < len(starts), f"{position} is past the last line"
    start = starts[position.line]
    line_text = LINE_END.split(text[start:], maxsplit=1)[0]
    count = 0
    for index, character in enumerate(line_text):
        if count == position.character:
            return start + index
        count += units(character, encoding)
        assert count <= position.character, f"{position} is inside a character"
    assert count == position.character, f"{position} is past the end of its line"
    return start + len(line_text)


def apply_text_edits(text: str, edits: Sequence[types.TextEdit], encoding: str) -> str:
    spans = sorted(
        (offset(text, e.range.start, encoding), offset(text, e.range.end, encoding), e.new_text)
        for e in edits
    )
    for (_, end, _), (start, _, _) in itertools.pairwise(spans):
        assert end <= start, "overlapping text edits"
    for start, end, new_text in reversed(spans):
        text = text[:start] + new_text + text[end:]
    return text


def apply_workspace_edit(
    text: str, uri: str, version: int, workspace_edit: types.WorkspaceEdit | None, encoding: str
) -> str:
    """What an editor does with a WorkspaceEdit for one open document at `version`."""
    assert workspace_edit is not None, "the action has no edit"
    edits: list[types.TextEdit] = []
    for change in workspace_edit.document_changes or []:
        assert isinstance(change, types.TextDocumentEdit)
        assert change.text_document.uri == uri
        # An editor refuses an edit computed for another version of the document.
        assert change.text_document.version in (None, version)
        edits.extend(e for e in change.edits if isinstance(e, types.TextEdit))
    for target, text_edits in (workspace_edit.changes or {}).items():
        assert target == uri
        edits.extend(text_edits)
    assert edits, "the edit changes nothing"
    return apply_text_edits(text, edits, encoding)


async def code_actions(
    client: LanguageClient,
    uri: str,
    diagnostics: Sequence[types.Diagnostic],
    kinds: list[str] | None = None,
) -> list[types.CodeAction]:
    top = types.Range(
        start=types.Position(line=0, character=0), end=types.Position(line=0, character=0)
    )
    where = diagnostics[0].range if diagnostics else top
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=where,
            context=types.CodeActionContext(diagnostics=list(diagnostics), only=kinds),
        )
    )
    actions = [a for a in result or [] if isinstance(a, types.CodeAction)]
    assert len(actions) == len(result or []), "commands instead of code actions"
    return actions


def titled(actions: Sequence[types.CodeAction], prefix: str) -> types.CodeAction:
    (found,) = [a for a in actions if a.title.startswith(prefix)]
    return found


# -- sample code ------------------------------------------------------------------------------

INSECURE = "import yaml\n\n\ndef load(stream):\n    return yaml.load(stream)\n"

# Non-ASCII before each finding on its line, so that every edit depends on the encoding.
YAML_LOAD = 'import yaml\n\n漢 = "😀"\n\n\ndef load(stream):\n    return 漢, yaml.load(stream)\n'
YAML_FIXED = YAML_LOAD.replace("yaml.load", "yaml.safe_load")
NO_VERIFY = (
    "import requests\n\n\ndef fetch():\n"
    '    return requests.get("https://例え.jp/😀", verify=False, timeout=5)\n'
)
NO_VERIFY_FIXED = NO_VERIFY.replace("verify=False, ", "")
FIXABLE = {"B506": (YAML_LOAD, YAML_FIXED), "B501": (NO_VERIFY, NO_VERIFY_FIXED)}


def branchy(name: str, complexity: int) -> str:
    """A function of exactly this cyclomatic complexity (one path plus one per `if`)."""
    body = "".join(f"    if x == {i}:\n        return {i}\n" for i in range(complexity - 1))
    return f"def {name}(x):\n{body}    return -1\n"


# -- the basics -------------------------------------------------------------------------------


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


# -- position encodings -----------------------------------------------------------------------

# é is 2 UTF-8 bytes, 漢 3 bytes, 😀 4 bytes and 2 UTF-16 units; the tab is one unit anywhere.
WIDE = 'x = 1\nlabel = "é漢😀";\teval(x)\n'
# `eval(x)` starts after `label = "` (9) + é 漢 😀 + `";\t` (3) code points.
EVAL_COLUMNS = {"utf-8": (21, 28), "utf-16": (16, 23), "utf-32": (15, 22)}


def editor_for(encoding: str) -> types.ClientCapabilities:
    """VS Code lists no position encodings, so it gets the default (UTF-16); Neovim lists
    the one we ask for."""
    if encoding == "utf-16":
        return client_capabilities("visual-studio-code")
    return pull_capabilities([encoding])


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8", "utf-32"])
async def test_diagnostic_range_is_exact_in_the_negotiated_encoding(
    client: EditorClient, tmp_path: Path, encoding: str
) -> None:
    result = await start(client, editor_for(encoding), tmp_path)
    assert result.capabilities.position_encoding == encoding
    uri = (tmp_path / "wide.py").as_uri()
    open_document(client, uri, WIDE)
    finding = only(await diagnostics_of(client, uri, 1), "B307")
    start_character, end_character = EVAL_COLUMNS[encoding]
    assert finding.range == types.Range(
        start=types.Position(line=1, character=start_character),
        end=types.Position(line=1, character=end_character),
    )


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8", "utf-32"])
async def test_incremental_edits_in_the_negotiated_encoding_land_on_the_right_characters(
    client: EditorClient, tmp_path: Path, encoding: str
) -> None:
    await start(client, editor_for(encoding), tmp_path)
    uri = (tmp_path / "wide.py").as_uri()
    open_document(client, uri, WIDE)
    assert codes(await diagnostics_of(client, uri, 1)) == ["B307"]
    # Two changes in one notification, the second on positions after the first: add `ü`
    # after the emoji (inside the string), then turn `eval` into `exec`.
    after_emoji = units('label = "é漢😀', encoding)
    eval_start = units('label = "é漢😀ü";\t', encoding)
    edit(
        client,
        uri,
        2,
        (1, after_emoji, 1, after_emoji, "ü"),
        (1, eval_start, 1, eval_start + len("eval"), "exec"),
    )
    expected = 'x = 1\nlabel = "é漢😀ü";\texec(x)\n'
    finding = only(await diagnostics_of(client, uri, 2), "B102")  # exec, not a syntax error
    assert finding.range == range_of(expected, "exec(x)", encoding)


async def test_form_feed_and_line_separator_do_not_end_lines_for_incremental_edits(
    pull_client: EditorClient, tmp_path: Path
) -> None:
    # Five LSP lines (one ends in \r\n): \f and \u2028 end no line for LSP, nor for Python.
    text = 'import os\r\n\f\ns = "a\u2028b"\nt = "\f"; u = 1\neval(x)\n'
    uri = (tmp_path / "breaks.py").as_uri()
    open_document(pull_client, uri, text)
    assert lines_of(await diagnostics_of(pull_client, uri, 1)) == [4]
    # Edit after the \u2028 on its line, after the \f on its line, and the last line.
    edit(
        pull_client,
        uri,
        2,
        (2, len('s = "a\u2028'), 2, len('s = "a\u2028b'), "bc"),
        (3, len('t = "\f"; u = '), 3, len('t = "\f"; u = 1'), "22"),
        (4, 0, 4, len("eval"), "exec"),
    )
    expected = 'import os\r\n\f\ns = "a\u2028bc"\nt = "\f"; u = 22\nexec(x)\n'
    diagnostics = await diagnostics_of(pull_client, uri, 2)
    assert codes(diagnostics) == ["B102"]  # a misplaced edit breaks the syntax instead
    assert diagnostics[0].range == range_of(expected, "exec(x)", "utf-16")
    # And one edit across a line end: delete the \f line.
    edit(pull_client, uri, 3, (1, 0, 2, 0, ""))
    diagnostics = await diagnostics_of(pull_client, uri, 3)
    assert codes(diagnostics) == ["B102"] and lines_of(diagnostics) == [3]


# -- code actions -----------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["B506", "B501"])
async def test_quick_fix_is_resolved_lazily_for_an_editor_with_resolve_support(
    pull_client: EditorClient, tmp_path: Path, code: str
) -> None:
    text, fixed = FIXABLE[code]
    uri = (tmp_path / "app.py").as_uri()
    open_document(pull_client, uri, text)
    diagnostic = only(await diagnostics_of(pull_client, uri, 1), code)
    action = (await code_actions(pull_client, uri, [diagnostic]))[0]
    assert action.kind == types.CodeActionKind.QuickFix and action.is_preferred
    assert action.edit is None  # computed only when chosen
    resolved = await pull_client.code_action_resolve_async(action)
    new_text = apply_workspace_edit(text, uri, 1, resolved.edit, pull_client.encoding)
    assert new_text == fixed
    replace_all(pull_client, uri, new_text, 2)
    assert code not in codes(await diagnostics_of(pull_client, uri, 2))


@pytest.mark.parametrize("code", ["B506", "B501"])
async def test_quick_fix_comes_with_its_edit_for_an_editor_without_resolve_support(
    client: EditorClient, tmp_path: Path, code: str
) -> None:
    await start(client, emacs_capabilities(), tmp_path)
    assert client.encoding == "utf-32"
    text, fixed = FIXABLE[code]
    uri = (tmp_path / "app.py").as_uri()
    open_document(client, uri, text)
    diagnostic = only(await diagnostics_of(client, uri, 1), code)
    action = (await code_actions(client, uri, [diagnostic]))[0]
    new_text = apply_workspace_edit(text, uri, 1, action.edit, client.encoding)
    assert new_text == fixed
    replace_all(client, uri, new_text, 2)
    assert code not in codes(await diagnostics_of(client, uri, 2))


@pytest.mark.parametrize(
    ("title", "comment"),
    [
        ("Silence B506 with # nosec", "  # nosec B506  # reason: why this is safe"),
        ("Ignore B506 on this line", "  # clearsight: ignore[B506]"),
    ],
)
async def test_suppression_action_silences_the_finding_on_its_line(
    pull_client: EditorClient, tmp_path: Path, title: str, comment: str
) -> None:
    uri = (tmp_path / "app.py").as_uri()
    open_document(pull_client, uri, YAML_LOAD)
    diagnostic = only(await diagnostics_of(pull_client, uri, 1), "B506")
    action = titled(await code_actions(pull_client, uri, [diagnostic]), title)
    assert not action.is_preferred
    resolved = await pull_client.code_action_resolve_async(action)
    new_text = apply_workspace_edit(YAML_LOAD, uri, 1, resolved.edit, pull_client.encoding)
    assert new_text == YAML_LOAD.replace("yaml.load(stream)", "yaml.load(stream)" + comment)
    replace_all(pull_client, uri, new_text, 2)
    assert codes(await diagnostics_of(pull_client, uri, 2)) == []


async def test_fix_all_fixes_every_safe_finding_in_one_edit(
    client: EditorClient, tmp_path: Path
) -> None:
    await start(client, pull_capabilities(["utf-8"]), tmp_path)
    text = YAML_LOAD + "\n\n" + NO_VERIFY
    uri = (tmp_path / "app.py").as_uri()
    open_document(client, uri, text)
    assert codes(await diagnostics_of(client, uri, 1)) == ["B501", "B506"]
    (action,) = await code_actions(client, uri, [], kinds=[FIX_ALL])
    assert action.kind == FIX_ALL
    new_text = apply_workspace_edit(text, uri, 1, action.edit, client.encoding)
    assert new_text == YAML_FIXED + "\n\n" + NO_VERIFY_FIXED
    replace_all(client, uri, new_text, 2)
    assert codes(await diagnostics_of(client, uri, 2)) == []


async def test_action_for_a_diagnostic_of_an_older_version_never_edits_another_finding(
    pull_client: EditorClient, tmp_path: Path
) -> None:
    uri = (tmp_path / "app.py").as_uri()
    open_document(pull_client, uri, YAML_LOAD)
    old = only(await diagnostics_of(pull_client, uri, 1), "B506")
    # Version 2 has another yaml.load above: it is now the first finding, the old one moved.
    text = YAML_LOAD.replace('漢 = "😀"\n', '漢 = "😀"\nconfig = yaml.load(open("c"))\n')
    replace_all(pull_client, uri, text, 2)
    assert lines_of(await diagnostics_of(pull_client, uri, 2)) == [3, 7]
    for action in await code_actions(pull_client, uri, [old], [types.CodeActionKind.QuickFix]):
        resolved = await pull_client.code_action_resolve_async(action)
        if resolved.edit is not None:
            new_text = apply_workspace_edit(text, uri, 2, resolved.edit, pull_client.encoding)
            assert 'config = yaml.load(open("c"))\n' in new_text  # untouched


async def test_resolving_an_action_after_the_document_changed_gives_no_edit(
    client: EditorClient, tmp_path: Path
) -> None:
    # A debounce, as editors have: the new version is not analysed yet when resolving.
    await start(client, pull_capabilities(), tmp_path, {"debounce": 500})
    uri = (tmp_path / "app.py").as_uri()
    open_document(client, uri, YAML_LOAD)
    diagnostic = only(await diagnostics_of(client, uri, 1), "B506")
    action = (await code_actions(client, uri, [diagnostic]))[0]
    edit(client, uri, 2, (0, 0, 0, 0, "\n"))  # every line moves down
    resolved = await client.code_action_resolve_async(action)
    assert resolved.edit is None


# -- bursts of edits --------------------------------------------------------------------------

BURST = 200  # single-character edits, versions 2 .. 201


def type_burst(client: LanguageClient, uri: str) -> None:
    """Insert a line break at the top, 200 times, without waiting: version v has its only
    finding (B307) on line v - 1, so every version's diagnostics are different."""
    for version in range(2, BURST + 2):
        edit(client, uri, version, (0, 0, 0, 0, "\n"))


async def quiet(client: LanguageClient, seconds: float = 1.0) -> None:
    """Until no diagnostics have been published for `seconds`."""
    while True:
        try:
            await asyncio.wait_for(
                client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), seconds
            )
        except asyncio.TimeoutError:
            return


async def test_after_a_burst_of_edits_the_pushed_diagnostics_are_the_final_versions(
    push_client: EditorClient, tmp_path: Path
) -> None:
    uri = (tmp_path / "burst.py").as_uri()
    open_document(push_client, uri, "eval(x)\n")
    await published(push_client, uri, 1)
    type_burst(push_client, uri)
    await published(push_client, uri, BURST + 1)
    await quiet(push_client)
    last = push_client.publications[-1]
    assert last.uri == uri and last.version == BURST + 1
    assert codes(last.diagnostics) == ["B307"] and lines_of(last.diagnostics) == [BURST]
    # Whatever was published on the way holds for the version it names, in version order.
    versions = [p.version for p in push_client.publications]
    assert versions == sorted(versions)
    assert all(lines_of(p.diagnostics) == [p.version - 1] for p in push_client.publications)


async def test_a_pull_after_a_burst_of_edits_reports_the_final_version(
    pull_client: EditorClient, tmp_path: Path
) -> None:
    uri = (tmp_path / "burst.py").as_uri()
    open_document(pull_client, uri, "eval(x)\n")
    assert lines_of(await diagnostics_of(pull_client, uri, 1)) == [0]
    type_burst(pull_client, uri)
    diagnostics = await diagnostics_of(pull_client, uri, BURST + 1)
    assert codes(diagnostics) == ["B307"] and lines_of(diagnostics) == [BURST]


# -- settings ---------------------------------------------------------------------------------

SIX = branchy("classify", 6)  # over a limit of 5, within the default 10


async def test_editor_settings_from_initialization_options_and_did_change_configuration(
    client: EditorClient, tmp_path: Path
) -> None:
    options = {"debounce": 0, "complexity": {"max-complexity": 5}}
    await start(client, client_capabilities("visual-studio-code"), tmp_path, options)
    uri = (tmp_path / "app.py").as_uri()
    open_document(client, uri, SIX)
    assert codes(await published(client, uri, 1)) == ["CS-C001"]
    count = len(client.publications)
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings={"clearsight": {"complexity": {"maxComplexity": 20}}}
        )
    )
    assert codes(await published(client, uri, 1, after=count)) == []


async def test_settings_from_workspace_configuration_apply_from_the_first_analysis(
    client: EditorClient, tmp_path: Path
) -> None:
    client.set_configuration({"complexity": {"maxComplexity": 5}}, section="clearsight")
    await start(client, pull_capabilities(), tmp_path)
    uri = (tmp_path / "app.py").as_uri()
    open_document(client, uri, SIX)
    assert codes(await diagnostics_of(client, uri, 1)) == ["CS-C001"]


async def test_workspace_pyproject_is_honoured_and_reread_when_it_changes(
    push_client: EditorClient, tmp_path: Path
) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text("[tool.clearsight.complexity]\nmax-complexity = 3\n")
    uri = (tmp_path / "app.py").as_uri()
    open_document(push_client, uri, branchy("route", 4))
    assert codes(await published(push_client, uri, 1)) == ["CS-C001"]
    watchers = [
        r for r in push_client.registrations if r.method == "workspace/didChangeWatchedFiles"
    ]
    assert watchers, "the server should ask to be told about pyproject.toml changes"
    count = len(push_client.publications)
    pyproject.write_text("[tool.clearsight.complexity]\nmax-complexity = 4\n")
    push_client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=pyproject.as_uri(), type=types.FileChangeType.Changed)]
        )
    )
    assert codes(await published(push_client, uri, 1, after=count)) == []


async def test_a_configuration_change_makes_a_pull_editor_refresh_and_pull_new_results(
    client: EditorClient, tmp_path: Path
) -> None:
    options = {"debounce": 0, "complexity": {"max-complexity": 5}}
    await start(client, refreshing_pull_capabilities(), tmp_path, options)
    uri = (tmp_path / "app.py").as_uri()
    # Long enough that re-analysing it takes a while after the refresh request is sent.
    open_document(client, uri, SIX + "\n" + "x = 1\n" * 5000)
    assert "CS-C001" in codes(await diagnostics_of(client, uri, 1))
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings={"clearsight": {"complexity": {"maxComplexity": 20}}}
        )
    )

    async def refreshed() -> None:
        while client.diagnostic_refresh_count == 0:
            await asyncio.sleep(0.02)

    await asyncio.wait_for(refreshed(), 10)
    assert "CS-C001" not in codes(await diagnostics_of(client, uri, 1))  # what it pulls


# -- half-typed code --------------------------------------------------------------------------

VALID = (
    "import os\n"
    "\n"
    "def first(value):\n"
    "    return value + 1\n"
    "\n"
    "\n"
    "def second(path):\n"
    "    return os.path.exists(path)\n"
    "\n"
    "\n"
    'result = eval(os.environ["EXPR"])\n'
)
STALE = "(from the last version that parsed)"


async def test_findings_are_carried_over_a_syntax_error_and_refreshed_once_it_parses(
    pull_client: EditorClient, tmp_path: Path
) -> None:
    uri = (tmp_path / "app.py").as_uri()
    open_document(pull_client, uri, VALID)
    (finding,) = await diagnostics_of(pull_client, uri, 1)
    # eval of an environment variable: the dataflow finding, which stands for bandit's B307.
    assert finding.code == "CS-S004" and finding.range.start.line == 10

    replace_all(pull_client, uri, VALID.replace("first(value):", "first(value:"), 2)
    broken = await diagnostics_of(pull_client, uri, 2)
    assert codes(broken) == ["CS-E001", "CS-S004"]
    assert only(broken, "CS-E001").range.start.line == 2
    carried = only(broken, "CS-S004")
    assert carried.range == finding.range and carried.message.endswith(STALE)

    replace_all(pull_client, uri, VALID, 3)
    (fresh,) = await diagnostics_of(pull_client, uri, 3)
    assert fresh.code == "CS-S004" and STALE not in fresh.message


# -- hover and code lenses --------------------------------------------------------------------


async def hover(client: LanguageClient, uri: str, line: int, character: int) -> str | None:
    result = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=character),
        )
    )
    if result is None:
        return None
    assert isinstance(result.contents, types.MarkupContent)
    return result.contents.value


async def test_hover_on_a_function_name_shows_its_complexity_and_rank_under_the_limit(
    pull_client: EditorClient, tmp_path: Path
) -> None:
    uri = (tmp_path / "app.py").as_uri()
    open_document(pull_client, uri, branchy("classify", 3))
    text = await hover(pull_client, uri, 0, len("def cla"))
    assert text is not None
    assert "`classify`" in text and "complexity **3** (rank A)" in text
    assert "within the limit of 10" in text


async def test_hover_on_a_one_letter_function_name_that_also_occurs_in_def(
    pull_client: EditorClient, tmp_path: Path
) -> None:
    uri = (tmp_path / "app.py").as_uri()
    open_document(pull_client, uri, branchy("f", 2))
    text = await hover(pull_client, uri, 0, len("def "))
    assert text is not None and "`f`" in text and "complexity **2** (rank A)" in text


async def test_hover_on_a_finding_shows_its_code_cwe_link_and_help(
    pull_client: EditorClient, tmp_path: Path
) -> None:
    uri = (tmp_path / "app.py").as_uri()
    open_document(pull_client, uri, WIDE)
    text = await hover(pull_client, uri, 1, EVAL_COLUMNS["utf-16"][0] + 2)
    assert text is not None
    assert "**B307**" in text
    assert "(https://cwe.mitre.org/data/definitions/78.html)" in text
    assert "ast.literal_eval" in text and "add `# nosec B307` with a reason" in text
    assert await hover(pull_client, uri, 1, 1) is None  # `label` is neither


async def test_code_lens_above_a_function_over_the_limit_shows_complexity_and_rank(
    pull_client: EditorClient, tmp_path: Path
) -> None:
    uri = (tmp_path / "app.py").as_uri()
    open_document(pull_client, uri, branchy("simple", 2) + "\n\n" + branchy("tangled", 12))
    lenses = await pull_client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    assert lenses is not None
    (lens,) = lenses  # none above `simple`
    assert lens.command is not None and lens.command.title == "complexity 12 (rank C)"
    tangled_line = (branchy("simple", 2) + "\n\n").count("\n")
    assert lens.range.start.line == tangled_line


# -- faults -----------------------------------------------------------------------------------


async def send_raw_request(client: LanguageClient, method: str, params: Any) -> Any:
    """Send a request as JSON, as is: pygls's own `send_request` would need valid params."""
    message_id = f"raw-{method}"
    answer: Future[Any] = Future()
    client.protocol._request_futures[message_id] = answer
    client.protocol._send_data(
        {"jsonrpc": "2.0", "id": message_id, "method": method, "params": params}
    )
    return await asyncio.wait_for(asyncio.wrap_future(answer), 10)


async def test_an_invalid_request_gets_an_error_response_and_the_server_keeps_answering(
    pull_client: EditorClient, tmp_path: Path
) -> None:
    with pytest.raises(JsonRpcException) as error:  # hover params without uri and position
        await send_raw_request(pull_client, types.TEXT_DOCUMENT_HOVER, {"textDocument": {}})
    assert error.value.code == JsonRpcInvalidParams.CODE
    uri = (tmp_path / "app.py").as_uri()
    open_document(pull_client, uri, "eval(x)\n")
    assert codes(await diagnostics_of(pull_client, uri, 1)) == ["B307"]
    assert await hover(pull_client, uri, 0, 1) is not None


async def test_requests_for_a_document_never_opened_get_empty_answers(
    pull_client: EditorClient, tmp_path: Path
) -> None:
    uri = (tmp_path / "never.py").as_uri()
    edit(pull_client, uri, 2, (0, 0, 0, 0, "x"))
    close_document(pull_client, uri)
    assert await hover(pull_client, uri, 0, 0) is None
    report = await pulled(pull_client, uri)
    assert isinstance(report, types.RelatedFullDocumentDiagnosticReport) and not report.items
    assert await code_actions(pull_client, uri, []) == []
    lenses = await pull_client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    assert not lenses
    errors = [m for m in pull_client.messages if m.type == types.MessageType.Error]
    assert errors == []
    # ... and the server still works.
    open_document(pull_client, uri, "eval(x)\n")
    assert codes(await diagnostics_of(pull_client, uri, 1)) == ["B307"]


async def test_a_huge_buffer_does_not_keep_a_small_one_from_its_diagnostics(
    push_client: EditorClient, tmp_path: Path
) -> None:
    huge = (tmp_path / "huge.py").as_uri()
    small = (tmp_path / "small.py").as_uri()
    open_document(push_client, huge, "x = 1\n" * 50_000)
    open_document(push_client, small, "eval(x)\n")
    assert codes(await published(push_client, small, 1, timeout=30)) == ["B307"]


async def test_a_buffer_over_the_size_limit_is_edited_exactly_and_reported_without_parsing(
    client: EditorClient, tmp_path: Path
) -> None:
    """Over `max-file-bytes` (here 200 KB), a buffer is one CS-E005 whatever its edits, and
    the edits land where they should: once the limit is raised, the finding typed near its
    end is analysed at its line. (The cost of a 32 MB buffer is bench_huge_buffer.py's.)"""
    await start(client, client_capabilities("visual-studio-code"), tmp_path,
                {"debounce": 0, "limits": {"max-file-bytes": 200_000}})  # fmt: skip
    uri, small = (tmp_path / "generated.py").as_uri(), (tmp_path / "small.py").as_uri()
    lines = 40_000  # "x = 1\n" each: 240 KB
    open_document(client, uri, "x = 1\n" * lines)
    assert codes(await published(client, uri, 1)) == ["CS-E005"]
    edit(client, uri, 2, (3, 0, 3, 0, "y = 2\n"))  # near the top: one line more
    edit(client, uri, 3, (lines - 2, 0, lines - 1, 0, "eval(input())\n"))  # near the end
    edit(client, uri, 4, (0, 0, 0, 5, "z = 3"))
    assert codes(await published(client, uri, 4)) == ["CS-E005"]
    open_document(client, small, "eval(x)\n")
    assert codes(await published(client, small, 1)) == ["B307"]
    count = len(client.publications)
    raised = {"clearsight": {"limits": {"maxFileBytes": 400_000}}}
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=raised))
    found = await published(client, uri, 4, after=count)
    assert [(d.code, d.range.start.line) for d in found if d.code != "B307"] == [
        ("CS-S004", lines - 2)
    ]


async def test_text_that_cannot_be_parsed_gets_a_diagnostic_instead_of_a_crash(
    pull_client: EditorClient, tmp_path: Path
) -> None:
    texts = {
        "nul.py": "x = 1\0\n",
        "syntax.py": "def f(:\n    pass\n",
        "surrogate.py": 'x = "\ud800"\n',
        "unclosed.py": 'x = """never closed\n',
    }
    for name, text in texts.items():
        open_document(pull_client, (tmp_path / name).as_uri(), text)
    for name in texts:
        diagnostics = await diagnostics_of(pull_client, (tmp_path / name).as_uri(), 1)
        assert codes(diagnostics) == ["CS-E001"], name
    assert await hover(pull_client, (tmp_path / "nul.py").as_uri(), 0, 5) is not None


async def test_an_invalid_pyproject_value_is_shown_once_as_a_warning(
    push_client: EditorClient, tmp_path: Path
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.clearsight.complexity]\nmax-complexity = "high"\n'
    )
    first, second = (tmp_path / "a.py").as_uri(), (tmp_path / "b.py").as_uri()
    open_document(push_client, first, SIX)
    open_document(push_client, second, "eval(x)\n")
    await published(push_client, first, 1)
    await published(push_client, second, 1)
    replace_all(push_client, first, SIX + "\n", 2)
    await published(push_client, first, 2)
    warnings = [m for m in push_client.messages if m.type == types.MessageType.Warning]
    assert len(warnings) == 1
    assert "max-complexity" in warnings[0].message and "'high'" in warnings[0].message


# -- workspace diagnostics --------------------------------------------------------------------

RISKY = "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"


def write_workspace(root: Path, extra: int = 0) -> dict[str, Path]:
    """A project as `clearsight check` sees it: two modules, a .gitignore'd folder and a
    virtual environment (both left out), and `extra` more modules with a finding each."""
    (root / "pkg").mkdir()
    files = {"risky": root / "pkg" / "risky.py", "clean": root / "pkg" / "clean.py"}
    files["risky"].write_text(RISKY, encoding="utf-8")
    files["clean"].write_text("def add(a, b):\n    return a + b\n", encoding="utf-8")
    (root / ".gitignore").write_text("generated/\n", encoding="utf-8")
    (root / "generated").mkdir()
    (root / "generated" / "out.py").write_text("eval('1')\n", encoding="utf-8")
    (root / "env" / "lib").mkdir(parents=True)
    (root / "env" / "pyvenv.cfg").write_text("home = /usr/bin\n", encoding="utf-8")
    (root / "env" / "lib" / "site.py").write_text("eval('1')\n", encoding="utf-8")
    for number in range(extra):
        path = root / "pkg" / f"extra_{number}.py"
        path.write_text(f"def f{number}(x):\n    return eval(x)\n" * 20, encoding="utf-8")
        files[f"extra_{number}"] = path
    return files


async def workspace_pull(
    client: LanguageClient,
    previous: dict[str, str] | None = None,
    work_done: str | None = None,
    partial: str | None = None,
) -> types.WorkspaceDiagnosticReport:
    return await client.workspace_diagnostic_async(
        types.WorkspaceDiagnosticParams(
            previous_result_ids=[
                types.PreviousResultId(uri=uri, value=value)
                for uri, value in (previous or {}).items()
            ],
            work_done_token=work_done,
            partial_result_token=partial,
        )
    )


def by_uri(reports: Sequence[Any]) -> dict[str, Any]:
    return {report.uri: report for report in reports}


def ids_of(reports: Sequence[Any]) -> dict[str, str]:
    return {report.uri: report.result_id for report in reports if report.result_id}


@pytest.mark.asyncio
async def test_workspace_diagnostics_cover_the_files_check_would_and_open_buffers(
    client: EditorClient, tmp_path: Path
) -> None:
    files = write_workspace(tmp_path)
    result = await start(client, pull_capabilities(), tmp_path)
    provider = result.capabilities.diagnostic_provider
    assert isinstance(provider, types.DiagnosticOptions) and provider.workspace_diagnostics
    risky = files["risky"].as_uri()
    # The buffer differs from the file on disk: the buffer is what is reported.
    open_document(client, risky, "x = input()\nprint(eval(x))\n", version=7)

    reports = by_uri((await workspace_pull(client)).items)

    assert set(reports) == {risky, files["clean"].as_uri()}
    assert reports[risky].version == 7
    # eval of console input: the dataflow finding, standing for bandit's B307.
    assert codes(reports[risky].items) == ["CS-S004"]
    clean = reports[files["clean"].as_uri()]
    assert isinstance(clean, types.WorkspaceFullDocumentDiagnosticReport)
    assert clean.version is None and list(clean.items) == []


@pytest.mark.asyncio
async def test_workspace_diagnostics_report_a_file_of_a_gigabyte_over_the_limit_unread(
    pull_client: EditorClient, tmp_path: Path
) -> None:
    files = write_workspace(tmp_path)
    huge = tmp_path / "pkg" / "huge.py"
    with open(huge, "wb") as handle:
        handle.truncate(1 << 30)  # sparse: read whole, it would hold a gigabyte in memory
    reports = by_uri((await workspace_pull(pull_client)).items)
    assert codes(reports[files["risky"].as_uri()].items) == ["B404", "B602"]
    over = reports[huge.as_uri()]
    assert codes(over.items) == ["CS-E005"]
    assert "1,073,741,824 bytes" in over.items[0].message
    server = pull_client._server  # the server's process (pygls keeps it here)
    assert server is not None
    status = Path(f"/proc/{server.pid}/status").read_text()
    peak_kib = next(int(line.split()[1]) for line in status.splitlines() if "VmHWM" in line)
    assert peak_kib < 400 * 1024, f"the server's peak resident size: {peak_kib} KiB"


@pytest.mark.asyncio
async def test_workspace_diagnostics_answer_unchanged_until_a_file_changes(
    pull_client: EditorClient, tmp_path: Path
) -> None:
    files = write_workspace(tmp_path)
    risky, clean = files["risky"].as_uri(), files["clean"].as_uri()
    open_document(pull_client, clean, files["clean"].read_text(encoding="utf-8"))
    first = await workspace_pull(pull_client)
    assert codes(by_uri(first.items)[risky].items) == ["B404", "B602"]

    second = by_uri((await workspace_pull(pull_client, ids_of(first.items))).items)
    assert all(
        isinstance(report, types.WorkspaceUnchangedDocumentDiagnosticReport)
        for report in second.values()
    )

    files["risky"].write_text(RISKY.replace("shell=True", "shell=False"), encoding="utf-8")
    replace_all(pull_client, clean, "eval('1')\n", version=2)
    third = by_uri((await workspace_pull(pull_client, ids_of(first.items))).items)
    assert isinstance(third[risky], types.WorkspaceFullDocumentDiagnosticReport)
    assert codes(third[risky].items) == ["B404", "B603"]
    assert third[clean].version == 2 and codes(third[clean].items) == ["B307"]


@pytest.mark.asyncio
async def test_workspace_diagnostics_report_progress_and_partial_results(
    pull_client: EditorClient, tmp_path: Path
) -> None:
    files = write_workspace(tmp_path, extra=3)

    final = await workspace_pull(pull_client, work_done="scan", partial="results")

    # Everything came as partial results; the response itself is empty, as the LSP says.
    assert list(final.items) == []
    partial = [item for value in pull_client.progress_values["results"] for item in value["items"]]
    assert sorted(item["uri"] for item in partial) == sorted(p.as_uri() for p in files.values())
    kinds = [value["kind"] for value in pull_client.progress_values["scan"]]
    assert kinds == ["begin", *["report"] * len(files), "end"]
    assert pull_client.progress_values["scan"][-2]["percentage"] == 100


@pytest.mark.asyncio
async def test_cancelling_the_progress_stops_the_scan_and_ends_the_progress(
    pull_client: EditorClient, tmp_path: Path
) -> None:
    files = write_workspace(tmp_path, extra=40)
    pull_client.cancel_on_begin.add("scan")

    result = await workspace_pull(pull_client, work_done="scan")

    assert len(result.items) < len(files)
    assert pull_client.progress_values["scan"][-1]["kind"] == "end"
    # The server goes on answering.
    uri = files["risky"].as_uri()
    open_document(pull_client, uri, RISKY)
    assert "B602" in codes(await diagnostics_of(pull_client, uri, 1))


@pytest.mark.asyncio
async def test_a_cancelled_workspace_request_is_answered_and_ends_its_progress(
    pull_client: EditorClient, tmp_path: Path
) -> None:
    write_workspace(tmp_path, extra=40)
    params = types.WorkspaceDiagnosticParams(previous_result_ids=[], work_done_token="scan")
    request = asyncio.ensure_future(
        pull_client.protocol.send_request_async(
            types.WORKSPACE_DIAGNOSTIC, params, msg_id="workspace-1"
        )
    )
    while "workspace-1" not in pull_client.protocol._request_futures:
        await asyncio.sleep(0)  # until the request is on its way
    pull_client.cancel_request(types.CancelParams(id="workspace-1"))

    with pytest.raises(JsonRpcException):
        await asyncio.wait_for(request, 30)
    # A progress that began also ended (the server may have stopped before beginning).
    kinds = [value["kind"] for value in pull_client.progress_values.get("scan", [])]
    assert kinds == [] or kinds[-1] == "end"
    # Asked again, it completes.
    assert len((await workspace_pull(pull_client)).items) == 42


async def test_an_unused_ignore_is_faded_and_its_fix_removes_it(
    client: EditorClient, tmp_path: Path
) -> None:
    """CS-E004 in the editor: a hint with the Unnecessary tag (shown faded); its quick fix
    removes the comment, and the hint goes."""
    await start(client, emacs_capabilities(), tmp_path)
    text = "total = 1 + 2  # clearsight: ignore[B307]\n"
    uri = (tmp_path / "app.py").as_uri()
    open_document(client, uri, text)
    diagnostic = only(await diagnostics_of(client, uri, 1), "CS-E004")
    assert diagnostic.severity == types.DiagnosticSeverity.Hint
    assert list(diagnostic.tags or []) == [types.DiagnosticTag.Unnecessary]
    action = titled(await code_actions(client, uri, [diagnostic]), "Remove the unused")
    new_text = apply_workspace_edit(text, uri, 1, action.edit, client.encoding)
    assert new_text == "total = 1 + 2\n"
    replace_all(client, uri, new_text, 2)
    assert codes(await diagnostics_of(client, uri, 2)) == []
