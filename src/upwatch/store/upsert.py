"""`INSERT ... ON CONFLICT` for both backends: the same statement shape on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection


def insert_for(connection: AsyncConnection, table: Table) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT."""
    module = postgresql if connection.dialect.name == "postgresql" else sqlite
    return module.insert(table)


_UPSERTS: dict[tuple[str, str, tuple[str, ...], tuple[str, ...]], Any] = {}


async def upsert(
    connection: AsyncConnection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    keys: Sequence[str],
    update: Sequence[str],
) -> None:
    """Insert `rows`; where `keys` already exist, overwrite the `update` columns."""
    if not rows:
        return
    key = (connection.dialect.name, table.name, tuple(keys), tuple(update))
    statement = _UPSERTS.get(key)
    if statement is None:  # built once: building it and its cache key every flush costs CPU
        statement = insert_for(connection, table)
        statement = _UPSERTS[key] = statement.on_conflict_do_update(
            index_elements=list(keys), set_={c: statement.excluded[c] for c in update}
        )
    await connection.execute(statement, list(rows))


async def insert_ignore(
    connection: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]], keys: Sequence[str]
) -> int:
    """Insert `rows`, skipping any whose `keys` exist already; returns how many were new."""
    count = 0
    for row in rows:  # one at a time: executemany does not report per-row counts everywhere
        statement = insert_for(connection, table).on_conflict_do_nothing(index_elements=list(keys))
        result = await connection.execute(statement, row)
        count += result.rowcount or 0
    return count
