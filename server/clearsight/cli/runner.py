"""Runs the engine over many files: cache first, then the misses in worker processes."""

from __future__ import annotations

import ast
import contextlib
import gc
import hashlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from clearsight.checks.api_existence import NONEXISTENT_API
from clearsight.checks.new_dependency import NEW_DEPENDENCY
from clearsight.cli.cache import FindingCache
from clearsight.deps.baseline import base_commit
from clearsight.deps.environment import ENVIRONMENTS, Environment, site_packages_stamp
from clearsight.deps.project import declaration_stamp
from clearsight.engine import (
    CHECK_FAILED,
    LIMIT_REACHED,
    analyze,
    file_over_size_limit,
    unreadable_finding,
)
from clearsight.model import Finding
from clearsight.notebook import CellMap, is_notebook, notebook_cells, notebook_text
from clearsight.notebook_analysis import analyze_notebook
from clearsight.provenance.service import SERVICE
from clearsight.review.fingerprints import Placed, place, scopes_by_line
from clearsight.settings import Settings
from clearsight.source import SourceText, read_file

# Outcomes that may not repeat (a time limit hit on a busy machine, a check that crashed):
# the next run analyses the file again instead of replaying them from the cache.
# CS-D005 depends on other modules' files (which the key does not cover): re-checked too.
_UNCACHED_CODES = frozenset({LIMIT_REACHED, CHECK_FAILED, NONEXISTENT_API})


@dataclass
class FileResult:
    path: str
    findings: list[Finding]
    text: str | None = None  # the decoded source, for showing lines (None if unreadable)
    unreadable: bool = False
    # The findings with their fingerprints (same order), when a report or baseline needs them.
    placed: list[Placed] | None = None
    # A notebook's cells: findings' lines are in its joined code (`clearsight.notebook`).
    cells: CellMap | None = None
    # The bytes the findings were made from (sha256), so that `--fix` never applies their
    # edits to a file that changed during the run.
    digest: str | None = None


def content_digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def cells_of(raw: bytes, path: str) -> CellMap | None:
    """Where a notebook's code cells are in the text its findings refer to (None: a file)."""
    return notebook_cells(raw) if is_notebook(path) else None


def text_of(raw: bytes, path: str) -> str:
    """The text a file's findings refer to: a notebook's joined code cells, else the file."""
    return notebook_text(raw) if is_notebook(path) else SourceText.from_bytes(raw, path).text


def place_results(results: list[FileResult]) -> None:
    """Fingerprint every result's findings (as the review of a change does). A cached
    result has no text: it is read again."""
    for result in results:
        text = result.text
        if result.unreadable:
            text = ""
        elif text is None:
            raw = read_file(Path(result.path))
            text = text_of(raw, result.path) if isinstance(raw, bytes) else ""
        result.placed = place(result.findings, text)


@dataclass
class RunResult:
    files: list[FileResult] = field(default_factory=list)
    cache_hits: int = 0
    cache_misses: int = 0


def _analysed(
    raw: bytes, path: str, settings: Settings
) -> tuple[list[Finding], str, ast.Module | None]:
    """The findings, the text they refer to, and its tree when the analysis parsed it."""
    if is_notebook(path):
        findings, text, _ = analyze_notebook(raw, path, settings)
        return findings, text, None
    source = SourceText.from_bytes(raw, path)
    return analyze(source, path, settings), source.text, source.tree_if_parsed


def analyze_bytes(raw: bytes, path: str, settings: Settings) -> tuple[list[Finding], str]:
    findings, text, _ = _analysed(raw, path, settings)
    return findings, text


def _worker(job: tuple[bytes, str, Settings]) -> tuple[list[Finding], str, list[Placed]]:
    raw, path, settings = job
    findings, text, tree = _analysed(raw, path, settings)
    # Fingerprinted here, in parallel and from the tree the analysis parsed: JSON, SARIF
    # and --baseline need them, and the cache keeps them for the next run.
    return findings, text, place(findings, text, scopes_by_line(text, tree))


# Stamps of (project root, environment), each with when it was taken: the language server
# asks for every file of a workspace/diagnostic pull; a package installed meanwhile shows
# within this many seconds.
_ROOT_STAMPS: dict[tuple[Path | None, Environment], tuple[float, str]] = {}
ROOT_STAMP_SECONDS = 2.0


def _stamp_of_root(root: Path | None, environment: Environment) -> str:
    key = (root, environment)
    now = time.monotonic()
    taken = _ROOT_STAMPS.get(key)
    if taken is not None and now - taken[0] < ROOT_STAMP_SECONDS:
        return taken[1]
    if len(_ROOT_STAMPS) > 256:
        _ROOT_STAMPS.clear()
    _ROOT_STAMPS[key] = (now, _take_root_stamp(root, environment))
    return _ROOT_STAMPS[key][1]


def _take_root_stamp(root: Path | None, environment: Environment) -> str:
    declared = declaration_stamp(root) if root is not None else ()
    installed = site_packages_stamp(environment)
    # The folders too: another environment with the same stamps is another environment.
    # Not its description: `python` and `python3` of one venv name the same folders.
    folders = (environment.site_packages, environment.stdlib)
    payload = repr((declared, installed, folders)).encode()
    return hashlib.sha256(payload).hexdigest()[:16]


def dependency_stamp(path: Path, base: str = "HEAD", settings: Settings | None = None) -> str:
    """What dependency findings depend on besides the file: the project's declaration files,
    the installed packages of the project's environment (a site-packages folder changes when
    one is added/removed) and the git commit new dependencies (CS-D006) are compared with."""
    environment = ENVIRONMENTS.for_file(str(path.absolute()), settings).environment
    root_stamp = _stamp_of_root(ENVIRONMENTS.project_of(str(path)), environment)
    if settings is not None and not settings.is_selected(NEW_DEPENDENCY):
        return root_stamp  # without CS-D006 the base commit changes nothing
    return root_stamp + base_commit(path, base)


def provenance_stamp(path: Path, settings: Settings) -> str:
    """What provenance findings depend on besides the file: the repository's HEAD, git-ai
    notes and Agent Trace file, and the ledger (reviews change findings, not the file)."""
    return SERVICE.stamp(path.absolute(), settings)


def _read_or_recall(
    path: Path, settings_for: Callable[[Path], Settings], cache: FindingCache | None
) -> tuple[FileResult | None, tuple[bytes, str, Settings, str | None] | None]:
    """A file's result when it is unreadable or cached; otherwise the job to analyse it."""
    name = str(path)
    settings = settings_for(path)
    # Over the limit, a file is not read at all (it could be gigabytes). A notebook is read:
    # its outputs (images) can be large while its code is not.
    too_large = None if is_notebook(name) else file_over_size_limit(path, settings)
    if too_large is not None:
        return FileResult(name, [too_large], ""), None
    raw = read_file(path)
    if isinstance(raw, str):
        finding = unreadable_finding(f"Could not read the file: {raw}.")
        return FileResult(name, [finding], None, unreadable=True), None
    return _recall(raw, path, settings, cache)


def _recall(
    raw: bytes, path: Path, settings: Settings, cache: FindingCache | None
) -> tuple[FileResult | None, tuple[bytes, str, Settings, str | None] | None]:
    """The cached result of analysing `raw` as the file `path`, or the job to analyse it."""
    name = str(path)
    key = None
    if cache:
        context = settings.fingerprint()
        if settings.dependencies.enabled:
            context += dependency_stamp(path, settings.dependencies.base, settings)
        if settings.provenance.enabled:
            context += provenance_stamp(path, settings)
        key = FindingCache.key(raw, name, context)
    cached = cache.get(key) if cache and key else None
    if cached is not None:
        findings, places = cached
        result = FileResult(name, findings, None, cells=cells_of(raw, name))
        if places is not None:  # one per finding: the entry's items carry both
            result.placed = [Placed(f, *place) for f, place in zip(findings, places, strict=True)]
        result.digest = content_digest(raw)
        return result, None
    return None, (raw, name, settings, key)


def _remember(cache: FindingCache | None, key: str | None, placed: list[Placed]) -> None:
    # Time-outs and crashed checks depend on the moment, not the file: never replay them.
    findings = [p.finding for p in placed]
    if cache and key and not any(f.code in _UNCACHED_CODES for f in findings):
        cache.put(key, findings, [(p.scope, p.line_text, p.fingerprint) for p in placed])


def run(
    files: list[Path],
    settings_for: Callable[[Path], Settings],
    jobs: int,
    cache: FindingCache | None,
    progress: Callable[[int], None] | None = None,
) -> RunResult:
    advance = progress or (lambda step: None)
    result = RunResult()
    slots: list[FileResult | None] = []
    pending: list[tuple[int, bytes, str, Settings, str | None]] = []
    for path in files:
        done, job = _read_or_recall(path, settings_for, cache)
        if done is not None and not done.unreadable:
            advance(1)
        if job is not None:
            pending.append((len(slots), *job))
        slots.append(done)

    result.files = _fill(slots, pending, jobs, cache, advance)
    if cache:
        result.cache_hits, result.cache_misses = cache.hits, cache.misses
    return result


def run_contents(
    contents: list[tuple[bytes, Path]],
    settings_for: Callable[[Path], Settings],
    jobs: int,
    cache: FindingCache | None,
    progress: Callable[[int], None] | None = None,
) -> list[FileResult]:
    """`run` for contents that are not on disk (a file as a git revision had it), each
    analysed as the file `path` (settings, project and cache key are that file's)."""
    slots: list[FileResult | None] = []
    pending: list[tuple[int, bytes, str, Settings, str | None]] = []
    advance = progress or (lambda step: None)
    for raw, path in contents:
        done, job = _recall(raw, path, settings_for(path), cache)
        if job is not None:
            pending.append((len(slots), *job))
        else:
            advance(1)
        slots.append(done)
    return _fill(slots, pending, jobs, cache, advance)


def _fill(
    slots: list[FileResult | None],
    pending: list[tuple[int, bytes, str, Settings, str | None]],
    jobs: int,
    cache: FindingCache | None,
    advance: Callable[[int], None],
) -> list[FileResult]:
    """Analyses the pending jobs (in worker processes), puts each result in its slot and
    the cache, and returns the results in the slots' order."""
    for (index, raw, name, _settings, key), (findings, text, placed) in zip(
        pending, _analyse_all(pending, jobs), strict=True
    ):
        slots[index] = FileResult(
            name,
            findings,
            text,
            placed=placed,
            cells=cells_of(raw, name),
            digest=content_digest(raw),
        )
        _remember(cache, key, placed)
        advance(1)
    return [slot for slot in slots if slot is not None]


def tune_garbage_collector() -> None:
    """Collect young objects less often: parsing allocates millions of AST nodes and tokens
    that live exactly as long as one file's analysis, and Python's default threshold (700)
    made the cyclic collector cost more than parsing itself."""
    gc.set_threshold(200_000, 20, 20)


def _analyse_all(
    pending: list[tuple[int, bytes, str, Settings, str | None]], jobs: int
) -> Iterator[tuple[list[Finding], str, list[Placed]]]:
    work = [(raw, name, settings) for _, raw, name, settings, _ in pending]
    if jobs <= 1 or len(work) < 4:
        tune_garbage_collector()
        for job in work:
            yield _worker(job)
        return
    chunk = max(1, min(16, len(work) // (jobs * 8)))
    with ProcessPoolExecutor(max_workers=jobs, initializer=tune_garbage_collector) as pool:
        yield from pool.map(_worker, work, chunksize=chunk)


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def is_terminal(stream: object = sys.stderr) -> bool:
    return bool(getattr(stream, "isatty", lambda: False)())


PROGRESS_MIN_FILES = 200


@contextlib.contextmanager
def progress_bar(total: int, label: str) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on stderr when stderr is a terminal and the run is long."""
    if not (is_terminal(sys.stderr) and total >= PROGRESS_MIN_FILES):
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    # On stderr, the stream we checked: `clearsight check > report.txt` keeps a clean report.
    bar = Progress(transient=True, console=Console(stderr=True))
    task = bar.add_task(label, total=total)
    bar.start()
    try:
        yield lambda step: bar.advance(task, step)
    finally:
        bar.stop()
