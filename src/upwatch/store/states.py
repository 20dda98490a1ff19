"""Monitor states and their open incidents, mapped between engine values and rows."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from upwatch.engine.model import (
    EscalationProgress,
    Incident,
    MonitorState,
    PolicyStep,
    Resolution,
    ShownState,
)
from upwatch.probes.result import ProbeState
from upwatch.store.tables import INCIDENTS, MONITORS, STATES
from upwatch.store.upsert import upsert

_COPIED = (
    "since",
    "failure_run",
    "failure_run_started_at",
    "success_run",
    "success_run_started_at",
    "last_success_counted_at",
    "last_result_at",
    "last_cause",
    "last_public_cause",
    "last_status_code",
    "last_checkin_at",
    "armed_at",
    "deadline_at",
    "deadline_missed",
    "last_degraded_notice_at",
    "last_cert_notice_at",
    "flapping_since",
)


@dataclass(frozen=True, slots=True)
class Loaded:
    """One monitor as the evaluator resumes it."""

    state: MonitorState
    progress: EscalationProgress | None  # of the open incident
    created_at: datetime


def policy_json(steps: Sequence[PolicyStep]) -> list[Any]:
    return [
        {
            "after": s.after.total_seconds(),
            "channels": list(s.channels),
            "repeat_every": None if s.repeat_every is None else s.repeat_every.total_seconds(),
            "severities": None if s.severities is None else list(s.severities),
        }
        for s in steps
    ]


def policy_of(value: list[Any] | None) -> tuple[PolicyStep, ...]:
    return tuple(
        PolicyStep(
            timedelta(seconds=s["after"]),
            tuple(s["channels"]),
            None if s["repeat_every"] is None else timedelta(seconds=s["repeat_every"]),
            None if s.get("severities") is None else tuple(s["severities"]),
        )
        for s in value or []
    )


def incident_of(row: Any) -> Incident:
    return Incident(
        monitor_id=row.monitor_id,
        started_at=row.started_at,
        confirmed_at=row.confirmed_at,
        cause=row.cause,
        public_cause=row.public_cause,
        id=row.id,
        resolved_at=row.resolved_at,
        resolution=None if row.resolution is None else Resolution(row.resolution),
        acknowledged_at=row.acknowledged_at,
        policy_name=row.policy_name,
        policy=policy_of(row.policy),
        severity=row.severity or "critical",
        held_by=row.held_by,
        escalate_from=row.escalate_from,
        alert_key=row.alert_key,
    )


def state_of(row: Any, incident: Incident | None) -> MonitorState:
    values = {name: getattr(row, name) for name in _COPIED}
    last = row.last_result_state
    changes = (row.extra or {}).get("changes") or []
    return MonitorState(
        monitor_id=row.monitor_id,
        state=ShownState(row.state),
        last_result_state=None if last is None else ProbeState(last),
        open_incident=incident,
        changes=tuple(datetime.fromisoformat(t) for t in changes),
        **values,
    )


def state_row(state: MonitorState, now: datetime) -> dict[str, Any]:
    row = {name: getattr(state, name) for name in _COPIED}
    incident = state.open_incident
    row.update(
        monitor_id=state.monitor_id,
        state=str(state.state),
        last_result_state=None if state.last_result_state is None else str(state.last_result_state),
        open_incident_id=None if incident is None else incident.id,
        extra={"changes": [t.isoformat() for t in state.changes]} if state.changes else None,
        updated_at=now,
    )
    return row


async def load_states(connection: AsyncConnection, monitor_ids: Iterable[str]) -> dict[str, Loaded]:
    ids = list(monitor_ids)
    query = (
        select(STATES, MONITORS.c.created_at)
        .join(MONITORS, MONITORS.c.id == STATES.c.monitor_id)
        .where(STATES.c.monitor_id.in_(ids))
    )
    rows = list(await connection.execute(query))
    open_ids = [r.open_incident_id for r in rows if r.open_incident_id is not None]
    incidents = {
        r.id: r
        for r in await connection.execute(select(INCIDENTS).where(INCIDENTS.c.id.in_(open_ids)))
    }
    loaded: dict[str, Loaded] = {}
    for row in rows:
        found = incidents.get(row.open_incident_id)
        incident = None if found is None or found.resolved_at is not None else incident_of(found)
        progress = None if found is None else EscalationProgress.from_json(found.progress)
        loaded[row.monitor_id] = Loaded(state_of(row, incident), progress, row.created_at)
    return loaded


async def save_states(
    connection: AsyncConnection, states: Sequence[MonitorState], now: datetime
) -> None:
    rows = [state_row(s, now) for s in states]
    if rows:
        columns = [c for c in rows[0] if c != "monitor_id"]
        await upsert(connection, STATES, rows, ["monitor_id"], columns)


async def latest_result_states(
    connection: AsyncConnection, monitor_ids: Sequence[str]
) -> dict[str, ProbeState | None]:
    """The state of each monitor's latest result, as the database has it (for `depends_on`
    parents evaluated by another process)."""
    query = select(STATES.c.monitor_id, STATES.c.last_result_state).where(
        STATES.c.monitor_id.in_(list(monitor_ids))
    )
    return {
        row.monitor_id: None if row.last_result_state is None else ProbeState(row.last_result_state)
        for row in await connection.execute(query)
    }
