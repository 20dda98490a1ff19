"""Entry point of `make bench`: the status page benchmark (see bench/page_bench.py), or with
`scale` as the first argument the daemon scale benchmark (see bench/scale_bench.py), with
`browser` the page in Chromium and Lighthouse (see bench/page_browser.py), with `regions` the
K-of-N regions vote simulated on a fake clock (see bench/regions_sim.py)."""

from __future__ import annotations

import sys

from bench import page_bench


def main() -> int:
    if sys.argv[1:2] == ["scale"]:
        from bench import scale_bench

        return scale_bench.main(sys.argv[2:])
    if sys.argv[1:2] == ["browser"]:
        from bench import page_browser

        return page_browser.main(sys.argv[2:])
    if sys.argv[1:2] == ["regions"]:
        from bench import regions_sim

        return regions_sim.main(sys.argv[2:])
    return page_bench.main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
