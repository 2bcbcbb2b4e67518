"""The risk report's HTML page in headless Chromium (Debian's, driven by playwright-core as
the VS Code tests are), with every request that is not for the page itself blocked: nothing
tries to leave, no script fails, and each chart holds the data of `--format json`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from test_provenance import git
from test_report import history_repo
from test_report_timeline import add_timeline

from clearsight.report.charts import figures

ROOT = Path(__file__).resolve().parent.parent
DRIVER = ROOT / "tests" / "editors" / "report" / "check_page.mjs"
INSTALL = "bash scripts/install-test-editors.sh"


def _tool(found: str | None, what: str) -> str:
    if not found or not Path(found).exists():
        pytest.fail(f"{what} is missing: run `{INSTALL}` (README's test command does)")
    return found


def clearsight_report(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "clearsight.cli.main", "report", "--no-cache", *args],
        cwd=repo, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    return done


@pytest.fixture(scope="module")
def opened(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any]]:
    node = _tool(shutil.which("node"), "node (Node.js)")
    chromium = _tool(shutil.which("chromium"), "chromium (Debian's chromium)")
    _tool(str(ROOT / "tests" / "editors" / "node_modules" / "playwright-core"), "playwright-core")
    scratch = tmp_path_factory.mktemp("report-page")
    repo = history_repo(scratch)
    add_timeline(repo)  # AI-written commits and dependency changes, on top
    made = clearsight_report(repo, "-o", str(scratch / "report.html"))
    assert made.returncode == 0, made.stderr
    data = json.loads(clearsight_report(repo, "--format", "json").stdout)
    # CLEARSIGHT_REPORT_SCREENSHOT keeps the screenshot where people can look at it.
    screenshot = os.environ.get("CLEARSIGHT_REPORT_SCREENSHOT") or str(scratch / "report.png")
    out = scratch / "found.json"
    env = {**os.environ, "HOME": str(scratch), "XDG_CONFIG_HOME": str(scratch / "config")}
    subprocess.run(
        [node, str(DRIVER), "--page", str(scratch / "report.html"), "--chromium", chromium,
         "--out", str(out), "--click", "app.py", "--filter", "pick", "--screenshot", screenshot],
        cwd=scratch, env=env, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    found = json.loads(out.read_text())
    found["screenshot"] = screenshot
    return data, found


def test_the_page_renders_offline_without_errors(opened: tuple[dict, dict]) -> None:
    _data, found = opened
    assert found["ok"], found.get("message")
    assert found["blocked"] == []  # nothing tried to leave the page
    assert found["errors"] == []


def test_the_hotspot_map_holds_every_file_sized_and_coloured_as_the_json(
    opened: tuple[dict, dict],
) -> None:
    data, found = opened
    (trace,) = found["charts"]["hotspots"]["traces"]
    assert trace["type"] == "treemap"
    sizes = dict(zip(trace["ids"], trace["values"], strict=True))
    for spot in data["hotspots"]:
        assert sizes[spot["path"]] == max(1, spot["lines"])
    assert sizes["."] == sum(max(1, s["lines"]) for s in data["hotspots"])
    # plotly.js drew a tile for the root and each file (all at the top level here).
    assert found["charts"]["hotspots"]["tiles"] == len(data["hotspots"]) + 1
    expected = figures(data)["hotspots"]["data"][0]["marker"]["colors"]
    assert len(expected) == len(trace["ids"])


def test_a_click_on_a_file_lists_its_top_findings(opened: tuple[dict, dict]) -> None:
    data, found = opened
    app = next(h for h in data["hotspots"] if h["path"] == "app.py")
    details = found["details"]
    assert details.startswith(f"app.py risk {app['risk']:g}")
    for finding in app["top_findings"]:
        assert f"app.py:{finding['line']} {finding['code']}" in details
    assert all(reason in details for reason in app["reasons"])


def test_the_trends_hold_each_revisions_counts(opened: tuple[dict, dict]) -> None:
    data, found = opened
    revisions = data["revisions"]
    lines = {t["name"]: t["y"] for t in found["charts"]["trend"]["traces"]}
    families = {family for r in revisions for family in r["findings"]}
    assert set(lines) == families
    for family, counts in lines.items():
        assert counts == [sum(r["findings"].get(family, {}).values()) for r in revisions]
    assert found["charts"]["trend"]["markers"] == len(families) * len(revisions)
    stacked = {t["name"]: t["y"] for t in found["charts"]["severities"]["traces"]}
    for severity, counts in stacked.items():
        assert counts == [
            sum(by.get(severity, 0) for by in r["findings"].values()) for r in revisions
        ]
    totals = [sum(column) for column in zip(*stacked.values(), strict=True)]
    assert totals == [r["total"] for r in revisions]


def test_the_authorship_chart_stacks_each_weeks_lines_by_kind(opened: tuple[dict, dict]) -> None:
    data, found = opened
    weeks = data["authorship"]["weeks"]
    bars = {t["name"]: t for t in found["charts"]["authorship"]["traces"]}
    assert {"human", "AI", "mixed (AI co-author or tool named)"} <= set(bars)
    assert bars["AI"]["x"] == [w["week"] for w in weeks]
    assert bars["AI"]["y"] == [w["lines"]["ai"] for w in weeks]
    assert bars["human"]["y"] == [w["lines"]["human"] for w in weeks]
    assert found["charts"]["authorship"]["bars"] == sum(len(t["x"]) for t in bars.values())


def test_the_dependency_chart_marks_the_flagged_names(opened: tuple[dict, dict]) -> None:
    data, found = opened
    bars = {t["name"]: t for t in found["charts"]["dependencies"]["traces"]}
    flagged = [c for c in data["dependencies"] if c["verdict"]]
    removed = [c for c in data["dependencies"] if c["change"] == "removed"]
    assert sum(bars["added, flagged (not on PyPI or a typosquat)"]["y"]) == len(flagged) == 2
    assert sum(bars["removed"]["y"]) == -len(removed)
    for change in flagged:
        assert change["name"] in found["flaggedList"]


def test_the_functions_table_lists_and_filters(opened: tuple[dict, dict]) -> None:
    data, found = opened
    rows = found["functionRows"]
    assert len(rows) == len(data["functions"])
    first = data["functions"][0]
    assert rows[0] == [f"{first['path']}:{first['line']}", first["name"], "new",
                       str(first["complexity"]), str(first["changes"])]  # fmt: skip
    assert [row[1] for row in found["filteredRows"]] == ["pick"]


def test_a_screenshot_is_kept(opened: tuple[dict, dict]) -> None:
    _data, found = opened
    shot = Path(found["screenshot"])
    assert shot.is_file() and shot.stat().st_size > 20_000


def test_the_page_without_plotly_is_a_clear_error(tmp_path: Path) -> None:
    """A Python without the report extra: the command says what to install, at once."""
    repo = history_repo(tmp_path)
    blocker = tmp_path / "no_plotly"
    (blocker / "plotly").mkdir(parents=True)
    (blocker / "plotly" / "__init__.py").write_text("raise ImportError('not installed')\n")
    path = os.pathsep.join([str(blocker), os.environ.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, "-m", "clearsight.cli.main", "report", "--no-cache"],
        cwd=repo, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": path},
    )  # fmt: skip
    assert done.returncode == 2
    assert "pip install 'clearsight[report]'" in done.stderr
    assert not (repo / "clearsight-report.html").exists()


def test_a_repository_with_nothing_to_chart_gets_a_page_that_says_so(tmp_path: Path) -> None:
    from test_report import commit

    node = _tool(shutil.which("node"), "node (Node.js)")
    chromium = _tool(shutil.which("chromium"), "chromium (Debian's chromium)")
    repo = tmp_path / "one"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.name", "Ann Human")
    git(repo, "config", "user.email", "ann@example.com")
    commit(repo, "Only", {"README.md": "hello\n"})
    assert clearsight_report(repo).returncode == 0
    out = tmp_path / "found.json"
    subprocess.run(
        [node, str(DRIVER), "--page", str(repo / "clearsight-report.html"), "--chromium",
         chromium, "--out", str(out)],
        cwd=tmp_path, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    found = json.loads(out.read_text())
    assert found["ok"] and found["errors"] == [] and found["blocked"] == [], found
    assert found["functionRows"] == []
    assert all(chart["traces"] == [] for chart in found["charts"].values())
