"""The per-monitor configuration the state machine needs, as one plain value.

The state machine never reads `Config` or the maintenance schedule itself: the caller builds a
`MonitorContext` for the instant being evaluated (`context_for` does it from the config), so the
rules stay pure functions of (state, context, time) and tests can write contexts by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from upwatch.config.models import Config, HeartbeatMonitor, MonitorBase
from upwatch.engine.maintenance import MaintenanceSchedule
from upwatch.engine.model import PolicyStep


@dataclass(frozen=True, slots=True)
class HeartbeatTiming:
    """A heartbeat monitor's deadline: a check-in is expected every `interval`, plus `grace`."""

    interval: timedelta
    grace: timedelta

    @property
    def allowance(self) -> timedelta:
        return self.interval + self.grace


@dataclass(frozen=True, slots=True)
class FlapRule:
    """`flapping: {changes, within}`: that many confirmed changes within that span."""

    changes: int
    within: timedelta


@dataclass(frozen=True, slots=True)
class MonitorContext:
    """What one evaluation of one monitor needs to know besides its state.

    `in_maintenance` and `last_window_end` describe the instant being evaluated (a result's
    `checked_at`, or `now` for a tick): whether it is inside a window of this monitor, and the end
    of the most recent window that ended at or before it. `policy` is the current policy's steps;
    an incident confirmed now keeps this snapshot for its whole life. `recovery_spacing` is how
    far apart successes must be to count as distinct probe slots toward `recovery_threshold`.
    """

    failure_threshold: int = 3
    recovery_threshold: int = 1
    recovery_spacing: timedelta = timedelta(0)
    policy_name: str | None = None
    policy: tuple[PolicyStep, ...] = ()
    in_maintenance: bool = False
    last_window_end: datetime | None = None
    created_at: datetime | None = None  # when the monitor was first reconciled
    heartbeat: HeartbeatTiming | None = None
    severity: str = "critical"
    flapping: FlapRule | None = None

    @property
    def notice_channels(self) -> tuple[str, ...]:
        """Where monitor notices (degraded, certificate, flapping, settled) go: the channels of
        the policy's first step that fires for this monitor's severity."""
        step = next((s for s in self.policy if s.fires_for(self.severity)), None)
        return () if step is None else step.channels


def policy_steps(config: Config, name: str | None) -> tuple[PolicyStep, ...]:
    """The snapshot of escalation policy `name` (empty for no policy)."""
    if name is None or name not in config.escalations:
        return ()
    return tuple(
        PolicyStep(
            step.after,
            tuple(step.notify),
            step.repeat_every,
            None if step.severities is None else tuple(step.severities),
        )
        for step in config.escalations[name]
    )


def context_for(
    monitor: MonitorBase,
    config: Config,
    schedule: MaintenanceSchedule,
    *,
    at: datetime,
    created_at: datetime | None,
) -> MonitorContext:
    """The context of `monitor` at instant `at`."""
    policy_name = monitor.escalation_policy
    heartbeat = (
        HeartbeatTiming(monitor.interval, monitor.grace)
        if isinstance(monitor, HeartbeatMonitor)
        else None
    )
    return MonitorContext(
        failure_threshold=monitor.failure_threshold,
        recovery_threshold=monitor.recovery_threshold,
        # Half the shortest probe spacing: two slots fired together (after a restart) are one.
        recovery_spacing=monitor.effective_retry_interval / 2,
        policy_name=policy_name,
        policy=policy_steps(config, policy_name),
        in_maintenance=schedule.active(monitor.id, at) is not None,
        last_window_end=schedule.last_end_before(monitor.id, at),
        created_at=created_at,
        heartbeat=heartbeat,
        severity=monitor.severity,
        flapping=None
        if monitor.flapping is None
        else FlapRule(monitor.flapping.changes, monitor.flapping.within),
    )
