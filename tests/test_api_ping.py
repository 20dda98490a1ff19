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


async def test_two_successes_within_a_second_store_one_check_in_and_both_are_answered_ok(
    engine: AsyncEngine, make_harness: MakeHarness, make_client: MakeClient
) -> None:
    harness = await make_harness(config(BACKUP))
    client = make_client(harness)

    harness.clock.now = at(minutes=10)
    first = await client.get(f"/ping/backup/{TOKEN}")
    harness.clock.now = at(minutes=10, seconds=0.999)
    second = await client.post(f"/ping/backup/{TOKEN}")
    await harness.flush(at(minutes=10, seconds=2))

    assert [(r.status_code, r.text) for r in (first, second)] == [(200, "OK\n"), (200, "OK\n")]
    assert [r.checked_at for r in await results(engine, "backup")] == [at(minutes=10)]
    scrape = (await client.get("/metrics")).text
    assert "upwatch_checkins_coalesced_total 1.0" in scrape
    assert "backup" not in scrape  # the private monitor is not named on public /metrics


async def test_a_success_a_second_after_the_last_stored_one_is_stored(
    engine: AsyncEngine, make_harness: MakeHarness, make_client: MakeClient
) -> None:
    harness = await make_harness(config(BACKUP))
    client = make_client(harness)

    for seconds in (0, 0.5, 1, 1.7, 2.1):
        harness.clock.now = at(minutes=10, seconds=seconds)
        assert (await client.get(f"/ping/backup/{TOKEN}")).status_code == 200
    await harness.flush(at(minutes=10, seconds=3))

    stored = [r.checked_at for r in await results(engine, "backup")]
    assert stored == [at(minutes=10), at(minutes=10, seconds=1), at(minutes=10, seconds=2.1)]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("", "/fail"),  # a failure right after a success changes the story
        ("/fail", ""),  # and so does the recovery right after it
        ("/fail", "/fail"),  # failures are never thinned: they count towards the threshold
    ],
)
async def test_a_check_in_of_the_other_kind_or_a_failure_is_always_stored(
    first: str,
    second: str,
    engine: AsyncEngine,
    make_harness: MakeHarness,
    make_client: MakeClient,
) -> None:
    harness = await make_harness(config(BACKUP))
    client = make_client(harness)

    harness.clock.now = at(minutes=20)
    answers = [await client.get(f"/ping/backup/{TOKEN}{first}")]
    harness.clock.now = at(minutes=20, seconds=0.2)
    answers.append(await client.get(f"/ping/backup/{TOKEN}{second}"))
    await harness.flush(at(minutes=20, seconds=1))

    assert [a.status_code for a in answers] == [200, 200]
    stored = [(r.checked_at, r.state) for r in await results(engine, "backup")]
    states = ["down" if suffix else "up" for suffix in (first, second)]
    assert stored == list(zip([at(minutes=20), at(minutes=20, seconds=0.2)], states, strict=True))
