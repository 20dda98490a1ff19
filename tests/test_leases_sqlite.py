"""SQLite shard leases: one holder at a time, renewed by the holder, taken over once expired."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from upwatch.runtime.locks import SqliteLeases
from upwatch.store.database import create_engine, database_url
from upwatch.store.migrate import migrate

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


async def test_a_lease_has_one_holder_until_it_expires_and_renewing_keeps_it(
    tmp_path: Path,
) -> None:
    engine = create_engine(database_url({"DATABASE_URL": f"sqlite:///{tmp_path / 'u.db'}"}))
    await migrate(engine)
    first, second = SqliteLeases(engine, "a:1"), SqliteLeases(engine, "b:2")
    try:
        assert await first.take(3, T0)
        assert await first.take(4, T0)
        assert not await second.take(3, T0 + timedelta(seconds=5))

        later = T0 + timedelta(seconds=8)
        assert await first.keep({3, 4}, later) == {3, 4}
        assert not await second.take(3, later + timedelta(seconds=5))  # renewed: still held
        async with engine.begin() as connection:  # the pipeline's check renews them too
            assert await first.confirmed(connection, {3, 4}, later + timedelta(seconds=1))

        expired = later + timedelta(seconds=12)  # the first holder stalled past its lease
        assert await second.take(3, expired)
        async with engine.begin() as connection:  # the pipeline may not judge shard 3 any more
            assert not await first.confirmed(connection, {3, 4}, expired)
        assert await first.keep({3, 4}, expired) == {4}  # 4 was free to renew, 3 is gone
        await first.give_back(4)
        assert await second.take(4, expired)
    finally:
        await engine.dispose()
