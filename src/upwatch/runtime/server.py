"""uvicorn as a component of the daemon rather than its owner.

uvicorn normally installs its own SIGINT/SIGTERM handlers and re-raises the signal after shutdown;
the daemon needs to hear SIGTERM first (to stop probing and flush), so the server here leaves
signals alone and is stopped by the daemon.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Generator

import uvicorn
from starlette.types import ASGIApp

from upwatch.errors import UpwatchError


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class HttpServer:
    def __init__(self, app: ASGIApp, host: str, port: int) -> None:
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_config=None,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=3,
            server_header=False,
        )
        self.server = _QuietServer(config)
        self.task: asyncio.Task[None] | None = None

    async def start(self, seconds: float = 10.0) -> None:
        """Start listening; raise if the port cannot be bound."""
        self.task = asyncio.create_task(self._serve())
        async with asyncio.timeout(seconds):
            while not self.server.started:
                if self.task.done():
                    break
                await asyncio.sleep(0.02)
        if not self.server.started:
            host, port = self.server.config.host, self.server.config.port
            raise UpwatchError(f"cannot listen on {host}:{port} (is the port in use? set PORT)")

    async def _serve(self) -> None:
        # uvicorn calls sys.exit(1) when it cannot bind; turn that into our own clear error.
        with contextlib.suppress(SystemExit):
            await self.server.serve()

    async def stop(self) -> None:
        self.server.should_exit = True
        if self.task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
