"""Files on disk that go wrong while `clearsight check` and `review` run: changed or
deleted during the run, a cache folder that cannot be written, and a change whose files
are NUL-ridden, not UTF-8, 1,000 deep, unreadable, symlink loops or FIFOs; FIFOs, sockets
and devices named on the command line or found in a folder. Each gets a clear
finding or message and the right exit code, and nothing else is lost."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_cli import YAML_LOAD, clearsight, write
from test_provenance import git, make_repo
from test_review import review

from clearsight.cli import main as cli_main

FIXABLE = "import yaml\n\n\ndef load(text):\n    return yaml.load(text)\n"  # B506, a safe fix
USERS_EDIT = "import yaml\n\n\ndef load(text):\n    return yaml.load(text)  # mine, just typed\n"


def _check_in_process(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    project: Path,
    meanwhile: Callable[[], None],
    *args: str,
) -> tuple[int, str, str]:
    """`clearsight check ARGS` in this process, with `meanwhile` happening to the files
    between the analysis and what follows it (as a person or an agent editing would)."""
    analyse = cli_main.run

    def analyse_then_edit(*positional: Any, **named: Any) -> Any:
        result = analyse(*positional, **named)
        meanwhile()
        return result

    monkeypatch.setattr(cli_main, "run", analyse_then_edit)
    monkeypatch.chdir(project)
    code = cli_main.main(["check", "--no-cache", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_fix_leaves_a_file_that_changed_during_the_run_as_its_user_left_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, {"edited.py": FIXABLE, "still.py": FIXABLE})
    edited = tmp_path / "edited.py"
    code, out, err = _check_in_process(
        monkeypatch, capsys, tmp_path, lambda: edited.write_text(USERS_EDIT), "--fix"
    )
    assert edited.read_text() == USERS_EDIT  # the user's edit, not the fix applied over it
    assert "yaml.safe_load(text)" in (tmp_path / "still.py").read_text()
    assert "edited.py: not fixed, it changed during the run; run again to fix it" in err
    assert code == 1 and "edited.py:5:12: B506" in out
    # Run again: now it is fixed.
    monkeypatch.undo()
    again = clearsight("--no-cache", "--fix", cwd=tmp_path)
    assert "yaml.safe_load(text)  # mine, just typed" in edited.read_text()
    assert again.returncode == 0, again.stdout


def test_fix_does_not_bring_back_a_file_deleted_during_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, {"gone.py": FIXABLE, "still.py": FIXABLE})
    gone = tmp_path / "gone.py"
    code, out, err = _check_in_process(monkeypatch, capsys, tmp_path, gone.unlink, "--fix")
    assert not gone.exists()
    assert "gone.py: not fixed, it cannot be read now (No such file or directory)" in err
    assert "yaml.safe_load(text)" in (tmp_path / "still.py").read_text()
    assert code == 1 and "gone.py:5:12: B506" in out  # what was checked is still reported


def test_a_file_deleted_before_it_is_read_is_an_error_and_the_rest_is_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, {"a_gone.py": FIXABLE, "loader.py": YAML_LOAD})
    discover = cli_main.discover

    def discover_then_delete(*positional: Any, **named: Any) -> Any:
        found = discover(*positional, **named)
        (tmp_path / "a_gone.py").unlink()
        return found

    monkeypatch.setattr(cli_main, "discover", discover_then_delete)
    monkeypatch.chdir(tmp_path)
    code = cli_main.main(["check", "--no-cache"])
    out = capsys.readouterr().out
    assert code == 2
    gone = "a_gone.py:1:1: CS-E002 [error] Could not read the file: No such file or directory"
    assert gone in out
    assert "loader.py:5:12: B506" in out


def test_a_cache_that_cannot_be_written_is_said_once_and_costs_only_speed(tmp_path: Path) -> None:
    write(tmp_path, {"loader.py": YAML_LOAD, "other.py": YAML_LOAD, "not_a_folder": "x"})
    runs = [clearsight("--cache-dir", "not_a_folder/cache", cwd=tmp_path) for _ in range(2)]
    for run in runs:
        assert run.returncode == 1
        assert "loader.py:5:12: B506" in run.stdout and "other.py:5:12: B506" in run.stdout
        warnings = [line for line in run.stderr.splitlines() if "not cached" in line]
        assert warnings == [
            "clearsight: warning: results are not cached: cannot write "
            f"{Path('not_a_folder/cache') / warnings[0].split('/cache/')[1].split(' ')[0]} "
            "(Not a directory)"
        ], run.stderr
    assert (tmp_path / "not_a_folder").read_text() == "x"


def test_a_read_only_cache_folder_is_said_and_the_run_is_right(tmp_path: Path) -> None:
    """A real read-only bind mount in a private mount namespace (root cannot be kept out by
    permissions); skipped where the machine allows none."""
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("unshare is not installed")
    write(tmp_path, {"loader.py": YAML_LOAD})
    cache = tmp_path / "cache"
    cache.mkdir()
    script = (
        'mount --bind "$1" "$1" && mount -o remount,ro,bind "$1" && '
        'exec "$2" -m clearsight.cli.main check --cache-dir "$1"'
    )
    done = subprocess.run(
        [unshare, "--mount", "--map-root-user", "sh", "-c", script, "sh", str(cache),
         sys.executable],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    if "mount" in done.stderr and not done.stdout:
        pytest.skip(f"this machine allows no read-only mount: {done.stderr.strip()}")
    assert done.returncode == 1, done.stderr
    assert "loader.py:5:12: B506" in done.stdout
    assert "results are not cached: cannot write" in done.stderr
    assert "(Read-only file system)" in done.stderr
    assert "Traceback" not in done.stderr
    assert list(cache.iterdir()) == []


@pytest.fixture
def special_files(tmp_path: Path) -> Path:
    """A project whose folder holds a FIFO and a UNIX socket named like Python files."""
    write(tmp_path, {"loader.py": YAML_LOAD})
    os.mkfifo(tmp_path / "pipe.py")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(tmp_path / "sock.py"))
    listener.close()  # the socket file stays
    return tmp_path


def test_fifos_sockets_and_devices_named_on_the_command_line_are_said_not_read(
    special_files: Path,
) -> None:
    # A FIFO with no writer blocked the run for ever, and /dev/zero filled memory.
    for name, kind in (("pipe.py", "a FIFO"), ("sock.py", "a socket"),
                       ("/dev/zero", "a character device")):  # fmt: skip
        run = clearsight("--no-cache", "--format", "json", name, "loader.py",
                         cwd=special_files, timeout=30)  # fmt: skip
        assert run.returncode == 2, (name, run.stderr)
        found = {(f["path"], f["code"], f["message"]) for f in run.json()["findings"]}
        assert (
            name,
            "CS-E002",
            f"Could not read the file: it is {kind}, not a regular file.",
        ) in found
        assert ("loader.py", "B506") in {(path, code) for path, code, _ in found}
    text = clearsight("--no-cache", "pipe.py", cwd=special_files, timeout=30)
    assert "pipe.py:1:1: CS-E002" in text.stdout and text.returncode == 2


def test_fifos_and_sockets_in_a_folder_are_passed_over(special_files: Path) -> None:
    for args in ((), ("--shard", "1/2"), ("--shard", "2/2")):
        run = clearsight("--no-cache", "--format", "json", *args, cwd=special_files, timeout=30)
        assert not any(f["path"] in ("pipe.py", "sock.py") for f in run.json()["findings"])
    whole = clearsight("--no-cache", "--format", "json", cwd=special_files, timeout=30)
    assert (whole.returncode, whole.json()["files_checked"]) == (1, 1)


@pytest.fixture
def bad_change(tmp_path: Path) -> Path:
    repo = make_repo(tmp_path)  # app.py, committed on main
    git(repo, "checkout", "-q", "-b", "feature")
    write(
        repo,
        {
            "app.py": (repo / "app.py").read_text() + "import os\nos.system(input())\n",
            "nul.py": b"x = 1\ny = 2\x00\n",
            "latin.py": b'x = "caf\xe9"\n',
            "deep.py": "x = " + "(" * 1000 + "1" + ")" * 1000 + "\n",
        },
    )
    (repo / "loop_a.py").symlink_to("loop_b.py")
    (repo / "loop_b.py").symlink_to("loop_a.py")
    os.mkfifo(repo / "pipe.py")
    return repo


def test_review_of_a_change_full_of_bad_files_says_what_each_is(bad_change: Path) -> None:
    done = review(bad_change, "--format", "json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    introduced = {(f["path"], f["code"]) for f in data["findings"]["introduced"]}
    assert ("app.py", "CS-S002") in introduced
    assert ("latin.py", "CS-E002") in introduced
    assert ("deep.py", "CS-E001") in introduced
    notes = {f["path"]: f["note"] for f in data["files"]}
    assert not any(f["analysed"] for f in data["files"] if f["note"])
    assert notes["nul.py"] == "a binary file"
    assert notes["loop_a.py"] == notes["loop_b.py"] == "not a regular file in the working tree"
    assert "pipe.py" not in notes  # git lists no FIFO


def test_review_of_an_unreadable_file_is_an_error_not_a_deletion(bad_change: Path) -> None:
    (bad_change / "unreadable.py").symlink_to("/proc/self/mem")  # read() fails with EIO
    done = review(bad_change, "--fail-on", "never")
    assert done.returncode == 2
    assert "unreadable.py: Could not read the file: Input/output error" in done.stdout
    assert "clearsight: error: unreadable.py: could not be read; it is not reviewed" in done.stderr
    assert "app.py" in done.stdout and "CS-S002" in done.stdout  # the rest is reviewed
