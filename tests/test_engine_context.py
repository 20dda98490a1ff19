"""A monitor's context from the config: thresholds, policy snapshot, maintenance, heartbeat."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from upwatch.config.models import Config
from upwatch.engine.context import HeartbeatTiming, MonitorContext, context_for
from upwatch.engine.maintenance import MaintenanceSchedule
from upwatch.engine.model import PolicyStep

CREATED = datetime(2026, 11, 1, tzinfo=UTC)
CONFIG = Config.model_validate(
    {
        "version": 1,
        "channels": {
            "team-slack": {"type": "slack", "webhook_url": "https://hooks.slack.test/x"},
            "pager": {"type": "webhook", "url": "https://hooks.acme.test/upwatch"},
        },
        "escalations": {
            "critical": [
                {"after": "0s", "notify": ["team-slack"]},
                {"after": "2m", "notify": ["pager"], "repeat_every": "30m"},
            ]
        },
        "maintenance": [
            {"name": "DB", "monitors": ["database"], "cron": "0 3 * * SUN", "duration": "30m"}
        ],
        "monitors": [
            {
                "id": "database",
                "name": "Database",
                "type": "tcp",
                "host": "db.internal",
                "port": 5432,
                "failure_threshold": 2,
                "recovery_threshold": 3,
                "escalation": "critical",
            },
            {"id": "site", "name": "Site", "url": "https://acme.test", "escalation": "none"},
            {
                "id": "nightly-backup",
                "name": "Nightly backup",
                "type": "heartbeat",
                "token": "s3cret-token",
                "interval": "24h",
                "grace": "1h",
            },
        ],
    }
)
SCHEDULE = MaintenanceSchedule.from_config(CONFIG)


def context(monitor_id: str, at: datetime) -> MonitorContext:
    monitor = CONFIG.monitor(monitor_id)
    assert monitor is not None
    return context_for(monitor, CONFIG, SCHEDULE, at=at, created_at=CREATED)


def test_a_context_carries_the_thresholds_and_a_snapshot_of_the_policy() -> None:
    ctx = context("database", datetime(2026, 11, 20, tzinfo=UTC))

    assert (ctx.failure_threshold, ctx.recovery_threshold) == (2, 3)
    assert ctx.policy_name == "critical"
    assert ctx.policy == (
        PolicyStep(timedelta(0), ("team-slack",)),
        PolicyStep(timedelta(minutes=2), ("pager",), timedelta(minutes=30)),
    )
    assert ctx.notice_channels == ("team-slack",)
    assert ctx.heartbeat is None


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (datetime(2026, 11, 22, 3, 10, tzinfo=UTC), {"in_maintenance": True}),
        (
            datetime(2026, 11, 22, 3, 45, tzinfo=UTC),
            {"in_maintenance": False, "last_window_end": datetime(2026, 11, 22, 3, 30, tzinfo=UTC)},
        ),
    ],
)
def test_a_context_says_whether_the_instant_is_in_maintenance_and_when_the_last_window_ended(
    at: datetime, expected: dict[str, Any]
) -> None:
    ctx = context("database", at)

    assert {key: getattr(ctx, key) for key in expected} == expected


def test_a_monitor_with_escalation_none_has_no_policy_and_no_notice_channels() -> None:
    ctx = context("site", datetime(2026, 11, 20, tzinfo=UTC))

    assert (ctx.policy_name, ctx.policy, ctx.notice_channels) == (None, (), ())


def test_a_heartbeat_monitors_context_carries_its_deadline_timing_and_creation() -> None:
    ctx = context("nightly-backup", datetime(2026, 11, 20, tzinfo=UTC))

    assert ctx.heartbeat == HeartbeatTiming(timedelta(hours=24), timedelta(hours=1))
    assert ctx.created_at == CREATED
