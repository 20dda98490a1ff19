"""Database errors in words, for a log line or a one-line CLI message.

SQLAlchemy's own text carries the SQL and its parameters (and a link); the driver's first line
says what a person needs: `database "upwatch" does not exist`, `password authentication failed
for user "app"`, `Connect call failed ('10.0.0.5', 5432)`. Neither the URL nor a password is in it.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy.exc import DBAPIError

MAX_CHARS = 200


def describe_database_error(exc: BaseException) -> str:
    cause: BaseException = exc
    if isinstance(exc, DBAPIError) and isinstance(exc.orig, BaseException):
        cause = exc.orig
    lines = str(cause).strip().splitlines()
    text = lines[0] if lines else ""
    if not text or isinstance(cause, TimeoutError):
        text = "timed out" if isinstance(cause, TimeoutError) else type(cause).__name__
    return text[:MAX_CHARS]


def is_contention(exc: BaseException) -> bool:
    """SQLite's "database is locked" (or busy): another writer held the write lock past the busy
    timeout. The database is there and answering; the work waits and is retried, it is never an
    outage (no shards dropped, no results given up, no warning)."""
    cause = exc.orig if isinstance(exc, DBAPIError) else exc
    if not isinstance(cause, sqlite3.OperationalError):
        return False
    text = str(cause).lower()
    return "locked" in text or "busy" in text
