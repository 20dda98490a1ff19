"""Which generation wins: the newest one that an instance still runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.db_fixtures import fresh_db_url
from upwatch.runtime.coordination import Coordinator, Generation
from upwatch.runtime.locks import PgAdvisoryLocks, shard_locks
from upwatch.store import leases
from upwatch.store.database import create_engine, database_url
from upwatch.store.generations import record_generation
from upwatch.store.migrate import migrate

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


async def coordinator(engine: AsyncEngine, clock: Clock) -> Coordinator:
    async with engine.begin() as connection:
        generation = await record_generation(connection, "digest-old", "old:1", 1, clock.now)
    lost: list[set[int]] = []

    async def gained(shards: set[int]) -> None:
        return None

    async def dropped(shards: set[int], forced: bool) -> None:
        lost.append(shards)

    return Coordinator(
        engine,
        shard_locks(engine),
        instance="old:1",
        generation=Generation(generation, "digest-old"),
        clock=clock,
        on_gain=gained,
        on_lose=dropped,
    )


async def test_a_newer_generation_nobody_runs_does_not_stop_the_running_one(
    engine: AsyncEngine,
) -> None:
    clock = Clock()
    running = await coordinator(engine, clock)
    await running.step()
    assert len(running.held) == 64
    async with engine.begin() as connection:  # a newer deployment recorded itself, then crashed
        newer = await record_generation(connection, "digest-new", "new:1", 1, clock.now)

    clock.now += timedelta(seconds=2)
    await running.step()
    assert (running.stepped_down, len(running.held)) == (False, 64)

    async with engine.begin() as connection:  # now it runs: it beats
        await leases.beat(connection, "new:1", newer, clock.now, clock.now)
    clock.now += timedelta(seconds=2)
    await running.step()
    assert (running.stepped_down, running.held) == (True, set())
    async with engine.begin() as connection:  # left the live list: the newer one takes all 64
        assert await leases.live_instances(connection, clock.now, timedelta(seconds=10)) == 1
    await running.leave()


async def confirmed(engine: AsyncEngine, running: Coordinator, now: datetime) -> bool:
    async with engine.begin() as connection:  # as the pipeline asks, first in its transaction
        return await running.confirmed(connection, now)


@pytest.fixture
def pg_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return fresh_db_url("postgres", request, tmp_path)


async def test_a_dropped_lock_connection_holds_results_back_until_the_shards_are_taken_again(
    pg_url: str,
) -> None:
    engine = create_engine(database_url({"DATABASE_URL": pg_url}))
    await migrate(engine)
    clock = Clock()
    try:
        running = await coordinator(engine, clock)
        await running.step()
        locks = running.locks
        assert isinstance(locks, PgAdvisoryLocks)
        assert locks.connection is not None
        assert await confirmed(engine, running, clock.now)

        rival = PgAdvisoryLocks(engine.url)  # another instance, grabbing one shard meanwhile
        async with engine.begin() as connection:
            pid = locks.connection.get_server_pid()
            await connection.execute(text(f"SELECT pg_terminate_backend({pid})"))
        assert await rival.take(7, clock.now)
        with pytest.raises(ConnectionError):
            await confirmed(engine, running, clock.now)  # an outage to the pipeline: nothing judged

        clock.now += timedelta(seconds=2)
        await running.step()
        assert 7 not in running.held
        assert len(running.held) == 63
        assert await confirmed(engine, running, clock.now)
        await rival.close()
        await running.leave()
    finally:
        await engine.dispose()


async def test_a_reload_while_a_step_is_under_way_does_not_step_the_instance_down(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SIGHUP records a new generation and adopts it while the coordinator's step may already
    # have beaten with the old one: the step must not read that as a newer deployment running
    # elsewhere (it stepped down, and nothing was probed until the next restart).
    clock = Clock()
    running = await coordinator(engine, clock)
    await running.step()
    beat = leases.beat

    async def reload_then_beat(connection: Any, *args: Any, **kwargs: Any) -> None:
        async with engine.begin() as other:
            reloaded = await record_generation(other, "digest-new", "old:1", 1, clock.now)
        running.adopt(Generation(reloaded, "digest-new"))
        await beat(connection, *args, **kwargs)

    monkeypatch.setattr(leases, "beat", reload_then_beat)
    clock.now += timedelta(seconds=2)
    await running.step()
    monkeypatch.setattr(leases, "beat", beat)
    assert (running.stepped_down, len(running.held)) == (False, 64)
    clock.now += timedelta(seconds=2)
    await running.step()  # the next beat carries the new generation: still the newest
    assert (running.stepped_down, len(running.held)) == (False, 64)
    await running.leave()
