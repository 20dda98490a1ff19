"""Monitor notices: `monitor.degraded` and `certificate.expiring`.

Both go to the first step's channels of the monitor's *current* policy, at most once a day per
monitor and kind (a rolling 24 h from the last one sent), never inside a maintenance window, and
not at all without a policy. `monitor.degraded` is sent when the computed state becomes DEGRADED;
`certificate.expiring` whenever the caller says a result's certificate is close to expiry. A
result that triggers both sends only the certificate notice: it names the cause of the
degradation, and two messages about one certificate at 3 a.m. is one too many.

Incident messages (opened, escalated, reminder, acknowledged, resolved) are not made here: see
`upwatch.engine.escalation`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from upwatch.engine.context import MonitorContext
from upwatch.engine.model import EventType, MonitorState, Notice, ShownState
from upwatch.engine.payload import monitor_data
from upwatch.probes.result import ProbeResult

NOTICE_QUIET = timedelta(days=1)


def monitor_notices(
    before: MonitorState,
    after: MonitorState,
    ctx: MonitorContext,
    result: ProbeResult,
    *,
    cert_expiring: bool,
) -> tuple[MonitorState, tuple[Notice, ...]]:
    """The notices a result causes, and `after` with their times recorded."""
    if ctx.in_maintenance or not ctx.notice_channels:
        return after, ()
    at = result.checked_at
    if cert_expiring and _quiet(after.last_cert_notice_at, at):
        notices = _to_channels(EventType.CERTIFICATE_EXPIRING, after.monitor_id, ctx, result)
        return replace(after, last_cert_notice_at=at), notices
    became_degraded = after.state is ShownState.DEGRADED and before.state is not ShownState.DEGRADED
    if became_degraded and _quiet(after.last_degraded_notice_at, at):
        notices = _to_channels(EventType.MONITOR_DEGRADED, after.monitor_id, ctx, result)
        return replace(after, last_degraded_notice_at=at), notices
    return after, ()


def _quiet(last_sent: datetime | None, at: datetime) -> bool:
    return last_sent is None or at - last_sent >= NOTICE_QUIET


def _to_channels(
    event: EventType, monitor_id: str, ctx: MonitorContext, result: ProbeResult
) -> tuple[Notice, ...]:
    return tuple(
        Notice(
            event,
            channel,
            monitor_id,
            at=result.checked_at,
            data=monitor_data(monitor_id, ctx.severity, result),
        )
        for channel in ctx.notice_channels
    )
