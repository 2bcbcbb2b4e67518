"""A long function or method is checked a few statements at a time: findings must still
equal whole-file analysis, edit after edit."""

from __future__ import annotations

import ast
import os
import random
from pathlib import Path

import pytest
from test_incremental import assert_same, string_edits

from clearsight.incremental import IncrementalAnalyzer
from clearsight.settings import Settings, settings_from_tables

STDLIB = Path(os.__file__).parent
# Every block over the limit is a finding, so radon's numbers are compared too.
STRICT = settings_from_tables({"complexity": {"max-complexity": 1}}, {})


def statements(number: int, indent: str, nosec: str = "  # nosec B307") -> str:
    """Short statements with findings and what decides them: a call resolved through an
    import made higher in the function, a `# nosec`, strings, a lambda, comprehensions."""
    return "".join(
        f"{indent}value_{i} = [x for x in range({i}) if x % 2] or {{k: 1 for k in 'ab'}}\n"
        f"{indent}if value_{i} and cmd == {i}:\n"
        f"{indent}    c(cmd, shell=True)  # text {i}\n"
        f"{indent}    eval(cmd){nosec}\n"
        f"{indent}key_{i} = sorted(value_{i}, key=lambda v: v or 'x {i}')\n"
        for i in range(number)
    )


def long_body(
    indent: str, coroutine: bool = False, nosec: str = "  # nosec B307", branch: int = 3
) -> str:
    """A long function's body: a docstring, imports (one under try/except ImportError),
    `global`/`nonlocal`, closures with their own complexity, a nested class, `yield`,
    `await` in a coroutine, an if statement (long, checked block by block, with `branch`
    14, which adds long loops and a with statement too) and comments between statements."""
    waits = (
        f"{indent}await asyncio.sleep(0)\n"
        f"{indent}async with lock:\n{indent}    async for item in stream:\n"
        f"{indent}        eval(item)\n"
        if coroutine
        else f"{indent}yield eval('1')\n"
    )
    inner = indent + "    "
    return (
        f'{indent}"""A long body."""\n'
        f"{indent}global STATE\n"
        f"{indent}from subprocess import call as c\n"
        f"{indent}try:\n{inner}import yaml\n{indent}except ImportError:\n{inner}yaml = None\n"
        f"{indent}password = 'hunter2'\n"
        f"{statements(6, indent, nosec)}"
        f"{indent}# a comment between statements\n\n"
        f"{indent}def closure(arg):\n"
        f"{inner}nonlocal cmd\n{inner}if arg and cmd or arg > 2:\n"
        f"{inner}    return c(arg, shell=True)\n"
        f"{inner}return [a for a in arg if a]\n"
        f"{indent}class Nested:\n{inner}def method(self):\n"
        f"{inner}    return eval('2') if self else 0\n"
        f"{waits}"
        f"{indent}if cmd == 'long':\n"
        f"{statements(branch, inner, nosec)}"
        f"{indent}elif cmd == 'other':\n{inner}import pickle\n"
        f"{indent}else:\n{statements(2, inner, nosec)}"
        f"{statements(6, indent, nosec)}"
        f"{loops(indent, nosec) if branch > 10 else ''}"
        f"{indent}yaml.load(cmd)\n"
        f"{indent}return c('end', shell=True)\n"
    )


def loops(indent: str, nosec: str) -> str:
    """Long for and with statements (checked statement by statement), and a loop with an
    `else:` (bandit visits it after the body: checked whole)."""
    inner = indent + "    "
    return (
        f"{indent}for item in eval(cmd):\n{statements(10, inner, nosec)}"
        f"{indent}with open(cmd) as handle:\n{inner}import marshal\n"
        f"{statements(10, inner, nosec)}"
        f"{indent}while cmd:\n{inner}cmd = c(cmd)\n{statements(10, inner, nosec)}"
        f"{indent}else:\n{inner}marshal.loads(cmd)\n"
    )


def long_functions() -> str:
    """A long function, a long coroutine, long methods of a long class (one with a decorator
    whose call resolves through an import in the body) and a long function in a long
    module-level if."""
    class_body = "".join(
        f"    def small_{i}(self, cmd):\n        return eval(cmd) if cmd else {i}\n\n"
        for i in range(3)
    )
    return (
        '"""Module."""\nimport asyncio\nimport sys\n\nSTATE = 0\n\n\n'
        "@functools.wraps(c('outer', shell=True))\n"
        "def run(cmd, *args, **kwargs) -> str:  # the signature\n"
        "    # a comment before the body\n"
        f"{long_body('    ', branch=14)}"
        "# after the function\n\n\n"
        "async def serve(cmd, lock, stream):\n"
        f"{long_body('    ', coroutine=True)}\n\n"
        "class Runner:\n"
        '    """A long class."""\n\n'
        f"{class_body}"
        "    @c('decorated', shell=True)\n"
        "    @staticmethod\n"
        "    def start(cmd, timeout=None):\n"
        f"{long_body('        ')}"
        "    def secret(self, cmd, password='default'):  # B107, and a nosec below: checked whole\n"
        f"{long_body('        ')}"
        "    password = 'class level'\n\n\n"
        "if sys.platform == 'win32':\n"
        "    def windows(cmd):\n"
        f"{long_body('        ')}"
        "else:\n"
        "    windows = None\n\n\n"
        "def judged(cmd, password='default'):  # B107; no nosec in the body: split\n"
        f"{long_body('    ', nosec='')}"
    )


def test_long_functions_checked_part_by_part_match() -> None:
    analyzer = IncrementalAnalyzer("m.py")
    text = long_functions()
    compile(text, "m.py", "exec")
    assert_same(analyzer, text, STRICT)
    assert_same(analyzer, text, Settings())
    # Really split: heads, bodies a few statements at a time, decorators.
    roles = [
        piece.role for chunk in analyzer.chunks if chunk.facts.split
        for piece in chunk.facts.split.pieces
    ]  # fmt: skip
    assert roles.count("head") >= 5
    assert roles.count("body") > 30
    for version in string_edits(text, 25, seed=5):
        assert_same(analyzer, version, STRICT)


@pytest.mark.parametrize(
    "edit",
    [
        # An import added, changed or removed in a body: what later calls resolve to.
        lambda t: t.replace("    # a comment between statements\n",
                            "    from os import system as c\n", 1),
        lambda t: t.replace("    from subprocess import call as c\n", "    x = 1\n", 1),
        lambda t: t.replace("        import pickle\n", "        import pickle as c\n", 1),
        lambda t: t.replace("        import marshal\n", "        import marshal as c\n", 1),
        # A nosec where B107 looks for one: the function is checked whole from then on.
        lambda t: t.replace("    yaml.load(cmd)\n", "    yaml.load(cmd)  # nosec\n",
                            t.count("    yaml.load(cmd)\n")),
        lambda t: t.replace("value_3 = [x", "mark_safe(cmd); value_3 = [x", 1),
        # Lines added and removed: the other groups are found again by their text.
        lambda t: t.replace("    password = 'hunter2'\n", "    password = 'hunter2'\n\n", 1),
        lambda t: t.replace("    global STATE\n", "", 1),
        # Edits that keep the line count but take a statement out of its group.
        lambda t: t.replace("    key_2 = sorted(", "key_2 = sorted(", 1),
        lambda t: t.replace("    key_4 = sorted(value_4", "    key_4 = sorted((value_4", 1),
        lambda t: t.replace("    key_1 = sorted(", "        key_1 = sorted(", 1),
        lambda t: t.replace("    key_5 = sorted(value_5", "    # key_5 = sorted(value_5", 1),
        # The signature, decorators and return annotation.
        lambda t: t.replace("-> str:  # the signature", "-> c('x', shell=True):", 1),
        lambda t: t.replace("def run(cmd, *args", "def run(cmd, token='abc', *args", 1),
        lambda t: t.replace("    @staticmethod\n", "    @eval('1')\n", 1),
        lambda t: t.replace("async def serve(", "def serve(", 1),
        lambda t: t.replace("        if arg and cmd", "        if arg or cmd", 1),
        lambda t: t.replace("    return c('end', shell=True)\n", "    return 1\n", 1),
        lambda t: t.replace("# after the function\n", "x = '\u202e'  # after the function\n", 1),
    ],
    ids=[
        "import-added", "import-removed", "import-in-branch", "import-in-with", "nosec-added",
        "mark-safe",
        "new-line", "line-removed", "dedent", "open-bracket", "indent", "commented-out",
        "return-annotation-call", "judged-default", "decorator", "not-a-coroutine",
        "closure", "last-statement", "trojan-source",
    ],
)  # fmt: skip
def test_edits_in_long_functions_match(edit) -> None:  # type: ignore[no-untyped-def]
    analyzer = IncrementalAnalyzer("m.py")
    text = long_functions()
    assert_same(analyzer, text, STRICT)
    edited = edit(text)
    assert edited != text
    assert_same(analyzer, edited, STRICT)
    for version in string_edits(edited, 1, seed=len(edited)):
        assert_same(analyzer, version, STRICT)
    assert_same(analyzer, text, STRICT)


def test_an_edit_inside_one_statement_of_a_long_function_parses_that_part_only() -> None:
    analyzer = IncrementalAnalyzer("m.py")
    text = long_functions()
    analyzer.analyze(text, Settings())
    before = analyzer.parts_reparsed, analyzer.parts_analysed
    # In a group of the function, in a block of its long if, in its long for and with
    # statements, in a method, in a coroutine.
    edits = [
        ("", "'x 3'"), ("", "# text 9"), ("for item", "'x 2'"), ("with open", "# text 5"),
        ("def start(", "'x 4'"), ("async def", "'x 1'"),
    ]  # fmt: skip
    for number, (where, old) in enumerate(edits):
        at = text.index(old, text.index(where))
        new = old.replace("x", "typed x").replace("text", "typed")
        text = text[:at] + new + text[at + len(old) :]
        assert_same(analyzer, text, Settings())
        # Parsed on its own, and analysed (nothing else was).
        assert analyzer.parts_reparsed - before[0] == number + 1
        assert analyzer.parts_analysed - before[1] == number + 1


def test_a_new_line_in_a_long_function_reanalyses_only_the_parts_around_it() -> None:
    analyzer = IncrementalAnalyzer("m.py")
    text = long_functions()
    analyzer.analyze(text, Settings())
    before = analyzer.parts_analysed
    edited = text.replace("    key_3 = sorted(", "    \n    key_3 = sorted(", 1)
    assert_same(analyzer, edited, Settings())
    # The group holding the line, and the function's head (its line count changed).
    assert analyzer.parts_analysed - before <= 2


def long_function_lines(text: str) -> list[int]:
    """0-based lines of the bodies of functions long enough to be split."""
    return [
        line
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and (node.end_lineno or 0) - node.lineno >= 79
        for line in range(node.body[0].lineno - 1, node.end_lineno or 0)
    ]


def function_edits(text: str, count: int, seed: int) -> list[str]:
    """Successive versions, each one edit inside a long function: a word typed into a
    string (a `# nosec` or a trojan-source character too), a line added or removed. A
    version that does not parse is checked, then undone."""
    rng = random.Random(seed)
    lines = text.splitlines(keepends=True)
    versions: list[str] = []
    while len(versions) < count:
        index = rng.choice(long_function_lines("".join(lines)))
        line, saved = lines[index], list(lines)
        kind = rng.random()
        if kind < 0.6:
            quote = line.find('"') if '"' in line else line.find("'")
            if quote < 0:
                continue
            word = rng.choice(["x", " # nosec", "\u202e", "password"])
            lines[index] = line[: quote + 1] + word + line[quote + 1 :]
        elif kind < 0.8:
            indent = line[: len(line) - len(line.lstrip())] or "    "
            added = rng.choice(["x = eval('1')\n", "pass\n", "# nosec\n", "import os as c\n"])
            lines.insert(index, indent + added)
        elif line.strip():
            del lines[index]
        else:
            continue
        versions.append("".join(lines))
        try:
            ast.parse(versions[-1])
        except SyntaxError:
            lines = saved
    return versions


@pytest.mark.parametrize("name", ["subprocess.py", "argparse.py", "dataclasses.py", "enum.py"])
def test_random_edits_in_long_functions_of_stdlib_modules_match(name: str) -> None:
    path = STDLIB / name
    text = path.read_text(encoding="utf-8")
    analyzer = IncrementalAnalyzer(str(path))
    assert_same(analyzer, text, STRICT)
    for version in function_edits(text, 12, seed=len(name)):
        assert_same(analyzer, version, STRICT)
    assert analyzer.parts_reparsed > 0


def test_a_nosec_typed_into_a_long_function_silences_its_default_password() -> None:
    """bandit looks for a `# nosec` on every line of a function for B107 (a password as
    a parameter's default): typing one into the body of a split function checks it whole."""
    analyzer = IncrementalAnalyzer("m.py")
    text = long_functions()
    line = text.count("\n", 0, text.index("def judged("))
    _, findings = analyzer.analyze(text, Settings())
    assert "B107" in {f.code for f in findings if f.line == line}
    at = text.rindex("    yaml.load(cmd)\n")
    edited = text[:at] + "    yaml.load(cmd)  # nosec\n" + text[at + len("    yaml.load(cmd)\n") :]
    assert_same(analyzer, edited, Settings())
    _, findings = analyzer.analyze(edited, Settings())
    assert "B107" not in {f.code for f in findings if f.line == line}


@pytest.mark.parametrize(
    "edit",
    [
        lambda t: t.replace("# after the function\n", "# after \u202e the function\n", 1),
        lambda t: t.replace("    password = 'class level'\n\n\n",
                            "    password = 'class level'\n\n# after \u202e the class\n", 1),
    ],
    ids=["function", "class"],
)  # fmt: skip
def test_comments_after_a_long_statement_are_checked(edit) -> None:  # type: ignore[no-untyped-def]
    """The comment lines between a long statement and the next are part of its last
    part's text (or the class line's): a trojan-source character there is found."""
    analyzer = IncrementalAnalyzer("m.py")
    text = edit(long_functions())
    assert_same(analyzer, text, Settings())
    _, findings = analyzer.analyze(text, Settings())
    assert "B613" in {f.code for f in findings}
