"""Incremental analysis for the editor: after an edit, only the statements it touched are
parsed, tokenized and checked again; the others' results are reused.

The module is cut into *chunks*: consecutive lines holding one top-level statement (with
its decorators, and the comments and blank lines above it). A chunk's facts are computed
from its text alone, which is exact because:
- radon's cyclomatic complexity and blocks are per statement, its maintainability inputs
  (Halstead operator/operand sets and counts, the module's total complexity, raw line
  counts) combine across statements (`combine_facts`);
- bandit's tests see one statement at a time, except that call names resolve through the
  imports seen above; each chunk is checked starting from that import state, which is part
  of its cache key, and its file-level test (trojan source) keeps bandit's first-only rule;
- an import's guards (try/except ImportError, version checks) are statements around it,
  in the same top-level statement (`combine_scans`).
A long class or if/try chunk is cut further into *parts* (a class statement by statement,
an if/try block by block), each checked on its own text with what makes it parse around
it, so an edit in one method re-checks that method only. When an edit stays inside one
such statement and keeps the line count, only that statement is parsed again.
Other families run on the whole text, as the engine would run them; one that only needs
the file's imports (`ScanCheck`) gets them from the chunks' scans instead, and one that
needs its module attribute uses (`UsesCheck`) gets them from `DocumentUses`, which parses
and walks only the statement (or method) an edit is in: neither parses the whole text.
The result equals `engine.analyze` on the whole text (tests compare them on real code).
Anything unusual (a syntax error, a check that fails) falls back to the whole-file engine.
"""

from __future__ import annotations

import ast
import itertools
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Protocol, runtime_checkable

from radon.visitors import Class, ComplexityVisitor

from clearsight.checks.base import Check, Rule
from clearsight.checks.complexity import (
    Block,
    ComplexityFacts,
    block_findings,
    combine_facts,
    complexity_facts,
    module_findings,
    module_maintainability,
)
from clearsight.checks.raw_metrics import raw_metrics
from clearsight.checks.registry import CHECKS
from clearsight.checks.security import ImportState, issue_findings, run_bandit_from
from clearsight.deps.imports import (
    EXTENDS_IMPORT_PATH,
    ImportScan,
    combine_scans,
    scan_imports,
    statement_kind,
)
from clearsight.deps.references import DocumentUses, FileUses
from clearsight.engine import (
    analyze,
    apply_user_choices,
    finalize_findings,
    inline_ignores,
    run_check,
)
from clearsight.model import Family, Finding
from clearsight.segments import common_ends
from clearsight.settings import Settings
from clearsight.source import SourceText, lines_with_breaks

_SUPPORTED_FAMILIES = {"complexity", "security"}
# bandit's file-level tests report only the first occurrence in a file.
_FILE_LEVEL_TESTS = {"B613"}
_NO_IMPORTS = ImportScan((), extends_import_path=False, compiles=True)
# Text that can make a statement hold an import or change where imports are found.
_IMPORT_WORDS = ("import", *EXTENDS_IMPORT_PATH)


@dataclass
class Unit:
    """Text checked by bandit on its own."""

    source: SourceText
    # import state before the unit -> (security findings, import state after it)
    security: dict[ImportState, tuple[list[Finding], ImportState]] = field(default_factory=dict)
    released: bool = False  # its tree and tokens were let go (see `_release_trees`)


@dataclass
class ChunkFacts:
    """What one chunk contributes, in the chunk's own line numbers."""

    source: SourceText  # the chunk's text (for lines; not necessarily parsed)
    complexity: ComplexityFacts
    comments: dict[int, str]
    # The whole chunk, or the parts of a long class or if/try statement, each with the
    # chunk line its text's first line stands for.
    units: list[tuple[int, Unit]]
    # The chunk's imports (for the dependency family) and its top-level statements'
    # `statement_kind`s, set by the analyzer once the chunk is parsed.
    imports: ImportScan = _NO_IMPORTS
    kinds: tuple[str, ...] = ()
    split: Split | None = None  # how a long chunk was cut, to re-check one part alone
    released: bool = False
    # The last findings placed in the file: (first line, import state before, findings,
    # import state after). Most chunks keep both across an edit, so they are reused.
    placed: tuple[int, ImportState, list[Finding], ImportState] | None = None


@dataclass
class Chunk:
    start: int  # 0-based first line in the current text
    lines: tuple[str, ...]  # with their line breaks
    facts: ChunkFacts


class IncrementalAnalyzer:
    """One per open document. `analyze(text)` returns what `engine.analyze` would."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.chunks: list[Chunk] = []
        self.lines: list[str] = []
        self.settings_key: str | None = None
        self.reused = 0  # chunks reused by the last call (for tests and benchmarks)
        self.parts_reparsed = 0  # edits handled by parsing one part only (tests, benchmarks)
        self.parts_analysed = 0  # parts whose text was new, so analysed (tests, benchmarks)
        # Facts of the parts of split chunks by text, so an edit in one method re-checks
        # only that method.
        self._units: dict[str, UnitFacts] = {}
        self.parsed = False  # whether the last text analysed parses
        self._uses = DocumentUses()  # module attribute uses, statement by statement
        self._lock = threading.Lock()

    def analyze(self, text: str, settings: Settings) -> tuple[SourceText, list[Finding]]:
        # A superseded run may still be going in another worker thread: one at a time.
        with self._lock:
            return self._analyze(text, settings)

    def _analyze(self, text: str, settings: Settings) -> tuple[SourceText, list[Finding]]:
        source = SourceText(text, path=self.path)
        self.parsed = False
        if not self._usable(settings, text):
            self.chunks = []
            return source, self._whole(source, settings)
        if settings.fingerprint() != self.settings_key:
            self.chunks, self.lines, self._units = [], [], {}
            self.settings_key = settings.fingerprint()
        lines = lines_with_breaks(text)
        try:
            chunks = self._rechunk(lines)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            # ValueError: NUL bytes (3.11), lone surrogates; Recursion: too deep to parse.
            chunks = None
        if chunks is None:
            # Does not parse: the engine reports the error (and whatever else it can). The
            # chunks of the last version that parsed stay, so once the error is fixed only
            # what changed since then is analysed again.
            return source, self._whole(source, settings)
        try:
            findings = self._findings(chunks, source, settings)
        except Exception:
            self.chunks, self.lines = [], []
            return source, self._whole(source, settings)
        self.chunks, self.lines = chunks, lines
        self.parsed = True
        self._forget_unused_units(chunks)
        for chunk in chunks:
            _release_trees(chunk.facts, self.path)
        return source, findings

    def _forget_unused_units(self, chunks: list[Chunk]) -> None:
        live = {id(unit) for chunk in chunks for _, unit in chunk.facts.units}
        self._units = {k: v for k, v in self._units.items() if id(v.unit) in live}

    def _whole(self, source: SourceText, settings: Settings) -> list[Finding]:
        findings = analyze(source, self.path, settings)
        self.parsed = source.tree is not None
        return findings

    def _usable(self, settings: Settings, text: str) -> bool:
        return len(text) <= settings.limits.max_file_bytes

    # -- chunking -----------------------------------------------------------------------

    def _rechunk(self, new: list[str]) -> list[Chunk]:
        old = self.lines
        if not self.chunks:
            return self._parse_chunks(new, 0, len(new))
        delta = len(new) - len(old)
        prefix, suffix = common_ends(old, new)
        before, after = _untouched(self.chunks, len(old), prefix, suffix)
        dirty_start = before[-1].start + len(before[-1].lines) if before else 0
        dirty_end = (after[0].start + delta) if after else len(new)
        if dirty_end < dirty_start:
            return self._parse_chunks(new, 0, len(new))
        self.reused = len(before) + len(after)
        touched = self.chunks[len(before) : len(self.chunks) - len(after)]
        middle = None
        if delta == 0 and len(touched) == 1:
            middle = self._reparse_part(touched[0], new, prefix, len(old) - suffix)
        if middle is None:
            middle = self._parse_chunks(new, dirty_start, dirty_end)
        moved = [Chunk(c.start + delta, c.lines, c.facts) for c in after]
        return [*before, *middle, *moved]

    def _parse_chunks(self, lines: list[str], start: int, end: int) -> list[Chunk]:
        """Chunks for lines[start:end], which must parse on their own."""
        text = "".join(lines[start:end])
        tree = ast.parse(text)  # SyntaxError: the caller falls back to the engine
        firsts = [_first_line(statement) for statement in tree.body]
        bounds = [0, *firsts[1:], end - start] if firsts else [0, end - start]
        pairs = [(first, last) for first, last in itertools.pairwise(bounds) if last > first]
        chunks = []
        for first, last in pairs:
            chunk_lines = tuple(lines[start + first : start + last])
            # One chunk (the usual edit inside one function): its tree is the one just parsed.
            parsed = tree if len(pairs) == 1 else None
            chunks.append(Chunk(start + first, chunk_lines, self._facts(chunk_lines, parsed)))
        return chunks

    def _facts(self, lines: tuple[str, ...], tree: ast.Module | None = None) -> ChunkFacts:
        source = SourceText("".join(lines), path=self.path)
        if tree is not None:
            source.adopt_tree(tree)
        if source.tree is None:
            raise SyntaxError("a chunk does not parse on its own")
        imports = scan_imports(source)
        kinds = tuple(statement_kind(node) for node in source.tree.body)
        split = split_chunk(source, lines)
        if split is not None:
            facts = split.facts(source, [self._unit_facts(piece) for piece in split.pieces])
        else:
            facts = ChunkFacts(
                source, complexity_facts(source), dict(source.comments), [(0, Unit(source))]
            )
        facts.imports, facts.kinds = imports, kinds
        return facts

    def _reparse_part(
        self, chunk: Chunk, new: list[str], first_changed: int, end_changed: int
    ) -> list[Chunk] | None:
        """The chunk after an edit of lines [first_changed, end_changed) that kept the line
        count, parsing only the part those lines are in; None when that is not enough: no
        part holds them all, the part's text does not stand alone any more, or imports
        may have changed."""
        split = chunk.facts.split
        if split is None:
            return None
        first, end = first_changed - chunk.start, end_changed - chunk.start
        index = split.leaf_holding(first, end)
        if index is None:
            return None
        old = split.pieces[index]
        lines = tuple(new[chunk.start : chunk.start + len(chunk.lines)])
        piece = split.pieces[index].reframed(lines)
        tree = piece.stands_alone(old)
        if tree is None:
            return None
        pieces = [*split.pieces[:index], piece, *split.pieces[index + 1 :]]
        units = [self._unit_facts(p, tree if p is piece else None) for p in pieces]
        # Imports (and their guards) come from the chunk's tree: a part whose own imports
        # are the same before and after the edit (none, usually) leaves them as they were.
        if units[index].imports != self._unit_facts(old).imports:
            return None
        source = SourceText("".join(lines), path=self.path)
        facts = Split(pieces, split.class_header).facts(source, units)
        facts.imports, facts.kinds = chunk.facts.imports, chunk.facts.kinds
        self.parts_reparsed += 1
        return [Chunk(chunk.start, lines, facts)]

    def _unit_facts(self, piece: Piece, tree: ast.Module | None = None) -> UnitFacts:
        """A part's text, analysed once per distinct text (`tree`: already parsed)."""
        key = piece.text + "\0" + piece.plain
        cached = self._units.get(key)
        if cached is None:
            source = SourceText(piece.text, path=self.path)
            if tree is not None:
                source.adopt_tree(tree)
            cached = UnitFacts.of(source, piece)
            self._units[key] = cached
            self.parts_analysed += 1
        return cached

    # -- findings -------------------------------------------------------------------------

    def _findings(
        self, chunks: list[Chunk], source: SourceText, settings: Settings
    ) -> list[Finding]:
        findings: list[Finding] = []
        comments: dict[int, str] = {}
        state = ImportState()
        for chunk in chunks:
            for line, comment in chunk.facts.comments.items():
                comments[line + chunk.start] = comment
            chunk_findings, state = self._chunk_findings(chunk, settings, state)
            findings.extend(chunk_findings)
        findings = _first_of_file_level_tests(findings)
        if settings.complexity.enabled and chunks:
            maintainability = module_maintainability([chunk.facts.complexity for chunk in chunks])
            findings.extend(module_findings(source, maintainability, settings))
        for check in CHECKS:
            if check.family.value in _SUPPORTED_FAMILIES or not check.enabled(settings):
                continue
            # Families without a per-statement form run on the whole text, as the engine would.
            findings.extend(run_check(self._per_statement(check, chunks), source, settings))
        findings = finalize_findings(source, findings, settings, CHECKS)
        return apply_user_choices(findings, inline_ignores(comments), settings)

    def _per_statement(self, check: Check, chunks: list[Chunk]) -> Check:
        """The check, given what it needs collected statement by statement if it can take
        it that way."""
        if isinstance(check, ScanCheck):
            # A family that only needs the imports gets them, scanned chunk by chunk.
            return _Scanned(check, _combined_scan(chunks))
        if isinstance(check, UsesCheck):
            # One that needs the module attribute uses gets them statement by statement.
            return _Used(check, self._uses)
        return check

    def _chunk_findings(
        self, chunk: Chunk, settings: Settings, state: ImportState
    ) -> tuple[list[Finding], ImportState]:
        facts = chunk.facts
        placed = facts.placed
        if placed is not None and placed[0] == chunk.start and placed[1] == state:
            return placed[2], placed[3]  # same place, same imports above: as last time
        before = state
        found: list[Finding] = []
        if settings.complexity.enabled:
            blocks = block_findings(facts.source, facts.complexity.blocks, settings)
            found.extend(finding.shifted(chunk.start) for finding in blocks)
        if settings.security.enabled:
            for offset, unit in facts.units:
                security, state = self._security(unit, settings, state)
                found.extend(finding.shifted(chunk.start + offset) for finding in security)
        facts.placed = (chunk.start, before, found, state)
        return found, state

    def _security(
        self, unit: Unit, settings: Settings, state: ImportState
    ) -> tuple[list[Finding], ImportState]:
        cached = unit.security.get(state)
        if cached is None:
            issues, after = run_bandit_from(unit.source, settings, state)
            cached = (list(issue_findings(unit.source, issues)), after)
            unit.security[state] = cached
        return cached


# Classes and if/try statements shorter than this are checked whole; longer ones part by
# part (a class statement by statement, an if/try block by block).
SPLIT_LINES = 80
# `try`/`except*` (ast.TryStar) exists from Python 3.11.
_TRY_NODES: tuple[type[ast.stmt], ...] = (
    ast.Try,
    *([ast.TryStar] if hasattr(ast, "TryStar") else []),
)
_PARSE_ERRORS = (SyntaxError, ValueError, RecursionError, MemoryError)


@dataclass(frozen=True)
class Piece:
    """The text one part is checked on, and the chunk lines it stands for. Its own lines
    keep their columns; only a first line (`opener`) may be added to make it parse.
    Nothing in it depends on where the part is, so it is found again after lines above
    it were added or removed."""

    text: str
    plain: str  # the chunk lines it stands for, for raw line counts
    offset: int  # the chunk line the text's first line stands for
    opener: str = ""  # "class Name:\n" for a class's parts, "if 1:\n" in an if/try block
    wrappers: int = 0  # synthetic `if 1:` statements in `text` (radon counts each)
    # Chunk lines [start, end) of one statement of a block, which can be re-parsed alone.
    leaf: tuple[int, int] | None = None

    def reframed(self, lines: tuple[str, ...]) -> Piece:
        """This leaf, with its lines taken from `lines` (as many as before)."""
        start, end = self.leaf or (0, 0)
        plain = "".join(lines[start:end])
        return replace(self, text=self.opener + plain, plain=plain)

    def stands_alone(self, old: Piece) -> ast.Module | None:
        """The tree of this (edited) leaf if it still is one statement of the same block
        as `old`: the opener holding exactly one statement, starting on the leaf's first
        line with the same indentation. Otherwise the edit changed what is around it."""
        try:
            tree = ast.parse(self.text)
        except _PARSE_ERRORS:
            return None
        frame = tree.body[0] if len(tree.body) == 1 else None
        if not isinstance(frame, ast.ClassDef | ast.If) or len(frame.body) != 1:
            return None
        if isinstance(frame, ast.If) and frame.orelse:
            return None
        same_indent = _indent(self.plain) == _indent(old.plain)
        return tree if same_indent and _first_line(frame.body[0]) == 1 else None


@dataclass
class UnitFacts:
    """One part of a split chunk: its text's facts (without what the text adds to make it
    parse), and the raw line counts of the lines it really stands for."""

    unit: Unit
    visitor_class: Class | None  # radon's view of the dummy class, for a class's parts
    complexity: ComplexityFacts
    # The imports in the part's text, when it mentions imports at all (`_IMPORT_WORDS`):
    # an edit that leaves them as they were leaves the chunk's imports as they were.
    imports: ImportScan | None = None

    @classmethod
    def of(cls, source: SourceText, piece: Piece) -> UnitFacts:
        if source.tree is None:
            raise SyntaxError("a part does not parse on its own")
        visitor = ComplexityVisitor.from_ast(source.tree)
        plain = SourceText(piece.plain)
        facts = complexity_facts(source, visitor, raw_metrics(plain))
        if piece.wrappers:
            facts = replace(facts, total_complexity=facts.total_complexity - piece.wrappers)
        # Comments (for `# nosec` and inline ignores) without tokenizing the same lines twice.
        rest = piece.text[len(piece.opener) :]
        comments = (plain if rest == piece.plain else SourceText(rest)).comments
        skip = 1 if piece.opener else 0
        source.comments = {line + skip: text for line, text in comments.items()}
        first_class = visitor.classes[0] if visitor.classes else None
        imports = None
        if any(word in piece.text for word in _IMPORT_WORDS):
            imports = scan_imports(source)
        return cls(Unit(source), first_class, facts, imports)


@dataclass(frozen=True)
class _ClassHeader:
    name: str
    line: int  # 1-based, in the chunk
    byte_column: int
    end_line: int


@dataclass
class Split:
    """How a long chunk was cut into parts, in bandit's visiting order."""

    pieces: list[Piece]
    class_header: _ClassHeader | None  # for a class: its block is built from its parts'

    def leaf_holding(self, first: int, end: int) -> int | None:
        """The index of the leaf whose lines include chunk lines [first, end)."""
        for index, piece in enumerate(self.pieces):
            if piece.leaf is not None and piece.leaf[0] <= first < end <= piece.leaf[1]:
                return index
        return None

    def facts(self, source: SourceText, units: list[UnitFacts]) -> ChunkFacts:
        pairs = list(zip(self.pieces, units, strict=True))
        complexity = combine_facts([(piece.offset, unit.complexity) for piece, unit in pairs])
        if self.class_header is not None:
            class_block, real = _class_block(self.class_header, units)
            blocks = (class_block, *(b for b in complexity.blocks if b.kind != "class"))
            complexity = replace(complexity, blocks=blocks, total_complexity=real)
        comments = {
            line + piece.offset: text
            for piece, unit in pairs
            for line, text in unit.unit.source.comments.items()
        }
        parts = [(piece.offset, unit.unit) for piece, unit in pairs]
        return ChunkFacts(source, complexity, comments, parts, split=self)


@dataclass(frozen=True)
class _Frame:
    """What opens the block a part's statements sit in: nothing at module level,
    `class Name:` for a class's parts, `if 1:` for the blocks of a module-level if/try
    (radon counts that `if`; `wrappers` says how many to take off)."""

    opener: str = ""
    wrappers: int = 0

    def inner(self) -> _Frame:
        """The frame for the statements in the blocks of a statement in this frame."""
        return self if self.opener else _Frame("if 1:\n", 1)

    def piece(
        self, start: int, text: str, plain: str, leaf: tuple[int, int] | None = None
    ) -> Piece:
        """A part whose own text starts at chunk line `start`."""
        offset = start - (1 if self.opener else 0)
        return Piece(self.opener + text, plain, offset, self.opener, self.wrappers, leaf)


def split_chunk(source: SourceText, lines: tuple[str, ...]) -> Split | None:
    """A long top-level class or if/try statement as parts checked on their own text.
    None for short or unsplittable statements."""
    tree = source.tree
    if tree is None or len(tree.body) != 1 or len(lines) < SPLIT_LINES:
        return None
    node = tree.body[0]
    if isinstance(node, ast.ClassDef):
        return split_class(node, lines)
    pieces = _compound_pieces(node, 0, len(lines), lines, _Frame())
    return Split(pieces, None) if pieces is not None else None


def split_class(node: ast.ClassDef, lines: tuple[str, ...]) -> Split | None:
    """A long class: the class line with its bases, each statement of its body (long
    if/try statements block by block), then its decorators, the order bandit visits them
    in, so the imports a method makes reach what follows it. None where a body statement
    shares a line with the class header."""
    if node.end_lineno is None:
        return None
    firsts = [_first_line(statement) for statement in node.body]
    if firsts[0] < _header_end(node):
        return None
    ends = [*firsts[1:], node.end_lineno]
    frame = _Frame(f"class {node.name}:\n")
    pieces = [_class_shell(node, lines, firsts[0])]
    for statement, first, end in zip(node.body, firsts, ends, strict=True):
        pieces.extend(_pieces(statement, first, end, lines, frame))
    if node.decorator_list:
        pieces.append(_class_decorators(node, lines, firsts[0]))
    header = _ClassHeader(node.name, node.lineno, node.col_offset, node.end_lineno)
    return Split(pieces, header)


def _header_end(node: ast.ClassDef) -> int:
    """The last line (1-based) of `class Name(bases, keywords):`."""
    return max([node.lineno, *((n.end_lineno or 0) for n in (*node.bases, *node.keywords))])


def _class_shell(node: ast.ClassDef, lines: tuple[str, ...], body_start: int) -> Piece:
    """The class line(s) with bases and keywords; comments around; no decorators."""
    decorators = range(_first_line(node), node.lineno - 1)
    text = ["\n" if index in decorators else line for index, line in enumerate(lines[:body_start])]
    text.append(f"{_indent(lines[body_start])}pass\n")
    plain = lines[:body_start] + lines[node.end_lineno or node.lineno :]
    return Piece("".join(text), "".join(plain), 0)


def _class_decorators(node: ast.ClassDef, lines: tuple[str, ...], body_start: int) -> Piece:
    """The decorators, on a class with nothing else (their lines count in the shell)."""
    decorators = range(_first_line(node), node.lineno - 1)
    text = [line if index in decorators else "\n" for index, line in enumerate(lines[:body_start])]
    text[node.lineno - 1] = f"class {node.name}:\n"
    text.append(f"{_indent(lines[body_start])}pass\n")
    return Piece("".join(text), "", 0)


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _pieces(
    node: ast.stmt, start: int, end: int, lines: tuple[str, ...], frame: _Frame
) -> list[Piece]:
    """The parts of a statement standing for lines[start:end] (its own lines and the
    comments after it): itself, or, for a long if/try, its blocks' statements apart."""
    if end - start >= SPLIT_LINES:
        pieces = _compound_pieces(node, start, end, lines, frame)
        if pieces is not None:
            return pieces
    text = "".join(lines[start:end])
    return [frame.piece(start, text, text, leaf=(start, end))]


def _compound_pieces(
    node: ast.stmt, start: int, end: int, lines: tuple[str, ...], frame: _Frame
) -> list[Piece] | None:
    """An if/try statement (lines[start:end]) as its header and its blocks' statements.

    The header part keeps everything not split out (the test, `else:`, the handlers) with
    `pass` for each block; an `elif` chain is one more part, its `elif` written `if  `
    (columns kept). Parts come in bandit's visiting order. None when a block statement
    shares a line with something else."""
    split = _blocks_to_split(node, lines)
    if split is None:
        return None
    blocks, chain = split
    header = _Header(lines, start, end)
    pieces: list[Piece] = []
    for block in blocks:
        ranges = _statement_ranges(block)
        header.replace_block(ranges)
        for statement, (first, last) in zip(block, ranges, strict=True):
            pieces.extend(_pieces(statement, first, last, lines, frame.inner()))
    if chain is not None:
        chain_start, chain_end = chain.lineno - 1, node.end_lineno or chain.lineno
        header.blank(chain_start, chain_end)
        pieces.append(_elif_piece(lines, chain_start, chain_end, frame))
    if isinstance(node, ast.If):
        return [header.piece(frame), *pieces]
    return [*pieces, header.piece(frame)]


def _blocks_to_split(
    node: ast.stmt, lines: tuple[str, ...]
) -> tuple[list[list[ast.stmt]], ast.If | None] | None:
    """The blocks of an if/try checked statement by statement, and an elif chain."""
    chain = None
    if isinstance(node, ast.If):
        chain = _elif(node, lines)
        blocks = [node.body] if chain is not None or not node.orelse else [node.body, node.orelse]
    elif isinstance(node, _TRY_NODES):
        blocks = [node.body]  # type: ignore[attr-defined]
    else:
        return None
    if not all(_on_own_lines(block, lines) for block in blocks):
        return None
    return blocks, chain


def _elif(node: ast.If, lines: tuple[str, ...]) -> ast.If | None:
    orelse = node.orelse
    chained = len(orelse) == 1 and isinstance(orelse[0], ast.If)
    if chained and lines[orelse[0].lineno - 1].lstrip().startswith("elif"):
        return orelse[0]  # type: ignore[return-value]
    return None


def _on_own_lines(block: list[ast.stmt], lines: tuple[str, ...]) -> bool:
    """Whether each statement starts its line and the next one starts on a later line."""
    previous_end = -1
    for statement in block:
        first = _first_line(statement)
        text = lines[first]
        if first != statement.lineno - 1:
            starts = text.lstrip().startswith("@")
        else:
            # col_offset counts UTF-8 bytes; only whitespace before it means bytes == chars.
            starts = not text[: statement.col_offset].strip()
        if not starts or first <= previous_end:
            return False
        previous_end = (statement.end_lineno or statement.lineno) - 1
    return True


def _statement_ranges(block: list[ast.stmt]) -> list[tuple[int, int]]:
    """Lines each statement of a block stands for: its own and the comments after it,
    up to the next statement (the last one: its own lines only)."""
    firsts = [_first_line(statement) for statement in block]
    ends = [*firsts[1:], block[-1].end_lineno or block[-1].lineno]
    return list(zip(firsts, ends, strict=True))


class _Header:
    """The header part of a split if/try: its lines, minus those split out."""

    def __init__(self, lines: tuple[str, ...], start: int, end: int) -> None:
        self.lines, self.start = lines, start
        self.text = list(lines[start:end])
        self.owned = [True] * (end - start)

    def blank(self, start: int, end: int) -> None:
        for index in range(start - self.start, end - self.start):
            self.text[index], self.owned[index] = "\n", False

    def replace_block(self, ranges: list[tuple[int, int]]) -> None:
        first = ranges[0][0]
        for a, b in ranges:
            self.blank(a, b)
        self.text[first - self.start] = f"{_indent(self.lines[first])}pass\n"

    def piece(self, frame: _Frame) -> Piece:
        own = zip(self.lines[self.start :], self.owned, strict=False)
        plain = "".join(line for line, owned in own if owned)
        return frame.piece(self.start, "".join(self.text), plain)


def _elif_piece(lines: tuple[str, ...], start: int, end: int, frame: _Frame) -> Piece:
    first = lines[start]
    indent = _indent(first)
    patched = indent + "if  " + first[len(indent) + len("elif") :]
    return frame.piece(start, patched + "".join(lines[start + 1 : end]), "".join(lines[start:end]))


def _class_block(header: _ClassHeader, units: list[UnitFacts]) -> tuple[Block, int]:
    """radon's block for the whole class, from its parts' dummy classes; and the class's
    real complexity (its contribution to the module's total)."""
    classes = [u.visitor_class for u in units if u.visitor_class is not None]
    real = 1 + sum(c.real_complexity - 1 for c in classes)
    methods = [m for c in classes for m in c.methods]
    inner = [i for c in classes for i in c.inner_classes]
    whole = Class(
        header.name, header.line, header.byte_column, header.end_line, methods, inner, real
    )
    block = Block(
        "class", header.name, header.line, header.byte_column, header.end_line, whole.complexity
    )
    return block, real


def _first_of_file_level_tests(findings: list[Finding]) -> list[Finding]:
    """bandit's file-level tests report only their first line in a file (the parts of a
    split chunk are checked in visiting order, not line order)."""
    first: dict[str, Finding] = {}
    for finding in findings:
        if finding.code in _FILE_LEVEL_TESTS:
            best = first.get(finding.code)
            if best is None or finding.line < best.line:
                first[finding.code] = finding
    kept = set(map(id, first.values()))
    return [f for f in findings if f.code not in _FILE_LEVEL_TESTS or id(f) in kept]


def _combined_scan(chunks: list[Chunk]) -> ImportScan:
    parts = [(chunk.start, chunk.facts.imports) for chunk in chunks]
    return combine_scans(parts, [kind for chunk in chunks for kind in chunk.facts.kinds])


@runtime_checkable
class ScanCheck(Protocol):
    """A check family that can run from the file's import scan (`deps.imports`) instead of
    its syntax tree, as `DependencyCheck.run_scan` does. The editor's incremental analysis
    hands such a family the imports it scanned chunk by chunk, so it needs no parse of the
    whole file per edit; a family without `run_scan` runs on the whole text."""

    family: Family
    needs_tree: bool

    def enabled(self, settings: Settings) -> bool: ...

    def rules(self) -> Iterable[Rule]: ...

    def run_scan(
        self, source: SourceText, settings: Settings, scan: ImportScan
    ) -> Iterator[Finding]: ...


class _Scanned:
    """A `ScanCheck`, given the imports already scanned (it would parse the whole text to
    find them)."""

    def __init__(self, check: ScanCheck, scan: ImportScan) -> None:
        self.check, self.scan = check, scan
        self.family, self.needs_tree = check.family, check.needs_tree

    def enabled(self, settings: Settings) -> bool:
        return self.check.enabled(settings)

    def rules(self) -> Iterable[Rule]:
        return self.check.rules()

    def run(self, source: SourceText, settings: Settings) -> Iterator[Finding]:
        return self.check.run_scan(source, settings, self.scan)


@runtime_checkable
class UsesCheck(Protocol):
    """A check family that can run from the file's module attribute uses
    (`deps.references`) instead of its syntax tree, as `ApiExistenceCheck.run_uses` does.
    The editor's incremental analysis collects them with `DocumentUses`, which parses only
    the top-level statements whose text is new (in a long class, only the method an edit
    is in) and walks only the definitions whose text is new, not the whole file."""

    family: Family
    needs_tree: bool

    def enabled(self, settings: Settings) -> bool: ...

    def rules(self) -> Iterable[Rule]: ...

    def run_uses(
        self, source: SourceText, settings: Settings, uses: FileUses
    ) -> Iterator[Finding]: ...


class _Used:
    """A `UsesCheck`, run on the uses collected statement by statement."""

    def __init__(self, check: UsesCheck, uses: DocumentUses) -> None:
        self.check, self.uses = check, uses
        self.family, self.needs_tree = check.family, check.needs_tree

    def enabled(self, settings: Settings) -> bool:
        return self.check.enabled(settings)

    def rules(self) -> Iterable[Rule]:
        return self.check.rules()

    def run(self, source: SourceText, settings: Settings) -> Iterator[Finding]:
        return self.check.run_uses(source, settings, self.uses.uses(source))


def _release_trees(facts: ChunkFacts, path: str) -> None:
    """Keep texts and comments, not syntax trees and tokens: a document's chunks stay in
    memory as long as it is open. A part whose import state changes is parsed again."""
    if not facts.released:
        facts.source, facts.released = SourceText(facts.source.text, path=path), True
    for _, unit in facts.units:
        if unit.security and not unit.released:
            comments = unit.source.comments
            unit.source, unit.released = SourceText(unit.source.text, path=path), True
            unit.source.comments = comments


def _untouched(
    chunks: list[Chunk], old_length: int, prefix: int, suffix: int
) -> tuple[list[Chunk], list[Chunk]]:
    """The chunks wholly inside the unchanged leading lines, and those wholly inside the
    unchanged trailing lines (in old line numbers)."""
    before = [c for c in chunks if c.start + len(c.lines) <= prefix]
    after = [c for c in chunks if c.start >= max(old_length - suffix, prefix)]
    return before, after


def _first_line(statement: ast.stmt) -> int:
    """0-based first line of a top-level statement, decorators included."""
    decorators = getattr(statement, "decorator_list", [])
    return min([statement.lineno, *(d.lineno for d in decorators)]) - 1
