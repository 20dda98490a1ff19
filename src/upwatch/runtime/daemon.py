"""`upwatch run`: the process around the monitoring service (DESIGN §9).

Order matters for Railway: the HTTP server starts first, so the health check gets a 503 rather
than a refused connection; then the database is migrated, the config reconciled and probing
starts, and /healthz turns 200. SIGTERM/SIGINT stop probing, flush and exit 0; SIGHUP reloads
the config (an invalid one is logged and the running one kept); a scheduler that stops ticking
for 120 s makes the process exit 1 so the restart policy brings it back.
"""

from __future__ import annotations

import asyncio
import signal
from datetime import UTC, datetime

import structlog
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from upwatch.config.loader import LoadedConfig, load_config
from upwatch.errors import UpwatchError
from upwatch.runtime.health import Health
from upwatch.runtime.heartbeat_ping import ping_forever
from upwatch.runtime.logs import configure_logging
from upwatch.runtime.server import HttpServer
from upwatch.runtime.service import MonitoringService
from upwatch.runtime.settings import Settings
from upwatch.store.database import create_engine, safe_url
from upwatch.store.migrate import migrate
from upwatch.web.app import create_app
from upwatch.web.context import AppContext

log = structlog.get_logger("upwatch")
DB_START_ATTEMPTS = 30  # about a minute of retries before giving up at start


def utcnow() -> datetime:
    return datetime.now(UTC)


class Daemon:
    def __init__(self, loaded: LoadedConfig, settings: Settings) -> None:
        self.loaded = loaded
        self.settings = settings
        self.health = Health(config_loaded=True)
        self.ctx = AppContext(settings, self.health, loaded, clock=utcnow)
        self.http = HttpServer(create_app(self.ctx), settings.host, settings.port)
        self.stop = asyncio.Event()
        self.reload = asyncio.Event()
        self.exit_code = 0
        self.service: MonitoringService | None = None

    def _signals(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop.set)
        loop.add_signal_handler(signal.SIGHUP, self.reload.set)

    async def run(self) -> int:
        self._signals()
        await self.http.start()
        log.info("listening", host=self.settings.host, port=self.settings.port)
        engine = create_engine(self.settings.database_url)
        try:
            if await self._open_database(engine):
                await self._serve(engine)
        finally:
            await self.http.stop()
            await engine.dispose()
        log.info("stopped", exit_code=self.exit_code)
        return self.exit_code

    async def _open_database(self, engine: AsyncEngine) -> bool:
        for attempt in range(1, DB_START_ATTEMPTS + 1):
            try:
                await migrate(engine)
            except (OSError, SQLAlchemyError) as exc:
                log.error(
                    "database unreachable at start",
                    url=safe_url(self.settings.database_url),
                    error=type(exc).__name__,
                    attempt=attempt,
                )
                if await self._wait_or_stop(2.0):
                    return False
                continue
            self.health.migrated = True
            self.ctx.engine = engine
            return True
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
            engine, self.loaded, instance=self.settings.instance, health=self.health, clock=utcnow
        )
        self.service = service
        await service.start()
        self.ctx.checkins = service
        tasks = [
            asyncio.create_task(self._watchdog()),
            asyncio.create_task(self._reloads(service)),
        ]
        if self.settings.heartbeat_url:
            tasks.append(
                asyncio.create_task(ping_forever(self.settings.heartbeat_url, self.health))
            )
        await self.stop.wait()
        log.info("stopping: finishing probes and writing results")
        self.health.stopping = True
        for task in tasks:
            task.cancel()
        await service.stop(grace=3.0)

    async def _watchdog(self) -> None:
        while True:
            await asyncio.sleep(5)
            if self.health.stalled():
                log.error("scheduler stalled for 120 s: exiting so the service is restarted")
                self.exit_code = 1
                self.stop.set()
                return

    async def _reloads(self, service: MonitoringService) -> None:
        while True:
            await self.reload.wait()
            self.reload.clear()
            await self._reload(service)

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
        log.info("config reloaded", monitors=len(loaded.config.monitors))


async def run_daemon(loaded: LoadedConfig, settings: Settings) -> int:
    configure_logging(
        settings.log_level, settings.log_format, {*loaded.secrets, *settings.secrets()}
    )
    return await Daemon(loaded, settings).run()
