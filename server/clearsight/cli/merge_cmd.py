"""`clearsight merge REPORT...`: the JSON or SARIF reports of `clearsight check --shard I/N`
joined into the report a single run would have written.

Shards are only joined when they belong together: every shard 1..N of one partition, made
by the same versions of Clearsight, Python, bandit and radon, with the same settings, of
the same files. Anything else is refused with the reason (exit 2), never merged into a
report that looks complete and is not.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from clearsight.cli.history_options import write_output
from clearsight.cli.shard import SARIF_PROPERTY

EXIT_CLEAN, EXIT_ERROR = 0, 2


class MergeError(Exception):
    pass


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "merge",
        help="join the JSON or SARIF reports of `check --shard I/N` into one",
        description="Join the reports of `clearsight check --shard I/N --format json|sarif` "
        "(one per shard, every shard once) into the report a single run writes.",
    )
    parser.add_argument("reports", nargs="+", type=Path, help="the shards' report files")
    parser.add_argument(
        "--output-file", "-o", type=Path, metavar="FILE",
        help="write the merged report to FILE instead of standard output",
    )  # fmt: skip


class ShardReport:
    """One shard's report: its kind, its shard metadata and its results grouped by file."""

    def __init__(self, path: Path, document: dict[str, Any]) -> None:
        self.path = path
        self.document = document
        if document.get("tool") == "clearsight" and isinstance(document.get("findings"), list):
            self.kind = "json"
            self.metadata = document.get("shard")
            self.results: list[dict[str, Any]] = document["findings"]
        elif _is_sarif(document):
            self.kind = "sarif"
            run = document["runs"][0]
            self.metadata = (run.get("properties") or {}).get(SARIF_PROPERTY)
            self.results = run.get("results") or []
        else:
            raise MergeError(f"{path}: not a Clearsight JSON or SARIF report")
        if not isinstance(self.metadata, dict):
            raise MergeError(
                f"{path}: not a shard's report (it was made without --shard; a single "
                "run's report needs no merging)"
            )
        self._validate_metadata()

    def _validate_metadata(self) -> None:
        meta = self.metadata
        fields = {"index": int, "count": int, "files_total": int, "positions": dict,
                  "versions": str, "settings": str, "files": str}  # fmt: skip
        for name, kind in fields.items():
            if not isinstance(meta.get(name), kind) or isinstance(meta.get(name), bool):
                raise MergeError(f"{self.path}: its shard data lacks a valid {name!r}")
        if not all(isinstance(p, int) for p in meta["positions"].values()):
            raise MergeError(f"{self.path}: its shard data has a position that is not a number")

    @property
    def label(self) -> str:
        return f"{self.metadata['index']}/{self.metadata['count']}"

    def file_of(self, result: dict[str, Any]) -> str:
        if self.kind == "json":
            path = result.get("path")
        else:
            try:
                path = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            except (KeyError, IndexError, TypeError):
                path = None
        if not isinstance(path, str):
            raise MergeError(f"{self.path}: a finding without a file")
        return path


def _is_sarif(document: dict[str, Any]) -> bool:
    runs = document.get("runs")
    if not isinstance(runs, list) or len(runs) != 1 or not isinstance(runs[0], dict):
        return False
    driver = ((runs[0].get("tool") or {}).get("driver")) or {}
    return driver.get("name") == "clearsight"


def load(path: Path) -> ShardReport:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise MergeError(f"cannot read {path}: {error.strerror}") from error
    except UnicodeDecodeError as error:
        raise MergeError(f"{path}: not UTF-8 text, so not a report") from error
    try:
        document = json.loads(text)
    except ValueError as error:
        raise MergeError(f"{path}: not JSON ({error})") from error
    if not isinstance(document, dict):
        raise MergeError(f"{path}: not a Clearsight JSON or SARIF report")
    return ShardReport(path, document)


_AGREEING = {
    "versions": "made by different versions (Clearsight, Python, bandit, radon)",
    "settings": "made with different settings (configuration, --select, --ignore, baseline)",
    "files": "made of different file lists (another commit, or other paths or excludes)",
    "files_total": "made of different file lists",
}


def check_together(reports: list[ShardReport]) -> None:
    """Refuses shards that do not make one whole run, saying why."""
    first = reports[0]
    for report in reports[1:]:
        if report.kind != first.kind:
            raise MergeError(
                f"{first.path} is a {first.kind.upper()} report and {report.path} a "
                f"{report.kind.upper()} one: merge reports of one format"
            )
        for name, why in _AGREEING.items():
            if report.metadata[name] != first.metadata[name]:
                raise MergeError(
                    f"{first.path} and {report.path} were {why}: "
                    f"{first.metadata[name]!r} against {report.metadata[name]!r}"
                )
    count = first.metadata["count"]
    seen: dict[int, Path] = {}
    for report in reports:
        index = report.metadata["index"]
        if report.metadata["count"] != count:
            raise MergeError(
                f"{first.path} is shard {first.label} and {report.path} shard {report.label}: "
                "shards of different partitions"
            )
        if index in seen:
            raise MergeError(f"shard {report.label} given twice: {seen[index]} and {report.path}")
        seen[index] = report.path
    missing = [f"{i}/{count}" for i in range(1, count + 1) if i not in seen]
    if missing:
        raise MergeError(
            f"shard{'s' if len(missing) > 1 else ''} {', '.join(missing)} missing: a merge "
            "without every shard would not be the whole run"
        )
    positions = [p for report in reports for p in report.metadata["positions"].values()]
    if sorted(positions) != list(range(first.metadata["files_total"])):
        raise MergeError(
            "the shards' files overlap or leave files out: they were not shared out of the "
            "same files by the same Clearsight"
        )


def _grouped(reports: list[ShardReport]) -> list[dict[str, Any]]:
    """Every shard's results, files in the order a single run checks them."""
    groups: dict[int, list[dict[str, Any]]] = {}
    for report in reports:
        positions = report.metadata["positions"]
        for result in report.results:
            name = report.file_of(result)
            if name not in positions:
                raise MergeError(f"{report.path}: a finding in {name}, a file not in its shard")
            groups.setdefault(positions[name], []).append(result)
    return [result for position in sorted(groups) for result in groups[position]]


def merge_json(reports: list[ShardReport]) -> dict[str, Any]:
    first = reports[0].document
    return {
        "tool": first["tool"],
        "version": first.get("version"),
        "files_checked": reports[0].metadata["files_total"],
        "findings": _grouped(reports),
    }


def merge_sarif(reports: list[ShardReport]) -> dict[str, Any]:
    """The first shard's run with every shard's results, rules listed (and indexed) in
    the order the merged results first use them, as a single run lists them."""
    rules: dict[str, dict[str, Any]] = {}
    for report in reports:
        driver = report.document["runs"][0]["tool"]["driver"]
        for rule in driver.get("rules") or []:
            if isinstance(rule, dict) and isinstance(rule.get("id"), str):
                rules.setdefault(rule["id"], rule)
    used: dict[str, int] = {}
    listed: list[dict[str, Any]] = []
    results = _grouped(reports)
    for result in results:
        code = result.get("ruleId")
        if code not in rules:
            raise MergeError(f"a finding of {code!r}, a rule no shard's report describes")
        if code not in used:
            used[code] = len(listed)
            listed.append(rules[code])
        result["ruleIndex"] = used[code]
    document = json.loads(json.dumps(reports[0].document))  # a copy to rewrite
    run = document["runs"][0]
    run["tool"]["driver"]["rules"] = listed
    run["results"] = results
    properties = run.get("properties") or {}
    properties.pop(SARIF_PROPERTY, None)
    if properties:
        run["properties"] = properties
    else:
        run.pop("properties", None)
    return document


def merge(paths: list[Path]) -> str:
    reports = [load(path) for path in paths]
    check_together(reports)
    merged = merge_json(reports) if reports[0].kind == "json" else merge_sarif(reports)
    return json.dumps(merged, indent=2) + "\n"


def run(args: argparse.Namespace) -> int:
    try:
        report = merge(args.reports)
    except MergeError as error:
        print(f"clearsight merge: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_CLEAN if write_output(args.output_file, report) else EXIT_ERROR
