"""CPU of the reads that merge 24 hours of latency sketches: one status rebuild (the page and
`/api/v1/status`, built together) and one `/metrics` scrape, in this process over the bench's
SQLite database (1,000 monitors by default, 2 days; seeded once by bench/page_seed.py).

    python -m bench.latency_read [--monitors 1000] [--rounds 20]

Each round moves the clock on a second and changes every monitor's current-hour row (as a flush
would), so every read sees the current hour change and the past hours stay as they were. The
first read of a process (and the first after the hour turns) merges every completed hour: it is
reported on its own.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.page_bench import NOW, database
from bench.page_seed import bench_config
from upwatch.config.loader import LoadedConfig
from upwatch.store.database import create_engine, database_url
from upwatch.store.latency_window import LatencyWindow
from upwatch.store.rollups import hour_of
from upwatch.store.tables import HOURLY
from upwatch.web.board_source import fetch_board_source
from upwatch.web.metrics import MonitorCollector, exposition
from upwatch.web.metrics_source import fetch_metrics_source
from upwatch.web.pages_board import render_status


async def _cpu(action: Awaitable[None]) -> float:
    started = time.process_time()
    await action
    return time.process_time() - started


async def status(
    engine: AsyncEngine, loaded: LoadedConfig, now: datetime, latency: LatencyWindow
) -> None:
    """One rebuild of the status page and its `/api/v1/status` document."""
    source = await fetch_board_source(engine, loaded.config, now, latency)
    render_status(source, loaded, now)


async def metrics(
    engine: AsyncEngine, loaded: LoadedConfig, now: datetime, latency: LatencyWindow
) -> None:
    """One `/metrics` scrape with the token (every monitor)."""
    source = await fetch_metrics_source(engine, now, loaded.config, latency)
    exposition(MonitorCollector(source, loaded.config, now, include_private=True))


async def run(monitors: int, rounds: int, path: Path) -> dict[str, list[float]]:
    loaded = bench_config(monitors)
    engine = create_engine(database_url({"DATABASE_URL": f"sqlite:///{path}"}))
    latency = LatencyWindow()  # one per process, as the app's context holds; both reads share it
    found: dict[str, list[float]] = {"status": [], "metrics": []}
    try:
        for i in range(rounds + 1):
            now = NOW + timedelta(seconds=1 + i)  # 10:00:00 would add one more past hour
            async with engine.begin() as connection:  # a flush into the current hour
                current = HOURLY.c.bucket >= hour_of(now)
                await connection.execute(update(HOURLY).where(current).values(checks=60 + i))
            status_cpu = await _cpu(status(engine, loaded, now, latency))
            metrics_cpu = await _cpu(metrics(engine, loaded, now, latency))
            if i:
                found["status"].append(status_cpu)
                found["metrics"].append(metrics_cpu)
            else:
                print(f"first read: status {status_cpu:.3f} s, metrics {metrics_cpu:.3f} s CPU")
    finally:
        await engine.dispose()
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--monitors", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args(argv)
    path = database(args.monitors, 2)  # seeded outside the event loop (seeding runs its own)
    found = asyncio.run(run(args.monitors, args.rounds, path))
    for name, seconds in found.items():
        print(
            f"{name}: median {statistics.median(seconds):.3f} s CPU per read, "
            f"min {min(seconds):.3f}, max {max(seconds):.3f} ({len(seconds)} reads)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
