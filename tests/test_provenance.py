"""AI provenance on real git repositories (the `git` binary), real ledgers, real CLI runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from clearsight.engine import analyze
from clearsight.model import Severity
from clearsight.provenance.ledger import Ledger, attribution_record, parse_ledger, review_record
from clearsight.provenance.model import Attribution, AuthorKind, Evidence
from clearsight.provenance.service import ProvenanceService
from clearsight.provenance.units import statement_units
from clearsight.settings import Settings, settings_from_tables
from clearsight.source import SourceText

HUMAN_CODE = textwrap.dedent(
    """\
    import os


    def human(value):
        return value + 1
    """
)
AI_CODE = textwrap.dedent(
    """\


    def generated(items):
        total = 0
        for item in items:
            if item > 10:
                total += item * 2
        return total
    """
)


def git(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    return done.stdout.strip()


def make_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.name", "Ann Human")
    git(repo, "config", "user.email", "ann@example.com")
    (repo / "app.py").write_text(HUMAN_CODE)
    git(repo, "add", "app.py")
    git(repo, "commit", "-q", "-m", "Human start")
    return repo


def commit_ai(repo: Path, message: str, author: str | None = None) -> str:
    with (repo / "app.py").open("a") as handle:
        handle.write(AI_CODE)
    git(repo, "add", "app.py")
    env = {}
    if author:
        name, email = author.rstrip(">").split(" <")
        env = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email}
    git(repo, "commit", "-q", "-m", message, env=env)
    return git(repo, "rev-parse", "HEAD")


def provenance_of(path: Path, text: str | None = None, settings: Settings | None = None):
    service = ProvenanceService()
    source = SourceText(path.read_text() if text is None else text, path=str(path))
    return service, service.file_provenance(source, settings or Settings(), full=True)


def ai_first_lines(path: Path, text: str | None = None) -> list[tuple[int, str | None]]:
    _, provenance = provenance_of(path, text)
    return [(block.first, block.attribution.tool) for block in provenance.blocks()]


GENERATED_LINE = HUMAN_CODE.count("\n") + 2  # 0-based line of `def generated`


@pytest.mark.parametrize(
    ("message", "author", "tool", "model", "evidence"),
    [
        ("Add\n\nCo-authored-by: Claude <noreply@anthropic.com>", None, "claude", None,
         Evidence.GIT_TRAILER),
        ("Add\n\nAssisted-by: Claude:claude-opus-4", None, "claude", "claude-opus-4",
         Evidence.GIT_TRAILER),
        ("Add\n\nGenerated-by: GitHub Copilot", None, "copilot", None, Evidence.GIT_TRAILER),
        ("Add\n\nCo-authored-by: Cursor Agent <cursoragent@cursor.com>", None, "cursor", None,
         Evidence.GIT_TRAILER),
        ("Add\n\nCo-authored-by: Codex <noreply@openai.com>", None, "codex", None,
         Evidence.GIT_TRAILER),
        ("feat: add", "Ann Human (aider) <ann@example.com>", "aider", None, Evidence.GIT_AUTHOR),
        ("Add", "Copilot <198982749+Copilot@users.noreply.github.com>", "copilot", None,
         Evidence.GIT_AUTHOR),
        ("Add\n\n🤖 Generated with [Claude Code](https://claude.com/claude-code)", None, "claude",
         None, Evidence.GIT_MESSAGE),
    ],
)  # fmt: skip
def test_each_git_marker_attributes_the_commits_lines(
    tmp_path: Path, message: str, author: str | None, tool: str, model: str | None, evidence
) -> None:
    repo = make_repo(tmp_path)
    commit = commit_ai(repo, message, author)
    _, provenance = provenance_of(repo / "app.py")
    blocks = provenance.blocks()
    assert [(b.first, b.last) for b in blocks] == [(GENERATED_LINE, GENERATED_LINE + 5)]
    attribution = blocks[0].attribution
    assert (attribution.tool, attribution.model, attribution.evidence) == (tool, model, evidence)
    assert attribution.commit == commit
    human = provenance.unit_at(3)
    assert human is not None and human.attribution.kind == AuthorKind.HUMAN


@pytest.mark.parametrize(
    "message",
    [
        "Add\n\nCo-authored-by: Claude Monet <claude@example.com>",
        "Add\n\nCo-authored-by: Devin Smith <devin@example.com>",
        "Add\n\nReviewed-by: Someone <s@example.com>",
        "Add the claude integration docs",
    ],
)
def test_people_and_words_are_not_agents(tmp_path: Path, message: str) -> None:
    repo = make_repo(tmp_path)
    commit_ai(repo, message)
    _, provenance = provenance_of(repo / "app.py")
    assert provenance.blocks() == []
    assert provenance.share() == 0.0


def test_reformatting_and_moving_code_keep_the_attribution(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    commit_ai(repo, "Add\n\nCo-authored-by: Claude <noreply@anthropic.com>")
    text = (repo / "app.py").read_text()
    ai_part = text[text.index("def generated") :]
    # Moved above the human code and reformatted (quotes, spacing, wrapping), uncommitted.
    reformatted = ai_part.replace("total = 0", "total = (\n        0\n    )  # start")
    moved = reformatted + "\n\n" + HUMAN_CODE
    _, provenance = provenance_of(repo / "app.py", moved)
    blocks = provenance.blocks()
    assert len(blocks) == 1 and blocks[0].first == 0
    assert blocks[0].attribution.tool == "claude"
    # A real change is new content: that statement is no longer known to be AI-written.
    changed = moved.replace("total += item * 2", "total += item * 3")
    _, provenance = provenance_of(repo / "app.py", changed)
    changed_line = changed.splitlines().index("            total += item * 3")
    unit = provenance.unit_at(changed_line)
    assert unit is not None and unit.attribution.kind == AuthorKind.UNKNOWN


def test_git_ai_note_gives_line_level_authorship(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    commit = commit_ai(repo, "Add generated code")  # no trailer: only the note says AI
    first = GENERATED_LINE + 1  # 1-based
    note = (
        "app.py\n"
        f"  abcd1234abcd1234 {first}-{first + 2}\n"
        f"  h_0123456789abcd {first + 3}-{first + 5}\n"
        "---\n"
        + json.dumps({
            "schema_version": "authorship/3.0.0", "base_commit_sha": commit,
            "prompts": {"abcd1234abcd1234": {"agent_id": {"tool": "cursor", "model": "gpt-5"}}},
            "humans": {"h_0123456789abcd": {"author": "Ann Human"}},
        })
    )  # fmt: skip
    git(repo, "notes", "--ref=ai", "add", "-m", note, commit)
    _, provenance = provenance_of(repo / "app.py")
    blocks = provenance.blocks()
    assert len(blocks) == 1
    block = blocks[0]
    assert (block.first, block.attribution.tool, block.attribution.model) == (
        GENERATED_LINE,
        "cursor",
        "gpt-5",
    )
    assert block.attribution.evidence == Evidence.GIT_AI_NOTE
    assert block.last < GENERATED_LINE + 3  # the human-attested lines are not in the block
    human = provenance.unit_at(GENERATED_LINE + 4)
    assert human is not None and human.attribution.kind == AuthorKind.HUMAN


def test_malformed_git_ai_note_is_reported_not_fatal(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    commit = commit_ai(repo, "Add")
    git(repo, "notes", "--ref=ai", "add", "-m", "app.py\n  x not-a-range\n---\n{broken", commit)
    _, provenance = provenance_of(repo / "app.py")
    assert provenance.blocks() == []
    assert any("not valid JSON" in p for p in provenance.problems)
    assert any("cannot read ranges" in p for p in provenance.problems)


def test_agent_trace_records_attribute_ranges(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    commit = commit_ai(repo, "Add")
    trace_dir = repo / ".agent-trace"
    trace_dir.mkdir()
    first = GENERATED_LINE + 1
    record = {
        "version": "0.1.0", "id": "5f3c1c1e-0000-4000-8000-000000000000",
        "timestamp": "2026-11-01T10:00:00Z", "vcs": {"type": "git", "revision": commit},
        "tool": {"name": "claude-code"},
        "files": [{"path": "app.py", "conversations": [{
            "contributor": {"type": "ai", "model_id": "anthropic/claude-sonnet-4"},
            "ranges": [{"start_line": first, "end_line": first + 5}],
        }]}],
    }  # fmt: skip
    (trace_dir / "traces.jsonl").write_text("not json\n" + json.dumps(record) + "\n")
    _, provenance = provenance_of(repo / "app.py")
    (block,) = provenance.blocks()
    assert block.first == GENERATED_LINE
    assert block.attribution.evidence == Evidence.AGENT_TRACE
    assert block.attribution.model == "anthropic/claude-sonnet-4"
    assert any("traces.jsonl:1" in p for p in provenance.problems)


def test_generated_marker_outside_git(tmp_path: Path) -> None:
    path = tmp_path / "gen.py"
    path.write_text("# @generated by Claude Code\nx = 1\ny = 2\n")
    _, provenance = provenance_of(path)
    (block,) = provenance.blocks()
    assert (block.first, block.last, block.attribution.tool) == (1, 2, "claude")
    plain = tmp_path / "plain.py"
    plain.write_text("# a generated-looking comment without the marker\nx = 1\n")
    assert provenance_of(plain)[1].blocks() == []


def test_review_is_recorded_and_lost_on_change(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    commit_ai(repo, "Add\n\nCo-authored-by: Claude <noreply@anthropic.com>")
    path = repo / "app.py"
    settings = Settings()
    codes = [f.code for f in analyze(path.read_text(), str(path), settings)]
    assert codes.count("CS-P001") == 1
    service = ProvenanceService()
    source = SourceText(path.read_text(), path=str(path))
    assert service.mark_reviewed(source, settings, range(GENERATED_LINE, GENERATED_LINE + 6)) > 0
    ledger = (repo / ".clearsight" / "provenance.jsonl").read_text().splitlines()
    record = json.loads(ledger[-1])
    assert record["type"] == "review" and record["reviewer"] == "Ann Human <ann@example.com>"
    assert "def generated" not in ledger[-1]  # hashes only, never code
    from clearsight.checks.provenance import ProvenanceCheck

    check = ProvenanceCheck(ProvenanceService())
    reviewed = list(check.run(SourceText(path.read_text(), path=str(path)), settings))
    assert [f.code for f in reviewed] == []
    # Changing one reviewed statement makes that statement unreviewed again.
    changed = path.read_text().replace("total += item * 2", "total += item * 2 + 1")
    again = list(check.run(SourceText(changed, path=str(path)), settings))
    assert [f.code for f in again] == []  # the changed line is new, not AI-attributed
    changed_source = SourceText(changed, path=str(path))
    touched = range(GENERATED_LINE + 4, GENERATED_LINE + 5)
    ai = Attribution.of(AuthorKind.AI, Evidence.BULK_INSERTION, "copilot")
    service.mark_author(changed_source, settings, touched, ai)
    after = list(ProvenanceCheck(ProvenanceService()).run(changed_source, settings))
    assert [(f.code, f.line) for f in after] == [("CS-P001", GENERATED_LINE + 4)]


def test_mark_human_written_corrects_attribution(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    commit_ai(repo, "Add\n\nCo-authored-by: Claude <noreply@anthropic.com>")
    path = repo / "app.py"
    service = ProvenanceService()
    source = SourceText(path.read_text(), path=str(path))
    service.mark_author(
        source, Settings(), range(0, len(source.lines)),
        Attribution.of(AuthorKind.HUMAN, Evidence.MARKED),
    )  # fmt: skip
    _, provenance = provenance_of(path)
    assert provenance.blocks() == []


def test_policy_in_ai_ranges(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    with (repo / "app.py").open("a") as handle:
        handle.write(
            "\n\ndef run(cmd):\n    import subprocess\n    subprocess.call(cmd, shell=True)\n"
        )
    git(repo, "commit", "-qam", "Add\n\nCo-authored-by: Claude <noreply@anthropic.com>")
    path = repo / "app.py"
    text = path.read_text()
    findings = {f.code: f for f in analyze(text, str(path), Settings())}
    plain = {f.code: f for f in analyze(text, str(path), settings_from_tables(
        {"provenance": {"enabled": False}}))}  # fmt: skip
    assert plain["B404"].severity == Severity.INFO
    assert findings["B404"].severity == Severity.WARNING  # raised: AI-written
    assert findings["CS-P001"].severity == Severity.WARNING  # holds a security finding
    assert "B602" in findings["CS-P001"].message
    related = {r.span.start.line for r in findings["CS-P001"].related}
    assert related == {findings["B404"].line, findings["B602"].line}


def test_dependency_findings_are_louder_in_ai_code(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    with (repo / "app.py").open("a") as handle:
        handle.write("\n\ndef fetch():\n    import reqeusts\n    return reqeusts\n")
    git(repo, "commit", "-qam", "Add\n\nCo-authored-by: Claude <noreply@anthropic.com>")
    path = repo / "app.py"
    off = settings_from_tables({"provenance": {"enabled": False}})
    plain = {f.code: f for f in analyze(path.read_text(), str(path), off)}
    raised = {f.code: f for f in analyze(path.read_text(), str(path), Settings())}
    deps = [code for code in plain if code.startswith("CS-D")]
    assert deps, "the typosquat/unresolvable import must be reported"
    for code in deps:
        assert raised[code].severity < plain[code].severity or plain[code].severity == 1
        assert "AI-written code" in raised[code].message


def test_stricter_complexity_limit_for_ai_code(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    branches = "".join(f"    if x == {i}:\n        return {i}\n" for i in range(8))
    with (repo / "app.py").open("a") as handle:
        handle.write(f"\n\ndef branchy(x):\n{branches}    return -1\n")
    git(repo, "commit", "-qam", "Add\n\nCo-authored-by: Claude <noreply@anthropic.com>")
    path = repo / "app.py"
    strict = [f for f in analyze(path.read_text(), str(path), Settings()) if f.code == "CS-C001"]
    assert len(strict) == 1 and "limit 7" in strict[0].message
    assert "stricter limit" in strict[0].message
    relaxed = settings_from_tables({"provenance": {"ai-max-complexity": 10}})
    assert not [f for f in analyze(path.read_text(), str(path), relaxed) if f.code == "CS-C001"]


def test_not_a_repository_no_commits_shallow_and_detached(tmp_path: Path) -> None:
    loose = tmp_path / "loose.py"
    loose.write_text(HUMAN_CODE)
    _, provenance = provenance_of(loose)
    assert provenance.blocks() == [] and provenance.problems == []
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q")
    (empty / "a.py").write_text(HUMAN_CODE)
    assert provenance_of(empty / "a.py")[1].blocks() == []
    repo = make_repo(tmp_path)
    commit_ai(repo, "Add\n\nCo-authored-by: Claude <noreply@anthropic.com>")
    (repo / "later.txt").write_text("x")
    git(repo, "add", "later.txt")
    git(repo, "commit", "-qm", "later")
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo}", str(shallow))
    # History before the boundary commit is missing: its lines are that commit's, and it says so.
    _, shallow_provenance = provenance_of(shallow / "app.py")
    assert shallow_provenance.blocks() == []
    assert any("shallow clone" in p for p in shallow_provenance.problems)
    git(repo, "checkout", "-q", "--detach", "HEAD~1")
    assert [b.first for b in provenance_of(repo / "app.py")[1].blocks()] == [GENERATED_LINE]


def test_statement_keys_ignore_formatting_but_not_content() -> None:
    a = SourceText("def f(a, b):\n    return {'x': a, 'y': b,}\n", path="m.py")
    b = SourceText('def f(a, b):\n    return {\n        "x": a,\n        "y": b,\n    }  # c\n',
                   path="m.py")  # fmt: skip
    c = SourceText("def f(a, b):\n    return {'x': b, 'y': a}\n", path="m.py")
    keys = [[u.key for u in statement_units(s)] for s in (a, b, c)]
    assert keys[0] == keys[1]
    assert keys[0][0] == keys[2][0] and keys[0][1] != keys[2][1]


# -- the ledger ---------------------------------------------------------------------------


def test_ledger_skips_corrupt_lines_and_keeps_every_valid_record(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    ai = Attribution.of(AuthorKind.AI, Evidence.BULK_INSERTION, "copilot")
    ledger.append([attribution_record(["k1"], "a.py", ai)])
    with ledger.path.open("ab") as handle:
        handle.write(b'{"type": "review", "keys": ["k1"], "revi')  # torn, no newline
    ledger.append([review_record(["k1"], "a.py", "Ann <a@x>")])
    with ledger.path.open("ab") as handle:
        handle.write(b"\x00\xff not json\n[1, 2]\n")
    index = Ledger(tmp_path).index()
    assert index.records == 2
    assert len(index.problems) == 3
    assert all("skipped" in p for p in index.problems)
    assert index.attributions["k1"][0][1].tool == "copilot"
    assert index.reviews["k1"][0][1].reviewer == "Ann <a@x>"


_WRITER = """
import sys
from pathlib import Path
from clearsight.provenance.ledger import Ledger, review_record
ledger = Ledger(Path(sys.argv[1]))
for i in range(int(sys.argv[3])):
    ledger.append([review_record([f"{sys.argv[2]}-{i}"] * 3, "a.py", "x" * 2000)])
"""


def test_two_writers_at_once_lose_nothing(tmp_path: Path) -> None:
    writers = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(tmp_path), name, "150"])
        for name in ("left", "right")
    ]
    assert [w.wait(timeout=120) for w in writers] == [0, 0]
    index = parse_ledger((tmp_path / ".clearsight" / "provenance.jsonl").read_bytes())
    assert index.problems == []
    assert index.records == 300
    assert {f"{n}-{i}" for n in ("left", "right") for i in range(150)} == set(index.reviews)


def test_killed_writer_leaves_a_readable_ledger(tmp_path: Path) -> None:
    writer = subprocess.Popen([sys.executable, "-c", _WRITER, str(tmp_path), "w", "100000"])
    ledger_path = tmp_path / ".clearsight" / "provenance.jsonl"
    deadline = time.monotonic() + 60
    while (not ledger_path.exists() or ledger_path.stat().st_size < 200_000) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.05)
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    before = parse_ledger(ledger_path.read_bytes())
    assert before.records > 10
    assert len(before.problems) <= 1  # at most the torn last line
    Ledger(tmp_path).append([review_record(["after"], "a.py", "Ann")])
    after = parse_ledger(ledger_path.read_bytes())
    assert after.records == before.records + 1 and "after" in after.reviews


# -- the command line -----------------------------------------------------------------------


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "clearsight.cli.main", *args],
        cwd=cwd, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_provenance_command_text_json_and_agent_trace_export(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    commit = commit_ai(repo, "Add\n\nAssisted-by: Claude:claude-opus-4")
    text = run_cli("provenance", cwd=repo)
    assert text.returncode == 0, text.stderr
    assert "app.py: " in text.stdout and "1 unreviewed block(s)" in text.stdout
    data = json.loads(run_cli("provenance", "--format", "json", cwd=repo).stdout)
    (entry,) = data["files"]
    assert entry["ai_lines"] == 6 and entry["tools"] == ["claude"]
    assert entry["unreviewed_blocks"][0]["first_line"] == GENERATED_LINE + 1
    assert entry["unreviewed_blocks"][0]["model"] == "claude-opus-4"
    exported = run_cli("provenance", "--export", "agent-trace", cwd=repo).stdout.splitlines()
    record = json.loads(exported[0])
    assert record["vcs"] == {"type": "git", "revision": commit}
    ranges = record["files"][0]["conversations"][0]["ranges"]
    assert ranges == [{"start_line": GENERATED_LINE + 1, "end_line": GENERATED_LINE + 6}]
    # The exported trace reads back as the same attribution in a repository without trailers.
    markdown = run_cli("provenance", "--format", "markdown", cwd=repo).stdout
    assert markdown.startswith("# Provenance report") and "`app.py`" in markdown


def test_check_includes_provenance_and_cache_follows_reviews(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    commit_ai(repo, "Add\n\nCo-authored-by: Claude <noreply@anthropic.com>")
    first = run_cli("check", "--format", "json", ".", cwd=repo)
    codes = [f["code"] for f in json.loads(first.stdout)["findings"]]
    assert "CS-P001" in codes
    service = ProvenanceService()
    source = SourceText((repo / "app.py").read_text(), path=str(repo / "app.py"))
    service.mark_reviewed(source, Settings(), range(0, len(source.lines)), reviewer="Ann")
    second = run_cli("check", "--format", "json", ".", cwd=repo)
    codes = [f["code"] for f in json.loads(second.stdout)["findings"]]
    assert second.returncode == 0 and "CS-P001" not in codes


# -- false positives on real code ------------------------------------------------------------


def _stdlib_sample(count: int) -> list[Path]:
    files = sorted(Path(subprocess.__file__).parent.glob("*.py"))
    step = max(1, len(files) // count)
    return files[::step][:count]


def test_reformatting_real_code_is_not_a_bulk_insertion(tmp_path: Path) -> None:
    """A formatter rewriting a whole standard-library file (as an editor's format-on-save
    does, in one whole-document change) must not turn statements into "AI-written": the
    statements it leaves are known content. Measured on 60 stdlib files with ruff format."""
    from clearsight.provenance.observe import Observations, changed_regions, is_bulk
    from clearsight.provenance.units import statement_units as units_of

    flagged = total = 0
    for original in _stdlib_sample(60):
        before = original.read_text(encoding="utf-8", errors="surrogateescape")
        copy = tmp_path / original.name
        copy.write_text(before, encoding="utf-8", errors="surrogateescape")
        subprocess.run(
            [sys.executable, "-m", "ruff", "format", "-q", "--line-length", "79", str(copy)],
            check=False, capture_output=True,
        )  # fmt: skip
        after = copy.read_text(encoding="utf-8", errors="surrogateescape")
        observed = Observations()
        for change in changed_regions(before, after):
            observed.edited(change, is_bulk(change, 3, 120))
        source = SourceText(after, path=str(copy))
        if source.tree is None:
            continue
        known = {u.key for u in units_of(SourceText(before, path=str(copy)))}
        units = units_of(source)
        total += len(units)
        flagged += sum(
            1
            for u in units
            if u.key not in known
            and any(u.first <= last and u.last >= first for first, last in observed.ranges)
        )
    assert total > 5000
    rate = flagged / total
    print(f"statements flagged after reformatting: {flagged}/{total} = {rate:.3%}")
    assert rate < 0.001


@pytest.mark.parametrize("name", ["subprocess", "argparse", "tarfile", "typing", "inspect"])
def test_units_by_statement_and_member_equal_the_whole_file_walk(name: str) -> None:
    """Per edit, statements are found without parsing the file and long classes member by
    member: the units (keys, lines, scopes) must equal those of one whole-file walk."""
    from clearsight.provenance.units import segment_units

    path = Path(subprocess.__file__).parent / f"{name}.py"
    source = SourceText(path.read_text(encoding="utf-8"), path=str(path))
    whole = statement_units(source)
    segments = segment_units(SourceText(source.text, path=str(path)))
    assert len(segments) > 10
    pieces = sorted(
        (u._replace(first=u.first + at, last=u.last + at) for at, _, us in segments for u in us),
        key=lambda unit: (unit.first, unit.last),
    )
    assert pieces == whole
