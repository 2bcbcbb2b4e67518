"""What open documents cost the language server. Only the most recently edited or opened
keep their incremental state (`KEPT_ANALYZERS`); the others are analysed whole on their
next edit, with the same findings. An edit's position is found without listing every line
of a huge buffer. (Memory and time are measured in benchmarks/bench_memory.py and
bench_huge_buffer.py, never in a test.)"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest_lsp
from lsprotocol import types
from test_lsp import (
    SERVER,
    EditorClient,
    diagnostics_of,
    edit,
    open_document,
    pull_capabilities,
    start,
)

from clearsight.engine import analyze
from clearsight.incremental import IncrementalAnalyzer
from clearsight.lsp.positions import line_starts, offset_at, offset_of
from clearsight.lsp.server import KEPT_ANALYZERS, Analysis, ClearsightServer, DocumentState
from clearsight.settings import Settings
from clearsight.source import SourceText

STDLIB = Path(os.__file__).parent
MODULES = ["subprocess.py", "tarfile.py", "shutil.py", "ftplib.py", "pickle.py", "tempfile.py",
           "smtplib.py", "zipfile.py", "argparse.py", "imaplib.py", "inspect.py",
           "poplib.py"]  # fmt: skip


@pytest_lsp.fixture(config=SERVER)
async def pull_client(lsp_client: EditorClient, tmp_path: Path):
    await start(lsp_client, pull_capabilities(), tmp_path)
    yield lsp_client
    await lsp_client.shutdown_session()


def _expected(text: str, path: Path) -> list[tuple[str, int, int]]:
    findings = analyze(SourceText(text, path=str(path)), str(path), Settings())
    return sorted((f.code, f.span.start.line, f.span.start.column) for f in findings)


def _shown(diagnostics: list[types.Diagnostic]) -> list[tuple[str, int, int]]:
    return sorted((str(d.code), d.range.start.line, d.range.start.character) for d in diagnostics)


async def test_a_document_whose_state_was_dropped_is_analysed_whole_with_the_same_findings(
    pull_client: EditorClient, tmp_path: Path
) -> None:
    assert len(MODULES) > KEPT_ANALYZERS + 2
    texts = {}
    for number, name in enumerate(MODULES):
        path = tmp_path / f"module_{number}.py"
        texts[path] = (STDLIB / name).read_text(encoding="utf-8")
        open_document(pull_client, path.as_uri(), texts[path])
        await diagnostics_of(pull_client, path.as_uri(), 1)
    # The first one opened lost its incremental state to the later ones: edit it twice,
    # the first edit analysed whole, the second incrementally again.
    first = tmp_path / "module_0.py"
    uri, text = first.as_uri(), texts[first]
    edit(pull_client, uri, 2, (0, 0, 0, 0, "import os\nos.system(input())\n"))
    text = "import os\nos.system(input())\n" + text
    shown = _shown(await diagnostics_of(pull_client, uri, 2))
    assert shown == _expected(text, first)
    assert ("CS-S002", 1, 0) in shown  # the edit's own finding, with the file's others
    lines = text.splitlines(keepends=True)
    end = next(i for i, line in enumerate(lines) if line.startswith("def "))
    edit(pull_client, uri, 3, (end, 0, end, 0, "eval(input())\n"))
    text = "".join([*lines[:end], "eval(input())\n", *lines[end:]])
    shown = _shown(await diagnostics_of(pull_client, uri, 3))
    assert shown == _expected(text, first)
    assert ("CS-S004", end, 0) in shown
    # A document opened earlier and never edited answers from its kept findings.
    second = tmp_path / "module_1.py"
    assert _shown(await diagnostics_of(pull_client, second.as_uri(), 1)) == _expected(
        texts[second], second
    )


def _analysed(server: ClearsightServer, uri: str, *, edited: bool) -> DocumentState:
    state = server.state(uri)
    source = SourceText("x = 1\n", path=uri)
    source.lines  # noqa: B018 - a view worked out, to be dropped with the analyzer
    state.analysis = state.last_good = Analysis(uri, 1, source, [], "", True)
    state.analyzer = IncrementalAnalyzer(uri)
    if edited:
        state.last_edit = 1.0
    server._keep_analyzer(uri)
    return state


def test_documents_being_edited_keep_their_state_longer_than_documents_only_opened() -> None:
    server = ClearsightServer()
    edited = [_analysed(server, f"file:///edited{n}.py", edited=True) for n in range(3)]
    opened = [
        _analysed(server, f"file:///opened{n}.py", edited=False) for n in range(KEPT_ANALYZERS)
    ]
    kept = [state for state in [*edited, *opened] if state.analyzer is not None]
    assert len(kept) == KEPT_ANALYZERS
    # The three edited ones were analysed first, yet kept: the oldest opened ones went.
    assert all(state.analyzer is not None for state in edited)
    assert [state.analyzer is None for state in opened] == [True] * 3 + [False] * (
        KEPT_ANALYZERS - 3
    )
    dropped = opened[0]
    assert dropped.analysis is not None and "lines" not in vars(dropped.analysis.source)
    assert dropped.analysis.source.lines == ["x = 1", ""]  # worked out again when asked for
    # With only edited documents left to choose from, the least recently analysed goes.
    more = [_analysed(server, f"file:///more{n}.py", edited=True) for n in range(KEPT_ANALYZERS)]
    assert all(state.analyzer is None for state in [*edited, *opened])
    assert all(state.analyzer is not None for state in more)
    assert len(server.kept_analyzers) == KEPT_ANALYZERS


def test_positions_of_edits_are_found_without_listing_every_line() -> None:
    """`offset_at` (what an incremental edit uses) equals `offset_of` over the whole text's
    line starts, for every line break LSP knows, past-the-end positions and texts longer
    than the blocks it counts line breaks in."""
    rng = random.Random(7)
    pieces = ["a", "é", "😀", "\n", "\r\n", "\r", "\f", "\u2028", " "]
    texts = ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 40))) for _ in range(2000)]
    texts += ["x = 1\n" * 400_000, "x = 1\n" * 400_000 + "last", "é😀\n" * 300_000]
    for text in texts:
        starts = line_starts(text)
        lines = len(starts)
        probes = [(rng.randint(0, lines + 2), rng.randint(0, 12)) for _ in range(8)]
        probes += [(lines - 1, 0), (lines, 0), (0, 99)]
        for line, character in probes:
            for encoding in ("utf-16", "utf-8", "utf-32"):
                expected = offset_of(text, starts, line, character, encoding)
                assert offset_at(text, line, character, encoding) == expected
