"""Which classes are Django models: those of the file itself, and those of the project's own
modules (`from .models import Book`), read from disk and parsed, never imported.

A class is a model when a base resolves to `django.db.models.Model` or to another model (an
abstract base, a model of another app), followed a few modules deep. A module that cannot
be read or parsed is skipped and the reason logged once; what cannot be followed is not a
model, so the rules that need one stay quiet.
"""

from __future__ import annotations

import ast
import logging
import os
import threading
from collections import OrderedDict

from clearsight.dataflow.project import ProjectModules
from clearsight.performance.catalogue import PerformanceCatalogue
from clearsight.performance.names import Meaning, ModuleBindings, Scope, scope_bindings

LOG = logging.getLogger("clearsight.performance")
MODEL_BASES = frozenset({"django.db.models.Model", "django.db.models.base.Model"})
_DEPTH = 4  # classes followed from one base to the next
_MAX_BYTES = 1_000_000
_KEPT_MODULES = 64

Stamp = tuple[int, int]


class _Parsed:
    """Project modules' top-level bindings, by path and (size, modification time): shared by
    every document, only read."""

    def __init__(self) -> None:
        self._kept: OrderedDict[str, tuple[Stamp, ModuleBindings | None]] = OrderedDict()
        self._lock = threading.Lock()
        self._logged: set[tuple[str, Stamp]] = set()

    def get(self, path: str) -> tuple[Stamp | None, ModuleBindings | None]:
        try:
            status = os.stat(path)
        except OSError:
            return None, None
        stamp = (status.st_size, status.st_mtime_ns)
        with self._lock:
            kept = self._kept.get(path)
            if kept is not None and kept[0] == stamp:
                self._kept.move_to_end(path)
                return stamp, kept[1]
        bindings = self._read(path, stamp, status.st_size)
        with self._lock:
            self._kept[path] = (stamp, bindings)
            while len(self._kept) > _KEPT_MODULES:
                self._kept.popitem(last=False)
        return stamp, bindings

    def _read(self, path: str, stamp: Stamp, size: int) -> ModuleBindings | None:
        try:
            if size > _MAX_BYTES:
                raise ValueError(f"larger than {_MAX_BYTES:,} bytes")
            with open(path, "rb") as handle:
                tree = ast.parse(handle.read(), filename=path)
        except (OSError, SyntaxError, ValueError, RecursionError, MemoryError) as error:
            if (path, stamp) not in self._logged:
                self._logged.add((path, stamp))
                LOG.info("models in %s are not read: %s", path, error)
            return None
        return ModuleBindings.of([scope_bindings(tree.body)])


_PARSED = _Parsed()


class ProjectModels:
    """The Django models a file can name: its own classes and its project's."""

    def __init__(self, path: str, catalogue: PerformanceCatalogue) -> None:
        self.path, self.catalogue = path, catalogue
        self.project = ProjectModules(path) if _on_disk(path) else None
        self.package = self.project.package if self.project is not None else None
        self._consulted: dict[str, Stamp | None] = {}
        self._answers: dict[str, bool] = {}
        self.generation = 0  # counts the times a module read changed on disk

    def refresh(self) -> bool:
        """Forget the answers if a module they came from changed on disk since (the editor
        asks before each analysis); whether it did."""
        changed = any(_PARSED.get(path)[0] != stamp for path, stamp in self._consulted.items())
        if changed:
            self._consulted, self._answers = {}, {}
            self.generation += 1
        return changed

    def is_model(self, meaning: Meaning, scope: Scope, depth: int = 0) -> bool:
        """Whether the class `meaning` stands for (in `scope`'s module) is a Django model."""
        if depth > _DEPTH:
            return False
        if meaning.local_class:
            return self._bases_are_models(scope.class_bases(meaning.local_class), scope, depth)
        if meaning.qualname and meaning.qualname not in MODEL_BASES:
            return self._project_model(meaning.qualname, depth)
        return False

    def relations(self, meaning: Meaning, scope: Scope) -> dict[str, str] | None:
        """A model's relation fields, its bases' included ({"author": "one", "tags":
        "many"}), and the reverse ones of the models of its own module that point to it
        (`book_set`, a `related_name`); None unless `meaning` is a model whose fields can all
        be read."""
        if not self.is_model(meaning, scope):
            return None
        found = self._relations(meaning, scope, 0)
        defined = self._defining(meaning, scope)
        if found is None or defined is None:
            return found
        return {**self._reverse(*defined), **found}

    def mapped_relations(self, meaning: Meaning, scope: Scope) -> frozenset[str]:
        """The relationships of an SQLAlchemy mapped class (its own, not its bases') that
        load lazily when read: `relationship(...)` fields whose maker is SQLAlchemy's."""
        defined = self._defining(meaning, scope)
        if defined is None:
            return frozenset()
        module, name = defined
        makers = self.catalogue.mapped_relationships
        return frozenset(
            f.name
            for f in module.class_fields(name)
            if f.kind == "lazy"
            and module.dotted_meaning(tuple(f.maker.split("."))).qualname in makers
        )

    def _defining(self, meaning: Meaning, scope: Scope) -> tuple[Scope, str] | None:
        """The module scope a model class is defined in, and its name there."""
        if meaning.local_class:
            return scope.module, meaning.local_class
        module, _, name = meaning.qualname.rpartition(".")
        other = self._module_scope(module)
        if other is None or not other.lookup(name).local_class:
            return None
        return other, name

    def _reverse(self, scope: Scope, model: str) -> dict[str, str]:
        """The reverse accessors that the models of `scope`'s module give `model`."""
        label = (scope.package or "").rpartition(".")[2]
        found: dict[str, str] = {}
        for name, bindings in scope.names.items():
            if len(bindings) != 1 or bindings[0].kind != "class" or not bindings[0].fields:
                continue
            pointing = [
                f
                for f in bindings[0].fields
                if f.reverse and f.target in (model, f"{label}.{model}")
            ]
            if pointing and self.is_model(scope.lookup(name), scope):
                found.update((f.reverse, f.reverse_kind) for f in pointing)
        return found

    def _module_scope(self, module: str) -> Scope | None:
        """A project module's top-level scope, read from disk."""
        path = self.project.find(module) if self.project is not None and module else None
        if path is None:
            return None
        stamp, bindings = _PARSED.get(path)
        self._consulted[path] = stamp
        if bindings is None:
            return None
        package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
        return Scope.of_module(bindings, self.catalogue, package)

    def _relations(self, meaning: Meaning, scope: Scope, depth: int) -> dict[str, str] | None:
        if depth > _DEPTH:
            return None
        if meaning.local_class:
            found: dict[str, str] = {}
            for base in scope.class_bases(meaning.local_class):
                if base == "?":
                    return None
                base_meaning = scope.dotted_meaning(tuple(base.split(".")))
                if base_meaning.qualname in MODEL_BASES:
                    continue
                inherited = self._relations(base_meaning, scope, depth + 1)
                if inherited is None:
                    return None  # a base (a mixin) whose fields are unknown
                found.update(inherited)
            fields = scope.class_fields(meaning.local_class)
            found.update((f.name, f.kind) for f in fields if f.kind != "lazy")
            return found
        if meaning.qualname:
            module, _, name = meaning.qualname.rpartition(".")
            other = self._module_scope(module)
            return None if other is None else self._relations(other.lookup(name), other, depth + 1)
        return None

    def _bases_are_models(self, bases: tuple[str, ...], scope: Scope, depth: int) -> bool:
        for base in bases:
            if base == "?":
                continue
            found = scope.dotted_meaning(tuple(base.split(".")))
            if found.qualname in MODEL_BASES or self.is_model(found, scope, depth + 1):
                return True
        return False

    def _project_model(self, qualname: str, depth: int) -> bool:
        known = self._answers.get(qualname)
        if known is not None:
            return known
        self._answers[qualname] = False  # while it is worked out (a cycle is not a model)
        module, _, name = qualname.rpartition(".")
        scope = self._module_scope(module)
        answer = scope is not None and self.is_model(scope.lookup(name), scope, depth + 1)
        self._answers[qualname] = answer
        return answer


def _on_disk(path: str) -> bool:
    return bool(path) and not path.startswith("<") and os.path.isfile(path)
