"""Backpressure: probing waits for the writer when it falls behind, never during an outage."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from upwatch.probes.result import ProbeResult, ProbeState
from upwatch.runtime.pipeline import Observation, Pipeline
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
