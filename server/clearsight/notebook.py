"""Jupyter notebooks (`.ipynb`, nbformat 4) as one Python text, and back.

The code cells are joined in order into one text, so an import in one cell is known in the
next, as the kernel would have it; every check then runs on that text once. `CellMap` says
which cell and line of it each line of the text is, for showing findings where they are in
the notebook (`analysis.ipynb:cell 3:2:1`, cells counted from 1 over every cell, as ruff
does).

IPython's own syntax is masked, never reported as a syntax error, at the start of a logical
line only (what IPython's input transformers recognise), the line count kept:
- line magics and shell escapes (`%matplotlib inline`, `!pip install x`, `%time f()`,
  continued with a backslash) become `pass`, indented as they were;
- `files = !ls` and `x = %who_ls` keep their target: `files = ...`;
- help (`obj?`, `??obj`) becomes `pass`;
- a cell magic (`%%bash`, `%%javascript`) blanks its whole cell, which is not Python, except
  those whose body Python runs (`%%time`, `%%timeit`, `%%capture`, `%%prun`, `%%python`):
  only their first line is masked.

A notebook whose JSON does not parse, or is not an nbformat 4 notebook, or a cell of an
unknown type, is a `NotebookProblem` (reported as CS-E002); the other cells are still read.
A notebook whose kernel is another language than Python has no code to check.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

NOTEBOOK_SUFFIX = ".ipynb"
CELL_TYPES = frozenset({"code", "markdown", "raw"})
# Cell magics whose body is Python that the kernel runs.
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "python", "python3", "debug"})
_ASSIGNED_MAGIC = re.compile(r"(\s*)([A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*)\s*=\s*[%!]")
_MASK = "pass"


def is_notebook(path: str) -> bool:
    return path.lower().endswith(NOTEBOOK_SUFFIX)


@dataclass(frozen=True)
class NotebookProblem:
    """Why a notebook, or one cell of it, could not be read. `cell`: 1-based, or None for
    the whole file."""

    message: str
    cell: int | None = None


@dataclass(frozen=True)
class Cell:
    """One code cell in the joined text."""

    number: int  # 1-based, counted over every cell of the notebook
    index: int  # its position in the notebook's `cells`
    first_line: int  # 0-based line of the joined text where it starts
    lines: int  # how many lines it has there
    masked: tuple[int, ...] = ()  # its lines (0-based, in the cell) that were IPython syntax


@dataclass(frozen=True)
class CellMap:
    """Where each line of the joined text is in the notebook."""

    cells: tuple[Cell, ...]

    @property
    def starts(self) -> tuple[int, ...]:
        """The line of the joined text where each cell starts (`SourceText.part_starts`)."""
        return tuple(cell.first_line for cell in self.cells)

    def _position(self, line: int) -> int:
        return max(bisect.bisect_right(self.starts, line) - 1, 0)

    def cell_at(self, line: int) -> Cell | None:
        """The code cell holding 0-based `line` of the joined text."""
        if not self.cells:
            return None
        cell = self.cells[self._position(line)]
        return cell if cell.first_line <= line < cell.first_line + cell.lines else None

    def locate(self, line: int) -> tuple[int, int]:
        """(1-based cell number, 0-based line in that cell) of a line of the joined text;
        a line past the end (a file-level finding) is the last cell's last line."""
        if not self.cells:
            return 1, line
        cell = self.cells[self._position(line)]
        return cell.number, min(max(line - cell.first_line, 0), max(cell.lines - 1, 0))


@dataclass(frozen=True)
class Notebook:
    """A notebook read: its JSON, its code joined as one text, and where each line is."""

    document: dict[str, Any]
    text: str  # the code cells, masked and joined
    cells: CellMap
    problems: tuple[NotebookProblem, ...] = ()
    python: bool = True  # False: another kernel language, nothing to check


def _source_of(cell: dict[str, Any]) -> str | None:
    source = cell.get("source", "")
    if isinstance(source, str):
        return source
    if isinstance(source, list) and all(isinstance(part, str) for part in source):
        return "".join(source)
    return None


def _language(document: dict[str, Any]) -> str | None:
    metadata = document.get("metadata")
    if not isinstance(metadata, dict):
        return None
    for table, key in (("language_info", "name"), ("kernelspec", "language")):
        entry = metadata.get(table)
        if isinstance(entry, dict) and isinstance(entry.get(key), str):
            return entry[key].lower()
    return None


def read_notebook(raw: bytes) -> Notebook | NotebookProblem:
    """The notebook in `raw`, or why it is not one."""
    try:
        document = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        return NotebookProblem(f"the notebook is not UTF-8 ({error.reason} at byte {error.start})")
    except json.JSONDecodeError as error:
        return NotebookProblem(
            f"the notebook is not valid JSON ({error.msg} at line {error.lineno}, "
            f"column {error.colno})"
        )
    except RecursionError:
        return NotebookProblem("the notebook's JSON is nested too deeply to read")
    if not isinstance(document, dict) or not isinstance(document.get("cells"), list):
        version = document.get("nbformat") if isinstance(document, dict) else None
        if isinstance(version, int) and version < 4:
            return NotebookProblem(
                f"nbformat {version} notebooks are not read: convert it to nbformat 4 "
                "(`jupyter nbconvert --to notebook --inplace`)"
            )
        return NotebookProblem("the file is JSON but not a notebook (no list of `cells`)")
    language = _language(document)
    if language is not None and language != "python":
        return Notebook(document, "", CellMap(()), python=False)
    return _joined(document)


def _joined(document: dict[str, Any]) -> Notebook:
    code: list[tuple[int, str]] = []
    problems: list[NotebookProblem] = []
    for index, cell in enumerate(document["cells"]):
        number = index + 1
        kind = cell.get("cell_type") if isinstance(cell, dict) else None
        if kind not in CELL_TYPES:
            shown = f"`{kind}`" if isinstance(kind, str) else "no"
            problems.append(NotebookProblem(f"cell {number} has {shown} cell type", number))
            continue
        if kind != "code":
            continue
        source = _source_of(cell)
        if source is None:
            problems.append(NotebookProblem(f"cell {number}'s source is not text", number))
            continue
        code.append((index, source))
    text, cells = join_cells(code)
    return Notebook(document, text, cells, tuple(problems))


def join_cells(code: Sequence[tuple[int, str]]) -> tuple[str, CellMap]:
    """Code cells ((position in the notebook, source), in order) masked and joined as one
    text, and where each is in it."""
    parts: list[str] = []
    cells: list[Cell] = []
    line = 0
    for index, source in code:
        masked_text, masked = mask_ipython(source)
        if masked_text and not masked_text.endswith("\n"):
            masked_text += "\n"
        count = masked_text.count("\n")
        cells.append(Cell(index + 1, index, line, count, masked))
        parts.append(masked_text)
        line += count
    return "".join(parts), CellMap(tuple(cells))


def notebook_text(raw: bytes) -> str:
    """The joined code of a notebook ("" if it cannot be read), as findings' lines count."""
    notebook = read_notebook(raw)
    return "" if isinstance(notebook, NotebookProblem) else notebook.text


def notebook_cells(raw: bytes) -> CellMap | None:
    notebook = read_notebook(raw)
    return None if isinstance(notebook, NotebookProblem) else notebook.cells


# -- where the code is in the JSON --------------------------------------------------------------

_SOURCE_KEY = re.compile(r'"source"\s*:\s*')


def code_line_origins(raw: bytes) -> list[int] | None:
    """For each line of the notebook's joined code, the 0-based line of the file (its JSON)
    where that line is written, as git counts a notebook's lines; None when a code cell's
    source cannot be found in the JSON as written (an escaped key, say): unknown, not guessed.

    Each `"source"` value in the text is decoded where it stands; the code cells are matched
    to them in order by equal source, so a metadata key of that name is passed over."""
    notebook = read_notebook(raw)
    if isinstance(notebook, NotebookProblem):
        return None
    values = _source_values(raw.decode("utf-8-sig"))
    cells = notebook.document["cells"]
    origins: list[int] = []
    for cell in notebook.cells.cells:
        wanted = _source_of(cells[cell.index])
        lines = next((starts for source, starts in values if source == wanted), None)
        if lines is None or len(lines) != cell.lines:
            return None
        origins.extend(lines)
    return origins


def _source_values(text: str) -> Iterator[tuple[str, list[int]]]:
    """Every `"source"` value of the JSON text that is a string or a list of strings: its
    text joined, and the file's line (0-based) where each of its lines starts."""
    counted, line = 0, 0
    for match in _SOURCE_KEY.finditer(text):
        position = match.end()
        parts: list[tuple[str, int]] = []  # each string and the offset where it starts
        try:
            if text.startswith("[", position):
                position = _skip_space(text, position + 1)
                while not text.startswith("]", position):
                    if not text.startswith('"', position):
                        raise ValueError("not a string")
                    part, end = json.decoder.scanstring(text, position + 1)
                    parts.append((part, position))
                    position = _skip_space(text, end)
                    if text.startswith(",", position):
                        position = _skip_space(text, position + 1)
            elif text.startswith('"', position):
                parts.append((json.decoder.scanstring(text, position + 1)[0], position))
            else:
                continue
        except ValueError:
            continue
        starts: list[int] = []
        at_line_start = True
        for part, offset in parts:
            line += text.count("\n", counted, offset)  # JSON strings hold no raw line breaks
            counted = offset
            breaks = part.count("\n", 0, max(len(part) - 1, 0))
            starts.extend([line] * ((1 if at_line_start and part else 0) + breaks))
            at_line_start = part.endswith("\n") or (at_line_start and not part)
        yield "".join(part for part, _ in parts), starts


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


# -- IPython syntax ----------------------------------------------------------------------------


def mask_ipython(source: str) -> tuple[str, tuple[int, ...]]:
    """`source` with IPython's syntax replaced by Python of the same lines, and which lines
    (0-based) were replaced."""
    lines = source.splitlines(keepends=True)
    first = next((i for i, text in enumerate(lines) if text.strip()), None)
    if first is not None and lines[first].lstrip().startswith("%%"):
        name = lines[first].lstrip()[2:].split(maxsplit=1)
        if not name or name[0] not in PYTHON_CELL_MAGICS:
            return "".join(_blank(text) for text in lines), tuple(range(len(lines)))
        lines[first] = _MASK + _ending(lines[first])
        return _masked_lines(lines, {first})
    return _masked_lines(lines, set())


def _ending(text: str) -> str:
    return text[len(text.rstrip("\r\n")) :]


def _blank(text: str) -> str:
    """An empty line in place of `text` (the last line of a cell has no line break: one is
    added, so that the cell keeps its number of lines)."""
    return _ending(text) or "\n"


def _masked_lines(lines: list[str], masked: set[int]) -> tuple[str, tuple[int, ...]]:
    out = list(lines)
    for number in _logical_line_starts(lines, masked):
        text = lines[number]
        body = text.rstrip("\r\n")
        stripped = body.strip()
        indent = body[: len(body) - len(body.lstrip())]
        replacement = None
        if stripped.startswith(("%", "!", "?")) or _code_part(stripped).endswith("?"):
            replacement = indent + _MASK
        else:
            assigned = _ASSIGNED_MAGIC.match(body)
            if assigned is not None:
                replacement = f"{assigned.group(1)}{assigned.group(2)} = ..."
        if replacement is None:
            continue
        out[number] = replacement + _ending(text)
        masked.add(number)
        follow = number
        while lines[follow].rstrip("\r\n").endswith("\\") and follow + 1 < len(lines):
            follow += 1  # a magic continued on the next line
            out[follow] = _blank(lines[follow])
            masked.add(follow)
    return "".join(out), tuple(sorted(masked))


def _code_part(line: str) -> str:
    """A line without its comment (a `#` outside quotes), right-stripped."""
    quote = ""
    for position, char in enumerate(line):
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "#":
            return line[:position].rstrip()
    return line.rstrip()


def _logical_line_starts(lines: Sequence[str], skip: set[int]) -> Iterator[int]:
    """Lines where a logical line starts: not inside brackets, a string or a backslash
    continuation. Python's tokenizer cannot be used: IPython syntax is not Python."""
    depth, quote, continued = 0, "", False
    number = 0
    while number < len(lines):
        if number in skip:
            number += 1
            continue
        text = lines[number]
        starts = depth == 0 and not quote and not continued
        if starts:
            yield number  # the caller may mask it (then its content is not scanned)
            if number in skip:
                number += 1
                continue
        depth, quote, continued = _scan(text, depth, quote)
        number += 1


def _scan(text: str, depth: int, quote: str) -> tuple[int, str, bool]:
    """Brackets, open string and backslash continuation after one more line."""
    position, end = 0, len(text.rstrip("\r\n"))
    while position < end:
        char = text[position]
        if quote:
            if char == "\\":
                position += 2
                continue
            if text.startswith(quote, position):
                position += len(quote)
                quote = ""
                continue
            position += 1
            continue
        if char == "#":
            break
        if char in "\"'":
            triple = text[position : position + 3]
            quote = triple if triple in ('"""', "'''") else char
            position += len(quote)
            continue
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(depth - 1, 0)
        position += 1
    if quote in ("'", '"'):
        quote = ""  # an unterminated one-line string: the parser reports it
    continued = end > 0 and text[:end].endswith("\\") and not quote
    return depth, quote, continued


# -- writing a fixed notebook back ------------------------------------------------------------


def with_sources(raw: bytes, notebook: Notebook, sources: dict[int, str]) -> bytes:
    """The notebook's JSON with the sources of some cells (by index in `cells`) replaced,
    in the layout nbformat writes (one-space indent, keys in their order, UTF-8, lists of
    lines): outputs, metadata and every other cell are left as they are."""
    document = notebook.document
    for index, source in sources.items():
        cell = document["cells"][index]
        was = cell.get("source")
        cell["source"] = source if isinstance(was, str) else source.splitlines(keepends=True)
    text = raw.decode("utf-8-sig")
    indent = _indent_of(text)
    out = json.dumps(document, indent=indent, ensure_ascii=False)
    if text.endswith("\n"):
        out += "\n"
    prefix = b"\xef\xbb\xbf" if raw.startswith(b"\xef\xbb\xbf") else b""
    return prefix + out.encode("utf-8")


def _indent_of(text: str) -> int:
    second = text.split("\n", 2)[1] if text.count("\n") >= 2 else ""
    width = len(second) - len(second.lstrip(" "))
    return width or 1


def unmasked(notebook: Notebook, cell: Cell, fixed: str) -> str | None:
    """A cell's source after fixes of its masked text, its IPython lines put back; None
    when the fixes moved or removed them (the cell is then left as it was)."""
    original = _source_of(notebook.document["cells"][cell.index]) or ""
    before = original.splitlines(keepends=True)
    after = fixed.splitlines(keepends=True)
    if not cell.masked:
        return fixed if original.endswith("\n") or not fixed.endswith("\n") else fixed[:-1]
    if len(after) != len(before):
        return None
    for number in cell.masked:
        after[number] = before[number]
    result = "".join(after)
    if not original.endswith("\n") and result.endswith("\n"):
        result = result[:-1]
    return result


def cell_sources(raw: bytes) -> dict[int, str]:
    """Each code cell's source as written, by 1-based cell number ({} if not a notebook)."""
    notebook = read_notebook(raw)
    if isinstance(notebook, NotebookProblem):
        return {}
    cells = notebook.document["cells"]
    return {cell.number: _source_of(cells[cell.index]) or "" for cell in notebook.cells.cells}


def changed_cells(raw: bytes, fixed: bytes) -> list[tuple[int, str, str]]:
    """(cell number, source before, source after) of the code cells a rewrite changed."""
    before, after = cell_sources(raw), cell_sources(fixed)
    return [(n, before[n], after.get(n, "")) for n in sorted(before) if before[n] != after.get(n)]
