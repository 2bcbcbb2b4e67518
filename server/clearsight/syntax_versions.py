"""Syntax a newer Python accepts: when a file does not parse on the Python running
Clearsight, whether the failing line looks like a feature of a later version, so the syntax
finding can say "this needs Python 3.12" instead of a bare "invalid syntax".

Each feature is recognised by the shape of the failing line (or the parser's own words for
f-strings); an unrecognised error stays a plain syntax error. Unknown means silent.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class NewerSyntax:
    feature: str
    version: tuple[int, int]


_LINE_FEATURES: tuple[tuple[tuple[int, int], str, re.Pattern[str]], ...] = (
    ((3, 11), "`except*` (PEP 654)", re.compile(r"^\s*except\s*\*")),
    ((3, 12), "a `type` alias statement (PEP 695)", re.compile(r"^\s*type\s+[A-Za-z_]\w*\s*[\[=]")),
    ((3, 12), "type parameters (PEP 695)",
     re.compile(r"^\s*(?:async\s+)?(?:def|class)\s+[A-Za-z_]\w*\s*\[")),
    ((3, 14), "a template string (PEP 750)", re.compile(r"(?<![\w.'\"])[tT][rR]?['\"]")),
    ((3, 14), "`except` with several types and no parentheses (PEP 758)",
     re.compile(r"^\s*except\*?\s+[\w.]+\s*,\s*[\w.]+(?:\s*,\s*[\w.]+)*\s*:")),
)  # fmt: skip


# An f-string's opening: f"…", rf'…', F"""…""" (not a name ending in f, not an attribute).
_F_STRING = re.compile(r"(?<![\w.])(?:[fF][rR]?|[rR][fF])['\"]")
# 3.11's tokenizer ends an f-string at a reused quote inside its braces, then trips over
# what follows (an escaped quote: "unexpected character after line continuation").
_F_STRING_AFTERMATH = ("line continuation character",)


def newer_syntax(
    line_text: str, message: str, running: tuple[int, int] = sys.version_info[:2]
) -> NewerSyntax | None:
    """The later-Python feature the failing line seems to use, if any (and only one newer
    than `running`)."""
    reused_quote = _F_STRING.search(line_text) and any(m in message for m in _F_STRING_AFTERMATH)
    if running < (3, 12) and ("f-string" in message or reused_quote):
        return NewerSyntax(
            "an f-string with quotes, backslashes or comments inside its braces (PEP 701)",
            (3, 12),
        )
    for version, feature, pattern in _LINE_FEATURES:
        if running < version and pattern.search(line_text):
            return NewerSyntax(feature, version)
    return None


def describe(found: NewerSyntax, running: tuple[int, int] = sys.version_info[:2]) -> str:
    wanted = ".".join(map(str, found.version))
    now = ".".join(map(str, running))
    return (
        f"This looks like {found.feature}, which needs Python {wanted}; Clearsight runs on "
        f"Python {now}. Run it on Python {wanted} or newer (in an editor: the interpreter "
        "setting) to check this file."
    )
