"""Heartbeat check-ins over HTTP: `/ping/{id}/{token}` and `.../fail`."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.store_helpers import (
    Harness,
    MakeHarness,
    at,
    config,
    heartbeat,
    http,
    incidents,
    results,
    state,
)

MakeClient = Callable[[Harness], httpx.AsyncClient]
TOKEN = "s3cret-backup-token"
BACKUP = heartbeat("backup", TOKEN, interval="1h", grace="10m", public=False)
NOT_FOUND = "not found: no heartbeat monitor with this id and token\n"


async def test_a_ping_with_the_right_token_is_an_up_check_in_at_the_time_it_arrived(
    engine: AsyncEngine, make_harness: MakeHarness, make_client: MakeClient
) -> None:
    harness = await make_harness(config(BACKUP))
    harness.clock.now = at(minutes=30)

    response = await make_client(harness).get(f"/ping/backup/{TOKEN}")
    await harness.flush(at(minutes=30, seconds=1))

    assert (response.status_code, response.text) == (200, "OK\n")
    [result] = await results(engine, "backup")
    assert (result.checked_at, result.state) == (at(minutes=30), "up")
    assert (await state(engine, "backup")).deadline_at == at(hours=1, minutes=40)


async def test_post_and_head_pings_count_as_check_ins(
    engine: AsyncEngine, make_harness: MakeHarness, make_client: MakeClient
) -> None:
    harness = await make_harness(config(BACKUP))
    client = make_client(harness)

    harness.clock.now = at(minutes=1)
    posted = await client.post(f"/ping/backup/{TOKEN}", content=b"backup finished: 12 GB")
    harness.clock.now = at(minutes=2)
    headed = await client.head(f"/ping/backup/{TOKEN}")
    await harness.flush(at(minutes=3))

    assert (posted.status_code, headed.status_code) == (200, 200)
    assert [r.checked_at for r in await results(engine, "backup")] == [at(minutes=1), at(minutes=2)]


async def test_a_ping_to_fail_is_a_reported_failure(
    engine: AsyncEngine, make_harness: MakeHarness, make_client: MakeClient
) -> None:
    harness = await make_harness(config({**BACKUP, "failure_threshold": 1}))
    harness.clock.now = at(minutes=5)

    response = await make_client(harness).post(f"/ping/backup/{TOKEN}/fail")
    await harness.flush(at(minutes=5, seconds=1))

    assert (response.status_code, response.text) == (200, "OK (failure recorded)\n")
    [result] = await results(engine, "backup")
    assert (result.state, result.cause) == ("down", "reported failure")
    [incident] = await incidents(engine)
    assert (incident.started_at, incident.cause) == (at(minutes=5), "reported failure")


@pytest.mark.parametrize(
    "path",
    [
        "/ping/backup/wrong-token",
        "/ping/backup/wrong-token/fail",
        f"/ping/backup/{TOKEN[:-1]}",
        f"/ping/nope/{TOKEN}",
        f"/ping/api/{TOKEN}",  # an HTTP monitor takes no check-ins
    ],
)
async def test_a_wrong_token_is_answered_exactly_like_an_unknown_id(
    path: str, engine: AsyncEngine, make_harness: MakeHarness, make_client: MakeClient
) -> None:
    harness = await make_harness(config(http("api"), BACKUP))

    response = await make_client(harness).get(path)
    await harness.flush(at(minutes=1))

    assert (response.status_code, response.text) == (404, NOT_FOUND)
    assert await results(engine, "backup") == []
