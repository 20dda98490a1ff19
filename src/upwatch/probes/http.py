"""The HTTP probe: one request and its redirects within one deadline, judged against `expect`."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import re
import ssl

import aiohttp
from multidict import CIMultiDict
from yarl import URL

from upwatch.config.models import BasicAuth, HttpMonitor
from upwatch.probes.body import read_body
from upwatch.probes.certs import earliest, peer_cert_expiry
from upwatch.probes.errors import INVALID_HEADER, describe, timed_out
from upwatch.probes.expect import Answer, hard_failure, needs_body, soft_failures
from upwatch.probes.http_client import HttpClients
from upwatch.probes.outcome import Cause, Started
from upwatch.probes.redirects import Hop, next_hop
from upwatch.probes.resolve import is_ip_literal
from upwatch.probes.result import ProbeResult
from upwatch.probes.timing import CURRENT_CLOCK, PhaseClock
from upwatch.probes.tls import unusable_tls

REDIRECT_LOOP = Cause.plain("redirect loop")
JUDGE_IN_THREAD = 64 * 1024  # bytes of body; below this, a thread hop costs more than judging
# RFC 9110 token characters for names; visible ASCII, space and tab for values. Checked before
# sending, so a typo in a header is one clear cause, and no value (often a secret) is echoed.
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_HEADER_VALUE = re.compile(r"^[\t\x20-\x7e]*$")


class HttpProbe:
    """Runs HTTP monitors over the clients it is given (shared by every HTTP probe)."""

    def __init__(self, clients: HttpClients) -> None:
        self.clients = clients

    def prepare(self, monitor: HttpMonitor) -> None:
        """Build what the monitor's probes need (TLS context, session) before timing starts."""
        self._ssl(monitor)
        with contextlib.suppress(RuntimeError):  # no running loop yet: the session waits
            self.clients.open()

    async def run(self, monitor: HttpMonitor, started: Started) -> ProbeResult:
        clock = PhaseClock()
        answer = Answer()
        token = CURRENT_CLOCK.set(clock)
        try:
            failure = await self._fetch_within_deadline(monitor, clock, answer)
        finally:
            clock.switch(None)
            CURRENT_CLOCK.reset(token)
        started.stop()
        hard = failure or await _judged(monitor, answer)
        soft = [] if hard else soft_failures(monitor.expect, started.elapsed(), answer, started.at)
        return started.judged(
            hard,
            soft,
            status_code=answer.status_code,
            phases=clock.phases,
            cert_expires_at=answer.cert_expires_at,
        )

    async def aclose(self) -> None:
        await self.clients.aclose()

    def _ssl(self, monitor: HttpMonitor) -> ssl.SSLContext:
        return self.clients.tls.context(verify=monitor.verify_tls, options=monitor.tls)

    async def _fetch_within_deadline(
        self, monitor: HttpMonitor, clock: PhaseClock, answer: Answer
    ) -> Cause | None:
        hop = _first_hop(monitor)
        if hop is None:
            return INVALID_HEADER
        try:
            context = self._ssl(monitor)
        except (OSError, ssl.SSLError) as exc:  # a file that went away since `check` read it
            return unusable_tls(exc)
        clock.host = hop.url.host or ""
        try:
            async with asyncio.timeout(monitor.timeout.total_seconds()):
                return await self._follow(hop, monitor, context, clock, answer)
        except TimeoutError:
            return timed_out(monitor.timeout, clock.current, clock.host)
        except (aiohttp.ClientError, OSError) as exc:
            return describe(exc, clock.host)

    async def _follow(
        self,
        hop: Hop,
        monitor: HttpMonitor,
        context: ssl.SSLContext,
        clock: PhaseClock,
        answer: Answer,
    ) -> Cause | None:
        seen = {hop.url}
        for _ in range(monitor.max_redirects + 1):
            outcome = await self._exchange(hop, monitor, context, clock, answer)
            if not isinstance(outcome, Hop):
                return outcome
            if outcome.url in seen:
                return REDIRECT_LOOP
            seen.add(outcome.url)
            hop = outcome
        return Cause.plain(f"too many redirects (more than {monitor.max_redirects})")

    async def _exchange(
        self,
        hop: Hop,
        monitor: HttpMonitor,
        context: ssl.SSLContext,
        clock: PhaseClock,
        answer: Answer,
    ) -> Hop | Cause | None:
        """One hop: the redirect to follow, the cause that ends the probe, or None when done."""
        clock.host, clock.tls = hop.url.host or "", None
        # aiohttp asks our resolver only for host names; it switches to connect once answered.
        clock.switch("connect" if is_ip_literal(clock.host) else "dns")
        response = await self.clients.session.request(
            hop.method,
            hop.url,
            headers=_with_cookies(hop),
            data=hop.body,
            allow_redirects=False,
            ssl=context,
            server_hostname=None if monitor.tls is None else monitor.tls.server_name,
        )
        clock.switch("transfer")
        try:
            answer.status_code = response.status
            answer.cert_expires_at = earliest(answer.cert_expires_at, peer_cert_expiry(clock.tls))
            outcome = next_hop(hop, response) if monitor.follow_redirects else None
            if outcome is None:
                outcome = await _read_answer(response, monitor, answer)
        finally:
            response.close()
        # Not in `finally`: after a timeout the clock must still name the phase that was cut short.
        clock.switch(None)
        return outcome


async def _judged(monitor: HttpMonitor, answer: Answer) -> Cause | None:
    """Hard expectations; a large body is judged in a thread (RE2 releases the GIL), because
    even linear-time matching of a big pattern over a mebibyte takes seconds the loop must not
    give. The probe waits for it, so one monitor never has two judgements running."""
    if len(answer.body) < JUDGE_IN_THREAD:
        return hard_failure(monitor.expect, answer)
    return await asyncio.to_thread(hard_failure, monitor.expect, answer)


async def _read_answer(
    response: aiohttp.ClientResponse, monitor: HttpMonitor, answer: Answer
) -> Cause | None:
    answer.charset = response.charset
    body = await read_body(response, monitor.max_body, keep=needs_body(monitor.expect))
    if isinstance(body, Cause):
        return body
    answer.body = body
    return None


def _first_hop(monitor: HttpMonitor) -> Hop | None:
    """The monitor's request, or None when one of its headers cannot be sent."""
    headers: CIMultiDict[str] = CIMultiDict(monitor.headers)
    if monitor.basic_auth is not None:
        # A header, not aiohttp's `auth=`: it must be dropped when a redirect leaves the origin.
        headers["Authorization"] = _basic_credentials(monitor.basic_auth)
    body: bytes | None = None
    if monitor.json_body is not None:
        body = json.dumps(monitor.json_body).encode()
        headers.setdefault("Content-Type", "application/json")
    elif monitor.body is not None:
        body = monitor.body.encode()
    if not all(_HEADER_NAME.match(k) and _HEADER_VALUE.match(v) for k, v in headers.items()):
        return None
    return Hop(monitor.method, URL(monitor.url, encoded=False), headers, body)


def _with_cookies(hop: Hop) -> CIMultiDict[str]:
    cookie = hop.cookie_header()
    if cookie is None or cookie == hop.headers.get("Cookie"):
        return hop.headers
    headers = hop.headers.copy()
    headers["Cookie"] = cookie
    return headers


def _basic_credentials(auth: BasicAuth) -> str:
    token = base64.b64encode(f"{auth.username}:{auth.password}".encode()).decode("ascii")
    return f"Basic {token}"
