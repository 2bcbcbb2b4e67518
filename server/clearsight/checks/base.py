"""The one small interface every check family meets.

A family is a module with a class that has a `family`, says whether it needs the syntax
tree, lists the rules it can report, and turns a parsed source into findings. Adding a
family means writing such a module and adding one line to `clearsight.checks.registry`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from clearsight.model import Family, Finding, Severity
from clearsight.settings import Settings
from clearsight.source import SourceText

DOCS_BASE = "https://github.com/clearsight-dev/clearsight/blob/main/docs/rules.md"


def docs_url(code: str) -> str:
    return f"{DOCS_BASE}#{code.lower()}"


@dataclass(frozen=True)
class Rule:
    """What a code means, for rule catalogues (SARIF's driver, docs, hovers)."""

    code: str
    name: str
    family: Family
    summary: str  # one line: what is wrong
    help: str  # why it matters and how to fix it
    docs_url: str
    default_severity: Severity


class Check(Protocol):
    family: Family
    # True when the check cannot run without a syntax tree (most can't).
    needs_tree: bool

    def enabled(self, settings: Settings) -> bool: ...

    def rules(self) -> Iterable[Rule]: ...

    def run(self, source: SourceText, settings: Settings) -> Iterator[Finding]: ...
