"""What every HTTP response carries: security headers, compression, a redacting access log."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
import structlog
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.store_helpers import (
    UNREACHABLE_DB,
    Harness,
    MakeHarness,
    app_context,
    config,
    heartbeat,
    http,
)
from upwatch.store.database import create_engine
from upwatch.web.app import create_app

MakeClient = Callable[[Harness], httpx.AsyncClient]
TOKEN = "s3cret-backup-token"
BACKUP = heartbeat("backup", TOKEN, interval="1h", grace="10m", public=False)


def assert_security_headers(response: httpx.Response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy


PATHS = [
    ("/api/v1/status", 200),
    ("/api/v1/monitors/api", 200),
    ("/api/v1/monitors/nope", 404),
    ("/api/v1/incidents?limit=0", 400),
    (f"/ping/backup/{TOKEN}", 200),
    ("/ping/backup/wrong", 404),
    ("/no/such/page", 404),
    ("/healthz", 503),
    ("/readyz", 200),
]


@pytest.mark.parametrize(("path", "status"), PATHS)
async def test_every_response_carries_the_security_headers(
    path: str,
    status: int,
    engine: AsyncEngine,
    make_harness: MakeHarness,
    make_client: MakeClient,
) -> None:
    harness = await make_harness(config(http("api"), BACKUP))

    response = await make_client(harness).get(path)

    assert response.status_code == status
    assert_security_headers(response)


async def test_the_status_document_is_served_compressed(
    engine: AsyncEngine, make_harness: MakeHarness, make_client: MakeClient
) -> None:
    monitors = [http(f"service-{n}", name=f"Service number {n}") for n in range(8)]
    harness = await make_harness(config(*monitors))

    response = await make_client(harness).get("/api/v1/status", headers={"accept-encoding": "gzip"})

    assert response.headers["content-encoding"] == "gzip"
    assert len(response.json()["groups"][0]["monitors"]) == 8


async def test_the_access_log_never_holds_a_heartbeat_token(
    engine: AsyncEngine, make_harness: MakeHarness, make_client: MakeClient
) -> None:
    harness = await make_harness(config(BACKUP))
    client = make_client(harness)

    with structlog.testing.capture_logs() as logged:
        await client.get(f"/ping/backup/{TOKEN}")
        await client.get(f"/ping/backup/{TOKEN}/fail")

    paths = [entry["path"] for entry in logged if entry["event"] == "request"]
    assert paths == ["/ping/backup/[token]", "/ping/backup/[token]/fail"]
    assert TOKEN not in repr(logged)


@pytest.mark.parametrize(
    "path", ["/api/v1/status", "/api/v1/incidents", "/api/v1/monitors/api/results"]
)
async def test_while_the_database_is_unreachable_the_api_answers_503_json_to_retry(
    path: str, engine: AsyncEngine, make_harness: MakeHarness
) -> None:
    harness = await make_harness(config(http("api")))
    ctx = app_context(harness)
    ctx.engine = gone = create_engine(make_url(UNREACHABLE_DB))
    transport = httpx.ASGITransport(app=create_app(ctx), raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.get(path)
    finally:
        await gone.dispose()

    assert response.status_code == 503
    assert response.json() == {"error": "the database is unreachable; try again in a moment"}
    assert response.headers["retry-after"] == "5"
    assert_security_headers(response)
