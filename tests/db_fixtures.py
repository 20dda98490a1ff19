"""Real databases for tests: a SQLite file per test, and a fresh PostgreSQL database per run.

`db_url` is parametrized over both backends, so one contract suite runs on each (the store's
behaviour must not depend on the backend). With CI=true a missing PostgreSQL fails the run.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from upwatch.store.database import create_engine, database_url
from upwatch.store.migrate import migrate
from upwatch.store.tables import Base

PG_ADMIN = os.environ.get("UPWATCH_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


async def _pg_admin(sql: str) -> None:
    connection = await asyncpg.connect(PG_ADMIN, timeout=5)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def _pg_available() -> bool:
    try:
        asyncio.run(_pg_admin("SELECT 1"))
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    return True


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """The URL of a PostgreSQL database created for this test run and dropped after it."""
    if not _pg_available():
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL on 127.0.0.1:5432 is required under CI=true")
        pytest.skip("PostgreSQL on 127.0.0.1:5432 is not running")
    name = f"upwatch_test_{os.getpid()}_{secrets.token_hex(3)}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A DATABASE_URL as a user writes it, for an empty database of each backend."""
    return fresh_db_url(request.param, request, tmp_path)


def fresh_db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'upwatch.db'}"
    url: str = request.getfixturevalue("pg_database")
    asyncio.run(_reset_pg(url))
    return url.replace("postgresql://", "postgres://", 1)  # Railway's spelling


async def _reset_pg(url: str) -> None:
    connection = await asyncpg.connect(url, timeout=5)
    try:
        await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    finally:
        await connection.close()


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    """A migrated database of each backend."""
    created = create_engine(database_url({"DATABASE_URL": db_url}))
    await migrate(created)
    try:
        yield created
    finally:
        await created.dispose()


async def table_counts(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as connection:
        return {
            name: (await connection.execute(text(f"SELECT count(*) FROM {name}"))).scalar_one()
            for name in Base.metadata.tables
        }
