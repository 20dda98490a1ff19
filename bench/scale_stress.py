"""The scale benchmark under stress: results lost at SIGTERM, `wrk` on the HTTP API, and what
a daemon's log says (its workers, its shards, its problems after it stopped); used by
bench/scale_bench.py.

Lost at shutdown: nginx's access log records each request with its status. Every request nginx
answered with 200 to a daemon (`/m…` paths) over the whole run should end as one result row; a
probe cancelled in flight at shutdown never got its answer (nginx logs no 200 for a connection the
client closed first), so it does not count. `answered − stored`, counted after the daemons stopped
on SIGTERM and flushed, is the results lost. (One caveat cuts the other way: a probe whose answer
was written by nginx but not yet read when the daemon gave up on it counts as lost too.)

`wrk` runs for the measured window against the first daemon's HTTP port, beside the probing; its
own CPU (from its resource usage when reaped) lands on the same machine and is reported so the
reader can weigh it. wrk counts "Non-2xx or 3xx responses" together, and so does the report.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

WORKERS_STARTED = "workers started"  # a daemon's line once it forked its workers
UNWRITTEN = "shutdown: results left unwritten"  # the daemon gave up writing buffered results
JOB_ERROR = "Error running job"  # APScheduler: a probe job raised
WRK_UNITS_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4, "h": 3.6e6}
WRK_LATENCY = re.compile(r"^\s*(?P<q>50|99)%\s+(?P<value>[\d.]+)(?P<unit>us|ms|s|m|h)\s*$")
WRK_TOTAL = re.compile(r"^\s*(?P<n>\d+) requests in (?P<value>[\d.]+)(?P<unit>us|ms|s|m|h),")
WRK_SOCKET = re.compile(r"(connect|read|write|timeout) (\d+)")


@dataclass(frozen=True, slots=True)
class LogAccount:
    """What one daemon's log holds once it stopped."""

    warnings: int  # warning lines
    errors: int  # error and critical lines
    unwritten: tuple[int, ...]  # the count of each UNWRITTEN line
    tracebacks: int  # "Traceback" lines and JSON events carrying an exception
    job_errors: int  # lines with JOB_ERROR
    first_problems: tuple[str, ...]  # the first few error/traceback lines, shortened

    def __str__(self) -> str:
        unwritten = (
            f'"{UNWRITTEN}" ×{len(self.unwritten)} ({sum(self.unwritten):,} results)'
            if self.unwritten
            else f'no "{UNWRITTEN}"'
        )
        return (
            f"{unwritten}; tracebacks {self.tracebacks}, "
            f'"{JOB_ERROR}" {self.job_errors}; warning lines {self.warnings:,}, '
            f"error lines {self.errors:,}"
        )


def event_of(line: bytes) -> dict[str, object] | None:
    """A daemon's JSON log line as a dict; None for any other line (a traceback's)."""
    if not line.startswith(b"{"):
        return None
    try:
        event = json.loads(line)
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


def log_events(path: Path) -> Iterator[dict[str, object]]:
    """The JSON lines of a daemon's log (other lines, such as a traceback's, are skipped)."""
    with path.open("rb") as lines:
        for line in lines:
            if (event := event_of(line)) is not None:
                yield event


def forked_workers(path: Path) -> int:
    """Workers of a daemon according to its "workers started" line; 1 without one."""
    found = 1
    for event in log_events(path):
        if event.get("event") == WORKERS_STARTED:
            value = event.get("workers")
            found = value if isinstance(value, int) else found
    return found


def shard_union(path: Path) -> tuple[set[int], int]:
    """The shards a daemon's workers hold together, and how many shard lines its log has. The
    workers' lines interleave and name no worker; a shard has one holder at a time and a worker
    logs giving shards back before it unlocks them, so taken minus released is exact (a shard
    taken away by force may be logged late: then this never adds up and the wait says so)."""
    held: set[int] = set()
    lines = 0
    for event in log_events(path):
        kind, shards = event.get("event"), event.get("shards")
        if kind in ("shards taken", "shards released") and isinstance(shards, list):
            lines += 1
            change = {s for s in shards if isinstance(s, int)}
            held = held | change if kind == "shards taken" else held - change
    return held, lines


def log_account(path: Path, keep: int = 5) -> LogAccount:
    """Read the whole log: JSON events by level, and any raw line (a traceback on stderr)."""
    warnings = errors = tracebacks = job_errors = 0
    unwritten: list[int] = []
    first: list[str] = []
    with path.open("rb") as lines:
        for line in lines:
            event = event_of(line)
            text = line.decode(errors="replace").strip()
            job_errors += JOB_ERROR in text
            if event is None:
                tracebacks += text.startswith("Traceback")
                problem = text.startswith("Traceback") or JOB_ERROR in text
            else:
                level = event.get("level")
                warnings += level == "warning"
                errors += level in ("error", "critical")
                tracebacks += "exception" in event
                if event.get("event") == UNWRITTEN:
                    count = event.get("count")
                    unwritten.append(count if isinstance(count, int) else -1)
                problem = level in ("error", "critical") or "exception" in event
            if problem and len(first) < keep:
                first.append(text[:300])
    return LogAccount(warnings, errors, tuple(unwritten), tracebacks, job_errors, tuple(first))


def answered(access_log: Path, prefix: str) -> int:
    """Requests whose path starts with `prefix` that nginx answered with 200, the whole log
    (format `$msec $connection $connection_requests $status $request_uri`)."""
    count = 0
    with access_log.open() as lines:
        for line in lines:
            parts = line.split()
            count += len(parts) == 5 and parts[3] == "200" and parts[4].startswith(prefix)
    return count


@dataclass(frozen=True, slots=True)
class Stopped:
    """The daemons' SIGTERM: how long until they exited, how, and what they stored."""

    seconds: float  # SIGTERM to the last daemon's exit
    exit_codes: tuple[int | None, ...]  # None: still running at the deadline (then killed)
    stored: int  # result rows over the whole run, counted after they exited
    logs: tuple[LogAccount, ...]


def reap(process: subprocess.Popen[bytes], deadline_s: float) -> tuple[int, float]:
    """Wait for a child (killed past the deadline), reap it and return its exit code and its
    CPU seconds (user + system, from its resource usage)."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        time.sleep(0.2)
    else:
        process.kill()
        pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, usage.ru_utime + usage.ru_stime


@dataclass(frozen=True, slots=True)
class WrkRun:
    """wrk's account of the window (nan where its output lacked a figure)."""

    url: str
    connections: int
    threads: int
    requests: int
    seconds: float
    per_second: float
    p50_ms: float
    p99_ms: float
    non_2xx_3xx: int
    socket_errors: dict[str, int]
    cpu_s: float
    returncode: int


def start_wrk(
    url: str, connections: int, threads: int, seconds: int, out: Path
) -> subprocess.Popen[bytes]:
    binary = shutil.which("wrk") or "/usr/bin/wrk"
    with out.open("wb") as stdout:  # the child keeps its own descriptor
        return subprocess.Popen(
            [
                *(binary, "--latency", "--threads", str(threads)),
                *("--connections", str(connections), "--duration", f"{seconds}s"),
                *("--timeout", "10s", url),
            ],
            stdout=stdout,
            stderr=subprocess.STDOUT,
        )


def _ms(value: str, unit: str) -> float:
    return float(value) * WRK_UNITS_MS[unit]


def finish_wrk(
    process: subprocess.Popen[bytes], out: Path, url: str, connections: int, threads: int
) -> WrkRun:
    code, cpu_s = reap(process, 60)
    text = out.read_text(errors="replace")
    quantiles: dict[str, float] = {}
    requests, seconds, per_second, non_2xx = 0, math.nan, math.nan, 0
    errors: dict[str, int] = {}
    for line in text.splitlines():
        if (match := WRK_LATENCY.match(line)) is not None:
            quantiles[match["q"]] = _ms(match["value"], match["unit"])
        elif (match := WRK_TOTAL.match(line)) is not None:
            requests, seconds = int(match["n"]), _ms(match["value"], match["unit"]) / 1e3
        elif line.startswith("Requests/sec:"):
            per_second = float(line.split()[1])
        elif "Non-2xx or 3xx responses:" in line:
            non_2xx = int(line.split()[-1])
        elif "Socket errors:" in line:
            errors = {kind: int(n) for kind, n in WRK_SOCKET.findall(line)}
    if code != 0 or math.isnan(per_second):
        print(f"wrk exited with {code}: {text[-2000:]}", flush=True)
    return WrkRun(
        url=url,
        connections=connections,
        threads=threads,
        requests=requests,
        seconds=seconds,
        per_second=per_second,
        p50_ms=quantiles.get("50", math.nan),
        p99_ms=quantiles.get("99", math.nan),
        non_2xx_3xx=non_2xx,
        socket_errors=errors,
        cpu_s=cpu_s,
        returncode=code,
    )


def _fmt(value: float, spec: str) -> str:
    return "?" if math.isnan(value) else format(value, spec)


SHUTDOWN_HEAD = (
    "| run | answered 200 to the daemons (whole run) | results stored (whole run) "
    "| lost at shutdown | SIGTERM to exit s | exit codes | results left unwritten "
    "| tracebacks | Error running job | warning lines | error lines |\n"
    "|---|---:|---:|---:|---:|---|---|---:|---:|---:|---:|"
)


def shutdown_row(label: str, answered_200: int, stopped: Stopped) -> str:
    logs = stopped.logs
    unwritten = [n for log in logs for n in log.unwritten]
    codes = "/".join("killed" if c is None else str(c) for c in stopped.exit_codes)
    return (
        f"| {label} | {answered_200:,} | {stopped.stored:,} | {answered_200 - stopped.stored:,} "
        f"| {stopped.seconds:.1f} | {codes} "
        f"| {f'{len(unwritten)} line(s), {sum(unwritten):,} results' if unwritten else 'none'} "
        f"| {sum(log.tracebacks for log in logs)} | {sum(log.job_errors for log in logs)} "
        f"| {sum(log.warnings for log in logs):,} | {sum(log.errors for log in logs):,} |"
    )


WRK_HEAD = (
    "| run | wrk URL | connections / threads | requests | req/s | latency p50 ms "
    "| latency p99 ms | non-2xx/3xx | socket errors | wrk CPU % of a core "
    "| probes done / scheduled | probe lag p99 ms |\n"
    "|---|---|---|---:|---:|---:|---:|---:|---|---:|---|---:|"
)


def wrk_row(
    label: str, wrk: WrkRun, window_s: float, done: int, scheduled: int, lag_p99_ms: float
) -> str:
    errors = ", ".join(f"{k} {n:,}" for k, n in wrk.socket_errors.items() if n) or "none"
    return (
        f"| {label} | {wrk.url} | {wrk.connections} / {wrk.threads} | {wrk.requests:,} "
        f"| {_fmt(wrk.per_second, ',.0f')} | {_fmt(wrk.p50_ms, '.1f')} "
        f"| {_fmt(wrk.p99_ms, '.1f')} | {wrk.non_2xx_3xx:,} | {errors} "
        f"| {100 * wrk.cpu_s / max(window_s, 1):.0f} | {done:,} / {scheduled:,} "
        f"| {_fmt(lag_p99_ms, '.1f')} |"
    )
