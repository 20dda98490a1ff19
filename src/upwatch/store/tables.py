"""The database schema as SQLAlchemy 2 models. Alembic's migrations in `migrations/` create it.

Schema changes stay additive for one release: during a redeploy the old version still runs
against the new schema.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from upwatch.store.types import BigId, UtcDateTime


class Base(DeclarativeBase):
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        datetime: UtcDateTime(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
    }


class MonitorRow(Base):
    """A monitor as last reconciled from the config; history is keyed by `id`."""

    __tablename__ = "monitors"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    group_name: Mapped[str | None] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(16))
    target: Mapped[str | None] = mapped_column(Text)  # URL or host, credentials removed
    interval_seconds: Mapped[float] = mapped_column(Float)
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    archived_at: Mapped[datetime | None]
    first_result_at: Mapped[datetime | None]
    generation: Mapped[int | None] = mapped_column(Integer)
    info: Mapped[dict[str, Any] | None]  # display details (description, tags, thresholds)


class MonitorPeriodRow(Base):
    """Periods a monitor was paused or archived: excluded from uptime."""

    __tablename__ = "monitor_periods"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    monitor_id: Mapped[str] = mapped_column(String(64), ForeignKey("monitors.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # paused | archived
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class MonitorStateRow(Base):
    """A monitor's evaluation state: enough to resume exactly after a restart."""

    __tablename__ = "monitor_states"
    monitor_id: Mapped[str] = mapped_column(String(64), ForeignKey("monitors.id"), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    since: Mapped[datetime | None]
    failure_run: Mapped[int] = mapped_column(Integer, default=0)
    failure_run_started_at: Mapped[datetime | None]
    success_run: Mapped[int] = mapped_column(Integer, default=0)
    success_run_started_at: Mapped[datetime | None]
    last_success_counted_at: Mapped[datetime | None]
    last_result_at: Mapped[datetime | None]
    last_result_state: Mapped[str | None] = mapped_column(String(16))
    last_cause: Mapped[str | None] = mapped_column(Text)
    last_public_cause: Mapped[str | None] = mapped_column(Text)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_checkin_at: Mapped[datetime | None]
    armed_at: Mapped[datetime | None]  # heartbeat deadlines count from here
    deadline_at: Mapped[datetime | None] = mapped_column(index=True)
    deadline_missed: Mapped[bool] = mapped_column(Boolean, default=False)
    last_degraded_notice_at: Mapped[datetime | None]
    last_cert_notice_at: Mapped[datetime | None]
    open_incident_id: Mapped[int | None] = mapped_column(Integer)
    flapping_since: Mapped[datetime | None]
    extra: Mapped[dict[str, Any] | None]  # {"changes": [ISO times]} for flap damping
    updated_at: Mapped[datetime]


class ResultRow(Base):
    """One probe result (or heartbeat check-in), kept `retention.raw`."""

    __tablename__ = "results"
    __table_args__ = (Index("ix_results_monitor_checked", "monitor_id", "checked_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    monitor_id: Mapped[str] = mapped_column(String(64))
    checked_at: Mapped[datetime] = mapped_column(index=True)
    state: Mapped[str] = mapped_column(String(16))
    duration_ms: Mapped[float | None] = mapped_column(Float)
    status_code: Mapped[int | None] = mapped_column(Integer)
    cause: Mapped[str | None] = mapped_column(Text)
    public_cause: Mapped[str | None] = mapped_column(Text)
    phases: Mapped[dict[str, Any] | None]
    cert_expires_at: Mapped[datetime | None]
    region: Mapped[str | None] = mapped_column(String(64))


class IncidentRow(Base):
    """A confirmed outage, with the escalation policy it was confirmed with and its progress."""

    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_monitor_started", "monitor_id", "started_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # The monitor whose downtime this is; None for a declared incident (nobody's downtime: the
    # monitors it names are in incident_monitors).
    monitor_id: Mapped[str | None] = mapped_column(String(64), ForeignKey("monitors.id"))
    started_at: Mapped[datetime]
    confirmed_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None] = mapped_column(index=True)
    resolution: Mapped[str | None] = mapped_column(String(64))
    cause: Mapped[str] = mapped_column(Text)
    public_cause: Mapped[str | None] = mapped_column(Text)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(Text)
    policy_name: Mapped[str | None] = mapped_column(String(64))
    policy: Mapped[list[Any] | None]  # snapshot of the steps when confirmed
    progress: Mapped[dict[str, Any] | None]  # steps fired and reminders sent
    severity: Mapped[str | None] = mapped_column(String(16))  # None: critical
    held_by: Mapped[str | None] = mapped_column(String(80))  # flapping | depends_on:<id>
    escalate_from: Mapped[datetime | None]  # steps count from here after a hold
    # A UUID naming the incident's one alert in on-call services (PagerDuty's dedup_key), so
    # trigger, acknowledge and resolve reach the same alert, across restarts too.
    alert_key: Mapped[str | None] = mapped_column(String(64))
    # Declared by a person (API or CLI) rather than confirmed from results: it never escalates
    # and never counts against uptime or an SLO. Its title is what the page calls it; a monitor
    # incident has none and is called by its monitor's name.
    title: Mapped[str | None] = mapped_column(Text)
    declared: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class IncidentUpdateRow(Base):
    """What a person wrote about an incident, in the order written."""

    __tablename__ = "incident_updates"
    __table_args__ = (Index("ix_incident_updates_incident", "incident_id", "at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(BigId, ForeignKey("incidents.id"))
    at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))  # investigating|identified|monitoring|resolved
    body: Mapped[str] = mapped_column(Text)


class IncidentMonitorRow(Base):
    """A monitor a declared incident names (any number of them)."""

    __tablename__ = "incident_monitors"
    __table_args__ = (Index("ix_incident_monitors_monitor", "monitor_id"),)
    incident_id: Mapped[int] = mapped_column(BigId, ForeignKey("incidents.id"), primary_key=True)
    monitor_id: Mapped[str] = mapped_column(String(64), ForeignKey("monitors.id"), primary_key=True)


class OutboxRow(Base):
    """A notification to deliver, enqueued once per key in the transaction that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "delivered_at", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    event: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(64))
    monitor_id: Mapped[str | None] = mapped_column(String(64))
    incident_id: Mapped[int | None] = mapped_column(Integer, index=True)
    step: Mapped[int | None] = mapped_column(Integer)
    repeat: Mapped[int] = mapped_column(Integer, default=0)
    payload: Mapped[dict[str, Any]]
    event_at: Mapped[datetime]
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    claimed_until: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    delivered_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]  # permanent failure, or gave up after 24 h
    cancelled_at: Mapped[datetime | None]  # acknowledged or resolved before it was sent
    last_error: Mapped[str | None] = mapped_column(Text)


class DeliveryAttemptRow(Base):
    __tablename__ = "delivery_attempts"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    outbox_id: Mapped[int] = mapped_column(Integer, ForeignKey("outbox.id"), index=True)
    attempted_at: Mapped[datetime]
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[float | None] = mapped_column(Float)


class _Rollup:
    monitor_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    bucket: Mapped[datetime] = mapped_column(primary_key=True)
    checks: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    degraded: Mapped[int] = mapped_column(Integer, default=0)
    downtime_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    latency_sum_ms: Mapped[float] = mapped_column(Float, default=0.0)
    latency_hist: Mapped[list[Any] | None]  # legacy bucket counts (see store/rollups.py)
    # DDSketch bins as compact JSON (store/sketch.py); null on rows from before migration 0004.
    # Percentiles are read from it; p50_ms and p95_ms are no longer written.
    latency_sketch: Mapped[str | None] = mapped_column(Text)
    p50_ms: Mapped[float | None] = mapped_column(Float)
    p95_ms: Mapped[float | None] = mapped_column(Float)  # p50/p95: rows from before 0004 only


class HourlyRollupRow(_Rollup, Base):
    __tablename__ = "rollups_hourly"


class DailyRollupRow(_Rollup, Base):
    __tablename__ = "rollups_daily"


class LeaseRow(Base):
    """A lease on a shard (SQLite coordination; PostgreSQL uses advisory locks)."""

    __tablename__ = "leases"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(255))
    acquired_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class InstanceRow(Base):
    """Live upwatch processes, for fair shard shares and generation hand-over."""

    __tablename__ = "instances"
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    generation: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    region: Mapped[str | None] = mapped_column(String(64))  # UPWATCH_REGION (None: before 0010)


class ConfigGenerationRow(Base):
    """Each start (or reload) of a config; the most recently started generation wins."""

    __tablename__ = "config_generations"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    digest: Mapped[str] = mapped_column(String(64))
    instance: Mapped[str] = mapped_column(String(255))
    started_at: Mapped[datetime]
    monitors: Mapped[int] = mapped_column(Integer)


class CheckinRow(Base):
    """A heartbeat check-in received by an instance that does not evaluate its monitor: the
    instance holding the monitor's shard picks it up at its next flush."""

    __tablename__ = "checkins"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    monitor_id: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime]
    ok: Mapped[bool] = mapped_column(Boolean)


class SloAlertRow(Base):
    """An SLO alert (`slo.burn_fast`, `slo.burn_slow`, `slo.exhausted`): open while its
    condition holds, escalated through `slo_alerts.policy` like an incident."""

    __tablename__ = "slo_alerts"
    __table_args__ = (Index("ix_slo_alerts_monitor_open", "monitor_id", "resolved_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    monitor_id: Mapped[str] = mapped_column(String(64), ForeignKey("monitors.id"))
    kind: Mapped[str] = mapped_column(String(32))
    opened_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]  # stops its steps and reminders
    severity: Mapped[str] = mapped_column(String(16))
    policy_name: Mapped[str | None] = mapped_column(String(64))
    policy: Mapped[list[Any] | None]  # snapshot of the steps when opened
    progress: Mapped[dict[str, Any] | None]  # steps fired and reminders sent


class SubscriberRow(Base):
    """An email subscription to public incidents. The address is used to send and for nothing
    else: never shown on a page, in the API, a log line, an error or a metric."""

    __tablename__ = "subscribers"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    address: Mapped[str] = mapped_column(String(254), unique=True)  # lower-cased
    created_at: Mapped[datetime]
    confirmed_at: Mapped[datetime | None]  # None until the confirmation link is followed
    unsubscribed_at: Mapped[datetime | None]


class RegionVoteRow(Base):
    """The latest result of each region for each monitor that lists regions: what the holder
    of the monitor votes on, and what its page shows per region."""

    __tablename__ = "region_votes"
    monitor_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    region: Mapped[str] = mapped_column(String(64), primary_key=True)
    checked_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16))
    duration_ms: Mapped[float | None] = mapped_column(Float)
    status_code: Mapped[int | None] = mapped_column(Integer)
    cause: Mapped[str | None] = mapped_column(Text)
    public_cause: Mapped[str | None] = mapped_column(Text)
    written_at: Mapped[datetime] = mapped_column(index=True)  # the writer's clock: pulled since


class RegionRow(Base):
    """Each region an instance ever reported, and whether it has a live instance: the row a
    `region.unavailable` / `region.available` notice is flipped on, exactly once."""

    __tablename__ = "regions"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_seen_at: Mapped[datetime]
    available: Mapped[bool] = mapped_column(Boolean)
    changed_at: Mapped[datetime]


class SubscribeRequestRow(Base):
    """One `POST /subscribe`, for the limit per client address that every worker and instance
    shares; `client` is a keyed hash of the address (the address itself is not kept)."""

    __tablename__ = "subscribe_requests"
    __table_args__ = (Index("ix_subscribe_requests_client_at", "client", "at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    client: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(index=True)


def _table(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


# Core tables for the statements the store runs (bulk inserts, upserts, set-based updates).
MONITORS = _table(MonitorRow)
PERIODS = _table(MonitorPeriodRow)
STATES = _table(MonitorStateRow)
RESULTS = _table(ResultRow)
INCIDENTS = _table(IncidentRow)
INCIDENT_UPDATES = _table(IncidentUpdateRow)
INCIDENT_MONITORS = _table(IncidentMonitorRow)
OUTBOX = _table(OutboxRow)
ATTEMPTS = _table(DeliveryAttemptRow)
HOURLY = _table(HourlyRollupRow)
DAILY = _table(DailyRollupRow)
LEASES = _table(LeaseRow)
INSTANCES = _table(InstanceRow)
GENERATIONS = _table(ConfigGenerationRow)
CHECKINS = _table(CheckinRow)
SLO_ALERTS = _table(SloAlertRow)
SUBSCRIBERS = _table(SubscriberRow)
REGION_VOTES = _table(RegionVoteRow)
REGIONS = _table(RegionRow)
SUBSCRIBE_REQUESTS = _table(SubscribeRequestRow)
