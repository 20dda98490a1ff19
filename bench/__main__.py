"""Entry point of `make bench`: the status page benchmark (see bench/page_bench.py)."""

from __future__ import annotations

import sys

from bench import page_bench


def main() -> int:
    return page_bench.main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
