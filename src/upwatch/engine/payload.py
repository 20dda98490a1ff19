"""What a Notice's `data` holds: the facts of the event, frozen when it is enqueued.

Shape (JSON-ready: times are ISO 8601 UTC strings ending in `Z`, absent values are None)::

    {"monitor": {"id": "api", "severity": "critical"},
     "incident": {"id", "started_at", "confirmed_at", "resolved_at", "resolution",
                  "duration_seconds", "acknowledged", "acknowledged_at", "step", "repeat",
                  "cause", "policy", "held_by", "alert_key"} or None,
     "cause": "certificate expires in 6 days" or None,      # monitor notices
     "cert_expires_at": "..." or None,                      # certificate.expiring only
     "flapping": {"since", "changes", "within_seconds", "state"} or None,  # flapping, settled
     "update": {"id", "at", "status", "body", "title", "declared"}}  # incident.updated only

`incident.updated` carries the incident in the same shape (a declared incident's `monitor` is the
first monitor it names, or None when it names none).

The engine records what happened; it does not know how the monitor is *called* today. The
notify layer adds `monitor.name`, `monitor.group`, `status_page_url` and `ack_url` from the
running config when it renders the message, so a rename or a new public URL shows in every message
sent after it, while the incident facts stay those of the event.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from upwatch.engine.model import Incident
from upwatch.probes.result import ProbeResult


def iso(value: datetime | None, *, timespec: str = "auto") -> str | None:
    """`2026-11-22T10:00:00Z`, the form every timestamp in upwatch's JSON takes."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec=timespec).replace("+00:00", "Z")


def incident_data(
    incident: Incident, at: datetime, *, step: int | None = None, repeat: int = 0
) -> dict[str, Any]:
    """The `data` of an incident message sent at `at` (duration so far, or the final one)."""
    duration = incident.duration(at)
    return {
        "monitor": {"id": incident.monitor_id, "severity": incident.severity},
        "incident": {
            "id": incident.id,
            "started_at": iso(incident.started_at),
            "confirmed_at": iso(incident.confirmed_at),
            "resolved_at": iso(incident.resolved_at),
            "resolution": None if incident.resolution is None else str(incident.resolution),
            "duration_seconds": int(duration.total_seconds()),
            "acknowledged": incident.acknowledged_at is not None,
            "acknowledged_at": iso(incident.acknowledged_at),
            "step": step,
            "repeat": repeat,
            "cause": incident.cause,
            "policy": incident.policy_name,
            "held_by": incident.held_by,
            "alert_key": incident.alert_key,
        },
        "cause": incident.cause,
        "cert_expires_at": None,
        "flapping": None,
    }


def monitor_data(monitor_id: str, severity: str, result: ProbeResult) -> dict[str, Any]:
    """The `data` of a monitor notice (`monitor.degraded`, `certificate.expiring`)."""
    return {
        "monitor": {"id": monitor_id, "severity": severity},
        "incident": None,
        "cause": result.cause,
        "cert_expires_at": iso(result.cert_expires_at),
        "flapping": None,
    }


def flapping_data(
    monitor_id: str,
    severity: str,
    *,
    since: datetime,
    changes: int,
    within: timedelta,
    state: str,
    cause: str | None,
) -> dict[str, Any]:
    """The `data` of `monitor.flapping` and `monitor.settled` (`state`: the computed state then,
    for `monitor.settled` the state it settled in)."""
    return {
        "monitor": {"id": monitor_id, "severity": severity},
        "incident": None,
        "cause": cause,
        "cert_expires_at": None,
        "flapping": {
            "since": iso(since),
            "changes": changes,
            "within_seconds": int(within.total_seconds()),
            "state": state,
        },
    }


def update_data(
    *,
    monitor_id: str | None,
    severity: str,
    incident: dict[str, Any],
    update: dict[str, Any],
) -> dict[str, Any]:
    """The `data` of `incident.updated`: the incident as it stands and the update written."""
    return {
        "monitor": None if monitor_id is None else {"id": monitor_id, "severity": severity},
        "incident": incident,
        "cause": update["body"],
        "cert_expires_at": None,
        "flapping": None,
        "update": update,
    }
