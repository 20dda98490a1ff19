"""uvicorn as a component of the daemon rather than its owner.

uvicorn normally installs its own SIGINT/SIGTERM handlers and re-raises the signal after shutdown;
the daemon needs to hear SIGTERM first (to stop probing and flush), so the server here leaves
signals alone and is stopped by the daemon.

Hostile clients are kept in check at the protocol level (`http_guard`): a request must arrive
within 10 s, a kept-alive connection may idle 5 s, and open connections are capped by the file
descriptor budget (`fd_budget`), so that idle clients never starve probing or /healthz.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Generator

import uvicorn
from starlette.types import ASGIApp

from upwatch.errors import UpwatchError
from upwatch.runtime.fd_budget import MAX_HTTP_CONNECTIONS, budget_at_start
from upwatch.runtime.http_guard import (
    KEEP_ALIVE_TIMEOUT,
    REQUEST_TIMEOUT,
    ConnectionGuard,
    guarded_protocol,
)
from upwatch.runtime.scheduler import PROBE_CONCURRENCY


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class HttpServer:
    """`max_connections=None` budgets the process's file descriptors at start (raising the soft
    limit, logging the split) and caps connections to the HTTP share."""

    def __init__(
        self,
        app: ASGIApp,
        host: str,
        port: int,
        *,
        max_connections: int | None = None,
        request_timeout: float = REQUEST_TIMEOUT,
        keep_alive: int = KEEP_ALIVE_TIMEOUT,
        sock: socket.socket | None = None,
    ) -> None:
        self.sock = sock  # a worker serves on its parent's socket instead of binding its own
        self.budgeted = max_connections is None
        self.guard = ConnectionGuard(max_connections or MAX_HTTP_CONNECTIONS, request_timeout)
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            http=guarded_protocol(self.guard),
            ws="none",
            log_config=None,
            access_log=False,
            lifespan="off",
            timeout_keep_alive=keep_alive,
            timeout_graceful_shutdown=3,
            server_header=False,
        )
        self.server = _QuietServer(config)
        self.task: asyncio.Task[None] | None = None

    async def start(self, seconds: float = 10.0) -> None:
        """Start listening; raise if the port cannot be bound."""
        if self.budgeted:  # here, not at construction: the daemon's logging is set up by now
            self.guard.cap = budget_at_start(PROBE_CONCURRENCY).http_connections
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
            await self.server.serve(sockets=None if self.sock is None else [self.sock])

    async def stop(self) -> None:
        self.server.should_exit = True
        if self.task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
