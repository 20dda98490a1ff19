"""Entry point of `make bench`."""

from __future__ import annotations

import sys


def main() -> int:
    print("no benchmarks yet: the scale benchmarks arrive with the daemon", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
