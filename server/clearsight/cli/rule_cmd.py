"""`clearsight rule CODE`: what a rule reports, why it matters, how to fix it, an example,
its CWE and how to configure it, in the terminal (as `ruff rule`)."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap

from clearsight.explain import Explanation, configuration, explain, plain_summary, similar

EXIT_CLEAN, EXIT_ERROR = 0, 2


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("rule", help="explain a rule: what, why, fix, example, CWE")
    parser.add_argument("code", help="a rule's code, e.g. B602 or CS-S001")
    parser.add_argument("--format", choices=("text", "json"), default="text")


def _indented(code: str) -> str:
    return textwrap.indent(code.strip("\n"), "    ")


def text(found: Explanation) -> str:
    rule = found.rule
    lines = [
        f"{rule.code}  {rule.name}",
        f"{rule.family.value}, default severity {rule.default_severity.name.lower()}"
        + (f", CWE-{found.cwe}" if found.cwe else ""),
        "",
        f"What: {plain_summary(rule.summary, rule.code)}",
        "",
        *textwrap.wrap(f"Why and how to fix: {rule.help.replace('**', '')}", 88),
    ]
    if found.bad is not None:
        lines += ["", "Reported:", _indented(found.bad)]
    if found.good is not None:
        lines += ["", "Fixed:", _indented(found.good)]
    lines += ["", "Configuration:"]
    lines += [f"    {what + ':':<18}{how}" for what, how in configuration(rule.code)]
    lines += ["", f"More: {rule.docs_url}"]
    return "\n".join(lines) + "\n"


def as_json(found: Explanation) -> str:
    rule = found.rule
    document = {
        "code": rule.code,
        "name": rule.name,
        "family": rule.family.value,
        "default_severity": rule.default_severity.name.lower(),
        "summary": rule.summary,
        "help": rule.help,
        "cwe": found.cwe,
        "example": {"reported": found.bad, "fixed": found.good},
        "configuration": [{"for": what, "how": how} for what, how in configuration(rule.code)],
        "docs_url": rule.docs_url,
    }
    return json.dumps(document, indent=2) + "\n"


def run(args: argparse.Namespace) -> int:
    found = explain(args.code)
    if found is None:
        near = similar(args.code)
        hint = f" Did you mean {', '.join(near)}?" if near else ""
        print(f"clearsight: error: no rule {args.code!r}.{hint}", file=sys.stderr)
        return EXIT_ERROR
    sys.stdout.write(as_json(found) if args.format == "json" else text(found))
    return EXIT_CLEAN
