"""The project's environment: the dependency checks look installed packages up in the
interpreter configured for the project (pyproject.toml, the editor, `--python`), else in the
project's `.venv`/`venv`, else in the Python running Clearsight, saying so once.

Everything is real: virtual environments built with `python -m venv` and a small package
installed into one from PyPI (tabulate, which the Python running the tests does not have),
the `clearsight` command line as a subprocess, and the language server over stdio.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import client_capabilities
from test_dependencies import PROJECT, build_venv, codes, venv_python, write
from test_lsp import SERVER, EditorClient, open_document, pushed_until, start

from clearsight.checks.api_existence import NONEXISTENT_API, ApiExistenceCheck
from clearsight.checks.dependencies import (
    UNDECLARED_DEPENDENCY,
    UNRESOLVABLE_IMPORT,
    DependencyCheck,
)
from clearsight.checks.warm_up import warm_up
from clearsight.deps.environment import (
    _CACHE,
    ENVIRONMENTS,
    Environment,
    ProjectEnvironments,
)
from clearsight.deps.pypi import bundled_index
from clearsight.engine import analyze
from clearsight.settings import SettingsResolver
from clearsight.source import SourceText

# tabulate's module is `tabulate`; the function `tabulate.tabulate` exists, `tabulatee` does not.
USES_TABULATE = "import tabulate\n\nprint(tabulate.tabulate([[1]]))\nprint(tabulate.tabulatee)\n"


@pytest.fixture(scope="session")
def tabulate_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real virtual environment with tabulate installed (not installed for the tests)."""
    with pytest.raises(ImportError):
        __import__("tabulate")
    return build_venv(tmp_path_factory.mktemp("tabulate") / "env", "tabulate==0.9.0")


def project_with(root: Path, dependencies: str = "", extra: str = "") -> Path:
    """A project declaring `requests` only, with `[tool.clearsight.dependencies]` lines."""
    table = f"\n[tool.clearsight.dependencies]\n{dependencies}" if dependencies else ""
    write(root, {"pyproject.toml": PROJECT + table + extra, "app.py": USES_TABULATE})
    return root / "app.py"


def findings_for(path: Path, text: str = USES_TABULATE) -> list[str]:
    settings = SettingsResolver().for_path(path)
    found = analyze(SourceText(text, path=str(path)), str(path), settings)
    return [f.code for f in found if f.code.startswith("CS-D00") and f.code != "CS-D006"]


@pytest.fixture(autouse=True)
def fresh_resolutions() -> None:
    ENVIRONMENTS.clear()  # each test makes its own projects; a clean cache keeps them apart


# -- resolution ---------------------------------------------------------------------------------


def test_the_configured_interpreter_relative_to_pyproject_is_where_imports_are_found(
    tmp_path: Path, tabulate_venv: Path
) -> None:
    shutil.copytree(tabulate_venv, tmp_path / "envs" / "main", symlinks=True)
    path = project_with(tmp_path, 'python = "envs/main/bin/python"\n')
    assert findings_for(path) == [UNDECLARED_DEPENDENCY, NONEXISTENT_API]
    resolved = ENVIRONMENTS.for_file(str(path), SettingsResolver().for_path(path))
    assert resolved.environment.site_packages[0].is_relative_to(tmp_path / "envs" / "main")
    assert resolved.notice is None
    assert "(set by [tool.clearsight.dependencies] python in " in (resolved.environment.description)


def test_without_a_setting_the_project_venv_is_used_dot_venv_first(
    tmp_path: Path, tabulate_venv: Path
) -> None:
    path = project_with(tmp_path)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "venv")],
                   check=True)  # fmt: skip
    assert findings_for(path) == [UNRESOLVABLE_IMPORT]  # venv/ has no tabulate
    shutil.copytree(tabulate_venv, tmp_path / ".venv", symlinks=True)
    # Found as soon as it exists: no cache to clear, no restart.
    assert findings_for(path) == [UNDECLARED_DEPENDENCY, NONEXISTENT_API]
    resolved = ENVIRONMENTS.for_file(str(path), SettingsResolver().for_path(path))
    assert resolved.environment.description.endswith("(the project's .venv)")


def test_with_nothing_configured_the_running_python_is_used_and_said(tmp_path: Path) -> None:
    path = project_with(tmp_path)
    assert findings_for(path) == [UNRESOLVABLE_IMPORT]
    resolved = ENVIRONMENTS.for_file(str(path), SettingsResolver().for_path(path))
    assert resolved.environment == Environment.current() and not resolved.problem
    assert resolved.notice is not None and str(tmp_path) in resolved.notice
    assert sys.executable in resolved.notice


def test_a_configured_environment_created_later_is_found_then(
    tmp_path: Path, tabulate_venv: Path
) -> None:
    path = project_with(tmp_path, 'python = "env/bin/python"\n')
    assert findings_for(path) == [UNRESOLVABLE_IMPORT]
    shutil.copytree(tabulate_venv, tmp_path / "env", symlinks=True)
    assert findings_for(path) == [UNDECLARED_DEPENDENCY, NONEXISTENT_API]


@pytest.mark.parametrize("configured", ["missing/bin/python", "pyproject.toml"])
def test_an_unusable_configured_path_is_named_with_its_setting_and_falls_back(
    tmp_path: Path, configured: str
) -> None:
    path = project_with(tmp_path, f'python = "{configured}"\n')
    assert findings_for(path) == [UNRESOLVABLE_IMPORT]
    resolved = ENVIRONMENTS.for_file(str(path), SettingsResolver().for_path(path))
    assert resolved.problem and resolved.environment == Environment.current()
    assert str(tmp_path / configured) in (resolved.notice or "")
    assert "[tool.clearsight.dependencies] python" in (resolved.notice or "")


def test_the_configured_interpreter_is_read_never_run(tmp_path: Path) -> None:
    """A workspace is untrusted: its `python` may be anything. A file that would record being
    run is configured as the interpreter of a hand-made environment."""
    marker = tmp_path / "ran.txt"
    env = tmp_path / "env"
    site = env / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    write(env, {"pyvenv.cfg": "home = /nowhere\n"})
    (site / "site-packages" / "tabulate").mkdir(parents=True)
    (site / "site-packages" / "tabulate" / "__init__.py").write_text("def tabulate(): ...\n")
    python = env / "bin" / "python"
    python.parent.mkdir()
    python.write_text(f"#!/bin/sh\ntouch {marker}\n")
    python.chmod(0o755)
    path = project_with(tmp_path / "project", f'python = "{python}"\n')
    # Found there (it has no metadata, so there is no distribution to declare).
    assert findings_for(path) == [NONEXISTENT_API]
    assert not marker.exists()


def test_editor_settings_and_the_command_line_name_themselves(tmp_path: Path) -> None:
    path = project_with(tmp_path)
    editor = SettingsResolver({"dependencies": {"python": "nope"}}).for_path(path)
    assert editor.dependencies.python == "nope"
    assert editor.dependencies.python_setting == "dependencies.python in the editor settings"
    cli = SettingsResolver().for_path(path).with_cli_overrides(python="nope")
    assert cli.dependencies.python == str(Path("nope").absolute())
    assert cli.dependencies.python_setting == "--python"
    bad = SettingsResolver({"dependencies": {"python": 3}}).for_path(path)
    assert bad.dependencies.python is None and any("python" in p for p in bad.problems)


def test_resolutions_are_cached_per_project_and_configuration(
    tmp_path: Path, tabulate_venv: Path
) -> None:
    environments = ProjectEnvironments()
    path = project_with(tmp_path)
    plain = SettingsResolver().for_path(path)
    configured = SettingsResolver({"dependencies": {"python": str(tabulate_venv)}}).for_path(path)
    first = environments.for_file(str(path), plain)
    assert environments.for_file(str(tmp_path / "other.py"), plain) is first
    chosen = environments.for_file(str(path), configured)
    assert chosen is not first and chosen.environment == Environment.from_prefix(tabulate_venv)
    # A caller without settings gets the project's last configuration.
    assert environments.for_file(str(path)) is chosen


def test_the_three_checks_use_the_file_projects_environment(
    tmp_path: Path, tabulate_venv: Path
) -> None:
    """One process, two projects: one with the venv configured, one with nothing. No check
    keeps a process-wide environment."""
    configured = project_with(tmp_path / "a", f'python = "{venv_python(tabulate_venv)}"\n')
    plain = project_with(tmp_path / "b")
    for _ in range(2):  # in either order, every time
        assert findings_for(configured) == [UNDECLARED_DEPENDENCY, NONEXISTENT_API]
        assert findings_for(plain) == [UNRESOLVABLE_IMPORT]


def test_an_injected_environment_still_wins(tmp_path: Path, tabulate_venv: Path) -> None:
    path = project_with(tmp_path)
    source = SourceText(USES_TABULATE, path=str(path))
    settings = SettingsResolver().for_path(path)
    injected = Environment.from_prefix(tabulate_venv)
    assert codes(list(DependencyCheck(injected).run(source, settings))) == [UNDECLARED_DEPENDENCY]
    assert codes(list(ApiExistenceCheck(injected).run(source, settings))) == [NONEXISTENT_API]


def test_warm_up_loads_what_the_first_analysis_needs(tmp_path: Path, tabulate_venv: Path) -> None:
    project_with(tmp_path, f'python = "{tabulate_venv}"\n')
    settings = SettingsResolver().for_path(tmp_path / "app.py")
    pauses: list[float] = []
    done = warm_up(tmp_path, settings, pause=lambda: pauses.append(time.perf_counter()))
    assert done is not None
    assert len(pauses) > 10  # the editor's analyses can take turns between its steps
    assert done.project.environment == Environment.from_prefix(tabulate_venv)
    assert Environment.from_prefix(tabulate_venv) in _CACHE  # installed packages read
    assert bundled_index()._names is not None  # the PyPI names loaded
    assert bundled_index().popular._postings is not None  # and the typo index built
    print(f"\nwarm-up: {done.seconds * 1000:.0f} ms")


# -- the command line ---------------------------------------------------------------------------


def clearsight(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "clearsight", "check", "--no-cache", *args],
        cwd=cwd, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_check_python_option_is_relative_to_the_current_folder(
    tmp_path: Path, tabulate_venv: Path
) -> None:
    project_with(tmp_path / "project")
    shutil.copytree(tabulate_venv, tmp_path / "env", symlinks=True)
    run = clearsight("--python", "../env/bin/python", "--jobs", "1", cwd=tmp_path / "project")
    assert "CS-D002" in run.stdout and "CS-D001" not in run.stdout
    assert "(set by --python)" in run.stdout
    assert run.stderr == ""


def test_check_says_once_on_stderr_that_it_fell_back(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": PROJECT, "a.py": "import tabulate\n",
                     "b.py": "import tabulate\n", "c.py": "x = 1\n"})  # fmt: skip
    run = clearsight("--jobs", "2", cwd=tmp_path)
    assert run.stdout.count("CS-D001") == 2
    notes = run.stderr.splitlines()
    assert len(notes) == 1 and notes[0].startswith("clearsight: note: No interpreter is")
    assert str(tmp_path) in notes[0]
    # A run without dependency findings has nothing the fallback explains: it stays quiet.
    assert clearsight("c.py", cwd=tmp_path).stderr == ""


def test_check_warns_once_about_an_unusable_python(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": PROJECT, "a.py": "x = 1\n", "b.py": "y = 2\n"})
    run = clearsight("--python", "nowhere/python", cwd=tmp_path)
    assert run.returncode == 0
    (line,) = run.stderr.splitlines()
    assert line.startswith(f"clearsight: warning: The interpreter {tmp_path / 'nowhere'}")
    assert "(--python) does not exist" in line


# -- the language server ------------------------------------------------------------------------


@pytest_lsp.fixture(config=SERVER)
async def server(lsp_client: EditorClient):
    yield lsp_client
    await lsp_client.shutdown_session()


async def logged(client: EditorClient, text: str, timeout: float = 30.0) -> None:
    async def wait() -> None:
        while not any(text in m.message for m in client.log_messages):
            await asyncio.sleep(0.05)

    await asyncio.wait_for(wait(), timeout)


async def test_the_editor_interpreter_is_used_and_warmed_up_at_start(
    server: EditorClient, tmp_path: Path, tabulate_venv: Path
) -> None:
    path = project_with(tmp_path)
    options = {"debounce": 0, "dependencies": {"python": str(venv_python(tabulate_venv))}}
    await start(server, client_capabilities("visual-studio-code"), tmp_path, options)
    await logged(server, "loaded in the background")
    (warmed,) = [m for m in server.log_messages if "loaded in the background" in m.message]
    assert "(set by dependencies.python in the editor settings)" in warmed.message
    uri = path.as_uri()
    open_document(server, uri, USES_TABULATE)
    found = await pushed_until(server, uri, lambda d: any(x.code == "CS-D002" for x in d))
    assert "CS-D001" not in [x.code for x in found]
    assert not any("No interpreter is configured" in m.message for m in server.log_messages)


async def test_the_fallback_is_logged_once_per_project(
    server: EditorClient, tmp_path: Path
) -> None:
    path = project_with(tmp_path)
    write(tmp_path, {"other.py": "import tabulate\n"})
    await start(server, client_capabilities("visual-studio-code"), tmp_path)
    for name in ("app.py", "other.py"):
        uri = (tmp_path / name).as_uri()
        open_document(server, uri, (tmp_path / name).read_text())
        await pushed_until(server, uri, lambda d: any(x.code == "CS-D001" for x in d))
    await logged(server, "loaded in the background")
    fallback = [m for m in server.log_messages if "No interpreter is configured" in m.message]
    assert len(fallback) == 1, server.log_messages
    assert fallback[0].type == types.MessageType.Info and str(tmp_path) in fallback[0].message
    assert path.exists()


async def test_an_unusable_editor_interpreter_is_a_warning_naming_it(
    server: EditorClient, tmp_path: Path
) -> None:
    path = project_with(tmp_path)
    options = {"debounce": 0, "dependencies": {"python": str(tmp_path / "gone" / "python")}}
    await start(server, client_capabilities("visual-studio-code"), tmp_path, options)
    uri = path.as_uri()
    open_document(server, uri, USES_TABULATE)
    await pushed_until(server, uri, lambda d: any(x.code == "CS-D001" for x in d))
    (warning,) = [m for m in server.messages if "gone" in m.message]
    assert warning.type == types.MessageType.Warning
    assert f"{tmp_path / 'gone' / 'python'} (dependencies.python in the editor settings)" in (
        warning.message
    )
    assert "does not exist" in warning.message


def test_the_dependency_stamp_follows_declarations_in_a_long_running_process(
    tmp_path: Path,
) -> None:
    """The language server lives for hours: result ids of closed files (workspace/diagnostic)
    must change when the project's declarations do, without a restart."""
    from clearsight.cli.runner import ROOT_STAMP_SECONDS, dependency_stamp

    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\ndependencies = []\n', encoding="utf-8")
    module = tmp_path / "m.py"
    module.write_text("import yaml\n", encoding="utf-8")
    first = dependency_stamp(module)
    pyproject.write_text('[project]\nname = "x"\ndependencies = ["PyYAML"]\n', encoding="utf-8")
    time.sleep(ROOT_STAMP_SECONDS + 0.2)
    assert dependency_stamp(module) != first
