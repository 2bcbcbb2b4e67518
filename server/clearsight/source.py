"""One parse and one token pass of a source text, shared by every check.

This is also the only place that converts between column units: ast and bandit speak
UTF-8 byte offsets, Clearsight's findings speak code points, LSP clients speak UTF-16.
"""

from __future__ import annotations

import ast
import io
import os
import re
import stat
import tokenize
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

# Line breaks as Python's tokenizer and ast see them (str.splitlines also splits on \f,
# \x1c and friends, which would shift every line number after them).
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_LINE_WITH_BREAK = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
# What str.splitlines also breaks at: form feed, vertical tab, separators, NEL, U+2028/9.
_OTHER_BREAKS = "\v\f\x1c\x1d\x1e\x85\u2028\u2029"
# Lines near the top (where file-level findings are) are found without splitting the text.
_FOUND_WITHOUT_SPLITTING = 64


@dataclass(frozen=True)
class ParseProblem:
    """Why the text has no syntax tree: a syntax error, NUL bytes or too-deep nesting."""

    message: str
    line: int  # 0-based
    column: int  # 0-based code points
    end_line: int
    end_column: int


@dataclass(frozen=True)
class DecodeProblem:
    """Bytes that are not valid in the file's declared encoding (decoded with U+FFFD)."""

    encoding: str
    line: int  # 0-based
    column: int
    reason: str


def split_lines(text: str) -> list[str]:
    """Lines without their terminators, numbered exactly as ast/tokenize number them."""
    if _has_other_breaks(text):
        return _LINE_BREAK.split(text)
    # str.splitlines runs in C (the editor splits the whole buffer on every edit); with only
    # \r, \n and \r\n in the text it differs from the split above by the last, empty line.
    lines = text.splitlines()
    if not text or text[-1] in "\r\n":
        lines.append("")
    return lines


def lines_with_breaks(text: str) -> list[str]:
    """The lines of `text` with their terminators (\r\n, \r or \n only, as Python's)."""
    if _has_other_breaks(text):
        return _LINE_WITH_BREAK.findall(text)
    return text.splitlines(keepends=True)


def _has_other_breaks(text: str) -> bool:
    """Whether `text` holds a character str.splitlines breaks at and Python does not."""
    return any(character in text for character in _OTHER_BREAKS)


def _refused_coding_line(raw: bytes, error: SyntaxError) -> tuple[str, str, DecodeProblem]:
    first_two = raw.split(b"\n", 2)[:2]
    line = next((i for i, text in enumerate(first_two) if b"coding" in text), 0)
    problem = DecodeProblem("utf-8", line, 0, f"the coding line is invalid: {error}")
    return raw.decode("utf-8", "replace"), "utf-8", problem


def decode_source(raw: bytes) -> tuple[str, str, DecodeProblem | None]:
    """Decode file bytes the way Python would (BOM, PEP 263 cookie), never raising.

    Returns (text, encoding, problem); undecodable bytes become U+FFFD and are reported.
    """
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    except SyntaxError as error:
        if "invalid or missing encoding declaration" in str(error):
            encoding = "utf-8"  # plain undecodable bytes: located precisely below
        else:
            # An unknown codec in the coding line, or a BOM that contradicts it: Python
            # refuses the file. Say so, and read it as UTF-8 to report what else we can.
            return _refused_coding_line(raw, error)
    try:
        return raw.decode(encoding), encoding, None
    except (UnicodeDecodeError, LookupError) as error:
        start = getattr(error, "start", 0)
        prefix = raw[:start]
        line = prefix.count(b"\n")
        column = len(prefix[prefix.rfind(b"\n") + 1 :].decode(encoding, errors="replace"))
        text = raw.decode(encoding if not isinstance(error, LookupError) else "utf-8", "replace")
        reason = getattr(error, "reason", str(error))
        return text, encoding, DecodeProblem(encoding, line, column, reason)


@dataclass
class SourceText:
    """A source text with lazily computed, shared views of it (lines, tokens, ast)."""

    text: str
    path: str = "<buffer>"
    raw: bytes | None = None  # the original bytes, when the text came from a file
    encoding: str = "utf-8"
    decode_problem: DecodeProblem | None = None
    # 0-based first lines of the parts the text was joined from (a notebook's code cells):
    # what is reported per part (a run of AI-written statements) does not span them.
    part_starts: tuple[int, ...] = ()
    _tree: ast.Module | None = field(default=None, init=False, repr=False)
    _parse_problem: ParseProblem | None = field(default=None, init=False, repr=False)
    _parsed: bool = field(default=False, init=False, repr=False)

    @classmethod
    def from_bytes(cls, raw: bytes, path: str) -> SourceText:
        text, encoding, problem = decode_source(raw)
        if text.startswith("\ufeff"):
            text = text[1:]
        return cls(text=text, path=path, raw=raw, encoding=encoding, decode_problem=problem)

    @cached_property
    def lines(self) -> list[str]:
        return split_lines(self.text)

    @cached_property
    def utf8(self) -> bytes:
        """The bytes bandit's file-level checks read (the original bytes when we have them)."""
        return self.raw if self.raw is not None else self.text.encode("utf-8", "surrogatepass")

    def drop_views(self) -> None:
        """Forget the lines, bytes, tokens and comments worked out so far; they are worked
        out again if asked for. A document kept open but not being edited holds less."""
        for name in ("lines", "utf8", "tokens", "comments"):
            self.__dict__.pop(name, None)

    # -- parsing -------------------------------------------------------------------------

    def _parse(self) -> None:
        if self._parsed:
            return
        self._parsed = True
        try:
            self._tree = ast.parse(self.text, filename=self.path)
        except SyntaxError as error:
            self._parse_problem = self._problem_from_syntax_error(error)
        except ValueError as error:  # Python 3.11: "source code string cannot contain null bytes"
            nul = self.text.find("\0")
            line, column = self.offset_to_position(max(nul, 0))
            self._parse_problem = ParseProblem(
                f"{error} (a NUL byte at line {line + 1})", line, column, line, column + 1
            )
        except (RecursionError, MemoryError):
            self._parse_problem = ParseProblem(
                "code is nested too deeply for Python's parser", 0, 0, 0, 0
            )

    def _problem_from_syntax_error(self, error: SyntaxError) -> ParseProblem:
        if "\0" in self.text and "null" in error.msg:
            line, column = self.offset_to_position(self.text.index("\0"))
            message = f"source contains a NUL byte (line {line + 1}, column {column + 1})"
            return ParseProblem(message, line, column, line, column + 1)
        last = len(self.lines) - 1
        line = min(max((error.lineno or 1) - 1, 0), last)
        end_line = min(max((error.end_lineno or error.lineno or 1) - 1, line), last)
        # SyntaxError offsets are 1-based code points in the line (Python >= 3.10).
        column = min(max((error.offset or 1) - 1, 0), len(self.lines[line]))
        end_column = max((error.end_offset or 0) - 1, 0)
        if end_line == line:
            # At least one character wide, and never past the end of a non-empty line.
            end_column = min(max(end_column, column + 1), max(len(self.lines[line]), column + 1))
        return ParseProblem(error.msg, line, column, end_line, end_column)

    def adopt_tree(self, tree: ast.Module) -> None:
        """Use a tree already parsed from exactly this text (saves parsing it again)."""
        self._tree, self._parse_problem, self._parsed = tree, None, True

    @property
    def tree(self) -> ast.Module | None:
        self._parse()
        return self._tree

    @property
    def tree_if_parsed(self) -> ast.Module | None:
        """The tree when the text has been parsed already; None otherwise (never parses)."""
        return self._tree if self._parsed else None

    @property
    def parse_problem(self) -> ParseProblem | None:
        self._parse()
        return self._parse_problem

    # -- tokens ----------------------------------------------------------------------------

    @cached_property
    def tokens(self) -> list[tokenize.TokenInfo]:
        """Every token of the text, from one pass. Stops quietly at a tokenizer error."""
        result: list[tokenize.TokenInfo] = []
        try:
            for token in tokenize.generate_tokens(io.StringIO(self.text).readline):
                result.append(token)
        except (tokenize.TokenError, SyntaxError, IndentationError):
            pass
        return result

    @cached_property
    def comments(self) -> dict[int, str]:
        """1-based line number -> the comment on that line (as bandit's nosec pass sees them)."""
        found: dict[int, str] = {}
        for token in self.tokens:
            if token.type == tokenize.COMMENT:
                found[token.start[0]] = token.string
        return found

    # -- column units ----------------------------------------------------------------------

    def line_text(self, line: int) -> str:
        if "lines" not in self.__dict__ and 0 <= line < _FOUND_WITHOUT_SPLITTING:
            return self._nth_line(line)  # a finding at the top of a huge text
        return self.lines[line] if 0 <= line < len(self.lines) else ""

    def _nth_line(self, line: int) -> str:
        """`lines[line]` without splitting the whole text (the same line breaks)."""
        text, start = self.text, 0
        breaks = _LINE_BREAK.finditer(text)
        for _ in range(line):
            found = next(breaks, None)
            if found is None:
                return ""
            start = found.end()
        found = next(breaks, None)
        return text[start : found.start() if found is not None else len(text)]

    def byte_to_char_column(self, line: int, byte_column: int) -> int:
        """UTF-8 byte offset in a 0-based line -> code-point offset."""
        text = self.line_text(line)
        if text.isascii():
            return min(byte_column, len(text))
        encoded = text.encode("utf-8", "surrogatepass")
        return len(encoded[:byte_column].decode("utf-8", "ignore"))

    def char_to_utf16_column(self, line: int, column: int) -> int:
        text = self.line_text(line)
        prefix = text[:column]
        if prefix.isascii():
            return column
        return sum(2 if ord(ch) > 0xFFFF else 1 for ch in prefix)

    def utf16_to_char_column(self, line: int, utf16_column: int) -> int:
        text = self.line_text(line)
        units = 0
        for index, ch in enumerate(text):
            if units >= utf16_column:
                return index
            units += 2 if ord(ch) > 0xFFFF else 1
        return len(text)

    def offset_to_position(self, offset: int) -> tuple[int, int]:
        """Code-point offset into the whole text -> (0-based line, code-point column)."""
        prefix = self.text[:offset]
        breaks = list(_LINE_BREAK.finditer(prefix))
        if not breaks:
            return 0, len(prefix)
        return len(breaks), len(prefix) - breaks[-1].end()


_SPECIAL_FILES = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def _not_regular(mode: int) -> str | None:
    """Why a file of this mode is not read (None for a regular file): a FIFO or a device
    named on the command line could block the run or never end (`/dev/zero`)."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a directory"
    kind = next((name for test, name in _SPECIAL_FILES if test(mode)), "of an unknown kind")
    return f"it is {kind}, not a regular file"


def regular_file_size(path: Path) -> int | None:
    """The size of a regular file in bytes, without reading it (None: not a regular file, or
    it cannot be looked at; `read_file` says why)."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_size if stat.S_ISREG(status.st_mode) else None


def read_file(path: Path) -> bytes | str:
    """The file's bytes, or why they could not be read."""
    try:
        reason = _not_regular(os.stat(path).st_mode)
        if reason is not None:
            return reason
        # Without blocking, in case it became a FIFO since; then it is checked again.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as error:
        return error.strerror or str(error)
    with open(descriptor, "rb", closefd=True) as handle:
        reason = _not_regular(os.fstat(descriptor).st_mode)
        if reason is not None:
            return reason
        try:
            return handle.read()
        except OSError as error:
            return error.strerror or str(error)
