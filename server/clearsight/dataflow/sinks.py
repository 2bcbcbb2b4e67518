"""Sinks: where untrusted data becomes dangerous, and the settings that weaken a defence.

Each check looks at the values a call, a store or a return hands over and records a `Flow`
for every taint that reaches a sink of its class uncleaned. What counts depends on the
sink's part: the whole value, the program of a command, the host of a URL, an HTML body.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from clearsight.dataflow.catalogue import Sink
from clearsight.dataflow.conditions import FIXED_HOST
from clearsight.dataflow.expressions import describe, where
from clearsight.dataflow.frame import Frame
from clearsight.dataflow.values import Flow, Taint, Value, Where

if TYPE_CHECKING:
    from clearsight.dataflow.interpreter import Interpreter

SHELLS = frozenset(
    {"sh", "bash", "zsh", "dash", "ksh", "csh", "tcsh", "fish", "cmd", "cmd.exe", "powershell",
     "powershell.exe", "pwsh", "/bin/sh", "/bin/bash", "/usr/bin/bash", "/bin/zsh", "/usr/bin/env"}
)  # fmt: skip
SHELL_SWITCHES = frozenset({"-c", "/c", "/C", "-Command", "-command", "/k", "/K", "-lc", "-ic"})
_HTML_KEYWORDS = ("mimetype", "content_type", "media_type")
# Words that make a name a secret's: `reset_token`, `apiKey`, `session_id`, `otp`.
_SECRET_WORDS = frozenset(
    {"token", "secret", "password", "passwd", "pwd", "passphrase", "salt", "nonce", "otp",
     "csrf", "xsrf", "session", "sessionid", "sid", "cookie", "remember", "credential",
     "credentials", "apikey", "totp", "hotp", "pin", "passcode", "jwt", "bearer"}
)  # fmt: skip
_KEY_QUALIFIERS = frozenset(
    {
        "api",
        "secret",
        "private",
        "signing",
        "access",
        "encryption",
        "auth",
        "session",
        "license",
        "activation",
    }
)
_CODE_QUALIFIERS = frozenset(
    {
        "verification",
        "verify",
        "reset",
        "confirm",
        "confirmation",
        "otp",
        "invite",
        "activation",
        "auth",
        "login",
        "recovery",
        "security",
        "one",
        "mfa",
        "2fa",
    }
)
_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


def secret_name(name: str) -> bool:
    """Whether an identifier or key names a secret: token, password, API key, session id..."""
    words = [w.lower() for w in _WORD.findall(name)]
    for index, word in enumerate(words):
        if word in _SECRET_WORDS:
            return True
        before = words[index - 1] if index else ""
        if word == "key" and before in _KEY_QUALIFIERS:
            return True
        if word in ("code", "id") and before in _CODE_QUALIFIERS | {"session"}:
            return True
    return False


@dataclass(frozen=True)
class SettingFix:
    """The text that switches the defence on: `new_text` in place of what `where` spans
    (nothing, for an insertion)."""

    title: str
    where: Where
    new_text: str


@dataclass(frozen=True)
class SettingFinding:
    """A defence switched off in configuration (no data flow): `secure=False`."""

    vulnerability: str
    where: Where
    detail: str
    fix: SettingFix | None = None


class Sinks:
    """Sink checks (mixed into `Interpreter`)."""

    # -- recording -------------------------------------------------------------------------

    def report(
        self: Interpreter,
        vulnerability: str,
        node: ast.AST,
        frame: Frame,
        sink_label: str,
        taints: list[Taint],
        detail: str = "",
    ) -> None:
        if not taints:
            return
        sink_where = self.report_place(where(node, frame))
        if sink_where is None:
            return
        bucket = self.bucket()
        if bucket is None:
            return
        # The best-explained taints (ties kept: positions settle them once absolute).
        best = taints[0].sort_key()
        chosen = [t for t in taints if t.sort_key() == best][:4]
        key = (sink_where.anchor, sink_where.line, sink_where.column, vulnerability)
        old = bucket.flows.get(key)
        if old and old[0].taint.sort_key() < best:
            return
        new = [Flow(vulnerability, sink_where, sink_label, t, detail) for t in chosen]
        if old and old[0].taint.sort_key() == best:
            new = [*old, *(f for f in new if f not in old)][:8]
        bucket.flows[key] = new

    def report_place(self: Interpreter, sink: Where) -> Where | None:
        """Where a flow is reported: at the sink in the analysed file, or, for a sink in
        another module, at the call in the analysed file that led there."""
        if sink.path is None:
            return sink
        for site in reversed(self.sites):
            if site.path is None:
                return site
        return None

    def reaching(self: Interpreter, value: Value, vulnerability: str) -> list[Taint]:
        kinds = self.kinds_for(vulnerability)
        return value.taints_for(vulnerability, kinds) if kinds else []

    def kinds_for(self: Interpreter, vulnerability: str) -> frozenset[str]:
        known = self.catalogue.classes.get(vulnerability)
        if known is None:
            return frozenset()
        return frozenset(known.kinds) & self.options.kinds

    # -- calls -----------------------------------------------------------------------------

    def check_sink(
        self: Interpreter,
        sink: Sink,
        name: str,
        args: list[Value],
        kwargs: dict[str, Value],
        receiver: Value | None,
        node: ast.Call,
        frame: Frame,
    ) -> None:
        if not self._applies(sink, args, kwargs, receiver):
            return
        label = f"`{describe(node.func)}()`"
        if sink.part == "receiver":
            values = [receiver] if receiver is not None else []
        else:
            escaped = _repr_formatted(sink, args)
            values = [args[i] for i in sink.args if i < len(args) and i not in escaped]
            values += [kwargs[k] for k in sink.keywords if k in kwargs]
        self.note_constant(node, values, frame)
        for value in values:
            taints = self._dangerous_part(sink, value, kwargs)
            if taints:
                self.report(sink.vulnerability, node, frame, label, taints, sink.note)
                return

    def check_method_sinks(
        self: Interpreter,
        method: str,
        receiver: Value,
        args: list[Value],
        kwargs: dict[str, Value],
        node: ast.Call,
        frame: Frame,
    ) -> bool:
        """Check the sinks any receiver's method of this name is; whether there were any."""
        found = False
        for sink in self.catalogue.method_sinks.get(method, ()):
            if sink.receiver_attribute and not goes_through(node.func, sink.receiver_attribute):
                continue
            found = True
            self.check_sink(sink, method, args, kwargs, receiver, node, frame)
        return found

    def _applies(
        self: Interpreter,
        sink: Sink,
        args: list[Value],
        kwargs: dict[str, Value],
        receiver: Value | None,
    ) -> bool:
        for keyword, wanted in sink.when.items():
            given = kwargs.get(keyword)
            if given is None or not given.known or bool(given.const) != bool(wanted):
                return False
        if sink.safe_refs:
            given = None
            if sink.safe_position is not None and sink.safe_position < len(args):
                given = args[sink.safe_position]
            if sink.safe_keyword and sink.safe_keyword in kwargs:
                given = kwargs[sink.safe_keyword]
            if (
                given is not None
                and given.ref is not None
                and (self.catalogue.canonical(given.ref) in sink.safe_refs)
            ):
                return False
        if sink.part == "xml":
            parser = None
            if sink.parser_position is not None and sink.parser_position < len(args):
                parser = args[sink.parser_position]
            if sink.parser_keyword and sink.parser_keyword in kwargs:
                parser = kwargs[sink.parser_keyword]
            if parser is None:
                parser = receiver
            if parser is None or "external-entities" not in parser.flags:
                return False
        return True

    def _dangerous_part(
        self: Interpreter, sink: Sink, value: Value, kwargs: dict[str, Value]
    ) -> list[Taint]:
        vulnerability = sink.vulnerability
        part = sink.part
        if part == "program":
            return self._program(value, vulnerability)
        if part == "shell-command":
            items = value.items if value.items is not None else value.lead
            if items:
                return self.reaching(items[0], vulnerability)
            return self.reaching(value, vulnerability)
        if part in ("url", "redirect"):
            if FIXED_HOST.match(value.prefix):
                return []
            if part == "redirect" and re.match(r"^/[^/\\]", value.prefix):
                return []  # a path on this site
            return self.reaching(value, vulnerability)
        if part == "html-body":
            for keyword in _HTML_KEYWORDS:
                given = kwargs.get(keyword)
                if given is not None and given.known and "html" not in str(given.const).lower():
                    return []
            if value.pytype == "tuple" and value.items:
                return self.reaching(value.items[0], vulnerability)
            if value.pytype in ("dict", "list") or value.type is not None:
                return []
            return self.reaching(value, vulnerability)
        return self.reaching(value, vulnerability)

    def _program(self: Interpreter, value: Value, vulnerability: str) -> list[Taint]:
        """The program a command runs, and the command a shell's `-c` runs."""
        items = value.items if value.items is not None else value.lead
        if items:
            found = self.reaching(items[0], vulnerability)
            if found:
                return found
            shell = items[0].consts is not None and all(
                isinstance(c, str) and (c in SHELLS or c.rsplit("/", 1)[-1] in SHELLS)
                for c in items[0].consts
            )
            if shell:
                for index in range(1, len(items) - 1):
                    switch = items[index]
                    if switch.consts is not None and switch.consts <= SHELL_SWITCHES:
                        return self.reaching(items[index + 1], vulnerability)
            return []
        if value.pytype in ("list", "tuple") and value.items is None and value.lead is None:
            # A list of unknown shape (`cmd.split()`): its first element may be anything.
            return self.reaching(value, vulnerability)
        return self.reaching(value, vulnerability)

    # -- stores, returns, names ------------------------------------------------------------

    def check_store(
        self: Interpreter, base: Value, key: Value, value: Value, node: ast.Subscript, frame: Frame
    ) -> None:
        catalogue = self.catalogue
        vulnerability = None
        if base.ref is not None:
            vulnerability = catalogue.stores.get(catalogue.canonical(base.ref))
        if vulnerability is None and base.type is not None:
            vulnerability = next(
                (
                    catalogue.stores[t]
                    for t in catalogue.lineage(base.type)
                    if t in catalogue.stores
                ),
                None,
            )
        if vulnerability is None:
            return
        label = f"`{describe(node.value)}[…]`"
        for part in (value, key):
            taints = self.reaching(part, vulnerability)
            if taints:
                self.report(vulnerability, node, frame, label, taints)
                return

    def check_return(self: Interpreter, value: Value, node: ast.expr, frame: Frame) -> None:
        handler = frame.handler
        if handler is None or not handler.html_returns or frame.depth:
            return
        body = value
        if value.pytype == "tuple" and value.items:
            body = value.items[0]
        if (
            body.pytype in ("dict", "list", "set")
            or body.type is not None
            or body.instance_of is not None
        ):
            return
        taints = self.reaching(body, "xss")
        if taints:
            self.report(
                "xss",
                node,
                frame,
                f"the response of `{frame.definition.name}()`"
                if frame.definition
                else "the response",
                taints,
                "returned as HTML",
            )

    def check_secret_name(
        self: Interpreter, name: str, value: Value, node: ast.AST, frame: Frame
    ) -> None:
        if not value.taints or not any(t.kind == "random" for t in value.taints):
            return
        if not secret_name(name):
            return
        taints = self.reaching(value, "weak-random")
        if taints:
            self.report("weak-random", node, frame, f"`{name}`", taints)

    def check_setting(
        self: Interpreter, name: str, value: Value, node: ast.AST, frame: Frame
    ) -> None:
        vulnerability = self.catalogue.secure_settings.get(name)
        if vulnerability is None or not value.known or value.const is not False:
            return
        self.record_setting(vulnerability, node, frame, f"`{name}` is False")

    def record_setting(
        self: Interpreter,
        vulnerability: str,
        node: ast.AST,
        frame: Frame,
        detail: str,
        fix: SettingFix | None = None,
    ) -> None:
        place = where(node, frame)
        bucket = self.bucket()
        if place.path is not None or bucket is None:
            return
        key = (place.anchor, place.line, place.column, vulnerability)
        bucket.settings[key] = SettingFinding(vulnerability, place, detail, fix)

    def check_call_policies(
        self: Interpreter,
        name: str,
        args: list[Value],
        kwargs: dict[str, Value],
        receiver: Value | None,
        node: ast.Call,
        frame: Frame,
    ) -> None:
        """Cookies set without their flags, secrets made with `random`, settings."""
        method = name.rpartition(".")[2]
        for keyword, value in kwargs.items():
            self.check_secret_name(keyword, value, node, frame)
            self.check_setting(keyword, value, node, frame)
        self.check_cookie(method, args, kwargs, node, frame)

    def check_cookie(
        self: Interpreter,
        method: str,
        args: list[Value],
        kwargs: dict[str, Value],
        node: ast.Call,
        frame: Frame,
    ) -> None:
        for setter in self.catalogue.cookies:
            if setter.method != method:
                continue
            cookie = args[0] if args else kwargs.get("key")
            cookie_name = str(cookie.const) if cookie is not None and cookie.known else ""
            sensitive = bool(cookie_name) and secret_name(cookie_name)
            value = args[1] if len(args) > 1 else kwargs.get("value")
            if value is not None and value.taints and any(t.kind == "random" for t in value.taints):
                self.report(
                    "weak-random",
                    node,
                    frame,
                    f"the cookie `{cookie_name or '…'}`",
                    self.reaching(value, "weak-random"),
                )
            for flag, vulnerability in (
                (setter.secure, "cookie-secure"),
                (setter.httponly, "cookie-httponly"),
            ):
                given = kwargs.get(flag)
                if given is not None and given.known and not given.const:
                    self.record_setting(
                        vulnerability, node, frame, f"`{flag}={given.const!r}`",
                        _flag_fix(node, flag, frame),
                    )  # fmt: skip
                elif given is None and sensitive and "**" not in kwargs:
                    self.record_setting(
                        vulnerability,
                        node,
                        frame,
                        f"no `{flag}=True` for the cookie `{cookie_name}`",
                        _flag_fix(node, flag, frame),
                    )

    def flags_for(
        self: Interpreter,
        name: str,
        args: list[Value],
        kwargs: dict[str, Value],
        receiver: Value | None,
        node: ast.Call,
        frame: Frame,
    ) -> set[str]:
        """States a call puts its result (a constructor) or its receiver (a method) in."""
        found: set[str] = set()
        for setter in self.catalogue.flags.get(name, ()):
            if setter.keyword is not None:
                given = kwargs.get(setter.keyword)
                if given is None or not given.known or given.const != setter.equals:
                    continue
            if not all(
                _matches(args[i] if i < len(args) else None, accepted, self)
                for i, accepted in setter.args.items()
            ):
                continue
            found.add(setter.flag)
        if found and receiver is not None and isinstance(node.func, ast.Attribute):
            from dataclasses import replace

            self.rebind(
                node.func.value, replace(receiver, flags=receiver.flags | frozenset(found)), frame
            )
        return found

    def inherited_attribute(
        self: Interpreter, base: Value, name: str, node: ast.AST, frame: Frame
    ) -> Value | None:
        """An attribute an instance of analysed code gets from a library base class:
        `self.path` in a BaseHTTPRequestHandler, `self.request` in a Django view."""
        definition = base.instance_of
        if definition is None:
            return None
        bases = self.library_bases(definition)
        for handler in frame.module.handlers:
            if name in handler.self_attributes and any(
                b.startswith(handler.view_bases) for b in bases if handler.view_bases
            ):
                meaning = handler.self_attributes[name]
                if "." in meaning:
                    return Value(type=meaning)
                return self.source_value("remote", f"the {meaning}", node, frame)
        for library in bases:
            typed = self.typed_attribute(library, name, node, frame)
            if typed is not None:
                return typed
        return None


def goes_through(func: ast.expr, attribute: str) -> bool:
    """Whether a method's receiver chain passes through `.attribute` (`X.objects.filter()`)."""
    node: Any = func.value if isinstance(func, ast.Attribute) else func
    while True:
        if isinstance(node, ast.Attribute):
            if node.attr == attribute:
                return True
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Subscript):
            node = node.value
        else:
            return False


def _matches(value: Value | None, accepted: tuple[Any, ...], interpreter: Interpreter) -> bool:
    if value is None:
        return False
    if value.ref is not None and interpreter.catalogue.canonical(value.ref) in accepted:
        return True
    return value.known and value.const in accepted


def _flag_fix(call: ast.Call, flag: str, frame: Frame) -> SettingFix | None:
    """`flag=True` for a cookie setter's call: its constant value replaced, or the keyword
    added after the last argument (a trailing comma stays valid after it). None where the
    call's text is not that plain (a value over several lines, `**options`)."""
    title = f"Set `{flag}=True`"
    for keyword in call.keywords:
        if keyword.arg is None:
            return None
        if keyword.arg == flag:
            value = keyword.value
            if not isinstance(value, ast.Constant) or value.lineno != value.end_lineno:
                return None
            return SettingFix(title, where(value, frame), "True")
    arguments: list[ast.AST] = [*call.args, *(k.value for k in call.keywords)]
    if not arguments:
        return None
    last = max(arguments, key=lambda a: (a.end_lineno or 0, a.end_col_offset or 0))
    end = where(last, frame)
    point = Where(end.end_line, end.end_column, end.end_line, end.end_column, end.path, end.anchor)
    return SettingFix(title, point, f", {flag}=True")


# A %-format conversion: `%s`, `%(name)r`, `%-10.3f`; the last group is the conversion.
_PERCENT = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?([a-zA-Z%])")


def _repr_formatted(sink: Sink, args: list[Value]) -> set[int]:
    """The positions of the arguments a constant %-format string (at `sink.format_arg`)
    formats with `%r` or `%a`: escaped by repr. None when the string is not known."""
    position = sink.format_arg
    if position is None or position >= len(args):
        return set()
    text = args[position].const
    if not isinstance(text, str):
        return set()
    conversions = [c for c in _PERCENT.findall(text) if c != "%"]
    if "*" in text or any(c not in "diouxXeEfFgGcrsa" for c in conversions):
        return set()  # a width from the arguments, or not a format we read: all count
    return {position + 1 + index for index, c in enumerate(conversions) if c in "ra"}
