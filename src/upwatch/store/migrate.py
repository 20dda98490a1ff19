"""Bringing the schema to the latest Alembic revision, under a lock so two processes never race.

PostgreSQL: a session advisory lock held on the migrating connection. SQLite: the database is a
local file, so an exclusive `flock` on a file beside it does the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATION_LOCK_KEY = 0x75707761  # "upwa": the advisory lock id for migrations


def migrations_dir() -> Path:
    """Where the Alembic scripts are: inside the installed wheel, else the checkout's top level."""
    packaged = Path(str(resources.files("upwatch"))) / "_migrations"
    if (packaged / "env.py").exists():
        return packaged
    return Path(__file__).resolve().parents[3] / "migrations"


def alembic_config() -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(migrations_dir()))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _upgrade(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def migrate(engine: AsyncEngine) -> None:
    """Upgrade to head; safe to run from several processes at once."""
    async with _file_lock(engine.url), engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            await connection.execute(text(f"SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
        try:
            await connection.run_sync(_upgrade)
            await connection.commit()
        finally:
            if engine.dialect.name == "postgresql":
                unlock = text(f"SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})")
                await connection.execute(unlock)
                await connection.commit()


async def is_migrated(engine: AsyncEngine) -> bool:
    async with engine.connect() as connection:
        return await connection.run_sync(_current) == head_revision()


@contextlib.asynccontextmanager
async def _file_lock(url: URL) -> AsyncIterator[None]:
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        yield
        return
    lock_path = Path(url.database).with_name(Path(url.database).name + ".migrate-lock")
    flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC
    with os.fdopen(os.open(lock_path, flags, 0o600), "r+b") as handle:  # private, as the database
        # Poll without blocking: a blocking flock would freeze the event loop (and the HTTP
        # server answering health checks) while another process migrates.
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                await asyncio.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
