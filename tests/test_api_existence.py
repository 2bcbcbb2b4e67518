"""CS-D005, non-existent APIs: `json.parse`, `os.path.joinpath`, `requests.gett`.

Everything is real: the running interpreter's standard library, a virtual environment with
`requests` installed from PyPI, modules written to disk in a temporary project, and the
standard library and installed packages' own sources as negative corpora.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from clearsight.checks.api_existence import NONEXISTENT_API, ApiExistenceCheck
from clearsight.deps.api import ModuleFinder
from clearsight.deps.environment import Environment, installed_packages
from clearsight.deps.references import DocumentUses, file_uses
from clearsight.deps.summary import summarize
from clearsight.engine import analyze
from clearsight.fixes import apply_edits
from clearsight.model import Finding, Severity
from clearsight.settings import Settings
from clearsight.source import SourceText

CHECK = ApiExistenceCheck()
STDLIB = Path(os.__file__).parent


def check(root: Path, text: str, name: str = "app.py", files: dict[str, str] | None = None,
          family: ApiExistenceCheck = CHECK) -> list[Finding]:  # fmt: skip
    """CS-D005 findings for `text` saved as root/name, next to `files`."""
    (root / "pyproject.toml").write_text('[project]\nname = "app"\nversion = "1"\n')
    for relative, content in {**(files or {}), name: text}.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return list(family.run(SourceText(text, path=str(root / name)), Settings()))


# -- real hallucinations -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name", "suggestion"),
    [
        ("import json\njson.parse('{}')\n", "parse", "loads"),
        ("import os\nos.path.joinpath('a', 'b')\n", "joinpath", "join"),
        ("import os.path\nprint(os.path.joinpath)\n", "joinpath", "join"),
        ("from os import path\npath.joinpath('a')\n", "joinpath", "join"),
        ("import subprocess\nsubprocess.run_command(['ls'])\n", "run_command", "run"),
        ("import re\nre.replace('a', 'b', 'abc')\n", "replace", "sub"),
        ("from json import parse\n", "parse", "loads"),
        ("import xml.etree.ElementTree as ET\nET.parse_string('<a/>')\n", "parse_string", None),
        ("import math\nmath.sqroot(2)\n", "sqroot", "sqrt"),  # a built-in module: its stub
        ("import collections\ncollections.OrderedDictionary()\n", "OrderedDictionary", None),
    ],
)
def test_invented_standard_library_functions_are_reported(
    tmp_path: Path, text: str, name: str, suggestion: str | None
) -> None:
    (finding,) = check(tmp_path, text)
    assert finding.code == NONEXISTENT_API
    assert finding.severity is Severity.WARNING
    assert f"has no `{name}`" in finding.message
    assert "AI assistants invent" in finding.message
    line = text.splitlines()[finding.line]
    assert line[finding.column : finding.span.end.column] == name
    if suggestion is not None:
        assert suggestion in finding.metrics["did_you_mean"]
        assert "Did you mean `" in finding.message


def test_one_close_name_is_a_safe_fix_that_makes_the_code_right(tmp_path: Path) -> None:
    text = "import json\n\nvalue = json.laods('[1]')\n"
    (finding,) = check(tmp_path, text)
    assert finding.metrics["did_you_mean"] == ["loads"]
    (fix,) = finding.fixes
    assert fix.safe
    fixed, applied = apply_edits(text, fix.edits)
    assert applied == 1 and fixed == "import json\n\nvalue = json.loads('[1]')\n"
    assert check(tmp_path, fixed) == []


def test_a_known_mix_up_is_suggested_but_not_applied_in_bulk(tmp_path: Path) -> None:
    (finding,) = check(tmp_path, "import json\njson.parse('1')\n")
    (fix,) = finding.fixes
    assert not fix.safe  # another function, not a spelling slip: offered one at a time
    assert "Did you mean `json.loads`?" in finding.message


def test_a_from_import_fix_keeps_the_local_name(tmp_path: Path) -> None:
    text = "from json import laods\nlaods('1')\n"
    (finding,) = check(tmp_path, text)
    fixed, _ = apply_edits(text, finding.fixes[0].edits)
    assert fixed == "from json import loads as laods\nlaods('1')\n"
    assert "ImportError" in finding.message
    assert check(tmp_path, fixed) == []


def test_several_close_names_are_listed_without_a_fix(tmp_path: Path) -> None:
    (finding,) = check(tmp_path, "import os\nos.getcwdd()\n")
    assert set(finding.metrics["did_you_mean"]) >= {"getcwd", "getcwdb"}
    assert finding.fixes == ()


# -- a real installed package ----------------------------------------------------------------


@pytest.fixture(scope="session")
def requests_env(tmp_path_factory: pytest.TempPathFactory) -> Environment:
    """A real virtual environment with requests (and its dependencies) from PyPI."""
    prefix = tmp_path_factory.mktemp("venv-requests") / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(prefix)], check=True)
    python = prefix / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
         "--disable-pip-version-check", "requests==2.32.3"],
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    if install.returncode != 0:
        pytest.skip(f"could not install requests from PyPI: {install.stderr[-500:]}")
    return Environment.from_prefix(prefix)


def test_a_misspelled_function_of_an_installed_package_is_reported(
    tmp_path: Path, requests_env: Environment
) -> None:
    family = ApiExistenceCheck(requests_env)
    text = "import requests\nrequests.gett('https://example.org')\nrequests.get('x')\n"
    (finding,) = check(tmp_path, text, family=family)
    assert finding.metrics == {"module": "requests", "name": "gett", "did_you_mean": ["get"]}
    assert finding.fixes[0].safe
    nested = "import requests\nrequests.adapters.HTTPAdapterr\nrequests.exceptions.Timeout\n"
    (finding,) = check(tmp_path, nested, family=family)
    assert finding.metrics["module"] == "requests.adapters"
    assert finding.metrics["did_you_mean"] == ["HTTPAdapter"]


def test_a_package_that_is_not_installed_is_not_judged(
    tmp_path: Path, requests_env: Environment
) -> None:
    family = ApiExistenceCheck(requests_env)
    assert check(tmp_path, "import flask\nflask.Flaskk\n", family=family) == []


# -- no finding where the files cannot settle it ---------------------------------------------


@pytest.mark.parametrize(
    "module",
    [
        "def __getattr__(name):\n    return name\n",
        "import sys\nsetattr(sys.modules[__name__], 'made', 1)\n",
        "for name in ('made',):\n    globals()[name] = 1\n",
        "globals().update({'made': 1})\n",
        "exec('made = 1')\n",
        "def _register(name):\n    import dyn\n    setattr(dyn, name, 1)\n",
        "from not_anywhere_at_all import *\n",
        "from lazy_loader import attach\n__getattr__, __dir__, __all__ = attach(__name__)\n",
    ],
)
def test_modules_that_make_names_at_run_time_are_not_judged(tmp_path: Path, module: str) -> None:
    assert check(tmp_path, "import dyn\ndyn.made\n", files={"dyn.py": module}) == []


def test_a_compiled_module_without_a_stub_is_unknown_and_never_imported(tmp_path: Path) -> None:
    # Not a real extension module: importing it would fail loudly. It is only listed.
    files = {"fast.cpython-311-x86_64-linux-gnu.so": "not an ELF file"}
    assert check(tmp_path, "import fast\nfast.anything()\n", files=files) == []
    stub = {**files, "fast.pyi": "def known() -> int: ...\ndef _private() -> int: ...\n"}
    (finding,) = check(tmp_path, "import fast\nfast.known()\nfast._hidden\nfast.unknown()\n",
                       files=stub)  # fmt: skip
    assert finding.metrics["name"] == "unknown"
    assert "its stub defines no such name" in finding.message


@pytest.mark.parametrize(
    "text",
    [
        "import os\nif hasattr(os, 'fork2'):\n    os.fork2()\n",
        "import os\nfork = os.fork2 if hasattr(os, 'fork2') else None\n",
        "import sys\nif sys.implementation.name == 'pypy':\n    sys.pypy_version_info\n",
        "import os\ntry:\n    os.fork2()\nexcept AttributeError:\n    pass\n",
        "import json\ntry:\n    from json import parse\nexcept ImportError:\n    parse = None\n",
        "import os, unittest\nclass T(unittest.TestCase):\n"
        "    def test(self):\n        with self.assertRaises(AttributeError):\n"
        "            os.does_not_exist\n",
        "import json\njson = {}\njson.parse\n",  # rebound: not the module any more
        "import json\ndef f(json):\n    return json.parse\n",  # a parameter of that name
        "import json\njson.parse = lambda text: text\njson.parse('1')\n",  # the file adds it
        "import json\njson.loads('1').parse\n'text'.replace('t', 'T')\n",  # not module names
        "import json\njson.__version__\njson.__file__\njson.decoder.JSONDecodeError\n",
        # The fallback for other versions, in the handler of the import that failed.
        "try:\n    from collections.abc import Mapping\nexcept ImportError:\n"
        "    from collections import Mapping\n",
        # Annotations are the type checker's: stub-only names are fine there.
        "import warnings\ndef f(action: warnings._ActionKind) -> warnings._ActionKind:\n"
        "    kind: warnings._ActionKind = action\n    return kind\n",
        # A test skipped on older Pythons.
        "import inspect, sys, pytest\n"
        "@pytest.mark.skipif(sys.version_info < (3, 12), reason='3.12')\n"
        "def test():\n    inspect.BufferFlags.READ\n",
        # Names another Python version has (typeshed knows them): not invented.
        "import typing\ndef alias(origin):\n    return isinstance(origin, typing.TypeAliasType)\n",
        # Flags set from the version: `if NEW_TYPING: ... else:` (typing_inspect).
        "import sys, typing\nNEW_TYPING = sys.version_info[:3] >= (3, 7, 0)\n"
        "if not NEW_TYPING:\n    typing.GenericMeta\n",
        "from sys import hexversion\nif hexversion < 0x03000000:\n    from itertools import izip\n",
    ],
)
def test_uses_the_code_is_prepared_to_fail_or_that_exist_are_not_reported(
    tmp_path: Path, text: str
) -> None:
    assert check(tmp_path, text) == []


# -- the project's own modules and star imports ----------------------------------------------


def test_local_modules_are_read_and_followed_through_star_imports(tmp_path: Path) -> None:
    files = {
        "pkg/__init__.py": "from .core import *\nfrom . import helpers\n",
        "pkg/core.py": "__all__ = ['run']\ndef run(): ...\ndef _setup(): ...\n",
        "pkg/helpers.py": "def assist(): ...\n",
    }
    text = (
        "import pkg\nfrom pkg.helpers import assist, asist\n"
        "pkg.run()\npkg.helpers.assist()\npkg.walk()\n"
    )
    findings = check(tmp_path, text, files=files)
    assert [(f.line, f.metrics["module"], f.metrics["name"]) for f in findings] == [
        (1, "pkg.helpers", "asist"),
        (4, "pkg", "walk"),
    ]


def test_relative_imports_are_resolved_against_the_files_package(tmp_path: Path) -> None:
    files = {
        "shop/__init__.py": "",
        "shop/utils.py": "def price(): ...\n",
        "shop/orders/__init__.py": "from .. import utils\n",
    }
    text = (
        "from ..utils import price, discount\nfrom .. import utils\nfrom . import helpers\n"
        "utils.price()\nutils.total()\n"
    )
    findings = check(tmp_path, text, name="shop/orders/models.py", files=files)
    assert [(f.line, f.metrics["module"], f.metrics["name"]) for f in findings] == [
        (0, "shop.utils", "discount"),
        (2, "shop.orders", "helpers"),
        (4, "shop.utils", "total"),
    ]
    # A script outside any package cannot import relatively: nothing to judge.
    assert check(tmp_path, "from .utils import nothing\n", name="script.py") == []


def test_a_stub_beside_the_source_adds_the_names_the_source_makes_at_run_time(
    tmp_path: Path,
) -> None:
    files = {
        "kinds.py": "try:\n    from _kinds_accelerated import *  # not installed here\n"
        "except ImportError:\n    pass\n",
        "kinds.pyi": "StringKind: int\n",
    }
    text = "import kinds\nkinds.StringKind\nkinds.BytesKind\n"
    (finding,) = check(tmp_path, text, files=files)
    assert finding.metrics["name"] == "BytesKind"


def test_a_name_bound_in_a_package_wins_over_its_submodule(tmp_path: Path) -> None:
    # antlr4: `from antlr4.Token import Token` makes `antlr4.Token` the class.
    files = {
        "lexer/__init__.py": "from lexer.Token import Token\n",
        "lexer/Token.py": "class Token:\n    EOF = -1\n",
    }
    assert check(tmp_path, "import lexer\nlexer.Token.EOF\n", files=files) == []
    assert check(tmp_path, "from lexer import Token\nToken.EOF\n", files=files) == []
    # `import a.b as c` binds getattr(a, "b") too: the class, whose attributes are not judged.
    assert check(tmp_path, "import lexer.Token as T\nT.EOFF\n", files=files) == []
    (finding,) = check(tmp_path, "import lexer\nlexer.Tokens\n", files=files)
    assert finding.metrics["did_you_mean"] == ["Token"]


def test_editing_a_module_is_noticed(tmp_path: Path) -> None:
    files = {"helpers.py": "def one(): ...\n"}
    assert len(check(tmp_path, "import helpers\nhelpers.two()\n", files=files)) == 1
    module = tmp_path / "helpers.py"
    module.write_text("def one(): ...\ndef two(): ...\n")
    stat = module.stat()
    os.utime(module, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert check(tmp_path, "import helpers\nhelpers.two()\n") == []


def test_a_module_inside_a_package_imports_the_standard_library_not_its_neighbour(
    tmp_path: Path,
) -> None:
    # asyncio/subprocess.py does not shadow `import subprocess` in asyncio/unix_events.py.
    files = {"pkg/__init__.py": "", "pkg/subprocess.py": "def spawn(): ...\n"}
    text = "import subprocess\nsubprocess.Popen\n"
    assert check(tmp_path, text, name="pkg/runner.py", files=files) == []


def test_warm_look_ups_are_cached_per_module() -> None:
    finder = ModuleFinder.for_folders([str(STDLIB)])
    first = finder.resolve("os.path")
    assert {m.dotted for m in first} == {"posixpath", "ntpath"}  # os.py's two branches
    assert finder.resolve("os.path")[0] is first[0]
    assert finder.members("json") is finder.members("json")


def test_summaries_collect_every_branch_globals_and_all() -> None:
    tree = ast.parse(
        "import sys\nif sys.platform == 'win32':\n    def a(): ...\nelse:\n    b = 1\n"
        "try:\n    from x import c\nexcept ImportError:\n    c = None\n"
        "def setup():\n    global d\n    d = 2\n__all__ = ['e']\n"
        "class Flag:\n    F = 1\nglobals().update(Flag.__members__)\n"
    )
    summary = summarize(tree)
    assert {"a", "b", "c", "d", "e", "F", "Flag", "setup", "sys"} <= summary.names
    assert summary.open_reason is None
    assert "c" not in summary.imported  # also assigned: not only an import


def test_the_engine_reports_it_and_settings_turn_the_family_off(tmp_path: Path) -> None:
    text = "import json\njson.parse('1')\n"
    (tmp_path / "app.py").write_text(text)
    assert NONEXISTENT_API in [f.code for f in analyze(text, str(tmp_path / "app.py"))]
    quiet = Settings(ignore=("CS-D005",))
    assert NONEXISTENT_API not in [f.code for f in analyze(text, str(tmp_path / "a.py"), quiet)]


# -- false positives, measured on real code --------------------------------------------------

# Every CS-D005 finding in CPython 3.11's own Lib/ was read: all but one are real dead code
# (names renamed or removed years ago in code that no longer runs) or files written to fail.
KNOWN_STDLIB_FINDINGS = {
    # The one false positive: a function whose body is handed to a mocked importer as the
    # code of another package, so its `from . import module` never runs in this package.
    ("test/test_importlib/import_/test_packages.py", "module"),
    ("idlelib/editor.py", "show_idlehelp"),  # idlelib.help has _helpwindow since 3.8
    ("idlelib/macosx.py", "show_idlehelp"),
    ("idlelib/tree.py", "zoom_height"),  # idlelib.zoomheight's function became a method
    ("test/test__xxsubinterpreters.py", "temp_dir"),  # moved to test.support.os_helper
    ("ctypes/test/test_memfunctions.py", "maxint"),  # Python 2's sys.maxint
    ("test/test_future_stmt/badsyntax_future3.py", "rested_snopes"),  # meant to fail
    ("test/test_future_stmt/badsyntax_future9.py", "braces"),  # meant to fail
}


def _sweep_part(paths: list[str]) -> tuple[int, int, list[tuple[str, int, str]]]:
    """(files, checked references, findings as (path, line, name)) for these files."""
    family = ApiExistenceCheck()
    files = references = 0
    found = []
    for path in paths:
        source = SourceText.from_bytes(Path(path).read_bytes(), path)
        if source.tree is None:
            continue
        files += 1
        uses = file_uses(source)
        references += len(uses.uses) + len(uses.from_imports)
        for finding in family.run(source, Settings()):
            found.append((path, finding.line + 1, finding.metrics["name"]))
    return files, references, found


def _python_files(root: Path) -> Iterator[str]:
    for folder, folders, files in os.walk(root):
        folders[:] = sorted(f for f in folders if f not in ("site-packages", "__pycache__"))
        yield from (os.path.join(folder, f) for f in sorted(files) if f.endswith(".py"))


def test_the_standard_library_has_no_false_nonexistent_api_finding() -> None:
    paths = list(_python_files(STDLIB))
    with ProcessPoolExecutor(2) as pool:
        parts = list(pool.map(_sweep_part, [paths[i::2] for i in range(2)]))
    files = sum(p[0] for p in parts)
    references = sum(p[1] for p in parts)
    found = [item for p in parts for item in p[2]]
    print(f"\nstdlib: {files} files, {references} references, {len(found)} CS-D005")
    assert files > 1000 and references > 40_000
    unexpected = [
        item for item in found
        if (os.path.relpath(item[0], STDLIB), item[2]) not in KNOWN_STDLIB_FINDINGS
    ]  # fmt: skip
    assert unexpected == []


@pytest.mark.parametrize("distribution", ["rich", "pygls", "bandit", "requests"])
def test_installed_packages_own_sources_have_no_nonexistent_api_finding(
    distribution: str,
) -> None:
    dist = installed_packages(Environment.current()).distributions.get(distribution)
    if dist is None:
        pytest.skip(f"{distribution} is not installed here")
    files, references, found = _sweep_part(list(_python_files(dist.metadata.parent / distribution)))
    print(f"\n{distribution}: {files} files, {references} references, {len(found)} CS-D005")
    assert files > 10 and references > 200
    assert found == []


def test_uses_collected_statement_by_statement_equal_the_whole_tree_edit_after_edit() -> None:
    """The editor's way (`DocumentUses`: statements found without parsing, an edit in a
    method of Popen's 1,461-line class parsing that method) finds what the tree does."""
    path = STDLIB / "subprocess.py"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    document = DocumentUses()
    quoted = [n for n, line in enumerate(lines) if "'" in line or '"' in line]
    for number in [*quoted[::60], len(lines) - 1]:
        line = lines[number]
        quote = line.find('"') if '"' in line else line.find("'")
        lines[number] = line[: quote + 1] + "x" + line[quote + 1 :]
        try:
            ast.parse("".join(lines))
        except SyntaxError:
            lines[number] = line  # a quote in a comment or a string: not this line
        if number == len(lines) - 1:
            lines.append("x = os.not_there\n")
        text = "".join(lines)
        assert document.uses(SourceText(text, path=str(path))) == file_uses(
            SourceText(text, path=str(path))
        )
