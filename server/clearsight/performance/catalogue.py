"""The performance catalogue: which library calls block, and which calls give the objects whose
methods block. Data in `clearsight/data/performance/*.toml`, read once into immutable tables."""

from __future__ import annotations

import functools
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib


@dataclass(frozen=True)
class BlockingKind:
    """One kind of blocking work (sleeping, HTTP, processes, files, console, sockets)."""

    key: str
    what: str  # what the call does, after its name: "makes an HTTP request and waits..."
    instead: str  # what to use in async code


@dataclass(frozen=True)
class PerformanceCatalogue:
    # "time.sleep" -> its kind; methods as "requests.Session.get".
    blocking: Mapping[str, BlockingKind]
    # A call ("requests.Session", "socket.socket.accept") -> the class of what it returns.
    returns: Mapping[str, str]
    # "pathlib.Path.parent" -> the class of the attribute; operators by their dunder name.
    attributes: Mapping[str, str]
    # Module prefixes folded onto the public spelling ("requests.api" -> "requests").
    aliases: Mapping[str, str]
    # Event-loop libraries -> the name of their sleep function.
    event_loops: Mapping[str, str]
    # Query methods by the class they are called on ("sqlite3.Cursor.execute" -> "dbapi").
    queries: Mapping[str, str]
    django_evaluating: frozenset[str]  # manager and queryset methods that run a query
    django_lazy: frozenset[str]  # those that build a queryset (run when iterated)
    # Methods that run a `session.query(...)` (it runs when iterated too).
    query_runs: frozenset[str] = frozenset()
    # Functions that make an SQLAlchemy statement ("sqlalchemy.select", "sqlalchemy.text").
    statements: frozenset[str] = frozenset()
    # SQLAlchemy's relationship makers, by qualified name ("sqlalchemy.orm.relationship").
    mapped_relationships: frozenset[str] = frozenset()
    # `select()` functions, by qualified name.
    mapped_selects: frozenset[str] = frozenset()
    # Query and Select methods whose rows stay instances of the class queried.
    mapped_row_methods: frozenset[str] = frozenset()
    # Loader options that load a relationship with the rows (or stop it loading per row).
    eager_loaders: frozenset[str] = frozenset()
    # Loader options that leave a relationship's loading as it is.
    other_loaders: frozenset[str] = frozenset()

    def canonical(self, qualname: str) -> str:
        """The public spelling of a qualified name (`requests.api.get` -> `requests.get`)."""
        parts = qualname.split(".")
        for cut in range(len(parts), 0, -1):
            replacement = self.aliases.get(".".join(parts[:cut]))
            if replacement is not None:
                return ".".join([replacement, *parts[cut:]])
        return qualname


def _read(data: Mapping[str, Any]) -> dict[str, Any]:
    blocking: dict[str, BlockingKind] = {}
    for group in data.get("blocking", ()):
        kind = BlockingKind(group["key"], group["what"], group["instead"])
        for call in group.get("calls", ()):
            blocking[call] = kind
        for owner, methods in group.get("methods", {}).items():
            for method in methods:
                blocking[f"{owner}.{method}"] = kind
    queries: dict[str, str] = {}
    for family in ("dbapi", "sqlalchemy"):
        table = data.get(family, {})
        for cls in table.get("classes", ()):
            for method in table.get("methods", ()):
                queries[f"{cls}.{method}"] = family
    django = data.get("django", {})
    mapped = data.get("mapped", {})
    return {
        "query_runs": set(data.get("sqlalchemy", {}).get("query_runs", ())),
        "statements": set(data.get("sqlalchemy", {}).get("statements", ())),
        "mapped_relationships": set(mapped.get("relationships", ())),
        "mapped_selects": set(mapped.get("selects", ())),
        "mapped_row_methods": set(mapped.get("row_methods", ())),
        "eager_loaders": set(mapped.get("eager_loaders", ())),
        "other_loaders": set(mapped.get("other_loaders", ())),
        "queries": queries,
        "django_evaluating": set(django.get("evaluating", ())),
        "django_lazy": set(django.get("lazy", ())),
        "blocking": blocking,
        "returns": dict(data.get("returns", {})),
        "attributes": dict(data.get("attributes", {})),
        "aliases": dict(data.get("aliases", {})),
        "event_loops": dict(data.get("event_loops", {})),
    }


@functools.cache
def bundled() -> PerformanceCatalogue:
    tables: dict[str, Any] = {
        "blocking": {}, "returns": {}, "attributes": {}, "aliases": {}, "event_loops": {},
        "queries": {}, "django_evaluating": set(), "django_lazy": set(),
        "mapped_relationships": set(), "mapped_selects": set(), "mapped_row_methods": set(),
        "eager_loaders": set(), "other_loaders": set(), "query_runs": set(),
        "statements": set(),
    }  # fmt: skip
    folder = resources.files("clearsight") / "data" / "performance"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            for key, table in _read(tomllib.loads(entry.read_text(encoding="utf-8"))).items():
                tables[key].update(table)
    return PerformanceCatalogue(
        **{
            k: frozenset(v) if isinstance(v, set) else MappingProxyType(v)
            for k, v in tables.items()
        }
    )
