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
A long class, function or if/try chunk is cut further into *parts* (a class statement by
statement, a function's body a few statements at a time, an if/try block by block; see
`incremental_split`), each checked on its own text with what makes it parse around it, so
an edit in one method, or in one statement of a long function, re-checks that part only.
When an edit stays inside one such part and keeps the line count, only it is parsed again.
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
from typing import Any, Protocol, runtime_checkable

from radon.visitors import Class, ComplexityVisitor

from clearsight import disk_view
from clearsight.checks.base import Check, Rule
from clearsight.checks.complexity import (
    Block,
    ComplexityCheck,
    ComplexityFacts,
    block_findings,
    combine_facts,
    complexity_facts,
    module_findings,
    module_maintainability,
)
from clearsight.checks.raw_metrics import raw_metrics
from clearsight.checks.registry import CHECKS
from clearsight.checks.security import (
    ImportState,
    SecurityCheck,
    file_level_silenced,
    issue_findings,
    run_bandit_from,
)
from clearsight.dataflow.document import DocumentFlows
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
    run_check,
)
from clearsight.incremental_split import ClassHeader, Piece, Split, first_line, split_chunk
from clearsight.model import Family, Finding
from clearsight.segments import common_ends
from clearsight.settings import Settings
from clearsight.source import SourceText, lines_with_breaks

# The families this module checks statement by statement itself.
_PER_STATEMENT = (ComplexityCheck, SecurityCheck)
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
    # The whole chunk, or the parts of a long class, function or if/try statement, each
    # with the chunk line its text's first line stands for.
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
        # What families that analyse unit by unit (`DocumentCheck`) keep between edits.
        self._documents: dict[Family, object] = {}
        self._lock = threading.Lock()

    def analyze(
        self, text: str, settings: Settings, part_starts: tuple[int, ...] = ()
    ) -> tuple[SourceText, list[Finding]]:
        """`part_starts`: where the parts of a joined text start (`SourceText.part_starts`)."""
        # A superseded run may still be going in another worker thread: one at a time.
        with self._lock, disk_view.one_view():  # each file looked at once by all the families
            return self._analyze(text, settings, part_starts)

    def _analyze(
        self, text: str, settings: Settings, part_starts: tuple[int, ...]
    ) -> tuple[SourceText, list[Finding]]:
        source = SourceText(text, path=self.path, part_starts=part_starts)
        self.parsed = False
        if not self._usable(settings, text):
            # Over the size limit: the engine says so without parsing (CS-E005), and that is
            # the whole result (nothing to carry over from an earlier version).
            self.chunks, self.lines, self._units = [], [], {}
            self.parsed = True
            return source, analyze(source, self.path, settings)
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
        firsts = [first_line(statement) for statement in tree.body]
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
            facts = split_facts(split, source, [self._unit_facts(piece) for piece in split.pieces])
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
        facts = split_facts(Split(pieces, split.class_header), source, units)
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
        findings = _first_of_file_level_tests(findings, comments)
        if settings.complexity.enabled and chunks:
            maintainability = module_maintainability([chunk.facts.complexity for chunk in chunks])
            findings.extend(module_findings(source, maintainability, settings))
        scan: list[ImportScan] = []  # the chunks' imports combined, once for every family
        for check in CHECKS:
            if isinstance(check, _PER_STATEMENT) or not check.enabled(settings):
                continue
            # Families without a per-statement form run on the whole text, as the engine would.
            given = self._per_statement(check, chunks, scan)
            findings.extend(run_check(given, source, settings))
        findings = finalize_findings(source, findings, settings, CHECKS)
        # The text parses (else the engine runs): unused ignores can be judged.
        return apply_user_choices(findings, comments, settings, source)

    def _per_statement(self, check: Check, chunks: list[Chunk], scan: list[ImportScan]) -> Check:
        """The check, given what it needs collected statement by statement if it can take
        it that way (`scan`: the combined imports, once worked out)."""
        if isinstance(check, ScanCheck):
            # A family that only needs the imports gets them, scanned chunk by chunk.
            if not scan:
                scan.append(_combined_scan(chunks))
            return _Scanned(check, scan[0])
        if isinstance(check, UsesCheck):
            # One that needs the module attribute uses gets them statement by statement.
            return _Used(check, self._uses)
        if isinstance(check, DocumentCheck):
            # One that analyses unit by unit keeps its own per-document state.
            # The chunks parsed by this analysis hand their trees over (no second parse).
            statements = [
                (chunk.start, chunk.facts.source.text, chunk.facts.source.tree_if_parsed)
                for chunk in chunks
            ]
            document = self._documents.get(check.family)
            if document is None:
                document = self._documents[check.family] = check.new_document()
            return _Documented(check, document, statements)
        return check

    @property
    def _flows(self) -> DocumentFlows:
        """The dataflow family's units and their results (tests, benchmarks)."""
        document = self._documents.get(Family.SECURITY)
        if not isinstance(document, DocumentFlows):
            raise LookupError("the dataflow family has not run on this document")
        return document

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
            # File-level tests unfiltered: only the whole file's comments can say (below).
            issues, after = run_bandit_from(unit.source, settings, state, file_nosec=False)
            cached = (list(issue_findings(unit.source, issues)), after)
            unit.security[state] = cached
        return cached


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


def split_facts(split: Split, source: SourceText, units: list[UnitFacts]) -> ChunkFacts:
    """The facts of a chunk from those of its parts (`units`, one per piece)."""
    pairs = list(zip(split.pieces, units, strict=True))
    complexity, folded = _function_blocks_folded(pairs)
    if split.class_header is not None:
        class_block, real = _class_block(split.class_header, units, folded)
        blocks = (class_block, *(b for b in complexity.blocks if b.kind != "class"))
        complexity = replace(complexity, blocks=blocks, total_complexity=real)
    comments = {
        line + piece.offset: text
        for piece, unit in pairs
        for line, text in unit.unit.source.comments.items()
    }
    parts = [(piece.offset, unit.unit) for piece, unit in pairs]
    return ChunkFacts(source, complexity, comments, parts, split=split)


def _function_blocks_folded(pairs: list[tuple[Piece, UnitFacts]]) -> tuple[ComplexityFacts, int]:
    """The parts' facts combined, the blocks of a split function's body and decorators
    (their `def name():`) folded into its head's: radon's complexity of a function is 1
    plus its body statements'. Also the complexity folded in all (a class's methods add
    theirs to the class's)."""
    extra: dict[int, int] = {}
    ends: dict[int, int] = {}
    parts = []
    for piece, unit in pairs:
        facts = unit.complexity
        if piece.function_line is not None and piece.role != "head":
            line = piece.function_line
            extra[line] = extra.get(line, 0) + sum(b.complexity - 1 for b in facts.blocks)
            if piece.role == "body":
                ends[line] = _body_end(piece, facts, line)
            facts = replace(facts, blocks=())
        parts.append((piece.offset, facts))
    complexity = combine_facts(parts)
    if not extra:
        return complexity, 0
    blocks = tuple(
        replace(b, complexity=b.complexity + extra[b.line], end_line=ends[b.line])
        if b.kind != "class" and b.line in extra
        else b
        for b in complexity.blocks
    )
    return replace(complexity, blocks=blocks), sum(extra.values())


def _body_end(piece: Piece, facts: ComplexityFacts, line: int) -> int:
    """radon's end line of a function whose body ends with this part: the last line its
    last statement's nodes start on, or the `def` line when none does (a closure)."""
    end = max((b.end_line for b in facts.blocks), default=0) + piece.offset
    return end if end > piece.offset + 1 else line


def _class_block(header: ClassHeader, units: list[UnitFacts], folded: int) -> tuple[Block, int]:
    """radon's block for the whole class, from its parts' dummy classes and the complexity
    folded into its split methods; and the class's real complexity (its contribution to
    the module's total)."""
    classes = [u.visitor_class for u in units if u.visitor_class is not None]
    real = 1 + sum(c.real_complexity - 1 for c in classes) + folded
    methods = [m for c in classes for m in c.methods]
    inner = [i for c in classes for i in c.inner_classes]
    whole = Class(
        header.name, header.line, header.byte_column, header.end_line, methods, inner, real
    )
    block = Block(
        "class", header.name, header.line, header.byte_column, header.end_line, whole.complexity
    )
    return block, real


def _first_of_file_level_tests(findings: list[Finding], comments: dict[int, str]) -> list[Finding]:
    """bandit's file-level tests report only their first line in a file (the parts of a
    split chunk are checked in visiting order, not line order), and that one is silenced
    by a `# nosec` on its line or on the file's first line (`comments`: 1-based)."""
    first: dict[str, Finding] = {}
    for finding in findings:
        if finding.code in _FILE_LEVEL_TESTS:
            best = first.get(finding.code)
            if best is None or finding.line < best.line:
                first[finding.code] = finding
    kept = {id(f) for f in first.values() if not file_level_silenced(f.line, comments)}
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


class _Given:
    """A check family run with something the editor collected statement by statement: it
    stands for the family (name, settings, rules); subclasses say how it runs."""

    def __init__(self, check: ScanCheck | UsesCheck) -> None:
        self.family, self.needs_tree = check.family, check.needs_tree
        self._check = check

    def enabled(self, settings: Settings) -> bool:
        return self._check.enabled(settings)

    def rules(self) -> Iterable[Rule]:
        return self._check.rules()


class _Scanned(_Given):
    """A `ScanCheck`, given the imports already scanned (it would parse the whole text to
    find them)."""

    def __init__(self, check: ScanCheck, scan: ImportScan) -> None:
        super().__init__(check)
        self.check, self.scan = check, scan

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


class _Used(_Given):
    """A `UsesCheck`, run on the uses collected statement by statement."""

    def __init__(self, check: UsesCheck, uses: DocumentUses) -> None:
        super().__init__(check)
        self.check, self.uses = check, uses

    def run(self, source: SourceText, settings: Settings) -> Iterator[Finding]:
        return self.check.run_uses(source, settings, self.uses.uses(source))


@runtime_checkable
class DocumentCheck(Protocol):
    """A check family that analyses a document from its top-level statements' texts and
    keeps what it needs between edits in a per-document object (`new_document`), as the
    dataflow family's `run_document` does with `DocumentFlows`: it never needs the whole
    text parsed. One such family per `Family`."""

    family: Family
    needs_tree: bool

    def enabled(self, settings: Settings) -> bool: ...

    def rules(self) -> Iterable[Rule]: ...

    def new_document(self) -> Any: ...

    def run_document(
        self,
        source: SourceText,
        settings: Settings,
        document: Any,
        chunks: list[tuple[int, str, ast.Module | None]],
    ) -> Iterator[Finding]: ...


class _Documented(_Given):
    """A `DocumentCheck`, run on the chunks with the document's own state."""

    def __init__(
        self,
        check: DocumentCheck,
        document: object,
        chunks: list[tuple[int, str, ast.Module | None]],
    ) -> None:
        super().__init__(check)  # type: ignore[arg-type]
        self.check, self.document, self.chunks = check, document, chunks

    def run(self, source: SourceText, settings: Settings) -> Iterator[Finding]:
        return self.check.run_document(source, settings, self.document, self.chunks)


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
