"""What a name or expression stands for, worked out statically: a library function
(`time.sleep`), an instance of a library class (`requests.Session`), a list built here, or
unknown. Names resolve through the bindings of the scopes around them (a function's own, the
functions it is nested in, the module's) and finally the builtins, as Python resolves them.

Bindings are recorded as text (`Binding`), not syntax trees, so a module's bindings can be
compared across edits: the editor keeps a statement's results while the module's bindings
stay the same (`ModuleBindings.key`). Anything this cannot follow (a name bound twice to
different things, a star import, a tuple target) is unknown, and unknown is never reported.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from clearsight.performance.catalogue import PerformanceCatalogue

Dotted = tuple[str, ...]
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_BUILTIN_NAMES = frozenset(dir(builtins))
# Builtins that make lists (for the loop rules).
_LIST_MAKERS = frozenset({"builtins.list", "builtins.sorted", "typing.List"})


class RelationField(NamedTuple):
    """A relation field a class declares: `author = models.ForeignKey(Author,
    related_name="books")` is ("author", "one", "Author", "books", "many");
    `addresses = relationship("Address")` is ("addresses", "lazy", maker="relationship")."""

    name: str
    kind: str  # "one" (ForeignKey, OneToOneField) or "many" (ManyToManyField)
    target: str  # the related model as written: a name, "Model", "app.Model" or "self"
    reverse: str  # the related model's accessor for this field; "" when there is none known
    reverse_kind: str  # "many" for a ForeignKey's or many-to-many's, "one" for a one-to-one's
    maker: str = ""  # for SQLAlchemy's: the callee as written ("relationship", "db.relationship")


class Binding(NamedTuple):
    """How a statement binds a name. `kind`:
    - "import": the module or object `dotted` names;
    - "made": the result of calling `dotted`; "alias": `dotted` itself;
    - "typed": an instance of the class `dotted` (a parameter's or variable's annotation);
    - "list": a list display or comprehension; "grown": `name += ...` (a list stays a list);
    - "relative": `from .module import name`, `dotted` being (level, *module, name);
    - "class": a class defined in this file, `dotted` its bases' dotted names;
    - "local": a function defined in this file; "unknown": anything else.
    `source` is the name of the collection a list or a call is built from, if one is."""

    kind: str
    dotted: Dotted = ()
    source: str = ""
    # For a class: its Django relation fields.
    fields: tuple[RelationField, ...] = ()


_UNKNOWN_BINDING = Binding("unknown")


@dataclass(frozen=True)
class Meaning:
    qualname: str = ""  # a library object: "time.sleep", "requests.Session.get"
    instance_of: str = ""  # an instance of a library class: "requests.Session"
    local: bool = False  # a function or class of this file
    local_class: str = ""  # a class of this file, by name (its bases are the module's)

    @property
    def known(self) -> bool:
        return bool(self.qualname or self.instance_of)


UNKNOWN = Meaning()


def dotted_of(node: ast.expr) -> Dotted:
    """`a.b.c` as ("a", "b", "c"); () for anything else."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return ()
    parts.append(node.id)
    return tuple(reversed(parts))


def _annotation(node: ast.expr | None) -> Dotted:
    if isinstance(node, ast.Subscript):  # list[int], Optional[...] is left unknown below
        node = node.value
    return dotted_of(node) if node is not None else ()


def _value_binding(value: ast.expr) -> Binding:
    if isinstance(value, ast.List | ast.ListComp):
        return Binding("list", (), _collection_of(value))
    displays = (ast.List, ast.ListComp)
    if (
        isinstance(value, ast.BinOp)
        and isinstance(value.op, ast.Add | ast.Mult)
        and (isinstance(value.left, displays) or isinstance(value.right, displays))
    ):
        return Binding("list")
    if isinstance(value, ast.Call):
        dotted = dotted_of(value.func)
        if dotted:
            return Binding("made", dotted, _collection_of(value))
    dotted = dotted_of(value)
    if dotted:
        return Binding("alias", dotted)
    return _UNKNOWN_BINDING


def _unpacks_display(target: ast.expr, value: ast.expr) -> bool:
    """A tuple of names given a tuple display of as many elements, none starred."""
    return (
        isinstance(target, ast.Tuple | ast.List)
        and isinstance(value, ast.Tuple | ast.List)
        and len(target.elts) == len(value.elts)
        and not any(isinstance(e, ast.Starred) for e in (*target.elts, *value.elts))
    )


def _collection_of(value: ast.expr) -> str:
    """The name of the collection a list is made from: `[f(x) for x in C]`, `list(C)`,
    `sorted(C)`; "" when there is none."""
    if isinstance(value, ast.ListComp):
        iterated = value.generators[0].iter
    elif isinstance(value, ast.Call) and len(value.args) == 1 and not value.keywords:
        iterated = value.args[0]
    else:
        return ""
    return iterated.id if isinstance(iterated, ast.Name) else ""


@dataclass
class ScopeBindings:
    """The names one scope binds, with every binding of each (a name bound in two ways is
    unknown), and what it declares global or nonlocal."""

    names: dict[str, list[Binding]] = field(default_factory=dict)
    global_names: set[str] = field(default_factory=set)
    nonlocal_names: set[str] = field(default_factory=set)
    star_import: bool = False
    libraries: set[str] = field(default_factory=set)  # top-level modules imported

    def bind(self, name: str, binding: Binding) -> None:
        self.names.setdefault(name, []).append(binding)

    def bind_targets(self, target: ast.expr, binding: Binding | None = None) -> None:
        """Names in an assignment target; a lone name gets `binding`, the others unknown."""
        if isinstance(target, ast.Name):
            self.bind(target.id, binding or _UNKNOWN_BINDING)
        elif isinstance(target, ast.Tuple | ast.List):
            for element in target.elts:
                self.bind_targets(element)
        elif isinstance(target, ast.Starred):
            self.bind_targets(target.value)


def scope_bindings(
    statements: Iterable[ast.stmt], arguments: ast.arguments | None = None
) -> ScopeBindings:
    """The bindings of a module's or a function's own statements (nested functions and
    classes bind only their own name here)."""
    found = ScopeBindings()
    if arguments is not None:
        every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
        every += [a for a in (arguments.vararg, arguments.kwarg) if a is not None]
        for argument in every:
            dotted = _annotation(argument.annotation)
            found.bind(argument.arg, Binding("typed", dotted) if dotted else _UNKNOWN_BINDING)
    for statement in statements:
        _bind_statement(statement, found)
    return found


def _bind_statement(node: ast.stmt, found: ScopeBindings) -> None:
    _bind_walruses(node, found)
    if isinstance(node, ast.Import):
        for alias in node.names:
            top = alias.name.split(".")[0]
            found.libraries.add(top)
            dotted = tuple(alias.name.split(".")) if alias.asname else (top,)
            found.bind(alias.asname or top, Binding("import", dotted))
    elif isinstance(node, ast.ImportFrom):
        if node.level:  # this project's own modules, relative to this file's package
            module = tuple(node.module.split(".")) if node.module else ()
            for alias in node.names:
                if alias.name == "*":
                    found.star_import = True
                else:
                    dotted = (str(node.level), *module, alias.name)
                    found.bind(alias.asname or alias.name, Binding("relative", dotted))
            return
        if not node.module:
            return
        found.libraries.add(node.module.split(".")[0])
        for alias in node.names:
            if alias.name == "*":
                found.star_import = True
            else:
                dotted = (*node.module.split("."), alias.name)
                found.bind(alias.asname or alias.name, Binding("import", dotted))
    elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        found.bind(node.name, Binding("local"))
    elif isinstance(node, ast.ClassDef):
        bases = tuple(".".join(dotted_of(base)) or "?" for base in node.bases)
        found.bind(node.name, Binding("class", bases, fields=relation_fields(node)))
    elif isinstance(node, ast.Assign):
        binding = _value_binding(node.value) if len(node.targets) == 1 else _UNKNOWN_BINDING
        for target in node.targets:
            if len(node.targets) == 1 and _unpacks_display(target, node.value):
                # `queue, seen = [start], {start}`: each name its own element's binding.
                for element, value in zip(target.elts, node.value.elts, strict=True):  # type: ignore[attr-defined]
                    found.bind_targets(element, _value_binding(value))
                continue
            found.bind_targets(target, binding)
    elif isinstance(node, ast.AnnAssign):
        dotted = _annotation(node.annotation)
        if node.value is None and not dotted:
            return
        binding = Binding("typed", dotted) if dotted else _value_binding(node.value)  # type: ignore[arg-type]
        found.bind_targets(node.target, binding)
    elif isinstance(node, ast.AugAssign):
        grown = isinstance(node.op, ast.Add)
        found.bind_targets(node.target, Binding("grown") if grown else _UNKNOWN_BINDING)
    elif isinstance(node, ast.Delete):
        for target in node.targets:
            found.bind_targets(target)
    elif isinstance(node, ast.Global):
        found.global_names.update(node.names)
    elif isinstance(node, ast.Nonlocal):
        found.nonlocal_names.update(node.names)
    else:
        _bind_compound(node, found)


_RELATIONS = {"ForeignKey": "one", "OneToOneField": "one", "ManyToManyField": "many"}
# SQLAlchemy's (and SQLModel's) relationship makers, by the name they are called with; what
# the name stands for is checked where the field is used.
_MAPPED_RELATIONS = frozenset({"relationship", "relation", "Relationship"})
# `lazy=` values that load on first read, one query per object.
_LAZY_LOADS = frozenset({"select", True})


def relation_fields(node: ast.ClassDef) -> tuple[RelationField, ...]:
    """A class body's relation fields: Django's (read only for classes that are models) and
    SQLAlchemy's `relationship()` ones that load lazily, of kind "lazy".

    The reverse accessor is Django's: `related_name` when it is a plain name, else
    `<class>_set` (`<class>` for a one-to-one); none for `related_name="+"`, a name with
    `%(class)s` placeholders, or any field of an abstract model (its children's names)."""
    abstract = _abstract(node)
    fields = []
    for statement in node.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target = statement.targets[0]
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            target = statement.target
        else:
            continue
        call = statement.value
        if not isinstance(target, ast.Name) or not isinstance(call, ast.Call):
            continue
        dotted = dotted_of(call.func)
        if not dotted:
            continue
        keywords = {k.arg: k.value for k in call.keywords if k.arg}
        if dotted[-1] in _MAPPED_RELATIONS:
            if _loads_lazily(keywords):
                fields.append(RelationField(target.id, "lazy", "", "", "", ".".join(dotted)))
            continue
        kind = _RELATIONS.get(dotted[-1])
        if kind is None:
            continue
        to = call.args[0] if call.args else keywords.get("to")
        model = _written_model(to) if to is not None else ""
        if model == "self":
            model = node.name
        one_to_one = dotted[-1] == "OneToOneField"
        default = node.name.lower() if one_to_one else f"{node.name.lower()}_set"
        reverse = "" if abstract else _reverse_name(keywords.get("related_name"), default)
        reverse_kind = "one" if one_to_one else "many"
        fields.append(RelationField(target.id, kind, model, reverse, reverse_kind))
    return tuple(fields)


def _loads_lazily(keywords: Mapping[str, ast.expr]) -> bool:
    """Whether a `relationship()` loads on first read: no `lazy=` or `lazy="select"`, and no
    SQLModel `sa_relationship_kwargs` (which could say otherwise)."""
    if "sa_relationship_kwargs" in keywords:
        return False
    lazy = keywords.get("lazy")
    return lazy is None or (isinstance(lazy, ast.Constant) and lazy.value in _LAZY_LOADS)


def _written_model(node: ast.expr) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    dotted = dotted_of(node)
    return dotted[-1] if dotted else ""


def _reverse_name(related_name: ast.expr | None, default: str) -> str:
    if related_name is None:
        return default
    if isinstance(related_name, ast.Constant) and isinstance(related_name.value, str):
        name = related_name.value
        return name if name.isidentifier() else ""  # "+", "books+", "%(class)s_set"
    return ""


def _abstract(node: ast.ClassDef) -> bool:
    """Whether a class declares `class Meta: abstract = True`."""
    for statement in node.body:
        if isinstance(statement, ast.ClassDef) and statement.name == "Meta":
            for item in statement.body:
                if (
                    isinstance(item, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == "abstract" for t in item.targets)
                    and isinstance(item.value, ast.Constant)
                    and item.value.value is True
                ):
                    return True
    return False


def _bind_compound(node: ast.stmt, found: ScopeBindings) -> None:
    if isinstance(node, ast.For | ast.AsyncFor):
        found.bind_targets(node.target)
    elif isinstance(node, ast.With | ast.AsyncWith):
        for item in node.items:
            if item.optional_vars is not None:
                found.bind_targets(item.optional_vars, _value_binding(item.context_expr))
    elif isinstance(node, ast.ExceptHandler) and node.name:
        found.bind(node.name, _UNKNOWN_BINDING)
    elif isinstance(node, ast.Match):
        for case in node.cases:
            for part in ast.walk(case.pattern):
                name = getattr(part, "name", None) or getattr(part, "rest", None)
                if isinstance(name, str):
                    found.bind(name, _UNKNOWN_BINDING)
            for statement in case.body:
                _bind_statement(statement, found)
        return
    for block in ("body", "orelse", "finalbody", "handlers"):
        for child in getattr(node, block, ()):
            if isinstance(child, ast.ExceptHandler):
                _bind_compound(child, found)  # type: ignore[arg-type]
            else:
                _bind_statement(child, found)


def _bind_walruses(node: ast.stmt, found: ScopeBindings) -> None:
    """`(name := ...)` in the statement's own expressions (a comprehension's bind here too)."""
    for child in own_expressions(node):
        for part in _walk_expression(child):
            if isinstance(part, ast.NamedExpr):
                found.bind_targets(part.target)


def own_expressions(node: ast.stmt) -> Iterator[ast.expr]:
    """The expressions a statement itself evaluates (not those of the statements it holds)."""
    for name, value in ast.iter_fields(node):
        if name in ("body", "orelse", "finalbody", "handlers", "cases"):
            continue
        if isinstance(node, _SCOPES):
            continue  # a def's decorators and defaults: left out, as its body
        if isinstance(value, ast.expr):
            yield value
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, ast.expr):
                    yield item
                elif isinstance(item, ast.withitem):
                    yield item.context_expr
                    if item.optional_vars is not None:
                        yield item.optional_vars
                elif isinstance(item, ast.keyword):
                    yield item.value


def _walk_expression(node: ast.expr) -> Iterator[ast.AST]:
    stack: list[ast.AST] = [node]
    while stack:
        current = stack.pop()
        yield current
        if isinstance(current, ast.Lambda):
            continue
        stack.extend(ast.iter_child_nodes(current))


@dataclass(frozen=True)
class ModuleBindings:
    """The module's top-level bindings, as comparable data."""

    names: Mapping[str, tuple[Binding, ...]]
    star_import: bool
    libraries: frozenset[str]

    @classmethod
    def of(cls, parts: Iterable[ScopeBindings]) -> ModuleBindings:
        names: dict[str, list[Binding]] = {}
        star, libraries = False, set()
        declared_global: set[str] = set()
        for part in parts:
            for name, bindings in part.names.items():
                names.setdefault(name, []).extend(bindings)
            star = star or part.star_import
            libraries |= part.libraries
            declared_global |= part.global_names
        for name in declared_global:  # rebound by some function: unknown
            names.setdefault(name, []).append(_UNKNOWN_BINDING)
        frozen = {name: tuple(dict.fromkeys(b)) for name, b in sorted(names.items())}
        return cls(frozen, star, frozenset(libraries))

    @property
    def key(self) -> tuple[object, ...]:
        return (tuple(self.names.items()), self.star_import, tuple(sorted(self.libraries)))


def declared_globals(statement: ast.stmt) -> set[str]:
    """Names a top-level statement's functions declare `global` (they rebind the module's)."""
    return {
        name for node in ast.walk(statement) if isinstance(node, ast.Global) for name in node.names
    }


class ModelIndex(Protocol):
    def is_model(self, meaning: Meaning, scope: Scope, depth: int = 0) -> bool: ...

    def relations(self, meaning: Meaning, scope: Scope) -> dict[str, str] | None: ...

    def mapped_relations(self, meaning: Meaning, scope: Scope) -> frozenset[str]: ...


class Scope:
    """A scope's names, resolved on demand. The module scope has no parent."""

    def __init__(
        self,
        names: Mapping[str, tuple[Binding, ...] | list[Binding]],
        catalogue: PerformanceCatalogue,
        parent: Scope | None = None,
        *,
        global_names: Iterable[str] = (),
        star_import: bool = False,
        package: str | None = None,
        models: ModelIndex | None = None,
    ) -> None:
        self._names: Mapping[str, tuple[Binding, ...] | list[Binding]] | None = names
        self.catalogue, self.parent = catalogue, parent
        self.models = models  # which classes are Django models (the module scope's)
        self._global_names = frozenset(global_names)
        self._function: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | None = None
        self.star_import = star_import
        # The module's package, for relative imports (None: not known, they stay unknown).
        self.package = package
        self._meanings: dict[str, Meaning] = {}
        self._resolving: set[str] = set()

    @classmethod
    def of_module(
        cls,
        module: ModuleBindings,
        catalogue: PerformanceCatalogue,
        package: str | None = None,
        models: ModelIndex | None = None,
    ) -> Scope:
        return cls(
            module.names, catalogue, star_import=module.star_import, package=package, models=models
        )

    @classmethod
    def of_function(
        cls, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda, parent: Scope
    ) -> Scope:
        scope = cls({}, parent.catalogue, parent)
        scope._names, scope._function = None, node  # bound when first asked (most never are)
        return scope

    def _bind(self) -> None:
        node = self._function
        if node is None:
            raise ValueError("a scope without names or a function")
        body = node.body if isinstance(node.body, list) else []
        bindings = scope_bindings(body, node.args)
        names = {n: b for n, b in bindings.names.items() if n not in bindings.nonlocal_names}
        for name in bindings.global_names:
            names.pop(name, None)
        self._names, self._global_names = names, frozenset(bindings.global_names)

    @property
    def names(self) -> Mapping[str, tuple[Binding, ...] | list[Binding]]:
        if self._names is None:
            self._bind()
        return self._names if self._names is not None else {}

    @property
    def global_names(self) -> frozenset[str]:
        if self._names is None:
            self._bind()
        return self._global_names

    @property
    def module(self) -> Scope:
        return self if self.parent is None else self.parent.module

    def is_local(self, name: str) -> bool:
        """Whether this scope itself binds the name (a function's local)."""
        return name in self.names and self.parent is not None

    def bindings(self, name: str) -> tuple[Binding, ...]:
        return tuple(self.names.get(name, ()))

    def lookup(self, name: str) -> Meaning:
        if name in self.global_names:
            return self.module.lookup(name)
        if name in self.names:
            return self._resolved(name)
        if self.parent is not None:
            return self.parent.lookup(name)
        if self.star_import or name not in _BUILTIN_NAMES:
            return UNKNOWN
        return Meaning(qualname=f"builtins.{name}")

    def _resolved(self, name: str) -> Meaning:
        known = self._meanings.get(name)
        if known is not None:
            return known
        if name in self._resolving:  # `x = x.copy()`: not followed
            return UNKNOWN
        self._resolving.add(name)
        try:
            meanings = {self._binding_meaning(b, name) for b in self.names[name]}
        finally:
            self._resolving.discard(name)
        meaning = meanings.pop() if len(meanings) == 1 else UNKNOWN
        self._meanings[name] = meaning
        return meaning

    def _binding_meaning(self, binding: Binding, name: str) -> Meaning:
        catalogue = self.catalogue
        if binding.kind == "import":
            return Meaning(qualname=catalogue.canonical(".".join(binding.dotted)))
        if binding.kind == "relative":
            return self._relative(binding.dotted)
        if binding.kind == "local":
            return Meaning(local=True)
        if binding.kind == "class":
            return Meaning(local=True, local_class=name) if self.parent is None else UNKNOWN
        if binding.kind == "alias":
            return self.dotted_meaning(binding.dotted)
        if binding.kind == "made":
            return called(self.dotted_meaning(binding.dotted), catalogue)
        if binding.kind == "typed":
            cls = self.dotted_meaning(binding.dotted).qualname
            return Meaning(instance_of=cls) if cls in catalogue.returns.values() else UNKNOWN
        return UNKNOWN

    def _relative(self, dotted: Dotted) -> Meaning:
        package = self.module.package
        level = int(dotted[0])
        if package is None:
            return UNKNOWN
        parts = package.split(".") if package else []
        if level - 1 > len(parts):
            return UNKNOWN
        base = parts[: len(parts) - (level - 1)]
        return Meaning(qualname=".".join([*base, *dotted[1:]]))

    def class_bases(self, name: str) -> tuple[str, ...]:
        """The bases of a class of this module, as written (dotted names)."""
        bindings = self.module.bindings(name)
        if len(bindings) != 1 or bindings[0].kind != "class":
            return ()
        return bindings[0].dotted

    def class_fields(self, name: str) -> tuple[RelationField, ...]:
        """The Django relation fields a class of this module declares itself."""
        bindings = self.module.bindings(name)
        if len(bindings) != 1 or bindings[0].kind != "class":
            return ()
        return bindings[0].fields

    def dotted_meaning(self, dotted: Dotted) -> Meaning:
        meaning = self.lookup(dotted[0])
        for attribute in dotted[1:]:
            meaning = attribute_of(meaning, attribute, self.catalogue)
        return meaning

    def meaning(self, node: ast.expr) -> Meaning:
        """What an expression stands for."""
        if isinstance(node, ast.Name):
            return self.lookup(node.id)
        if isinstance(node, ast.Attribute):
            return attribute_of(self.meaning(node.value), node.attr, self.catalogue)
        if isinstance(node, ast.Call):
            return called(self.meaning(node.func), self.catalogue)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            return attribute_of(self.meaning(node.left), "__truediv__", self.catalogue)
        return UNKNOWN

    def is_list(self, name: str) -> bool:
        """Whether a local name is provably a list: every binding in its function makes one
        (a list display or comprehension, `list(...)`, `sorted(...)`, `+=`, an annotation)."""
        if not self.is_local(name):
            return False
        bindings = self.bindings(name)
        return any(b.kind != "grown" for b in bindings) and all(
            self._makes_list(b) for b in bindings
        )

    def _makes_list(self, binding: Binding) -> bool:
        if binding.kind in ("list", "grown"):
            return True
        if binding.kind in ("made", "typed") and binding.dotted:
            return self.dotted_meaning(binding.dotted).qualname in _LIST_MAKERS
        return False

    def list_source(self, name: str) -> str:
        """The collection a local list is built from, when all its bindings build it from
        the same one (`[f(x) for x in C]`, `list(C)`)."""
        sources = {b.source for b in self.bindings(name)}
        return sources.pop() if len(sources) == 1 else ""


def attribute_of(base: Meaning, attribute: str, catalogue: PerformanceCatalogue) -> Meaning:
    if base.qualname:
        return Meaning(qualname=catalogue.canonical(f"{base.qualname}.{attribute}"))
    if base.instance_of:
        kind = catalogue.attributes.get(f"{base.instance_of}.{attribute}")
        if kind is not None:
            return Meaning(instance_of=kind)
        return Meaning(qualname=f"{base.instance_of}.{attribute}")  # a bound method
    return UNKNOWN


def called(callee: Meaning, catalogue: PerformanceCatalogue) -> Meaning:
    if callee.qualname:
        kind = catalogue.returns.get(callee.qualname)
    elif callee.instance_of:  # an instance called: `SessionLocal()` of a sessionmaker
        kind = catalogue.returns.get(f"{callee.instance_of}.__call__")
    else:
        kind = None
    return Meaning(instance_of=kind) if kind is not None else UNKNOWN
