"""Idle and slow HTTP clients cannot hold the daemon's sockets.

uvicorn times out a keep-alive connection only while it stays completely silent, and a new
connection not at all: a client that connects and sends nothing, half a request line, or a header
byte every few seconds holds a file descriptor for as long as it likes. A few hundred of them took
every descriptor of a 256-descriptor container: probes failed with "could not connect" and
/healthz stopped answering. uvicorn has no header-read timeout, so this guards at the protocol
level, on uvicorn's own h11 protocol:

- A request must arrive, headers and body, within `request_timeout` (10 s) of the connection or of
  the previous response on keep-alive; otherwise the connection is dropped (nginx's
  `client_header_timeout`). uvicorn's keep-alive timeout (5 s) still closes silent ones sooner.
- At most `cap` connections are open. A new one over the cap pushes out the connection that has
  waited longest for its request headers, as nginx reuses idle connections when it runs out: a
  crowd of idle clients then cannot lock out /healthz, whose request comes at once. A connection
  whose bytes wait unread in the kernel is not idle: the event loop accepts a burst of connections
  before it reads any, and /healthz must not be pushed out by the rest of its burst. Only when
  every connection is busy with a request does the newcomer get a 503, and it is closed.
"""

from __future__ import annotations

import asyncio
import struct
import sys
import time
from typing import ClassVar

import structlog
from uvicorn.protocols.http.h11_impl import H11Protocol, RequestResponseCycle

from upwatch.web.middleware import SECURITY_HEADERS

if sys.platform != "win32":
    import fcntl
    import termios

log = structlog.get_logger("upwatch.http")
REQUEST_TIMEOUT = 10.0  # seconds to send the request headers (and body)
KEEP_ALIVE_TIMEOUT = 5  # seconds a kept-alive connection may stay silent (uvicorn's own timer)
WARN_EVERY = 60.0  # seconds between warnings while the cap is being hit
SCAN_AT_MOST = 64  # idle connections looked at for unread bytes before taking the longest idle
_BODY = b"Too many connections; try again shortly.\n"
BUSY_RESPONSE = b"".join(
    [
        b"HTTP/1.1 503 Service Unavailable\r\n",
        b"content-type: text/plain; charset=utf-8\r\n",
        b"content-length: %d\r\n" % len(_BODY),
        b"connection: close\r\n",
        b"retry-after: 1\r\n",
        *(name + b": " + value + b"\r\n" for name, value in SECURITY_HEADERS),
        b"\r\n",
        _BODY,
    ]
)


class ConnectionGuard:
    """The open connections of one server, and which of them wait for a request (oldest first)."""

    def __init__(self, cap: int, request_timeout: float = REQUEST_TIMEOUT) -> None:
        self.cap = cap
        self.request_timeout = request_timeout
        self.open: set[GuardedH11Protocol] = set()
        self.idle: dict[GuardedH11Protocol, None] = {}  # insertion order: longest waiting first
        self.pushed_out = 0
        self.refused = 0
        self.timed_out = 0
        self._warned_at: float | None = None

    def admit(self, connection: GuardedH11Protocol) -> bool:
        """Make room for `connection`; False if there is none (every connection is busy)."""
        if len(self.open) >= self.cap:
            self._warn_full()
            longest_idle = self._longest_idle()
            if longest_idle is None:
                self.refused += 1
                return False
            self.pushed_out += 1
            longest_idle.drop()
        self.open.add(connection)
        return True

    def _longest_idle(self) -> GuardedH11Protocol | None:
        """The connection waiting longest for its request with nothing unread (if one is among
        the first few; else simply the one waiting longest)."""
        for scanned, connection in enumerate(self.idle):
            if scanned == SCAN_AT_MOST:
                break
            if unread_bytes(connection.fileno) == 0:
                return connection
        return next(iter(self.idle), None)

    def release(self, connection: GuardedH11Protocol) -> None:
        self.open.discard(connection)
        self.idle.pop(connection, None)

    def waiting(self, connection: GuardedH11Protocol) -> None:
        self.idle.pop(connection, None)
        self.idle[connection] = None

    def busy(self, connection: GuardedH11Protocol) -> None:
        self.idle.pop(connection, None)

    def _warn_full(self) -> None:
        now = time.monotonic()
        if self._warned_at is not None and now - self._warned_at < WARN_EVERY:
            return
        self._warned_at = now
        log.warning(
            "HTTP connection cap reached: dropping the clients idle longest",
            cap=self.cap,
            pushed_out=self.pushed_out,
            refused=self.refused,
            timed_out=self.timed_out,
        )


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a request deadline and a place under the guard's cap."""

    guard: ClassVar[ConnectionGuard]
    deadline: asyncio.TimerHandle | None = None
    waiting_after: RequestResponseCycle | None = None  # the cycle current when the wait began
    admitted = False
    fileno = -1

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        sock = transport.get_extra_info("socket")
        self.fileno = -1 if sock is None else sock.fileno()
        self.admitted = self.guard.admit(self)
        if not self.admitted:
            transport.write(BUSY_RESPONSE)
            transport.close()
            return
        self._wait_for_request()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        self.guard.release(self)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.admitted:  # a refused connection may have sent its request along
            super().data_received(data)

    def handle_events(self) -> None:
        super().handle_events()
        if self.cycle is None or self.cycle is self.waiting_after:
            return  # no new request's headers yet
        self.guard.busy(self)
        if not self.cycle.more_body:
            self._cancel_deadline()

    def on_response_complete(self) -> None:
        finished = self.cycle
        super().on_response_complete()  # may start a pipelined request
        if self.cycle is finished and not self.transport.is_closing():
            self._wait_for_request()

    def drop(self) -> None:
        """Abort the connection: nothing it is owed is worth its descriptor."""
        self.guard.release(self)
        self._cancel_deadline()
        self.transport.abort()

    def _wait_for_request(self) -> None:
        self._cancel_deadline()
        self.waiting_after = self.cycle
        self.guard.waiting(self)
        self.deadline = self.loop.call_later(self.guard.request_timeout, self._too_slow)

    def _too_slow(self) -> None:
        self.deadline = None
        self.guard.timed_out += 1
        self.drop()

    def _cancel_deadline(self) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None


def unread_bytes(fileno: int) -> int:
    """Bytes received on a socket that nobody has read yet (0 where that cannot be told)."""
    if sys.platform == "win32" or fileno < 0:
        return 0
    try:
        answer = fcntl.ioctl(fileno, termios.FIONREAD, b"\0\0\0\0")
    except OSError:
        return 0
    count: int = struct.unpack("i", answer)[0]
    return count


def guarded_protocol(guard: ConnectionGuard) -> type[GuardedH11Protocol]:
    """The protocol class for one server (uvicorn builds each connection's protocol from a
    class, so the guard travels as a class attribute)."""

    class Guarded(GuardedH11Protocol):
        pass

    Guarded.guard = guard
    return Guarded
