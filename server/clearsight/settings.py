"""`[tool.clearsight]` resolved once into a typed, immutable object.

Invalid values never stop a run: each is recorded as a problem (reported once by the front
end) and replaced by its default, as ruff's server does with its options.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import pathspec

from clearsight.model import Severity

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

BANDIT_LEVELS = ("LOW", "MEDIUM", "HIGH")
MI_RANKS = ("A", "B")


@dataclass(frozen=True)
class ComplexitySettings:
    enabled: bool = True
    # A function/method/class whose cyclomatic complexity is above this gets a finding
    # (10 = radon rank B at most; 11 and up is rank C or worse).
    max_complexity: int = 10
    # A module whose maintainability index ranks below this gets a finding
    # ("B" reports rank C modules, "A" reports B and C).
    min_maintainability_rank: str = "B"


@dataclass(frozen=True)
class SecuritySettings:
    enabled: bool = True
    severity: str = "LOW"  # bandit's --severity-level: report this level and above
    confidence: str = "LOW"  # bandit's --confidence-level
    # The dataflow (taint) analysis: untrusted data followed to dangerous calls (CS-S).
    dataflow: bool = True
    # How flows from local sources (command line, environment, console) are reported:
    # a severity, or "OFF" to leave them out.
    local_sources: str = "INFO"
    # The user's catalogue entries (sources, sinks, sanitizers, guards, propagators) as JSON.
    catalogue_json: str = "{}"


@dataclass(frozen=True)
class DependencySettings:
    enabled: bool = True
    # The git revision new dependencies (CS-D006) are compared with.
    base: str = "HEAD"
    # The project's interpreter (or environment folder) whose installed packages imports are
    # looked up in; relative to `Settings.root`. None: the project's .venv/venv, else the
    # Python running Clearsight. Its files are read, it is never run.
    python: str | None = None
    # Where `python` was set, for messages about it.
    python_setting: str = "[tool.clearsight.dependencies] python"


@dataclass(frozen=True)
class PerformanceSettings:
    # Blocking calls in async code and quadratic work in loops (CS-T).
    enabled: bool = True


@dataclass(frozen=True)
class ProvenanceSettings:
    enabled: bool = True
    # A single edit inserting at least this many lines or characters is a bulk insertion.
    bulk_lines: int = 3
    bulk_chars: int = 120
    # Within AI-written code: a stricter complexity limit and security one severity louder.
    ai_max_complexity: int = 7
    raise_security: bool = True
    unreviewed_severity: str = "INFO"
    # An unreviewed AI block that holds a security finding.
    unreviewed_security_severity: str = "WARNING"
    ledger: str = ".clearsight/provenance.jsonl"


@dataclass(frozen=True)
class Limits:
    # Above this size a file is reported and not analysed: no editor or CI run stalls on it.
    max_file_bytes: int = 4_000_000
    # Wall-clock budget for one file in `clearsight check` (seconds).
    file_timeout: float = 30.0


# Test files, as ruff's and bandit's users single them out (gitignore-style globs, from the
# project root): what is a finding in production code is routine there.
TEST_FILES = ("tests/", "test_*.py", "*_test.py", "conftest.py")
TEST_IGNORES = ("B101",)  # assert is how tests check
TEST_HINTS = ("B105", "B106", "B107")  # "hard-coded passwords" in tests are test data
_TEST_FILES = pathspec.GitIgnoreSpec.from_lines(TEST_FILES)


@functools.lru_cache(maxsize=256)
def _glob(pattern: str) -> pathspec.GitIgnoreSpec:
    return pathspec.GitIgnoreSpec.from_lines([pattern])


def _project_relative(path: Path, root: str | None) -> str:
    """The file's path from the project root ("/"-separated); without a root, from the
    current folder, or its name alone when it is outside both."""
    absolute = Path(os.path.abspath(path))
    for base in (root, os.getcwd()):
        if base is None:
            continue
        try:
            return absolute.relative_to(Path(base).resolve()).as_posix()
        except ValueError:
            try:
                return absolute.relative_to(Path(base)).as_posix()
            except ValueError:
                continue
    return absolute.name


@dataclass(frozen=True)
class Settings:
    complexity: ComplexitySettings = field(default_factory=ComplexitySettings)
    security: SecuritySettings = field(default_factory=SecuritySettings)
    dependencies: DependencySettings = field(default_factory=DependencySettings)
    provenance: ProvenanceSettings = field(default_factory=ProvenanceSettings)
    performance: PerformanceSettings = field(default_factory=PerformanceSettings)
    limits: Limits = field(default_factory=Limits)
    select: tuple[str, ...] = ()  # code prefixes; empty means everything
    ignore: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()  # gitignore-style globs, relative to `root`
    respect_gitignore: bool = True
    severity_overrides: tuple[tuple[str, Severity], ...] = ()
    # [tool.clearsight.per-file-ignores]: (glob, codes), the globs relative to `root`.
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # The built-in grading of test files (TEST_FILES): B101 off, test passwords hints.
    test_defaults: bool = True
    # The raw [tool.bandit] table (skips, tests, plugin options) as JSON, handed to bandit as is.
    bandit_json: str = "{}"
    root: str | None = None  # directory of the pyproject.toml these came from
    config_file: str | None = None
    problems: tuple[str, ...] = field(default=(), compare=False)

    def for_file(self, path: Path) -> Settings:
        """These settings as they apply to one file: its per-file ignores and, for a test
        file, the built-in test defaults. The same object when nothing applies."""
        relative = _project_relative(path, self.root)
        ignored: list[str] = []
        for pattern, codes in self.per_file_ignores:
            if _glob(pattern).match_file(relative):
                ignored.extend(codes)
        overrides: tuple[tuple[str, Severity], ...] = ()
        if self.test_defaults and _TEST_FILES.match_file(relative):
            ignored.extend(TEST_IGNORES)
            # After the project's own overrides: theirs win for the same code.
            overrides = tuple((code, Severity.HINT) for code in TEST_HINTS)
        if not ignored and not overrides:
            return self
        return replace(
            self,
            ignore=(*self.ignore, *(c for c in ignored if c not in self.ignore)),
            severity_overrides=(*self.severity_overrides, *overrides),
        )

    def is_selected(self, code: str) -> bool:
        code = code.upper()
        if self.select and not any(code.startswith(prefix) for prefix in self.select):
            return False
        return not any(code.startswith(prefix) for prefix in self.ignore)

    def severity_for(self, code: str, default: Severity) -> Severity:
        # The longest matching prefix wins, so "B3" can be overridden by "B303".
        code = code.upper()
        best: tuple[int, Severity] | None = None
        for prefix, severity in self.severity_overrides:
            if code.startswith(prefix) and (best is None or len(prefix) > best[0]):
                best = (len(prefix), severity)
        return best[1] if best else default

    @property
    def bandit_config(self) -> dict[str, Any]:
        return json.loads(self.bandit_json)

    def fingerprint(self, relative_to: Path | None = None) -> str:
        """A stable hash of everything that can change a file's findings. With
        `relative_to`, paths under that folder (an interpreter given as an absolute path)
        are hashed relative to it, so two checkouts in different places agree."""
        data = asdict(self)
        for key in ("root", "config_file", "problems", "exclude", "respect_gitignore"):
            data.pop(key)
        encoded = json.dumps(data, sort_keys=True, default=str)
        if relative_to is not None:
            encoded = encoded.replace(json.dumps(str(relative_to))[1:-1], ".")
        return hashlib.sha256(encoded.encode()).hexdigest()[:16]

    def with_cli_overrides(
        self,
        select: list[str] | None = None,
        ignore: list[str] | None = None,
        python: str | None = None,
    ) -> Settings:
        changed = self
        if select:
            changed = replace(changed, select=tuple(select))
        if ignore:
            changed = replace(changed, ignore=(*changed.ignore, *ignore))
        if python:
            dependencies = replace(
                changed.dependencies,
                python=str(Path(python).absolute()),  # relative to where the command runs
                python_setting="--python",
            )
            changed = replace(changed, dependencies=dependencies)
        return changed


class _Reader:
    """Reads one TOML table, recording a problem and using the default for each bad value."""

    def __init__(self, table: Mapping[str, Any], where: str, problems: list[str]) -> None:
        self.table = table
        self.where = where
        self.problems = problems

    def _bad(self, key: str, expected: str, default: Any) -> Any:
        value = self.table[key]
        self.problems.append(
            f"{self.where}.{key}: expected {expected}, got {value!r}; using {default!r}"
        )
        return default

    def value(self, key: str, default: Any, check: Callable[[Any], bool], expected: str) -> Any:
        if key not in self.table:
            return default
        value = self.table[key]
        return value if check(value) else self._bad(key, expected, default)

    def boolean(self, key: str, default: bool) -> bool:
        return self.value(key, default, lambda v: isinstance(v, bool), "true or false")

    def positive_int(self, key: str, default: int) -> int:
        return self.value(
            key,
            default,
            lambda v: isinstance(v, int) and not isinstance(v, bool) and v > 0,
            "a positive integer",
        )

    def positive_number(self, key: str, default: float) -> float:
        return float(
            self.value(
                key,
                default,
                lambda v: isinstance(v, int | float) and not isinstance(v, bool) and v > 0,
                "a positive number",
            )
        )

    def choice(self, key: str, default: str, choices: tuple[str, ...]) -> str:
        if key not in self.table:
            return default
        value = self.table[key]
        if isinstance(value, str) and value.upper() in choices:
            return value.upper()
        return self._bad(key, "one of " + ", ".join(c.lower() for c in choices), default)

    def strings(self, key: str) -> tuple[str, ...]:
        if key not in self.table:
            return ()
        value = self.table[key]
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(value)
        return self._bad(key, "a list of strings", ())

    def codes(self, key: str) -> tuple[str, ...]:
        """Codes or code prefixes, matched case-insensitively like the command line's."""
        return tuple(code.strip().upper() for code in self.strings(key) if code.strip())

    def subtable(self, key: str) -> _Reader:
        value = self.table.get(key, {})
        if not isinstance(value, dict):
            self._bad(key, "a table", {})
            value = {}
        return _Reader(value, f"{self.where}.{key}", self.problems)


def _severity_overrides(table: _Reader) -> tuple[tuple[str, Severity], ...]:
    overrides: list[tuple[str, Severity]] = []
    for code, value in table.table.items():
        try:
            overrides.append((str(code).strip().upper(), Severity.parse(str(value))))
        except KeyError:
            table.problems.append(
                f"{table.where}.{code}: expected error, warning, info or hint, "
                f"got {value!r}; ignored"
            )
    return tuple(overrides)


def _per_file_ignores(table: _Reader) -> tuple[tuple[str, tuple[str, ...]], ...]:
    found = []
    for pattern, codes in table.table.items():
        valid = isinstance(codes, list) and all(isinstance(c, str) for c in codes)
        try:
            _glob(str(pattern))
        except (ValueError, re.error):
            valid = False
        if not valid:
            table.problems.append(
                f"{table.where}.{pattern!r}: expected a glob and a list of codes; ignored"
            )
            continue
        found.append((str(pattern), tuple(c.strip().upper() for c in codes if c.strip())))
    return tuple(found)


def _bandit_table(bandit: Mapping[str, Any] | None, problems: list[str]) -> dict[str, Any]:
    """[tool.bandit] as bandit reads it, minus `skips`/`tests` values bandit would choke on."""
    table = dict(bandit or {})
    for key in ("skips", "tests"):
        value = table.get(key)
        if key in table and not (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        ):
            problems.append(f"tool.bandit.{key}: expected a list of test ids; ignored")
            del table[key]
    return table


SEVERITY_NAMES = ("ERROR", "WARNING", "INFO", "HINT")
CATALOGUE_KEYS = ("sources", "sinks", "sanitizers", "guards", "propagators")


def _catalogue_entries(table: _Reader) -> str:
    """The user's taint catalogue entries, those that have the catalogue's shape."""
    from clearsight.dataflow.catalogue import check_user_entries

    entries: dict[str, list[Any]] = {}
    for key in CATALOGUE_KEYS:
        value = table.table.get(key)
        if value is None:
            continue
        if not isinstance(value, list) or not all(isinstance(e, dict) for e in value):
            table.problems.append(f"{table.where}.{key}: expected an array of tables; ignored")
            continue
        entries[key] = value
    if not entries:
        return "{}"
    problems = check_user_entries(entries)
    table.problems.extend(problems)
    if problems:
        # Keep only the entries that load (each is checked on its own).
        kept: dict[str, list[Any]] = {}
        for key, items in entries.items():
            kept[key] = [item for item in items if not check_user_entries({key: [item]})]
        entries = kept
    return json.dumps(entries, sort_keys=True, default=str)


def _provenance(table: _Reader) -> ProvenanceSettings:
    default = ProvenanceSettings()
    return ProvenanceSettings(
        enabled=table.boolean("enabled", True),
        bulk_lines=table.positive_int("bulk-insert-lines", default.bulk_lines),
        bulk_chars=table.positive_int("bulk-insert-chars", default.bulk_chars),
        ai_max_complexity=table.positive_int("ai-max-complexity", default.ai_max_complexity),
        raise_security=table.boolean("raise-security-severity", True),
        unreviewed_severity=table.choice(
            "unreviewed-severity", default.unreviewed_severity, SEVERITY_NAMES
        ),
        unreviewed_security_severity=table.choice(
            "unreviewed-security-severity", default.unreviewed_security_severity, SEVERITY_NAMES
        ),
        ledger=table.value("ledger", default.ledger, lambda v: isinstance(v, str) and v, "a path"),
    )


def settings_from_tables(
    clearsight: Mapping[str, Any],
    bandit: Mapping[str, Any] | None = None,
    *,
    root: str | None = None,
    config_file: str | None = None,
    problems: list[str] | None = None,
    where: str = "tool.clearsight",
    python_setting: str = "[tool.clearsight.dependencies] python",
) -> Settings:
    """Build Settings from the [tool.clearsight] and [tool.bandit] tables.

    `python_setting` names where `dependencies.python` came from, for messages about it."""
    problems = problems if problems is not None else []
    top = _Reader(clearsight, where, problems)
    known = {
        "select", "ignore", "exclude", "respect-gitignore", "complexity", "security",
        "severity", "limits", "provenance", "dependencies", "performance",
        "per-file-ignores", "test-defaults",
    }  # fmt: skip
    for key in clearsight:
        if key not in known:
            problems.append(f"{where}.{key}: unknown setting, ignored")

    cx = top.subtable("complexity")
    complexity = ComplexitySettings(
        enabled=cx.boolean("enabled", True),
        max_complexity=cx.positive_int("max-complexity", 10),
        min_maintainability_rank=cx.choice("min-maintainability-rank", "B", MI_RANKS),
    )
    sec = top.subtable("security")
    security = SecuritySettings(
        enabled=sec.boolean("enabled", True),
        severity=sec.choice("severity", "LOW", BANDIT_LEVELS),
        confidence=sec.choice("confidence", "LOW", BANDIT_LEVELS),
        dataflow=sec.boolean("dataflow", True),
        local_sources=sec.choice("local-sources", "INFO", ("OFF", "HINT", "INFO", "WARNING")),
        catalogue_json=_catalogue_entries(sec),
    )
    dep = top.subtable("dependencies")
    deps = DependencySettings(
        enabled=dep.boolean("enabled", True),
        base=dep.value(
            "base",
            "HEAD",
            lambda v: isinstance(v, str) and bool(v.strip()) and not v.startswith("-"),
            'a git revision such as "origin/main"',
        ).strip(),
        python=dep.value(
            "python", None, lambda v: isinstance(v, str) and bool(v.strip()), "a path"
        ),
        python_setting=python_setting,
    )
    provenance = _provenance(top.subtable("provenance"))
    performance = PerformanceSettings(enabled=top.subtable("performance").boolean("enabled", True))
    lim = top.subtable("limits")
    limits = Limits(
        max_file_bytes=lim.positive_int("max-file-bytes", Limits.max_file_bytes),
        file_timeout=lim.positive_number("file-timeout", Limits.file_timeout),
    )
    return Settings(
        complexity=complexity,
        security=security,
        dependencies=deps,
        provenance=provenance,
        performance=performance,
        limits=limits,
        select=top.codes("select"),
        ignore=top.codes("ignore"),
        exclude=top.strings("exclude"),
        respect_gitignore=top.boolean("respect-gitignore", True),
        severity_overrides=_severity_overrides(top.subtable("severity")),
        per_file_ignores=_per_file_ignores(top.subtable("per-file-ignores")),
        test_defaults=top.boolean("test-defaults", True),
        bandit_json=json.dumps(_bandit_table(bandit, problems), sort_keys=True, default=str),
        root=root,
        config_file=config_file,
        problems=tuple(problems),
    )


def merge_tables(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """`override` on top of `base`, table by table (an editor's settings over pyproject's)."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge_tables(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_pyproject(
    path: Path,
    overrides: Mapping[str, Any] | None = None,
    overrides_name: str = "editor settings",
) -> Settings:
    """Settings from one pyproject.toml (with `overrides` on top of its [tool.clearsight]).

    A file that cannot be read or parsed gives defaults (plus the overrides) and a problem.
    `overrides_name` says where the overrides come from, in messages about them.
    """
    problems: list[str] = []
    python_setting = _python_setting(overrides, overrides_name, path)
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        problems.append(f"{path}: could not be read as TOML ({error}); using default settings")
        return settings_from_tables(
            dict(overrides or {}),
            root=str(path.parent),
            config_file=str(path),
            problems=problems,
            python_setting=python_setting,
        )
    tool = document.get("tool", {})
    if not isinstance(tool, dict):
        tool = {}
    clearsight = tool.get("clearsight", {})
    if not isinstance(clearsight, dict):
        problems.append(f"{path}: [tool.clearsight] must be a table; using default settings")
        clearsight = {}
    bandit = tool.get("bandit", {})
    if not isinstance(bandit, dict):
        problems.append(f"{path}: [tool.bandit] must be a table; ignored")
        bandit = {}
    return settings_from_tables(
        merge_tables(clearsight, overrides or {}),
        bandit,
        root=str(path.parent),
        config_file=str(path),
        problems=problems,
        python_setting=python_setting,
    )


def _python_setting(
    overrides: Mapping[str, Any] | None, overrides_name: str, pyproject: Path | None
) -> str:
    """Where `dependencies.python` is set: the overrides win over pyproject.toml."""
    dependencies = (overrides or {}).get("dependencies")
    if isinstance(dependencies, Mapping) and "python" in dependencies:
        return f"dependencies.python in the {overrides_name}"
    where = f" in {pyproject}" if pyproject is not None else ""
    return f"[tool.clearsight.dependencies] python{where}"


def _is_config(path: Path) -> bool:
    """A pyproject.toml counts when it configures us or bandit (as ruff looks for [tool.ruff]).

    One that does not parse counts when it seems to try (so its problem gets reported).
    """
    try:
        raw = path.read_bytes()
    except OSError:
        return False
    try:
        tool = tomllib.loads(raw.decode("utf-8")).get("tool")
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return b"clearsight" in raw or b"bandit" in raw
    return isinstance(tool, dict) and ("clearsight" in tool or "bandit" in tool)


class SettingsResolver:
    """Finds the settings for a file by walking up from it; caches per directory.

    `overrides` is a [tool.clearsight]-shaped table laid over whatever pyproject.toml says
    (the editor's settings).
    """

    def __init__(
        self, overrides: Mapping[str, Any] | None = None, overrides_name: str = "editor settings"
    ) -> None:
        self._by_dir: dict[Path, Settings] = {}
        # The same answers by the path asked about: the editor asks on every keystroke, and
        # resolving the folder costs a few system calls (a new resolver starts afresh).
        self._by_path: dict[Path, Settings] = {}
        self._overrides = dict(overrides or {})
        self._overrides_name = overrides_name

    def for_path(self, path: Path) -> Settings:
        cached = self._by_path.get(path)
        if cached is not None:
            return cached
        is_dir = path.is_dir()
        directory = path if is_dir else path.parent
        directory = directory.resolve() if directory.exists() else directory.absolute()
        settings = self._for_directory(directory)
        if not is_dir:
            settings = settings.for_file(directory / path.name)
        if len(self._by_path) > 4096:
            self._by_path.clear()
        self._by_path[path] = settings
        return settings

    def _for_directory(self, directory: Path) -> Settings:
        cached = self._by_dir.get(directory)
        if cached is not None:
            return cached
        candidate = directory / "pyproject.toml"
        if candidate.is_file() and _is_config(candidate):
            settings = load_pyproject(candidate, self._overrides, self._overrides_name)
        elif directory.parent == directory:
            settings = settings_from_tables(
                self._overrides,
                where=self._overrides_name,
                python_setting=_python_setting(self._overrides, self._overrides_name, None),
            )
        else:
            settings = self._for_directory(directory.parent)
        self._by_dir[directory] = settings
        return settings
