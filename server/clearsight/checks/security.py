"""Security: every bandit plugin, run in process on the engine's one syntax tree.

bandit's own visitor, tests, blacklist, `# nosec` handling and severity/confidence filters
are used unchanged, so findings equal the `bandit` command line's. What differs is only the
plumbing around them: the text comes from memory (unsaved buffers work), the tree and
comment tokens come from the engine's single pass, each run gets a fresh tester (bandit's
manager accumulates results across files), and byte-offset columns become code points.
"""

from __future__ import annotations

import ast
import io
import logging
import sys
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from bandit.core import constants as bandit_constants
from bandit.core import docs_utils, extension_loader
from bandit.core import metrics as bandit_metrics
from bandit.core import node_visitor as bandit_node_visitor
from bandit.core import test_set as bandit_test_set
from bandit.core import tester as bandit_tester
from bandit.core import utils as bandit_utils
from bandit.core.config import BanditConfig
from bandit.core.issue import Issue
from bandit.core.manager import _parse_nosec_comment

from clearsight.checks.base import Rule
from clearsight.checks.security_fixes import fixes_for
from clearsight.model import Family, Finding, SecurityDetail, Severity, Span
from clearsight.settings import Settings
from clearsight.source import SourceText

# bandit logs through the root logger and warns about things we report ourselves.
logging.getLogger("bandit").setLevel(logging.CRITICAL)

_RANK = {"UNDEFINED": 0, "LOW": 1, "MEDIUM": 2, "HIGH": 3}
# bandit's test set configures module-level state (blacklist data, plugin options), so
# only one configuration can be active at a time; runs are serialised on this lock.
_BANDIT_LOCK = threading.Lock()
_active: tuple[str, bandit_test_set.BanditTestSet] | None = None


def severity_for(bandit_severity: str, confidence: str) -> Severity:
    """Map bandit's two axes onto one: only likely, serious findings are errors.

    Low severity or low confidence never shows as a red error (signal over noise).
    """
    sev, conf = _RANK.get(bandit_severity, 1), _RANK.get(confidence, 1)
    if sev == 1 or (sev == 2 and conf == 1):
        return Severity.INFO
    if sev == 3 and conf >= 2:
        return Severity.ERROR
    return Severity.WARNING


def _test_set(settings: Settings) -> bandit_test_set.BanditTestSet:
    """The bandit test set for these settings' [tool.bandit] table (rebuilt on change)."""
    global _active
    key = settings.bandit_json
    if _active is not None and _active[0] == key:
        return _active[1]
    config = BanditConfig()
    table = settings.bandit_config
    config._config.update(table)
    config.convert_legacy_config()
    config._init_settings()
    profile = {
        "include": set(table.get("tests") or []),
        "exclude": set(table.get("skips") or []),
    }
    tests = bandit_test_set.BanditTestSet(config, profile)
    _active = (key, tests)
    return tests


@cache
def bandit_docs_url(test_id: str) -> str:
    try:
        return docs_utils.get_url(test_id)
    except Exception:  # bandit's URL table misses ids from third-party plugins
        return "https://bandit.readthedocs.io/en/latest/plugins/index.html"


def _nosec_lines(source: SourceText) -> dict[int, set[str] | None]:
    """Line -> tests a `# nosec` there skips (empty: all). Lines without one are left out:
    bandit maps them to None, which every look-up treats as absent."""
    found = {}
    for line, comment in source.comments.items():
        if "nosec" in comment:
            tests = _parse_nosec_comment(comment)
            if tests is not None:
                found[line] = tests
    return found


# Node types bandit's visitor handles itself, whatever tests are enabled.
_VISITED_TYPES = frozenset(
    {"ClassDef", "FunctionDef", "Call", "Import", "ImportFrom", "Constant", "Str", "Bytes"}
)


class _Tester(bandit_tester.BanditTester):
    def _get_nosecs_from_contexts(self, context: dict, test_result: Issue | None = None) -> Any:
        # With no `# nosec` in the file, bandit's answer is always None: skip the line scan
        # it would do for every test on every node.
        if not self.nosec_lines:
            return None
        return super()._get_nosecs_from_contexts(context, test_result)


@lru_cache(maxsize=1024)
def _module_qualname(path: str) -> str:
    """bandit's qualified module name for a path ("" when it has none), once per path."""
    try:
        return str(bandit_utils.get_module_qualname_from_path(path))
    except bandit_utils.InvalidModulePath:
        return ""


class _Visitor(bandit_node_visitor.BanditNodeVisitor):
    """bandit's visitor, minus its per-node bookkeeping (context dict, line range, test
    look-up) for node types that no enabled test and no visit method looks at.

    Parent and sibling links are still set on every node, exactly as bandit sets them, so
    tests that walk the tree see the same tree.
    """

    def __init__(
        self,
        fname: str,
        fdata: Any,
        metaast: Any,
        testset: Any,
        debug: bool,
        nosec_lines: Any,
        metrics: Any,
        *,
        interesting: frozenset[str],
    ) -> None:
        # bandit's __init__, with the module's qualified name cached per path: bandit looks
        # for __init__.py in each folder above the file every time, on every edit.
        self.debug = debug
        self.nosec_lines = nosec_lines
        self.scores = {
            "SEVERITY": [0] * len(bandit_constants.RANKING),
            "CONFIDENCE": [0] * len(bandit_constants.RANKING),
        }
        self.depth = 0
        self.fname = fname
        self.fdata = fdata
        self.metaast = metaast
        self.testset = testset
        self.imports = set()
        self.import_aliases = {}
        self.namespace = _module_qualname(fname)
        self.metrics = metrics
        self.tester = _Tester(testset, debug, nosec_lines, metrics)
        self.interesting = interesting
        # Nodes given `_bandit_parent` links, which make the shared tree one big reference
        # cycle: `unlink` removes them, so a tree is freed as soon as it is dropped instead
        # of waiting for a full garbage collection (the editor defers those to idle time).
        self.linked: list[ast.AST] = []

    def unlink(self) -> None:
        for node in self.linked:
            node.__dict__.pop("_bandit_parent", None)
            node.__dict__.pop("_bandit_sibling", None)
        self.linked.clear()

    def _descend(self, node: ast.AST) -> None:
        if node.__class__.__name__ in self.interesting:
            if self.pre_visit(node):
                self.visit(node)
                self.generic_visit(node)
                self.post_visit(node)
        else:
            self.generic_visit(node)

    def generic_visit(self, node: ast.AST) -> None:
        linked = self.linked
        for _, value in ast.iter_fields(node):
            if isinstance(value, list):
                max_idx = len(value) - 1
                for idx, item in enumerate(value):
                    if isinstance(item, ast.AST):
                        item._bandit_sibling = value[idx + 1] if idx < max_idx else None
                        item._bandit_parent = node
                        linked.append(item)
                        self._descend(item)
            elif isinstance(value, ast.AST):
                value._bandit_sibling = None
                value._bandit_parent = node
                linked.append(value)
                self._descend(value)


@dataclass(frozen=True)
class ImportState:
    """The imports bandit's visitor has seen so far: it resolves call names through them,
    so a statement's issues depend on the imports above it (and in it)."""

    imports: frozenset[str] = frozenset()
    aliases: tuple[tuple[str, str], ...] = ()


def run_bandit(source: SourceText, settings: Settings) -> list[Issue]:
    """bandit's issues for this source, filtered by the configured severity/confidence."""
    return run_bandit_from(source, settings, ImportState())[0]


def run_bandit_from(
    source: SourceText,
    settings: Settings,
    state: ImportState,
    file_tests: bool = True,
    file_nosec: bool = True,
) -> tuple[list[Issue], ImportState]:
    """bandit on a module or on consecutive top-level statements of one, starting from the
    imports seen above them. Returns the issues and the import state after the text.

    `file_nosec=False`: the file-level tests' issues are kept whatever `# nosec` says (a
    part of a file cannot tell: bandit reads the nosec of the issue's line and of the
    file's first line, `file_level_silenced`)."""
    tree = source.tree
    if tree is None:
        raise ValueError("bandit needs a syntax tree")
    file_data = io.BytesIO(source.utf8)
    with _BANDIT_LOCK:
        tests = _test_set(settings)
        metrics = bandit_metrics.Metrics()
        metrics.begin(source.path)
        visitor = _Visitor(
            source.path,
            file_data,
            None,
            tests,
            False,
            _nosec_lines(source),
            metrics,
            interesting=_VISITED_TYPES | frozenset(tests.tests),
        )
        visitor.imports = set(state.imports)
        visitor.import_aliases = dict(state.aliases)
        # BanditNodeVisitor.process() without its own ast.parse: visit the shared tree,
        # then run the file-level tests the same way.
        try:
            visitor.generic_visit(tree)
        finally:
            visitor.unlink()
        if file_tests:
            if not file_nosec:
                visitor.tester.nosec_lines = {}
            visitor.context = {
                "file_data": file_data,
                "filename": source.path,
                "lineno": 0,
                "linerange": [0, 1],
                "col_offset": 0,
            }
            visitor.update_scores(visitor.tester.run_tests(visitor.context, "File"))
        issues = list(visitor.tester.results)
        after = ImportState(frozenset(visitor.imports), tuple(visitor.import_aliases.items()))
    wanted_sev, wanted_conf = settings.security.severity, settings.security.confidence
    return [issue for issue in issues if issue.filter(wanted_sev, wanted_conf)], after


def file_level_silenced(line: int, comments: dict[int, str]) -> bool:
    """Whether bandit's `# nosec` rule silences a file-level test's issue (B613) reported
    at 0-based `line`, given the file's comments (1-based line -> comment): what a nosec on
    that line and one on the file's first line skip, together."""
    own, first = (_parsed_nosec(comments.get(number)) for number in (line + 1, 1))
    if own is None and first is None:
        return False
    skipped = (own or set()) | (first or set())
    return not skipped or "B613" in skipped


def _parsed_nosec(comment: str | None) -> set[str] | None:
    if comment is None or "nosec" not in comment:
        return None
    return _parse_nosec_comment(comment)


def issue_span(source: SourceText, issue: Issue) -> Span:
    line = max(int(issue.lineno or 1) - 1, 0)
    text = source.line_text(line)
    if issue.test_id == "B613":
        # The trojan-source test reports a 1-based code-point column, not a byte offset.
        start = min(max(issue.col_offset - 1, 0), len(text))
        return Span.of(line, start, line, min(start + 1, len(text)))
    first_line = min(issue.linerange) - 1 if issue.linerange else line
    if first_line < line:
        # Reported on an inner line of a multi-line node (B501 on its `verify=False` line)
        # with the node's column, which means nothing on this line: underline the line.
        stripped = text.lstrip()
        return Span.of(line, len(text) - len(stripped), line, len(text.rstrip()))
    start = source.byte_to_char_column(line, max(issue.col_offset, 0))
    last_line = max(issue.linerange) - 1 if issue.linerange else line
    if last_line <= line and issue.end_col_offset > issue.col_offset:
        end = source.byte_to_char_column(line, issue.end_col_offset)
    else:
        end = len(text)  # a multi-line node: underline its first line
    return Span.of(line, start, line, max(end, start))


class SecurityCheck:
    family = Family.SECURITY
    needs_tree = True

    def enabled(self, settings: Settings) -> bool:
        return settings.security.enabled

    def rules(self) -> Iterable[Rule]:
        manager = extension_loader.MANAGER
        for test_id, plugin in sorted(manager.plugins_by_id.items()):
            module = sys.modules.get(plugin.plugin.__module__)
            doc = plugin.plugin.__doc__ or (module.__doc__ if module else None) or ""
            yield _rule(test_id, plugin.name, doc)
        for test_id, info in sorted(manager.blacklist_by_id.items()):
            names = ", ".join(info.get("qualnames", [])[:4]) or "it"
            yield _rule(test_id, info["name"], info.get("message", "").replace("{name}", names))

    def run(self, source: SourceText, settings: Settings) -> Iterator[Finding]:
        yield from issue_findings(source, run_bandit(source, settings))


def issue_findings(source: SourceText, issues: list[Issue]) -> Iterator[Finding]:
    """Findings for bandit's issues on `source` (positions in `source`'s own lines)."""
    for issue in issues:
        span = issue_span(source, issue)
        cwe = issue.cwe.id or None
        detail = SecurityDetail(
            test_id=issue.test_id,
            test_name=issue.test,
            bandit_severity=issue.severity,
            confidence=issue.confidence,
            cwe=cwe,
        )
        where = f"CWE-{cwe}, " if cwe else ""
        message = (
            f"{issue.text.strip()} ({where}severity {issue.severity.lower()}, "
            f"confidence {issue.confidence.lower()})"
        )
        yield Finding(
            code=issue.test_id,
            family=Family.SECURITY,
            severity=severity_for(issue.severity, issue.confidence),
            message=message,
            span=span,
            docs_url=bandit_docs_url(issue.test_id),
            fixes=fixes_for(source, issue.test_id, issue.lineno, issue.col_offset),
            security=detail,
            metrics={"bandit_line": issue.lineno, "bandit_col": issue.col_offset},
        )


def _rule(test_id: str, name: str, doc: str) -> Rule:
    paragraphs = _paragraphs(doc)
    title = (paragraphs[0] if paragraphs else name.replace("_", " ")).rstrip(".")
    if title.upper().startswith(test_id) and ": " in title:
        title = title.split(": ", 1)[1]
    detail = f" {paragraphs[1]}" if len(paragraphs) > 1 else ""
    return Rule(
        code=test_id,
        name=name,
        family=Family.SECURITY,
        summary=title,
        help=(
            f"bandit {test_id} ({name}): {title}.{detail} Fix the code as the linked bandit "
            f"page explains or, when the use is deliberate and safe, add `# nosec {test_id}` "
            "with a reason on the line."
        ),
        docs_url=bandit_docs_url(test_id),
        default_severity=Severity.WARNING,
    )


def _paragraphs(doc: str) -> list[str]:
    """Prose paragraphs of a bandit docstring: reST underlines and ``markup`` dropped."""
    paragraphs: list[str] = []
    current: list[str] = []
    for raw in [*doc.strip().splitlines(), ""]:
        line = raw.strip()
        if not line or set(line) <= set("=-~^"):
            if current:
                paragraphs.append(" ".join(current).replace("``", "`"))
                current = []
            continue
        if line.startswith((":", "..", ">>>")):
            break  # examples and reST fields follow the prose
        current.append(line)
    return paragraphs
