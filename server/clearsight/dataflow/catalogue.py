"""The taint catalogue: which library objects are sources, sinks, sanitizers and guards.

The catalogue is data (`clearsight/data/taint/*.toml`, one table per framework or library
group), read into the typed, immutable `Catalogue` below. Users extend it from
`[tool.clearsight.security]` (`sources`, `sinks`, `sanitizers`, `guards`) with entries of the
same shape, the way Pysa's model files and Semgrep's taint rules describe a project's own
code. Nothing here analyses code: `clearsight.dataflow.interpreter` asks the catalogue.

Names are qualified names as the code imports them (`subprocess.run`, `flask.request`,
`sqlite3.Cursor.execute` for a method of a library class), folded onto one spelling by the
`aliases` tables (`flask.globals.request` is `flask.request`). Builtins are `builtins.open`.
"""

from __future__ import annotations

import functools
import json
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from clearsight.dataflow.words import occurs_as_word

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

SOURCE_KINDS = ("remote", "local", "random")
# Sink parts: which part of an argument makes the call dangerous (see `Sink.part`).
PARTS = (
    "value", "program", "shell-command", "url", "redirect", "html-body", "xml", "receiver",
)  # fmt: skip
# "text": every class of injection (a number or a hash carries none of them).
TEXT = "text"


@dataclass(frozen=True)
class VulnerabilityClass:
    key: str  # "sql"
    code: str  # "CS-S003"
    name: str  # "sql-injection"
    cwe: int
    severity: str  # for data from remote sources: error, warning or info
    title: str  # one line
    why: str
    fix: str
    injection: bool = True  # cleared by number conversion and the like ("text")
    kinds: tuple[str, ...] = ("remote", "local")  # the source kinds it is about
    hint: str = ""  # the fix, in one short sentence (for messages)
    # bandit tests that report the same problem at the same place (one finding is kept).
    bandit: tuple[str, ...] = ()


@dataclass(frozen=True)
class ObjectSource:
    """An object (or a library class's instances) whose attributes and methods give
    untrusted data: `flask.request.args`, `HttpRequest.GET`, `socket.recv()`."""

    kind: str
    attributes: Mapping[str, str]  # attribute -> what it is ("request parameter")
    methods: Mapping[str, str]
    # Classes an attribute's or method's data is no danger to (the request's own path
    # cannot make a redirect leave the site).
    cleared: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # Mappings of which only some keys hold client data: attribute -> key prefixes.
    keys: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class CallSource:
    kind: str
    label: str  # "console input"


@dataclass(frozen=True)
class Sink:
    vulnerability: str
    args: tuple[int, ...] = (0,)
    keywords: tuple[str, ...] = ()
    part: str = "value"
    # Only when these keyword arguments are these constants (`shell = true`).
    when: Mapping[str, Any] = field(default_factory=dict)
    # Not when the argument at `safe_position` / `safe_keyword` is one of these names
    # (`yaml.load(data, Loader=yaml.SafeLoader)`).
    safe_position: int | None = None
    safe_keyword: str | None = None
    safe_refs: tuple[str, ...] = ()
    # For "xml": the parser argument that must resolve external entities.
    parser_position: int | None = None
    parser_keyword: str | None = None
    # A method on any receiver only when the receiver goes through this attribute
    # (`Model.objects.raw(...)`).
    receiver_attribute: str | None = None
    note: str = ""  # said after the call's name: "with shell=True"
    # The position of a %-format string (logging's msg): the arguments its `%r` and `%a`
    # conversions format are escaped by repr, so their line breaks cannot reach the sink.
    format_arg: int | None = None


@dataclass(frozen=True)
class Guard:
    """A call that, when true, vouches for its argument (`url_has_allowed_host_and_scheme`)."""

    classes: frozenset[str]
    position: int = 0
    keyword: str | None = None


@dataclass(frozen=True)
class FlagSetter:
    """A call that puts an object in a state sinks care about (entity resolution on)."""

    flag: str
    keyword: str | None = None  # constructor keyword that must equal `equals`
    equals: Any = True
    # Method arguments: position -> accepted values (refs or constants).
    args: Mapping[int, tuple[Any, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class KeyedContainer:
    """A library object used as a map with (possibly several) key arguments."""

    store_method: str
    store_keys: tuple[int, ...]
    store_value: int
    load_methods: tuple[str, ...]
    load_keys: tuple[int, ...]


@dataclass(frozen=True)
class Buffer:
    """A file-like library object: what its write methods take, its read methods give."""

    writes: tuple[str, ...]
    reads: tuple[str, ...]


@dataclass(frozen=True)
class Handler:
    """How a framework hands request data to the code: route decorators, views."""

    framework: str
    imports: tuple[str, ...]  # the file imports one of these (top-level names)
    decorators: tuple[str, ...] = ()  # `@<anything>.route(...)` attribute names
    # "path-template" (Flask: parameters named in the route's `<...>`), "typed"
    # (FastAPI: every parameter, minus validated types), "request" (Django: a parameter
    # named or annotated as the request is one).
    parameters: str = "path-template"
    html_returns: bool = False  # a returned string is an HTML response
    request_type: str | None = None  # parameters annotated / named as the request
    request_annotations: tuple[str, ...] = ()
    request_parameter: str | None = None  # "request": the parameter so named
    view_bases: tuple[str, ...] = ()  # class views: bases starting with these
    view_methods: tuple[str, ...] = ()
    self_attributes: Mapping[str, str] = field(default_factory=dict)  # attr -> type/label
    clean_annotations: tuple[str, ...] = ()  # validated parameter types
    unbound_defaults: tuple[str, ...] = ()  # `= Depends(...)`: not request data
    # Request attributes a route without variables fixes (Flask's `request.path` is the
    # route's own path there), on the framework's request object.
    request_object: str | None = None
    route_fixed: tuple[str, ...] = ()


@dataclass(frozen=True)
class CookieSetter:
    method: str
    secure: str = "secure"
    httponly: str = "httponly"


@dataclass(frozen=True)
class Catalogue:
    classes: Mapping[str, VulnerabilityClass]
    aliases: Mapping[str, str]
    object_sources: Mapping[str, ObjectSource]  # object ref or instance type
    value_sources: Mapping[str, CallSource]  # refs whose value is untrusted (`sys.argv`)
    call_sources: Mapping[str, CallSource]
    sinks: Mapping[str, tuple[Sink, ...]]  # by qualified callee
    method_sinks: Mapping[str, tuple[Sink, ...]]  # by method name, any receiver
    stores: Mapping[str, str]  # object ref or type -> class of `obj[key] = value`
    sanitizers: Mapping[str, frozenset[str]]
    propagators: frozenset[str]
    views: Mapping[str, bool]  # call -> normalises (`os.path.realpath`: True)
    guards: Mapping[str, Guard]
    types: Mapping[str, str]  # call or attribute -> the type of its result
    bases: Mapping[str, tuple[str, ...]]
    flags: Mapping[str, tuple[FlagSetter, ...]]
    containers: Mapping[str, KeyedContainer]
    buffers: Mapping[str, Buffer]
    handlers: tuple[Handler, ...]
    cookies: tuple[CookieSetter, ...]
    no_return: frozenset[str]  # calls that never return (abort, sys.exit)
    # Methods whose results are the database's, whatever went in: receivers going through
    # these attributes (`Model.objects.filter(...)`).
    clean_receivers: frozenset[str]
    # Calls whose results are the database's or the framework's, whatever went in.
    clean_results: frozenset[str]
    secure_settings: Mapping[str, str]  # setting name -> class, when set to False

    def canonical(self, name: str) -> str:
        """The catalogue's spelling of a qualified name (longest aliased prefix)."""
        if name in self.aliases:
            return self.aliases[name]
        head, dot, tail = name.rpartition(".")
        while dot:
            if head in self.aliases:
                return f"{self.aliases[head]}.{tail}"
            head, dot, rest = head.rpartition(".")
            tail = f"{rest}.{tail}"
        return name

    def lineage(self, type_name: str) -> tuple[str, ...]:
        """The type and its catalogue bases, nearest first."""
        seen: list[str] = []
        pending = [type_name]
        while pending and len(seen) < 16:
            current = pending.pop(0)
            if current not in seen:
                seen.append(current)
                pending.extend(self.bases.get(current, ()))
        return tuple(seen)

    @functools.cached_property
    def shape_marks(self) -> dict[Any, tuple[bool, bool]]:
        """What `module.ModuleEvaluator._shape_marks` found of statements under this
        catalogue, kept with it (a statement's marks depend on nothing else)."""
        return {}

    @functools.cached_property
    def markers(self) -> tuple[frozenset[str], frozenset[str]]:
        """Names that mark code able to reach a source or a judged setting, as the code
        writes them: (local ones, others). Local: a local source's dotted name
        (`sys.argv`, `os.environ`, `os.getenv`). Others: the `random` module, the cookie
        setters and settings (see `module.ModuleEvaluator._interesting`). Framework
        objects such as Flask's `request` and sockets count through the imports that bind
        them (`source_names`), library base classes through `source_bases`, builtins
        through calls (`source_builtins`)."""
        local: set[str] = set()
        other: set[str] = set()
        for name in [*self.value_sources, *self.call_sources]:
            parts = name.split(".")
            if parts[0] == "builtins":
                continue
            source = self.value_sources.get(name) or self.call_sources[name]
            if source.kind == "random":
                other.add(parts[0])
            elif source.kind == "local":
                local.add(".".join(parts[:2]))
            else:
                other.add(".".join(parts[:2]))
        other.update(cookie.method for cookie in self.cookies)
        other.update(self.secure_settings)
        return frozenset(local), frozenset(other)

    def mentions_local(self, text: str) -> bool:
        """Whether the text names a local source (`sys.argv`, `os.environ`) as a word."""
        local, _ = self.markers
        return any(occurs_as_word(text, marker) for marker in local)

    @functools.cached_property
    def source_builtins(self) -> frozenset[str]:
        """Builtins whose call gives untrusted data (`input()`)."""
        return frozenset(n[9:] for n in self.call_sources if n.startswith("builtins."))

    @functools.cached_property
    def source_bases(self) -> frozenset[str]:
        """Names of library classes whose instances have source attributes: a class of the
        analysed code deriving from one (`BaseHTTPRequestHandler`) reads them on `self`."""
        return frozenset(t.rpartition(".")[2] for t in self.object_sources)

    @functools.cached_property
    def source_names(self) -> frozenset[str]:
        """Qualified names of remote and random sources: importing one of them, or a module
        they are in, marks the names the import binds."""
        names = {t for t, s in self.object_sources.items() if s.kind != "local"}
        names |= {n for n, s in self.call_sources.items() if s.kind != "local"}
        names |= {a for a, t in self.aliases.items() if t in names}
        return frozenset(names)

    @functools.cached_property
    def source_words(self) -> re.Pattern[str]:
        """A pattern for a project module's text that may hand on remote data: an import of
        a module remote sources live in (`flask`, `socket`, `http.server`). Local sources
        (the environment) in a helper are that helper's business."""
        modules = set()
        for name in self.source_names:
            parts = name.split(".")
            # The module a source is in, as an import names it (`http.server`, `flask`).
            modules.add(".".join(parts[:2]) if parts[0] in ("http", "xml") else parts[0])
        imports = "|".join(sorted(re.escape(m) for m in modules))
        return re.compile(rf"(?:^|\n)\s*(?:from|import)\s+(?:{imports})\b")

    def imports_source(self, module: str) -> bool:
        return any(name == module or name.startswith(module + ".") for name in self.source_names)

    @functools.cached_property
    def handler_decorators(self) -> frozenset[str]:
        return frozenset(d for handler in self.handlers for d in handler.decorators)

    def class_of(self, code_or_key: str) -> VulnerabilityClass | None:
        if code_or_key in self.classes:
            return self.classes[code_or_key]
        return next((c for c in self.classes.values() if c.code == code_or_key), None)

    @functools.cached_property
    def injection_classes(self) -> frozenset[str]:
        return frozenset(k for k, c in self.classes.items() if c.injection)

    def expand(self, classes: Iterable[str]) -> frozenset[str]:
        """Class names with "text" standing for every injection class."""
        result: set[str] = set()
        for name in classes:
            if name == TEXT:
                result |= self.injection_classes
            else:
                result.add(name)
        return frozenset(result)


class CatalogueError(ValueError):
    """An entry that does not have the catalogue's shape."""


class _Builder:
    """Collects the tables of several files (and the user's entries) into one Catalogue."""

    def __init__(self) -> None:
        self.classes: dict[str, VulnerabilityClass] = {}
        self.aliases: dict[str, str] = {}
        self.object_sources: dict[str, ObjectSource] = {}
        self.value_sources: dict[str, CallSource] = {}
        self.call_sources: dict[str, CallSource] = {}
        self.sinks: dict[str, list[Sink]] = {}
        self.method_sinks: dict[str, list[Sink]] = {}
        self.stores: dict[str, str] = {}
        self.sanitizers: dict[str, set[str]] = {}
        self.propagators: set[str] = set()
        self.views: dict[str, bool] = {}
        self.guards: dict[str, Guard] = {}
        self.types: dict[str, str] = {}
        self.bases: dict[str, tuple[str, ...]] = {}
        self.flags: dict[str, list[FlagSetter]] = {}
        self.containers: dict[str, KeyedContainer] = {}
        self.buffers: dict[str, Buffer] = {}
        self.handlers: list[Handler] = []
        self.cookies: list[CookieSetter] = []
        self.no_return: set[str] = set()
        self.clean_receivers: set[str] = set()
        self.clean_results: set[str] = set()
        self.secure_settings: dict[str, str] = {}

    # -- one file's (or the user's) tables -------------------------------------------------

    def add(self, table: Mapping[str, Any], where: str) -> None:
        for key, value in table.get("classes", {}).items():
            self.classes[key] = _vulnerability_class(key, value, where)
        for name, target in table.get("aliases", {}).items():
            self.aliases[_text(name, where)] = _text(target, where)
        for entry in _entries(table, "sources", where):
            self._source(entry, where)
        for entry in _entries(table, "sinks", where):
            self._sink(entry, where)
        for entry in _entries(table, "stores", where):
            for target in _names(entry, ("object", "objects", "type", "types"), where):
                self.stores[target] = self._known_class(entry.get("class"), where)
        for entry in _entries(table, "sanitizers", where):
            classes = {self._known_class(c, where) for c in _strings(entry, "classes", where)}
            if not classes:
                raise CatalogueError(f"{where}: a sanitizer needs `classes`")
            for call in _names(entry, ("call", "calls"), where):
                self.sanitizers.setdefault(call, set()).update(classes)
        for entry in _entries(table, "propagators", where):
            self.propagators.update(_names(entry, ("call", "calls"), where))
        for entry in _entries(table, "views", where):
            normalises = bool(entry.get("normalises", False))
            for call in _names(entry, ("call", "calls"), where):
                self.views[call] = normalises
        for entry in _entries(table, "guards", where):
            classes = frozenset(
                self._known_class(c, where) for c in _strings(entry, "classes", where)
            )
            guard = Guard(self._expanded(classes), int(entry.get("arg", 0)), entry.get("keyword"))
            for call in _names(entry, ("call", "calls"), where):
                self.guards[call] = guard
        for name, result in table.get("types", {}).items():
            self.types[_text(name, where)] = _text(result, where)
        for name, bases in table.get("bases", {}).items():
            self.bases[_text(name, where)] = tuple(_text(b, where) for b in bases)
        for entry in _entries(table, "flags", where):
            self._flag(entry, where)
        for entry in _entries(table, "containers", where):
            self._container(entry, where)
        for entry in _entries(table, "buffers", where):
            buffer = Buffer(
                tuple(_strings(entry, "writes", where)), tuple(_strings(entry, "reads", where))
            )
            for name in _names(entry, ("type", "types"), where):
                self.buffers[name] = buffer
        for entry in _entries(table, "handlers", where):
            self.handlers.append(_handler(entry, where))
        for entry in _entries(table, "cookies", where):
            self.cookies.append(
                CookieSetter(
                    _text(entry.get("method"), where),
                    entry.get("secure", "secure"),
                    entry.get("httponly", "httponly"),
                )
            )
        for entry in _entries(table, "results", where):
            if "receiver-attribute" in entry:
                self.clean_receivers.add(_text(entry.get("receiver-attribute"), where))
            if "call" in entry or "calls" in entry:
                self.clean_results.update(_names(entry, ("call", "calls"), where))
        for entry in _entries(table, "no-return", where):
            self.no_return.update(_names(entry, ("call", "calls"), where))
        for entry in _entries(table, "settings", where):
            vulnerability = self._known_class(entry.get("class"), where)
            for name in _strings(entry, "names", where):
                self.secure_settings[name] = vulnerability

    def _expanded(self, classes: frozenset[str]) -> frozenset[str]:
        if TEXT not in classes:
            return classes
        injection = {k for k, c in self.classes.items() if c.injection}
        return (classes - {TEXT}) | frozenset(injection)

    def _known_class(self, name: Any, where: str) -> str:
        if not isinstance(name, str) or (name not in self.classes and name != TEXT):
            known = ", ".join(sorted(self.classes))
            raise CatalogueError(f"{where}: unknown class {name!r} (known: {known}, text)")
        return name

    def _source(self, entry: Mapping[str, Any], where: str) -> None:
        kind = entry.get("kind", "remote")
        if kind not in SOURCE_KINDS:
            raise CatalogueError(f"{where}: source kind {kind!r} is not one of {SOURCE_KINDS}")
        label = entry.get("label", "untrusted data")
        if "object" in entry or "type" in entry:
            target = _text(entry.get("object") or entry.get("type"), where)
            old = self.object_sources.get(target)
            attributes = {**(old.attributes if old else {}), **entry.get("attributes", {})}
            methods = {**(old.methods if old else {}), **entry.get("methods", {})}
            cleared = dict(old.cleared) if old else {}
            for name, classes in entry.get("cleared", {}).items():
                cleared[name] = frozenset(self._known_class(c, where) for c in classes)
            keys = dict(old.keys) if old else {}
            keys.update({k: tuple(v) for k, v in entry.get("keys", {}).items()})
            self.object_sources[target] = ObjectSource(kind, attributes, methods, cleared, keys)
            return
        if "value" in entry or "values" in entry:
            for name in _names(entry, ("value", "values"), where):
                self.value_sources[name] = CallSource(kind, label)
            return
        for call in _names(entry, ("call", "calls"), where):
            self.call_sources[call] = CallSource(kind, label)

    def _sink(self, entry: Mapping[str, Any], where: str) -> None:
        vulnerability = self._known_class(entry.get("class"), where)
        part = entry.get("part", "value")
        if part not in PARTS:
            raise CatalogueError(f"{where}: sink part {part!r} is not one of {PARTS}")
        safe = entry.get("safe-with", {})
        parser = entry.get("parser", {})
        args = entry.get("args", [0])
        if not (isinstance(args, list) and all(isinstance(a, int) for a in args)):
            raise CatalogueError(f"{where}: sink `args` must be a list of positions")
        sink = Sink(
            vulnerability=vulnerability,
            args=tuple(args),
            keywords=tuple(_strings(entry, "keywords", where)),
            part=part,
            when=dict(entry.get("when", {})),
            safe_position=safe.get("arg"),
            safe_keyword=safe.get("keyword"),
            safe_refs=tuple(safe.get("refs", ())),
            parser_position=parser.get("arg"),
            parser_keyword=parser.get("keyword"),
            receiver_attribute=entry.get("receiver-attribute"),
            note=entry.get("note", ""),
            format_arg=entry.get("format-arg"),
        )
        for method in _strings(entry, "methods", where) + _strings(entry, "method", where):
            self.method_sinks.setdefault(method, []).append(sink)
        if "call" in entry or "calls" in entry:
            for call in _names(entry, ("call", "calls"), where):
                self.sinks.setdefault(call, []).append(sink)

    def _flag(self, entry: Mapping[str, Any], where: str) -> None:
        args = {
            int(position): tuple(v if isinstance(v, list) else [v])
            for position, v in entry.get("args", {}).items()
        }
        setter = FlagSetter(
            flag=_text(entry.get("flag"), where),
            keyword=entry.get("keyword"),
            equals=entry.get("equals", True),
            args=args,
        )
        for call in _names(entry, ("call", "calls"), where):
            self.flags.setdefault(call, []).append(setter)

    def _container(self, entry: Mapping[str, Any], where: str) -> None:
        store, load = entry.get("store", {}), entry.get("load", {})
        self.containers[_text(entry.get("type"), where)] = KeyedContainer(
            store_method=_text(store.get("method"), where),
            store_keys=tuple(store.get("keys", [0])),
            store_value=int(store.get("value", 1)),
            load_methods=tuple(load.get("methods", ["get"])),
            load_keys=tuple(load.get("keys", [0])),
        )

    def build(self) -> Catalogue:
        return Catalogue(
            classes=dict(self.classes),
            aliases=dict(self.aliases),
            object_sources=dict(self.object_sources),
            value_sources=dict(self.value_sources),
            call_sources=dict(self.call_sources),
            sinks={k: tuple(v) for k, v in self.sinks.items()},
            method_sinks={k: tuple(v) for k, v in self.method_sinks.items()},
            stores=dict(self.stores),
            sanitizers={k: frozenset(v) for k, v in self.sanitizers.items()},
            propagators=frozenset(self.propagators),
            views=dict(self.views),
            guards=dict(self.guards),
            types=dict(self.types),
            bases=dict(self.bases),
            flags={k: tuple(v) for k, v in self.flags.items()},
            containers=dict(self.containers),
            buffers=dict(self.buffers),
            handlers=tuple(self.handlers),
            cookies=tuple(self.cookies),
            no_return=frozenset(self.no_return),
            clean_receivers=frozenset(self.clean_receivers),
            clean_results=frozenset(self.clean_results),
            secure_settings=dict(self.secure_settings),
        )


def _vulnerability_class(key: str, value: Mapping[str, Any], where: str) -> VulnerabilityClass:
    try:
        return VulnerabilityClass(
            key=key,
            code=value["code"],
            name=value["name"],
            cwe=int(value["cwe"]),
            severity=value.get("severity", "warning"),
            title=value["title"],
            why=value["why"],
            fix=value["fix"],
            injection=bool(value.get("injection", True)),
            kinds=tuple(value.get("kinds", ("remote", "local"))),
            hint=value.get("hint", ""),
            bandit=tuple(value.get("bandit", ())),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise CatalogueError(f"{where}: class {key!r} lacks {error}") from error


def _handler(entry: Mapping[str, Any], where: str) -> Handler:
    def strings(key: str) -> tuple[str, ...]:
        return tuple(_strings(entry, key, where))

    return Handler(
        framework=_text(entry.get("framework"), where),
        imports=strings("imports"),
        decorators=strings("decorators"),
        parameters=entry.get("parameters", "path-template"),
        html_returns=bool(entry.get("html-returns", False)),
        request_type=entry.get("request-type"),
        request_annotations=strings("request-annotations"),
        request_parameter=entry.get("request-parameter"),
        view_bases=strings("view-bases"),
        view_methods=strings("view-methods"),
        self_attributes=dict(entry.get("self-attributes", {})),
        clean_annotations=strings("clean-annotations"),
        unbound_defaults=strings("unbound-defaults"),
        request_object=entry.get("request-object"),
        route_fixed=strings("route-fixed"),
    )


def _entries(table: Mapping[str, Any], key: str, where: str) -> list[Mapping[str, Any]]:
    entries = table.get(key, [])
    if not isinstance(entries, list) or not all(isinstance(e, Mapping) for e in entries):
        raise CatalogueError(f"{where}: `{key}` must be an array of tables")
    return entries


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise CatalogueError(f"{where}: expected a name, got {value!r}")
    return value


def _strings(entry: Mapping[str, Any], key: str, where: str) -> list[str]:
    value = entry.get(key, [])
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CatalogueError(f"{where}: `{key}` must be a name or a list of names")
    return value


def _names(entry: Mapping[str, Any], keys: tuple[str, ...], where: str) -> list[str]:
    found: list[str] = []
    for key in keys:
        found.extend(_strings(entry, key, where))
    if not found:
        raise CatalogueError(f"{where}: the entry names no {' or '.join(keys)}")
    return found


@functools.cache
def _bundled_tables() -> tuple[tuple[str, dict[str, Any]], ...]:
    folder = resources.files("clearsight.data") / "taint"
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".toml"))
    # The classes first: every other table refers to them.
    names.sort(key=lambda name: name != "classes.toml")
    return tuple(
        (f"taint/{name}", tomllib.loads((folder / name).read_text("utf-8"))) for name in names
    )


@functools.cache
def bundled() -> Catalogue:
    builder = _Builder()
    for where, table in _bundled_tables():
        builder.add(table, where)
    return builder.build()


USER_KEYS = ("sources", "sinks", "sanitizers", "guards", "propagators")


@functools.lru_cache(maxsize=16)
def extended(user_json: str) -> Catalogue:
    """The bundled catalogue with the user's entries (`[tool.clearsight.security]`)."""
    user = json.loads(user_json)
    if not any(user.get(key) for key in USER_KEYS):
        return bundled()
    builder = _Builder()
    for where, table in _bundled_tables():
        builder.add(table, where)
    builder.add(user, "[tool.clearsight.security]")
    return builder.build()


def check_user_entries(table: Mapping[str, Any]) -> list[str]:
    """Problems with the user's catalogue entries (empty when they all have its shape)."""
    builder = _Builder()
    for where, bundled_table in _bundled_tables():
        builder.add(bundled_table, where)
    problems = []
    for key in USER_KEYS:
        for number, entry in enumerate(table.get(key, []) or [], start=1):
            try:
                builder.add({key: [entry]}, f"tool.clearsight.security.{key}[{number}]")
            except (CatalogueError, TypeError, ValueError, AttributeError) as error:
                problems.append(f"{error}; entry ignored")
    return problems
