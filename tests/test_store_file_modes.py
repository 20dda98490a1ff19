"""SQLite files hold the whole history (and causes with internal hostnames): they are created
readable by their owner only, whatever the umask, WAL and shared-memory files included."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from upwatch.runtime.file_locks import FileShardLocks, lock_path
from upwatch.store.database import create_engine, database_url
from upwatch.store.migrate import migrate


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The umask most systems run with: files 0644 unless created otherwise."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("usual_umask")
async def test_the_database_its_wal_shm_and_lock_file_are_created_0600(tmp_path: Path) -> None:
    db = tmp_path / "upwatch.db"
    engine = create_engine(database_url({"DATABASE_URL": f"sqlite:///{db}"}))
    try:
        await migrate(engine)
        async with engine.begin() as connection:  # a write: SQLite opens the WAL and SHM files
            await connection.execute(text("CREATE TABLE probe_of_modes (x INTEGER)"))
        shards = FileShardLocks(lock_path(engine))  # the shard locks a running instance holds
        files = {p.name: mode(p) for p in tmp_path.iterdir()}
        await shards.close()
    finally:
        await engine.dispose()

    expected = [
        "upwatch.db",
        "upwatch.db-shards",
        "upwatch.db-shm",
        "upwatch.db-wal",
        "upwatch.db.migrate-lock",
    ]
    assert sorted(files) == expected
    assert files == dict.fromkeys(expected, 0o600)


@pytest.mark.usefixtures("usual_umask")
async def test_an_existing_database_keeps_the_mode_its_owner_gave_it(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    db.touch(0o640)
    db.chmod(0o640)  # say, readable by a backup group
    engine = create_engine(database_url({"DATABASE_URL": f"sqlite:///{db}"}))
    try:
        await migrate(engine)
    finally:
        await engine.dispose()

    assert mode(db) == 0o640
