"""Real servers on 127.0.0.1 for the probe tests: scripted HTTP(S) and a tiny DNS server.

They run on their own event loop in a background thread, so the same server answers async tests
(with their own loop), `upwatch.cli.main` (which calls `asyncio.run`) and subprocesses alike.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
import ssl
import struct
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest
import trustme

from upwatch.probes.prober import Prober

T = TypeVar("T")
HEALTHY = {"status": "healthy", "checks": {"database": "ok"}, "items": [{"id": 7}], "up": True}


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    received_at: float = field(default_factory=time.monotonic)


Handler = Callable[[Request, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class LoopThread:
    """An event loop running in a daemon thread; `run` executes a coroutine on it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=10)

    def stop(self) -> None:
        self.run(_cancel_everything_else())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)
        self.loop.close()


async def _cancel_everything_else() -> None:
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


# ---- HTTP -----------------------------------------------------------------------------------


class HttpServer:
    """HTTP/1.1 on 127.0.0.1 (TLS when given a context); each path has a scripted behaviour."""

    def __init__(
        self,
        thread: LoopThread,
        routes: dict[str, Handler],
        tls: ssl.SSLContext | None,
        host: str = "127.0.0.1",  # 127.0.0.2 and up stand for other hosts
    ):
        self.routes = routes
        self.requests: list[Request] = []
        self.host = host
        self._tls = tls
        self._server = thread.run(asyncio.start_server(self._serve, host, 0, ssl=tls))
        self.port: int = self._server.sockets[0].getsockname()[1]

    def url(self, path: str = "/") -> str:
        return f"{'https' if self._tls else 'http'}://{self.host}:{self.port}{path}"

    def last(self, path: str) -> Request:
        """The latest request for `path` (the test fails if there was none)."""
        found = [r for r in self.requests if r.path == path]
        assert found, f"no request for {path}"
        return found[-1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await _read_request(reader)
            self.requests.append(request)
            await self.routes.get(request.path, respond(404, b"not found"))(request, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass  # the probe gave up or hung up: exactly what some tests do
        finally:
            writer.close()


async def _read_request(reader: asyncio.StreamReader) -> Request:
    return Request(*await read_http_request(reader))


async def read_http_request(
    reader: asyncio.StreamReader,
) -> tuple[str, str, dict[str, str], bytes]:
    """Method, path, lower-cased headers and body of one HTTP/1.1 request."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    request_line, *lines = head.split("\r\n")
    method, path, _ = request_line.split(" ", 2)
    headers = {}
    for line in filter(None, lines):
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return method, path, headers, body


def _head(status: int, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} Scripted", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def respond(
    status: int = 200,
    body: bytes = b"ok",
    headers: dict[str, str] | None = None,
    delay: float = 0.0,
) -> Handler:
    async def handler(request: Request, reader: Any, writer: asyncio.StreamWriter) -> None:
        if delay:
            await asyncio.sleep(delay)  # a slow server, not a test waiting for something
        sent = {"Content-Length": str(len(body)), "Connection": "close", **(headers or {})}
        writer.write(_head(status, sent) + body)
        await writer.drain()

    return handler


def raw(response: bytes) -> Handler:
    """Exactly these bytes, however malformed, then the connection closes."""

    async def handler(request: Request, reader: Any, writer: asyncio.StreamWriter) -> None:
        writer.write(response)
        await writer.drain()

    return handler


def respond_json(document: Any, status: int = 200) -> Handler:
    return respond(status, json.dumps(document).encode(), {"Content-Type": "application/json"})


def redirect(location: str, status: int = 302) -> Handler:
    return respond(status, b"", {"Location": location})


async def never_answer(request: Request, reader: asyncio.StreamReader, writer: Any) -> None:
    await reader.read()  # returns when the probe gives up and closes the connection


async def headers_then_silence(
    request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    writer.write(_head(200, {"Content-Length": "100"}) + b"partial")
    await writer.drain()
    await reader.read()


def stream(total: int | None) -> Handler:
    """`total` bytes with a Content-Length, or chunked bytes for as long as the client reads."""
    chunk = b"x" * 65536

    async def handler(request: Request, reader: Any, writer: asyncio.StreamWriter) -> None:
        if total is None:
            writer.write(_head(200, {"Transfer-Encoding": "chunked"}))
            framed = b"%x\r\n%s\r\n" % (len(chunk), chunk)
            while True:
                writer.write(framed)
                await writer.drain()
        writer.write(_head(200, {"Content-Length": str(total)}))
        for _ in range(total // len(chunk)):
            writer.write(chunk)
            await writer.drain()
        writer.write(chunk[: total % len(chunk)])
        await writer.drain()

    return handler


async def garbage(request: Request, reader: Any, writer: asyncio.StreamWriter) -> None:
    writer.write(b"HELLO WORLD\r\n\r\n")
    await writer.drain()


async def close_without_answer(request: Request, reader: Any, writer: Any) -> None:
    return  # the server closes the connection after reading the request


async def reset_connection(request: Request, reader: Any, writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()  # with a zero linger the kernel answers with RST


GZIPPED = {"Content-Encoding": "gzip"}


def default_routes() -> dict[str, Handler]:
    routes: dict[str, Handler] = {
        "/": respond(200, b"ok"),
        "/ok": respond(200, b'{"ok": true} all good'),
        "/status/503": respond(503, b"unavailable"),
        "/status/204": respond(204, b""),
        "/json": respond_json(HEALTHY),
        "/json/degraded": respond_json({**HEALTHY, "status": "degraded\nline two " + "x" * 100}),
        "/json/broken": respond(200, b"<html>not json</html>", {"Content-Type": "text/html"}),
        "/json/deep": respond(200, b"[" * 100_000 + b"]" * 100_000),
        "/gzip": respond(
            200, gzip.compress(json.dumps(HEALTHY).encode()), {"Content-Encoding": "gzip"}
        ),
        "/gzip/bomb": respond(200, gzip.compress(b"\0" * (16 << 20)), {"Content-Encoding": "gzip"}),
        "/slow": respond(200, b"ok", delay=0.3),
        "/never": never_answer,
        "/headers-then-silence": headers_then_silence,
        "/stream/forever": stream(None),
        "/stream/1g": stream(1 << 30),
        "/close": close_without_answer,
        "/garbage": garbage,
        "/reset": reset_connection,
        "/loop": redirect("/loop"),
        "/loop/a": redirect("/loop/b"),
        "/loop/b": redirect("/loop/a"),
        "/ftp": redirect("ftp://127.0.0.1/file"),
        "/see-other": redirect("/ok", 303),
    }
    for hop in range(1, 8):  # /chain/1 -> /chain/2 -> ... -> /chain/8 answers 200
        routes[f"/chain/{hop}"] = redirect(f"/chain/{hop + 1}")
    routes["/chain/8"] = respond(200, b"end of chain")
    return routes


# ---- TLS ------------------------------------------------------------------------------------


@dataclass
class TlsServers:
    """HTTPS servers presenting one kind of certificate each, created on first use."""

    thread: LoopThread
    ca: trustme.CA
    workdir: Path
    expires_at: datetime = field(default_factory=lambda: _midnight() + timedelta(days=40))
    _servers: dict[str, HttpServer] = field(default_factory=dict)

    def __call__(self, kind: str) -> HttpServer:
        if kind not in self._servers:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self._configure(kind, context)
            self._servers[kind] = HttpServer(self.thread, default_routes(), context)
        return self._servers[kind]

    def _configure(self, kind: str, context: ssl.SSLContext) -> None:
        if kind == "self-signed":  # an unknown CA's own certificate serving as the leaf
            stranger = trustme.CA()
            cert, key = self.workdir / "self.pem", self.workdir / "self.key"
            cert.write_bytes(stranger.cert_pem.bytes())
            key.write_bytes(stranger.private_key_pem.bytes())
            context.load_cert_chain(cert, key)
            return
        issuer = trustme.CA() if kind == "untrusted" else self.ca
        hosts = ["wrong-host.example"] if kind == "wrong-host" else ["127.0.0.1", "localhost"]
        past = datetime.now(UTC) - timedelta(days=2)
        not_after = past if kind == "expired" else self.expires_at
        not_before = past - timedelta(days=30) if kind == "expired" else None
        leaf = issuer.issue_cert(*hosts, not_before=not_before, not_after=not_after)
        leaf.configure_cert(context)


def _midnight() -> datetime:
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


# ---- DNS ------------------------------------------------------------------------------------

DNS_RECORDS: dict[tuple[str, str], list[str]] = {
    ("acme.test.", "A"): ["203.0.113.10", "203.0.113.11"],
    ("acme.test.", "MX"): ["10 mail.acme.test.", "20 backup.acme.test."],
    ("acme.test.", "TXT"): ['"v=spf1 include:_spf.acme.test ~all"', '"token=AbC" "def"'],
    ("www.acme.test.", "CNAME"): ["acme.test."],
    ("silent.acme.test.", "A"): [],  # never answered: for timeouts
}


class DnsServer(asyncio.DatagramProtocol):
    """Answers from DNS_RECORDS; NXDOMAIN for names it does not know."""

    def __init__(self) -> None:
        self.transport: Any = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        query = dns.message.from_wire(data)
        question = query.question[0]
        name, kind = question.name.to_text().lower(), dns.rdatatype.to_text(question.rdtype)
        if name.startswith("silent."):
            return
        response = dns.message.make_response(query)
        if not any(known == name for known, _ in DNS_RECORDS):
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif values := DNS_RECORDS.get((name, kind)):
            response.answer.append(dns.rrset.from_text_list(question.name, 60, "IN", kind, values))
        self.transport.sendto(response.to_wire(), addr)


async def _start_dns() -> int:
    transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
        DnsServer, local_addr=("127.0.0.1", 0)
    )
    port: int = transport.get_extra_info("sockname")[1]
    return port


# ---- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def server_thread() -> Iterator[LoopThread]:
    thread = LoopThread()
    yield thread
    thread.stop()


@pytest.fixture(scope="session")
def http_server(server_thread: LoopThread) -> HttpServer:
    return HttpServer(server_thread, default_routes(), tls=None)


@pytest.fixture(scope="session")
def test_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def tls_server(
    server_thread: LoopThread, test_ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory
) -> TlsServers:
    """`tls_server("valid" | "expired" | "wrong-host" | "untrusted" | "self-signed")`."""
    return TlsServers(server_thread, test_ca, tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def dns_port(server_thread: LoopThread) -> int:
    return server_thread.run(_start_dns())


async def _start_plain_talker() -> int:
    async def answer_at_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.0 400 Bad Request\r\n\r\n")  # what HTTP servers say to TLS
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer_at_once, "127.0.0.1", 0)
    port: int = server.sockets[0].getsockname()[1]
    return port


@pytest.fixture(scope="session")
def plain_http_port(server_thread: LoopThread) -> int:
    """A port where plain HTTP answers whatever arrives, TLS handshakes included."""
    return server_thread.run(_start_plain_talker())


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on (bound once, then released), so connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
async def prober(test_ca: trustme.CA) -> AsyncIterator[Prober]:
    async with Prober(extra_ca_pem=test_ca.cert_pem.bytes().decode()) as prober:
        yield prober
