"""Daemon scale benchmark: the real `upwatch run` probing N http monitors on a local nginx.

A local nginx (its own temporary config, `daemon off`, one worker, 127.0.0.1 only) answers every
path with a tiny 200. The bench writes a monitors.yaml with N http monitors at interval S pointing
at it (`escalation: none`), starts `--instances` `upwatch run` processes (each its own
`UPWATCH_INSTANCE` and port on 127.0.0.1) on one fresh SQLite file (or one fresh PostgreSQL
database `upwatch_bench_<pid>` on 127.0.0.1:5432, dropped after), waits until every one is
healthy and the 64 shards are split between them (the `held` count of each one's last "shards
taken" / "shards released" log line: they add up to 64 and none holds more than its fair share),
lets them warm up, then measures a window of T seconds:

- probes done vs scheduled: every slot phase + k * S of every monitor inside the window (from
  `upwatch.engine.phase`) is matched to the result row probed for it; a slot without one is missed;
  a second result for a slot (two instances probing one monitor) is counted as a duplicate;
- monitors probed: how many distinct monitors have at least one result in the window (with an
  overloaded daemon, intervals stretch: every monitor should still be probed);
- schedule lag: `checked_at` (the probe's start) minus its slot, p50 / p99 (inclusive quantiles) /
  max;
- CPU ms per probe: utime + stime of the daemons (all their threads, summed over instances) from
  /proc/PID/stat over the window, divided by the probes done in it; peak RSS is VmHWM at the end
  of the window, summed over instances;
- rows written per second: result rows in the window / T;
- the daemons' own view, scraped once from each one's `/metrics` right after the window (after
  the CPU reading: a scrape costs CPU): `upwatch_overloaded` of each instance ("1/0"),
  `upwatch_probe_slots_skipped_total` summed, and per instance its lag p99, shards held, probes
  started and late, results written, dropped and buffered; and from their logs, the "probing
  falls behind schedule" warnings and every other warning or error, counted by message.

Then prometheus-blackbox-exporter (an `http_2xx` module) probes the same nginx: a bounded number of
`/probe` requests from a bounded number of concurrent clients in this process, and its CPU per
probe is measured the same way. Every loop is bounded in count and time.

    python -m bench scale [--monitors 1000] [--interval 30] [--seconds 60] [--warmup 10]
                          [--db sqlite|postgres] [--instances 1] [--blackbox-probes 3000]
                          [--asyncio-loop] [--keep-logs DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import json
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
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
TICKS = os.sysconf("SC_CLK_TCK")
SHARDS = 64  # upwatch.engine.phase.SHARDS
# A probe may start a hair before its slot (clock reads); a result within this much before a slot
# belongs to that slot.
EARLY = timedelta(milliseconds=50)
# `upwatch run` without uvloop (upwatch's fallback where it is missing): the import fails.
WITHOUT_UVLOOP = (
    "import sys; sys.modules['uvloop'] = None; from upwatch.cli import main; sys.exit(main())"
)
BEHIND = "probing falls behind schedule"  # the start of the daemon's overload warning
# The daemons' own load figures read from /metrics after the window (counters carry `_total`).
SCRAPED = (
    "upwatch_shards_held",
    "upwatch_overloaded",
    "upwatch_probe_slots_skipped_total",
    "upwatch_probes_late_total",
    "upwatch_probes_started_total",
    "upwatch_schedule_lag_p99_seconds",
    "upwatch_results_written_total",
    "upwatch_results_buffered",
    "upwatch_results_dropped_total",
)
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
class Daemon:
    """One `upwatch run` process of the bench."""

    name: str  # its UPWATCH_INSTANCE
    port: int
    log: Path
    process: subprocess.Popen[bytes]


@dataclass(frozen=True, slots=True)
class DaemonView:
    """One daemon's own account after the window: /metrics (nan when the scrape failed) and its
    log (overload warnings, every other warning or error by event)."""

    name: str
    metrics: dict[str, float]
    behind_warnings: int
    problems: dict[str, int]

    def figure(self, name: str, scale: float = 1) -> str:
        return fmt(self.metrics.get(name, math.nan) * scale, ",.0f")


@dataclass(frozen=True, slots=True)
class Judged:
    scheduled: int  # slots in the window
    done: int  # slots with a result probed for them
    duplicates: int  # further results for a slot already done
    failed: int  # results in the window not "up"
    probed_monitors: int  # distinct monitors with a result in the window
    lags_ms: list[float]  # of the slots done


@dataclass(frozen=True, slots=True)
class DaemonRun:
    instances: int
    startup_s: float  # until every daemon is healthy and the shards are split
    judged: Judged
    nominal: float  # N * T / S
    cpu_s: float  # summed over the daemons
    hwm_kib: list[int]  # per daemon
    rows: int
    seconds: float
    views: list[DaemonView]

    @property
    def missed(self) -> int:
        return self.judged.scheduled - self.judged.done

    def scraped(self, name: str) -> list[float]:
        return [v.metrics.get(name, math.nan) for v in self.views]


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


def stop_all(daemons: list[Daemon], grace: float = 30) -> None:
    """SIGTERM to every daemon at once, then wait for each (`stop` kills what remains)."""
    for d in daemons:
        if d.process.poll() is None:
            d.process.send_signal(signal.SIGTERM)
    end = time.monotonic() + grace
    for d in daemons:
        with suppress(subprocess.TimeoutExpired):
            d.process.wait(max(0.1, end - time.monotonic()))


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
) -> Judged:
    """Match the results to the slots of the window [t0, t1)."""
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
    lags: dict[tuple[str, datetime], float] = {}
    failed = duplicates = 0
    probed: set[str] = set()
    for monitor_id, checked_at, state in rows:
        if t0 <= checked_at < t1:
            failed += state != "up"
            probed.add(monitor_id)
        slot = next_fire(monitor_id, interval, checked_at + EARLY) - interval
        if slot in slots.get(monitor_id, ()):
            if (monitor_id, slot) in lags:
                duplicates += 1  # a second result for a slot is not a probe
            else:
                lags[(monitor_id, slot)] = (checked_at - slot) / timedelta(milliseconds=1)
    return Judged(
        scheduled=sum(len(s) for s in slots.values()),
        done=len(lags),
        duplicates=duplicates,
        failed=failed,
        probed_monitors=len(probed),
        lags_ms=list(lags.values()),
    )


def log_events(path: Path) -> Iterator[dict[str, object]]:
    """The JSON lines of a daemon's log (other lines, such as a traceback's, are skipped)."""
    with path.open("rb") as lines:
        for line in lines:
            if line.startswith(b"{"):
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if isinstance(event, dict):
                    yield event


def shards_held(path: Path) -> int:
    """Shards held according to the daemon's last "shards taken" / "shards released" line."""
    held = 0
    for event in log_events(path):
        if event.get("event") in ("shards taken", "shards released"):
            value = event.get("held")
            held = value if isinstance(value, int) else held
    return held


def start_daemon(
    name: str, config: Path, db_url: str, workdir: Path, *, asyncio_loop: bool
) -> Daemon:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "LOG_FORMAT": "json",
        "UPWATCH_INSTANCE": name,
    }
    for variable in ("UPWATCH_HEARTBEAT_URL", "UPWATCH_CONFIG", "UPWATCH_METRICS_TOKEN"):
        env.pop(variable, None)
    upwatch = (
        [sys.executable, "-c", WITHOUT_UVLOOP]
        if asyncio_loop
        else [str(Path(sys.executable).with_name("upwatch"))]
    )
    log = workdir / f"upwatch-{name}.log"
    with log.open("wb") as out:  # the child keeps its own descriptor
        process = subprocess.Popen(
            [*upwatch, "run", "-c", str(config)], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    return Daemon(name, port, log, process)


def wait_split(daemons: list[Daemon], deadline_s: float) -> None:
    """Until the daemons hold the 64 shards between them, none more than its fair share."""
    share = math.ceil(SHARDS / len(daemons))
    end = time.monotonic() + deadline_s
    held: list[int] = []
    while time.monotonic() < end:
        for d in daemons:
            if d.process.poll() is not None:
                raise RuntimeError(f"upwatch {d.name} exited with {d.process.returncode}")
        held = [shards_held(d.log) for d in daemons]
        if sum(held) == SHARDS and max(held) <= share:
            return
        time.sleep(0.5)
    raise RuntimeError(f"shards not split within {deadline_s:.0f} s (held: {held})")


def scrape(daemon: Daemon) -> dict[str, float]:
    """The SCRAPED figures of a daemon's /metrics (absent when the scrape failed)."""
    try:
        response = httpx.get(f"http://127.0.0.1:{daemon.port}/metrics", timeout=60)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        print(f"/metrics of {daemon.name} failed: {exc!r}", file=sys.stderr)
        return {}
    found: dict[str, float] = {}
    for line in response.text.splitlines():
        name, _, value = line.partition(" ")
        if name in SCRAPED:
            found[name] = float(value)
    return found


def view(daemon: Daemon, metrics: dict[str, float]) -> DaemonView:
    behind = 0
    problems: Counter[str] = Counter()
    for event in log_events(daemon.log):
        text = str(event.get("event", ""))
        if text.startswith(BEHIND):
            behind += 1
        elif event.get("level") in ("warning", "error", "critical", "exception"):
            problems[f"{event.get('level')}: {text[:80]}"] += 1
    return DaemonView(daemon.name, metrics, behind, dict(problems))


def run_daemons(args: argparse.Namespace, workdir: Path, target: str, db_url: str) -> DaemonRun:
    interval = timedelta(seconds=args.interval)
    config = workdir / "monitors.yaml"
    config.write_text(monitors_yaml(args.monitors, args.interval, target))
    started = time.monotonic()
    with ExitStack() as stack:
        daemons: list[Daemon] = []
        for i in range(args.instances):
            daemon = start_daemon(
                f"bench-{i}", config, db_url, workdir, asyncio_loop=args.asyncio_loop
            )
            daemons.append(daemon)
            stack.callback(stop, daemon.process)
        stack.callback(stop_all, daemons)  # runs first: every daemon gets SIGTERM at once
        for d in daemons:
            wait_http(f"http://127.0.0.1:{d.port}/healthz", 300, d.process)
        wait_split(daemons, 120)
        startup = time.monotonic() - started
        time.sleep(args.warmup)
        pids = [d.process.pid for d in daemons]
        t0, cpu0 = datetime.now(UTC), sum(cpu_seconds(pid) for pid in pids)
        time.sleep(args.seconds)
        t1, cpu1 = datetime.now(UTC), sum(cpu_seconds(pid) for pid in pids)
        hwm = [hwm_kib(pid) for pid in pids]
        for d in daemons:
            if d.process.poll() is not None:
                code = d.process.returncode
                raise RuntimeError(f"upwatch {d.name} exited in the window ({code})")
        metrics = [scrape(d) for d in daemons]  # after the CPU reading: a scrape costs CPU
        # Results are flushed at least every second; let the probes of the window's last slots
        # (possibly late) finish and be written, then stop so every buffered row is flushed.
        time.sleep(min(args.interval, 5) + 2)
    views = [view(d, m) for d, m in zip(daemons, metrics, strict=True)]
    if args.keep_logs is not None:
        args.keep_logs.mkdir(parents=True, exist_ok=True)
        for d in daemons:
            shutil.copy(d.log, args.keep_logs / d.log.name)
    rows = asyncio.run(read_results(db_url, t0 - interval, t1 + interval))
    seconds = (t1 - t0).total_seconds()
    return DaemonRun(
        instances=args.instances,
        startup_s=startup,
        judged=judge(rows, args.monitors, interval, t0, t1),
        nominal=args.monitors * seconds / args.interval,
        cpu_s=cpu1 - cpu0,
        hwm_kib=hwm,
        rows=sum(1 for _, at, _ in rows if t0 <= at < t1),
        seconds=seconds,
        views=views,
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
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def fmt(value: float, spec: str = ".0f") -> str:
    return "?" if math.isnan(value) else format(value, spec)


def report(args: argparse.Namespace, d: DaemonRun, b: BlackboxRun) -> str:
    j = d.judged
    ours = d.cpu_s * 1000 / max(j.done, 1)
    theirs = b.cpu_s * 1000 / max(b.probes, 1)
    overloaded = d.scraped("upwatch_overloaded")
    skipped = d.scraped("upwatch_probe_slots_skipped_total")
    head = (
        f"{args.monitors} monitors at {args.interval}s on {args.db}, {d.instances} instance(s) "
        f"on {'asyncio' if args.asyncio_loop else 'uvloop'}, "
        f"{d.seconds:.0f} s window after {args.warmup} s warm-up (healthy and shards split after "
        f"{d.startup_s:.1f} s); {os.cpu_count()} CPUs"
    )
    lines = [
        head,
        "",
        "| monitors | interval | db | instances | done / scheduled (N·T/S) | missed | failed "
        "| monitors probed | lag p50 ms | lag p99 ms | lag max ms | CPU ms/probe "
        "| CPU % of a core | peak RSS MiB (sum) | rows/s | overloaded | skipped slots "
        "| blackbox CPU ms/probe | ours / blackbox |",
        "|---:|---:|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|",
        f"| {args.monitors:,} | {args.interval}s | {args.db} | {d.instances} "
        f"| {j.done:,} / {j.scheduled:,} ({d.nominal:,.0f}) | {d.missed:,} | {j.failed:,} "
        f"| {j.probed_monitors:,} / {args.monitors:,} "
        f"| {quantile(j.lags_ms, 50):.1f} | {quantile(j.lags_ms, 99):.1f} "
        f"| {max(j.lags_ms, default=float('nan')):.1f} | {ours:.3f} "
        f"| {100 * d.cpu_s / d.seconds:.0f} | {sum(d.hwm_kib) / 1024:.0f} "
        f"| {d.rows / d.seconds:.1f} | {'/'.join(fmt(o) for o in overloaded)} "
        f"| {fmt(sum(skipped), ',.0f')} | {theirs:.3f} | {ours / theirs:.2f} |",
        "",
        f"duplicate results for one slot: {j.duplicates:,}; "
        f"peak RSS per daemon MiB: {', '.join(f'{k / 1024:.0f}' for k in d.hwm_kib)}",
    ]
    for v in d.views:
        lines.append(
            f"{v.name}: shards {v.figure('upwatch_shards_held')}, "
            f"overloaded {v.figure('upwatch_overloaded')}, "
            f"lag p99 (30 s) {v.figure('upwatch_schedule_lag_p99_seconds', 1000)} ms, "
            f"started {v.figure('upwatch_probes_started_total')}, "
            f"skipped {v.figure('upwatch_probe_slots_skipped_total')}, "
            f"late {v.figure('upwatch_probes_late_total')}, "
            f"results written {v.figure('upwatch_results_written_total')}, "
            f"dropped {v.figure('upwatch_results_dropped_total')} (since start), "
            f"buffered {v.figure('upwatch_results_buffered')}; "
            f'"{BEHIND}" warnings: {v.behind_warnings}; other warnings/errors: '
            + (", ".join(f"{k} ×{n}" for k, n in sorted(v.problems.items())) or "none")
        )
    lines.append(
        f"blackbox_exporter: {b.probes:,} probes ({b.failed} failed) from "
        f"{args.blackbox_concurrency} concurrent clients in {b.seconds:.1f} s "
        f"({b.probes / b.seconds:.0f}/s), {b.cpu_s:.2f} CPU s"
    )
    return "\n".join(lines)


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
    parser.add_argument(
        "--instances", type=int, default=1, help="upwatch processes sharing the database"
    )
    parser.add_argument(
        "--asyncio-loop",
        action="store_true",
        help="run the daemons on asyncio's own event loop, not uvloop (as where it is missing)",
    )
    parser.add_argument(
        "--keep-logs", type=Path, default=None, help="copy the daemons' logs to this directory"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.seconds <= 3600 or not 0 <= args.warmup <= 600:
        parser.error("--seconds must be 1..3600 and --warmup 0..600")
    if not 1 <= args.instances <= 8:
        parser.error("--instances must be 1..8")
    with tempfile.TemporaryDirectory(prefix="upwatch-scale-") as tmp:
        workdir = Path(tmp)
        with nginx(workdir) as nginx_port:
            target = f"http://127.0.0.1:{nginx_port}"
            with database(args.db, workdir) as db_url:
                daemon = run_daemons(args, workdir, target, db_url)
            blackbox = run_blackbox(args, workdir, f"{target}/probe")
    print(report(args, daemon, blackbox))
    return 0
