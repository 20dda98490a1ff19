"""Alembic environment: upwatch passes its own connection (see upwatch.store.migrate).

Run by hand for development: `DATABASE_URL=sqlite:///dev.db alembic -c migrations/alembic.ini ...`
uses a synchronous engine built from DATABASE_URL.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import create_engine

from upwatch.store.tables import Base

config = context.config


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite can only ALTER TABLE through batch mode
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = os.environ.get("DATABASE_URL", "sqlite:///upwatch.db")
    url = url.replace("postgres://", "postgresql://", 1).replace("+asyncpg", "")
    with create_engine(url).connect() as sync_connection:
        _run(sync_connection)
