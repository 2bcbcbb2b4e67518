"""The file system as one analysis sees it: each path looked at once inside a view, every
time outside one, and a view is its own thread's."""

from __future__ import annotations

import threading
from pathlib import Path

from clearsight import disk_view
from clearsight.deps.listing import FOLDERS
from clearsight.engine import analyze
from clearsight.settings import Settings


def test_outside_a_view_every_call_looks_again(tmp_path: Path) -> None:
    path = tmp_path / "module.py"
    assert not disk_view.exists(str(path))
    path.write_text("x = 1\n")
    assert disk_view.is_file(str(path))
    assert not disk_view.is_dir(str(path))


def test_inside_a_view_a_path_is_looked_at_once(tmp_path: Path) -> None:
    path = tmp_path / "module.py"
    with disk_view.one_view():
        assert not disk_view.exists(str(path))
        path.write_text("x = 1\n")
        assert not disk_view.exists(str(path))  # as the analysis first saw it
        with disk_view.one_view():  # a nested view is the outer one
            assert not disk_view.exists(str(path))
    with disk_view.one_view():  # the next analysis sees the file
        assert disk_view.is_file(str(path))


def test_a_view_is_its_own_threads(tmp_path: Path) -> None:
    path = tmp_path / "module.py"
    seen: list[bool] = []
    with disk_view.one_view():
        assert not disk_view.exists(str(path))
        path.write_text("x = 1\n")
        worker = threading.Thread(target=lambda: seen.append(disk_view.exists(str(path))))
        worker.start()
        worker.join()
    assert seen == [True]


def test_bad_names_are_not_files() -> None:
    assert disk_view.stat("a\0b") is None
    assert not disk_view.is_file("")


def test_folder_listing_follows_the_disk_between_analyses(tmp_path: Path) -> None:
    """A module added next to a file is seen by the next analysis (the listing is keyed by
    the folder's mtime, read once per analysis)."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    with disk_view.one_view():
        assert "helpers" not in FOLDERS.get(str(tmp_path)).names
    (tmp_path / "helpers.py").write_text("def f(): ...\n")
    with disk_view.one_view():
        assert "helpers" in FOLDERS.get(str(tmp_path)).names


def test_a_project_module_added_between_analyses_is_followed(tmp_path: Path) -> None:
    """The dataflow family finds a project module created after the first analysis: a
    request parameter passed through it reaches os.system."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    app = tmp_path / "app.py"
    app.write_text(
        "import os\nfrom flask import Flask, request\nfrom helpers import passthrough\n"
        "app = Flask(__name__)\n\n@app.route('/run')\ndef run():\n"
        "    os.system(passthrough(request.args['cmd']))\n    return 'ok'\n"
    )
    settings = Settings()
    before = {f.code for f in analyze(app.read_text(), str(app), settings)}
    (tmp_path / "helpers.py").write_text("def passthrough(value):\n    return value\n")
    after = {f.code for f in analyze(app.read_text(), str(app), settings)}
    assert "CS-S002" in after, after
    assert "CS-S002" not in before, before  # the call into an unknown module: not followed
