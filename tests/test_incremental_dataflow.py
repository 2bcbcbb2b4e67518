"""The editor's dataflow analysis, unit by unit, must equal the whole-file engine's.

An edit between a source and a sink updates the finding; an edit in a helper updates the
findings of the functions that call it; and random edits of web apps and of standard
library modules give, after every edit, exactly what `engine.analyze` gives on the text.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
from random_edits import random_edits

from clearsight.engine import analyze
from clearsight.incremental import IncrementalAnalyzer
from clearsight.model import Finding
from clearsight.settings import Settings

STDLIB = Path(os.__file__).parent

APP = textwrap.dedent(
    """
    import os
    import sqlite3
    import subprocess
    from flask import Flask, request, redirect, session

    app = Flask(__name__)
    ALLOWED = {"a.txt", "b.txt"}


    def clean(value):
        return value


    def load(name):
        return open(os.path.join("files", name)).read()


    class Store:
        def __init__(self, path):
            self.connection = sqlite3.connect(path)

        def find(self, name):
            cursor = self.connection.cursor()
            cursor.execute("SELECT * FROM users WHERE name = '%s'" % name)
            return cursor.fetchall()

        def safe(self, name):
            cursor = self.connection.cursor()
            cursor.execute("SELECT * FROM users WHERE name = ?", (name,))
            return cursor.fetchall()


    @app.route("/file")
    def file():
        name = clean(request.args["name"])
        return load(name)


    @app.route("/user")
    def user():
        store = Store("db.sqlite")
        return str(store.find(request.args.get("name", "")))


    @app.route("/ping")
    def ping():
        host = request.args["host"]
        return subprocess.check_output(f"ping -c 1 {host}", shell=True)


    @app.route("/go")
    def go():
        target = request.args.get("next", "/")
        if target not in ALLOWED:
            return redirect("/")
        return redirect(target)


    @app.route("/remember", methods=["POST"])
    def remember():
        session["user"] = request.form["user"]
        return "ok"
    """
).lstrip()


def dataflow(findings: list[Finding]) -> list[tuple[str, int, int, str, tuple[object, ...]]]:
    return [
        (f.code, f.line, f.column, f.message, tuple((r.span, r.message) for r in f.related))
        for f in findings
        if f.code.startswith("CS-S")
    ]


def normal(findings: list[Finding]) -> list[str]:
    return sorted(repr(sorted(f.to_dict().items())) for f in findings)


def check(analyzer: IncrementalAnalyzer, text: str) -> list[Finding]:
    _, incremental = analyzer.analyze(text, Settings())
    whole = analyze(text, analyzer.path, Settings())
    assert dataflow(incremental) == dataflow(whole)
    assert normal(incremental) == normal(whole)
    return incremental


def codes(findings: list[Finding]) -> list[tuple[str, int]]:
    return [(f.code, f.line + 1) for f in findings if f.code.startswith("CS-S")]


def test_the_app_s_flows_are_found_in_the_editor_as_by_the_engine() -> None:
    analyzer = IncrementalAnalyzer("app.py")
    found = codes(check(analyzer, APP))
    assert ("CS-S001", 15) in found  # open() in load(), reached from file()
    assert ("CS-S003", 24) in found  # Store.find's execute, reached from user()
    assert ("CS-S002", 48) in found
    assert ("CS-S011", 61) in found
    assert not [line for code, line in found if code == "CS-S007"]  # allow-listed


def test_a_sanitizer_typed_between_source_and_sink_removes_the_finding() -> None:
    analyzer = IncrementalAnalyzer("app.py")
    check(analyzer, APP)
    quoted = APP.replace('host = request.args["host"]', 'host = shlex.quote(request.args["host"])')
    quoted = "import shlex\n" + quoted
    assert ("CS-S002", 48) in codes(check(analyzer, APP))
    assert ("CS-S002", 49) not in codes(check(analyzer, quoted))
    assert ("CS-S002", 48) in codes(check(analyzer, APP))


@pytest.mark.parametrize(
    "texts",
    [
        # A method called on a module at module level reads the name where it runs (its
        # statement may change it): the import removed, the flow must go, and come back.
        ("import os\nos.system(input())\n", "os.system(input())\n",
         "import os\nos.system(input())\n"),
        ("import os\nx = 1\nos.system(input())\n", "x = 1\nos.system(input())\n"),
        ("import subprocess as sp\nsp.call(input(), shell=True)\n",
         "sp = None\nsp.call(input(), shell=True)\n"),
        ("class C:\n    import os\n    os.system(input())\n",
         "class C:\n    os = None\n    os.system(input())\n"),
    ],
)  # fmt: skip
def test_a_binding_removed_from_another_statement_updates_a_module_level_call(
    texts: tuple[str, ...],
) -> None:
    analyzer = IncrementalAnalyzer("app.py")
    for text in texts:
        check(analyzer, text)


def test_editing_a_helper_updates_the_findings_of_its_callers() -> None:
    analyzer = IncrementalAnalyzer("app.py")
    assert ("CS-S001", 15) in codes(check(analyzer, APP))
    sanitised = APP.replace("    return value\n", "    return os.path.basename(value)\n", 1)
    assert ("CS-S001", 15) not in codes(check(analyzer, sanitised))
    assert ("CS-S001", 15) in codes(check(analyzer, APP))


HANDLERS = textwrap.dedent(
    """
    import os
    from flask import Flask, request

    app = Flask(__name__)


    def clean(value):
        return value


    def log(message):
        print("handled", message)


    CALLBACKS = [log]


    @app.route("/file")
    def file():
        cleaner = clean
        return open(cleaner(request.args["name"])).read()


    @app.route("/log")
    def log_view():
        handlers = {"log": log}
        return open(os.path.join("files", "static.txt")).read() + str(len(handlers))
    """
)


def test_a_function_called_through_a_variable_is_followed_after_its_body_changes() -> None:
    analyzer = IncrementalAnalyzer("app.py")
    line = HANDLERS.splitlines().index('    return open(cleaner(request.args["name"])).read()')
    assert ("CS-S001", line + 1) in codes(check(analyzer, HANDLERS))
    cleaned = HANDLERS.replace("    return value\n", "    return os.path.basename(value)\n")
    assert ("CS-S001", line + 1) not in codes(check(analyzer, cleaned))
    assert ("CS-S001", line + 1) in codes(check(analyzer, HANDLERS))


def test_a_function_only_passed_on_is_read_by_its_signature() -> None:
    """Editing the body of `log`, which `log_view` stores but never calls, leaves
    `log_view`'s results as they were (only `log` runs again); editing its signature
    does not."""
    analyzer = IncrementalAnalyzer("app.py")
    check(analyzer, HANDLERS)
    body = HANDLERS.replace('print("handled", message)', 'print("done", message)')
    check(analyzer, body)
    assert analyzer._flows.units_run == 1
    signature = body.replace("def log(message):", "def log(message, level=0):")
    check(analyzer, signature)
    assert analyzer._flows.units_run == 2  # log and log_view


def test_lines_added_above_move_the_findings_and_reuse_the_units() -> None:
    analyzer = IncrementalAnalyzer("app.py")
    check(analyzer, APP)
    moved = "# a comment\n\n" + APP
    found = codes(check(analyzer, moved))
    assert ("CS-S002", 50) in found
    assert analyzer._flows.units_run <= 2


def test_an_edit_in_one_route_runs_that_route_only() -> None:
    analyzer = IncrementalAnalyzer("app.py")
    check(analyzer, APP)
    edited = APP.replace('return "ok"', 'return "done"')
    check(analyzer, edited)
    assert analyzer._flows.units_run == 1


DATAFLOW_SNIPPETS = [
    "    value = 'constant'\n",
    "    name = os.path.basename(name)\n",
    "    x = (\n",
    "    # clearsight: ignore\n",
    "    if 7 * 18 > 200:\n        name = request.args['q']\n",
]


def _random_edits(text: str, count: int, seed: int) -> list[str]:
    return random_edits(text, count, seed, DATAFLOW_SNIPPETS)


@pytest.mark.parametrize("seed", range(4))
def test_random_edits_of_a_web_app_match_the_whole_file_engine(seed: int) -> None:
    analyzer = IncrementalAnalyzer("app.py")
    check(analyzer, APP)
    for version in _random_edits(APP, 40, seed):
        check(analyzer, version)


@pytest.mark.parametrize(
    "name", ["http/server.py", "socketserver.py", "wsgiref/simple_server.py", "subprocess.py"]
)
def test_random_edits_of_standard_library_modules_match_the_whole_file_engine(name: str) -> None:
    path = STDLIB / name
    text = path.read_text(encoding="utf-8")
    analyzer = IncrementalAnalyzer(str(path))
    check(analyzer, text)
    for version in _random_edits(text, 15, seed=len(name)):
        check(analyzer, version)


def test_an_edit_in_a_long_class_parses_the_member_it_is_in_only() -> None:
    methods = "".join(
        f"    def method_{i}(self, value):\n        return value + '{i}'\n\n" for i in range(60)
    )
    code = (
        "from flask import request\n\n\nclass Handler:\n"
        f"{methods}"
        "    def view(self):\n        return open(self.method_3(request.args['p'])).read()\n"
    )
    analyzer = IncrementalAnalyzer("app.py")
    found = codes(check(analyzer, code))
    assert found and found[0][0] == "CS-S001"
    edited = code.replace("value + '10'", "value + '10x'")
    check(analyzer, edited)
    assert analyzer._flows.parsed == 1
