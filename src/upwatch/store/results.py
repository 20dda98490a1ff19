"""Writing probe results: raw rows, rollups and each monitor's first-result time, in bulk."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from upwatch.probes.result import ProbeResult
from upwatch.store.rollups import RollupCache
from upwatch.store.tables import MONITORS, RESULTS


def result_row(monitor_id: str, result: ProbeResult) -> dict[str, Any]:
    return {
        "monitor_id": monitor_id,
        "checked_at": result.checked_at,
        "state": str(result.state),
        "duration_ms": round(result.duration * 1000, 3),
        "status_code": result.status_code,
        "cause": result.cause,
        "public_cause": result.public_cause,
        "phases": {k: round(v, 6) for k, v in result.phases.items()} or None,
        "cert_expires_at": result.cert_expires_at,
        "region": None,
    }


async def write_results(
    connection: AsyncConnection,
    results: Sequence[tuple[str, ProbeResult]],
    first: Mapping[str, datetime] | None = None,
    rollups: RollupCache | None = None,
) -> None:
    """Insert `results` and merge them into the rollups (through `rollups`, which then holds the
    merged values until its commit or rollback); `first` names monitors getting their first
    result ever (and when)."""
    if results:
        await connection.execute(RESULTS.insert(), [result_row(m, r) for m, r in results])
        await (rollups or RollupCache()).apply(
            connection,
            [(m, r.checked_at, str(r.state), r.duration * 1000) for m, r in results],
        )
    for monitor_id, at in (first or {}).items():
        statement = (
            update(MONITORS)
            .where(MONITORS.c.id == monitor_id, MONITORS.c.first_result_at.is_(None))
            .values(first_result_at=at)
        )
        await connection.execute(statement)
