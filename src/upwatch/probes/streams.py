"""httpcore's network backend on plain asyncio transports: the probe's hot path.

httpcore's own AnyIOBackend spends a task group, a cancel scope and a happy-eyeballs task on each
connection (≈0.3 ms of CPU per probe, a third of a bare probe). A probe opens one connection to
one already-resolved address (ResolvingBackend walks the addresses), so a transport and a small
protocol with a byte buffer are all it needs. Reading pauses the transport when the buffer holds
more than READ_AHEAD bytes, so an endless body never piles up in memory.
"""

from __future__ import annotations

import asyncio
import select
import ssl
from collections.abc import Iterable
from typing import Any, NoReturn, cast

import httpcore

READ_AHEAD = 256 * 1024


class _Connection(asyncio.Protocol):
    """Bytes received, end of stream, the error that ended it; one waiting reader at a time."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.eof = False
        self.error: BaseException | None = None
        self.transport: asyncio.Transport | None = None
        self.reading_paused = False
        self._readable: asyncio.Future[None] | None = None
        self._writable: asyncio.Future[None] | None = None
        self.writing_paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) > READ_AHEAD and self.transport is not None:
            self.transport.pause_reading()
            self.reading_paused = True
        _wake(self._readable)

    def eof_received(self) -> bool:
        self.eof = True
        _wake(self._readable)
        return False  # close the transport: a probe never writes after the server's EOF

    def connection_lost(self, exc: BaseException | None) -> None:
        self.eof = True
        self.error = exc
        _wake(self._readable)
        _wake(self._writable)

    def pause_writing(self) -> None:
        self.writing_paused = True

    def resume_writing(self) -> None:
        self.writing_paused = False
        _wake(self._writable)

    def take(self, max_bytes: int) -> bytes:
        data = bytes(self.buffer[:max_bytes])
        del self.buffer[:max_bytes]
        if self.reading_paused and len(self.buffer) <= READ_AHEAD // 2 and self.transport:
            self.transport.resume_reading()
            self.reading_paused = False
        return data

    async def readable(self) -> None:
        self._readable = asyncio.get_running_loop().create_future()
        try:
            await self._readable
        finally:
            self._readable = None

    async def writable(self) -> None:
        self._writable = asyncio.get_running_loop().create_future()
        try:
            await self._writable
        finally:
            self._writable = None


def _wake(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)


class AsyncioStream(httpcore.AsyncNetworkStream):
    def __init__(self, transport: asyncio.Transport, connection: _Connection) -> None:
        self._transport = transport
        self._connection = connection

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109 (httpcore's interface)
        connection = self._connection
        while not connection.buffer:
            if connection.error is not None:
                _raise_from(connection.error, httpcore.ReadError)
            if connection.eof:
                return b""
            try:
                async with asyncio.timeout(timeout):
                    await connection.readable()
            except TimeoutError as exc:
                raise httpcore.ReadTimeout("timed out reading the response") from exc
        return connection.take(max_bytes)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # noqa: ASYNC109 (httpcore's interface)
        if not buffer:
            return
        connection = self._connection
        if connection.error is not None:
            _raise_from(connection.error, httpcore.WriteError)
        if self._transport.is_closing():
            raise httpcore.WriteError("the connection is closed")
        self._transport.write(buffer)
        if connection.writing_paused:
            try:
                async with asyncio.timeout(timeout):
                    await connection.writable()
            except TimeoutError as exc:
                raise httpcore.WriteTimeout("timed out sending the request") from exc

    async def aclose(self) -> None:
        self._transport.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport = await loop.start_tls(
                    self._transport, self._connection, ssl_context, server_hostname=server_hostname
                )
        except TimeoutError as exc:
            self._transport.close()
            raise httpcore.ConnectTimeout("timed out in the TLS handshake") from exc
        except (OSError, ssl.SSLError) as exc:
            self._transport.close()
            _raise_from(exc, httpcore.ConnectError)
        if transport is None:
            raise httpcore.ConnectError("the connection closed during the TLS handshake")
        self._connection.transport = transport
        return AsyncioStream(transport, self._connection)

    def get_extra_info(self, info: str) -> Any:
        names = {"client_addr": "sockname", "server_addr": "peername"}
        if info == "is_readable":  # httpcore asks before reusing a pooled connection
            return _readable_now(self._transport.get_extra_info("socket"))
        if info in ("ssl_object", "socket", "client_addr", "server_addr"):
            return self._transport.get_extra_info(names.get(info, info))
        return None


def _raise_from(error: BaseException, kind: type[Exception]) -> NoReturn:
    """Raise `kind` while handling `error`: httpcore re-raises with `from None`, which drops
    `__cause__` but keeps `__context__`, where the probe finds the errno (reset, refused)."""
    try:
        raise error
    except BaseException as exc:
        raise kind(str(exc) or type(exc).__name__) from exc


def _readable_now(sock: Any) -> bool:
    """Whether an idle connection has something to read (an EOF or stray bytes): not reusable."""
    if sock is None:
        return True
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        local = None if local_address is None else (local_address, 0)
        try:
            async with asyncio.timeout(timeout):
                transport, connection = await loop.create_connection(
                    _Connection, host, port, local_addr=local
                )
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout("timed out connecting") from exc
        except OSError as exc:
            _raise_from(exc, httpcore.ConnectError)
        sock = transport.get_extra_info("socket")
        for option in socket_options or ():
            sock.setsockopt(*option)
        return AsyncioStream(transport, connection)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("probes do not use unix sockets")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
