"""`clearsight check --shard I/N` and `clearsight merge`, through the real console script on
standard-library packages: the shards partition the files for any N (a property test), and
their merged JSON or SARIF report is byte for byte the report of a single run. Shards
that do not make one run are refused with the reason."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clearsight.cli.shard import file_weight, parse_shard, partition

STDLIB = Path(sysconfig.get_paths()["stdlib"])
PACKAGES = ("json", "email", "http", "wsgiref")


def _command(*args: str | Path) -> list[str]:
    script = Path(sys.executable).with_name("clearsight")
    head = [str(script)] if script.exists() else [sys.executable, "-m", "clearsight.cli.main"]
    return [*head, *map(str, args)]


def run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        _command(*args), cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("stdlib")
    for package in PACKAGES:
        shutil.copytree(STDLIB / package, root / package, ignore=shutil.ignore_patterns("*.pyc"))
    return root


# --- the partition -----------------------------------------------------------------------

names = st.lists(
    st.text("abcdefgh/_.", min_size=1, max_size=12), min_size=0, max_size=60, unique=True
)


@settings(max_examples=300, deadline=None)
@given(names=names, sizes=st.lists(st.integers(0, 50_000), min_size=60, max_size=60),
       count=st.integers(1, 25), seed=st.randoms())  # fmt: skip
def test_shards_partition_the_files_for_any_n(
    names: list[str], sizes: list[int], count: int, seed: object
) -> None:
    files = [Path(f"{name}.py") for name in names]
    weights = {file: size for file, size in zip(files, sizes, strict=False)}
    shards = partition(files, count, weights.__getitem__)
    assert len(shards) == count
    taken = [position for shard in shards for position in shard]
    assert sorted(taken) == list(range(len(files)))  # every file once, in exactly one shard
    # The same files in another order (another machine's listing) get the same shards.
    shuffled = list(files)
    seed.shuffle(shuffled)  # type: ignore[attr-defined]
    again = partition(shuffled, count, weights.__getitem__)
    assert [{shuffled[p] for p in shard} for shard in again] == [
        {files[p] for p in shard} for shard in shards
    ]
    # Balanced by size: greedy largest-first keeps the longest shard within one file of
    # an even share (each file counts at least 1).
    loads = [sum(max(1, weights[files[p]]) for p in shard) for shard in shards]
    if files:
        even = sum(max(1, w) for w in weights.values()) / count
        assert max(loads) <= even + max(max(1, w) for w in weights.values())


def test_weights_ignore_carriage_returns(tmp_path: Path) -> None:
    (tmp_path / "lf.py").write_bytes(b"a = 1\nb = 2\n")
    (tmp_path / "crlf.py").write_bytes(b"a = 1\r\nb = 2\r\n")
    assert file_weight(tmp_path / "lf.py") == file_weight(tmp_path / "crlf.py") == 12
    assert file_weight(tmp_path / "missing.py") == 0


def test_shards_of_a_real_package_are_balanced(project: Path) -> None:
    files = sorted(project.rglob("*.py"))
    shards = partition(files, 4)
    loads = [sum(file_weight(files[p]) for p in shard) for shard in shards]
    largest = max(file_weight(file) for file in files)
    assert max(loads) - min(loads) <= largest, loads


@pytest.mark.parametrize("spec", ["0/2", "3/2", "1/0", "a/b", "2", "1/2/3", ""])
def test_bad_shard_specs_are_refused_with_a_usage_message(spec: str, tmp_path: Path) -> None:
    done = run("check", f"--shard={spec}", ".", cwd=tmp_path)
    assert done.returncode == 2
    assert "usage: clearsight check" in done.stderr and "--shard" in done.stderr
    with pytest.raises(argparse.ArgumentTypeError, match=r"shard|I/N"):
        parse_shard(spec)


# --- merged shards equal a single run ----------------------------------------------------


@pytest.mark.parametrize("form", ["json", "sarif"])
def test_merged_shards_equal_a_single_run(project: Path, form: str) -> None:
    single = run("check", ".", "--format", form, "--no-cache", "-o", f"single.{form}",
                 cwd=project)  # fmt: skip
    assert single.returncode == 1  # these packages have findings
    reports = []
    for index in (1, 2, 3):
        name = f"shard{index}.{form}"
        done = run("check", ".", "--format", form, "--no-cache", "--shard", f"{index}/3",
                   "-o", name, cwd=project)  # fmt: skip
        assert done.returncode in (0, 1), done.stderr
        reports.append(name)
    shard_findings = [_count(project / name, form) for name in reports]
    assert all(shard_findings) and sum(shard_findings) == _count(project / f"single.{form}", form)
    merged = run("merge", *reports, "-o", f"merged.{form}", cwd=project)
    assert merged.returncode == 0, merged.stderr
    single_text = (project / f"single.{form}").read_text()
    assert (project / f"merged.{form}").read_text() == single_text
    # The shards' order on the command line does not matter; stdout is the default.
    reordered = run("merge", *reversed(reports), cwd=project)
    assert reordered.stdout == single_text


def _count(path: Path, form: str) -> int:
    document = json.loads(path.read_text())
    return len(document["findings"] if form == "json" else document["runs"][0]["results"])


def test_shards_checked_in_different_places_merge(project: Path, tmp_path: Path) -> None:
    """Two CI runners check out the same commit in different folders."""
    elsewhere = tmp_path / "other-checkout"
    shutil.copytree(project, elsewhere, ignore=shutil.ignore_patterns("*.json", "*.sarif"))
    python = ("--python", sys.executable)  # an absolute path: the same on both runners
    run("check", ".", "--format", "json", "--shard", "1/2", "-o", tmp_path / "1.json",
        *python, cwd=project)  # fmt: skip
    run("check", ".", "--format", "json", "--shard", "2/2", "-o", tmp_path / "2.json",
        *python, cwd=elsewhere)  # fmt: skip
    merged = run("merge", tmp_path / "1.json", tmp_path / "2.json", cwd=tmp_path)
    assert merged.returncode == 0, merged.stderr
    single = run("check", ".", "--format", "json", *python, cwd=project)
    assert json.loads(merged.stdout) == json.loads(single.stdout)


# --- shards that do not make one run are refused ----------------------------------------


@pytest.fixture(scope="module")
def shards(project: Path) -> dict[str, Path]:
    made = {}
    for name, args in {
        "1": ("--shard", "1/2"), "2": ("--shard", "2/2"),
        "2-selected": ("--shard", "2/2", "--select", "B"),
        "2-of-3": ("--shard", "2/3"), "single": (),
    }.items():  # fmt: skip
        target = project / f"refuse-{name}.json"
        run("check", ".", "--format", "json", "-o", target, *args, cwd=project)
        made[name] = target
    run("check", ".", "--format", "sarif", "--shard", "2/2", "-o", project / "refuse-2.sarif",
        cwd=project)  # fmt: skip
    made["2-sarif"] = project / "refuse-2.sarif"
    return made


def _refused(*reports: Path, cwd: Path) -> str:
    done = run("merge", *reports, cwd=cwd)
    assert done.returncode == 2 and done.stdout == ""
    return done.stderr


def test_merge_refuses_shards_that_are_not_one_run(shards: dict[str, Path], tmp_path: Path) -> None:
    assert "shard 2/2 missing" in _refused(shards["1"], cwd=tmp_path)
    assert "given twice" in _refused(shards["1"], shards["2"], shards["2"], cwd=tmp_path)
    assert "different settings" in _refused(shards["1"], shards["2-selected"], cwd=tmp_path)
    assert "different partitions" in _refused(shards["1"], shards["2-of-3"], cwd=tmp_path)
    assert "one format" in _refused(shards["1"], shards["2-sarif"], cwd=tmp_path)
    assert "without --shard" in _refused(shards["single"], cwd=tmp_path)


def test_merge_refuses_other_versions_and_broken_files(
    shards: dict[str, Path], tmp_path: Path
) -> None:
    document = json.loads(shards["2"].read_text())
    document["shard"]["versions"] = "py3.9-clearsight0.1-bandit1.7.0-radon5.1.0"
    older = tmp_path / "older.json"
    older.write_text(json.dumps(document))
    assert "different versions" in _refused(shards["1"], older, cwd=tmp_path)
    (tmp_path / "cut.json").write_text(shards["2"].read_text()[:500])
    assert "not JSON" in _refused(shards["1"], tmp_path / "cut.json", cwd=tmp_path)
    (tmp_path / "foreign.json").write_text('{"results": [], "errors": []}')  # bandit's
    assert "not a Clearsight" in _refused(shards["1"], tmp_path / "foreign.json", cwd=tmp_path)
    (tmp_path / "binary.json").write_bytes(b"\xff\xfe\x00junk")
    assert "not UTF-8" in _refused(tmp_path / "binary.json", cwd=tmp_path)
    assert "cannot read" in _refused(tmp_path / "nowhere.json", cwd=tmp_path)
    document = json.loads(shards["2"].read_text())
    document["shard"]["positions"] = {}
    emptied = tmp_path / "emptied.json"
    emptied.write_text(json.dumps(document))
    assert "overlap or leave files out" in _refused(shards["1"], emptied, cwd=tmp_path)


def test_a_file_over_every_analysis_limit_weighs_nothing_and_is_not_read(tmp_path: Path) -> None:
    huge = tmp_path / "huge.py"
    with open(huge, "wb") as handle:
        handle.truncate(65 * 1024 * 1024)  # sparse
    small = tmp_path / "small.py"
    small.write_bytes(b"x = 1\r\n")
    assert file_weight(huge) == 0
    assert file_weight(small) == len(b"x = 1\n")
