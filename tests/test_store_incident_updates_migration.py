"""Migration 0008 on a database that already has incidents: they stay monitor incidents, and
downgrading drops only what 0008 added."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from alembic import command
from sqlalchemy import Connection, text

from upwatch.store.database import create_engine, database_url
from upwatch.store.migrate import alembic_config

T = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def _to(revision: str, *, down: bool = False) -> Callable[[Connection], None]:
    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)

    return run


async def test_0008_keeps_existing_incidents_and_downgrades_cleanly(db_url: str) -> None:
    engine = create_engine(database_url({"DATABASE_URL": db_url}))
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_to("0007"))
            await connection.execute(
                text(
                    "INSERT INTO monitors (id, name, type, interval_seconds, public, paused, "
                    "created_at, updated_at) VALUES ('api', 'API', 'http', 60, true, false, :t, :t)"
                ),
                {"t": T},
            )
            await connection.execute(
                text(
                    "INSERT INTO incidents (monitor_id, started_at, confirmed_at, cause) "
                    "VALUES ('api', :t, :t, 'HTTP 503')"
                ),
                {"t": T},
            )
        async with engine.begin() as connection:
            await connection.run_sync(_to("0008"))
            found = (
                await connection.execute(text("SELECT monitor_id, declared, title FROM incidents"))
            ).all()
            assert [tuple(r) for r in found] == [("api", False, None)]
            await connection.execute(
                text(
                    "INSERT INTO incidents (started_at, confirmed_at, cause, title, declared) "
                    "VALUES (:t, :t, 'Slow', 'Slow', true)"
                ),
                {"t": T},
            )
        async with engine.begin() as connection:
            await connection.run_sync(_to("0007", down=True))
            left = (await connection.execute(text("SELECT monitor_id FROM incidents"))).all()
            assert [tuple(r) for r in left] == [("api",)]
    finally:
        await engine.dispose()
