"""Dependency provenance: where imports come from, and the findings when they come from nowhere,
from an undeclared distribution, or from a look-alike of a popular one.

Everything here is real: a virtual environment built with `python -m venv` and a package
installed into it from PyPI, pyproject and requirements files on disk, the bundled PyPI
snapshot, and the standard library and installed packages' own sources as negative corpora.
"""

from __future__ import annotations

import ast
import gzip
import importlib.metadata
import os
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
import tomlkit

from clearsight.checks.dependencies import (
    POSSIBLE_TYPOSQUAT,
    UNDECLARED_DEPENDENCY,
    UNREADABLE_DECLARATIONS,
    UNRESOLVABLE_IMPORT,
    DependencyCheck,
)
from clearsight.deps.environment import Environment, installed_packages, scan
from clearsight.deps.imports import scan_imports
from clearsight.deps.names import IMPORT_TO_DISTRIBUTION, normalize
from clearsight.deps.project import declarations, find_project_root, read_declarations
from clearsight.deps.pypi import (
    META_FILE,
    NAMES_FILE,
    POPULAR_FILE,
    PyPIIndex,
    bundled_index,
    contains_sorted,
    data_bytes,
    load_bundled,
)
from clearsight.deps.pyproject_edit import CannotDeclare, add_dependency
from clearsight.deps.typos import osa_distance
from clearsight.engine import analyze
from clearsight.fixes import apply_edits
from clearsight.model import Family, Finding, Severity, Span
from clearsight.settings import Settings, settings_from_tables
from clearsight.source import SourceText

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
SNAPSHOT = "2026-11"
CURRENT = Environment.current()


def codes(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings]


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def check(root: Path, name: str, text: str, environment: Environment = CURRENT) -> list[Finding]:
    """The dependency family's findings for `text` saved as root/name."""
    write(root, {name: text})
    source = SourceText(text, path=str(root / name))
    return list(DependencyCheck(environment).run(source, Settings()))


PROJECT = '[project]\nname = "shop"\nversion = "1.0"\ndependencies = [\n    "requests>=2",\n]\n'


def venv_python(prefix: Path) -> Path:
    return prefix / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def build_venv(prefix: Path, requirement: str) -> Path:
    """A real virtual environment at `prefix` with `requirement` installed from PyPI (the
    test is skipped when PyPI cannot be reached). Only pip runs the new interpreter."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(prefix)], check=True)
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv_python(prefix)), "install",
         "--quiet", "--disable-pip-version-check", requirement],
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    if install.returncode != 0:
        pytest.skip(f"could not install {requirement} from PyPI: {install.stderr[-500:]}")
    return prefix


@pytest.fixture(scope="session")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real virtual environment with python-dateutil (and its dependency six) installed."""
    return build_venv(tmp_path_factory.mktemp("venv") / "env", "python-dateutil==2.9.0.post0")


@pytest.fixture(scope="session")
def venv_env(venv: Path) -> Environment:
    return Environment.from_prefix(venv)


# -- the bundled PyPI snapshot ------------------------------------------------------------------


def test_snapshot_is_dated_and_complete() -> None:
    index = bundled_index()
    assert index.snapshot == SNAPSHOT
    assert index.info.names == 886_323
    assert index.info.popular == 14_985
    assert index.rank("boto3") == 1 and index.rank("requests") == 6


def test_index_memory_stays_under_20_mb_and_lookups_take_microseconds() -> None:
    tracemalloc.start()
    try:
        index = load_bundled(eager=True)
        loaded, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert loaded < 20_000_000, loaded
    assert peak < 20_000_000, peak  # never two copies of the names at once
    assert index.names.memory_bytes < 20_000_000
    names = ["requests", "python-dateutil", "huggingface-cli", "zzzzzz-nothing", "numpy"] * 2000
    start = time.perf_counter()
    for name in names:
        index.exists(name)
    per_lookup = (time.perf_counter() - start) / len(names)
    print(f"\nindex: {loaded / 1e6:.1f} MB loaded, {per_lookup * 1e6:.2f} µs per lookup")
    assert per_lookup < 50e-6


def test_index_answers_like_the_source_list() -> None:
    source = SHARED_DATA / "pypi-names-2026-11.txt.gz"
    if not source.is_file():
        pytest.skip("the source snapshot is not in ../shared/data")
    names = {normalize(n) for n in gzip.decompress(source.read_bytes()).decode().split()}
    index = bundled_index()
    sample = sorted(names)[::97]
    assert all(index.exists(name) for name in sample)
    # Neighbours of real names: prefixes, extensions, one character off.
    for name in sample:
        for probe in (name + "x", name[:-1], name + "-", "a" + name):
            assert index.exists(probe) == (normalize(probe) in names), probe


def test_bisection_reference_agrees_with_the_sparse_index() -> None:
    index = PyPIIndex.from_text(["Flask", "flask_login", "zope.interface", "a"], ["flask"], "x")
    blob = index.names.blob
    for probe in (b"flask", b"flask-login", b"zope-interface", b"a", b"b", b"flas", b"zz"):
        assert contains_sorted(blob, probe) == (probe in index.names)
    assert index.exists("Flask_Login") and index.exists("ZOPE.interface")


def test_build_script_reproduces_the_bundled_files(tmp_path: Path) -> None:
    if not (SHARED_DATA / "pypi-names-2026-11.txt.gz").is_file():
        pytest.skip("the source snapshot is not in ../shared/data")
    run = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "build_pypi_index.py"), "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "snapshot 2026-11: 886,323 names, 14,985 popular" in run.stdout
    for name in (NAMES_FILE, POPULAR_FILE, META_FILE):
        assert (tmp_path / name).read_bytes() == data_bytes(name), name


def test_every_curated_distribution_exists_on_pypi() -> None:
    index = bundled_index()
    missing = sorted({d for d in IMPORT_TO_DISTRIBUTION.values() if not index.exists(d)})
    assert missing == []


# -- typos ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [("requests", "reqeusts", 1), ("requests", "request", 1), ("numpy", "numpyy", 1),
     ("abcdef", "badcfe", 3), ("django", "djnago", 1), ("colorama", "colourama", 1),
     ("flask", "flask", 0), ("abc", "xyz", 3)],
)  # fmt: skip
def test_osa_distance_counts_swaps_as_one_edit(a: str, b: str, distance: int) -> None:
    assert osa_distance(a, b, 3) == distance
    assert osa_distance(a, b, distance) == distance
    if distance:
        assert osa_distance(a, b, distance - 1) == distance  # "more than the limit"


# Real typosquats: each was published on PyPI and removed (none is in the 2026-11 snapshot),
# or is the classic example of its kind.
TYPOSQUATS = {
    "reqeusts": "requests",
    "python-dateutils": "python-dateutil",
    "urlib3": "urllib3",
    "colourama": "colorama",
    "djnago": "django",
    "numpyy": "numpy",
    "beatifulsoup4": "beautifulsoup4",
    "matplotlb": "matplotlib",
    "tensorfow": "tensorflow",
    "setup-tools": "setuptools",
    "jeilyfish": "jellyfish",
}


@pytest.mark.parametrize(("typo", "popular"), sorted(TYPOSQUATS.items()))
def test_known_typosquats_point_at_the_package_they_imitate(typo: str, popular: str) -> None:
    index = bundled_index()
    assert not index.exists(typo) and index.is_popular(popular)
    assert index.near_popular(typo)[0].name == popular


@pytest.mark.parametrize(
    "name",
    # Real, legitimate packages a short edit from a popular one: pydy/pydyf, flint/flit,
    # pysat/pysam, cupy/cppy, gobject/vobject, pytest-lsp/pytest-csv; and popular names.
    ["pydy", "flint", "pysat", "cupy", "gobject", "pytest-lsp", "beautifulsoup", "requests"],
)
def test_legitimate_look_alikes_are_not_typosquats(name: str) -> None:
    assert bundled_index().near_popular(name) == ()


# -- finding the imports --------------------------------------------------------------------------


GUARDED = """\
import os.path, yaml.constructor as c
from a.b import (c,
    d)
from . import sibling
from ..pkg.mod import x
if TYPE_CHECKING:
    import typed_only
if sys.version_info < (3, 11):
    import tomli
try:
    import fast_json
except ImportError:
    import json as fast_json
with contextlib.suppress(ModuleNotFoundError):
    import maybe
def f():
    import inner
    return importlib.import_module("dyn.mod"), __import__("dunder")
class T:
    def test(self):
        with self.assertRaises(ImportError):
            import missing_on_purpose
"""


def test_every_kind_of_import_is_found_with_its_guard() -> None:
    found = {(i.module, i.level): i for i in scan_imports(SourceText(GUARDED)).imports}
    assert set(found) == {
        ("os.path", 0), ("yaml.constructor", 0), ("a.b", 0), ("", 1), ("pkg.mod", 2),
        ("typed_only", 0), ("tomli", 0), ("fast_json", 0), ("json", 0), ("maybe", 0),
        ("inner", 0), ("dyn.mod", 0), ("dunder", 0), ("missing_on_purpose", 0),
    }  # fmt: skip
    assert found[("typed_only", 0)].guard.type_checking
    assert found[("tomli", 0)].guard.conditional
    assert found[("fast_json", 0)].guard.optional
    assert found[("json", 0)].guard.optional  # the fallback runs only if the first failed
    assert found[("maybe", 0)].guard.optional
    assert found[("inner", 0)].guard.in_function and not found[("inner", 0)].guard.optional
    assert found[("dyn.mod", 0)].kind == "call"
    assert found[("missing_on_purpose", 0)].guard.expected_to_fail
    assert found[("a.b", 0)].names == ("c", "d")


def test_spans_cover_the_module_name_in_code_points() -> None:
    text = 'é = 1; import reqeusts.adapters\nfrom  yaml import x\nm = __import__("six")\n'
    imports = scan_imports(SourceText(text)).imports
    lines = text.splitlines()
    written = [lines[i.line][i.column : i.end_column] for i in imports]
    assert written == ["reqeusts.adapters", "yaml", "six"]
    tops = [lines[i.line][i.column : i.top_end_column] for i in imports]
    assert tops == ["reqeusts", "yaml", "six"]


def _reference_imports(tree: ast.Module) -> list[tuple[int, str, int]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name, 0) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.append((node.lineno, node.module or "", node.level))
    return sorted(found)


def test_skipping_blocks_without_imports_misses_none() -> None:
    """The scanner skips blocks whose lines never mention `import`; on 300 stdlib files
    it finds exactly what a full tree walk finds."""
    stdlib = Path(os.__file__).parent
    files = sorted(stdlib.rglob("*.py"))[::6][:300]
    for path in files:
        source = SourceText.from_bytes(path.read_bytes(), str(path))
        if source.tree is None:
            continue
        scanned = sorted(
            (i.line + 1, i.module, i.level)
            for i in scan_imports(source).imports
            if i.kind != "call"
        )
        assert scanned == _reference_imports(source.tree), path


# -- the environment ------------------------------------------------------------------------------


def test_a_venv_is_read_from_its_prefix(venv: Path, venv_env: Environment) -> None:
    assert [p.name for p in venv_env.site_packages] == ["site-packages"]
    assert venv_env.site_packages[0].is_relative_to(venv)
    # The base interpreter's standard library, found through pyvenv.cfg's `home`.
    assert any((folder / "os.py").is_file() for folder in venv_env.stdlib)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    assert Environment.from_interpreter(python) == venv_env


def test_installed_metadata_maps_imports_to_distributions(venv_env: Environment) -> None:
    packages = installed_packages(venv_env)
    assert [d.display_name() for d in packages.distributions_for("dateutil.parser")] == [
        "python-dateutil"
    ]
    assert [d.key for d in packages.distributions_for("six")] == ["six"]
    assert not packages.has_module("yaml")  # installed for Clearsight, not in this venv
    assert installed_packages(venv_env) is packages  # cached until site-packages changes


def _fake_environment(prefix: Path, marker: Path) -> Environment:
    """An environment laid out by hand: RECORD-only metadata, a namespace package shared by
    two distributions, a .pth path, and code that must never run (it would write `marker`)."""
    site = prefix / "lib" / "python3.11" / "site-packages"
    boom = f"open({str(marker)!r}, 'w').write('ran')"
    write(site, {
        "acme_tools-1.0.dist-info/RECORD": "acme/__init__.py,,\nacme/core.py,,\n",
        "acme/__init__.py": boom,
        "protobuf-5.0.dist-info/top_level.txt": "google\n",
        "protobuf-5.0.dist-info/RECORD": "google/protobuf/__init__.py,,\n",
        "google_auth-2.0.dist-info/RECORD": "google/auth/__init__.py,,\n",
        "google/protobuf/__init__.py": "", "google/auth/__init__.py": "",
        "extra.pth": f"../../../extra\nimport os; {boom}\n",
        "__editable___widget_1_0_finder.py": f"{boom}\nMAPPING = {{'widget': '/src/widget'}}\n",
        "widget-1.0.dist-info/RECORD": "__editable___widget_1_0_finder.py,,\n",
    })  # fmt: skip
    write(prefix, {"extra/extra_mod.py": boom})
    return Environment.from_prefix(prefix)


def test_environment_files_are_read_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran.txt"
    packages = scan(_fake_environment(tmp_path / "env", marker))
    assert [d.key for d in packages.distributions_for("acme.core")] == ["acme-tools"]
    assert [d.key for d in packages.distributions_for("google.protobuf")] == ["protobuf"]
    assert [d.key for d in packages.distributions_for("google.auth")] == ["google-auth"]
    assert packages.has_module("extra_mod")  # from the .pth path line
    assert [d.key for d in packages.distributions_for("widget")] == ["widget"]
    assert not marker.exists()


def test_installing_a_distribution_is_noticed(tmp_path: Path) -> None:
    environment = _fake_environment(tmp_path / "env", tmp_path / "ran.txt")
    assert not installed_packages(environment).has_module("fresh")
    site = environment.site_packages[0]
    write(site, {"fresh-0.1.dist-info/top_level.txt": "fresh\n", "fresh.py": ""})
    os.utime(site, ns=(time.time_ns(), time.time_ns() + 1_000_000))
    assert installed_packages(environment).has_module("fresh")


# -- the project ----------------------------------------------------------------------------------


def test_declarations_are_read_from_every_usual_place(tmp_path: Path) -> None:
    write(tmp_path, {
        "pyproject.toml": (
            '[project]\nname = "Shop_App"\n'
            'dependencies = ["requests[socks]>=2; python_version>\'3\'"]\n'
            '[project.optional-dependencies]\nfast = ["ujson"]\n'
            '[dependency-groups]\ntest = ["pytest", {include-group = "lint"}]\nlint = ["ruff"]\n'
            '[tool.poetry.group.docs.dependencies]\nsphinx = "*"\n'
        ),
        "requirements.txt": "# pinned\nPyYAML==6.0  # yaml\n-r requirements-dev.txt\n--index-url https://x\n",
        "requirements-dev.txt": "-e git+https://github.com/a/b.git#egg=Local_Thing\n"
                                "black \\\n    >=24\n-r requirements.txt\n./vendored\n",
    })  # fmt: skip
    found = read_declarations(tmp_path)
    assert found.keys == {
        "requests", "ujson", "pytest", "ruff", "pyyaml", "local-thing", "black",
    }  # fmt: skip
    assert found.project_name == "shop-app"
    assert found.add_to == "[project.dependencies]"
    assert found.problems == ()
    where = {r.key: r.where for r in found.requirements}
    assert where["pyyaml"] == "requirements.txt:2"
    assert where["black"] == "requirements-dev.txt:2"


def test_broken_declaration_files_become_problems(tmp_path: Path) -> None:
    write(tmp_path, {
        "pyproject.toml": "[project\nname = 1\n",
        "requirements.txt": "requests\n!!! not a requirement\n",
    })  # fmt: skip
    found = read_declarations(tmp_path)
    assert found.keys == {"requests"}
    assert len(found.problems) == 2
    assert found.problems[0].startswith("pyproject.toml is not valid TOML")
    assert "requirements.txt:2: cannot read a requirement" in found.problems[1]


def test_the_project_root_is_the_nearest_marker_and_never_an_environment(
    tmp_path: Path, venv_env: Environment
) -> None:
    write(tmp_path, {"pyproject.toml": "", "src/pkg/__init__.py": "", "src/pkg/a.py": ""})
    assert find_project_root(tmp_path / "src" / "pkg") == tmp_path
    assert find_project_root(venv_env.site_packages[0] / "dateutil") is None
    assert find_project_root(Path(os.__file__).parent / "email") is None


# -- findings -------------------------------------------------------------------------------------


# Names AI assistants invent: huggingface-cli was suggested by several assistants in 2024
# (Lasso Security registered it to show the risk); the others are invented in the same style.
# Each is checked to be absent from the snapshot.
HALLUCINATED = [
    "huggingface_cli", "pytorch_utils_extra", "sklearn_extensions_pro", "tensorflow_text_utils",
    "langchain_helpers_pro", "flask_jwt_simple_auth", "openai_async_tools",
    "pandas_profiling_extra", "django_rest_auth_utils", "requests_oauth_helper",
]  # fmt: skip


@pytest.mark.parametrize("name", HALLUCINATED)
def test_a_hallucinated_package_is_a_warning_that_says_pypi_has_no_such_name(
    tmp_path: Path, name: str
) -> None:
    assert not bundled_index().exists(name)
    (finding,) = check(tmp_path, "app.py", f"import os\nfrom {name}.core import run\n")
    assert finding.code == UNRESOLVABLE_IMPORT
    assert finding.severity is Severity.WARNING
    assert f"no package of that name exists on PyPI (snapshot {SNAPSHOT})" in finding.message
    assert "possibly hallucinated" in finding.message
    assert finding.span == Span.of(1, 5, 1, 5 + len(name) + len(".core"))
    assert finding.docs_url.endswith("rules.md#cs-d001")
    assert finding.family is Family.DEPENDENCIES


def test_a_real_package_that_is_not_installed_is_information_where_the_project_declares(
    tmp_path: Path, venv_env: Environment
) -> None:
    write(tmp_path, {"pyproject.toml": PROJECT})
    (finding,) = check(tmp_path, "app.py", "import yaml\n", venv_env)
    assert (finding.code, finding.severity) == (UNRESOLVABLE_IMPORT, Severity.INFO)
    assert "usually provided by the distribution `PyYAML`" in finding.message
    assert f"A package named `PyYAML` exists on PyPI (snapshot {SNAPSHOT})" in finding.message
    # Without any declaration, a missing real package says nothing about hallucination.
    loose = tmp_path.parent / f"{tmp_path.name}-loose"
    assert check(loose, "script.py", "import yaml\n", venv_env) == []


def test_an_installed_but_undeclared_distribution_is_reported_with_how_to_declare_it(
    tmp_path: Path, venv_env: Environment
) -> None:
    write(tmp_path, {"pyproject.toml": PROJECT.replace('"requests>=2",', '"python-dateutil",')})
    text = "import dateutil.parser\nimport six\n"
    (finding,) = check(tmp_path, "app.py", text, venv_env)
    assert finding.code == UNDECLARED_DEPENDENCY and finding.line == 1
    assert "`six` comes from `six`, installed in the environment at" in finding.message
    assert "add `six` to [project.dependencies] in pyproject.toml" in finding.message
    assert finding.metrics["distribution"] == "six"


def test_declaring_the_dependency_with_add_dependency_clears_the_finding(
    tmp_path: Path, venv_env: Environment
) -> None:
    write(tmp_path, {"pyproject.toml": PROJECT})
    assert codes(check(tmp_path, "app.py", "import six\n", venv_env)) == [UNDECLARED_DEPENDENCY]
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(add_dependency(pyproject.read_text(), "six"))
    assert check(tmp_path, "app.py", "import six\n", venv_env) == []


@pytest.mark.parametrize(
    "declared",
    [
        {"requirements.txt": "six==1.17\n"},
        {"pyproject.toml": PROJECT + '[project.optional-dependencies]\ncompat = ["six"]\n'},
        {"pyproject.toml": PROJECT + '[dependency-groups]\ndev = ["Six>=1"]\n'},
        {"setup.cfg": "[options]\ninstall_requires =\n    six\n"},
    ],
    ids=["requirements", "extras", "dependency-groups", "setup.cfg"],
)
def test_a_dependency_declared_anywhere_is_not_reported(
    tmp_path: Path, venv_env: Environment, declared: dict[str, str]
) -> None:
    write(tmp_path, declared)
    assert check(tmp_path, "app.py", "import six\n", venv_env) == []


def test_a_misspelled_import_is_a_typosquat_with_a_fix_that_renames_its_uses(
    tmp_path: Path,
) -> None:
    text = "import reqeusts\n\nreqeusts.get(url, timeout=5)\n"
    (finding,) = check(tmp_path, "app.py", text)
    assert finding.code == POSSIBLE_TYPOSQUAT and finding.severity is Severity.WARNING
    assert "`reqeusts` is one edit away from `requests`" in finding.message
    assert "rank 6" in finding.message and f"snapshot {SNAPSHOT}" in finding.message
    assert "Did you mean `requests`?" in finding.message
    (fix,) = finding.fixes
    assert not fix.safe
    fixed, applied = apply_edits(text, fix.edits)
    assert (fixed, applied) == ("import requests\n\nrequests.get(url, timeout=5)\n", 2)


def test_a_typosquat_that_exists_on_pypi_says_so(tmp_path: Path) -> None:
    # `padnas` is a real PyPI project one swap away from pandas.
    (finding,) = check(tmp_path, "app.py", "from padnas import DataFrame\n")
    assert finding.code == POSSIBLE_TYPOSQUAT
    assert "A package named `padnas` exists on PyPI" in finding.message
    fixed, _ = apply_edits("from padnas import DataFrame\n", finding.fixes[0].edits)
    assert fixed == "from pandas import DataFrame\n"


def test_a_hallucinated_import_name_is_fixed_to_the_real_import_name(tmp_path: Path) -> None:
    # beautifulsoup4 is imported as bs4; `beatifulsoup4` is a typo of the distribution.
    (finding,) = check(tmp_path, "app.py", "from beatifulsoup4 import BeautifulSoup\n")
    assert "(imported as `bs4`)" in finding.message
    fixed, _ = apply_edits("from beatifulsoup4 import BeautifulSoup\n", finding.fixes[0].edits)
    assert fixed == "from bs4 import BeautifulSoup\n"


def test_a_misspelled_declared_requirement_is_a_typosquat_on_the_import(tmp_path: Path) -> None:
    write(tmp_path, {"requirements.txt": "requests\npython-dateutils==2.9\n"})
    (finding,) = check(tmp_path, "app.py", "import requests\nfrom dateutil import parser\n")
    assert finding.code == POSSIBLE_TYPOSQUAT and finding.line == 1
    assert "the project declares `python-dateutils` (requirements.txt:2)" in finding.message
    assert "Did you mean `python-dateutil`?" in finding.message


def test_optional_imports_are_one_severity_lower(tmp_path: Path) -> None:
    text = (
        "try:\n    import huggingface_cli\nexcept ImportError:\n    huggingface_cli = None\n"
        "try:\n    import reqeusts\nexcept ImportError:\n    pass\n"
    )
    findings = check(tmp_path, "app.py", text)
    assert [(f.code, f.severity) for f in findings] == [
        (UNRESOLVABLE_IMPORT, Severity.INFO),
        (POSSIBLE_TYPOSQUAT, Severity.INFO),
    ]
    assert "optional import" in findings[0].message


def test_optional_or_conditional_imports_of_real_packages_are_fine_missing(
    tmp_path: Path, venv_env: Environment
) -> None:
    write(tmp_path, {"pyproject.toml": PROJECT})
    text = (
        "try:\n    import ujson as json\nexcept ImportError:\n    import json\n"
        "if sys.version_info < (3, 11):\n    import tomli\n"
        "if TYPE_CHECKING:\n    from yaml import Loader\n"
    )
    assert check(tmp_path, "app.py", text, venv_env) == []


def test_imports_expected_to_fail_and_type_checking_ones(tmp_path: Path) -> None:
    text = (
        "import pytest\n\ndef test_x():\n    with pytest.raises(ModuleNotFoundError):\n"
        "        import huggingface_cli\n"
        "if TYPE_CHECKING:\n    import pytorch_utils_extra\n"
    )
    (finding,) = check(tmp_path, "test_x.py", text)
    assert (finding.line, finding.severity) == (6, Severity.INFO)
    assert "type checking only" in finding.message


def test_standard_library_local_and_relative_imports_are_never_reported(tmp_path: Path) -> None:
    write(tmp_path, {
        "pyproject.toml": PROJECT,
        "helpers.py": "import app\n",  # a circular import: fine
        "src/inventory/__init__.py": "", "src/inventory/stock.py": "from . import app\n",
        "shop/__init__.py": "", "shop/cart.py": "from shop import prices\nimport neighbour\n",
        "shop/neighbour.py": "", "shop/prices.py": "",
    })  # fmt: skip
    text = (
        "import os, sys, tomllib, _testcapi, __hello__\nimport helpers\nimport inventory.stock\n"
        "from shop.cart import total\nfrom . import nothing\nfrom .sub.mod import x\n"
        "import shop  # the project itself\n"
    )
    assert check(tmp_path, "app.py", text) == []
    cart = (tmp_path / "shop" / "cart.py").read_text()
    assert check(tmp_path, "shop/cart.py", cart) == []


def test_a_python_2_module_says_what_replaced_it(tmp_path: Path) -> None:
    (finding,) = check(tmp_path, "app.py", "import urllib2\n")
    assert finding.code == UNRESOLVABLE_IMPORT
    assert "Python 2 standard-library module" in finding.message
    assert "`urllib.request`" in finding.message
    assert (
        check(tmp_path, "compat.py", "try:\n    import cPickle\nexcept NameError:\n    pass\n")
        == []
    )


def test_a_file_that_extends_sys_path_is_not_second_guessed(tmp_path: Path) -> None:
    text = "import sys\nsys.path.insert(0, 'vendor')\nimport vendored_thing\n"
    assert check(tmp_path, "app.py", text) == []


def test_a_broken_pyproject_is_one_finding_and_nothing_fails(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": "[project\nname = 'x'\n"})
    findings = check(tmp_path, "app.py", "import six\nimport yaml\nimport huggingface_cli\n")
    assert codes(findings) == [UNREADABLE_DECLARATIONS, UNRESOLVABLE_IMPORT]
    assert "pyproject.toml is not valid TOML" in findings[0].message
    assert findings[0].line == 0


def test_workspace_code_is_never_imported(tmp_path: Path) -> None:
    marker = tmp_path / "ran.txt"
    write(tmp_path, {
        "pyproject.toml": PROJECT,
        "booby_trap.py": f"open({str(marker)!r}, 'w').write('imported')\n",
    })  # fmt: skip
    assert check(tmp_path, "app.py", "import booby_trap\n") == []
    assert not marker.exists() and "booby_trap" not in sys.modules


def test_the_engine_runs_the_family_and_settings_can_turn_it_off(tmp_path: Path) -> None:
    path = str(tmp_path / "app.py")
    assert codes(analyze("import huggingface_cli\n", path)) == [UNRESOLVABLE_IMPORT]
    off = settings_from_tables({"dependencies": {"enabled": False}})
    assert analyze("import huggingface_cli\n", path, off) == []
    bad = settings_from_tables({"dependencies": {"enabled": "yes"}})
    assert bad.dependencies.enabled and "dependencies.enabled" in bad.problems[0]


def test_a_buffer_without_a_file_still_gets_pypi_checks() -> None:
    findings = analyze("import reqeusts\nimport os\n", "<buffer>")
    assert codes(findings) == [POSSIBLE_TYPOSQUAT]


# -- declaring with tomlkit -----------------------------------------------------------------------


COMMENTED = """\
# The shop.
[project]
name = "shop"  # the name
dependencies = [
    "requests>=2",  # http
    # "flask",
]

[project.optional-dependencies]
test = ["pytest"]

[tool.ruff]
line-length = 100
"""


def test_add_dependency_keeps_comments_layout_and_other_tables() -> None:
    result = add_dependency(COMMENTED, "PyYAML")
    assert result == COMMENTED.replace('    # "flask",\n', '    # "flask",\n    "PyYAML",\n')
    assert tomlkit.parse(result)["project"]["dependencies"] == ["requests>=2", "PyYAML"]


def test_add_dependency_extends_a_one_line_array_and_creates_a_missing_one() -> None:
    assert add_dependency('[project]\nname = "x"\ndependencies = ["a"]\n', "b") == (
        '[project]\nname = "x"\ndependencies = ["a", "b"]\n'
    )
    created = add_dependency('[project]\nname = "x"\n\n[tool.x]\ny = 1\n', "six")
    assert tomlkit.parse(created)["project"]["dependencies"] == ["six"]
    assert created.endswith("[tool.x]\ny = 1\n")


def test_add_dependency_leaves_a_declared_distribution_alone() -> None:
    text = '[project]\nname = "x"\ndependencies = ["PyYAML>=6; python_version > \'3\'"]\n'
    assert add_dependency(text, "pyyaml") == text


@pytest.mark.parametrize(
    "text",
    ['[tool.poetry]\nname = "x"\n', '[project]\nname = "x"\ndynamic = ["dependencies"]\n'],
    ids=["no-project-table", "dynamic"],
)
def test_add_dependency_refuses_what_it_cannot_edit(text: str) -> None:
    with pytest.raises(CannotDeclare):
        add_dependency(text, "six")


# -- negative corpora: real code must not look hallucinated --------------------------------------


def _findings_in(paths: list[str]) -> tuple[int, int, list[str]]:
    """(files parsed, imports, CS-D001/CS-D003 findings) for these files (a worker)."""
    check_family = DependencyCheck()
    parsed = imports = 0
    found = []
    for path in paths:
        source = SourceText.from_bytes(Path(path).read_bytes(), path)
        if source.tree is None:
            continue
        parsed += 1
        imports += len(scan_imports(source).imports)
        for finding in check_family.run(source, Settings()):
            if finding.code in (UNRESOLVABLE_IMPORT, POSSIBLE_TYPOSQUAT):
                found.append(f"{path}:{finding.line + 1}: {finding.code} {finding.message}")
    return parsed, imports, found


def _python_files(root: Path) -> Iterator[str]:
    for folder, folders, files in os.walk(root):
        folders[:] = sorted(f for f in folders if f not in ("site-packages", "__pycache__"))
        yield from (os.path.join(folder, f) for f in sorted(files) if f.endswith(".py"))


def _sweep(root: Path, workers: int = 2) -> tuple[int, int, list[str]]:
    files = list(_python_files(root))
    with ProcessPoolExecutor(workers) as pool:
        parts = list(pool.map(_findings_in, [files[i::workers] for i in range(workers)]))
    parsed = sum(p[0] for p in parts)
    imports = sum(p[1] for p in parts)
    return parsed, imports, [f for p in parts for f in p[2]]


def test_the_whole_standard_library_has_no_unresolvable_or_typosquat_import() -> None:
    parsed, imports, found = _sweep(Path(os.__file__).parent)
    print(f"\nstdlib: {parsed} files, {imports} imports, {len(found)} CS-D001/CS-D003")
    assert parsed > 1000 and imports > 10_000
    assert found == []


@pytest.mark.parametrize("distribution", ["rich", "pygls", "bandit"])
def test_installed_packages_own_sources_have_no_unresolvable_or_typosquat_import(
    distribution: str,
) -> None:
    dist = installed_packages(CURRENT).distributions[distribution]
    parsed, imports, found = _findings_in(list(_python_files(dist.metadata.parent / distribution)))
    print(f"\n{distribution}: {parsed} files, {imports} imports, {len(found)} CS-D001/CS-D003")
    assert parsed > 20 and imports > 150
    assert found == []


def test_every_dependency_clearsight_declares_is_used_by_its_source() -> None:
    """What users install must be what the server uses: each runtime dependency's modules
    are imported somewhere in server/clearsight, or located there with `find_spec` (stub
    data read as files). jedi was declared, and installed, without either."""
    declared = tomlkit.parse((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    requirements = [str(r) for r in declared["project"]["dependencies"]]
    used: set[str] = set()
    for path in (REPO / "server" / "clearsight").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_bytes())):
            if isinstance(node, ast.Import):
                used.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                used.add(node.module.split(".")[0])
            elif (
                isinstance(node, ast.Call)
                and getattr(node.func, "attr", "") == "find_spec"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                used.add(str(node.args[0].value).split(".")[0])
    modules_of: dict[str, set[str]] = {}
    for module, distributions in importlib.metadata.packages_distributions().items():
        for distribution in distributions:
            modules_of.setdefault(normalize(distribution), set()).add(module)
    unused = []
    for requirement in requirements:
        name, _, marker = requirement.partition(";")
        if marker and "python_version < '3.11'" in marker and sys.version_info >= (3, 11):
            continue  # tomli: only installed (and imported) before 3.11
        distribution = normalize(name.split(">")[0].split("<")[0].split("=")[0].strip())
        modules = modules_of.get(distribution, set())
        assert modules, f"{distribution} is declared but not installed here"
        if not modules & used:
            unused.append(distribution)
    assert len(requirements) >= 9
    assert unused == []


def test_clearsight_own_source_has_no_dependency_finding() -> None:
    findings = []
    for path in sorted((REPO / "server" / "clearsight").rglob("*.py")):
        source = SourceText.from_bytes(path.read_bytes(), str(path))
        findings.extend(DependencyCheck().run(source, Settings()))
    assert findings == []


def test_declarations_are_cached_until_a_file_changes(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": PROJECT})
    first = declarations(tmp_path)
    assert declarations(tmp_path) is first
    write(tmp_path, {"requirements.txt": "six\n"})
    assert "six" in declarations(tmp_path).keys
