"""`upwatch run --workers N`: one command uses the whole machine.

The parent binds the HTTP port once and starts N worker processes, each a complete daemon (its own
event loop, prober, result writer and web server) on that one listening socket, so the kernel
spreads connections over them. They share the monitors as separate instances do: the 64 shards are
split through the database's locks (kernel locks beside an SQLite file, advisory locks on
PostgreSQL), so each monitor is still probed and judged by one process at a time.

The parent only relays signals (SIGTERM/SIGINT stop every worker, SIGHUP reloads every worker) and
watches: a worker that exits on its own (its watchdog, a crash) takes the others down with the
same exit code, so the platform's restart policy restarts the whole service rather than leaving
it running on part of its shards.
"""

from __future__ import annotations

import ctypes
import math
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from types import FrameType

import structlog

from upwatch.errors import UpwatchError, UsageError

log = structlog.get_logger("upwatch.workers")
LISTEN_FD = "UPWATCH_LISTEN_FD"  # set by the parent for its workers: the socket to serve on
SIBLINGS = "UPWATCH_WORKER_SIBLINGS"  # and how many workers it started
INDEX = "UPWATCH_WORKER_INDEX"  # and which one this is (0 speaks for the service)
MAX_WORKERS = 64
PR_SET_PDEATHSIG = 1  # prctl(2)
# Held back from a starting worker until its own handlers are in place (see `_die_with_parent`).
STOP_SIGNALS = frozenset({signal.SIGTERM, signal.SIGINT, signal.SIGHUP})
STOP_SECONDS = 15.0  # a worker stops within its own hard limit (8 s); this is the parent's


def worker_count(text: str | None) -> int:
    """`--workers` / `UPWATCH_WORKERS`: `auto` (the default) or a whole number."""
    if text is None or text.strip().lower() in ("", "auto"):
        return available_cpus()
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_WORKERS:
        raise UsageError(f"workers must be auto or a whole number from 1 to {MAX_WORKERS}")
    return int(text)


def available_cpus(cgroup: Path = Path("/sys/fs/cgroup")) -> int:
    """The CPUs this process may use: its affinity, capped by a cgroup CPU quota (a container
    limited to 2 CPUs on a 32-core host gets 2 workers, not 32)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    quota = cgroup_quota(cgroup)
    found = cpus or 1
    if quota is not None:
        found = min(found, max(1, math.floor(quota)))
    return max(1, found)


def cgroup_quota(root: Path) -> float | None:
    """CPUs allowed by the cgroup (v2 `cpu.max`, else v1 `cpu.cfs_quota_us`); None if unlimited."""
    try:
        quota, period = (root / "cpu.max").read_text().split()[:2]
    except (OSError, ValueError):
        try:
            quota = (root / "cpu" / "cpu.cfs_quota_us").read_text().strip()
            period = (root / "cpu" / "cpu.cfs_period_us").read_text().strip()
        except OSError:
            return None
    if quota in ("max", "-1") or not period.isdigit() or int(period) == 0:
        return None
    try:
        return int(quota) / int(period)
    except ValueError:
        return None


def listen_socket(environ: Mapping[str, str]) -> socket.socket | None:
    """The socket a worker serves on, handed down by its parent; None when run on its own."""
    text = environ.get(LISTEN_FD)
    if not text or not text.isdigit():
        return None
    return socket.socket(fileno=int(text))


def bind(host: str, port: int) -> socket.socket:
    try:
        sock = socket.create_server((host, port), backlog=2048)
    except OSError:
        raise UpwatchError(
            f"cannot listen on {host}:{port} (is the port in use? set PORT)"
        ) from None
    sock.set_inheritable(True)
    return sock


def _die_with_parent(parent: int) -> Callable[[], None]:
    """Run in each worker before it starts: a SIGKILLed parent (a test's kill, an OOM kill of
    the parent alone) must not leave workers holding the port and the shards. Linux sends the
    worker SIGTERM when its parent dies; elsewhere this does nothing.

    The stop and reload signals are blocked across the exec (a signal mask survives it) and the
    daemon unblocks them once its handlers are installed: a SIGTERM that reaches a worker still
    importing is then handled as a clean stop when it can be, not a death by signal that the
    parent would report as a failure."""

    def arrange() -> None:
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        except (OSError, AttributeError):
            return
        if os.getppid() != parent:  # the parent died before the request was in place
            os._exit(1)

    return arrange


class Supervisor:
    """Starts the workers, relays signals to them, and ends with them."""

    def __init__(self, config: str, host: str, port: int, count: int) -> None:
        self.config = config
        self.sock = bind(host, port)
        self.count = count
        self.workers: list[subprocess.Popen[bytes]] = []
        self.stopping = False

    def run(self) -> int:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, self._relay)
        base = {
            **os.environ,
            LISTEN_FD: str(self.sock.fileno()),
            SIBLINGS: str(self.count),
            "UPWATCH_WORKERS": "1",
        }
        command = [sys.executable, "-m", "upwatch", "run", "-c", self.config]
        fds, arrange = (self.sock.fileno(),), _die_with_parent(os.getpid())
        # Our own interpreter and module (no outside input), from a parent with no threads (so
        # preexec_fn is safe here).
        for index in range(self.count):
            env = {**base, INDEX: str(index)}
            worker = subprocess.Popen(  # noqa: S603
                command,
                env=env,
                pass_fds=fds,
                preexec_fn=arrange,  # noqa: PLW1509
            )
            self.workers.append(worker)
        log.info("workers started", workers=self.count, pids=[w.pid for w in self.workers])
        self.sock.close()  # the workers hold it now
        return self._watch()

    def _relay(self, signum: int, _frame: FrameType | None) -> None:
        if signum != signal.SIGHUP:
            self.stopping = True
        for worker in self.workers:
            if worker.poll() is None:
                worker.send_signal(signum)

    def _watch(self) -> int:
        """Wait for the first worker to end; if it ended on its own, stop the others."""
        while True:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                return 0
            except InterruptedError:  # pragma: no cover - PEP 475 retries os.wait itself
                continue
            code = os.waitstatus_to_exitcode(status)
            ended = next((w for w in self.workers if w.pid == pid), None)
            if ended is None:
                continue
            ended.returncode = code
            if not self.stopping:
                log.error("a worker exited: stopping the others", pid=pid, exit_code=code)
                self.stopping = True
                self._relay(signal.SIGTERM, None)
            return self._finish(code)

    def _finish(self, first: int) -> int:
        codes = [first]
        for worker in self.workers:
            if worker.returncode is not None:
                continue
            try:
                codes.append(worker.wait(timeout=STOP_SECONDS))
            except subprocess.TimeoutExpired:
                worker.kill()
                codes.append(worker.wait())
        failed = [c for c in codes if c != 0]
        return (failed[0] if failed[0] > 0 else 1) if failed else 0
