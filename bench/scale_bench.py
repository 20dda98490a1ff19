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

- with `--db postgres`, PostgreSQL's own CPU over the same window: utime + stime of every server
  process (the postmaster, found as the parent of a backend of ours, and all its descendants,
  found via /proc; a process that appears in the window counts from 0, one that exits in it is
  lost), as ms per probe done and % of a core, beside the daemons' figures.

Then prometheus-blackbox-exporter (an `http_2xx` module) probes the same nginx: a bounded number of
`/probe` requests from a bounded number of concurrent clients in this process, and its CPU per
probe is measured the same way. "ours / blackbox" is the ratio of the two CPU ms per probe.

Connection reuse check: neither side may reuse a connection between probes (the daemon sends
`Connection: close`; blackbox_exporter's http prober builds a client per probe). nginx's
stub_status is read at the start and end of each measured window (the daemons' window, the
blackbox_exporter requests after its warm-up): accepted connections against requests, which should
be equal; and its access log (`$msec $connection $connection_requests $status $request_uri`)
gives per side, over the same windows, the requests (`/m…` are the daemons', `/probe`
blackbox_exporter's), the distinct connections they came on and the most requests seen on one
connection (1 = none reused).

Under stress (bench/scale_stress.py has the details):

- `--workers N|auto` is passed to each daemon as `UPWATCH_WORKERS` (default 1). A daemon with
  workers forks them: its CPU is then utime + stime of its whole process tree (as PostgreSQL's)
  and its peak RSS the sum of VmHWM over the tree; the split of the shards is read from the
  workers' interleaved log lines (the union of the shards taken and not released adds up to 64
  and no shard changes hands for three coordination steps). A /metrics scrape reaches whichever
  worker accepts the connection: those figures are one worker's and are labelled so.
- lost at shutdown: after the window the daemons are stopped with SIGTERM (timed, exit codes
  kept); the requests nginx answered with 200 to them over the whole run (its access log) minus
  the result rows stored over the whole run is the results lost. Their logs are then read whole:
  "shutdown: results left unwritten" lines, tracebacks, APScheduler's "Error running job", and
  the warning and error lines counted.
- `--wrk PATH` runs `wrk --latency` against the first daemon's port for the window, beside the
  probing: requests/s, latency p50 / p99, non-2xx/3xx responses and socket errors, wrk's own CPU
  (it shares the machine), next to the probes' done / scheduled and lag p99 of that window. The
  daemons' CPU per probe then includes serving wrk.

`--runs N` repeats the whole measurement (fresh nginx, database and daemons, then
blackbox_exporter) N times, prints a row per run and the median of each numeric column; the ratio
ours / blackbox is taken per run (both measured in that run), then its median.

`--profile FILE` adds one extra run before the others, not counted in the medians: py-spy
(`record --rate 100 --format raw --nonblocking`, for the window's length) samples the first
daemon over its window into FILE.raw; the top 10 frames by self time (the leaf of each sampled
stack: function (file:line)) and by cumulative time (every function on the stack, once per
sample), each as % of the recorded samples (all threads, idle ones excluded), are printed and
written to FILE. py-spy costs CPU on this 2-core machine (its own CPU is reported), so the profiled
run's figures are shown but kept apart.

Every loop is bounded in count and time.

    python -m bench scale [--monitors 1000] [--interval 30] [--seconds 60] [--warmup 10]
                          [--db sqlite|postgres] [--instances 1] [--blackbox-probes 3000]
                          [--asyncio-loop] [--keep-logs DIR] [--runs 1] [--profile FILE]
                          [--workers 1|N|auto] [--wrk PATH] [--wrk-connections 32]
                          [--wrk-threads 1]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import re
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

from bench.procfs import (
    cpu_seconds,
    stat_fields,
    ticks_of,
    tree_cpu_seconds,
    tree_hwm_kib,
    tree_ticks,
)
from bench.scale_stress import (
    SHUTDOWN_HEAD,
    WRK_HEAD,
    Stopped,
    WrkRun,
    answered,
    finish_wrk,
    forked_workers,
    log_account,
    log_events,
    reap,
    shard_union,
    shutdown_row,
    start_wrk,
    wrk_row,
)

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
SHARDS = 64  # upwatch.engine.phase.SHARDS
# A probe may start a hair before its slot (clock reads); a result within this much before a slot
# belongs to that slot.
EARLY = timedelta(milliseconds=50)
# `upwatch run` without uvloop (upwatch's fallback where it is missing): the import fails.
WITHOUT_UVLOOP = (
    "import sys; sys.modules['uvloop'] = None; from upwatch.cli import main; sys.exit(main())"
)
BEHIND = "probing falls behind schedule"  # the start of the daemon's overload warning
SETTLE_S = 6.0  # three coordination steps with no shard changing hands: the split is done
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
    log_format conns '$msec $connection $connection_requests $status $request_uri';
    access_log {dir}/access.log conns buffer=256k flush=1s;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location / {{ default_type text/plain; return 200 "ok\\n"; }}
        location = /nginx_status {{ stub_status; }}
    }}
}}
"""
SIDES = {"daemon": "/m", "blackbox": "/probe"}  # request paths of each side on nginx
PY_SPY_RATE = 100  # samples per second
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
class Stub:
    """nginx's stub_status counters (or their change over a window)."""

    accepted: int
    requests: int

    def __sub__(self, other: Stub) -> Stub:
        return Stub(self.accepted - other.accepted, self.requests - other.requests)


@dataclass(frozen=True, slots=True)
class Connections:
    """One side's requests in a window of nginx's access log and the connections they came on."""

    requests: int
    connections: int
    most_per_connection: int  # the highest $connection_requests seen: 1 = no connection reused

    def __str__(self) -> str:
        return (
            f"{self.requests:,} requests on {self.connections:,} connections "
            f"(at most {self.most_per_connection} on one)"
        )


@dataclass(frozen=True, slots=True)
class Profiled:
    """py-spy over the first daemon's window."""

    pid: int
    raw: Path
    cpu_s: float  # py-spy's own CPU
    returncode: int


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
    window: tuple[float, float]  # epoch seconds
    stub: Stub  # nginx's counters over the window
    pg_cpu_s: float | None  # the PostgreSQL server's CPU over the window (--db postgres)
    profiled: Profiled | None
    workers: tuple[int, ...]  # per daemon: processes probing (its "workers started", else 1)
    stopped: Stopped
    wrk: WrkRun | None

    @property
    def ms_per_probe(self) -> float:
        return self.cpu_s * 1000 / max(self.judged.done, 1)

    @property
    def pg_ms_per_probe(self) -> float:
        if self.pg_cpu_s is None:
            return math.nan
        return self.pg_cpu_s * 1000 / max(self.judged.done, 1)

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
    window: tuple[float, float]  # epoch seconds
    stub: Stub  # nginx's counters over the measured probes

    @property
    def ms_per_probe(self) -> float:
        return self.cpu_s * 1000 / max(self.probes, 1)


@dataclass(frozen=True, slots=True)
class Run:
    """One whole measurement: the daemons' window, then blackbox_exporter, on one nginx."""

    daemon: DaemonRun
    blackbox: BlackboxRun
    connections: dict[str, Connections]  # per side (SIDES)
    answered: int  # daemon requests nginx answered with 200 over the whole run

    @property
    def lost(self) -> int:
        """Answered but never stored: results lost (at shutdown, or dropped)."""
        return self.answered - self.daemon.stopped.stored

    @property
    def ratio(self) -> float:
        return self.daemon.ms_per_probe / self.blackbox.ms_per_probe


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def _postmaster_pid(url: str) -> int:
    import asyncpg

    connection = await asyncpg.connect(url, timeout=5)
    try:  # the backend's parent, read while the backend lives
        backend: int = await connection.fetchval("SELECT pg_backend_pid()")
        return int(stat_fields(backend)[1])
    finally:
        await connection.close()


def postmaster_pid(db_url: str) -> int:
    """The PostgreSQL postmaster: the parent of a backend serving a connection of ours."""
    return asyncio.run(_postmaster_pid(db_url))


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


def stub_status(port: int) -> Stub:
    """nginx's accepted connections and requests (this read is one of each)."""
    text = httpx.get(f"http://127.0.0.1:{port}/nginx_status", timeout=10).text
    numbers = text.splitlines()[2].split()  # " accepts handled requests" values
    return Stub(accepted=int(numbers[0]), requests=int(numbers[2]))


def connections(access_log: Path, prefix: str, window: tuple[float, float]) -> Connections:
    """Requests whose path starts with `prefix` logged in the window, and their connections."""
    seen: set[str] = set()
    requests = most = 0
    with access_log.open() as lines:
        for line in lines:
            parts = line.split()
            if len(parts) != 5 or not parts[4].startswith(prefix):
                continue
            if window[0] <= float(parts[0]) <= window[1]:
                requests += 1
                seen.add(parts[1])
                most = max(most, int(parts[2]))
    return Connections(requests, len(seen), most)


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


async def count_results(url: str) -> int:
    """Every result row stored, the whole run."""
    from sqlalchemy import func, select

    from upwatch.store.database import create_engine, database_url
    from upwatch.store.tables import ResultRow

    engine = create_engine(database_url({"DATABASE_URL": url}))
    try:
        async with engine.connect() as connection:
            count = await connection.scalar(select(func.count()).select_from(ResultRow))
    finally:
        await engine.dispose()
    return int(count or 0)


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


def shards_held(path: Path) -> int:
    """Shards held according to the daemon's last "shards taken" / "shards released" line."""
    held = 0
    for event in log_events(path):
        if event.get("event") in ("shards taken", "shards released"):
            value = event.get("held")
            held = value if isinstance(value, int) else held
    return held


def wait_settled(daemons: list[Daemon], deadline_s: float) -> None:
    """With forked workers: until the daemons hold the 64 shards between them and none changed
    hands for SETTLE_S (a worker above its fair share gives the excess back at its next step)."""
    end = time.monotonic() + deadline_s
    last: tuple[int, int] = (-1, -1)
    since = time.monotonic()
    while time.monotonic() < end:
        for d in daemons:
            if d.process.poll() is not None:
                raise RuntimeError(f"upwatch {d.name} exited with {d.process.returncode}")
        unions = [shard_union(d.log) for d in daemons]
        now = (sum(len(held) for held, _ in unions), sum(lines for _, lines in unions))
        if now != last:
            last, since = now, time.monotonic()
        elif now[0] == SHARDS and time.monotonic() - since >= SETTLE_S:
            return
        time.sleep(0.5)
    raise RuntimeError(f"shards not settled within {deadline_s:.0f} s (held, lines: {last})")


def start_daemon(
    name: str, config: Path, db_url: str, workdir: Path, *, asyncio_loop: bool, workers: str
) -> Daemon:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "LOG_FORMAT": "json",
        "UPWATCH_INSTANCE": name,
        "UPWATCH_WORKERS": workers,
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


def start_py_spy(pid: int, raw: Path, seconds: int, tree: bool) -> subprocess.Popen[bytes]:
    """py-spy on `pid`; with `tree` (forked workers) on its child processes too."""
    binary = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    return subprocess.Popen(
        [
            *(binary, "record", "--pid", str(pid), "--rate", str(PY_SPY_RATE)),
            *("--format", "raw", "--output", str(raw), "--duration", str(seconds)),
            "--nonblocking",
            *(("--subprocesses",) if tree else ()),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def finish_py_spy(process: subprocess.Popen[bytes], raw: Path, deadline_s: float) -> Profiled:
    """Waits for py-spy (killed past the deadline) and reaps it with its resource usage."""
    _, cpu_s = reap(process, deadline_s)
    if process.stderr is not None:
        err = process.stderr.read().decode(errors="replace").strip()
        process.stderr.close()
        if process.returncode != 0 or not raw.exists():
            print(f"py-spy exited with {process.returncode}: {err[-2000:]}", file=sys.stderr)
    return Profiled(process.pid, raw, cpu_s, process.returncode)


@dataclass(frozen=True, slots=True)
class Window:
    """The readings of the measured window."""

    t0: datetime
    t1: datetime
    cpu_s: float  # the daemons' (with forked workers: their process trees')
    hwm_kib: list[int]  # per daemon (summed over its tree)
    stub: Stub
    pg_cpu_s: float | None
    profiled: Profiled | None
    wrk: WrkRun | None


def measure(
    args: argparse.Namespace,
    stack: ExitStack,
    daemons: list[Daemon],
    nginx_port: int,
    db_url: str,
    profile: Path | None,
) -> Window:
    """The window: CPU, nginx's counters and peak RSS, with py-spy (`profile`) or wrk
    (`--wrk`) running over it when asked."""
    pids, tree = [d.process.pid for d in daemons], args.workers != "1"
    postmaster = postmaster_pid(db_url) if args.db == "postgres" else None
    raw = profile.with_name(profile.name + ".raw") if profile is not None else None
    spy = start_py_spy(pids[0], raw, args.seconds, tree) if raw is not None else None
    if spy is not None:
        stack.callback(stop, spy, 0)
    wrk_url = f"http://127.0.0.1:{daemons[0].port}{args.wrk}" if args.wrk else ""
    wrk_out = daemons[0].log.with_name("wrk.out")
    stub0 = stub_status(nginx_port)
    pg0 = tree_ticks(postmaster) if postmaster else {}
    wrk = (
        start_wrk(wrk_url, args.wrk_connections, args.wrk_threads, args.seconds, wrk_out)
        if wrk_url
        else None
    )
    if wrk is not None:
        stack.callback(stop, wrk, 0)
    t0, ticks0 = datetime.now(UTC), ticks_of(pids, tree)
    time.sleep(args.seconds)
    t1, ticks1 = datetime.now(UTC), ticks_of(pids, tree)
    pg1 = tree_ticks(postmaster) if postmaster else {}
    stub1 = stub_status(nginx_port)
    return Window(
        t0=t0,
        t1=t1,
        cpu_s=tree_cpu_seconds(ticks0, ticks1),
        hwm_kib=[tree_hwm_kib(pid, tree) for pid in pids],
        stub=stub1 - stub0,
        pg_cpu_s=tree_cpu_seconds(pg0, pg1) if postmaster else None,
        profiled=finish_py_spy(spy, raw, 60) if spy and raw else None,
        wrk=(
            finish_wrk(wrk, wrk_out, wrk_url, args.wrk_connections, args.wrk_threads)
            if wrk
            else None
        ),
    )


def start_all(
    args: argparse.Namespace, stack: ExitStack, config: Path, db_url: str, workdir: Path
) -> list[Daemon]:
    """Every daemon started, healthy and holding its share of the shards."""
    daemons: list[Daemon] = []
    for i in range(args.instances):
        daemon = start_daemon(
            f"bench-{i}",
            config,
            db_url,
            workdir,
            asyncio_loop=args.asyncio_loop,
            workers=args.workers,
        )
        daemons.append(daemon)
        stack.callback(stop, daemon.process)
    stack.callback(stop_all, daemons)  # runs first: every daemon gets SIGTERM at once
    for d in daemons:
        wait_http(f"http://127.0.0.1:{d.port}/healthz", 300, d.process)
    if args.workers == "1":
        wait_split(daemons, 120)
    else:
        wait_settled(daemons, 120)
    return daemons


def run_daemons(
    args: argparse.Namespace,
    workdir: Path,
    nginx_port: int,
    db_url: str,
    profile: Path | None,
) -> DaemonRun:
    """The daemons' window, then their SIGTERM; py-spy samples the first daemon over the window
    when `profile` is given."""
    target = f"http://127.0.0.1:{nginx_port}"
    interval = timedelta(seconds=args.interval)
    config = workdir / "monitors.yaml"
    config.write_text(monitors_yaml(args.monitors, args.interval, target))
    started = time.monotonic()
    with ExitStack() as stack:
        daemons = start_all(args, stack, config, db_url, workdir)
        startup = time.monotonic() - started
        workers = tuple(forked_workers(d.log) for d in daemons)
        time.sleep(args.warmup)
        window = measure(args, stack, daemons, nginx_port, db_url, profile)
        for d in daemons:
            if d.process.poll() is not None:
                code = d.process.returncode
                raise RuntimeError(f"upwatch {d.name} exited in the window ({code})")
        metrics = [scrape(d) for d in daemons]  # after the CPU reading: a scrape costs CPU
        # Results are flushed at least every second; let the probes of the window's last slots
        # (possibly late) finish and be written, then stop so every buffered row is flushed.
        time.sleep(min(args.interval, 5) + 2)
        sigterm = time.monotonic()
        stop_all(daemons)
        stop_s = time.monotonic() - sigterm
        exit_codes = tuple(d.process.returncode for d in daemons)  # None: killed on leaving
    stopped = Stopped(
        stop_s,
        exit_codes,
        asyncio.run(count_results(db_url)),
        tuple(log_account(d.log) for d in daemons),
    )
    views = [view(d, m) for d, m in zip(daemons, metrics, strict=True)]
    if args.keep_logs is not None:
        args.keep_logs.mkdir(parents=True, exist_ok=True)
        for d in daemons:
            shutil.copy(d.log, args.keep_logs / d.log.name)
    t0, t1 = window.t0, window.t1
    rows = asyncio.run(read_results(db_url, t0 - interval, t1 + interval))
    seconds = (t1 - t0).total_seconds()
    return DaemonRun(
        instances=args.instances,
        startup_s=startup,
        judged=judge(rows, args.monitors, interval, t0, t1),
        nominal=args.monitors * seconds / args.interval,
        cpu_s=window.cpu_s,
        hwm_kib=window.hwm_kib,
        rows=sum(1 for _, at, _ in rows if t0 <= at < t1),
        seconds=seconds,
        views=views,
        window=(t0.timestamp(), t1.timestamp()),
        stub=window.stub,
        pg_cpu_s=window.pg_cpu_s,
        profiled=window.profiled,
        workers=workers,
        stopped=stopped,
        wrk=window.wrk,
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


def run_blackbox(args: argparse.Namespace, workdir: Path, nginx_port: int) -> BlackboxRun:
    target = f"http://127.0.0.1:{nginx_port}/probe"
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
        stub0, wall0 = stub_status(nginx_port), time.time()
        started, cpu0 = time.monotonic(), cpu_seconds(process.pid)
        failed = asyncio.run(
            drive_blackbox(port, target, args.blackbox_probes, args.blackbox_concurrency)
        )
        seconds, cpu1 = time.monotonic() - started, cpu_seconds(process.pid)
        wall1, stub1 = time.time(), stub_status(nginx_port)
    finally:
        stop(process, 10)
        log.close()
    return BlackboxRun(
        args.blackbox_probes, failed, cpu1 - cpu0, seconds, (wall0, wall1), stub1 - stub0
    )


def quantile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def fmt(value: float, spec: str = ".0f") -> str:
    return "?" if math.isnan(value) else format(value, spec)


def median(values: list[float]) -> float:
    values = [v for v in values if not math.isnan(v)]
    return statistics.median(values) if values else math.nan


@dataclass(frozen=True, slots=True)
class Row:
    """The numeric columns of one run (or their medians)."""

    done: float
    scheduled: float
    missed: float
    failed: float
    probed: float
    lag_p50: float
    lag_p99: float
    lag_max: float
    ms_per_probe: float
    core_pct: float
    pg_ms_per_probe: float
    pg_core_pct: float
    rss_mib: float
    rows_per_s: float
    blackbox_ms_per_probe: float
    ratio: float

    @classmethod
    def of(cls, run: Run) -> Row:
        d, j = run.daemon, run.daemon.judged
        return cls(
            done=j.done,
            scheduled=j.scheduled,
            missed=d.missed,
            failed=j.failed,
            probed=j.probed_monitors,
            lag_p50=quantile(j.lags_ms, 50),
            lag_p99=quantile(j.lags_ms, 99),
            lag_max=max(j.lags_ms, default=math.nan),
            ms_per_probe=d.ms_per_probe,
            core_pct=100 * d.cpu_s / d.seconds,
            pg_ms_per_probe=d.pg_ms_per_probe,
            pg_core_pct=100 * (d.pg_cpu_s if d.pg_cpu_s is not None else math.nan) / d.seconds,
            rss_mib=sum(d.hwm_kib) / 1024,
            rows_per_s=d.rows / d.seconds,
            blackbox_ms_per_probe=run.blackbox.ms_per_probe,
            ratio=run.ratio,
        )

    @classmethod
    def medians(cls, rows: list[Row]) -> Row:
        names = cls.__slots__
        return cls(**{n: median([getattr(r, n) for r in rows]) for n in names})


TABLE_HEAD = (
    "| run | done / scheduled | missed | failed | monitors probed | lag p50 ms | lag p99 ms "
    "| lag max ms | CPU ms/probe | CPU % of a core | PostgreSQL CPU ms/probe "
    "| PostgreSQL CPU % of a core | peak RSS MiB (sum) | rows/s | overloaded | skipped slots "
    "| blackbox CPU ms/probe | ours / blackbox | daemon conns / requests "
    "| blackbox conns / requests |\n"
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---|---|"
)


def table_row(label: str, r: Row, extra: tuple[str, str, str, str]) -> str:
    overloaded, skipped, ours_conns, theirs_conns = extra
    return (
        f"| {label} | {fmt(r.done, ',.0f')} / {fmt(r.scheduled, ',.0f')} "
        f"| {fmt(r.missed, ',.0f')} | {fmt(r.failed, ',.0f')} | {fmt(r.probed, ',.0f')} "
        f"| {fmt(r.lag_p50, '.1f')} | {fmt(r.lag_p99, '.1f')} | {fmt(r.lag_max, '.1f')} "
        f"| {fmt(r.ms_per_probe, '.3f')} | {fmt(r.core_pct)} | {fmt(r.pg_ms_per_probe, '.3f')} "
        f"| {fmt(r.pg_core_pct, '.1f')} | {fmt(r.rss_mib)} | {fmt(r.rows_per_s, '.1f')} "
        f"| {overloaded} | {skipped} | {fmt(r.blackbox_ms_per_probe, '.3f')} "
        f"| {fmt(r.ratio, '.2f')} | {ours_conns} | {theirs_conns} |"
    )


def one_worker(run: Run) -> str:
    """The label of figures scraped from /metrics when a daemon forked workers."""
    return "one worker: " if max(run.daemon.workers) > 1 else ""


def run_extra(run: Run) -> tuple[str, str, str, str]:
    d, b = run.daemon, run.blackbox
    return (
        one_worker(run) + "/".join(fmt(o) for o in d.scraped("upwatch_overloaded")),
        one_worker(run) + fmt(sum(d.scraped("upwatch_probe_slots_skipped_total")), ",.0f"),
        f"{d.stub.accepted:,} / {d.stub.requests:,}",
        f"{b.stub.accepted:,} / {b.stub.requests:,}",
    )


def details(args: argparse.Namespace, label: str, run: Run) -> list[str]:
    d, b, j = run.daemon, run.blackbox, run.daemon.judged
    lines = [
        f"{label}: healthy and shards split after {d.startup_s:.1f} s, {d.seconds:.0f} s window; "
        f"duplicate results for one slot: {j.duplicates:,}; "
        f"peak RSS per daemon MiB{' (its process tree)' if args.workers != '1' else ''}: "
        f"{', '.join(f'{k / 1024:.0f}' for k in d.hwm_kib)}"
        + (f"; PostgreSQL CPU {d.pg_cpu_s:.2f} s" if d.pg_cpu_s is not None else "")
    ]
    for v, workers in zip(d.views, d.workers, strict=True):
        whose = f" (/metrics of one of its {workers} workers)" if workers > 1 else ""
        lines.append(
            f"  {v.name}{whose}: shards {v.figure('upwatch_shards_held')}, "
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
        f"  blackbox_exporter: {b.probes:,} probes ({b.failed} failed) from "
        f"{args.blackbox_concurrency} concurrent clients in {b.seconds:.1f} s "
        f"({b.probes / b.seconds:.0f}/s), {b.cpu_s:.2f} CPU s"
    )
    lines.append(
        "  connections (nginx stub_status over each window: accepted / requests; access log): "
        f"daemon {d.stub.accepted:,} / {d.stub.requests:,}, {run.connections['daemon']}; "
        f"blackbox {b.stub.accepted:,} / {b.stub.requests:,}, {run.connections['blackbox']}"
    )
    reused = [
        side
        for side, c in run.connections.items()
        if c.most_per_connection > 1 or c.connections != c.requests
    ]
    lines.append(
        "  connection reuse: "
        + (f"REUSED by {', '.join(reused)}" if reused else "none (one request per connection)")
    )
    for v, log in zip(d.views, d.stopped.logs, strict=True):
        lines.append(f"  {v.name} after SIGTERM: {log}")
        lines += [f"    {problem}" for problem in log.first_problems]
    return lines


def workers_text(args: argparse.Namespace, runs: list[Run]) -> str:
    """How many processes each daemon ran, as asked and as its log says."""
    if args.workers == "1":
        return "1 worker (one process) each"
    forked = sorted({n for run in runs for n in run.daemon.workers})
    seen = "/".join(str(n) for n in forked)
    return f"--workers {args.workers}: {seen} worker process(es) each" + (
        " (no 'workers started' line: ran as one process)" if forked == [1] else ""
    )


def stress_tables(runs: list[Run]) -> list[str]:
    """Results lost at SIGTERM for every run, and wrk's account beside the probes'."""
    lines = ["", "results lost at shutdown (SIGTERM after the window; nginx's 200s vs rows):", ""]
    lines.append(SHUTDOWN_HEAD)
    lines += [shutdown_row(str(i), r.answered, r.daemon.stopped) for i, r in enumerate(runs, 1)]
    wrk_runs = [(i, r) for i, r in enumerate(runs, 1) if r.daemon.wrk is not None]
    if wrk_runs:
        lines += ["", "wrk over the window, beside the probing (the daemons' CPU includes it):", ""]
        lines.append(WRK_HEAD)
    for i, r in wrk_runs:
        d = r.daemon
        assert d.wrk is not None
        lag = quantile(d.judged.lags_ms, 99)
        lines.append(wrk_row(str(i), d.wrk, d.seconds, d.judged.done, d.judged.scheduled, lag))
    return lines


def report(args: argparse.Namespace, runs: list[Run], profiled: Run | None) -> str:
    head = (
        f"{args.monitors} monitors at {args.interval}s on {args.db}, {args.instances} instance(s) "
        f"× {workers_text(args, runs)} on {'asyncio' if args.asyncio_loop else 'uvloop'}, "
        f"{args.seconds} s windows after "
        f"{args.warmup} s warm-up, {len(runs)} run(s)"
        + (" + 1 profiled run (not in the medians)" if profiled else "")
        + f"; {os.cpu_count()} CPUs"
    )
    lines = [head, "", TABLE_HEAD]
    if profiled is not None:
        lines.append(table_row("profiled (py-spy)", Row.of(profiled), run_extra(profiled)))
    for i, run in enumerate(runs, 1):
        lines.append(table_row(str(i), Row.of(run), run_extra(run)))
    if len(runs) > 1:
        lines.append(
            table_row("**median**", Row.medians([Row.of(r) for r in runs]), ("", "", "", ""))
        )
    lines += stress_tables(runs)
    lines.append("")
    if args.workers != "1":
        lines.append(
            "With workers, CPU is each daemon's whole process tree and peak RSS its sum; a "
            "/metrics scrape reaches whichever worker accepts it, so 'one worker:' figures and "
            "the per-daemon /metrics figures below are that one worker's, not the daemon's."
        )
    if profiled is not None:
        lines += details(args, "profiled run", profiled)
    for i, run in enumerate(runs, 1):
        lines += details(args, f"run {i}", run)
    return "\n".join(lines)


NO_FRAME = ("(no Python frame)", "", "")
FRAME = re.compile(r"^(?P<func>.*) \((?P<file>.*?)(?::(?P<line>\d+))?\)$")


def short_path(path: str) -> str:
    """Package-relative: what follows site-packages/, src/ or lib/pythonX.Y/."""
    for marker in ("site-packages/", "/src/"):
        if marker in path:
            return path.rsplit(marker, 1)[1]
    return re.sub(r"^.*/lib/python3\.\d+/", "", path)


def parse_frame(frame: str) -> tuple[str, str, str]:
    """(function, package-relative file, line) of a py-spy raw frame "function (file:line)"."""
    match = FRAME.match(frame)
    if match is None:
        return frame, "", ""
    return match["func"], short_path(match["file"]), match["line"] or ""


def profile_summary(raw: Path, top: int = 10) -> str:
    """Top frames by self and by cumulative time of a py-spy raw (collapsed stacks) file."""
    own: Counter[tuple[str, str, str]] = Counter()
    inclusive: Counter[tuple[str, str]] = Counter()
    lines_of: dict[tuple[str, str], Counter[str]] = {}
    total = 0
    with raw.open() as stacks:
        for entry in stacks:
            stack, _, count = entry.rstrip("\n").rpartition(" ")
            if not count.isdigit():
                continue
            n = int(count)  # an empty stack: a sample in no Python frame
            frames = [parse_frame(f) for f in stack.split(";")] if stack else [NO_FRAME]
            total += n
            own[frames[-1]] += n
            for func, file, line in frames:
                lines_of.setdefault((func, file), Counter())[line] += n
            for key in {(func, file) for func, file, _ in frames}:  # once per sample
                inclusive[key] += n
    out = [f"{total:,} samples recorded (all threads, idle ones excluded)", "", "top by self time:"]
    for (func, file, line), n in own.most_common(top):
        out.append(f"  {100 * n / max(total, 1):5.1f} %  {func} ({file}:{line})")
    out += ["", "top by cumulative time (per function; line = its most-sampled line):"]
    for (func, file), n in inclusive.most_common(top):
        line = lines_of[(func, file)].most_common(1)[0][0]
        out.append(f"  {100 * n / max(total, 1):5.1f} %  {func} ({file}:{line})")
    return "\n".join(out)


def one_run(args: argparse.Namespace, profile: Path | None) -> Run:
    """The whole measurement on a fresh nginx and database: the daemons' window and SIGTERM,
    then blackbox_exporter; then the access log's account of connections per side and of the
    daemons' requests answered."""
    with tempfile.TemporaryDirectory(prefix="upwatch-scale-") as tmp:
        workdir = Path(tmp)
        with nginx(workdir) as nginx_port:
            with database(args.db, workdir) as db_url:
                daemon = run_daemons(args, workdir, nginx_port, db_url, profile)
            blackbox = run_blackbox(args, workdir, nginx_port)
        # nginx has exited: its access log is flushed whole.
        windows = {"daemon": daemon.window, "blackbox": blackbox.window}
        access_log = workdir / "access.log"
        return Run(
            daemon,
            blackbox,
            {
                side: connections(access_log, prefix, windows[side])
                for side, prefix in SIDES.items()
            },
            answered(access_log, SIDES["daemon"]),
        )


def profile_report(args: argparse.Namespace, run: Run, profile: Path) -> str:
    p = run.daemon.profiled
    assert p is not None
    head = (
        f"py-spy record --rate {PY_SPY_RATE} --format raw --nonblocking --duration "
        f"{args.seconds} on daemon pid {p.pid} (bench-0) over the window of the profiled run "
        f"(exit {p.returncode}); py-spy itself used {p.cpu_s:.2f} CPU s "
        f"({100 * p.cpu_s / max(run.daemon.seconds, 1):.0f} % of a core) on this "
        f"{os.cpu_count()}-CPU machine, so that run is kept out of the medians. Raw: {p.raw}"
    )
    body = profile_summary(p.raw) if p.raw.exists() else "(no raw output)"
    text = f"{head}\n\n{body}\n"
    profile.write_text(text)
    return text


def workers_arg(text: str) -> str:
    """`--workers`: auto or a whole number 1..64, passed on as written."""
    text = text.strip().lower()
    if text != "auto" and not (text.isdigit() and 1 <= int(text) <= 64):
        raise argparse.ArgumentTypeError(f"workers must be auto or 1..64, not {text!r}")
    return str(int(text)) if text.isdigit() else text


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
    parser.add_argument(
        "--runs", type=int, default=1, help="repeat the whole measurement; medians printed"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="an extra first run with py-spy on the first daemon: raw to FILE.raw, summary to FILE",
    )
    parser.add_argument(
        "--workers",
        type=workers_arg,
        default="1",
        help="UPWATCH_WORKERS of each daemon: N or auto (forked workers share its port and shards)",
    )
    parser.add_argument(
        "--wrk",
        metavar="PATH",
        default=None,
        help="run wrk on this path of the first daemon (e.g. /api/v1/status) over the window",
    )
    parser.add_argument("--wrk-connections", type=int, default=32)
    parser.add_argument("--wrk-threads", type=int, default=1)
    args = parser.parse_args(argv)
    if args.wrk is not None and not args.wrk.startswith("/"):
        parser.error("--wrk takes a path starting with /, e.g. /api/v1/status")
    if not 1 <= args.wrk_threads <= args.wrk_connections <= 10000:
        parser.error("--wrk-threads must be 1..--wrk-connections, and that at most 10000")
    if not 1 <= args.seconds <= 3600 or not 0 <= args.warmup <= 600:
        parser.error("--seconds must be 1..3600 and --warmup 0..600")
    if not 1 <= args.instances <= 8:
        parser.error("--instances must be 1..8")
    if not 1 <= args.runs <= 20:
        parser.error("--runs must be 1..20")
    profiled = None
    if args.profile is not None:
        args.profile = args.profile.resolve()
        profiled = one_run(args, args.profile)
        print(f"profiled run done ({len(profiled.daemon.judged.lags_ms):,} probes)", flush=True)
    runs = []
    for i in range(args.runs):
        runs.append(one_run(args, None))
        print(f"run {i + 1} of {args.runs} done", flush=True)
    print()
    print(report(args, runs, profiled))
    if profiled is not None and args.profile is not None:
        print()
        print(profile_report(args, profiled, args.profile))
    return 0
