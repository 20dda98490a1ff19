"""`upwatch run`: the process around the monitoring service (for operators: docs/operating.md).

Order matters for Railway: the HTTP server starts first, so the health check gets a 503 rather
than a refused connection; then the database is migrated, the config reconciled and probing
starts, and /healthz turns 200. SIGTERM/SIGINT stop probing, flush and exit 0; SIGHUP reloads
the config (an invalid one is logged and the running one kept); a scheduler that stops ticking
for 120 s makes the process exit 1 so the restart policy brings it back.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from upwatch.config.loader import LoadedConfig, load_config
from upwatch.errors import UpwatchError
from upwatch.notify.worker import daemon_worker
from upwatch.runtime.database_errors import describe_database_error
from upwatch.runtime.health import Health
from upwatch.runtime.heartbeat_ping import ping_forever
from upwatch.runtime.logs import configure_logging
from upwatch.runtime.railway import warn_if_history_is_lost_on_redeploy
from upwatch.runtime.server import HttpServer
from upwatch.runtime.service import MonitoringService
from upwatch.runtime.settings import Settings
from upwatch.runtime.workers import STOP_SIGNALS, listen_socket
from upwatch.store.database import create_engine, safe_url
from upwatch.store.migrate import migrate
from upwatch.web.app import create_app
from upwatch.web.context import AppContext

log = structlog.get_logger("upwatch")
DB_START_ATTEMPTS = 30  # about a minute of retries before giving up at start
# A database that stops answering (a network partition, a failover) must not hang the daemon: a
# connect gives up after CONNECT_TIMEOUT and a statement while serving after COMMAND_TIMEOUT, and
# the pipeline buffers until the database is back. Migrations have no statement limit.
CONNECT_TIMEOUT = 10.0
COMMAND_TIMEOUT = 60.0
# SIGTERM gets a clean stop within a few seconds; if something still hangs (a flush to a database
# that does not answer), the process exits anyway: all state is in the database, and an immediate
# SIGKILL is safe too. Below Docker's and Kubernetes' default stop timeouts.
HARD_EXIT_SECONDS = 8.0
RELOAD_FINISH_SECONDS = 3.0  # within the hard exit, with room for the rest of the shutdown


def utcnow() -> datetime:
    return datetime.now(UTC)


def engine_options(url: URL, *, serving: bool) -> dict[str, Any]:
    """Timeouts for PostgreSQL (asyncpg's own defaults wait forever on a silent server)."""
    if url.get_backend_name() != "postgresql":
        return {}
    connect_args: dict[str, float] = {"timeout": CONNECT_TIMEOUT}
    if serving:
        connect_args["command_timeout"] = COMMAND_TIMEOUT
    return {"connect_args": connect_args}


class Daemon:
    def __init__(self, loaded: LoadedConfig, settings: Settings) -> None:
        self.loaded = loaded
        self.settings = settings
        self.health = Health(config_loaded=True)
        self.ctx = AppContext(settings, self.health, loaded, clock=utcnow)
        sock = listen_socket(os.environ)  # a worker of `run --workers N`: the parent's socket
        self.http = HttpServer(create_app(self.ctx), settings.host, settings.port, sock=sock)
        self.stop = asyncio.Event()
        self.reload = asyncio.Event()
        # Clear while a reload runs: shutdown waits for it rather than cancel it halfway through
        # its transaction (on SQLite a write cut short there kept the lock from everyone else).
        self.reload_idle = asyncio.Event()
        self.reload_idle.set()
        self.exit_code = 0
        self.service: MonitoringService | None = None
        self.secrets: set[str] = {*loaded.secrets, *settings.secrets()}

    def configure_logging(self) -> None:
        s = self.settings
        configure_logging(s.log_level, s.log_format, self.secrets)

    def _signals(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._request_stop)
        loop.add_signal_handler(signal.SIGHUP, self.reload.set)
        # A worker of `run --workers N` starts with these blocked; any that arrived while it
        # started are delivered to the handlers now.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)

    def _request_stop(self) -> None:
        if self.stop.is_set():
            return
        self.stop.set()
        # A thread, not a task: it fires even if the event loop is stuck.
        timer = threading.Timer(HARD_EXIT_SECONDS, self._hard_exit)
        timer.daemon = True
        timer.start()

    def _hard_exit(self) -> None:
        log.error(
            "shutdown did not finish in time (is the database answering?): exiting now",
            seconds=HARD_EXIT_SECONDS,
        )
        os._exit(1)

    async def run(self) -> int:
        self._signals()
        await self.http.start()
        log.info("listening", host=self.settings.host, port=self.settings.port)
        url = self.settings.database_url
        engine = create_engine(url, **engine_options(url, serving=True))
        try:
            if await self._open_database(engine):
                await self._serve(engine)
        finally:
            await self.http.stop()
            await _dispose(engine)
        log.info("stopped", exit_code=self.exit_code)
        return self.exit_code

    async def _open_database(self, engine: AsyncEngine) -> bool:
        url = self.settings.database_url
        migrating = create_engine(url, **engine_options(url, serving=False))
        try:
            return await self._migrate(migrating, engine)
        finally:
            await _dispose(migrating)

    async def _migrate(self, migrating: AsyncEngine, engine: AsyncEngine) -> bool:
        for attempt in range(1, DB_START_ATTEMPTS + 1):
            try:
                await migrate(migrating)
            except (OSError, SQLAlchemyError) as exc:
                log.error(
                    "database unreachable at start",
                    url=safe_url(self.settings.database_url),
                    error=type(exc).__name__,
                    reason=describe_database_error(exc),
                    attempt=attempt,
                )
                if await self._wait_or_stop(2.0):
                    return False
                continue
            self.health.migrated = True
            self.ctx.engine = engine
            return True
        log.error("giving up: the database stayed unreachable", attempts=DB_START_ATTEMPTS)
        self.exit_code = 1
        return False

    async def _wait_or_stop(self, seconds: float) -> bool:
        try:
            async with asyncio.timeout(seconds):
                await self.stop.wait()
        except TimeoutError:
            return False
        return True

    async def _serve(self, engine: AsyncEngine) -> None:
        service = MonitoringService(
            engine,
            self.loaded,
            instance=self.settings.instance,
            health=self.health,
            clock=utcnow,
            siblings=self.settings.siblings,
            region=self.settings.region,
            source_address=self.settings.source_address,
        )
        self.service = service
        await service.start()
        self.ctx.checkins = service
        self.ctx.pipeline = service.pipeline  # buffer and database gauges in /metrics
        self.ctx.probing = service  # shards and schedule load in /metrics
        self.ctx.live_regions = service.live_regions
        self.ctx.state_version = lambda: service.evaluator.version  # pages follow state changes
        await self._start_notifier(engine)
        tasks = [
            asyncio.create_task(self._watchdog()),
            asyncio.create_task(self._watch_writer(service)),
            asyncio.create_task(self._reloads(service)),
            asyncio.create_task(self._follow_generation(engine, service)),
        ]
        if self.settings.heartbeat_url:
            tasks.append(
                asyncio.create_task(ping_forever(self.settings.heartbeat_url, self.health))
            )
        await self.stop.wait()
        log.info("stopping: finishing probes and writing results")
        self.health.stopping = True
        await self._reload_done(RELOAD_FINISH_SECONDS)
        for task in tasks:
            task.cancel()
        # Side by side, so a database that does not answer costs its timeout once, not thrice;
        # all before the engine is disposed. Unsent outbox rows wait in the database.
        await asyncio.gather(
            service.stop(grace=3.0), self._stop_notifier(grace=2.0), self.http.stop()
        )

    async def _start_notifier(self, engine: AsyncEngine) -> None:
        notifier = daemon_worker(engine, lambda: self.loaded, self.settings)  # sends the outbox
        await notifier.start()
        self.ctx.notifier = notifier

    async def _stop_notifier(self, grace: float) -> None:
        notifier, self.ctx.notifier = self.ctx.notifier, None
        if notifier is not None:
            await _within(grace + 1.0, notifier.stop(grace=grace), "notification worker")

    async def _follow_generation(self, engine: AsyncEngine, service: MonitoringService) -> None:
        """A stepped-down instance sends nothing: the newest generation's workers deliver the
        outbox with the newest channels. A reload that makes it the newest again resumes."""
        while True:
            await asyncio.sleep(1.0)
            if service.serving_only and self.ctx.notifier is not None:
                log.warning("a newer config generation is running: no longer sending messages")
                await self._stop_notifier(grace=2.0)
            elif not service.serving_only and self.ctx.notifier is None:
                await self._start_notifier(engine)

    async def _watchdog(self) -> None:
        while True:
            await asyncio.sleep(5)
            if self.health.stalled():
                log.error("scheduler stalled for 120 s: exiting so the service is restarted")
                self.exit_code = 1
                self._request_stop()
                return

    async def _watch_writer(self, service: MonitoringService) -> None:
        """A result writer that died of a bug would leave a healthy-looking daemon that records
        nothing: exit 1 instead, so the restart policy brings it back."""
        writer = service.flusher
        if writer is None:
            return
        await asyncio.wait({writer})
        if self.stop.is_set() or writer.cancelled() or writer.exception() is None:
            return
        log.error(
            "result writer crashed: exiting so the service is restarted",
            exc_info=writer.exception(),
        )
        self.exit_code = 1
        self._request_stop()

    async def _reloads(self, service: MonitoringService) -> None:
        while True:
            await self.reload.wait()
            if self.stop.is_set():
                return  # a reload asked for while stopping: the next start reads the file
            self.reload.clear()
            self.reload_idle.clear()
            try:
                await self._reload(service)
            except Exception:  # a bug must not end reloading (or the daemon) silently
                log.exception("config reload failed")
            finally:
                self.reload_idle.set()

    async def _reload_done(self, seconds: float) -> None:
        """Let a reload under way finish (it is cancelled after `seconds`: a silent database)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self.reload_idle.wait()

    async def _reload(self, service: MonitoringService) -> None:
        try:
            loaded = load_config(self.loaded.path)
        except UpwatchError as exc:
            for line in str(exc).splitlines():
                log.error("config reload rejected; keeping the running config", problem=line)
            return
        try:
            await service.reload(loaded)
        except (OSError, SQLAlchemyError) as exc:
            log.error("config reload failed: database unreachable", error=type(exc).__name__)
            return
        self.loaded = loaded
        self.ctx.loaded = loaded
        if not loaded.secrets <= self.secrets:  # a new ${VAR}: scrub it from the logs too
            self.secrets |= loaded.secrets
            self.configure_logging()
        log.info("config reloaded", monitors=len(loaded.config.monitors))


async def _within(seconds: float, stopping: Awaitable[None], what: str) -> None:
    """Await `stopping`, cancelling it after `seconds` (it may wait on a silent database)."""
    try:
        async with asyncio.timeout(seconds):
            await stopping
    except TimeoutError:
        log.warning("shutdown: gave up waiting", part=what, seconds=seconds)


async def _dispose(engine: AsyncEngine) -> None:
    # Closing a connection politely waits for the server; one that does not answer is dropped.
    try:
        async with asyncio.timeout(1.5):
            await engine.dispose()
    except TimeoutError:
        await engine.dispose(close=False)


async def run_daemon(loaded: LoadedConfig, settings: Settings) -> int:
    daemon = Daemon(loaded, settings)
    daemon.configure_logging()
    if settings.worker_index == 0:  # about the service: said once, not by every worker
        warn_if_history_is_lost_on_redeploy(settings)
    try:
        return await daemon.run()
    except UpwatchError:
        raise  # a known failure: the command prints it as one line
    except Exception:
        # A bug: the command prints one line; the log keeps the traceback (scrubbed) to fix it.
        log.exception("crashed")
        raise
