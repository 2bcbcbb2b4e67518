"""`piecewise.parse` must give exactly `ast.parse`'s tree (or its error) while parsing, after
an edit, only the statement the edit is in."""

from __future__ import annotations

import ast
import os
import random
import subprocess
import textwrap
from pathlib import Path

import pytest

from clearsight.dataflow import piecewise

STDLIB = Path(os.__file__).parent


def dumped(text: str) -> object:
    try:
        return ast.dump(piecewise.parse(text), include_attributes=True)
    except SyntaxError as error:
        return ("SyntaxError", error.msg, error.lineno, error.offset)


def expected(text: str) -> object:
    try:
        return ast.dump(ast.parse(text), include_attributes=True)
    except SyntaxError as error:
        return ("SyntaxError", error.msg, error.lineno, error.offset)


def long_modules() -> list[Path]:
    """Standard-library modules with long compound statements (the ones cut)."""
    names = ["subprocess.py", "argparse.py", "tarfile.py", "pathlib.py", "shutil.py"]
    names += ["zipfile/__init__.py", "asyncio/base_events.py", "email/_header_value_parser.py"]
    return [STDLIB / name for name in names if (STDLIB / name).exists()]


@pytest.mark.parametrize("path", long_modules(), ids=lambda p: p.name)
def test_the_tree_is_ast_parse_s_on_the_standard_library(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert dumped(text) == expected(text)


def test_random_edits_give_ast_parse_s_tree_or_its_error() -> None:
    text = Path(subprocess.__file__).read_text(encoding="utf-8")
    lines = text.split("\n")
    rng = random.Random(7)
    errors = 0
    for _ in range(60):
        index = rng.randrange(len(lines))
        edited = list(lines)
        kind = rng.randrange(4)
        line = edited[index]
        if kind == 0:
            edited[index] = line[: len(line) // 2] + "x" + line[len(line) // 2 :]
        elif kind == 1:
            edited[index] = line[1:]
        elif kind == 2:
            del edited[index]
        else:
            edited.insert(index, line)
        new = "\n".join(edited)
        found = expected(new)
        errors += isinstance(found, tuple)
        assert dumped(new) == found, (kind, index)
    assert 0 < errors < 60  # both kinds of result were compared


def test_an_edit_parses_only_the_statement_it_is_in() -> None:
    text = Path(subprocess.__file__).read_text(encoding="utf-8")
    piecewise.parse(text)
    marker = '"""Send a signal to the process."""'
    assert text.count(marker) == 2  # one for Windows, one for POSIX
    edited = text.replace(marker, '"""Send a signal (edited) to the process."""', 1)
    before = piecewise.STATEMENTS.parsed
    assert dumped(edited) == expected(edited)
    assert piecewise.STATEMENTS.parsed - before == 1


@pytest.mark.parametrize(
    "text",
    [
        "if x:\n" + "    a = 1\n" * 50 + "else:\n\tb = 2\n",  # tabs: parsed whole
        "if x:\n" + "    a = 1\n" * 50 + "  b = 2\n",  # an unindent that matches nothing
        "if x:\n" + "    a = (1,\n" * 25 + "    )\n" * 25,  # brackets across statements
        "class A:\n" + '    """doc\nelse:\n"""\n' + "    a = 1\n" * 50,  # a header in a string
        "try:\n" + "    a = 1\n" * 50 + "except E:\n    pass\nfinally:\n    b\n",
        "def f():\n" + "    yield 1\n" * 50 + "    return 2\n",
        "match x:\n" + "    case 1:\n        a = 1\n" * 30,
        "if (a and\n    b):\n" + "    c = 1\n" * 50,
        "@decorator\nclass A(B, metaclass=M):\n" + "    a: int = 1\n" * 50,
        "if x:\n" + "    a = 1 \\\n        + 2\n" * 30 + "else:\n    pass\n",
    ],
)
def test_awkward_texts_give_ast_parse_s_tree_or_its_error(text: str) -> None:
    assert dumped(text) == expected(text)


def test_a_long_nested_statement_is_cut_block_by_block() -> None:
    body = "".join(f"        def m{i}(self):\n            return {i}\n" for i in range(40))
    text = textwrap.dedent("class A:\n    if X:\n") + body + "    else:\n        pass\n"
    before = piecewise.STATEMENTS.parsed
    assert dumped(text) == expected(text)
    assert piecewise.STATEMENTS.parsed - before >= 40  # the methods, one by one
