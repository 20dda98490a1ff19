"""Daemon scale benchmark: the real `upwatch run` probing N http monitors on a local nginx.

A local nginx (its own temporary config, `daemon off`, one worker, 127.0.0.1 only) answers every
path with a tiny 200. The bench writes a monitors.yaml with N http monitors at interval S pointing
at it (`escalation: none`), starts `upwatch run` as a subprocess on a fresh SQLite file (or a fresh
PostgreSQL database `upwatch_bench_<pid>` on 127.0.0.1:5432, dropped after), waits until it is
healthy, lets it warm up, then measures a window of T seconds:

- probes done vs scheduled: every slot phase + k * S of every monitor inside the window (from
  `upwatch.engine.phase`) is matched to the result row probed for it; a slot without one is missed;
- schedule lag: `checked_at` (the probe's start) minus its slot, p50 / p99 / max;
- CPU ms per probe: utime + stime of the daemon (all its threads) from /proc/PID/stat over the
  window, divided by the probes done in it; peak RSS is VmHWM at the end of the window;
- rows written per second: result rows in the window / T.

Then prometheus-blackbox-exporter (an `http_2xx` module) probes the same nginx: a bounded number of
`/probe` requests from a bounded number of concurrent clients in this process, and its CPU per
probe is measured the same way. Every loop is bounded in count and time.

    python -m bench scale [--monitors 1000] [--interval 30] [--seconds 60] [--warmup 10]
                          [--db sqlite|postgres] [--blackbox-probes 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
TICKS = os.sysconf("SC_CLK_TCK")
# A probe may start a hair before its slot (clock reads); a result within this much before a slot
# belongs to that slot.
EARLY = timedelta(milliseconds=50)
NGINX_CONF = """\
daemon off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location / {{ default_type text/plain; return 200 "ok\\n"; }}
    }}
}}
"""
BLACKBOX_CONF = """\
modules:
  http_2xx:
    prober: http
    timeout: 5s
    http:
      preferred_ip_protocol: ip4
"""


@dataclass(frozen=True, slots=True)
class DaemonRun:
    startup_s: float
    scheduled: int
    nominal: float  # N * T / S
    done: int
    missed: int
    failed: int
    lags_ms: list[float]
    cpu_s: float
    hwm_kib: int
    rows: int
    seconds: float


@dataclass(frozen=True, slots=True)
class BlackboxRun:
    probes: int
    failed: int
    cpu_s: float
    seconds: float


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def cpu_seconds(pid: int) -> float:
    """utime + stime of the process (every thread), in seconds."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # fields 14 and 15 of proc(5)


def hwm_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def stop(process: subprocess.Popen[bytes], grace: float = 30) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def wait_http(url: str, deadline_s: float, process: subprocess.Popen[bytes]) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer 200 within {deadline_s:.0f} s")


@contextmanager
def nginx(workdir: Path) -> Iterator[int]:
    port = free_port()
    conf = workdir / "nginx.conf"
    conf.write_text(NGINX_CONF.format(dir=workdir, port=port))
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    log = (workdir / "nginx.out").open("wb")
    process = subprocess.Popen(
        [binary, "-e", str(workdir / "error.log"), "-p", str(workdir), "-c", str(conf)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/", 10, process)
        yield port
    finally:
        stop(process, 10)
        log.close()


def monitors_yaml(count: int, interval_s: int, target: str) -> str:
    lines = [
        "version: 1",
        f"defaults: {{interval: {interval_s}s, timeout: 5s, escalation: none}}",
        "monitors:",
    ]
    lines += [f"  - {{id: {m}, name: {m}, url: '{target}/{m}'}}" for m in ids(count)]
    return "\n".join(lines) + "\n"


def ids(count: int) -> list[str]:
    return [f"m{i:05d}" for i in range(count)]


async def _pg_admin(sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(PG_ADMIN, timeout=5)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@contextmanager
def database(kind: str, workdir: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'bench.db'}"
        return
    name = f"upwatch_bench_{os.getpid()}"
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def read_results(
    url: str, since: datetime, until: datetime
) -> list[tuple[str, datetime, str]]:
    from sqlalchemy import select

    from upwatch.store.database import create_engine, database_url
    from upwatch.store.tables import ResultRow

    engine = create_engine(database_url({"DATABASE_URL": url}))
    query = select(ResultRow.monitor_id, ResultRow.checked_at, ResultRow.state).where(
        ResultRow.checked_at >= since, ResultRow.checked_at < until
    )
    try:
        async with engine.connect() as connection:
            rows = (await connection.execute(query)).all()
    finally:
        await engine.dispose()
    return [(r[0], r[1], r[2]) for r in rows]


def judge(
    rows: list[tuple[str, datetime, str]],
    count: int,
    interval: timedelta,
    t0: datetime,
    t1: datetime,
) -> tuple[int, int, int, list[float]]:
    """(scheduled slots in [t0, t1), slots done, failed results, lags in ms of the slots done)."""
    from upwatch.engine.phase import next_fire

    slots: dict[str, set[datetime]] = {}
    for m in ids(count):
        first, found = next_fire(m, interval, t0), set()
        for k in range(math.ceil((t1 - t0) / interval) + 1):
            slot = first + k * interval
            if slot >= t1:
                break
            found.add(slot)
        slots[m] = found
    scheduled = sum(len(s) for s in slots.values())
    lags: dict[tuple[str, datetime], float] = {}
    failed = 0
    for monitor_id, checked_at, state in rows:
        failed += state != "up"
        slot = next_fire(monitor_id, interval, checked_at + EARLY) - interval
        if slot in slots.get(monitor_id, ()):
            lag = (checked_at - slot) / timedelta(milliseconds=1)
            lags.setdefault((monitor_id, slot), lag)  # a second result for a slot is not a probe
    return scheduled, len(lags), failed, list(lags.values())


def run_daemon(args: argparse.Namespace, workdir: Path, target: str, db_url: str) -> DaemonRun:
    interval = timedelta(seconds=args.interval)
    config = workdir / "monitors.yaml"
    config.write_text(monitors_yaml(args.monitors, args.interval, target))
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "LOG_FORMAT": "json",
        "UPWATCH_INSTANCE": "bench",
    }
    for name in ("UPWATCH_HEARTBEAT_URL", "UPWATCH_CONFIG"):
        env.pop(name, None)
    upwatch = Path(sys.executable).with_name("upwatch")
    log = (workdir / "upwatch.log").open("wb")
    started = time.monotonic()
    process = subprocess.Popen(
        [str(upwatch), "run", "-c", str(config)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", 300, process)
        startup = time.monotonic() - started
        time.sleep(args.warmup)
        t0, cpu0 = datetime.now(UTC), cpu_seconds(process.pid)
        time.sleep(args.seconds)
        t1, cpu1 = datetime.now(UTC), cpu_seconds(process.pid)
        hwm = hwm_kib(process.pid)
        if process.poll() is not None:
            raise RuntimeError(f"upwatch exited during the window ({process.returncode})")
        # Results are flushed at least every second; let the probes of the window's last slots
        # (possibly late) finish and be written, then stop so every buffered row is flushed.
        time.sleep(min(args.interval, 5) + 2)
    finally:
        stop(process)
        log.close()
    rows = asyncio.run(read_results(db_url, t0 - interval, t1 + interval))
    in_window = sum(1 for _, at, _ in rows if t0 <= at < t1)
    scheduled, done, failed, lags = judge(rows, args.monitors, interval, t0, t1)
    seconds = (t1 - t0).total_seconds()
    return DaemonRun(
        startup_s=startup,
        scheduled=scheduled,
        nominal=args.monitors * seconds / args.interval,
        done=done,
        missed=scheduled - done,
        failed=failed,
        lags_ms=lags,
        cpu_s=cpu1 - cpu0,
        hwm_kib=hwm,
        rows=in_window,
        seconds=seconds,
    )


async def drive_blackbox(port: int, target: str, probes: int, workers: int) -> int:
    """`probes` probes from `workers` concurrent clients; returns how many failed."""
    params = {"target": target, "module": "http_2xx"}
    queue = iter(range(probes))
    failed = 0
    limits = httpx.Limits(max_connections=workers, max_keepalive_connections=workers)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=10
    ) as client:

        async def worker() -> None:
            nonlocal failed
            for _ in queue:
                response = await client.get("/probe", params=params)
                failed += "probe_success 1" not in response.text

        await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(workers))), 300)
    return failed


def run_blackbox(args: argparse.Namespace, workdir: Path, target: str) -> BlackboxRun:
    binary = shutil.which("prometheus-blackbox-exporter") or "/usr/bin/prometheus-blackbox-exporter"
    conf = workdir / "blackbox.yml"
    conf.write_text(BLACKBOX_CONF)
    port = free_port()
    log = (workdir / "blackbox.log").open("wb")
    process = subprocess.Popen(
        [binary, f"--config.file={conf}", f"--web.listen-address=127.0.0.1:{port}"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/-/healthy", 20, process)
        asyncio.run(drive_blackbox(port, target, min(200, args.blackbox_probes), 4))  # warm-up
        started, cpu0 = time.monotonic(), cpu_seconds(process.pid)
        failed = asyncio.run(
            drive_blackbox(port, target, args.blackbox_probes, args.blackbox_concurrency)
        )
        seconds, cpu1 = time.monotonic() - started, cpu_seconds(process.pid)
    finally:
        stop(process, 10)
        log.close()
    return BlackboxRun(args.blackbox_probes, failed, cpu1 - cpu0, seconds)


def quantile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100)[q - 1]


def report(args: argparse.Namespace, d: DaemonRun, b: BlackboxRun) -> str:
    ours = d.cpu_s * 1000 / max(d.done, 1)
    theirs = b.cpu_s * 1000 / max(b.probes, 1)
    head = (
        f"{args.monitors} monitors at {args.interval}s on {args.db}, {d.seconds:.0f} s window "
        f"after {args.warmup} s warm-up (healthy after {d.startup_s:.1f} s); "
        f"{os.cpu_count()} CPUs"
    )
    return "\n".join(
        [
            head,
            "",
            "| monitors | interval | db | done / scheduled (N·T/S) | missed | failed "
            "| lag p50 ms | lag p99 ms | lag max ms | CPU ms/probe | CPU % of a core "
            "| peak RSS MiB | rows/s | blackbox CPU ms/probe | ours / blackbox |",
            "|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
            f"| {args.monitors:,} | {args.interval}s | {args.db} "
            f"| {d.done:,} / {d.scheduled:,} ({d.nominal:,.0f}) | {d.missed:,} | {d.failed:,} "
            f"| {quantile(d.lags_ms, 50):.1f} | {quantile(d.lags_ms, 99):.1f} "
            f"| {max(d.lags_ms, default=float('nan')):.1f} | {ours:.3f} "
            f"| {100 * d.cpu_s / d.seconds:.0f} | {d.hwm_kib / 1024:.0f} "
            f"| {d.rows / d.seconds:.1f} | {theirs:.3f} | {ours / theirs:.2f} |",
            "",
            f"blackbox_exporter: {b.probes:,} probes ({b.failed} failed) from "
            f"{args.blackbox_concurrency} concurrent clients in {b.seconds:.1f} s "
            f"({b.probes / b.seconds:.0f}/s), {b.cpu_s:.2f} CPU s",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench scale", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--monitors", type=int, default=1000)
    parser.add_argument("--interval", type=int, default=30, help="seconds")
    parser.add_argument("--seconds", type=int, default=60, help="measured window")
    parser.add_argument("--warmup", type=int, default=10, help="seconds before the window")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--blackbox-probes", type=int, default=3000)
    parser.add_argument("--blackbox-concurrency", type=int, default=20)
    args = parser.parse_args(argv)
    if not 1 <= args.seconds <= 3600 or not 0 <= args.warmup <= 600:
        parser.error("--seconds must be 1..3600 and --warmup 0..600")
    with tempfile.TemporaryDirectory(prefix="upwatch-scale-") as tmp:
        workdir = Path(tmp)
        with nginx(workdir) as nginx_port:
            target = f"http://127.0.0.1:{nginx_port}"
            with database(args.db, workdir) as db_url:
                daemon = run_daemon(args, workdir, target, db_url)
            blackbox = run_blackbox(args, workdir, f"{target}/probe")
    print(report(args, daemon, blackbox))
    return 0
