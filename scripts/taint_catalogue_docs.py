#!/usr/bin/env python3
"""Write the security dataflow section of docs/rules.md from the bundled taint catalogue.

python scripts/taint_catalogue_docs.py          # rewrite docs/rules.md
python scripts/taint_catalogue_docs.py --check  # exit 1 if it is out of date
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from clearsight.dataflow.docs import updated

RULES = Path(__file__).resolve().parent.parent / "docs" / "rules.md"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check, do not write")
    options = parser.parse_args()
    current = RULES.read_text(encoding="utf-8")
    wanted = updated(current)
    if options.check:
        if wanted != current:
            print("docs/rules.md is out of date: run scripts/taint_catalogue_docs.py")
            return 1
        return 0
    RULES.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
