"""The delivery worker's outbox queries: find due rows, claim one, record how the attempt went.

A claim is one atomic `UPDATE ... WHERE id = ? AND <still pending> AND <no live claim>` whose
row count says whether this worker won it: the same statement on SQLite and PostgreSQL, safe with
any number of workers, no `SELECT ... FOR UPDATE`. A claim is a lease (`claimed_until`): a worker
killed between claim and completion leaves a row that becomes due again when the lease runs out.
The claim counts the attempt (`attempts + 1`), so an acknowledgement arriving mid-send does not
cancel a message that may already be on its way (see `store.incidents.cancel_unsent`).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, FromClause, and_, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from upwatch.store.incidents import told_channels
from upwatch.store.tables import ATTEMPTS, MONITORS, OUTBOX

# Messages about one incident reach one channel in order: a later one (the resolution) waits
# while an earlier one (the "down" message) is still being retried, for this many attempts of
# the earlier one (about 40 minutes of backoff); after that the later one goes on its own.
ORDERED_ATTEMPTS = 8


@dataclass(frozen=True, slots=True)
class Delivery:
    """A claimed outbox row, with what the database knows of its monitor."""

    id: int
    key: str
    event: str
    channel: str
    monitor_id: str | None
    incident_id: int | None
    payload: dict[str, Any]
    event_at: datetime
    created_at: datetime
    attempts: int  # including the one just claimed
    monitor_name: str | None
    monitor_group: str | None
    monitor_public: bool | None


def _pending(table: FromClause) -> ColumnElement[bool]:
    return and_(
        table.c.delivered_at.is_(None),
        table.c.failed_at.is_(None),
        table.c.cancelled_at.is_(None),
    )


def _unclaimed(now: datetime) -> ColumnElement[bool]:
    return or_(OUTBOX.c.claimed_until.is_(None), OUTBOX.c.claimed_until < now)


def _waits_for_earlier() -> ColumnElement[bool]:
    earlier = OUTBOX.alias("earlier")
    return exists().where(
        earlier.c.incident_id == OUTBOX.c.incident_id,
        earlier.c.channel == OUTBOX.c.channel,
        earlier.c.id < OUTBOX.c.id,
        earlier.c.attempts < ORDERED_ATTEMPTS,
        _pending(earlier),
    )


async def due(
    connection: AsyncConnection, now: datetime, limit: int, skip: Collection[int] = ()
) -> list[int]:
    """Ids of rows to send now, oldest due first (`skip`: rows this worker is sending)."""
    query = (
        select(OUTBOX.c.id)
        .where(
            _pending(OUTBOX),
            OUTBOX.c.next_attempt_at <= now,
            _unclaimed(now),
            ~_waits_for_earlier(),
        )
        .order_by(OUTBOX.c.next_attempt_at, OUTBOX.c.id)
        .limit(limit + len(skip))
    )
    ids = [int(row.id) for row in await connection.execute(query)]
    return [i for i in ids if i not in skip][:limit]


async def claim(
    connection: AsyncConnection, outbox_id: int, *, holder: str, now: datetime, until: datetime
) -> bool:
    """Take the row until `until`; False when another worker has it or it is no longer due."""
    statement = (
        update(OUTBOX)
        .where(
            OUTBOX.c.id == outbox_id,
            _pending(OUTBOX),
            OUTBOX.c.next_attempt_at <= now,
            _unclaimed(now),
        )
        .values(claimed_until=until, claimed_by=holder, attempts=OUTBOX.c.attempts + 1)
    )
    result = await connection.execute(statement)
    return result.rowcount == 1


async def load(connection: AsyncConnection, outbox_id: int) -> Delivery | None:
    query = (
        select(
            OUTBOX,
            MONITORS.c.name.label("monitor_name"),
            MONITORS.c.group_name.label("monitor_group"),
            MONITORS.c.public.label("monitor_public"),
        )
        .join(MONITORS, MONITORS.c.id == OUTBOX.c.monitor_id, isouter=True)
        .where(OUTBOX.c.id == outbox_id)
    )
    row = (await connection.execute(query)).first()
    if row is None:
        return None
    return Delivery(
        id=int(row.id),
        key=row.key,
        event=row.event,
        channel=row.channel,
        monitor_id=row.monitor_id,
        incident_id=row.incident_id,
        payload=dict(row.payload or {}),
        event_at=row.event_at,
        created_at=row.created_at,
        attempts=int(row.attempts),
        monitor_name=row.monitor_name,
        monitor_group=row.monitor_group,
        monitor_public=row.monitor_public,
    )


async def recipients(connection: AsyncConnection, delivery: Delivery) -> tuple[str, ...]:
    """Who has been told: every channel told about the incident, or sent the same notice."""
    if delivery.incident_id is not None:
        return tuple(sorted(await told_channels(connection, delivery.incident_id)))
    query = select(OUTBOX.c.channel).where(
        OUTBOX.c.incident_id.is_(None),
        OUTBOX.c.monitor_id == delivery.monitor_id,
        OUTBOX.c.event == delivery.event,
        OUTBOX.c.event_at == delivery.event_at,
        OUTBOX.c.cancelled_at.is_(None),
    )
    return tuple(sorted({row.channel for row in await connection.execute(query.distinct())}))


async def record_attempt(
    connection: AsyncConnection,
    outbox_id: int,
    *,
    at: datetime,
    status_code: int | None,
    error: str | None,
    duration_ms: float | None,
) -> None:
    values = {
        "outbox_id": outbox_id,
        "attempted_at": at,
        "status_code": status_code,
        "error": error,
        "duration_ms": duration_ms,
    }
    await connection.execute(ATTEMPTS.insert(), values)


async def mark_delivered(connection: AsyncConnection, outbox_id: int, at: datetime) -> None:
    await _finish(connection, outbox_id, {"delivered_at": at, "last_error": None})


async def mark_failed(
    connection: AsyncConnection, outbox_id: int, at: datetime, error: str
) -> None:
    await _finish(connection, outbox_id, {"failed_at": at, "last_error": error})


async def mark_cancelled(connection: AsyncConnection, outbox_id: int, at: datetime) -> None:
    await _finish(connection, outbox_id, {"cancelled_at": at})


async def reschedule(connection: AsyncConnection, outbox_id: int, at: datetime, error: str) -> None:
    """Release the claim and try again at `at`."""
    await _finish(connection, outbox_id, {"next_attempt_at": at, "last_error": error})


async def _finish(connection: AsyncConnection, outbox_id: int, values: dict[str, Any]) -> None:
    # A row another worker delivered meanwhile (this one's lease ran out) stays delivered.
    statement = update(OUTBOX).where(OUTBOX.c.id == outbox_id, OUTBOX.c.delivered_at.is_(None))
    await connection.execute(statement, {**values, "claimed_until": None, "claimed_by": None})
