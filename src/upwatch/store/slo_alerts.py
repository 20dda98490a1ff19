"""SLO alert rows, and the check that opens, escalates and resolves them.

`check` runs in the pipeline's transaction (so only the holder of a monitor's shard writes its
alerts, and an alert and its messages commit together). It reads every open alert, computes the
SLO of each monitor held, and moves each alert as its condition says.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from upwatch.config.models import Config
from upwatch.engine.context import policy_steps
from upwatch.engine.model import EscalationProgress
from upwatch.engine.slo import SloStatus
from upwatch.engine.slo_alerts import SloAlert, due_notices, resolved_notices
from upwatch.store.outbox import cancellable, enqueue
from upwatch.store.slo_reads import slo_statuses
from upwatch.store.states import policy_json, policy_of
from upwatch.store.tables import OUTBOX, SLO_ALERTS

log = structlog.get_logger("upwatch.slo")
Opened = tuple[SloAlert, EscalationProgress]


async def check(
    connection: AsyncConnection, config: Config, held: Collection[str], now: datetime
) -> None:
    """Open, escalate and resolve the SLO alerts of the monitors in `held`."""
    alerts = config.slo_alerts
    if alerts is None:
        return
    opened = {(a.monitor_id, a.kind): (a, p) for a, p in await open_alerts(connection, held)}
    with_slo = [m.id for m in config.monitors if m.id in held and m.slo is not None]
    statuses = await slo_statuses(connection, config, with_slo, now)
    wanted = {(m, kind) for m, status in statuses.items() for kind in status.conditions()}
    for key in sorted(opened.keys() - wanted):
        alert, _ = opened[key]
        await resolve(connection, alert, statuses.get(alert.monitor_id), now)
        log.info("slo alert resolved", monitor=alert.monitor_id, kind=alert.kind)
    policy = policy_steps(config, alerts.policy)
    severity = {m.id: m.severity for m in config.monitors}
    for monitor_id, kind in sorted(wanted - opened.keys()):
        alert = SloAlert(monitor_id, kind, now, severity[monitor_id], alerts.policy, policy)
        opened[(monitor_id, kind)] = (await insert(connection, alert), EscalationProgress())
        log.warning("slo alert opened", monitor=monitor_id, kind=kind)
    for key in sorted(wanted):
        alert, progress = opened[key]
        notices, progress = due_notices(alert, progress, statuses[alert.monitor_id], now)
        if notices:
            await enqueue(connection, notices, now)
            await save_progress(connection, alert, progress)
    log.debug("slo alerts checked", monitors=len(with_slo), open=len(wanted))


async def open_alerts(connection: AsyncConnection, held: Collection[str]) -> list[Opened]:
    """The open alerts of `held` monitors (all open alerts are read: they are few)."""
    query = select(SLO_ALERTS).where(SLO_ALERTS.c.resolved_at.is_(None))
    return [
        (_alert(row), EscalationProgress.from_json(row.progress))
        for row in await connection.execute(query)
        if row.monitor_id in held
    ]


async def insert(connection: AsyncConnection, alert: SloAlert) -> SloAlert:
    values = {
        "monitor_id": alert.monitor_id,
        "kind": alert.kind,
        "opened_at": alert.opened_at,
        "severity": alert.severity,
        "policy_name": alert.policy_name,
        "policy": policy_json(alert.policy),
        "progress": EscalationProgress().to_json(),
    }
    result = await connection.execute(SLO_ALERTS.insert().returning(SLO_ALERTS.c.id), values)
    return replace(alert, id=int(result.scalar_one()))


async def save_progress(
    connection: AsyncConnection, alert: SloAlert, progress: EscalationProgress
) -> None:
    statement = update(SLO_ALERTS).where(SLO_ALERTS.c.id == alert.id)
    await connection.execute(statement, {"progress": progress.to_json()})


async def find(connection: AsyncConnection, alert_id: int) -> tuple[SloAlert, Any] | None:
    """An alert by id, with its row (for `resolved_at`), for the acknowledge page."""
    row = (await connection.execute(select(SLO_ALERTS).where(SLO_ALERTS.c.id == alert_id))).first()
    return None if row is None else (_alert(row), row)


async def acknowledge(connection: AsyncConnection, alert: SloAlert, now: datetime) -> bool:
    """Acknowledge an open alert once: its steps and reminders not yet sent are cancelled."""
    statement = update(SLO_ALERTS).where(
        SLO_ALERTS.c.id == alert.id,
        SLO_ALERTS.c.resolved_at.is_(None),
        SLO_ALERTS.c.acknowledged_at.is_(None),
    )
    if (await connection.execute(statement, {"acknowledged_at": now})).rowcount != 1:
        return False
    await _cancel_unsent(connection, alert, now)
    return True


async def _cancel_unsent(connection: AsyncConnection, alert: SloAlert, now: datetime) -> None:
    cancel = update(OUTBOX).where(
        OUTBOX.c.key.like(f"{alert.subject}:%"),
        OUTBOX.c.event != "slo.resolved",
        cancellable(now),
    )
    await connection.execute(cancel, {"cancelled_at": now})


async def resolve(
    connection: AsyncConnection, alert: SloAlert, status: SloStatus | None, now: datetime
) -> None:
    """Close `alert`: cancel its steps not yet sent and tell every channel told anything."""
    statement = update(SLO_ALERTS).where(SLO_ALERTS.c.id == alert.id)
    await connection.execute(statement, {"resolved_at": now})
    await _cancel_unsent(connection, alert, now)
    mine = OUTBOX.c.key.like(f"{alert.subject}:%")
    query = select(OUTBOX.c.channel).where(mine, OUTBOX.c.cancelled_at.is_(None)).distinct()
    told = [row.channel for row in await connection.execute(query)]
    await enqueue(connection, resolved_notices(alert, told, status, now), now)


def _alert(row: Any) -> SloAlert:
    return SloAlert(
        monitor_id=row.monitor_id,
        kind=row.kind,
        opened_at=row.opened_at,
        severity=row.severity,
        policy_name=row.policy_name,
        policy=policy_of(row.policy),
        id=row.id,
        acknowledged_at=row.acknowledged_at,
    )
