#!/usr/bin/env python3
"""Rebuild Clearsight's bundled PyPI snapshot from a names list and a download ranking.

Inputs (the format of `../shared/data/`, see its README):

- `pypi-names-YYYY-MM.txt.gz`: every project name on PyPI, one a line, as published;
- `pypi-top-15000.tsv`: `rank<TAB>name`, rank 1 the most downloaded.

Outputs, in `server/clearsight/data/` (see `clearsight.deps.pypi` for how they are read):
`pypi-names.txt.gz`, `pypi-popular.tsv.gz` and `pypi-index.json`. The output is
deterministic: the same inputs give byte-identical files.

    python scripts/build_pypi_index.py                      # newest snapshot in ../shared/data
    python scripts/build_pypi_index.py --names N.txt.gz --top T.tsv --snapshot 2027-05
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
import sys
from pathlib import Path

from clearsight.deps.names import VALID_NAME, normalize
from clearsight.deps.pypi import FORMAT, META_FILE, NAMES_FILE, POPULAR_FILE

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = REPO.parent / "shared" / "data"
DEFAULT_OUT = REPO / "server" / "clearsight" / "data"
SNAPSHOT_IN_NAME = re.compile(r"pypi-names-(\d{4}-\d{2})\.txt\.gz$")


def read_names(path: Path) -> tuple[list[str], int]:
    """Sorted unique normalised names, and how many lines were not valid names."""
    invalid = 0
    names: set[str] = set()
    with gzip.open(path, "rt", encoding="utf-8") as stream:
        for line in stream:
            name = line.strip()
            if not name:
                continue
            if not VALID_NAME.match(name):
                invalid += 1
                continue
            names.add(normalize(name))
    return sorted(names), invalid


def read_popular(path: Path) -> list[tuple[int, str]]:
    """(rank, normalised name), best rank first; a name listed twice keeps its best rank."""
    ranked: dict[str, int] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != 2 or not fields[0].strip().isdigit():
            raise SystemExit(f"{path}:{number}: expected rank<TAB>name, got {line!r}")
        rank, name = int(fields[0]), normalize(fields[1].strip())
        ranked[name] = min(rank, ranked.get(name, rank))
    return sorted(((rank, name) for name, rank in ranked.items()), key=lambda item: item[0])


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build(names_path: Path, top_path: Path, snapshot: str, out: Path) -> dict[str, object]:
    names, invalid = read_names(names_path)
    popular = read_popular(top_path)
    known = set(names)
    missing = [name for _, name in popular if name not in known]
    out.mkdir(parents=True, exist_ok=True)
    blob = ("\n" + "\n".join(names) + "\n").encode("ascii")
    (out / NAMES_FILE).write_bytes(gzip.compress(blob, compresslevel=9, mtime=0))
    table = "".join(f"{rank}\t{name}\n" for rank, name in popular).encode("ascii")
    (out / POPULAR_FILE).write_bytes(gzip.compress(table, compresslevel=9, mtime=0))
    meta: dict[str, object] = {
        "format": FORMAT,
        "snapshot": snapshot,
        "names": len(names),
        "popular": len(popular),
        "sources": {
            names_path.name: _sha256(names_path),
            top_path.name: _sha256(top_path),
        },
    }
    (out / META_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return {**meta, "invalid_names": invalid, "popular_not_in_names": missing}


def _newest_names(source: Path) -> Path:
    found = sorted(p for p in source.glob("pypi-names-*.txt.gz") if SNAPSHOT_IN_NAME.search(p.name))
    if not found:
        raise SystemExit(f"no pypi-names-YYYY-MM.txt.gz in {source}")
    return found[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="input folder")
    parser.add_argument("--names", type=Path, help="pypi-names-YYYY-MM.txt.gz")
    parser.add_argument("--top", type=Path, help="rank<TAB>name file")
    parser.add_argument("--snapshot", help="YYYY-MM (default: from the names file's name)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    args = parser.parse_args(argv)

    names_path = args.names or _newest_names(args.source)
    top_path = args.top or args.source / "pypi-top-15000.tsv"
    snapshot = args.snapshot
    if snapshot is None:
        match = SNAPSHOT_IN_NAME.search(names_path.name)
        if match is None:
            raise SystemExit("cannot tell the snapshot date from the file name: pass --snapshot")
        snapshot = match.group(1)
    if not re.fullmatch(r"\d{4}-\d{2}", snapshot):
        raise SystemExit(f"--snapshot must be YYYY-MM, got {snapshot!r}")

    report = build(names_path, top_path, snapshot, args.out)
    missing = report["popular_not_in_names"]
    assert isinstance(missing, list)
    print(
        f"snapshot {snapshot}: {report['names']:,} names, {report['popular']:,} popular, "
        f"{report['invalid_names']:,} invalid lines skipped -> {args.out}"
    )
    for name in args.out.iterdir():
        print(f"  {name.name}: {name.stat().st_size:,} bytes")
    if missing:
        print(f"warning: {len(missing)} popular names are not in the names list: {missing[:10]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
