"""How the editor's incremental analysis cuts a long top-level statement into parts, each
checked on its own text (see `incremental`).

A long class is cut statement by statement; a long if/try block by block; a long function
(or method) into its `def` line with its signature, its body's statements (short ones in
small groups, a long if/try block by block) and its decorators. Each part's own lines keep
their columns; a first line (`class Name:`, `if 1:` or `def name():`) is added where they
need one to parse. Why each cut is exact is said where it is made; where it would not be,
the statement stays whole.
"""

from __future__ import annotations

import ast
import zlib
from dataclasses import dataclass, replace

from clearsight.source import SourceText

# Classes, functions and if/try statements shorter than this are checked whole; longer ones
# part by part (a class statement by statement, an if/try block by block, a function's body
# a few statements at a time).
SPLIT_LINES = 80
# A group of a long function's short statements ends after a statement whose first line's
# hash is a multiple of this (so a line added or removed moves no other group's bounds), or
# once it is `GROUP_LINES` long.
GROUP_SPREAD = 4
GROUP_LINES = 24
# In a function's body, compound statements this long are cut block by block too.
BODY_COMPOUND_LINES = 2 * GROUP_LINES
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_WITHS = (ast.With, ast.AsyncWith)
# bandit's B703 (django_mark_safe) judges a call by assignments anywhere in the function
# around it: a function naming what it looks for is checked whole.
_WHOLE_FUNCTION_WORDS = ("mark_safe", "SafeText", "SafeUnicode", "SafeString", "SafeBytes")
# `try`/`except*` (ast.TryStar) exists from Python 3.11.
_TRY_NODES: tuple[type[ast.stmt], ...] = (
    ast.Try,
    *([ast.TryStar] if hasattr(ast, "TryStar") else []),
)
PARSE_ERRORS = (SyntaxError, ValueError, RecursionError, MemoryError)


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
    # Chunk lines [start, end) of one statement of a block (or a few of a function's body),
    # which can be re-parsed alone.
    leaf: tuple[int, int] | None = None
    # For the parts of a split function: the 1-based chunk line of its `def`, and whether
    # this is its "head" (its radon block), part of its "body" or its "decorators" (their
    # complexity is the function's).
    function_line: int | None = None
    role: str = ""

    def reframed(self, lines: tuple[str, ...]) -> Piece:
        """This leaf, with its lines taken from `lines` (as many as before)."""
        start, end = self.leaf or (0, 0)
        plain = "".join(lines[start:end])
        return replace(self, text=self.opener + plain, plain=plain)

    def stands_alone(self, old: Piece) -> ast.Module | None:
        """The tree of this (edited) leaf if it still is one statement of the same block
        as `old` (in a function's body: statements of that body): the opener holding
        exactly one statement (or any, in a function), starting on the leaf's first line
        with the same indentation. Otherwise the edit changed what is around it."""
        if not self._same_split(old):
            return None
        try:
            tree = ast.parse(self.text)
        except PARSE_ERRORS:
            return None
        frame = _holding_opener(tree)
        if frame is None:
            return None
        same_indent = _indent(self.plain) == _indent(old.plain)
        return tree if same_indent and first_line(frame.body[0]) == 1 else None

    def _same_split(self, old: Piece) -> bool:
        """Whether the function this leaf is in would still be split (`_splittable`)
        the same way: words that can decide it did not appear."""
        if self.role != "body":
            return True
        words = ("nosec", *_WHOLE_FUNCTION_WORDS)
        return not any(word in self.plain and word not in old.plain for word in words)


def _holding_opener(
    tree: ast.Module,
) -> ast.ClassDef | ast.If | ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The opener's statement, when the text is it and the statements under it are one
    (in a class or an if/try block) or any number (in a function's body)."""
    frame = tree.body[0] if len(tree.body) == 1 else None
    if isinstance(frame, _FUNCTIONS):
        return frame
    if isinstance(frame, ast.ClassDef) or (isinstance(frame, ast.If) and not frame.orelse):
        return frame if len(frame.body) == 1 else None
    return None


@dataclass(frozen=True)
class ClassHeader:
    name: str
    line: int  # 1-based, in the chunk
    byte_column: int
    end_line: int


@dataclass
class Split:
    """How a long chunk was cut into parts, in bandit's visiting order."""

    pieces: list[Piece]
    class_header: ClassHeader | None  # for a class: its block is built from its parts'

    def leaf_holding(self, first: int, end: int) -> int | None:
        """The index of the leaf whose lines include chunk lines [first, end)."""
        for index, piece in enumerate(self.pieces):
            if piece.leaf is not None and piece.leaf[0] <= first < end <= piece.leaf[1]:
                return index
        return None


@dataclass(frozen=True)
class _Frame:
    """What opens the block a part's statements sit in: nothing at module level,
    `class Name:` for a class's parts, `if 1:` for the blocks of a module-level if/try
    (radon counts that `if`; `wrappers` says how many to take off)."""

    opener: str = ""
    wrappers: int = 0
    function: bool = False  # `def name():`, for the statements of a function's body

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
    pieces = _long_statement_pieces(node, 0, len(lines), lines, _Frame())
    return Split(pieces, None) if pieces is not None else None


def split_class(node: ast.ClassDef, lines: tuple[str, ...]) -> Split | None:
    """A long class: the class line with its bases, each statement of its body (long
    if/try statements block by block), then its decorators, the order bandit visits them
    in, so the imports a method makes reach what follows it. None where a body statement
    shares a line with the class header."""
    if node.end_lineno is None:
        return None
    firsts = [first_line(statement) for statement in node.body]
    if firsts[0] < _header_end(node):
        return None
    ends = [*firsts[1:], node.end_lineno]
    frame = _Frame(f"class {node.name}:\n")
    pieces = [_class_shell(node, lines, firsts[0])]
    for statement, first, end in zip(node.body, firsts, ends, strict=True):
        pieces.extend(_pieces(statement, first, end, lines, frame))
    if node.decorator_list:
        pieces.append(_class_decorators(node, lines, firsts[0]))
    header = ClassHeader(node.name, node.lineno, node.col_offset, node.end_lineno)
    return Split(pieces, header)


def _header_end(node: ast.ClassDef) -> int:
    """The last line (1-based) of `class Name(bases, keywords):`."""
    return max([node.lineno, *((n.end_lineno or 0) for n in (*node.bases, *node.keywords))])


def _class_shell(node: ast.ClassDef, lines: tuple[str, ...], body_start: int) -> Piece:
    """The class line(s) with bases and keywords; comments around (those after the class
    in their place, for their `# nosec`s and trojan-source characters); no decorators."""
    decorators = range(first_line(node), node.lineno - 1)
    text = ["\n" if index in decorators else line for index, line in enumerate(lines[:body_start])]
    text.append(f"{_indent(lines[body_start])}pass\n")
    end = node.end_lineno or node.lineno
    after = lines[end:]
    if any(line.strip() for line in after):
        text.extend(["\n"] * (end - body_start - 1) + list(after))
    plain = lines[:body_start] + after
    return Piece("".join(text), "".join(plain), 0)


def _class_decorators(node: ast.ClassDef, lines: tuple[str, ...], body_start: int) -> Piece:
    """The decorators, on a class with nothing else (their lines count in the shell)."""
    decorators = range(first_line(node), node.lineno - 1)
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
        pieces = _long_statement_pieces(node, start, end, lines, frame)
        if pieces is not None:
            return pieces
    text = "".join(lines[start:end])
    return [frame.piece(start, text, text, leaf=(start, end))]


def _long_statement_pieces(
    node: ast.stmt, start: int, end: int, lines: tuple[str, ...], frame: _Frame
) -> list[Piece] | None:
    """The parts of a long function or if/try statement; None for others. A function in a
    function's body (a closure: radon counts it apart from any block) stays whole."""
    if isinstance(node, _FUNCTIONS):
        return None if frame.function else function_pieces(node, start, end, lines, frame)
    return _compound_pieces(node, start, end, lines, frame)


def _compound_pieces(
    node: ast.stmt, start: int, end: int, lines: tuple[str, ...], frame: _Frame
) -> list[Piece] | None:
    """An if/try, loop or with statement (lines[start:end]) as its header and its blocks'
    statements.

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
    if isinstance(node, _TRY_NODES):
        return [*pieces, header.piece(frame)]  # the handlers come after the body
    return [header.piece(frame), *pieces]


def _blocks_to_split(
    node: ast.stmt, lines: tuple[str, ...]
) -> tuple[list[list[ast.stmt]], ast.If | None] | None:
    """The blocks of an if/try checked statement by statement, and an elif chain. A loop
    or with statement: its body (not a loop with `else:`, which bandit visits after it)."""
    chain = None
    if isinstance(node, ast.If):
        chain = _elif(node, lines)
        blocks = [node.body] if chain is not None or not node.orelse else [node.body, node.orelse]
    elif isinstance(node, (*_TRY_NODES, *_WITHS)) or (isinstance(node, _LOOPS) and not node.orelse):
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
        first = first_line(statement)
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
    firsts = [first_line(statement) for statement in block]
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


def first_line(statement: ast.stmt) -> int:
    """0-based first line of a top-level statement, decorators included."""
    decorators = getattr(statement, "decorator_list", [])
    return min([statement.lineno, *(d.lineno for d in decorators)]) - 1


def function_pieces(
    node: ast.FunctionDef | ast.AsyncFunctionDef,
    start: int,
    end: int,
    lines: tuple[str, ...],
    frame: _Frame,
) -> list[Piece] | None:
    """A long function (lines[start:end]) as its head, its body and its decorators, the
    order bandit visits them in. None where that would not be exact (`_splittable`).

    The head is the `def` with its signature and `pass`, in the function's own frame: it
    gives radon's block (name, line, kind) and runs bandit's FunctionDef tests. The body's
    statements are checked under `def name():` (`async def` for a coroutine): radon's
    complexity of a function is 1 plus that of each body statement, closures apart, and
    Halstead's operands are keyed by the function's name, so the same name and nesting
    give the same numbers; the parts' blocks are folded into the head's (`role`)."""
    body_start = first_line(node.body[0])
    if not _splittable(node, body_start, end, lines):
        return None
    ranges = _statement_ranges(node.body)
    ranges[-1] = (ranges[-1][0], end)  # the comments after the function go with its end
    opener = f"{'async ' if isinstance(node, ast.AsyncFunctionDef) else ''}def {node.name}():\n"
    body = _body_pieces(node.body, ranges, lines, _Frame(opener, 0, function=True))
    pieces = [_function_head(node, start, body_start, lines, frame)]
    pieces.extend(replace(piece, role="body") for piece in body)
    if node.decorator_list:
        pieces.append(_function_decorators(node, start, body_start, lines, frame))
    return [replace(piece, function_line=node.lineno) for piece in pieces]


def _splittable(
    node: ast.FunctionDef | ast.AsyncFunctionDef, body_start: int, end: int, lines: tuple[str, ...]
) -> bool:
    """Whether checking the function part by part gives what checking it whole does.

    Not when a body statement shares a line; when the return annotation calls something
    (bandit visits it after the body, whose imports could change what the call is); when
    B703 could look at the whole function (`_WHOLE_FUNCTION_WORDS`); and when the
    signature has defaults B107 or B503 could report and the body a `# nosec`: bandit
    looks for one on every line of the function for those tests, the head has only its
    own lines."""
    if not _on_own_lines(node.body, lines):
        return False
    if node.returns is not None and any(isinstance(n, ast.Call) for n in ast.walk(node.returns)):
        return False
    text = "".join(lines[body_start:end])
    if any(word in text for word in _WHOLE_FUNCTION_WORDS):
        return False
    defaults = [*node.args.defaults, *node.args.kw_defaults]
    return not ("nosec" in text and any(_may_be_judged(d) for d in defaults))


def _may_be_judged(default: ast.expr | None) -> bool:
    """Whether B107 or B503 could report this default: a string, or a name (a constant
    like None, True or -1 they pass over)."""
    if isinstance(default, ast.UnaryOp):
        default = default.operand
    constant = isinstance(default, ast.Constant) and not isinstance(default.value, str)
    return default is not None and not constant


def _body_pieces(
    body: list[ast.stmt], ranges: list[tuple[int, int]], lines: tuple[str, ...], frame: _Frame
) -> list[Piece]:
    """A function body's statements: short ones in groups (`GROUP_SPREAD`), each group a
    leaf; a long if/try block by block."""
    pieces: list[Piece] = []
    group: int | None = None  # where the open group starts
    for statement, (first, last) in zip(body, ranges, strict=True):
        compound = None
        if last - first >= BODY_COMPOUND_LINES:
            compound = _compound_pieces(statement, first, last, lines, frame)
        if compound is not None:
            if group is not None:
                pieces.append(_leaf(frame, group, first, lines))
            pieces.extend(compound)
            group = None
            continue
        group = first if group is None else group
        if _ends_group(lines[first], last - group):
            pieces.append(_leaf(frame, group, last, lines))
            group = None
    if group is not None:
        pieces.append(_leaf(frame, group, ranges[-1][1], lines))
    return pieces


def _ends_group(first: str, length: int) -> bool:
    spread = zlib.crc32(first.encode("utf-8", "surrogatepass")) % GROUP_SPREAD == 0
    return spread or length >= GROUP_LINES


def _leaf(frame: _Frame, start: int, end: int, lines: tuple[str, ...]) -> Piece:
    text = "".join(lines[start:end])
    return frame.piece(start, text, text, leaf=(start, end))


def _head_lines(
    node: ast.FunctionDef | ast.AsyncFunctionDef,
    start: int,
    own: tuple[str, ...],
    decorators: bool,
) -> list[str]:
    """The lines before a function's body with either its decorators or the rest blanked
    (each part keeps every line, so line numbers stay those of the file)."""
    lines_of_decorators = range(first_line(node), node.lineno - 1)
    return [
        line if (start + index in lines_of_decorators) == decorators else "\n"
        for index, line in enumerate(own)
    ]


def _function_head(
    node: ast.FunctionDef | ast.AsyncFunctionDef,
    start: int,
    body_start: int,
    lines: tuple[str, ...],
    frame: _Frame,
) -> Piece:
    """The lines before the body (decorators blanked: they are checked after the body)
    and `pass`; its raw line counts are those of all these lines."""
    own = lines[start:body_start]
    text = _head_lines(node, start, own, decorators=False)
    text.append(f"{_indent(lines[body_start])}pass\n")
    head = frame.piece(start, "".join(text), "".join(own))
    return replace(head, role="head")


def _function_decorators(
    node: ast.FunctionDef | ast.AsyncFunctionDef,
    start: int,
    body_start: int,
    lines: tuple[str, ...],
    frame: _Frame,
) -> Piece:
    """The decorators, on a function with nothing else, at module level or under `if 1:`
    (in a class it would count as one more method); their lines count in the head."""
    text = _head_lines(node, start, lines[start:body_start], decorators=True)
    text[node.lineno - 1 - start] = f"{_indent(lines[node.lineno - 1])}def {node.name}():\n"
    text.append(f"{_indent(lines[body_start])}pass\n")
    outer = _Frame("if 1:\n", 1) if frame.opener else _Frame()
    piece = outer.piece(start, "".join(text), "")
    return replace(piece, role="decorators")
