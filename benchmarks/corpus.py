"""Real code nobody here wrote, for the benchmarks that measure noise: sdists from PyPI,
pip-downloaded once into benchmarks/.cache/sdists and unpacked there."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import tarfile
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

CACHE = Path(__file__).resolve().parent / ".cache"


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def fetch_sdists(specs: tuple[str, ...]) -> list[Path]:
    """The unpacked sdists of `specs` ("name==version"), downloaded when missing (pip builds
    their metadata, it never imports them here)."""
    folder = CACHE / "sdists"
    folder.mkdir(parents=True, exist_ok=True)
    archives = {_normal(a.name.removesuffix(".tar.gz")): a for a in folder.glob("*.tar.gz")}
    wanted = {spec: _normal(spec.replace("==", "-")) for spec in specs}
    missing = [spec for spec, name in wanted.items() if name not in archives]
    if missing:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
             "-q", "-d", str(folder), *missing],
            check=True,
        )  # fmt: skip
        archives = {_normal(a.name.removesuffix(".tar.gz")): a for a in folder.glob("*.tar.gz")}
    roots = []
    for spec in specs:
        archive = archives[wanted[spec]]
        target = folder / archive.name.removesuffix(".tar.gz")
        if not target.is_dir():
            with tarfile.open(archive) as bundle:
                bundle.extractall(folder, filter="data")
        roots.append(target)
    return roots


JEDI = "jedi==0.20.1"  # the alternative some benchmarks measure; Clearsight does not ship it


def with_jedi() -> dict[str, str]:
    """An environment for a child process that imports jedi: the one installed here, or one
    pip-installed once into benchmarks/.cache/jedi-lib."""
    env = dict(os.environ)
    if importlib.util.find_spec("jedi") is not None:
        return env
    folder = CACHE / "jedi-lib"
    if not (folder / "jedi").is_dir():
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--no-compile", "--target",
             str(folder), JEDI],
            check=True,
        )  # fmt: skip
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(folder), env.get("PYTHONPATH")]))
    return env


@dataclass
class Scan:
    """What a family found over a corpus: its lines, the findings listed one per line, and
    counts by code and severity."""

    files: int = 0
    lines: int = 0
    listed: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0


def python_files(roots: list[Path]) -> list[str]:
    return [
        str(path)
        for root in roots
        for path in sorted(root.rglob("*.py"))
        if "site-packages" not in path.parts
    ]


def scan_corpus(
    files: list[str],
    scan_file: Callable[[str], tuple[int, list[str], Counter[str]]],
    workers: int,
) -> Scan:
    """`scan_file` over the files in `workers` processes: (lines, listed, counts) each."""
    started = time.perf_counter()
    scan = Scan(files=len(files))
    with ProcessPoolExecutor(workers) as pool:
        for lines, listed, counts in pool.map(scan_file, files, chunksize=8):
            scan.lines += lines
            scan.listed.extend(listed)
            scan.counts.update(counts)
    scan.seconds = time.perf_counter() - started
    return scan
