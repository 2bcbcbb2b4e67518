"""`python -m clearsight …` is the `clearsight` command."""

import sys

from clearsight.cli.main import main

sys.exit(main())
