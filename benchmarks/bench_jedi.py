#!/usr/bin/env python3
"""Would jedi's inference pay in Clearsight? The receivers the performance family judges.

The performance family reports a query in a loop (CS-T010) or a blocking call in a
coroutine only where it knows the receiver's class (`cur.execute` on a `sqlite3.Cursor`,
`s.get` on a `requests.Session`), by its own static resolution of names
(`performance/names.py`): imports, assignments, annotations, calls with known return types
in the catalogue. jedi infers the same thing across modules, through return types and
attributes (`self.conn`). This measures, on real code nobody here wrote (PyPI packages that
talk to databases and over HTTP, installed with pip into benchmarks/.cache/jedi-site, which
is also jedi's search path):

1. every call of a method the family judges on some class (`execute`, `query`, `get`, ...):
   what Clearsight resolves its receiver to, and what jedi infers, with the calls where
   jedi names a catalogue class that Clearsight leaves unknown (what jedi would add), those
   inside a loop or a coroutine (where a finding could appear), and disagreements;
2. what it costs: jedi's first inference in a fresh process (cold), a file's first, every
   later one (warm), and an edit's: a new `jedi.Script` on the edited text inferring that
   file's receivers again, against Clearsight's whole-file resolution of the same calls.

jedi runs in a child process, with `InterpreterEnvironment` and an explicit `sys_path`
(no subprocess, nothing imported from the corpus: jedi only parses).

    python benchmarks/bench_jedi.py [--limit N]
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from corpus import with_jedi

from clearsight.performance.catalogue import PerformanceCatalogue, bundled
from clearsight.performance.names import ModuleBindings, Scope, scope_bindings

CACHE = Path(__file__).resolve().parent / ".cache"
SITE = CACHE / "jedi-site"
# Applications and libraries that use databases and HTTP clients; the packages whose own
# files are the corpus (their dependencies are installed too, for jedi to follow).
PACKAGES = (
    "datasette==0.65.5", "sqlite-utils==4.2.1", "dataset==2.0.0", "records==0.6.0",
    "flask-sqlalchemy==3.1.1", "alembic==1.20.1", "httpie==3.2.4",
)  # fmt: skip
CORPUS = ("datasette", "sqlite_utils", "dataset", "records.py", "flask_sqlalchemy", "alembic",
          "httpie")  # fmt: skip
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


def install() -> None:
    if not SITE.is_dir():
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--no-compile", "--target", str(SITE),
             *PACKAGES],
            check=True,
        )  # fmt: skip


def corpus_files(limit: int | None) -> list[Path]:
    files: list[Path] = []
    for entry in CORPUS:
        path = SITE / entry
        files.extend([path] if path.is_file() else sorted(path.rglob("*.py")))
    return files[:limit] if limit else files


def judged_methods(catalogue: PerformanceCatalogue) -> dict[str, set[str]]:
    """Method name -> the classes on which the family judges it."""
    methods: dict[str, set[str]] = {}
    for qualified in [*catalogue.queries, *catalogue.blocking]:
        owner, _, method = qualified.rpartition(".")
        if owner and owner in _classes(catalogue):
            methods.setdefault(method, set()).add(owner)
    return methods


def _classes(catalogue: PerformanceCatalogue) -> set[str]:
    return {*catalogue.returns.values(), *catalogue.attributes.values()} | {
        q.rpartition(".")[0] for q in catalogue.queries
    }


def sites(tree: ast.Module, catalogue: PerformanceCatalogue) -> Iterator[dict[str, object]]:
    """Every call of a judged method: its receiver's end, what Clearsight makes of it, and
    whether it is in a loop or a coroutine."""
    methods = judged_methods(catalogue)
    module = Scope.of_module(ModuleBindings.of([scope_bindings(tree.body)]), catalogue)

    def visit(node: ast.AST, scope: Scope, loop: bool, coroutine: bool) -> Iterator[dict]:
        for child in ast.iter_child_nodes(node):
            inner, in_loop, in_coroutine = scope, loop, coroutine
            if isinstance(child, _SCOPES):
                inner = Scope.of_function(child, scope)
                in_loop, in_coroutine = False, isinstance(child, ast.AsyncFunctionDef)
            elif isinstance(child, ast.For | ast.AsyncFor | ast.While | ast.comprehension):
                in_loop = True
            if (
                isinstance(child, ast.Call)
                and isinstance(child.func, ast.Attribute)
                and child.func.attr in methods
                and child.func.value.end_lineno is not None
            ):
                receiver = child.func.value
                meaning = scope.meaning(receiver)
                yield {
                    "line": receiver.end_lineno,
                    "column": receiver.end_col_offset,
                    "method": child.func.attr,
                    "ours": meaning.instance_of,
                    "loop": in_loop,
                    "coroutine": in_coroutine,
                }
            yield from visit(child, inner, in_loop, in_coroutine)

    yield from visit(tree, module, False, False)


def clearsight_pass(files: list[Path]) -> tuple[dict[str, list[dict]], float]:
    catalogue = bundled()
    found: dict[str, list[dict]] = {}
    started = time.perf_counter()
    for path in files:
        try:
            tree = ast.parse(path.read_bytes())
        except (SyntaxError, ValueError):
            continue
        found[str(path)] = list(sites(tree, catalogue))
    return found, time.perf_counter() - started


def child_jedi(request_file: str) -> dict[str, object]:
    """In a fresh process: jedi's inference at every site, timed."""
    started = time.perf_counter()
    import jedi

    request = json.loads(Path(request_file).read_text())
    environment = jedi.InterpreterEnvironment()
    project = jedi.Project(request["root"], sys_path=[request["root"]], smart_sys_path=False)
    inferred: dict[str, list[list[str]]] = {}
    firsts, warms, edits = [], [], []
    cold = None
    for file, found in request["sites"].items():
        text = Path(file).read_text(encoding="utf-8", errors="replace")
        script = jedi.Script(text, path=file, project=project, environment=environment)
        names = []
        for index, site in enumerate(found):
            t0 = time.perf_counter()
            try:
                inferred_here = script.infer(site["line"], site["column"])
                types = sorted({d.full_name or "" for d in inferred_here})
            except Exception as error:  # jedi's own failures are a result here
                types = [f"error: {type(error).__name__}"]
            elapsed = time.perf_counter() - t0
            if cold is None:
                cold = time.perf_counter() - started
            (firsts if index == 0 else warms).append(elapsed)
            names.append(types)
        inferred[file] = names
        if found:  # an edit: a blank line added at the end, every receiver inferred again
            t0 = time.perf_counter()
            edited = jedi.Script(text + "\n", path=file, project=project, environment=environment)
            for site in found:
                with contextlib.suppress(Exception):  # timed only
                    edited.infer(site["line"], site["column"])
            edits.append(time.perf_counter() - t0)
    return {"inferred": inferred, "cold": cold, "firsts": firsts, "warms": warms, "edits": edits}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, help="only the first N files of the corpus")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child_jedi(args.child)))
        return
    install()
    files = corpus_files(args.limit)
    found, ours_seconds = clearsight_pass(files)
    request = CACHE / "jedi-request.json"
    request.write_text(json.dumps({"root": str(SITE), "sites": found}))
    run = subprocess.run(
        [sys.executable, __file__, "--child", str(request)], capture_output=True, text=True,
        check=True, env=with_jedi(),
    )  # fmt: skip
    result = json.loads(run.stdout)
    catalogue = bundled()
    classes = _classes(catalogue)
    methods = judged_methods(catalogue)
    tally: Counter[str] = Counter()
    adds: list[str] = []
    for file, file_sites in found.items():
        for site, types in zip(file_sites, result["inferred"][file], strict=True):
            judged = {catalogue.canonical(t) for t in types} & methods[site["method"]]
            named = {catalogue.canonical(t) for t in types} & classes
            ours = site["ours"]
            tally["sites"] += 1
            tally["jedi typed"] += bool(types) and not types[0].startswith("error")
            tally["jedi errors"] += bool(types) and types[0].startswith("error")
            if ours:
                tally["clearsight knows"] += 1
                tally["agree" if ours in named else "jedi differs"] += 1
            elif judged:
                tally["jedi adds"] += 1
                if site["loop"] or site["coroutine"]:
                    tally["jedi adds, in a loop or coroutine"] += 1
                    where = "a loop" if site["loop"] else "a coroutine"
                    shown = Path(file).relative_to(SITE)
                    adds.append(
                        f"{shown}:{site['line']} .{site['method']} on "
                        f"{', '.join(sorted(judged))}, in {where}"
                    )
    lines = sum(len(Path(f).read_text(errors="replace").splitlines()) for f in found)
    print(f"corpus: {len(found)} files, {lines:,} lines ({', '.join(PACKAGES)})")
    print(f"calls of judged methods: {tally['sites']}")
    print(
        f"  Clearsight knows the receiver's class: {tally['clearsight knows']} "
        f"(jedi agrees {tally['agree']}, differs or unsure {tally['jedi differs']})"
    )
    print(f"  jedi names some type: {tally['jedi typed']}; jedi raised: {tally['jedi errors']}")
    print(
        f"  jedi adds a judged class Clearsight leaves unknown: {tally['jedi adds']} "
        f"({tally['jedi adds, in a loop or coroutine']} in a loop or a coroutine)"
    )
    for line in adds:
        print(f"    {line}")
    firsts, warms, edits = result["firsts"], result["warms"], result["edits"]
    ms = 1000
    print(f"cost: jedi cold (import + first inference) {result['cold'] * ms:,.0f} ms")
    if firsts:
        print(
            f"  a file's first inference: median {statistics.median(firsts) * ms:.1f} ms, "
            f"max {max(firsts) * ms:,.0f} ms"
        )
    if warms:
        print(
            f"  later inferences: median {statistics.median(warms) * ms:.2f} ms, "
            f"p95 {statistics.quantiles(warms, n=20)[-1] * ms:.1f} ms"
        )
    if edits:
        per_edit = statistics.median(edits)
        ours_per_file = ours_seconds / max(len(found), 1)
        print(
            f"  per edit (new Script, the file's receivers again): median "
            f"{per_edit * ms:.1f} ms, p95 {statistics.quantiles(edits, n=20)[-1] * ms:.0f} ms,"
            f" max {max(edits) * ms:,.0f} ms"
        )
        print(
            f"  Clearsight's resolution, parse included: {ours_per_file * ms:.2f} ms per file"
            f" -> jedi per edit / Clearsight: {per_edit / ours_per_file:,.0f}x"
        )


if __name__ == "__main__":
    main()
