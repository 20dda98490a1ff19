"""Backpressure: probing waits for the writer when it falls behind, never during an outage."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from structlog.testing import capture_logs

from upwatch.probes.result import ProbeResult, ProbeState
from upwatch.runtime.pipeline import Observation, Pipeline
from upwatch.store import database
from upwatch.store.database import database_url
from upwatch.store.rollups import RollupCache

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


class Judge:
    """An evaluator that stores nothing: the test is about the buffer."""

    first_results: dict[str, datetime] = {}  # noqa: RUF012 - read-only here
    rollups = RollupCache()

    async def evaluate(
        self, connection: AsyncConnection, batch: Sequence[Observation], now: datetime
    ) -> list[tuple[str, ProbeResult]]:
        return []

    def commit(self) -> None:
        return None

    def rollback(self) -> None:
        return None


def observation(i: int) -> Observation:
    return Observation(f"m{i}", ProbeResult(ProbeState.UP, NOW, 0.01))


async def blocked(pipeline: Pipeline) -> bool:
    try:
        async with asyncio.timeout(0.05):
            await pipeline.room()
    except TimeoutError:
        return True
    return False


async def test_probing_waits_while_the_writer_is_behind_and_resumes_after_a_flush(
    tmp_path: Path,
) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'ok.db'}")
    pipeline = Pipeline(engine, Judge(), lambda: NOW, batch_size=4)
    for i in range(3):
        pipeline.submit(observation(i))
    assert not await blocked(pipeline)
    pipeline.submit(observation(3))
    assert await blocked(pipeline)
    assert await pipeline.flush()
    assert not await blocked(pipeline)
    await engine.dispose()


async def test_during_an_outage_probing_goes_on_and_results_are_buffered(tmp_path: Path) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'x.db'}")
    pipeline = Pipeline(engine, Judge(), lambda: NOW, batch_size=4)
    assert not await pipeline.flush()  # the database cannot be opened: an outage
    for i in range(12):
        pipeline.submit(observation(i))
    assert not await blocked(pipeline)
    assert len(pipeline.buffer) == 12
    await engine.dispose()


class SlowJudge(Judge):
    """A writer that takes its time over every batch, as on an overloaded machine."""

    async def evaluate(
        self, connection: AsyncConnection, batch: Sequence[Observation], now: datetime
    ) -> list[tuple[str, ProbeResult]]:
        await asyncio.sleep(0.05)
        return []


class WritingJudge(Judge):
    """A writer that writes: it needs SQLite's write lock."""

    async def evaluate(
        self, connection: AsyncConnection, batch: Sequence[Observation], now: datetime
    ) -> list[tuple[str, ProbeResult]]:
        await connection.exec_driver_sql("CREATE TABLE IF NOT EXISTS seen (id TEXT)")
        for observed in batch:
            await connection.exec_driver_sql("INSERT INTO seen VALUES (?)", (observed.monitor_id,))
        return []


async def test_at_shutdown_a_slow_writer_still_stores_everything_while_batches_commit(
    tmp_path: Path,
) -> None:
    # 50 batches of 0.05 s each: far past the 1 s allowed without progress, yet each commits.
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'ok.db'}")
    pipeline = Pipeline(engine, SlowJudge(), lambda: NOW, batch_size=10)
    for i in range(500):
        pipeline.submit(observation(i))

    await pipeline.drain(1.0)

    assert not pipeline.buffer
    await engine.dispose()


async def test_a_locked_sqlite_database_is_contention_not_an_outage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database, "SQLITE_BUSY_TIMEOUT_MS", 100)
    path = tmp_path / "busy.db"
    engine = database.create_engine(database_url({"DATABASE_URL": f"sqlite:///{path}"}))
    pipeline = Pipeline(engine, WritingJudge(), lambda: NOW, batch_size=4)
    assert await pipeline.flush()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer holds the write lock
    try:
        with capture_logs() as logs:
            for i in range(6):
                pipeline.submit(observation(i))
            assert not await pipeline.flush()
    finally:
        other.execute("ROLLBACK")
        other.close()

    assert pipeline.database_up, "busy is not unreachable"
    assert await blocked(pipeline), "probing waits for the writer, as when it is slow"
    assert not [e for e in logs if e["log_level"] in ("warning", "error")], logs
    assert await pipeline.flush()
    assert not pipeline.buffer
    async with engine.connect() as connection:
        stored = await connection.exec_driver_sql("SELECT count(*) FROM seen")
        assert stored.scalar_one() == 6
    await engine.dispose()
