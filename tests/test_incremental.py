"""Incremental analysis must equal whole-file analysis, edit after edit, on real code."""

from __future__ import annotations

import ast
import os
import random
from pathlib import Path

import pytest

from clearsight.engine import analyze
from clearsight.incremental import IncrementalAnalyzer
from clearsight.model import Finding
from clearsight.settings import Settings, settings_from_tables

STDLIB = Path(os.__file__).parent
FILES = ["subprocess.py", "tarfile.py", "pickle.py", "shutil.py", "tempfile.py"]


def normal(findings: list[Finding]) -> list[str]:
    return sorted(repr(sorted(f.to_dict().items())) for f in findings)


def assert_same(analyzer: IncrementalAnalyzer, text: str, settings: Settings) -> None:
    _, incremental = analyzer.analyze(text, settings)
    assert normal(incremental) == normal(analyze(text, analyzer.path, settings))


def string_edits(text: str, count: int, seed: int) -> list[str]:
    """Successive versions: one character typed into a string on a random line each."""
    lines = text.splitlines(keepends=True)
    rng = random.Random(seed)
    versions = []
    while len(versions) < count:
        index = rng.randrange(len(lines))
        line = lines[index]
        quote = line.find('"') if '"' in line else line.find("'")
        if quote < 0:
            continue
        lines[index] = line[: quote + 1] + "x" + line[quote + 1 :]
        versions.append("".join(lines))
    return versions


@pytest.mark.parametrize("name", FILES)
def test_typing_in_strings_matches_whole_file_analysis(name: str) -> None:
    path = STDLIB / name
    text = path.read_text(encoding="utf-8")
    analyzer = IncrementalAnalyzer(str(path))
    assert_same(analyzer, text, Settings())
    for version in string_edits(text, 12, seed=len(name)):
        assert_same(analyzer, version, Settings())


def test_small_edit_reuses_the_other_statements() -> None:
    path = STDLIB / "subprocess.py"
    text = path.read_text(encoding="utf-8")
    analyzer = IncrementalAnalyzer(str(path))
    analyzer.analyze(text, Settings())
    edited = text.replace("def list2cmdline(seq):", "def list2cmdline(seq):\n    seq = seq", 1)
    assert_same(analyzer, edited, Settings())
    assert analyzer.reused >= len(analyzer.chunks) - 2


def test_an_import_added_above_changes_what_later_calls_resolve_to() -> None:
    # bandit resolves `c(...)` through `from subprocess import call as c`, in another chunk.
    base = "import os\n\n\ndef run(cmd):\n    return c(cmd, shell=True)\n"
    analyzer = IncrementalAnalyzer("m.py")
    assert_same(analyzer, base, Settings())
    with_import = "from subprocess import call as c\n" + base
    assert_same(analyzer, with_import, Settings())
    _, findings = analyzer.analyze(with_import, Settings())
    assert "B602" in {f.code for f in findings}
    assert_same(analyzer, base, Settings())


def test_syntax_error_then_fix_matches_and_recovers() -> None:
    path = STDLIB / "shutil.py"
    text = path.read_text(encoding="utf-8")
    analyzer = IncrementalAnalyzer(str(path))
    assert_same(analyzer, text, Settings())
    broken = text.replace("def copyfileobj(fsrc, fdst", "def copyfileobj(fsrc, fdst,,", 1)
    assert_same(analyzer, broken, Settings())
    fixed = text.replace("def copyfileobj(fsrc, fdst", "def copyfileobj(fsrc, fdst2", 1)
    assert_same(analyzer, fixed, Settings())
    assert analyzer.reused > 10  # recovered from the last version that parsed


@pytest.mark.parametrize(
    "edit",
    [
        lambda t: t.replace("\ndef ", "\n@decorator\ndef ", 1),
        lambda t: t + "\nx = 1; eval(x)  # nosec\n",
        lambda t: t + "\nimport pickle  # clearsight: ignore[B403]\n",
        lambda t: "\n".join(t.split("\n")[:40] + t.split("\n")[80:]),
        lambda t: t.replace("import os", "import os\nx = '\u202e'", 1),
        lambda t: "",
    ],
    ids=["decorator", "nosec", "inline-ignore", "delete-lines", "trojan-source", "empty"],
)
def test_structural_edits_match(edit) -> None:  # type: ignore[no-untyped-def]
    path = STDLIB / "tempfile.py"
    text = path.read_text(encoding="utf-8")
    analyzer = IncrementalAnalyzer(str(path))
    assert_same(analyzer, text, Settings())
    assert_same(analyzer, edit(text), Settings())


_BIDI = "s = 'abc\u202edef'\n"


@pytest.mark.parametrize(
    "first_line",
    ["# nosec\n", "# nosec B613\n", "# nosec B101\n", "import os  # nosec\n", ""],
)
@pytest.mark.parametrize("bidi_comment", ["", "  # nosec", "  # nosec B101"])
def test_nosec_rules_of_the_trojan_source_test_are_bandit_s_whatever_the_parts(
    first_line: str, bidi_comment: str
) -> None:
    """bandit skips its file-level test's issue (B613) for a nosec on the issue's line or
    on the file's first line, together (`# nosec B101` there and a bare one on the line:
    the union {B101}, so B613 is reported). The editor checks a file in parts, each with
    its own first line: the rule must stay the file's, in long functions' parts too."""
    filler = "".join(f"    v{i} = {i}\n" for i in range(60))
    bidi = _BIDI.rstrip("\n") + bidi_comment + "\n"
    texts = [
        first_line + "import os\n\n\ndef f():\n    return 1\n\n\n" + bidi,
        first_line + "def long():\n" + filler + "    " + bidi + filler + "    return 1\n",
        "import os\n\n# nosec\ndef g():\n    " + bidi,  # a nosec first line of a later part
    ]
    for text in texts:
        analyzer = IncrementalAnalyzer(str(STDLIB / "nosec_case.py"))
        assert_same(analyzer, text + "\nx = 1\n", Settings())
        assert_same(analyzer, text, Settings())


def test_settings_change_is_applied() -> None:
    path = STDLIB / "tarfile.py"
    text = path.read_text(encoding="utf-8")
    analyzer = IncrementalAnalyzer(str(path))
    assert_same(analyzer, text, Settings())
    strict = settings_from_tables({"complexity": {"max-complexity": 3}}, {"skips": ["B101"]})
    assert_same(analyzer, text, strict)


def _parses(text: str) -> bool:
    try:
        ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


@pytest.mark.parametrize(
    "text",
    [
        "x = 1\0\n", 'x = "\ud800"\n', "def f(:\n    pass\n",
        "x = " + "(" * 250 + "1" + ")" * 250 + "\n",
        # Too deep for 3.11's and 3.12's parser (a RecursionError), not for 3.10's or 3.13's.
        "x = " + "-" * 5000 + "1\n",
    ],
    ids=["nul", "lone-surrogate", "syntax-error", "too-many-parentheses", "deep-unary"],
)  # fmt: skip
def test_text_that_does_not_parse_matches(text: str) -> None:
    analyzer = IncrementalAnalyzer("m.py")
    assert_same(analyzer, "import os\n", Settings())
    assert_same(analyzer, text, Settings())
    assert analyzer.parsed is _parses(text)


def long_class(extra: str = "") -> str:
    """A class long enough to be checked method by method, with the cases that make
    splitting it delicate: an import inside a method that later calls resolve through,
    class-level statements between methods, decorators with calls, a nested class."""
    methods = "".join(
        f"    def method_{i}(self, cmd):\n"
        f"        if cmd == {i}:\n            return c(cmd, shell=True)\n"
        f"        return eval(cmd)  # nosec B307\n\n"
        for i in range(12)
    )
    return (
        "import functools\n\n\n"
        "@functools.lru_cache(maxsize=None)\n@c('decorated', shell=True)\n"
        "class Runner(object, metaclass=type):\n"
        '    """A long class."""\n\n'
        "    timeout = eval('3')\n\n"
        "    def setup(self):\n        from subprocess import call as c\n        return c\n\n"
        f"{methods}"
        "    password = 'hunter2'\n\n"
        "    class Inner:\n        def deep(self):\n            return c('x', shell=True)\n\n"
        f"{extra}"
        "    @staticmethod\n    def last():\n        return c('ls', shell=True)\n"
        "# trailing comment\n"
    )


def test_long_class_checked_method_by_method_matches() -> None:
    analyzer = IncrementalAnalyzer("m.py")
    text = long_class()
    assert len(text.splitlines()) >= 80
    assert_same(analyzer, text, Settings())
    for version in string_edits(text, 10, seed=7):
        assert_same(analyzer, version, Settings())
    assert_same(
        analyzer,
        long_class("    def added(self):\n        return c('y', shell=True)\n\n"),
        Settings(),
    )
    assert_same(
        analyzer, text.replace("        from subprocess import call as c\n", ""), Settings()
    )


def test_an_edit_in_a_method_holding_an_import_parses_that_method_only() -> None:
    """Typing elsewhere in a method that imports leaves its imports as they were: only the
    method is parsed. Changing the import itself changes what later calls resolve to, so
    the class is parsed whole; both equal the whole-file analysis."""
    analyzer = IncrementalAnalyzer("m.py")
    text = long_class().replace("        return c\n\n", "        return c('setup')\n\n", 1)
    assert_same(analyzer, text, Settings())
    before = analyzer.parts_reparsed
    text = text.replace("c('setup')", "c('setup, typed')", 1)
    assert_same(analyzer, text, Settings())
    assert analyzer.parts_reparsed == before + 1
    text = text.replace("import call as c", "import check_call as c", 1)
    assert_same(analyzer, text, Settings())
    assert analyzer.parts_reparsed == before + 1


def method(name: str, number: int, indent: str = "    ") -> str:
    """A method (a function at module level when `indent` is one level) with a finding,
    a call resolved through an import made elsewhere, and a `# nosec`."""
    body = indent + "    "
    return (
        f"{indent}def {name}(self, cmd):\n"
        f"{body}if cmd == {number}:\n{body}    return c(cmd, shell=True)\n"
        f"{body}value = 'text {number}'\n"
        f"{body}return eval(cmd)  # nosec B307\n\n"
    )


def long_branches() -> str:
    """Long if/elif/else and try statements, at module level and in a class body, each
    with imports that later code resolves calls through, comments between the blocks,
    decorators and a nested long if."""
    windows = "".join(method(f"win_{i}", i, "        ") for i in range(10))
    posix = "".join(method(f"posix_{i}", i, "        ") for i in range(10))
    other = "".join(method(f"other_{i}", i, "        ") for i in range(3))
    functions = "".join(method(f"top_{i}", i, "    ") for i in range(10))
    nested = "".join(method(f"deep_{i}", i, "            ") for i in range(14))
    return (
        '"""Module."""\nimport sys\n\n'
        "# before the if\n"
        "if sys.platform == 'win32':  # nosec\n"
        "    from subprocess import call as c\n"
        f"{functions}"
        "    # between the blocks\n"
        "else:\n"
        "    import pickle\n"
        f"{functions}"
        "\n"
        "try:\n"
        "    import yaml\n"
        f"{functions}"
        "except ImportError:  # optional\n"
        "    yaml = None\n"
        "else:\n"
        "    c('after', shell=True)\n"
        "finally:\n"
        "    pass\n\n\n"
        "class Popen:\n"
        '    """A long class with platform branches."""\n\n'
        "    if sys.platform == 'win32':\n"
        "        import os as c\n"
        f"{windows}"
        "        if sys.maxsize > 2:\n"
        f"{nested}"
        "    elif sys.platform == 'darwin':\n"
        f"{other}"
        "    else:\n"
        "        from subprocess import call as c\n"
        "\n"
        "        @staticmethod\n"
        "        def decorated():\n"
        "            return c('x', shell=True)\n\n"
        f"{posix}"
        "    try:\n"
        f"{windows}"
        "    except (ImportError, ValueError):\n"
        "        pass\n"
        "    password = 'hunter2'\n"
        "# trailing comment\n"
    )


def test_long_if_and_try_blocks_checked_statement_by_statement_match() -> None:
    analyzer = IncrementalAnalyzer("m.py")
    text = long_branches()
    compile(text, "m.py", "exec")
    assert_same(analyzer, text, Settings())
    # Really split: a part per distinct method text, at least.
    assert analyzer.parts_analysed > 40
    for version in string_edits(text, 25, seed=3):
        assert_same(analyzer, version, Settings())


RETURN = "            return eval(cmd)  # nosec B307\n"  # a method's last line, in a class


@pytest.mark.parametrize(
    "edit",
    [
        # A new line in the first method: the methods after it are found again by text.
        lambda t: t.replace("    def top_0(self, cmd):\n", "    def top_0(self, cmd):\n\n", 1),
        lambda t: t.replace("        def win_3(self, cmd):\n", "        def win_3(self):\n", 1),
        # An import added in a method reaches the calls after it.
        lambda t: t.replace(
            "            value = 'text 4'\n", "            from os import system as c\n", 1
        ),
        # A method's body dedented out of the class: what is around it changes.
        lambda t: t.replace("            value = 'text 5'\n", "x = 'text 5'\n", 1),
        lambda t: t.replace("    elif sys.platform == 'darwin':\n", "    else:\n", 1),
        lambda t: t.replace("else:\n    import pickle\n", "else:\n    import pickle; x = 1\n", 1),
        lambda t: t.replace("        if sys.maxsize > 2:\n", "        if eval('1'):\n", 1),
        lambda t: t.replace("except ImportError:  # optional\n", "except ValueError:\n", 1),
        lambda t: t.replace("# before the if\n", "# before the if \u202e\n", 1),
        # Edits that keep the line count but make a method not stand alone any more.
        lambda t: t.replace("value = 'text 6'\n", "value = ('text 6',\n", 1),
        lambda t: t.replace("        def win_2(self, cmd):\n", "       def win_2(self, cmd):\n", 1),
        lambda t: t.replace(RETURN, RETURN[4:], 1),
    ],
    ids=[
        "new-line", "signature", "import-in-method", "dedent", "elif-to-else", "semicolon",
        "test-with-finding", "guard", "trojan-source", "open-bracket", "indent-of-def",
        "statement-after-method",
    ],
)  # fmt: skip
def test_edits_in_split_statements_match(edit) -> None:  # type: ignore[no-untyped-def]
    analyzer = IncrementalAnalyzer("m.py")
    text = long_branches()
    assert_same(analyzer, text, Settings())
    edited = edit(text)
    assert edited != text
    assert_same(analyzer, edited, Settings())
    assert_same(analyzer, text, Settings())


def test_an_edit_inside_one_method_parses_that_method_only() -> None:
    analyzer = IncrementalAnalyzer("m.py")
    text = long_branches()
    analyzer.analyze(text, Settings())
    before = analyzer.parts_reparsed, analyzer.parts_analysed
    for number, old in enumerate(["'text 7'", "'text 3'"]):
        text = text.replace(old, "'more text'", 1)
        assert_same(analyzer, text, Settings())
        # Parsed on its own, and analysed (nothing else was).
        assert analyzer.parts_reparsed - before[0] == number + 1
        assert analyzer.parts_analysed - before[1] == number + 1


def test_a_new_line_reanalyses_only_the_parts_around_it() -> None:
    analyzer = IncrementalAnalyzer("m.py")
    text = long_branches()
    analyzer.analyze(text, Settings())
    before = analyzer.parts_analysed
    edited = text.replace(
        "        def posix_0(self, cmd):\n", "        def posix_0(self, cmd):\n\n", 1
    )
    assert_same(analyzer, edited, Settings())
    # The method, and the if statement's header and the class line around it.
    assert analyzer.parts_analysed - before <= 3


def api_class() -> str:
    """A long class whose methods use module attributes that exist and that do not
    (CS-D005), with what decides which are judged: guards (`hasattr`, a `try` catching
    AttributeError, a version test in a decorator), imports inside methods, nested
    functions; a top-level function after it; and a `\"\"\"` in a string, which makes the
    statements harder to find without parsing."""
    methods = "".join(
        f"    def method_{i}(self, data):\n"
        f"        value = json.loads(data) + json.parse_{i}(data)\n"
        f"        if hasattr(os, 'fork_{i}'):\n            os.fork_{i}()\n"
        f"        def inner():\n            return os.path.joinpath('a', '{i}')\n"
        f"        return inner, value  # text {i}\n\n"
        for i in range(14)
    )
    return (
        'import json\nimport os\nimport sys\nmarker = \'"""\'\n\n\n'
        "class Store:\n"
        '    """A long class."""\n\n'
        "    try:\n        limit = os.sysconf_x('SC_ARG_MAX')\n"
        "    except AttributeError:\n        limit = 0\n\n"
        f"{methods}"
        "    def imports(self):\n        from collections import OrderedDictionary\n"
        "        import xml.etree.ElementTree as ET\n        return ET.parse_string('<a/>')\n\n"
        "    if sys.version_info >= (3, 99):\n"
        "        def future(self):\n            return json.future_only()  # text future\n\n"
        "    @staticmethod\n    def last():\n        return json.stringify({})\n\n\n"
        "def function(data):\n    return json.dumpz(data)  # text top\n"
    )


@pytest.mark.parametrize(
    "edit",
    [
        lambda t: t.replace("json.parse_3(data)", "json.loads(data)", 1),
        lambda t: t.replace("json.parse_4(data)", "json.parse_4x(data)", 1),
        # A parameter named like the module: `json` is not only the module any more.
        lambda t: t.replace("def method_5(self, data):", "def method_5(self, json):", 1),
        # Assigning a module attribute makes the module's names the file's business.
        lambda t: t.replace("value = json.loads(data) + json.parse_7(data)",
                            "json.parse_7 = value = json.loads(data)", 1),
        lambda t: t.replace("if hasattr(os, 'fork_2'):", "if data:", 1),
        lambda t: t.replace("json.loads(data) + json.parse_12(data)",
                            "sys.platform and json.parse_12(data)", 1),
        lambda t: t.replace("os.path.joinpath('a', '4')", "os.path.join('a', '4')", 1),
        lambda t: t.replace("    except AttributeError:\n", "    except ValueError:\n", 1),
        lambda t: t.replace("    @staticmethod\n", "    @skipif(sys.version_info < (3,))\n", 1),
        lambda t: t.replace("json.dumpz(data)", "json.dumps(data)", 1),
        # In a method under a version test: guarded by what is around it.
        lambda t: t.replace("json.future_only()", "json.future_onl()", 1),
        lambda t: t.replace("import json\n", "import json as os\n", 1),
        lambda t: t.replace("from collections import OrderedDictionary",
                            "from collections import OrderedDict", 1),
        # A method's line dedented, a bracket left open: the text does not parse.
        lambda t: t.replace("        return inner, value  # text 6\n",
                            "return inner, value  # text 6\n", 1),
        lambda t: t.replace("        return inner, value  # text 8\n",
                            "        return (inner, value  # text 8\n", 1),
        # A nested function turned into a statement of the method, a line added.
        lambda t: t.replace("        def inner():\n            return os.path.joinpath('a', '9')",
                            "        inner = 1\n        value = os.path.joinpath('a', '9')", 1),
        lambda t: t.replace("    def method_10(self, data):\n",
                            "    def method_10(self, data):\n        os.nothing_here()\n", 1),
    ],
    ids=[
        "fix-a-use", "rename-a-use", "parameter", "assignment", "guard-removed",
        "guard-added", "nested-function", "try-at-class-level", "decorator-guard",
        "top-level-function", "guarded-method", "import-alias", "from-import", "dedent",
        "open-bracket", "not-a-definition", "new-line",
    ],
)  # fmt: skip
def test_edits_in_methods_of_a_long_class_match_for_module_attributes(  # type: ignore[no-untyped-def]
    tmp_path: Path, edit
) -> None:
    analyzer = IncrementalAnalyzer(str(tmp_path / "store.py"))
    text = api_class()
    compile(text, "store.py", "exec")
    _, findings = analyzer.analyze(text, Settings())
    assert len([f for f in findings if f.code == "CS-D005"]) >= 14
    assert_same(analyzer, text, Settings())
    edited = edit(text)
    assert edited != text
    assert_same(analyzer, edited, Settings())
    for version in string_edits(edited, 6, seed=len(edited)):
        assert_same(analyzer, version, Settings())
    assert_same(analyzer, text, Settings())


def test_unused_ignores_match_the_whole_file_analysis() -> None:
    """CS-E004 from the incremental analysis equals the engine's, edit after edit: an
    ignore becomes unused when the code it silenced is fixed, and used again."""
    analyzer = IncrementalAnalyzer("m.py")
    text = long_class() + "\nvalue = eval('1')  # clearsight: ignore[B307, B101]\n"
    assert_same(analyzer, text, Settings())
    edits = [
        ("eval('1')", "int('1')"),
        ("int('1')", "eval('1')"),
        ("# trailing comment", "# trailing comment  # clearsight: ignore"),
    ]
    for old, new in edits:
        text = text.replace(old, new, 1)
        assert_same(analyzer, text, Settings())
    _, found = analyzer.analyze(text, Settings())
    assert [f.line for f in found if f.code == "CS-E004"] != []
