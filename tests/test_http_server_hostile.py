"""The daemon's HTTP server against idle and slow clients, on a real socket on 127.0.0.1.

A request must arrive within the request timeout (10 s by default, shortened here) of the
connection or of the previous response; a kept-alive connection may idle 5 s; over the connection
cap, the client idle longest makes room, and only when every connection is busy does a newcomer
get a 503. Each wait below has a deadline; none races a fixed sleep.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from upwatch.runtime.http_guard import ConnectionGuard, GuardedH11Protocol
from upwatch.runtime.server import HttpServer

pytestmark = pytest.mark.slow

SHORT = 0.5  # the request timeout in most tests below
DEADLINE = 10.0  # seconds: nothing below should take near this long
REQUEST = b"GET /healthz HTTP/1.1\r\nHost: upwatch\r\n\r\n"
Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class App:
    """Answers 200 "ok" after reading the whole request; /hold waits until `release` is set."""

    def __init__(self) -> None:
        self.release = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        while (await receive()).get("more_body"):
            pass
        if scope["path"] == "/hold":
            await self.release.wait()
        headers = [(b"content-type", b"text/plain"), (b"content-length", b"2")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"ok"})


Serve = Callable[..., Awaitable[tuple[HttpServer, int]]]


@pytest.fixture
async def serve(app: App) -> AsyncIterator[Serve]:
    """A factory: an `HttpServer` on a free port with the given options; yields (server, port)."""
    started: list[HttpServer] = []

    async def start(**options: Any) -> tuple[HttpServer, int]:
        server = HttpServer(app, "127.0.0.1", 0, **options)
        await server.start()
        started.append(server)
        return server, server.server.servers[0].sockets[0].getsockname()[1]

    yield start
    app.release.set()
    for server in started:
        await server.stop()


@pytest.fixture
def app() -> App:
    return App()


async def connect(port: int) -> Connection:
    return await asyncio.open_connection("127.0.0.1", port)


async def seconds_until_closed(reader: asyncio.StreamReader) -> tuple[float, bytes]:
    """Read until the server closes the connection; (seconds it took, what was read)."""
    began = time.monotonic()
    received = b""
    async with asyncio.timeout(DEADLINE):
        try:
            while chunk := await reader.read(65536):
                received += chunk
        except ConnectionResetError:
            pass
    return time.monotonic() - began, received


async def ask(connection: Connection, path: str = "/healthz") -> bytes:
    """One request on a kept-alive connection; the response's head and body."""
    reader, writer = connection
    writer.write(f"GET {path} HTTP/1.1\r\nHost: upwatch\r\n\r\n".encode())
    async with asyncio.timeout(DEADLINE):
        head = await reader.readuntil(b"\r\n\r\n")
        return head + await reader.readexactly(2)


async def wait_until(predicate: Callable[[], bool], what: str) -> None:
    end = time.monotonic() + DEADLINE
    while not predicate():
        if time.monotonic() > end:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


def test_the_defaults_are_ten_seconds_for_a_request_and_five_for_an_idle_keep_alive() -> None:
    server = HttpServer(App(), "127.0.0.1", 0)
    assert server.guard.request_timeout == 10.0
    assert server.server.config.timeout_keep_alive == 5
    protocol = server.server.config.http
    assert isinstance(protocol, type)
    assert issubclass(protocol, GuardedH11Protocol)


@pytest.mark.parametrize(
    "sent",
    [b"", b"GET /heal", b"GET /healthz HTTP/1.1\r\nHost: upw"],
    ids=["nothing", "half a request line", "half the headers"],
)
async def test_a_client_that_stops_mid_request_is_dropped_at_the_request_timeout(
    serve: Serve, sent: bytes
) -> None:
    _, port = await serve(max_connections=8, request_timeout=SHORT)
    reader, writer = await connect(port)
    writer.write(sent)

    took, answer = await seconds_until_closed(reader)

    assert answer == b""
    assert SHORT * 0.8 <= took < SHORT + 2.0
    writer.close()


async def test_a_client_trickling_its_headers_is_dropped_at_the_request_timeout(
    serve: Serve,
) -> None:
    # uvicorn alone restarts nothing on a byte and never times this out.
    server, port = await serve(max_connections=8, request_timeout=SHORT)
    reader, writer = await connect(port)

    async def trickle() -> None:
        for byte in REQUEST[:-2] + b"X-Pad: " + b"a" * 1000:
            writer.write(bytes([byte]))
            await asyncio.sleep(0.05)

    trickling = asyncio.create_task(trickle())
    took, answer = await seconds_until_closed(reader)
    trickling.cancel()

    assert answer == b""
    assert SHORT * 0.8 <= took < SHORT + 2.0
    assert server.guard.timed_out == 1
    writer.close()


async def test_a_request_body_that_stalls_is_dropped_at_the_request_timeout(
    serve: Serve,
) -> None:
    _, port = await serve(max_connections=8, request_timeout=SHORT)
    reader, writer = await connect(port)
    writer.write(b"POST /ping HTTP/1.1\r\nHost: upwatch\r\nContent-Length: 100\r\n\r\nab")

    took, answer = await seconds_until_closed(reader)

    assert answer == b""
    assert SHORT * 0.8 <= took < SHORT + 2.0
    writer.close()


async def test_each_request_on_a_kept_alive_connection_gets_its_own_request_timeout(
    serve: Serve,
) -> None:
    _, port = await serve(max_connections=8, request_timeout=1.0)
    connection = await connect(port)
    began = time.monotonic()

    for _ in range(3):
        assert (await ask(connection)).startswith(b"HTTP/1.1 200")
        await asyncio.sleep(0.6)  # the client's pace: within the timeout each time

    assert time.monotonic() - began > 1.0 * 1.5  # longer than one timeout in all
    connection[1].close()


async def test_after_a_response_a_half_sent_next_request_is_dropped_at_the_request_timeout(
    serve: Serve,
) -> None:
    _, port = await serve(max_connections=8, request_timeout=1.5)
    reader, writer = await connect(port)
    assert (await ask((reader, writer))).startswith(b"HTTP/1.1 200")
    writer.write(b"GET /heal")  # any byte stops uvicorn's own keep-alive timer

    took, answer = await seconds_until_closed(reader)

    assert answer == b""
    assert 1.5 * 0.8 <= took < 1.5 + 2.0
    writer.close()


async def test_a_silent_kept_alive_connection_is_closed_after_the_keep_alive_timeout(
    serve: Serve,
) -> None:
    _, port = await serve(max_connections=8, request_timeout=30.0, keep_alive=1)
    reader, writer = await connect(port)
    assert (await ask((reader, writer))).startswith(b"HTTP/1.1 200")

    took, _ = await seconds_until_closed(reader)

    assert 0.8 <= took < 1.0 + 2.0
    writer.close()


async def test_over_the_cap_the_client_idle_longest_makes_room(serve: Serve) -> None:
    server, port = await serve(max_connections=4, request_timeout=30.0)
    idle = [await connect(port) for _ in range(4)]
    await wait_until(lambda: len(server.guard.idle) == 4, "four idle connections")

    newcomer = await connect(port)
    answer = await ask(newcomer)

    assert answer.startswith(b"HTTP/1.1 200")
    took, _ = await seconds_until_closed(idle[0][0])  # the first to connect made room
    assert took < 1.0
    assert len(server.guard.open) == 4
    assert server.guard.pushed_out == 1
    for _, writer in [*idle, newcomer]:
        writer.close()


async def test_over_the_cap_with_every_connection_busy_a_newcomer_gets_503(
    serve: Serve, app: App
) -> None:
    server, port = await serve(max_connections=4, request_timeout=30.0)
    held = [await connect(port) for _ in range(4)]
    answers = [asyncio.create_task(ask(connection, "/hold")) for connection in held]
    await wait_until(lambda: len(server.guard.open) == 4 and not server.guard.idle, "4 busy")

    reader, writer = await connect(port)
    writer.write(REQUEST)
    _, refused = await seconds_until_closed(reader)

    assert refused.startswith(b"HTTP/1.1 503 ")
    assert b"x-content-type-options: nosniff" in refused
    assert server.guard.refused == 1
    app.release.set()
    assert all(a.startswith(b"HTTP/1.1 200") for a in await asyncio.gather(*answers))
    for _, held_writer in held:
        held_writer.close()
    writer.close()


async def test_healthz_answers_at_once_beside_hundreds_of_idle_connections(
    serve: Serve,
) -> None:
    server, port = await serve(max_connections=32, request_timeout=30.0)
    idle = [await connect(port) for _ in range(500)]
    await wait_until(lambda: server.guard.pushed_out >= 500 - 32, "the idle crowd to arrive")

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        for _ in range(20):
            began = time.monotonic()
            response = await client.get("/healthz", headers={"Connection": "close"})
            assert response.status_code == 200
            assert time.monotonic() - began < 1.0

    assert len(server.guard.open) <= 32
    for _, writer in idle:
        writer.close()


class StandIn:
    """A connection as the guard sees it: a socket, and a way to be dropped."""

    def __init__(self, guard: ConnectionGuard, fileno: int) -> None:
        self.guard = guard
        self.fileno = fileno
        self.dropped = False

    def drop(self) -> None:
        self.dropped = True
        self.guard.release(self)  # type: ignore[arg-type]


def test_over_the_cap_a_connection_with_unread_bytes_is_not_taken_for_idle() -> None:
    # The event loop accepts a burst of connections before it reads any: a request already
    # received must not be pushed out by the rest of its burst.
    guard = ConnectionGuard(cap=2)
    with contextlib.ExitStack() as stack:
        sent, received = (stack.enter_context(s) for s in socket.socketpair())
        _, quiet = (stack.enter_context(s) for s in socket.socketpair())
        sent.sendall(REQUEST)
        older, newer = StandIn(guard, received.fileno()), StandIn(guard, quiet.fileno())
        for connection in (older, newer):
            assert guard.admit(connection)  # type: ignore[arg-type]
            guard.waiting(connection)  # type: ignore[arg-type]

        assert guard.admit(StandIn(guard, -1))  # type: ignore[arg-type]

    assert (older.dropped, newer.dropped) == (False, True)
