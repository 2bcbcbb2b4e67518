"""Incremental analysis must equal whole-file analysis, edit after edit, on real code."""

from __future__ import annotations

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


def test_settings_change_is_applied() -> None:
    path = STDLIB / "tarfile.py"
    text = path.read_text(encoding="utf-8")
    analyzer = IncrementalAnalyzer(str(path))
    assert_same(analyzer, text, Settings())
    strict = settings_from_tables({"complexity": {"max-complexity": 3}}, {"skips": ["B101"]})
    assert_same(analyzer, text, strict)


@pytest.mark.parametrize(
    "text",
    ["x = 1\0\n", 'x = "\ud800"\n', "def f(:\n    pass\n", "x = " + "-" * 5000 + "1\n"],
    ids=["nul", "lone-surrogate", "syntax-error", "too-deep"],
)
def test_text_that_does_not_parse_matches(text: str) -> None:
    analyzer = IncrementalAnalyzer("m.py")
    assert_same(analyzer, "import os\n", Settings())
    assert_same(analyzer, text, Settings())
    assert analyzer.parsed is False


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
