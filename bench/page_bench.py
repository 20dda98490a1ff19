"""Status page benchmark: the real app under uvicorn on 127.0.0.1, 1,000 monitors, 90 days.

The server runs in a child process (one core), the client in this one (the other core), so the
client's work does not slow the server down. Latency is measured until the last byte of the body
as sent (compressed; the client does not inflate it). Each path gets a warm-up, then `requests`
requests from `concurrency` concurrent clients; the status page run lasts long enough to include
the background re-renderings that happen every few seconds under traffic.

    python -m bench [--monitors 1000] [--days 90] [--requests 2000] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bench.page_seed import bench_config, seed

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
PATHS = (
    "/",
    "/monitors/m0005",
    "/monitors/m0005?range=7d",
    "/badge/m0001.svg",
    "/badge/m0001/uptime.svg?window=30d",
    "/feed.atom",
)
SLOW_PATHS = ("/metrics",)
# Every request a different monitor page, never seen before: the uncached path of /monitors/{id}.
FIRST_RENDER = "/monitors/m{i:04d}"
FIRST_LABEL = (
    "/monitors/{id}, first render of each"  # read from the database on every scrape, by design
)


@dataclass(frozen=True, slots=True)
class Measured:
    path: str
    p50_ms: float
    p95_ms: float
    max_ms: float
    wire_bytes: int
    raw_bytes: int


def serve(db_path: str, monitors: int, port: int) -> None:
    """The child process: the real app on uvicorn, its clock running from NOW."""
    import logging

    import structlog
    import uvicorn

    from upwatch.runtime.health import Health
    from upwatch.runtime.settings import Settings
    from upwatch.store.database import create_engine, database_url
    from upwatch.web.app import create_app
    from upwatch.web.context import AppContext

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    started = time.monotonic()
    engine = create_engine(database_url({"DATABASE_URL": f"sqlite:///{db_path}"}))
    ctx = AppContext(
        Settings.from_env({}),
        Health(config_loaded=True, migrated=True),
        bench_config(monitors),
        engine=engine,
        clock=lambda: NOW + timedelta(seconds=time.monotonic() - started),
    )
    config = uvicorn.Config(
        create_app(ctx), host="127.0.0.1", port=port, log_level="warning", access_log=False
    )
    uvicorn.Server(config).run()


async def _timed(client: httpx.AsyncClient, path: str) -> tuple[float, int]:
    started = time.perf_counter()
    async with client.stream("GET", path) as response:
        size = sum([len(chunk) async for chunk in response.aiter_raw()])
    assert response.status_code == 200, (path, response.status_code)
    return (time.perf_counter() - started) * 1000, size


async def measure(
    client: httpx.AsyncClient, paths: Sequence[str], requests: int, workers: int, label: str
) -> Measured:
    """Request k asks for paths[k % len(paths)]; one path repeated measures the cached page,
    many distinct ones measure each page's first render."""
    if len(paths) == 1:
        for _ in range(5):
            await _timed(client, paths[0])
    latencies: list[float] = []
    queue = iter(range(requests))

    async def worker() -> int:
        size = 0
        for k in queue:
            ms, size = await _timed(client, paths[k % len(paths)])
            latencies.append(ms)
        return size

    sizes = await asyncio.gather(*(worker() for _ in range(workers)))
    plain = {"accept-encoding": "identity"}
    raw = (await client.get(paths[0], headers=plain)).content
    cuts = statistics.quantiles(latencies, n=100)
    return Measured(label, cuts[49], cuts[94], max(latencies), max(sizes), len(raw))


async def _wait_ready(client: httpx.AsyncClient) -> None:
    for _ in range(200):
        try:
            if (await client.get("/readyz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.05)
    raise RuntimeError("the benchmark server did not start")


async def run_client(port: int, args: argparse.Namespace) -> list[Measured]:
    headers = {"accept-encoding": "gzip"}
    base = f"http://127.0.0.1:{port}"
    limits = httpx.Limits(max_connections=args.concurrency)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60) as c:
        await _wait_ready(c)
        cold, _ = await _timed(c, "/")
        print(f"cold render of / (first request): {cold:.0f} ms", file=sys.stderr)
        found = [await measure(c, [p], args.requests, args.concurrency, f"`{p}`") for p in PATHS]
        fresh = [f"/monitors/m{i:04d}" for i in range(args.monitors) if i % 40 != 7]  # public
        count = min(args.requests, len(fresh))
        found.append(await measure(c, fresh, count, args.concurrency, FIRST_LABEL))
        found += [await measure(c, [p], args.requests // 20, 1, f"`{p}`") for p in SLOW_PATHS]
    return found


async def render_times(db_path: Path, monitors: int) -> tuple[float, float]:
    """Seconds to read and render the status page: the first time, and again 5 s later (when
    the cached past days make it cheaper), in this process without any HTTP."""
    from upwatch.store.database import create_engine, database_url
    from upwatch.store.latency_window import LatencyWindow
    from upwatch.web.board_source import fetch_board_source
    from upwatch.web.pages_board import render_status

    loaded = bench_config(monitors)
    engine = create_engine(database_url({"DATABASE_URL": f"sqlite:///{db_path}"}))
    took = []
    latency = LatencyWindow()
    try:
        for now in (NOW, NOW + timedelta(seconds=5)):
            started = time.perf_counter()
            source = await fetch_board_source(engine, loaded.config, now, latency)
            render_status(source, loaded, now)
            took.append(time.perf_counter() - started)
    finally:
        await engine.dispose()
    return took[0], took[1]


def database(monitors: int, days: int) -> Path:
    path = Path(tempfile.gettempdir()) / "upwatch-bench" / f"pages-{monitors}x{days}.db"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        print(f"seeding {path} (once; takes about a minute)", file=sys.stderr)
        partial = path.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        asyncio.run(seed(str(partial), monitors, days, NOW))
        partial.rename(path)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def report(found: list[Measured], args: argparse.Namespace) -> str:
    lines = [
        f"{args.monitors} monitors, {args.days} days; {args.requests} requests per path, "
        f"{args.concurrency} concurrent (metrics: {args.requests // 20}, one at a time)",
        "",
        "| path | p50 ms | p95 ms | max ms | bytes on the wire (gzip) | bytes uncompressed |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for m in found:
        lines.append(
            f"| {m.path} | {m.p50_ms:.1f} | {m.p95_ms:.1f} | {m.max_ms:.1f} "
            f"| {m.wire_bytes:,} | {m.raw_bytes:,} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--monitors", type=int, default=1000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args(argv)
    path = database(args.monitors, args.days)
    port = free_port()
    context = multiprocessing.get_context("spawn")
    server = context.Process(target=serve, args=(str(path), args.monitors, port), daemon=True)
    server.start()
    try:
        found = asyncio.run(run_client(port, args))
    finally:
        server.terminate()
        server.join(10)
    cold, warm = asyncio.run(render_times(path, args.monitors))
    print(report(found, args))
    print(f"\nrendering `/` without HTTP: {cold * 1000:.0f} ms cold, {warm * 1000:.0f} ms warm")
    return 0
