"""The HTTP probe: one request and its redirects within one deadline, judged against `expect`."""

from __future__ import annotations

import asyncio
import base64
from typing import TYPE_CHECKING

import httpx

from upwatch.config.models import BasicAuth, HttpMonitor
from upwatch.probes.body import read_body
from upwatch.probes.certs import earliest, peer_cert_expiry
from upwatch.probes.errors import INVALID_HEADER, describe, timed_out
from upwatch.probes.expect import Answer, hard_failure, needs_body, soft_failures
from upwatch.probes.outcome import Cause, Started
from upwatch.probes.result import ProbeResult
from upwatch.probes.timing import CURRENT_CLOCK, PhaseClock

if TYPE_CHECKING:
    from upwatch.probes.prober import Prober

REDIRECT_LOOP = Cause.plain("redirect loop")


async def probe_http(prober: Prober, monitor: HttpMonitor, started: Started) -> ProbeResult:
    clock = PhaseClock()
    answer = Answer()
    token = CURRENT_CLOCK.set(clock)
    try:
        failure = await _fetch_within_deadline(prober, monitor, clock, answer)
    finally:
        clock.switch(None)
        CURRENT_CLOCK.reset(token)
    hard = failure or hard_failure(monitor.expect, answer)
    soft = [] if hard else soft_failures(monitor.expect, started.elapsed(), answer, started.at)
    return started.judged(
        hard,
        soft,
        status_code=answer.status_code,
        phases=clock.phases,
        cert_expires_at=answer.cert_expires_at,
    )


async def _fetch_within_deadline(
    prober: Prober, monitor: HttpMonitor, clock: PhaseClock, answer: Answer
) -> Cause | None:
    client = prober.http.client(verify=monitor.verify_tls)
    try:
        async with asyncio.timeout(monitor.timeout.total_seconds()):
            return await _fetch(client, monitor, clock, answer)
    except TimeoutError:
        return timed_out(monitor.timeout, clock.current, clock.host)
    except (httpx.HTTPError, OSError) as exc:
        return describe(exc, clock.host)
    except UnicodeEncodeError:  # httpx sends header names and values as ASCII only
        return INVALID_HEADER


async def _fetch(
    client: httpx.AsyncClient, monitor: HttpMonitor, clock: PhaseClock, answer: Answer
) -> Cause | None:
    request = _build_request(client, monitor, clock)
    seen = {request.url}
    hops = 0
    while True:
        outcome = await _exchange(client, request, monitor, clock, answer)
        if not isinstance(outcome, httpx.Request):
            return outcome
        hops += 1
        if outcome.url in seen:
            return REDIRECT_LOOP
        if hops > monitor.max_redirects:
            return Cause.plain(f"too many redirects (more than {monitor.max_redirects})")
        seen.add(outcome.url)
        request = outcome


async def _exchange(
    client: httpx.AsyncClient,
    request: httpx.Request,
    monitor: HttpMonitor,
    clock: PhaseClock,
    answer: Answer,
) -> httpx.Request | Cause | None:
    """One hop: the redirect to follow, the cause that ends the probe, or None when done."""
    clock.host = request.url.host
    response = await client.send(request, stream=True)
    try:
        answer.status_code = response.status_code
        answer.cert_expires_at = earliest(answer.cert_expires_at, peer_cert_expiry(response))
        if monitor.follow_redirects and response.next_request is not None:
            outcome: httpx.Request | Cause | None = response.next_request
        else:
            outcome = await _read_answer(response, monitor, answer)
    finally:
        await response.aclose()
    # Not in `finally`: after a timeout the clock must still name the phase that was cut short.
    clock.switch(None)
    return outcome


async def _read_answer(
    response: httpx.Response, monitor: HttpMonitor, answer: Answer
) -> Cause | None:
    answer.charset = response.charset_encoding
    body = await read_body(response, monitor.max_body, keep=needs_body(monitor.expect))
    if isinstance(body, Cause):
        return body
    answer.body = body
    return None


def _build_request(
    client: httpx.AsyncClient, monitor: HttpMonitor, clock: PhaseClock
) -> httpx.Request:
    headers: dict[str, str] | httpx.Headers = monitor.headers
    if monitor.basic_auth is not None:
        # Set on the first request only: httpx drops it when a redirect leaves the origin, which
        # `auth=` would not (it re-authenticates every hop).
        headers = httpx.Headers(monitor.headers)
        headers["Authorization"] = _basic_credentials(monitor.basic_auth)
    return client.build_request(
        monitor.method,
        monitor.url,
        headers=headers,
        content=monitor.body,
        json=monitor.json_body,
        extensions={"trace": clock.trace},
    )


def _basic_credentials(auth: BasicAuth) -> str:
    token = base64.b64encode(f"{auth.username}:{auth.password}".encode()).decode("ascii")
    return f"Basic {token}"
