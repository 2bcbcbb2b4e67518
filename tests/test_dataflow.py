"""The security dataflow family: untrusted data followed to the call where it is dangerous.

Each vulnerability class has a case that must be found and look-alikes that must not:
sanitised, reassigned to a constant on every path, behind a branch that never runs,
another element of the same container, a check that returns first, and flows through the
file's own functions.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

from clearsight.engine import analyze
from clearsight.fixes import apply_edits
from clearsight.model import Finding, Severity
from clearsight.settings import settings_from_tables

FLASK = (
    "from flask import Flask, request, redirect, session, make_response\napp = Flask(__name__)\n"
)


def findings(code: str, path: str = "app.py", settings: dict | None = None) -> list[Finding]:
    options = settings_from_tables(settings or {})
    return analyze(textwrap.dedent(code), path, options)


def flows(code: str, path: str = "app.py", settings: dict | None = None) -> list[tuple[str, int]]:
    """(code, 1-based line) of every dataflow finding, in order."""
    return [
        (f.code, f.line + 1) for f in findings(code, path, settings) if f.code.startswith("CS-S")
    ]


def route(body: str, decorator: str = '@app.route("/x", methods=["GET", "POST"])') -> str:
    """A Flask module with one route whose body is `body` (its first line is line 5)."""
    indented = textwrap.indent(textwrap.dedent(body).lstrip("\n"), "    ")
    return f"{FLASK}{decorator}\ndef view():\n{indented}"


# -- path traversal --------------------------------------------------------------------------


def test_a_request_parameter_in_open_is_path_traversal() -> None:
    assert flows(route('name = request.args["name"]\nreturn open(name).read()\n')) == [
        ("CS-S001", 6)
    ]


def test_basename_cleans_a_path() -> None:
    code = route(
        """
        import os
        name = os.path.basename(request.args["name"])
        return open(name).read()
        """
    )
    assert flows(code) == []


def test_a_check_for_dot_dot_that_returns_first_cleans_a_path() -> None:
    code = route(
        """
        name = request.args["name"]
        if ".." in name:
            return "no"
        return open("files/" + name).read()
        """
    )
    assert flows(code) == []


def test_a_resolved_path_checked_against_its_folder_is_clean() -> None:
    code = route(
        """
        from pathlib import Path
        base = Path("files").resolve()
        target = (base / request.args["name"]).resolve()
        if not str(target).startswith(str(base)):
            return "no"
        return target.read_text()
        """
    )
    assert flows(code) == []


def test_a_name_reassigned_to_a_constant_on_every_path_is_clean() -> None:
    code = route(
        """
        name = request.args["name"]
        if name:
            name = "a.txt"
        else:
            name = "b.txt"
        return open(name).read()
        """
    )
    assert flows(code) == []


def test_a_branch_that_can_never_run_does_not_taint() -> None:
    code = route(
        """
        num = 106
        name = "fixed.txt"
        if 7 * 18 + num < 200:
            name = request.args["name"]
        return open(name).read()
        """
    )
    assert flows(code) == []


def test_the_live_branch_of_a_constant_test_does_taint() -> None:
    code = route(
        """
        num = 106
        name = "fixed.txt"
        if 7 * 18 + num > 200:
            name = request.args["name"]
        return open(name).read()
        """
    )
    assert flows(code) == [("CS-S001", 9)]


def test_list_elements_are_told_apart() -> None:
    body = """
        items = []
        items.append("safe.txt")
        items.append(request.args["name"])
        items.append("other.txt")
        items.pop(0)
        return open(items[{index}]).read()
        """
    assert flows(route(body.replace("{index}", "0"))) == [("CS-S001", 10)]
    assert flows(route(body.replace("{index}", "1"))) == []


def test_dict_entries_are_told_apart() -> None:
    body = """
        values = {"a": "safe.txt"}
        values["b"] = request.args["name"]
        return open(values.get("{key}")).read()
        """
    assert flows(route(body.replace("{key}", "b"))) == [("CS-S001", 7)]
    assert flows(route(body.replace("{key}", "a"))) == []


def test_a_configparser_keeps_its_values_apart() -> None:
    body = """
        import configparser
        conf = configparser.ConfigParser()
        conf.add_section("s")
        conf.set("s", "safe", "a.txt")
        conf.set("s", "user", request.args["name"])
        return open(conf.get("s", "{key}")).read()
        """
    assert flows(route(body.replace("{key}", "user"))) == [("CS-S001", 10)]
    assert flows(route(body.replace("{key}", "safe"))) == []


def test_a_flow_through_a_helper_in_the_same_file_is_followed() -> None:
    code = FLASK + textwrap.dedent(
        """
        def load(name):
            return open("files/" + name).read()

        def clean(name):
            return "fixed.txt"

        @app.route("/a")
        def a():
            return load(request.args["name"])

        @app.route("/b")
        def b():
            return load(clean(request.args["name"]))
        """
    )
    found = findings(code)
    assert [(f.code, f.line + 1) for f in found if f.code.startswith("CS-S")] == [("CS-S001", 5)]
    (flow,) = [f for f in found if f.code == "CS-S001"]
    notes = [r.message for r in flow.related]
    assert any("passed to `load()` as `name`" in note for note in notes)
    assert notes[0].startswith("source: the request parameter `name`")


def test_a_route_parameter_is_untrusted_unless_its_converter_makes_it_a_number() -> None:
    assert flows(
        route("return open(name).read()\n", '@app.route("/f/<name>")')
        .__str__()
        .replace("def view():", "def view(name):")
    ) == [("CS-S001", 5)]
    code = route("return open(str(number)).read()\n", '@app.route("/f/<int:number>")')
    assert flows(code.replace("def view():", "def view(number):")) == []


# -- command injection ------------------------------------------------------------------------


def test_a_request_parameter_in_a_shell_command_is_command_injection() -> None:
    code = route(
        """
        import subprocess
        host = request.args["host"]
        return subprocess.check_output(f"ping -c 1 {host}", shell=True)
        """
    )
    assert flows(code) == [("CS-S002", 7)]


def test_an_argument_list_without_a_shell_is_not_command_injection() -> None:
    code = route(
        """
        import subprocess
        return subprocess.check_output(["ping", "-c", "1", request.args["host"]])
        """
    )
    assert flows(code) == []


def test_the_command_a_shell_runs_from_an_argument_list_is_command_injection() -> None:
    code = route(
        """
        import subprocess
        args = ["sh", "-c"]
        args.append("echo " + request.args["text"])
        return subprocess.run(args, capture_output=True).stdout
        """
    )
    assert flows(code) == [("CS-S002", 8)]


def test_shlex_quote_cleans_a_shell_argument() -> None:
    code = route(
        """
        import os, shlex
        os.system("ls " + shlex.quote(request.args["dir"]))
        return ""
        """
    )
    assert flows(code) == []


def test_bandit_on_a_constant_shell_command_is_information() -> None:
    found = findings("import subprocess\nsubprocess.run('ls -l', shell=True)\n")
    (shell,) = [f for f in found if f.code == "B602"]
    assert shell.severity is Severity.INFO
    assert "constant" in shell.message


def test_bandit_and_a_flow_on_the_same_line_give_one_finding() -> None:
    code = route('import os\nos.system("ls " + request.args["dir"])\nreturn ""\n')
    found = findings(code)
    on_line = sorted(f.code for f in found if f.line + 1 == 6)
    assert on_line == ["CS-S002"]


# -- SQL injection ----------------------------------------------------------------------------


def test_a_formatted_sql_statement_is_sql_injection() -> None:
    code = route(
        """
        import sqlite3
        cursor = sqlite3.connect("db").cursor()
        cursor.execute(f"SELECT * FROM users WHERE name = '{request.args['name']}'")
        return "ok"
        """
    )
    assert flows(code) == [("CS-S003", 7)]


def test_a_parameterised_query_is_clean() -> None:
    code = route(
        """
        import sqlite3
        cursor = sqlite3.connect("db").cursor()
        cursor.execute("SELECT * FROM users WHERE name = ?", (request.args["name"],))
        return "ok"
        """
    )
    assert flows(code) == []


def test_sqlite_connections_execute_sql_too() -> None:
    """`Connection.execute` (sqlite3's shortcut, typed by the catalogue for its cursor
    result) is the SQL sink its name is, chained or through a variable."""
    code = route(
        """
        import sqlite3
        name = request.args["name"]
        db = sqlite3.connect("db")
        db.execute("SELECT * FROM users WHERE name = '%s'" % name)
        sqlite3.connect("db").execute(f"DELETE FROM users WHERE name = '{name}'")
        db.execute("SELECT * FROM users WHERE name = ?", (name,))
        return "ok"
        """
    )
    assert flows(code) == [("CS-S003", 8), ("CS-S003", 9)]


def test_a_value_logged_with_repr_is_escaped() -> None:
    """`%r` (logging formats it with repr) and `repr()` escape line breaks, as the finding's
    fix says; `%s`, the second `%s` of a format and f-strings do not."""
    code = route(
        """
        import logging
        log = logging.getLogger(__name__)
        name = request.args["name"]
        log.warning("login failed for %r", name)
        log.warning("login failed for %s", repr(name))
        log.warning("login failed for %s", name)
        log.warning("user %r from %s", name, name)
        log.warning(f"login failed for {name}")
        return "ok"
        """
    )
    assert flows(code) == [("CS-S014", 10), ("CS-S014", 11), ("CS-S014", 12)]


def test_bandit_on_constant_sql_is_information() -> None:
    code = 'TABLE = "users"\ndef rows(cursor):\n    cursor.execute(f"SELECT * FROM {TABLE}")\n'
    (sql,) = [f for f in findings(code) if f.code == "B608"]
    assert sql.severity is Severity.INFO


def test_an_apostrophe_check_keeps_a_value_inside_a_quoted_literal() -> None:
    body = """
        import lxml.etree
        name = request.args["name"]
        if "'" in name:
            return "no"
        root = lxml.etree.parse("users.xml")
        return str(root.xpath(f"//user[@name='{name}']"))
        """
    assert flows(route(body)) == []
    assert flows(route(body.replace('"\'" in name', '"x" in name'))) == [("CS-S009", 10)]


# -- code injection and deserialisation -------------------------------------------------------


def test_eval_of_a_request_parameter_is_code_injection() -> None:
    found = findings(route('return str(eval(request.args["expr"]))\n'))
    assert [f.code for f in found if f.line + 1 == 5 and f.family.value == "security"] == [
        "CS-S004"
    ]


def test_console_input_to_a_shell_is_reported_as_information() -> None:
    code = "import subprocess\nsubprocess.run(['sh', '-c', input()])\n"
    (finding,) = [f for f in findings(code) if f.code == "CS-S002"]
    assert finding.severity is Severity.INFO
    assert "console input" in finding.message


def test_a_flow_standing_for_a_louder_bandit_finding_keeps_bandit_s_severity() -> None:
    (finding,) = [f for f in findings("print(eval(input()))\n") if f.family.value == "security"]
    assert finding.code == "CS-S004"  # B307 on the same line is folded into it
    assert finding.severity is Severity.WARNING  # bandit's, louder than a local source's
    assert "console input" in finding.message


def test_local_sources_can_be_switched_off() -> None:
    found = flows("print(eval(input()))\n", settings={"security": {"local-sources": "off"}})
    assert found == []


def test_a_command_line_path_is_what_a_command_line_tool_is_for() -> None:
    assert flows("import sys\nprint(open(sys.argv[1]).read())\n") == []


def test_pickle_of_request_data_is_unsafe_deserialisation() -> None:
    code = route("import pickle\nreturn str(pickle.loads(request.get_data()))\n")
    assert flows(code) == [("CS-S005", 6)]


def test_yaml_with_the_safe_loader_is_clean() -> None:
    code = route("import yaml\nreturn str(yaml.load(request.data, Loader=yaml.SafeLoader))\n")
    assert flows(code) == []


# -- XSS and templates ------------------------------------------------------------------------


def test_a_request_parameter_returned_as_html_is_xss() -> None:
    code = route('name = request.args.get("name", "")\nreturn f"<h1>Hello {name}</h1>"\n')
    assert flows(code) == [("CS-S006", 6)]


def test_escaped_json_and_templates_are_not_xss() -> None:
    for body in (
        'from markupsafe import escape\nreturn f"<h1>{escape(request.args["n"])}</h1>"\n',
        'from flask import jsonify\nreturn jsonify(name=request.args["n"])\n',
        'return {"name": request.args["n"]}\n',
        "from flask import render_template\n"
        'return render_template("x.html", n=request.args["n"])\n',
    ):
        assert flows(route(body)) == [], body


def test_a_plain_text_response_is_not_xss() -> None:
    code = route(
        'from flask import Response\nreturn Response(request.args["n"], mimetype="text/plain")\n'
    )
    assert flows(code) == []


def test_markup_of_request_data_is_xss() -> None:
    code = route('from markupsafe import Markup\nreturn Markup(request.args["n"])\n')
    assert ("CS-S006", 6) in flows(code)


def test_a_template_built_from_request_data_is_template_injection() -> None:
    code = route(
        "from flask import render_template_string\n"
        'return render_template_string(request.args["t"])\n'
    )
    assert flows(code) == [("CS-S015", 6)]


# -- redirects, SSRF, LDAP, XXE, sessions, headers, logs -------------------------------------


def test_redirect_to_a_request_parameter_is_an_open_redirect() -> None:
    assert flows(route('return redirect(request.args["next"])\n')) == [("CS-S007", 5)]


def test_a_redirect_to_a_path_of_this_site_is_clean() -> None:
    assert flows(route('return redirect("/profile/" + request.args["user"])\n')) == []


def test_an_allow_listed_host_makes_a_redirect_clean() -> None:
    code = route(
        """
        from urllib.parse import urlparse
        target = request.args["next"]
        url = urlparse(target)
        if url.netloc not in ["example.com"] or url.scheme != "https":
            return "no"
        return redirect(target)
        """
    )
    assert flows(code) == []


def test_django_s_safe_url_check_held_in_a_variable_makes_a_redirect_clean() -> None:
    code = """
        from django.http import HttpResponseRedirect
        from django.utils.http import url_has_allowed_host_and_scheme

        def view(request):
            target = request.GET.get("next", "/")
            ok = url_has_allowed_host_and_scheme(url=target, allowed_hosts={request.get_host()})
            return HttpResponseRedirect(target if ok else "/")
        """
    assert flows(code) == []
    assert flows(code.replace("target if ok else", "target or")) == [("CS-S007", 8)]


def test_a_request_to_a_url_from_the_request_is_ssrf() -> None:
    body = "import requests\nreturn requests.get({url}).text\n"
    assert flows(route(body.replace("{url}", 'request.args["url"]'))) == [("CS-S012", 6)]
    fixed = '"https://api.example.com/items/" + request.args["id"]'
    assert flows(route(body.replace("{url}", fixed))) == []


def test_an_ldap_filter_from_the_request_is_ldap_injection() -> None:
    body = """
        import ldap3
        conn = ldap3.Connection(ldap3.Server("ldap://x"))
        user = {value}
        conn.search("ou=users", f"(uid={user})")
        return "ok"
        """
    assert flows(route(body.replace("{value}", 'request.args["u"]'))) == [("CS-S008", 8)]
    escaped = 'ldap3.utils.conv.escape_filter_chars(request.args["u"])'
    assert flows(route(body.replace("{value}", escaped))) == []


def test_xml_parsed_with_external_entities_on_is_xxe() -> None:
    body = """
        import xml.sax, xml.sax.handler, xml.dom.minidom
        parser = xml.sax.make_parser()
        {feature}
        doc = xml.dom.minidom.parseString(request.data, parser)
        return "ok"
        """
    on = "parser.setFeature(xml.sax.handler.feature_external_ges, True)"
    assert flows(route(body.replace("{feature}", on))) == [("CS-S010", 8)]
    assert flows(route(body.replace("{feature}", "pass"))) == []


def test_request_data_stored_in_the_session_is_a_trust_boundary_violation() -> None:
    assert flows(route('session["user"] = request.form["user"]\nreturn ""\n')) == [("CS-S011", 5)]
    assert flows(route('session["user"] = "anonymous"\nreturn ""\n')) == []


def test_a_header_from_the_request_in_an_http_server_handler_is_header_injection() -> None:
    code = """
        from http.server import BaseHTTPRequestHandler

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("X-Echo", self.headers.get("X-Name"))
                self.end_headers()
        """
    assert flows(code) == [("CS-S013", 7)]


def test_a_header_value_without_line_breaks_is_clean() -> None:
    code = """
        from http.server import BaseHTTPRequestHandler

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                name = self.headers.get("X-Name", "").replace("\\r", "").replace("\\n", "")
                self.send_header("X-Echo", name)
        """
    assert flows(code) == []


def test_a_constant_template_with_request_data_as_variables_is_clean() -> None:
    code = route(
        "from flask import render_template_string\n"
        'return render_template_string("<p>{{ n }}</p>", n=request.args["n"])\n'
    )
    assert flows(code) == []


def test_a_request_parameter_logged_is_log_injection_as_information() -> None:
    body = (
        'import logging\nlogging.getLogger(__name__).info("user %s", request.args["u"])\n'
        'return ""\n'
    )
    (finding,) = [f for f in findings(route(body)) if f.code.startswith("CS-S")]
    assert (finding.code, finding.severity) == ("CS-S014", Severity.INFO)
    quoted = body.replace('"user %s", request.args["u"]', 'f"user {request.args["u"]!r}"')
    assert flows(route(quoted)) == []


# -- configuration ----------------------------------------------------------------------------


def test_a_cookie_set_with_secure_false_is_reported() -> None:
    code = route(
        """
        response = make_response("ok")
        response.set_cookie("theme", "dark", secure=False, httponly=False)
        return response
        """
    )
    assert flows(code) == [("CS-S020", 6), ("CS-S021", 6)]


def test_only_a_sensitive_cookie_is_reported_for_missing_flags() -> None:
    body = 'r = make_response("ok")\nr.set_cookie("{name}", "v")\nreturn r\n'
    assert flows(route(body.replace("{name}", "theme"))) == []
    assert flows(route(body.replace("{name}", "session_token"))) == [("CS-S020", 6), ("CS-S021", 6)]


def _fixed(code: str) -> str:
    """The code after every dataflow finding's first fix (one at a time, re-analysed)."""
    text = textwrap.dedent(code)
    for _ in range(4):
        found = [f for f in findings(text) if f.code.startswith("CS-S") and f.fixes]
        if not found:
            return text
        fix = found[0].fixes[0]
        assert not fix.safe  # a behaviour change: offered, never applied in bulk
        text, applied = apply_edits(text, fix.edits)
        assert applied == 1
    return text


def test_the_cookie_flags_fix_sets_them_true() -> None:
    code = route(
        """
        response = make_response("ok")
        response.set_cookie("theme", "dark", secure=False, httponly=0)
        response.set_cookie(
            "session_token",
            "v",
            max_age=60,
        )
        return response
        """
    )
    fixed = _fixed(code)
    assert 'set_cookie("theme", "dark", secure=True, httponly=True)' in fixed
    assert "max_age=60, secure=True, httponly=True,\n" in fixed
    assert flows(fixed) == []
    ast.parse(fixed)


def test_a_session_cookie_setting_switched_off_is_reported() -> None:
    assert flows("SESSION_COOKIE_SECURE = False\n", path="settings.py") == [("CS-S020", 1)]


def test_random_used_for_a_token_is_weak_randomness() -> None:
    code = """
        import random, string, secrets

        def reset_link():
            reset_token = "".join(random.choice(string.ascii_letters) for _ in range(32))
            return reset_token

        def dice():
            roll = random.randint(1, 6)
            return roll

        def good():
            reset_token = secrets.token_urlsafe()
            return reset_token
        """
    assert flows(code) == [("CS-S022", 5)]


# -- frameworks -------------------------------------------------------------------------------


def test_fastapi_parameters_are_untrusted_unless_validated_as_numbers() -> None:
    code = """
        from fastapi import FastAPI
        app = FastAPI()

        @app.get("/files/{name}")
        def read(name: str, size: int = 10):
            return {"data": open(name).read(size), "again": open(str(size))}
        """
    assert flows(code) == [("CS-S001", 7)]


def test_django_request_data_is_untrusted_and_server_set_meta_keys_are_not() -> None:
    code = """
        from django.http import HttpResponse

        def view(request):
            open(request.META["REMOTE_ADDR"])
            open(request.META["HTTP_X_FILE"])
            return HttpResponse(request.GET["q"])
        """
    assert flows(code) == [("CS-S001", 6), ("CS-S006", 7)]


def test_a_django_helper_s_other_parameters_are_not_taken_for_url_parameters() -> None:
    code = """
        from django.http import HttpResponse

        def render_page(request, page):
            return HttpResponse(page.content)
        """
    assert flows(code) == []


def test_a_static_flask_route_fixes_the_request_path() -> None:
    body = 'parts = request.path.split("/")\nreturn open(parts[1]).read()\n'
    assert flows(route(body)) == []
    assert flows(
        route(body, '@app.route("/x/<name>")').replace("def view():", "def view(name):")
    ) == [("CS-S001", 6)]


def test_a_helper_module_of_the_project_is_followed(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    helpers = tmp_path / "helpers"
    helpers.mkdir()
    (helpers / "__init__.py").write_text("")
    (helpers / "web.py").write_text(
        "from flask import request\n\n"
        "class Wrapped:\n"
        "    def __init__(self, req):\n        self.req = req\n"
        "    def param(self, name):\n        return self.req.args.get(name)\n"
        "    def safe(self, name):\n        return 'bar'\n"
    )
    body = """
        from helpers.web import Wrapped
        wrapped = Wrapped(request)
        return open(wrapped.{method}("name")).read()
        """
    app = tmp_path / "app.py"
    for method, expected in (("param", [("CS-S001", 7)]), ("safe", [])):
        text = route(body.replace("{method}", method))
        app.write_text(text)
        assert flows(text, path=str(app)) == expected, method


# -- the story each finding tells ------------------------------------------------------------


def test_a_finding_names_its_source_and_sink_and_gives_each_step_as_related() -> None:
    code = route(
        """
        param = request.cookies.get("name")
        bar = param
        return open(f"files/{bar}").read()
        """
    )
    (finding,) = [f for f in findings(code) if f.code == "CS-S001"]
    assert "the cookie `name` (line 5)" in finding.message
    assert "`open()`" in finding.message
    assert "(via `param` → `bar`)" in finding.message
    lines = [r.span.start.line + 1 for r in finding.related]
    assert lines == [5, 5, 6]
    assert finding.security is not None and finding.security.cwe == 22


# -- bad input --------------------------------------------------------------------------------


def test_dynamic_code_degrades_to_unknown() -> None:
    code = route(
        """
        import functools
        handler = getattr(getattr(request, "args"), "get")
        value = handler(**{"key": "x"})

        @functools.wraps(view)
        def inner(*args, **kwargs):
            return open(*args, **kwargs)
        return inner(value)
        """
    )
    found = findings(code)
    assert not [f for f in found if f.code.startswith("CS-E")]


def test_a_huge_function_and_deep_expression_stay_bounded() -> None:
    lines = ["x = request.args['a']"] + [f"x = x + '{i}'" for i in range(3000)] + ["open(x)"]
    deep = "y = " + " + ".join(["'a'"] * 150) + "\n"
    code = route("\n".join(lines) + "\n" + deep + "return ''\n")
    found = findings(code)
    assert ("CS-S001", 3006) in [(f.code, f.line + 1) for f in found]


def test_recursion_in_the_analysed_code_ends() -> None:
    code = route(
        """
        def walk(value, depth):
            return walk(value + "x", depth + 1) if depth < 10 else open(value)
        return walk(request.args["p"], 0)
        """
    )
    assert not [c for c, _ in flows(code) if c.startswith("CS-E")]


def test_the_rules_document_lists_the_catalogue_that_runs() -> None:
    from clearsight.dataflow.docs import updated

    rules = Path(__file__).parent.parent / "docs" / "rules.md"
    current = rules.read_text(encoding="utf-8")
    assert updated(current) == current, "run scripts/taint_catalogue_docs.py"


def test_the_catalogue_is_extended_from_pyproject() -> None:
    settings = {
        "security": {
            "sources": [{"call": "myapp.http.param", "label": "request parameter"}],
            "sinks": [{"call": "myapp.db.run_sql", "class": "sql", "args": [0]}],
            "sanitizers": [{"calls": ["myapp.db.quote"], "classes": ["sql"]}],
        }
    }
    code = """
        from myapp.http import param
        from myapp.db import run_sql, quote
        run_sql("SELECT " + param("q"))
        run_sql("SELECT " + quote(param("q")))
        """
    assert flows(code, settings=settings) == [("CS-S003", 4)]
    assert flows(code) == []


def test_a_catalogue_entry_of_the_wrong_shape_is_reported_and_the_rest_kept() -> None:
    options = settings_from_tables(
        {
            "security": {
                "sinks": [
                    {"call": "myapp.db.run_sql", "class": "sql"},
                    {"call": "myapp.other", "class": "no-such-class"},
                ]
            }
        }
    )
    (problem,) = options.problems
    assert "unknown class 'no-such-class'" in problem
    code = "from myapp.db import run_sql\nfrom flask import request\nrun_sql(request.args['q'])\n"
    found = analyze(code, "app.py", options)
    assert [f.code for f in found if f.code.startswith("CS-S")] == ["CS-S003"]
