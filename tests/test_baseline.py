"""`clearsight check --baseline FILE`: the findings of an earlier JSON report are not shown
again, matched by the review's line-shift-proof fingerprints. Real runs of the command, and
real standard-library modules shifted by inserted code."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import pytest
from test_cli import clearsight, write

from clearsight.cli.output import format_json
from clearsight.cli.runner import FileResult
from clearsight.engine import analyze
from clearsight.review.baseline import Baseline, BaselineError
from clearsight.review.fingerprints import place, scopes_by_indent, scopes_by_line
from clearsight.settings import Settings
from clearsight.source import SourceText

LEGACY = (
    "import subprocess\n\n\ndef run(cmd):\n    return subprocess.run(cmd, shell=True)\n\n\n"
    "def ev(s):\n    return eval(s)\n\n\ndef ev2(s):\n    return eval(s)\n"
)

AGAINST_BASELINE = ("--no-cache", "--format", "json", "--baseline", "baseline.json")


def make_baseline(root: Path) -> dict:
    done = clearsight("--no-cache", "--format", "json", "-o", "baseline.json", ".", cwd=root)
    assert done.returncode == 1 and done.stdout == ""  # the report went to the file
    report = json.loads((root / "baseline.json").read_text())
    assert all(len(f["fingerprint"]) == 20 and f["line_hash"] for f in report["findings"])
    return report


def test_the_baseline_hides_old_findings_wherever_code_moved_them(tmp_path: Path) -> None:
    root = write(tmp_path, {"app.py": LEGACY})
    report = make_baseline(root)
    assert {f["code"] for f in report["findings"]} == {"B404", "B602", "B307"}
    # Code added above every old finding, and a new finding.
    shifted = "import os\n\n" + LEGACY.replace("def ", "# about it\ndef ")
    (root / "app.py").write_text(shifted + "\n\ndef load(b):\n    import pickle\n"
                                 "    return pickle.loads(b)\n")  # fmt: skip
    done = clearsight(*AGAINST_BASELINE, ".", cwd=root)
    assert sorted(done.codes()) == ["B301", "B403"], done.stdout
    assert "4 findings in the baseline baseline.json not shown" in done.stderr
    assert done.returncode == 1
    only_old = clearsight("--no-cache", "--baseline", "baseline.json", "--select", "B6", ".",
                          cwd=root)  # fmt: skip
    assert only_old.returncode == 0 and "Found 0 findings" in only_old.stdout


def test_an_edited_line_or_one_more_copy_comes_back(tmp_path: Path) -> None:
    """A finding's own line edited is new code; a third equal eval() where the baseline
    had two is one new finding, not zero."""
    root = write(tmp_path, {"app.py": LEGACY})
    make_baseline(root)
    edited = LEGACY.replace("shell=True)", "shell=True, check=True)")
    edited += "\n\ndef ev3(s):\n    return eval(s)\n"
    (root / "app.py").write_text(edited)
    done = clearsight(*AGAINST_BASELINE, ".", cwd=root)
    assert sorted(done.codes()) == ["B307", "B602"], done.stdout


def test_a_broken_baseline_is_a_clear_error_and_is_left_alone(tmp_path: Path) -> None:
    root = write(tmp_path, {"app.py": LEGACY})
    cases = {
        "garbage.json": b"{not json",
        "other.json": b'{"results": []}',
        "old.json": json.dumps({"findings": [{"path": "app.py", "code": "B307"}]}).encode(),
    }
    for name, content in cases.items():
        (root / name).write_bytes(content)
    expected = {
        "garbage.json": "is not JSON",
        "other.json": 'no "findings" list',
        "old.json": "has no fingerprints: write it again",
        "missing.json": "cannot read the baseline missing.json",
    }
    for name, message in expected.items():
        done = clearsight("--no-cache", "--baseline", name, ".", cwd=root)
        assert done.returncode == 2 and message in done.stderr, (name, done.stderr)
        assert done.stdout == ""
    for name, content in cases.items():
        assert (root / name).read_bytes() == content


def test_output_file_holds_the_text_report_and_replaces_an_old_one(tmp_path: Path) -> None:
    root = write(tmp_path, {"app.py": LEGACY})
    (root / "report.txt").write_text("old\n")
    done = clearsight("--no-cache", "-o", "report.txt", "app.py", cwd=root)
    assert done.returncode == 1 and done.stdout == ""
    text = (root / "report.txt").read_text()
    assert "app.py:9:12: B307" in text and "Found 4 findings in 1 file" in text
    assert "\x1b[" not in text
    unwritable = clearsight("--no-cache", "-o", "nowhere/report.txt", "app.py", cwd=root)
    assert unwritable.returncode == 2 and "cannot write nowhere/report.txt" in unwritable.stderr


def test_sarif_carries_the_fingerprints_code_scanning_tracks(tmp_path: Path) -> None:
    root = write(tmp_path, {"app.py": LEGACY})
    done = clearsight("--no-cache", "--format", "sarif", "app.py", cwd=root)
    results = done.json()["runs"][0]["results"]
    prints = [r["partialFingerprints"]["clearsight/v1"] for r in results]
    assert len(prints) == len(set(prints)) == 4  # two equal eval() lines stay two


def test_fix_with_a_baseline_fixes_only_the_new_findings(tmp_path: Path) -> None:
    """B506 (yaml.load) carries a safe fix: the baseline's old one is left as it is."""
    old = "import yaml\n\n\ndef load(text):\n    return yaml.load(text)\n"
    root = write(tmp_path, {"app.py": old})
    make_baseline(root)
    new = old + "\n\ndef load2(text):\n    return yaml.load(text, Loader=yaml.Loader)\n"
    new += "\n\ndef load3(stream):\n    return yaml.load(stream)\n"
    (root / "app.py").write_text(new)
    clearsight("--no-cache", "--fix", "--baseline", "baseline.json", ".", cwd=root)
    fixed = (root / "app.py").read_text()
    assert "return yaml.load(text)\n" in fixed  # the old one, untouched
    assert "return yaml.load(stream)" not in fixed  # the new one, fixed


# -- real code: the standard library, shifted ------------------------------------------------

_DEFINITION = re.compile(r"^(\s*)(?:@|async def |def |class )")


def _shifted(text: str) -> str:
    """A blank line and `_shift = 0` before every definition (before its decorators)."""
    out: list[str] = []
    previous = ""
    for line in text.splitlines(keepends=True):
        found = _DEFINITION.match(line)
        if found and not previous.lstrip().startswith("@"):
            out.append(f"\n{found.group(1)}_shift = 0\n")
        out.append(line)
        previous = line
    return "".join(out)


MODULES = ("subprocess", "tarfile", "shutil", "pickle", "ssl")


def _stdlib(name: str) -> Path:
    import os

    return Path(os.__file__).parent / f"{name}.py"


@pytest.mark.parametrize("module", MODULES)
def test_stdlib_modules_shifted_everywhere_bring_back_nothing(module: str) -> None:
    """A blank line and a line of code before every definition of a real module (so every
    finding's line moves, some by hundreds): the command line's placement and the editor's
    (by indentation) both find every finding in the baseline."""
    path = str(_stdlib(module))
    text = _stdlib(module).read_text()
    settings = Settings()
    findings = analyze(SourceText(text, path=path), path, settings)
    assert len(findings) >= 3, module
    result = FileResult(path, findings, text, placed=place(findings, text))
    report = Path(path).parent  # entries are absolute paths here
    baseline = _load(format_json([result]), report)
    shifted = _shifted(text)
    assert shifted.count("_shift = 0") > 10
    after = analyze(SourceText(shifted, path=path), path, settings)
    assert len(after) == len(findings)
    before_lines = {(f.code, f.span.start.line) for f in findings}
    moved = sum(1 for f in after if (f.code, f.span.start.line) not in before_lines)
    assert moved > len(findings) // 2
    by_tree = place(after, shifted, scopes_by_line(shifted))
    by_indent = place(after, shifted, scopes_by_indent(shifted))
    assert [p.finding.code for p in baseline.new(path, by_tree, report)] == []
    assert [p.finding.code for p in baseline.new(path, by_indent, report)] == []


def _load(document: str, relative_to: Path) -> Baseline:
    with tempfile.TemporaryDirectory() as folder:
        file = Path(folder) / "baseline.json"
        file.write_text(document)
        return Baseline.load(file, relative_to)


def test_a_report_with_no_findings_is_an_empty_baseline(tmp_path: Path) -> None:
    file = tmp_path / "empty.json"
    file.write_text(json.dumps({"findings": []}))
    assert Baseline.load(file, tmp_path).files == {}
    file.write_text("[]")
    with pytest.raises(BaselineError, match='no "findings" list'):
        Baseline.load(file, tmp_path)
