"""Enqueueing notifications: once per key, in the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_
from sqlalchemy.ext.asyncio import AsyncConnection

from upwatch.engine.model import Notice
from upwatch.store.tables import OUTBOX
from upwatch.store.upsert import insert_ignore


def cancellable(now: datetime) -> ColumnElement[bool]:
    """Outbox rows an acknowledgement or resolution may still cancel: never attempted, not
    sent, not cancelled, and not held by a live claim (a row being sent right now stays, so its
    channel counts as told and hears about the resolution too)."""
    return and_(
        OUTBOX.c.attempts == 0,
        OUTBOX.c.delivered_at.is_(None),
        OUTBOX.c.cancelled_at.is_(None),
        or_(OUTBOX.c.claimed_until.is_(None), OUTBOX.c.claimed_until <= now),
    )


async def enqueue(connection: AsyncConnection, notices: Iterable[Notice], now: datetime) -> int:
    """Insert each notice unless its key is already in the outbox; returns how many were new."""
    rows = [
        {
            "key": n.key,
            "event": str(n.event),
            "channel": n.channel,
            "monitor_id": n.monitor_id,
            "incident_id": n.incident_id,
            "step": n.step,
            "repeat": n.repeat,
            "payload": n.data,
            "event_at": n.at,
            "created_at": now,
            "next_attempt_at": now,
        }
        for n in notices
    ]
    return await insert_ignore(connection, OUTBOX, rows, ["key"])
