"""Input that is not valid is a 4xx with the security headers, never a 500 or a traceback.

Python's parsers read more than a client should send (`int()` takes Arabic-Indic digits, `²`
passes `isdigit()`, `fromisoformat()` takes times that overflow in UTC), and a path parameter can
be 60 KB long; each is answered as the client's mistake. Redirects the app sends are paths, never
built from the Host header a client chose.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.store_helpers import Harness, MakeHarness, app_context, config, heartbeat, http
from tests.test_api_responses import assert_security_headers
from upwatch.web.app import create_app

SQLITE = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
TOKEN = "s3cret-backup-token"
HUGE = "7" * 60_000  # httpx sends URLs up to 64 KiB; uvicorn stops at 16 KiB itself
LIMIT_ERROR = "limit must be a whole number from 1 to 1000"
SINCE_ERROR = "since must be an ISO 8601 time such as 2026-11-22T10:00:00Z"
UTC_RANGE_ERROR = "since must be a time between years 1 and 9999 in UTC"
ACK_INVALID = "This acknowledge link is not valid"

MALFORMED: list[tuple[str, str, int, Any]] = [
    # (method, path, status, body: a JSON document, or text the body holds)
    ("GET", "/api/v1/incidents?limit=%C2%B2", 400, {"error": LIMIT_ERROR}),  # ²
    ("GET", "/api/v1/incidents?limit=%D9%A3", 400, {"error": LIMIT_ERROR}),  # Arabic-Indic 3
    ("GET", "/api/v1/incidents?limit=%EF%BC%95", 400, {"error": LIMIT_ERROR}),  # fullwidth 5
    ("GET", f"/api/v1/incidents?limit={HUGE}", 400, {"error": LIMIT_ERROR}),
    ("GET", "/api/v1/monitors/api/results?limit=1%0A", 400, {"error": LIMIT_ERROR}),
    ("GET", "/api/v1/incidents?since=0001-01-01T00:00:00%2B14:00", 400, {"error": UTC_RANGE_ERROR}),
    ("GET", "/api/v1/incidents?since=9999-12-31T23:59:59-14:00", 400, {"error": UTC_RANGE_ERROR}),
    ("GET", "/api/v1/incidents?since=%D9%A2026-11-22T10:00:00Z", 400, {"error": SINCE_ERROR}),
    ("GET", f"/api/v1/monitors/api/results?since={HUGE}", 400, {"error": SINCE_ERROR}),
    ("GET", "/api/v1/monitors/%C2%B2", 404, {"error": "no such monitor"}),
    ("GET", f"/api/v1/monitors/{HUGE}/results", 404, {"error": "no such monitor"}),
    ("GET", "/ack/%C2%B2.1.x", 403, ACK_INVALID),
    ("POST", "/ack/%D9%A3.%D9%A3.x", 403, ACK_INVALID),
    ("GET", f"/ack/{HUGE}.1.{'a' * 43}", 403, ACK_INVALID),
    ("GET", f"/ping/backup/{HUGE}", 400, "token is longer than 256 characters"),
    ("POST", f"/ping/backup/{HUGE}/fail", 400, "token is longer than 256 characters"),
    ("GET", f"/ping/%C2%B2/{TOKEN}", 404, "not found: no heartbeat monitor"),
    ("GET", f"/ping/{HUGE}/{TOKEN}", 404, "not found: no heartbeat monitor"),
    ("GET", "/monitors/%D9%A3", 404, "<!doctype html>"),
    ("GET", f"/monitors/{HUGE}", 404, "<!doctype html>"),
    ("GET", "/badge/%C2%B2.svg", 404, "<svg"),
    ("GET", "/badge/api/uptime.svg?window=%C2%B2d", 400, "<svg"),
    ("GET", "/no/such/page", 404, "Not Found"),
    ("GET", f"/{HUGE}", 404, "Not Found"),
    ("DELETE", "/api/v1/status", 405, "Method Not Allowed"),
    ("PUT", f"/ping/backup/{TOKEN}", 405, "Method Not Allowed"),
    ("POST", "/monitors/api", 405, "Method Not Allowed"),
]


@pytest.fixture
async def client(make_harness: MakeHarness) -> AsyncIterator[httpx.AsyncClient]:
    """The app on a database with `api` (public) and `backup` (a private heartbeat), acknowledge
    links on."""
    harness = await make_harness(
        config(http("api"), heartbeat("backup", TOKEN, interval="1h", public=False))
    )
    ctx = app_context(harness)
    ctx.settings = dataclasses.replace(ctx.settings, secret_key="ack-signing-key-for-tests")
    transport = httpx.ASGITransport(app=create_app(ctx))
    async with httpx.AsyncClient(transport=transport, base_url="http://status.acme.test") as c:
        yield c


def errors_logged(logged: list[dict[str, Any]], caplog: pytest.LogCaptureFixture) -> list[str]:
    ours = [
        e["event"] for e in logged if e["log_level"] in ("error", "critical") or "exc_info" in e
    ]
    theirs = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    return ours + theirs


@SQLITE
@pytest.mark.parametrize(
    ("method", "path", "status", "body"),
    MALFORMED,
    ids=[f"{method} {path[:60]}" for method, path, _, _ in MALFORMED],  # not 60 KB test names
)
async def test_malformed_requests_are_a_4xx_with_the_security_headers_and_no_traceback(
    method: str,
    path: str,
    status: int,
    body: Any,
    client: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with structlog.testing.capture_logs() as logged:
        response = await client.request(method, path)

    assert response.status_code == status
    assert_security_headers(response)
    if isinstance(body, dict):
        assert response.json() == body
    else:
        assert body in response.text
    assert errors_logged(logged, caplog) == []
    [request] = [e for e in logged if e["event"] == "request"]
    assert len(request["path"]) < 400  # a 60 KB path is not logged whole, request after request


async def test_an_iso_time_with_an_offset_or_without_one_is_still_read(
    engine: AsyncEngine, client: httpx.AsyncClient
) -> None:
    for since in ("2026-11-22T10:00:00+14:00", "2026-11-22T10:00:00 01:00", "0001-01-01T00:00:00"):
        response = await client.get("/api/v1/incidents", params={"since": since})
        assert (response.status_code, response.json()) == (200, {"incidents": []}), since


@SQLITE
async def test_a_bug_is_a_500_with_the_security_headers_and_one_redacted_error_in_the_log(
    make_harness: MakeHarness, caplog: pytest.LogCaptureFixture
) -> None:
    harness = await make_harness(config(heartbeat("backup", TOKEN, interval="1h")))
    ctx = app_context(harness)

    def broken_clock() -> Any:
        raise ZeroDivisionError("a bug in upwatch")

    ctx.clock = broken_clock
    transport = httpx.ASGITransport(app=create_app(ctx))
    async with httpx.AsyncClient(transport=transport, base_url="http://status.acme.test") as c:
        with structlog.testing.capture_logs() as logged:
            response = await c.get(f"/ping/backup/{TOKEN}")

    assert response.status_code == 500
    assert response.text == "internal error: upwatch could not answer this request\n"
    assert_security_headers(response)
    [error] = [e for e in logged if e["log_level"] == "error"]
    assert (error["path"], error["exc_info"]) == ("/ping/backup/[token]", True)
    assert TOKEN not in repr(logged)
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []  # logged once, by us


QUERY = "limit=5&since=2026-11-22T10:00:00Z"
REDIRECTS = [
    ("/monitors/api/", "/monitors/api"),
    (f"/api/v1/incidents/?{QUERY}", f"/api/v1/incidents?{QUERY}"),
    ("/api/v1/status//", "/api/v1/status"),
    (f"/ping/backup/{TOKEN}/", f"/ping/backup/{TOKEN}"),
]


@SQLITE
@pytest.mark.parametrize(("path", "location"), REDIRECTS)
async def test_a_trailing_slash_redirects_to_a_relative_path_whatever_the_host_header(
    path: str, location: str, client: httpx.AsyncClient
) -> None:
    response = await client.get(path, headers={"host": "evil.example"})

    assert response.status_code == 307
    assert response.headers["location"] == location
    assert_security_headers(response)


@SQLITE
@pytest.mark.parametrize("path", ["//evil.example/", "/no/such/page/", "/\\evil.example/"])
async def test_a_trailing_slash_on_a_path_that_does_not_exist_is_a_404_not_a_redirect(
    path: str, client: httpx.AsyncClient
) -> None:
    # Written out whole: httpx reads a bare `//evil.example/` as another host.
    response = await client.get(f"http://status.acme.test{path}", headers={"host": "evil.example"})

    assert response.status_code == 404
    assert "location" not in response.headers


MakeClient = Callable[[Harness], httpx.AsyncClient]


@SQLITE
async def test_a_redirect_followed_lands_on_the_same_host(
    make_harness: MakeHarness, make_client: MakeClient
) -> None:
    harness = await make_harness(config(http("api")))

    response = await make_client(harness).get("/api/v1/monitors/api/", follow_redirects=True)

    assert response.status_code == 200
    assert str(response.url) == "http://status.acme.test/api/v1/monitors/api"
