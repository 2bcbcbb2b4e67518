"""Incremental analysis for the editor: after an edit, only the top-level statements it
touched are parsed, tokenized and checked again; the others' results are reused.

The module is cut into *chunks*: consecutive lines holding one top-level statement (with
its decorators, and the comments and blank lines above it). A chunk's facts are computed
from its text alone, which is exact because:
- radon's cyclomatic complexity and blocks are per statement, its maintainability inputs
  (Halstead operator/operand sets and counts, the module's total complexity, raw line
  counts) combine across statements (`combine_facts`);
- bandit's tests see one statement at a time, except that call names resolve through the
  imports seen above; each chunk is checked starting from that import state, which is part
  of its cache key, and its file-level test (trojan source) keeps bandit's first-only rule.
The result equals `engine.analyze` on the whole text (tests compare them on real code).
Anything unusual (a syntax error, a check that fails, another check family registered)
falls back to the whole-file engine.
"""

from __future__ import annotations

import ast
import itertools
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from radon.visitors import Class, ComplexityVisitor

from clearsight.checks.complexity import (
    Block,
    ComplexityFacts,
    block_findings,
    combine_facts,
    complexity_facts,
    module_findings,
    summed_raw,
)
from clearsight.checks.raw_metrics import RawMetrics, raw_metrics
from clearsight.checks.registry import CHECKS
from clearsight.checks.security import ImportState, issue_findings, run_bandit_from
from clearsight.engine import analyze, apply_user_choices, inline_ignores, run_check
from clearsight.model import Finding
from clearsight.settings import Settings
from clearsight.source import SourceText

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
_SUPPORTED_FAMILIES = {"complexity", "security"}
# bandit's file-level tests report only the first occurrence in a file.
_FILE_LEVEL_TESTS = {"B613"}


def _lines(text: str) -> list[str]:
    return _LINE.findall(text)


@dataclass
class Unit:
    """Text checked by bandit on its own, lines aligned with its chunk's."""

    source: SourceText
    # import state before the unit -> (security findings, import state after it)
    security: dict[ImportState, tuple[list[Finding], ImportState]] = field(default_factory=dict)


@dataclass
class ChunkFacts:
    """What one chunk contributes, in the chunk's own line numbers."""

    source: SourceText  # the chunk's text (for lines; not necessarily parsed)
    complexity: ComplexityFacts
    comments: dict[int, str]
    units: list[Unit]  # the whole chunk, or a large class's header and each of its methods


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
        # Facts of class parts by text, so an edit in one method re-checks only that method.
        self._units: dict[str, UnitFacts] = {}
        self.parsed = False  # whether the last text analysed parses
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
        try:
            chunks = self._rechunk(_lines(text))
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
        self.chunks, self.lines = chunks, _lines(text)
        self.parsed = True
        self._forget_unused_units(chunks)
        return source, findings

    def _forget_unused_units(self, chunks: list[Chunk]) -> None:
        live = {id(unit) for chunk in chunks for unit in chunk.facts.units}
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
        before, after = _untouched(self.chunks, len(old), *_common_ends(old, new))
        dirty_start = before[-1].start + len(before[-1].lines) if before else 0
        dirty_end = (after[0].start + delta) if after else len(new)
        if dirty_end < dirty_start:
            return self._parse_chunks(new, 0, len(new))
        middle = self._parse_chunks(new, dirty_start, dirty_end)
        self.reused = len(before) + len(after)
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
        split = split_class(source, lines, self._unit_source)
        if split is not None:
            return split
        return ChunkFacts(source, complexity_facts(source), dict(source.comments), [Unit(source)])

    def _unit_source(self, text: str, plain: str) -> UnitFacts:
        """A method's or class header's text, analysed once per distinct text."""
        key = text + "\0" + plain
        cached = self._units.get(key)
        if cached is None:
            cached = UnitFacts.of(SourceText(text, path=self.path), plain)
            self._units[key] = cached
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
        parts = [(chunk.start, chunk.facts.complexity) for chunk in chunks]
        if settings.complexity.enabled and parts:
            combined = combine_facts(parts)
            findings.extend(module_findings(source, combined.maintainability, settings))
        # Families without a per-statement form run on the whole text, as the engine would.
        for check in CHECKS:
            if check.family.value not in _SUPPORTED_FAMILIES and check.enabled(settings):
                findings.extend(run_check(check, source, settings))
        return apply_user_choices(findings, inline_ignores(comments), settings)

    def _chunk_findings(
        self, chunk: Chunk, settings: Settings, state: ImportState
    ) -> tuple[list[Finding], ImportState]:
        facts = chunk.facts
        found: list[Finding] = []
        if settings.complexity.enabled:
            found.extend(block_findings(facts.source, facts.complexity.blocks, settings))
        if settings.security.enabled:
            for unit in facts.units:
                security, state = self._security(unit, settings, state)
                found.extend(security)
        return [finding.shifted(chunk.start) for finding in found], state

    def _security(
        self, unit: Unit, settings: Settings, state: ImportState
    ) -> tuple[list[Finding], ImportState]:
        cached = unit.security.get(state)
        if cached is None:
            issues, after = run_bandit_from(unit.source, settings, state)
            cached = (list(issue_findings(unit.source, issues)), after)
            unit.security[state] = cached
        return cached


# Classes shorter than this are checked whole; longer ones method by method.
SPLIT_CLASS_LINES = 80


@dataclass
class UnitFacts:
    """One part of a split class: its aligned text's facts, and the raw line counts of
    the lines it really stands for."""

    unit: Unit
    visitor_class: Class  # radon's view of the (dummy or real) class in the aligned text
    complexity: ComplexityFacts
    raw: RawMetrics

    @classmethod
    def of(cls, source: SourceText, plain: str) -> UnitFacts:
        if source.tree is None:
            raise SyntaxError("a class part does not parse on its own")
        visitor = ComplexityVisitor.from_ast(source.tree)
        return cls(
            Unit(source),
            visitor.classes[0],
            complexity_facts(source),
            raw_metrics(SourceText(plain)),
        )


def split_class(
    source: SourceText, lines: tuple[str, ...], unit_source: Callable[[str, str], UnitFacts]
) -> ChunkFacts | None:
    """A long top-level class as parts checked on their own text: the class line with its
    bases, each statement of its body, then its decorators — the order bandit visits them
    in, so the imports a method makes reach what follows it. Each part's text keeps its
    lines in place (the rest blanked, `class Name:` on the class line, `pass` where a body
    is needed). None for short classes, and where a body statement shares a line with the
    class header."""
    node = _long_class(source, lines)
    if node is None or node.end_lineno is None:
        return None
    firsts = [_first_line(statement) for statement in node.body]
    if firsts[0] < _header_end(node):
        return None
    ends = [*firsts[1:], node.end_lineno]
    frame = _ClassFrame(node, lines, firsts[0])
    parts = [frame.shell(), *(frame.statement(a, b) for a, b in zip(firsts, ends, strict=True))]
    if node.decorator_list:
        parts.append(frame.decorators())
    return _class_facts(source, node, [unit_source(text, plain) for text, plain in parts])


def _long_class(source: SourceText, lines: tuple[str, ...]) -> ast.ClassDef | None:
    tree = source.tree
    if tree is None or len(tree.body) != 1 or len(lines) < SPLIT_CLASS_LINES:
        return None
    node = tree.body[0]
    return node if isinstance(node, ast.ClassDef) else None


def _header_end(node: ast.ClassDef) -> int:
    """The last line (1-based) of `class Name(bases, keywords):`."""
    return max([node.lineno, *((n.end_lineno or 0) for n in (*node.bases, *node.keywords))])


class _ClassFrame:
    """Builds the aligned texts (and the plain lines each stands for) of a class's parts."""

    def __init__(self, node: ast.ClassDef, lines: tuple[str, ...], body_start: int) -> None:
        self.node, self.lines, self.body_start = node, lines, body_start
        self.class_line = node.lineno - 1
        self.decorator_lines = set(range(_first_line(node), self.class_line))
        first = lines[body_start]
        self.indent = first[: len(first) - len(first.lstrip())]
        self.body_end = node.end_lineno or node.lineno

    def _dummy_until(self, line: int) -> list[str]:
        text = ["\n"] * line
        text[self.class_line] = f"class {self.node.name}:\n"
        return text

    def shell(self) -> tuple[str, str]:
        """The class line(s) with bases and keywords; comments around; no decorators."""
        text = [
            "\n" if index in self.decorator_lines else line
            for index, line in enumerate(self.lines[: self.body_start])
        ]
        text.append(f"{self.indent}pass\n")
        plain = self.lines[: self.body_start] + self.lines[self.body_end :]
        return "".join(text), "".join(plain)

    def statement(self, first: int, end: int) -> tuple[str, str]:
        plain = "".join(self.lines[first:end])
        return "".join(self._dummy_until(first)) + plain, plain

    def decorators(self) -> tuple[str, str]:
        text = [
            line if index in self.decorator_lines else "\n"
            for index, line in enumerate(self.lines[: self.body_start])
        ]
        text[self.class_line] = f"class {self.node.name}:\n"
        text.append(f"{self.indent}pass\n")
        return "".join(text), ""


def _class_block(node: ast.ClassDef, units: list[UnitFacts]) -> tuple[Block, int]:
    """radon's block for the whole class, from its parts' dummy classes; and the class's
    real complexity (its contribution to the module's total)."""
    real = 1 + sum(u.visitor_class.real_complexity - 1 for u in units)
    methods = [m for u in units for m in u.visitor_class.methods]
    inner = [c for u in units for c in u.visitor_class.inner_classes]
    end = node.end_lineno or node.lineno
    whole = Class(node.name, node.lineno, node.col_offset, end, methods, inner, real)
    block = Block("class", node.name, node.lineno, node.col_offset, end, whole.complexity)
    return block, real


def _class_facts(source: SourceText, node: ast.ClassDef, units: list[UnitFacts]) -> ChunkFacts:
    class_block, real = _class_block(node, units)
    parts = [(0, u.complexity) for u in units]
    combined = combine_facts(parts)
    blocks = (class_block, *(b for b in combined.blocks if b.kind != "class"))
    facts = ComplexityFacts(
        blocks=blocks,
        operators_seen=combined.operators_seen,
        operands_seen=combined.operands_seen,
        operators=combined.operators,
        operands=combined.operands,
        total_complexity=real,
        raw=summed_raw([u.raw for u in units]),
    )
    comments: dict[int, str] = {}
    for unit in units:
        comments.update(unit.unit.source.comments)
    return ChunkFacts(source, facts, comments, [u.unit for u in units])


def _first_of_file_level_tests(findings: list[Finding]) -> list[Finding]:
    """bandit's file-level tests report only their first occurrence in a file."""
    seen: set[str] = set()
    kept = []
    for finding in findings:
        if finding.code in _FILE_LEVEL_TESTS:
            if finding.code in seen:
                continue
            seen.add(finding.code)
        kept.append(finding)
    return kept


def _untouched(
    chunks: list[Chunk], old_length: int, prefix: int, suffix: int
) -> tuple[list[Chunk], list[Chunk]]:
    """The chunks wholly inside the unchanged leading lines, and those wholly inside the
    unchanged trailing lines (in old line numbers)."""
    before = [c for c in chunks if c.start + len(c.lines) <= prefix]
    after = [c for c in chunks if c.start >= max(old_length - suffix, prefix)]
    return before, after


def _common_ends(old: list[str], new: list[str]) -> tuple[int, int]:
    """How many leading and trailing lines the two versions share (not overlapping)."""
    limit = min(len(old), len(new))
    prefix = 0
    while prefix < limit and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and old[-1 - suffix] == new[-1 - suffix]:
        suffix += 1
    return prefix, suffix


def _first_line(statement: ast.stmt) -> int:
    """0-based first line of a top-level statement, decorators included."""
    decorators = getattr(statement, "decorator_list", [])
    return min([statement.lineno, *(d.lineno for d in decorators)]) - 1
