"""A harness for tests that drive the real `upwatch run` process.

- `Target`: an HTTP server on 127.0.0.1 whose answer per path can be flipped (200, 503, ...).
- `TcpProxy`: a TCP forwarder to PostgreSQL that can drop its listener and every connection,
  to make the database disappear and come back.
- `Daemon`: `upwatch run` as a subprocess with its own config, port and log files.
- `Database`: reads the daemon's database directly (SQLAlchemy, on both backends).
- `wait_for`: polling with a deadline. These tests never sleep a fixed time: they wait for what
  they expect, with deadlines generous enough for a loaded 2-core CI machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy import Row, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from tests.probe_servers import LoopThread
from upwatch.store.database import database_url
from upwatch.store.tables import INCIDENTS, MONITORS, OUTBOX, RESULTS, STATES

T = TypeVar("T")
DEADLINE = 25.0  # seconds: steady on a loaded CI machine, still fails in reasonable time
UPWATCH = Path(sys.executable).with_name("upwatch")
# Environment that would change what the daemon does; each test sets what it needs.
_INHERITED_OUT = ("DATABASE_URL", "PORT", "HOST", "LOG_", "UPWATCH_", "RAILWAY_")


def now() -> datetime:
    return datetime.now(UTC)


def wait_for(
    predicate: Callable[[], T],
    what: str,
    *,
    deadline: float = DEADLINE,
    every: float = 0.1,
) -> T:
    """Call `predicate` until it returns something truthy (and return that); fail at `deadline`."""
    end = time.monotonic() + deadline
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() > end:
            pytest.fail(f"timed out after {deadline:.0f}s waiting for {what} (last: {last!r})")
        time.sleep(every)


def free_port() -> int:
    """A TCP port nothing listens on right now (the OS's choice, so tests don't collide)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# ---- the monitored target ---------------------------------------------------------------------


@dataclass
class Target:
    """An HTTP server on 127.0.0.1: each path answers `statuses[path]` (default 200) and its
    requests are recorded in `hits`."""

    statuses: dict[str, int] = field(default_factory=dict)
    hits: dict[str, list[datetime]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        target = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status = target.answer(self.path)
                body = b"ok\n" if status < 400 else b"unavailable\n"
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: pytest shows the daemon's logs instead

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, path: str) -> int:
        with self.lock:
            self.hits.setdefault(path, []).append(now())
            return self.statuses.get(path, 200)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def set(self, path: str, status: int) -> None:
        with self.lock:
            self.statuses[path] = status

    def hits_of(self, path: str) -> list[datetime]:
        with self.lock:
            return list(self.hits.get(path, []))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# ---- a database that can disappear --------------------------------------------------------------


class TcpProxy:
    """Forwards 127.0.0.1:`port` to `upstream`; `cut()` drops the listener and all connections."""

    def __init__(self, upstream: tuple[str, int] = ("127.0.0.1", 5432)) -> None:
        self.upstream = upstream
        self.port = free_port()
        self.thread = LoopThread()
        self.server: asyncio.Server | None = None
        self.links: set[asyncio.StreamWriter] = set()
        self.stalled = False

    def open(self) -> None:
        async def listen() -> None:
            self.stalled = False
            self.server = await asyncio.start_server(self._link, "127.0.0.1", self.port)

        self.thread.run(listen())

    def cut(self) -> None:
        """Stop listening and reset every open connection: the database is gone."""

        async def drop() -> None:
            if self.server is not None:
                self.server.close()
                self.server = None
            for writer in list(self.links):
                writer.transport.abort()
            self.links.clear()

        self.thread.run(drop())

    def stall(self) -> None:
        """From now on drop every byte, on open connections and new ones: the database neither
        answers nor refuses, as in a network partition. `cut()` then `open()` to end it."""

        async def stall() -> None:
            self.stalled = True

        self.thread.run(stall())

    def close(self) -> None:
        self.cut()
        self.thread.stop()

    async def _link(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.stalled:
            self.links.add(writer)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.transport.abort()
            return
        self.links.update((writer, up_writer))
        await asyncio.gather(
            self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                if self.stalled:
                    continue  # lost on the way
                writer.write(data)
                await writer.drain()
        finally:
            self.links.discard(writer)
            writer.transport.abort()


# ---- the daemon's database ----------------------------------------------------------------------


class Database:
    """Direct reads of the daemon's database; no pool, so nothing stays open between reads."""

    def __init__(self, url: str) -> None:
        self.thread = LoopThread()
        address = database_url({"DATABASE_URL": url})
        sqlite = address.get_backend_name() == "sqlite"
        self.engine: AsyncEngine = create_async_engine(
            address, poolclass=NullPool, connect_args={"timeout": 10} if sqlite else {}
        )

    def close(self) -> None:
        self.thread.run(self.engine.dispose())
        self.thread.stop()

    def rows(self, query: Any) -> list[Row[Any]]:
        async def fetch() -> list[Row[Any]]:
            async with self.engine.connect() as connection:
                return list(await connection.execute(query))

        return self.thread.run(fetch())

    def execute(self, statement: Any) -> None:
        async def run() -> None:
            async with self.engine.begin() as connection:
                await connection.execute(statement)

        self.thread.run(run())

    def attempt_deliveries(self, incident_id: int) -> None:
        """Record a failed attempt at every pending row of the incident, as a send to the hook's
        closed port would: the hook counts as told whether or not a worker got to it yet."""
        statement = (
            update(OUTBOX)
            .where(
                OUTBOX.c.incident_id == incident_id,
                OUTBOX.c.delivered_at.is_(None),
                OUTBOX.c.cancelled_at.is_(None),
            )
            .values(attempts=OUTBOX.c.attempts + 1, last_error="connection refused")
        )
        self.execute(statement)

    def results(self, monitor_id: str) -> list[Row[Any]]:
        where = RESULTS.c.monitor_id == monitor_id
        return self.rows(select(RESULTS).where(where).order_by(RESULTS.c.checked_at))

    def incidents(self, monitor_id: str) -> list[Row[Any]]:
        where = INCIDENTS.c.monitor_id == monitor_id
        return self.rows(select(INCIDENTS).where(where).order_by(INCIDENTS.c.id))

    def state(self, monitor_id: str) -> Row[Any]:
        return self.rows(select(STATES).where(STATES.c.monitor_id == monitor_id))[0]

    def monitor(self, monitor_id: str) -> Row[Any]:
        return self.rows(select(MONITORS).where(MONITORS.c.id == monitor_id))[0]

    def outbox_counts(self, incident_id: int) -> dict[tuple[str, str], int]:
        """Outbox rows of one incident, counted by (event, channel)."""
        query = (
            select(OUTBOX.c.event, OUTBOX.c.channel, func.count())
            .where(OUTBOX.c.incident_id == incident_id)
            .group_by(OUTBOX.c.event, OUTBOX.c.channel)
        )
        return {(event, channel): count for event, channel, count in self.rows(query)}


# ---- the daemon ---------------------------------------------------------------------------------


def daemon_config(monitors: str, *, hook_port: int, extra: str = "") -> str:
    """A config on a fast clock: 1 s probes, 500 ms timeout, confirmed after 2 failures.

    The escalation's webhook points at a closed port, so incidents enqueue outbox rows that can
    never be delivered (nobody is told anything, but the rows are there to count).
    """
    head = f"""\
        version: 1
        defaults:
          interval: 1s
          timeout: 500ms
          failure_threshold: 2
          recovery_threshold: 1
          retry_interval: 1s
          escalation: default
        channels:
          hook: {{type: webhook, url: "http://127.0.0.1:{hook_port}/hook"}}
        escalations:
          default:
            - {{after: 0s, notify: [hook]}}
        """
    body = textwrap.dedent(head) + textwrap.dedent(extra)
    return body + "monitors:\n" + textwrap.indent(textwrap.dedent(monitors), "  ")


class Daemon:
    """`upwatch run -c <config>` in a subprocess, logging JSON lines to files."""

    def __init__(self, directory: Path, db_url: str, env: dict[str, str] | None = None) -> None:
        self.directory = directory
        self.config = directory / "monitors.yaml"
        self.port = free_port()
        self.env = clean_env() | {
            "DATABASE_URL": db_url,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "debug",  # the most output there is, for the secrets tests to search
            "UPWATCH_WORKERS": "1",  # one process, whose log a test reads (tests of workers ask)
        }
        self.env.update(env or {})
        self.process: subprocess.Popen[bytes] | None = None
        self.runs = 0
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=5.0)

    # -- process --

    def write_config(self, text: str) -> None:
        self.config.write_text(text, encoding="utf-8")

    def start(self, wrapper: Sequence[str] = ()) -> Daemon:
        """Start `upwatch run`, through `wrapper` if given (a command that sets something up,
        such as a lower limit, then execs the rest of its arguments)."""
        assert self.process is None or self.process.poll() is not None, "already running"
        self.runs += 1
        stdout = (self.directory / f"stdout.{self.runs}.log").open("wb")
        stderr = (self.directory / f"stderr.{self.runs}.log").open("wb")
        with stdout, stderr:
            self.process = subprocess.Popen(
                [*wrapper, str(UPWATCH), "run", "-c", str(self.config)],
                env=self.env,
                cwd=self.directory,
                stdout=stdout,
                stderr=stderr,
                stdin=subprocess.DEVNULL,
            )
        return self

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def send(self, sig: signal.Signals) -> None:
        assert self.process is not None
        self.process.send_signal(sig)

    def wait_exit(self, deadline: float = DEADLINE) -> int:
        assert self.process is not None
        try:
            return self.process.wait(timeout=deadline)
        except subprocess.TimeoutExpired:
            pytest.fail(f"upwatch did not exit within {deadline:.0f}s\n{self.tail()}")

    def kill(self) -> None:
        """SIGKILL: no chance to flush or clean up, like an OOM kill or Railway's hard stop."""
        if self.running:
            self.send(signal.SIGKILL)
            self.wait_exit()

    @contextlib.contextmanager
    def frozen(self) -> Iterator[None]:
        """SIGSTOP for the block: the database holds still while a test reads several tables."""
        self.send(signal.SIGSTOP)
        try:
            yield
        finally:
            self.send(signal.SIGCONT)

    def stop(self, sig: signal.Signals = signal.SIGTERM, deadline: float = DEADLINE) -> int:
        self.send(sig)
        return self.wait_exit(deadline)

    def close(self) -> None:
        self.kill()
        self.http.close()

    # -- logs --

    def output(self) -> str:
        """Everything every run printed, stdout and stderr."""
        parts = [
            path.read_text(encoding="utf-8", errors="replace")
            for run in range(1, self.runs + 1)
            for path in (self.directory / f"stdout.{run}.log", self.directory / f"stderr.{run}.log")
        ]
        return "".join(parts)

    def events(self) -> list[dict[str, Any]]:
        """The JSON log lines of every run, parsed (a line that is not JSON fails the test)."""
        found = []
        for run in range(1, self.runs + 1):
            text = (self.directory / f"stdout.{run}.log").read_text(encoding="utf-8")
            found.extend(json.loads(line) for line in text.splitlines() if line.strip())
        return found

    def logged(self, event: str) -> list[dict[str, Any]]:
        return [e for e in self.events() if e.get("event") == event]

    def held_shards(self, space: str = "shards") -> set[int]:
        """The shards this daemon (all its workers) holds now, from its own log: the global
        ones, or with `space="region shards"` those of its region's space."""
        shards: set[int] = set()
        for event in self.events():
            if event.get("event") == f"{space} taken":
                shards |= set(event["shards"])
            elif event.get("event") == f"{space} released":
                shards -= set(event["shards"])
        return shards

    def took_at(self, shard: int, space: str = "shards") -> datetime:
        """When this daemon last took `shard`, from its own log."""
        times = [
            datetime.fromisoformat(e["timestamp"])
            for e in self.logged(f"{space} taken")
            if shard in e["shards"]
        ]
        return times[-1]

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.output().splitlines()[-lines:])

    # -- HTTP --

    def get(self, path: str) -> httpx.Response:
        return self.http.get(path)

    def api(self, path: str) -> Any:
        response = self.get(path)
        assert response.status_code == 200, (path, response.status_code, response.text)
        return response.json()

    def healthz(self) -> int | None:
        """The /healthz status, or None while nothing listens."""
        try:
            return self.get("/healthz").status_code
        except httpx.TransportError:
            return None

    def wait_healthy(self, deadline: float = DEADLINE) -> None:
        def healthy() -> bool:
            if not self.running:
                pytest.fail(
                    f"upwatch exited with {self.process and self.process.poll()}\n{self.tail()}"
                )
            return self.healthz() == 200

        wait_for(healthy, "/healthz to answer 200", deadline=deadline)

    def incident(self, monitor_id: str) -> dict[str, Any] | None:
        """The newest incident of a monitor as /api/v1/incidents shows it."""
        incidents = self.api("/api/v1/incidents")["incidents"]
        return next((i for i in incidents if i["monitor_id"] == monitor_id), None)

    # -- other commands, against the same database --

    def command(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(UPWATCH), *args],
            env=self.env,
            cwd=self.directory,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(_INHERITED_OUT)}


# ---- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def target() -> Iterator[Target]:
    server = Target()
    yield server
    server.close()


@pytest.fixture
def daemons(tmp_path: Path) -> Iterator[Callable[..., Daemon]]:
    """A factory of daemons; each is killed at the end, its logs printed (shown on failure)."""
    made: list[Daemon] = []

    def make(db_url: str, env: dict[str, str] | None = None, name: str = "daemon") -> Daemon:
        directory = tmp_path / name
        directory.mkdir()
        daemon = Daemon(directory, db_url, env)
        made.append(daemon)
        return daemon

    yield make
    for daemon in made:
        daemon.close()
        print(f"---- {daemon.directory.name}: last log lines ----\n{daemon.tail()}")


@pytest.fixture
def database() -> Iterator[Callable[[str], Database]]:
    opened: list[Database] = []

    def open_(url: str) -> Database:
        opened.append(Database(url))
        return opened[-1]

    yield open_
    for db in opened:
        db.close()


@pytest.fixture
def pg_proxy() -> Iterator[TcpProxy]:
    proxy = TcpProxy()
    yield proxy
    proxy.close()


def gaps(times: Sequence[datetime]) -> list[float]:
    """Seconds between consecutive times."""
    return [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
