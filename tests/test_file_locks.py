"""SQLite shards on kernel locks: one holder at a time, free the instant the holder dies."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from upwatch.runtime.file_locks import FileShardLocks, lock_path
from upwatch.store.database import create_engine, database_url

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)

HOLD_AND_WAIT = """
import asyncio, sys
from pathlib import Path
from upwatch.runtime.file_locks import FileShardLocks
locks = FileShardLocks(Path(sys.argv[1]))
assert asyncio.run(locks.take(3, None))
print("held", flush=True)
sys.stdin.read()
"""


async def test_a_shard_has_one_holder_until_it_is_given_back(tmp_path: Path) -> None:
    first = FileShardLocks(tmp_path / "u.db-shards")
    second = FileShardLocks(tmp_path / "u.db-shards")
    try:
        assert await first.take(3, T0)
        assert await first.take(4, T0)
        assert not await second.take(3, T0)  # two instances in one process exclude each other
        assert await first.keep({3, 4}, T0) == {3, 4}

        await first.give_back(4)
        assert await second.take(4, T0)
        assert not await first.take(4, T0)
    finally:
        await first.close()
        await second.close()


async def test_closing_frees_every_shard_and_the_seat(tmp_path: Path) -> None:
    first = FileShardLocks(tmp_path / "u.db-shards")
    second = FileShardLocks(tmp_path / "u.db-shards")
    assert await first.take(7, T0)
    assert (first.live(5), second.live(5)) == (2, 2)  # seats, not a stale heartbeat count
    assert first.live(1) == 1  # the other one stepped down: it no longer beats

    await first.close()

    assert await second.take(7, T0)
    assert second.live(5) == 1
    await second.close()


async def test_a_killed_holder_frees_its_shards_at_once(tmp_path: Path) -> None:
    path = tmp_path / "u.db-shards"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_AND_WAIT, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    here = FileShardLocks(path)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == b"held\n"
        assert not await here.take(3, T0)
        assert here.live(2) == 2

        holder.kill()
        holder.wait(timeout=10)
        deadline = time.monotonic() + 2  # the kernel drops them with the process, not later
        while not await here.take(3, T0) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert await here.take(3, T0)
        assert here.live(2) == 1
    finally:
        holder.kill()
        holder.wait(timeout=10)
        await here.close()


async def test_the_lock_file_sits_beside_the_database_readable_by_its_owner_only(
    tmp_path: Path,
) -> None:
    engine = create_engine(database_url({"DATABASE_URL": f"sqlite:///{tmp_path / 'u.db'}"}))
    path = lock_path(engine)
    assert path == tmp_path / "u.db-shards"

    assert path is not None
    await FileShardLocks(path).close()

    assert path.stat().st_mode & 0o777 == 0o600
