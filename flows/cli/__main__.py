"""`python -m flows.cli` runs the `factcheck` command (the tests drive it this way)."""

import sys

from flows.cli import main

sys.exit(main())
