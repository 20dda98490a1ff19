"""The JSON API's bodies as pydantic models: the handlers serialize through them and
`/api/v1/openapi.json` is built from their JSON schemas, so the document cannot drift from what
is sent.

Every field is required: an absent value is `null`, never a missing key. Timestamps are held as
datetimes and written as the API's ISO 8601 form in UTC, to the second (`2026-11-22T10:00:00Z`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

from upwatch.engine.model import ShownState
from upwatch.probes.result import ProbeState
from upwatch.web.views import iso

Instant = Annotated[
    datetime,
    PlainSerializer(iso, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time", "examples": ["2026-11-22T10:00:00Z"]}),
]
OverallStatus = Literal[
    "operational", "degraded", "partial_outage", "major_outage", "maintenance", "unknown"
]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_serialization_defaults_required=True)

    def json_data(self) -> dict[str, Any]:
        """What JSONResponse (or json_bytes) writes: the documented keys, every one present."""
        return self.model_dump(mode="json", by_alias=True)


class Error(Body):
    """Every error answer under /api/: what went wrong, for a person to read."""

    error: str


class Uptime(Body):
    """Percent of the window the monitor was up, maintenance and paused time left out; null
    before there is any data in the window."""

    last_24h: float | None = Field(alias="24h")
    last_7d: float | None = Field(alias="7d")
    last_30d: float | None = Field(alias="30d")
    last_90d: float | None = Field(alias="90d")


class ResponseTimes(Body):
    """Nearest-rank percentiles of the response time over the last 24 hours, in whole
    milliseconds, read from the hourly rollups' latency sketches (within 2 % of the exact value);
    null when the monitor has no result with a duration in the window."""

    p50: int | None = Field(description="median")
    p95: int | None = Field(description="95th percentile")
    p99: int | None = Field(description="99th percentile")


CAUSE = (
    "why it is down or degraded, in plain public words (`Timed out`, `Unexpected response`); the "
    "full technical cause when status_page.show_urls is on or, outside /api/v1/status, the "
    "request carries UPWATCH_API_TOKEN"
)


class MonitorSummary(Body):
    id: str
    name: str
    type: str
    state: ShownState
    since: Instant | None
    cause: str | None = Field(description=f"{CAUSE}; null unless down or degraded")
    last_checked_at: Instant | None
    uptime: Uptime
    response_time_ms: ResponseTimes


UpdateStatus = Literal["investigating", "identified", "monitoring", "resolved"]
Severity = Literal["critical", "error", "warning", "info"]


class IncidentUpdate(Body):
    """What a person wrote about the incident."""

    at: Instant
    status: UpdateStatus
    body: str


class Incident(Body):
    id: int
    monitor_id: str | None = Field(
        description="the monitor that is down; for a declared incident the first monitor it "
        "names, null when it names none"
    )
    monitor_name: str | None
    title: str = Field(description="a declared incident's title; else the monitor's name")
    declared: bool = Field(
        description="declared by a person (API or CLI) rather than confirmed from results: "
        "never counted against uptime or an SLO"
    )
    started_at: Instant
    confirmed_at: Instant
    resolved_at: Instant | None
    duration_seconds: int
    cause: str | None = Field(description=f"{CAUSE}; null for a declared incident")
    acknowledged_at: Instant | None
    updates: list[IncidentUpdate] = Field(description="written updates, oldest first")


class Request(BaseModel):
    """A request body: unknown keys are refused, so a typo is an error rather than ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class DeclareIncident(Request):
    """`POST /api/v1/incidents`: declare an incident by hand."""

    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=10_000, description="its first update")
    status: UpdateStatus = "investigating"
    monitors: list[Annotated[str, Field(max_length=64)]] = Field(
        default_factory=list,
        max_length=1000,
        description="ids of the monitors it concerns (its downtime counts for none of them)",
    )
    severity: Severity | None = Field(
        default=None, description="chooses the steps of status_page.updates_policy that fire"
    )


class WriteUpdate(Request):
    """`POST /api/v1/incidents/{id}/updates`: what is happening, in words."""

    status: UpdateStatus
    body: str = Field(min_length=1, max_length=10_000)


class Burn(Body):
    """Bad time over a trailing window as a multiple of what the objective allows in it: 1 spends
    the budget exactly over the SLO window; the windows have their full length even for a newer
    monitor. Rounded to two decimals."""

    last_1h: float = Field(alias="1h")
    last_6h: float = Field(alias="6h")
    last_3d: float = Field(alias="3d")


class SloFigures(Body):
    """Where the monitor stands against its objective. Bad time is incident time outside
    maintenance and paused time; degraded is good."""

    target: float = Field(
        description="percent of the window the monitor must be up", examples=[99.9]
    )
    window: str = Field(
        description="the rolling window, as the duration the config gives it", examples=["30d"]
    )
    budget_seconds: float = Field(description="(100 % - target) x window, to the tenth of a second")
    budget_left_seconds: float = Field(
        description="the budget minus bad time within the window; negative once overspent"
    )
    budget_left_percent: float = Field(
        description="budget left as a percentage of the budget, rounded down to two decimals: "
        "100 untouched, 0 spent, below 0 overspent"
    )
    burn: Burn


class RegionState(Body):
    """One region's latest result for a monitor that lists regions."""

    region: str
    state: ProbeState | Literal["unknown"] = Field(
        description="the region's latest result; `unknown` when it is older than 2 × interval "
        "or the region has no live instance"
    )
    checked_at: Instant
    response_time_ms: float | None
    cause: str | None = Field(description=f"{CAUSE}; null for a result that is up")


class MonitorDetail(MonitorSummary):
    group: str | None
    description: str | None
    tags: list[str]
    interval_seconds: float
    paused: bool
    target: str | None = Field(description="only when status_page.show_urls is on")
    created_at: Instant
    incidents: list[Incident] = Field(description="the latest 20, newest first")
    slo: SloFigures | None = Field(description="null when the monitor has no slo")
    regions: list[RegionState] = Field(
        description="each listed region's latest result (empty without `regions`)"
    )


class Result(Body):
    checked_at: Instant
    state: ProbeState
    duration_ms: float | None
    status_code: int | None
    cause: str | None = Field(description=f"{CAUSE}; null for a result that is up")
    phases_ms: dict[str, float]
    cert_expires_at: Instant | None
    region: str | None = Field(
        description="the region that probed (monitors with `regions`); null for a result "
        "probed without regions, or for a round the regions voted on"
    )


class Results(Body):
    monitor_id: str
    results: list[Result]


class Incidents(Body):
    incidents: list[Incident]


class Group(Body):
    name: str | None = Field(description="null for monitors without a group")
    monitors: list[MonitorSummary]


class Announcement(Body):
    title: str
    body: str
    severity: Literal["info", "minor", "major", "critical"]
    start: Instant | None
    end: Instant | None


class Maintenance(Body):
    name: str
    starts_at: Instant
    ends_at: Instant
    monitors: list[str]


class StatusDocument(Body):
    status: OverallStatus = Field(
        description="major_outage when more than half of the monitors with a result are down, "
        "partial_outage when any is down, degraded when any is degraded, maintenance when any is "
        "in maintenance, unknown when no monitor has a result yet, else operational; monitors "
        "still unknown are left out of the count"
    )
    generated_at: Instant
    groups: list[Group]
    incidents: list[Incident] = Field(description="open incidents")
    announcements: list[Announcement]
    maintenance: list[Maintenance] = Field(description="current windows and those within 7 days")
