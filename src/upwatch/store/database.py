"""Opening the database named by DATABASE_URL, on SQLite or PostgreSQL."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from upwatch.errors import UsageError

DEFAULT_URL = "sqlite:///upwatch.db"
SQLITE_BUSY_TIMEOUT_MS = 10_000


def database_url(environ: Mapping[str, str] | None = None) -> URL:
    """The async SQLAlchemy URL for $DATABASE_URL (Railway's `postgres://` form accepted)."""
    raw = (environ if environ is not None else os.environ).get("DATABASE_URL") or DEFAULT_URL
    try:
        url = make_url(raw)
    except ArgumentError:
        raise UsageError("DATABASE_URL is not a database URL (e.g. postgresql://...)") from None
    backend = url.get_backend_name()
    if backend in ("postgres", "postgresql"):
        query = dict(url.query)
        if "sslmode" in query:  # libpq's spelling; asyncpg calls it `ssl`
            query["ssl"] = query.pop("sslmode")
        return url.set(drivername="postgresql+asyncpg", query=query)
    if backend == "sqlite":
        return url.set(drivername="sqlite+aiosqlite")
    raise UsageError(f"DATABASE_URL: unsupported database '{backend}'; use sqlite or postgresql")


def safe_url(url: URL) -> str:
    """The URL for logs and messages: never the password."""
    return url.render_as_string(hide_password=True)


def create_engine(url: URL, **options: Any) -> AsyncEngine:
    if url.get_backend_name() == "sqlite":
        engine = create_async_engine(url, **options)
        event.listen(engine.sync_engine, "do_connect", _create_private(url))
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    options.setdefault("pool_pre_ping", True)
    options.setdefault("pool_size", 5)
    options.setdefault("max_overflow", 5)
    return create_async_engine(url, **options)


def _create_private(url: URL) -> Callable[..., None]:
    """Create the database file 0600 before SQLite opens it (SQLite would create it 0644).

    SQLite gives the -wal and -shm files beside it the database file's own permissions, so the
    history stays readable by this user only. The process umask is left alone: it is shared
    with every thread. An existing file keeps the permissions it has.
    """
    database = url.database

    def create(*_args: Any) -> None:
        if not database or database == ":memory:" or database.startswith("file:"):
            return
        with contextlib.suppress(OSError):  # exists already, or no folder: SQLite says why
            os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600))

    return create


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers (pages) proceed while the writer commits; the busy timeout makes a second
    # process wait for the write lock instead of failing at once.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
