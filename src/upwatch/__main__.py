"""`python -m upwatch`: the same command line as `upwatch` (workers are started this way)."""

import sys

from upwatch.cli import main

sys.exit(main())
