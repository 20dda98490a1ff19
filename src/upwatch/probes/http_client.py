"""The long-lived aiohttp machinery HTTP probes share: one session, its resolver, TLS contexts.

aiohttp parses responses in C (llhttp), a fraction of the CPU of a pure-Python parser, which is
most of what a probe costs. The session lives as long as the Prober; connections do not: every
probe resolves, connects and shakes hands anew, as blackbox_exporter does, so timings and
certificate checks are per probe and a refused connection is never hidden by keep-alive.
"""

from __future__ import annotations

import socket
from types import SimpleNamespace
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from upwatch import __version__
from upwatch.probes.resolve import resolve
from upwatch.probes.timing import CURRENT_CLOCK
from upwatch.probes.tls import TlsContexts

USER_AGENT = f"upwatch/{__version__}"
# Real servers send long Set-Cookie and Content-Security-Policy headers; aiohttp's default limit
# (8 KiB a line) would call them broken where browsers and curl do not.
MAX_HEADER_LINE = 64 * 1024
MAX_HEADERS = 1024  # aiohttp's default of 128 refuses some real sites; Go and curl set none
DEFAULT_HEADERS = {
    "User-Agent": USER_AGENT,
    "Accept": "*/*",
    # Only what our bounded decoder in body.py understands.
    "Accept-Encoding": "gzip, deflate",
    "Connection": "close",
}


class ProbeResolver(AbstractResolver):
    """The system resolver, one thread per lookup (see resolve.py), timed as the `dns` phase.

    aiohttp calls it only for host names (an IP literal is used as it is), so the probe opens the
    `connect` phase itself and the resolver switches to `dns` and back.
    """

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        clock = CURRENT_CLOCK.get()
        if clock is not None:
            clock.switch("dns")
        addresses = await resolve(host, port)
        if clock is not None:
            clock.switch("connect")
        return [_result(host, address, port) for address in addresses]

    async def close(self) -> None:
        return None


def _result(host: str, address: str, port: int) -> ResolveResult:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    return ResolveResult(hostname=host, host=address, port=port, family=family, proto=0, flags=0)


async def _connected(session: aiohttp.ClientSession, context: SimpleNamespace, params: Any) -> None:
    clock = CURRENT_CLOCK.get()
    if clock is not None:
        clock.switch("ttfb")


def _phase_trace() -> aiohttp.TraceConfig:
    """The one event a probe cannot see itself: the connection is ready, the request goes out."""
    trace = aiohttp.TraceConfig()
    trace.on_connection_create_end.append(_connected)
    return trace


class HttpClients:
    """The session every HTTP probe of a Prober shares, and the TLS contexts they ask for.

    The default verifying context is built at once, so loading the CA bundle never counts against
    the first probe's time; the session on first use, inside the running event loop.
    """

    def __init__(
        self,
        *,
        extra_ca_pem: str | None = None,
        user_agent: str = USER_AGENT,
        source: str | None = None,
    ) -> None:
        self.source = source  # the local address to connect from (None: the kernel's choice)
        self.tls = TlsContexts(extra_ca_pem=extra_ca_pem)
        self.tls.context(verify=True, options=None)
        self._headers = {**DEFAULT_HEADERS, "User-Agent": user_agent}
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        return self._session or self.open()

    def open(self) -> aiohttp.ClientSession:
        """The session, made now if need be (inside the running event loop)."""
        if self._session is None:
            self._session = self._new_session()
        return self._session

    def _new_session(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            # No cap: the scheduler bounds concurrency, and a cap here would make probes queue
            # inside the pool while their deadline runs.
            limit=0,
            force_close=True,  # no keep-alive: each probe connects anew
            use_dns_cache=False,  # each probe resolves anew
            resolver=ProbeResolver(),
            happy_eyeballs_delay=None,  # addresses in the resolver's order, one after another
            local_addr=None if self.source is None else (self.source, 0),
        )
        return aiohttp.ClientSession(
            connector=connector,
            headers=self._headers,
            # One deadline per probe instead, enforced by asyncio.timeout around everything.
            timeout=aiohttp.ClientTimeout(total=None),
            cookie_jar=aiohttp.DummyCookieJar(),  # a jar per probe instead (cookies.py)
            auto_decompress=False,  # our bounded decoder instead (body.py)
            trace_configs=[_phase_trace()],
            max_line_size=MAX_HEADER_LINE,
            max_field_size=MAX_HEADER_LINE,
            max_headers=MAX_HEADERS,
            requote_redirect_url=False,
        )

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()
