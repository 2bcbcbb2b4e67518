"""Jupyter notebooks in `clearsight check`: code cells checked as the kernel runs them, IPython
syntax masked, findings placed in cells (text, JSON, SARIF, GitHub), `--fix` and `--diff`
editing cells' sources only, bad notebooks reported without breaking anything else. Real
notebooks from nbformat's and nbconvert's sdists (tests/fixtures/notebooks) and notebooks
written here, through the real command."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from test_cli import Run, clearsight, sarif_schema, validate_sarif  # noqa: F401 - a fixture
from test_new_dependency import git, repository

from clearsight.notebook import Notebook, code_line_origins, mask_ipython, read_notebook

FIXTURES = Path(__file__).parent / "fixtures" / "notebooks"
REAL = sorted(FIXTURES.glob("*.ipynb"))


def notebook(*cells: tuple[str, str], language: str = "python") -> str:
    """An nbformat 4 notebook of (cell type, source) cells, as Jupyter writes one."""
    made = []
    for number, (kind, source) in enumerate(cells):
        cell: dict[str, Any] = {"cell_type": kind, "id": f"c{number}", "metadata": {},
                                "source": source.splitlines(keepends=True)}  # fmt: skip
        if kind == "code":
            cell.update(execution_count=number, outputs=[
                {"output_type": "stream", "name": "stdout", "text": [f"out {number}\n"]}
            ])  # fmt: skip
        made.append(cell)
    metadata = {"kernelspec": {"display_name": "K", "language": language, "name": "k"},
                "language_info": {"name": language}}  # fmt: skip
    document = {"cells": made, "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


ANALYSIS = notebook(
    ("markdown", "# Loading data"),
    ("code", "%matplotlib inline\nimport os\nimport math\n!pip install requests"),
    ("code", "def load(text):\n    return eval(text)"),
    ("raw", "not code"),
    ("code", "files = !ls\nos.system(input())"),
)


# -- IPython syntax -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "masked", "lines"),
    [
        ("%matplotlib inline\nx = 1\n", "pass\nx = 1\n", (0,)),
        ("!pip install x\n", "pass\n", (0,)),
        ("files = !ls -la\n", "files = ...\n", (0,)),
        ("a, b = %who_ls\n", "a, b = ...\n", (0,)),
        ("os.path?\n??os\n", "pass\npass\n", (0, 1)),
        ("for f in fs:\n    !echo $f\n", "for f in fs:\n    pass\n", (1,)),
        ("!pip install \\\n    requests\nx = 1\n", "pass\n\nx = 1\n", (0, 1)),
        ("%%bash\necho hi\n", "\n\n", (0, 1)),
        ("%%time\nimport os\n", "pass\nimport os\n", (0,)),
        # Not IPython syntax: an operator continuing a line, lines inside a string, a
        # question in a comment.
        ('x = ("%s"\n     % y)\n', 'x = ("%s"\n     % y)\n', ()),
        ('s = """\n!no\n%no\n"""\n', 's = """\n!no\n%no\n"""\n', ()),
        ("y = 1  # why?\n", "y = 1  # why?\n", ()),
        ("x = [\n    1,\n]\n", "x = [\n    1,\n]\n", ()),
    ],
)
def test_ipython_syntax_is_masked_with_python_of_the_same_lines(
    source: str, masked: str, lines: tuple[int, ...]
) -> None:
    assert mask_ipython(source) == (masked, lines)
    ast.parse(masked)


@pytest.mark.parametrize("path", REAL, ids=lambda p: p.name)
def test_every_code_cell_of_real_notebooks_parses_once_masked(path: Path) -> None:
    read = read_notebook(path.read_bytes())
    assert isinstance(read, Notebook), read
    document = json.loads(path.read_text(encoding="utf-8"))
    code = [i for i, c in enumerate(document["cells"]) if c["cell_type"] == "code"]
    assert [cell.index for cell in read.cells.cells] == code
    joined = read.text.splitlines(keepends=True)
    for cell in read.cells.cells:
        source = "".join(document["cells"][cell.index]["source"])
        assert cell.number == cell.index + 1
        assert cell.lines == len(source.splitlines())
        ast.parse("".join(joined[cell.first_line : cell.first_line + cell.lines]))
    ast.parse(read.text)


def test_real_notebooks_are_checked_without_syntax_errors_for_their_magics(tmp_path: Path) -> None:
    for path in REAL:
        shutil.copy(path, tmp_path / path.name)
    run = clearsight("--no-cache", "--format", "json", ".", cwd=tmp_path)
    document = run.json()
    assert document["files_checked"] == len(REAL)
    codes = {(f["path"], f["code"], f.get("cell"), f["line"]) for f in document["findings"]}
    assert not any(code.startswith("CS-E") for _, code, _, _ in codes), codes
    # nbconvert's library guide fetches a URL in its fifth cell.
    assert ("nbconvert_library.ipynb", "B310", 5, 4) in codes


# -- findings in cells --------------------------------------------------------------------------


def test_findings_name_their_cell_and_line_in_every_format(
    tmp_path: Path,
    sarif_schema: dict[str, Any],  # noqa: F811
) -> None:
    (tmp_path / "analysis.ipynb").write_text(ANALYSIS, encoding="utf-8")
    text = clearsight("--no-cache", cwd=tmp_path)
    assert text.returncode == 1
    assert "analysis.ipynb:cell 3:2:12: B307 [warning]" in text.stdout
    assert "analysis.ipynb:cell 5:2:1: CS-S002 [error]" in text.stdout
    assert "        return eval(text)" in text.stdout  # the cell's line, shown under it
    assert "CS-E001" not in text.stdout  # `%matplotlib`, `!pip`, `files = !ls`

    found = {(f["code"], f["cell"], f["line"], f["column"]) for f in clearsight(
        "--no-cache", "--format", "json", cwd=tmp_path).json()["findings"]}  # fmt: skip
    assert ("B307", 3, 2, 12) in found and ("CS-S002", 5, 2, 1) in found
    flow = next(
        f
        for f in clearsight("--no-cache", "--format", "json", cwd=tmp_path).json()["findings"]
        if f["code"] == "CS-S002"
    )
    assert "line 9" not in flow["message"]  # the joined text's line, never shown
    source = flow["related"][0]
    assert (source["cell"], source["span"]["start"]["line"]) == (5, 1)

    sarif = json.loads(clearsight("--no-cache", "--format", "sarif", cwd=tmp_path).stdout)
    validate_sarif(sarif, sarif_schema)
    placed = {
        (r["ruleId"], r["locations"][0]["properties"]["cell"],
         r["locations"][0]["physicalLocation"]["region"]["startLine"])
        for r in sarif["runs"][0]["results"]
    }  # fmt: skip
    assert ("B307", 3, 2) in placed and ("CS-S002", 5, 2) in placed

    github = clearsight("--no-cache", "--format", "github", cwd=tmp_path).stdout
    assert "file=analysis.ipynb,line=2,col=12" in github and "title=B307 (cell 3)" in github


def test_a_cell_that_does_not_parse_is_reported_and_the_others_still_checked(
    tmp_path: Path,
) -> None:
    text = notebook(("code", "def broken(:\n    pass"), ("code", "eval(input())"))
    (tmp_path / "n.ipynb").write_text(text, encoding="utf-8")
    found = [(f["code"], f["cell"], f["line"]) for f in clearsight(
        "--no-cache", "--format", "json", cwd=tmp_path).json()["findings"]]  # fmt: skip
    assert ("CS-E001", 1, 1) in found
    assert ("CS-S004", 2, 1) in found


def test_ignore_comments_work_in_their_own_cell(tmp_path: Path) -> None:
    text = notebook(
        ("code", "eval(input())  # clearsight: ignore[CS-S004]"), ("code", "eval(input())")
    )
    (tmp_path / "n.ipynb").write_text(text, encoding="utf-8")
    found = [(f["code"], f["cell"]) for f in clearsight(
        "--no-cache", "--format", "json", cwd=tmp_path).json()["findings"]]  # fmt: skip
    assert found == [("CS-S004", 2)]


# -- bad notebooks ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{not json", "not valid JSON"),
        ('{"nbformat": 4}', "not a notebook"),
        ('{"nbformat": 3, "worksheets": []}', "nbformat 3 notebooks are not read"),
        (b"\xff\xfe{}", "not UTF-8"),
    ],
)
def test_a_notebook_that_cannot_be_read_is_one_clear_finding(
    tmp_path: Path, content: str | bytes, reason: str
) -> None:
    path = tmp_path / "bad.ipynb"
    raw = content.encode() if isinstance(content, str) else content
    path.write_bytes(raw)
    (tmp_path / "fine.py").write_text("eval(input())\n", encoding="utf-8")
    run = clearsight("--no-cache", "--format", "json", "--fix", cwd=tmp_path)
    findings = run.json()["findings"]
    bad = [f for f in findings if f["path"] == "bad.ipynb"]
    assert [f["code"] for f in bad] == ["CS-E002"] and reason in bad[0]["message"]
    assert any(f["path"] == "fine.py" for f in findings)  # the rest is still checked
    assert path.read_bytes() == raw  # never rewritten


def test_a_cell_of_unknown_type_is_reported_and_the_other_cells_checked(tmp_path: Path) -> None:
    document = json.loads(notebook(("code", "import os"), ("code", "eval(input())")))
    document["cells"].insert(1, {"cell_type": "future cell", "metadata": {}, "source": []})
    (tmp_path / "n.ipynb").write_text(json.dumps(document, indent=1), encoding="utf-8")
    findings = clearsight("--no-cache", "--format", "json", cwd=tmp_path).json()["findings"]
    assert any(f["code"] == "CS-E002" and "cell 2 has `future cell` cell type" in f["message"]
               for f in findings)  # fmt: skip
    assert ("CS-S004", 3) in {(f["code"], f.get("cell")) for f in findings}


def test_a_notebook_of_another_language_has_nothing_to_check(tmp_path: Path) -> None:
    text = notebook(("code", "println(eval(x))"), language="julia")
    (tmp_path / "n.ipynb").write_text(text, encoding="utf-8")
    run = clearsight("--no-cache", "--format", "json", cwd=tmp_path)
    assert run.returncode == 0 and run.json()["findings"] == []


# -- fixes --------------------------------------------------------------------------------------

FIXABLE = notebook(
    ("code", "import math\n%time x = 1"),
    ("markdown", "Some words"),
    ("code", "print(math.sqroot(2))  # clearsight: ignore[B101]\n!ls"),
)


def test_fix_edits_only_the_cells_sources_keeping_outputs_metadata_and_magics(
    tmp_path: Path,
) -> None:
    path = tmp_path / "n.ipynb"
    path.write_text(FIXABLE, encoding="utf-8")
    run = clearsight("--no-cache", "--fix", cwd=tmp_path)
    assert "Applied 2 fixes." in run.stderr  # the typo and the unused ignore
    before, after = json.loads(FIXABLE), json.loads(path.read_text(encoding="utf-8"))
    assert after["cells"][2]["source"] == ["print(math.sqrt(2))\n", "!ls"]
    for old, new in zip(before["cells"], after["cells"], strict=True):
        assert {k: v for k, v in old.items() if k != "source"} == {
            k: v for k, v in new.items() if k != "source"
        }
    assert before["cells"][:2] == after["cells"][:2] and before["metadata"] == after["metadata"]
    nbformat.validate(nbformat.reads(path.read_text(encoding="utf-8"), as_version=4))
    # The layout is Jupyter's: what is unchanged is byte for byte the same.
    expected = json.loads(FIXABLE)
    expected["cells"][2]["source"] = after["cells"][2]["source"]
    assert path.read_text(encoding="utf-8") == json.dumps(expected, indent=1) + "\n"


def test_a_notebook_without_fixes_is_not_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "n.ipynb"
    path.write_text(ANALYSIS, encoding="utf-8")
    stamp = path.stat().st_mtime_ns
    clearsight("--no-cache", "--fix", cwd=tmp_path)
    assert path.read_text(encoding="utf-8") == ANALYSIS and path.stat().st_mtime_ns == stamp


def test_diff_shows_each_changed_cell(tmp_path: Path) -> None:
    (tmp_path / "n.ipynb").write_text(FIXABLE, encoding="utf-8")
    run = clearsight("--no-cache", "--diff", cwd=tmp_path)
    assert run.returncode == 1
    assert "--- a/n.ipynb:cell 3\n+++ b/n.ipynb:cell 3\n" in run.stdout
    assert "-print(math.sqroot(2))  # clearsight: ignore[B101]\n+print(math.sqrt(2))\n" in (
        run.stdout
    )
    assert "cell 1" not in run.stdout
    assert (tmp_path / "n.ipynb").read_text(encoding="utf-8") == FIXABLE


# -- discovery and the dependency checks --------------------------------------------------------


def test_folders_are_searched_for_notebooks_which_excludes_can_leave_out(tmp_path: Path) -> None:
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "n.ipynb").write_text(ANALYSIS, encoding="utf-8")
    (tmp_path / "work" / "m.py").write_text("x = 1\n", encoding="utf-8")
    assert clearsight("--no-cache", "--format", "json", cwd=tmp_path).json()["files_checked"] == 2
    left = clearsight("--no-cache", "--format", "json", "--extend-exclude", "*.ipynb",
                      cwd=tmp_path).json()  # fmt: skip
    assert left["files_checked"] == 1


def test_a_new_dependency_in_a_notebook_is_judged_against_its_committed_cells(
    tmp_path: Path,
) -> None:
    repo = repository(tmp_path / "repo", {"n.ipynb": notebook(("code", "import rich"))})
    assert git(repo, "ls-files") == "n.ipynb"
    (repo / "n.ipynb").write_text(
        notebook(("code", "import rich"), ("code", "import pygls")), encoding="utf-8"
    )
    findings = clearsight("--no-cache", "--format", "json", "--select", "CS-D006",
                          cwd=repo).json()["findings"]  # fmt: skip
    assert [(f["code"], f["cell"], f["metrics"]["distribution"]) for f in findings] == [
        ("CS-D006", 2, "pygls")
    ]


# -- provenance per cell ------------------------------------------------------------------------

CLAUDE = "Add cells\n\nCo-authored-by: Claude <noreply@anthropic.com>"


def provenance(*args: str, cwd: Path) -> Run:
    """`clearsight provenance ARGS` in `cwd`, which must not fail."""
    done = subprocess.run(
        [sys.executable, "-m", "clearsight.cli.main", "provenance", *args],
        cwd=cwd, capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return Run(done.returncode, done.stdout, done.stderr.decode(), 0.0)


def test_each_code_line_is_placed_on_its_own_line_of_the_json(tmp_path: Path) -> None:
    """git blames a notebook's JSON lines: every line of the joined code must be found on
    the JSON line it is written on, in real notebooks and in a source written as one
    string."""
    one_string = json.loads(notebook(("code", "a = 1\nb = 2\n")))
    one_string["cells"][0]["source"] = "a = 1\nb = 2\n"
    written = [path.read_bytes() for path in REAL]
    written.append(json.dumps(one_string, indent=1).encode())
    for raw in written:
        read = read_notebook(raw)
        assert isinstance(read, Notebook)
        origins = code_line_origins(raw)
        assert origins is not None and len(origins) == read.text.count("\n")
        file_lines = raw.decode("utf-8-sig").split("\n")
        cells = read.document["cells"]
        for cell in read.cells.cells:
            source = "".join(cells[cell.index]["source"]).splitlines()
            for number, line in enumerate(source):
                shown = json.dumps(line, ensure_ascii=False)[1:-1]
                assert shown in file_lines[origins[cell.first_line + number]]


def test_ai_written_cells_are_reported_per_cell_from_git_history(tmp_path: Path) -> None:
    human = notebook(("markdown", "# Data"), ("code", "import os\nx = 1"))
    repo = repository(tmp_path / "repo", {"n.ipynb": human})
    ai = notebook(("markdown", "# Data"), ("code", "import os\nx = 1"),
                  ("code", "def load(text):\n    return eval(text)"), ("code", "y = 2\nz = 3"),
                  ("code", "w = 4"))  # fmt: skip
    (repo / "n.ipynb").write_text(ai, encoding="utf-8")
    git(repo, "commit", "--quiet", "--all", "--message", CLAUDE)
    findings = clearsight("--no-cache", "--format", "json", cwd=repo).json()["findings"]
    shown = {(f["code"], f["cell"], f["line"], f["severity"]) for f in findings}
    # One block per cell, not one run across both; the human cell has none; the eval in
    # the AI cell is one level louder and makes its block a warning.
    assert shown == {
        ("CS-P001", 3, 1, "warning"),
        ("B307", 3, 2, "error"),
        ("CS-P001", 4, 1, "info"),
        ("CS-P001", 5, 1, "info"),
    }
    (block,) = [f for f in findings if f["code"] == "CS-P001" and f["cell"] == 4]
    assert block["message"].startswith("Unreviewed AI-written code: 2 lines from claude")


def test_notebook_provenance_report_names_cells_and_its_export_reads_back(tmp_path: Path) -> None:
    repo = repository(tmp_path / "repo", {"n.ipynb": notebook(("code", "x = 1"))})
    ai = notebook(("code", "x = 1"), ("code", "def f():\n    return 2"))
    (repo / "n.ipynb").write_text(ai, encoding="utf-8")
    git(repo, "commit", "--quiet", "--all", "--message", CLAUDE)
    text = provenance(cwd=repo)
    assert "  cell 2, lines 1-2: unreviewed, AI · claude" in text.stdout, text.stdout
    data = provenance("--format", "json", cwd=repo).json()
    (block,) = data["files"][0]["unreviewed_blocks"]
    assert (block["cell"], block["first_line"], block["last_line"]) == (2, 1, 2)
    export = provenance("--export", "agent-trace", cwd=repo).stdout
    (ranges,) = [c["ranges"] for c in json.loads(export)["files"][0]["conversations"]]
    file_lines = ai.split("\n")
    assert [file_lines[r["start_line"] - 1].strip() for r in ranges] == ['"def f():\\n",']
    assert [file_lines[r["end_line"] - 1].strip() for r in ranges] == ['"    return 2"']
    # The records read back, by the file's lines, as the same cell in a repository whose
    # commits say nothing of AI.
    plain = repository(tmp_path / "plain", {"n.ipynb": ai})
    (plain / ".agent-trace").mkdir()
    (plain / ".agent-trace" / "traces.jsonl").write_text(export, encoding="utf-8")
    again = provenance("--format", "json", cwd=plain).json()
    (read_back,) = again["files"][0]["unreviewed_blocks"]
    assert (read_back["cell"], read_back["first_line"], read_back["last_line"]) == (2, 1, 2)
    assert read_back["evidence"] == "agent-trace"


def test_a_notebook_whose_code_cannot_be_placed_in_git_lines_is_silent(tmp_path: Path) -> None:
    """A source key written with an escape cannot be found in the JSON as written: its
    provenance is unknown, so nothing is said (not a guess at the wrong cell)."""
    ai = notebook(("code", "x = 1"), ("code", "def f():\n    return 2"))
    escaped = ai.replace('"source"', '"sourc\\u0065"')
    assert read_notebook(escaped.encode()).text == read_notebook(ai.encode()).text
    assert code_line_origins(escaped.encode()) is None
    repo = repository(tmp_path / "repo", {"other.py": "x = 1\n"})
    (repo / "n.ipynb").write_text(escaped, encoding="utf-8")
    git(repo, "add", "n.ipynb")
    git(repo, "commit", "--quiet", "--message", CLAUDE)
    findings = clearsight("--no-cache", "--format", "json", cwd=repo).json()["findings"]
    assert [f["code"] for f in findings if f["code"] == "CS-P001"] == []
