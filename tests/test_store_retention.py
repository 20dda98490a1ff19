from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from upwatch.probes.result import ProbeResult, ProbeState
from upwatch.store.results import write_results
from upwatch.store.retention import BATCH, prune
from upwatch.store.tables import HOURLY, MONITORS, RESULTS

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


async def _seed(engine: AsyncEngine, ages: list[timedelta]) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            MONITORS.insert(),
            {
                "id": "api",
                "name": "API",
                "type": "http",
                "interval_seconds": 60.0,
                "public": True,
                "paused": False,
                "created_at": NOW,
                "updated_at": NOW,
            },
        )
        rows = [("api", ProbeResult(ProbeState.UP, NOW - age, 0.05)) for age in ages]
        await write_results(connection, rows)


async def _count(engine: AsyncEngine, table: object) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(table))).scalar_one())  # type: ignore[arg-type]


async def test_pruning_keeps_recent_results_and_removes_old_ones_in_batches(
    engine: AsyncEngine,
) -> None:
    old = [timedelta(days=31, seconds=i) for i in range(BATCH + 7)]
    recent = [timedelta(days=29, seconds=i) for i in range(5)]
    await _seed(engine, old + recent)

    pruned = await prune(engine, NOW, raw=timedelta(days=30), rollups=timedelta(days=400))

    assert pruned.results == len(old)
    assert await _count(engine, RESULTS) == len(recent)
    assert await _count(engine, HOURLY) > 0  # rollups outlive raw results


async def test_rollups_older_than_their_retention_are_pruned(engine: AsyncEngine) -> None:
    await _seed(engine, [timedelta(days=10), timedelta(hours=1)])

    pruned = await prune(engine, NOW, raw=timedelta(days=30), rollups=timedelta(days=5))

    assert pruned.rollups == 2  # the old hour and the old day
    assert await _count(engine, HOURLY) == 1


async def test_a_resolved_incident_adds_its_downtime_to_each_hour_and_day_it_spans(
    engine: AsyncEngine,
) -> None:
    from upwatch.store.rollups import add_downtime
    from upwatch.store.tables import DAILY

    await _seed(engine, [])
    start = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)
    async with engine.begin() as connection:
        await add_downtime(connection, "api", start, start + timedelta(minutes=45))
        await add_downtime(connection, "api", start, start + timedelta(minutes=10))
    async with engine.connect() as connection:
        hours = dict(
            (await connection.execute(select(HOURLY.c.bucket, HOURLY.c.downtime_seconds))).all()
        )
        days = dict(
            (await connection.execute(select(DAILY.c.bucket, DAILY.c.downtime_seconds))).all()
        )
    assert hours[datetime(2026, 11, 23, 23, tzinfo=UTC)] == 30 * 60 + 10 * 60
    assert hours[datetime(2026, 11, 24, 0, tzinfo=UTC)] == 15 * 60
    assert days[datetime(2026, 11, 24, tzinfo=UTC)] == 15 * 60
