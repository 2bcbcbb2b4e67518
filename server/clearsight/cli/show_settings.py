"""`clearsight check --show-settings PATH`: the settings one file is checked with, each with
where it came from (the default, the project's pyproject.toml, the per-file rules or test
defaults, the command line), as ruff's `--show-settings` does."""

from __future__ import annotations

import itertools
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from clearsight.settings import Settings, SettingsResolver

# Settings fields whose pyproject.toml key is not their name in kebab case.
_KEYS = {
    "provenance.bulk_lines": "provenance.bulk-insert-lines",
    "provenance.bulk_chars": "provenance.bulk-insert-chars",
    "provenance.raise_security": "provenance.raise-security-severity",
    "severity_overrides": "severity",
}
# Bookkeeping, not settings: where the others came from.
_HIDDEN = {"root", "config_file", "problems", "dependencies.python_setting", "bandit_json"}


def _flat(settings: Settings) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in asdict(settings).items():
        if isinstance(value, dict):
            for inner, item in value.items():
                flat[f"{key}.{inner}"] = item
        else:
            flat[key] = value
    flat["severity_overrides"] = {
        code: severity.name.lower() for code, severity in settings.severity_overrides
    }
    flat["per_file_ignores"] = {glob: list(codes) for glob, codes in settings.per_file_ignores}
    flat["bandit"] = json.loads(settings.bandit_json)
    flat["security.catalogue"] = json.loads(flat.pop("security.catalogue_json"))
    return {k: v for k, v in flat.items() if k not in _HIDDEN}


def _name(key: str) -> str:
    return _KEYS.get(key, key).replace("_", "-")


def resolved(path: Path, resolver: SettingsResolver, final: Settings) -> list[tuple[str, Any, str]]:
    """(key, value, where it came from) of every setting of `path`."""
    project = resolver.for_path(path.parent if path.parent != path else path)
    per_file = project.for_file(path.absolute())
    layers = [
        (_flat(Settings()), "default"),
        (_flat(project), project.config_file or "editor or defaults"),
        (_flat(per_file), "per-file ignores / test-file defaults"),
        (_flat(final), "command line"),
    ]
    rows = []
    for key, value in layers[-1][0].items():
        source = "default"
        for (earlier, _), (later, name) in itertools.pairwise(layers):
            if later.get(key) != earlier.get(key):
                source = name
        rows.append((_name(key), value, source))
    return rows


def _toml(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if value is None:
        return "(unset)"
    return json.dumps(value, default=str)


def format_settings(path: Path, rows: list[tuple[str, Any, str]], as_json: bool) -> str:
    if as_json:
        entries = [{"key": k, "value": v, "from": where} for k, v, where in rows]
        return json.dumps({"path": str(path), "settings": entries}, indent=2, default=str) + "\n"
    width = max(len(key) for key, _, _ in rows)
    lines = [f"# Settings for {path}"]
    for key, value, where in rows:
        lines.append(f"{key:<{width}} = {_toml(value)}  # {where}")
    return "\n".join(lines) + "\n"
