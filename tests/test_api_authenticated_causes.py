"""The API's reads for the holder of UPWATCH_API_TOKEN: the full technical cause, where anyone
else reads the plain public words; a wrong token is a 401, and no authenticated answer is kept by
a cache that serves anyone else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.store_helpers import Harness, MakeHarness, at, config, down, http, up

TOKEN = "api-token-for-causes-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
TECHNICAL = "expected status 200, got 503 from https://web.acme.test/health"
PUBLIC_WORDS = "Unexpected response"
# Bits of the technical cause that must never reach an anonymous reader.
TELLTALES = ("web.acme.test", "got 503", "expected status")
PUBLIC_PATHS = (
    "/",
    "/monitors/web",
    "/api/v1/status",
    "/api/v1/incidents",
    "/api/v1/monitors/web",
    "/api/v1/monitors/web/results",
    "/feed.json",
    "/feed.atom",
)
READS = ("/api/v1/incidents", "/api/v1/monitors/web", "/api/v1/monitors/web/results")
MakeApi = Callable[..., httpx.AsyncClient]


@pytest.fixture
async def harness(make_harness: MakeHarness) -> Harness:
    """`web` down with a technical cause naming its URL, and an open incident."""
    made: Harness = await make_harness(config(http("api"), http("web")))
    await made.feed("api", up(at(minutes=1)))
    await made.feed("web", *(down(at(minutes=m), TECHNICAL, "HTTP 503") for m in (1, 2, 3)))
    made.clock.now = at(minutes=10)
    return made


@pytest.fixture
def make_api(make_client: Callable[..., httpx.AsyncClient]) -> MakeApi:
    """Clients on an app whose UPWATCH_API_TOKEN is `token`, with the daemon's own page cache
    (a snapshot is reused between requests, as in production)."""

    def make(harness: Harness, token: str | None = TOKEN) -> httpx.AsyncClient:
        return make_client(harness, api_token=token)

    return make


def causes(path: str, body: dict[str, Any]) -> list[str | None]:
    """Every cause in the answer of `path`."""
    if path == "/api/v1/incidents":
        return [i["cause"] for i in body["incidents"]]
    if path.endswith("/results"):
        return [r["cause"] for r in body["results"] if r["state"] == "down"]
    return [body["cause"], *(i["cause"] for i in body["incidents"])]


def varies_on(response: httpx.Response) -> set[str]:
    return {name.strip() for name in response.headers.get("vary", "").split(",")}


@pytest.mark.parametrize("path", READS)
async def test_anonymous_readers_get_the_public_words_and_the_token_the_technical_cause(
    engine: AsyncEngine, harness: Harness, make_api: MakeApi, path: str
) -> None:
    client = make_api(harness)

    anonymous = await client.get(path)
    trusted = await client.get(path, headers=AUTH)

    assert (anonymous.status_code, trusted.status_code) == (200, 200)
    assert set(causes(path, anonymous.json())) == {PUBLIC_WORDS}
    assert set(causes(path, trusted.json())) == {TECHNICAL}
    assert "Authorization" in varies_on(anonymous)
    assert "cache-control" not in anonymous.headers
    assert trusted.headers["cache-control"] == "private, no-store"
    assert "Authorization" in varies_on(trusted)


@pytest.mark.parametrize("path", READS)
@pytest.mark.parametrize("header", ["Bearer wrong-token", "Bearer ", f"bearer {TOKEN}x"])
async def test_a_wrong_token_is_a_401_not_a_public_answer(
    engine: AsyncEngine,
    harness: Harness,
    make_api: MakeApi,
    capsys: pytest.CaptureFixture[str],
    path: str,
    header: str,
) -> None:
    response = await make_api(harness).get(path, headers={"Authorization": header})

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="upwatch api"'
    assert response.json() == {
        "error": "unauthorized: send the header Authorization: Bearer <UPWATCH_API_TOKEN>"
    }
    written = capsys.readouterr()
    for secret in (TOKEN, "wrong-token"):
        assert secret not in written.out + written.err


async def test_a_bearer_token_while_none_is_configured_is_a_401(
    engine: AsyncEngine, harness: Harness, make_api: MakeApi
) -> None:
    client = make_api(harness, token=None)

    assert (await client.get("/api/v1/incidents", headers=AUTH)).status_code == 401
    assert (await client.get("/api/v1/incidents")).status_code == 200


async def test_another_scheme_of_credential_leaves_the_answer_public(
    engine: AsyncEngine, harness: Harness, make_api: MakeApi
) -> None:
    # A reverse proxy's own Basic credential, passed on, is no claim to the API token.
    response = await make_api(harness).get(
        "/api/v1/incidents", headers={"Authorization": f"Basic {TOKEN}"}
    )

    assert response.status_code == 200
    assert causes("/api/v1/incidents", response.json()) == [PUBLIC_WORDS]


async def test_the_technical_cause_never_reaches_an_anonymous_reader_after_a_trusted_one(
    engine: AsyncEngine, harness: Harness, make_api: MakeApi
) -> None:
    client = make_api(harness)
    for path in READS:
        trusted = await client.get(path, headers=AUTH)
        assert TECHNICAL in trusted.text

    for path in PUBLIC_PATHS:
        anonymous = await client.get(path)
        assert anonymous.status_code == 200, path
        assert not [t for t in TELLTALES if t in anonymous.text], path
    page = (await client.get("/")).text
    assert PUBLIC_WORDS in page


async def test_status_is_the_public_snapshot_whoever_asks(
    engine: AsyncEngine, harness: Harness, make_api: MakeApi
) -> None:
    client = make_api(harness)

    trusted = await client.get("/api/v1/status", headers=AUTH)
    anonymous = await client.get("/api/v1/status")

    assert trusted.content == anonymous.content
    assert TECHNICAL not in trusted.text
