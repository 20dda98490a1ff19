"""SLO alerts: `slo.burn_fast`, `slo.burn_slow` and `slo.exhausted` through `slo_alerts.policy`.

An alert opens when its condition starts to hold (see `engine.slo.alert_conditions`) and resolves,
with `slo.resolved` to every channel told about it, when the condition no longer holds. While open
it escalates exactly like an incident: step k at opened_at + after_k, `repeat_every` reminders,
steps filtered by the monitor's severity, one message per channel per evaluation. Its messages
are keyed `slo:<alert id>:<event>:<step>:<repeat>:<channel>`, so each is enqueued once however
often, and by whichever instance, the alert is evaluated.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from upwatch.config.durations import format_duration
from upwatch.engine import escalation
from upwatch.engine.model import EscalationProgress, EventType, Incident, Notice, PolicyStep
from upwatch.engine.slo import BURN_FAST, BURN_SLOW, BURN_WINDOWS, SloStatus


@dataclass(frozen=True, slots=True)
class SloAlert:
    monitor_id: str
    kind: str  # slo.burn_fast | slo.burn_slow | slo.exhausted
    opened_at: datetime
    severity: str
    policy_name: str | None
    policy: tuple[PolicyStep, ...]
    id: int | None = None
    acknowledged_at: datetime | None = None  # stops its steps and reminders

    @property
    def subject(self) -> str:
        assert self.id is not None, "store the alert before announcing it"
        return f"slo:{self.id}"


def due_notices(
    alert: SloAlert, progress: EscalationProgress, status: SloStatus, now: datetime
) -> tuple[tuple[Notice, ...], EscalationProgress]:
    """The alert's messages due at `now` (its first step, later steps, reminders)."""
    as_incident = Incident(
        monitor_id=alert.monitor_id,
        started_at=alert.opened_at,
        confirmed_at=alert.opened_at,
        cause=alert.kind,
        id=alert.id,
        policy_name=alert.policy_name,
        policy=alert.policy,
        severity=alert.severity,
        acknowledged_at=alert.acknowledged_at,
    )
    due, progress = escalation.due_notices(as_incident, progress, now, in_maintenance=False)
    data = slo_data(alert, status)
    notices = tuple(
        Notice(
            EventType(alert.kind),
            n.channel,
            alert.monitor_id,
            at=now,
            step=n.step,
            repeat=n.repeat,
            data=data,
            subject=alert.subject,
        )
        for n in due
    )
    return notices, progress


def resolved_notices(
    alert: SloAlert, told: Iterable[str], status: SloStatus | None, at: datetime
) -> tuple[Notice, ...]:
    """`slo.resolved` to every channel told anything about the alert."""
    data = slo_data(alert, status, resolved=True)
    return tuple(
        Notice(EventType.SLO_RESOLVED, c, alert.monitor_id, at=at, data=data, subject=alert.subject)
        for c in sorted(set(told))
    )


def slo_data(
    alert: SloAlert, status: SloStatus | None, *, resolved: bool = False
) -> dict[str, Any]:
    """The `data` of an SLO message: the figures when it was sent (None: the SLO was removed)."""
    return {
        "monitor": {"id": alert.monitor_id, "severity": alert.severity},
        "incident": None,
        "cause": cause(alert.kind, status, resolved=resolved),
        "cert_expires_at": None,
        "flapping": None,
        "slo": None if status is None else _figures(alert.kind, status),
    }


def cause(kind: str, status: SloStatus | None, *, resolved: bool = False) -> str:
    """The alert in words, for the message's cause line."""
    if status is None:
        return "the SLO was removed from the config"
    if resolved:
        return f"{kind} cleared; {status.budget_left_percent:.2f} % of the error budget left"
    if kind == BURN_FAST:
        return (
            f"burning the error budget {status.burn['1h']:.1f}× as fast as the objective allows "
            f"over the last hour ({status.burn['5m']:.1f}× over 5 minutes)"
        )
    if kind == BURN_SLOW:
        return (
            f"burning the error budget {status.burn['6h']:.1f}× as fast as the objective allows "
            f"over the last 6 hours ({status.burn['30m']:.1f}× over 30 minutes)"
        )
    return (
        f"the error budget for {status.target:g} % over {format_duration(status.window)} is "
        f"used up ({status.budget_left_percent:.2f} % left)"
    )


def _figures(kind: str, status: SloStatus) -> dict[str, Any]:
    return {
        "kind": kind,
        "target": status.target,
        "window": format_duration(status.window),
        "budget_seconds": round(status.budget_seconds, 1),
        "budget_left_seconds": round(status.budget_left_seconds, 1),
        "budget_left_percent": round(status.budget_left_percent, 2),
        "burn": {label: round(status.burn[label], 2) for label in BURN_WINDOWS},
    }
