"""The long-lived HTTP machinery a Prober reuses: one TLS context and one client per verify mode.

Building an `ssl.SSLContext` (loading the CA bundle) costs far more CPU than a probe, so contexts
and clients live as long as the Prober. Connections do not: every probe opens a fresh one, so a
refused connection or a bad certificate is seen on every probe, not hidden by keep-alive.
"""

from __future__ import annotations

import ssl
import urllib.request
from http.client import HTTPResponse
from http.cookiejar import CookieJar

import httpcore
import httpx

from upwatch import __version__
from upwatch.probes.backend import ResolvingBackend

USER_AGENT = f"upwatch/{__version__}"


def make_ssl_context(*, verify: bool, extra_ca_pem: str | None = None) -> ssl.SSLContext:
    """certifi's CAs (as httpx uses), plus `extra_ca_pem` for private CAs; or no checks at all."""
    context = httpx.create_ssl_context(verify=verify, trust_env=False)
    if verify and extra_ca_pem:
        context.load_verify_locations(cadata=extra_ca_pem)
    return context


class ProbeTransport(httpx.AsyncHTTPTransport):
    """httpx's transport over a pool that never keeps a connection and times DNS itself."""

    def __init__(self, ssl_context: ssl.SSLContext) -> None:
        super().__init__(verify=ssl_context, trust_env=False)
        # httpx (pinned <0.29) exposes no network_backend option, so the pool it built is
        # replaced through the private `_pool` attribute. No keep-alive: each probe connects anew.
        # No connection cap: the scheduler bounds concurrency, and a cap here would make probes
        # queue inside the pool while their deadline runs.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=None,
            max_keepalive_connections=0,
            http1=True,
            http2=False,
            retries=0,
            network_backend=ResolvingBackend(),
        )


class _NoCookieJar(CookieJar):
    """Stores no cookie, and skips parsing Set-Cookie headers for nothing.

    One client serves every monitor: a cookie set by one site must not ride along on later probes
    (it would change what they measure, and the jar would grow without bound).
    """

    def extract_cookies(self, response: HTTPResponse, request: urllib.request.Request) -> None:
        return None


def make_client(ssl_context: ssl.SSLContext, *, user_agent: str = USER_AGENT) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=ProbeTransport(ssl_context),
        trust_env=False,
        # One deadline per probe instead, enforced by asyncio.timeout around everything.
        timeout=None,  # noqa: S113
        follow_redirects=False,  # followed by hand, to detect loops and judge the final answer
        cookies=_NoCookieJar(),  # a jar, not httpx.Cookies: httpx would copy that into its own
        headers={
            "User-Agent": user_agent,
            "Accept": "*/*",
            # Only what our bounded decoder in body.py understands.
            "Accept-Encoding": "gzip, deflate",
            "Connection": "close",
        },
    )


class HttpClients:
    """One client per `verify_tls` mode, shared by every HTTP probe.

    The verifying client is made at once, so loading the CA bundle never counts against the
    first probe's time; the rarely used non-verifying one on first use.
    """

    def __init__(self, *, extra_ca_pem: str | None = None, user_agent: str = USER_AGENT) -> None:
        self._extra_ca_pem = extra_ca_pem
        self._user_agent = user_agent
        self._clients: dict[bool, httpx.AsyncClient] = {}
        self.client(verify=True)

    def client(self, *, verify: bool) -> httpx.AsyncClient:
        client = self._clients.get(verify)
        if client is None:
            context = make_ssl_context(verify=verify, extra_ca_pem=self._extra_ca_pem)
            client = self._clients[verify] = make_client(context, user_agent=self._user_agent)
        return client

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()
