"""The status page's model: what a customer sees, computed once and shared by every public surface.

A `Board` holds public monitors only (private and archived ones never enter it), causes already
reduced to their public form, and uptimes and daily bars already computed; pages, badges and the
detail page read it from the page cache instead of the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from markupsafe import Markup

from upwatch.engine.maintenance import Window
from upwatch.engine.model import ShownState
from upwatch.store.incident_updates import Update
from upwatch.web.pages_format import Clockface

STATE_WORDS = {
    ShownState.UP: "Operational",
    ShownState.DEGRADED: "Degraded",
    ShownState.FLAPPING: "Flapping",
    ShownState.DOWN: "Down",
    ShownState.MAINTENANCE: "Maintenance",
    ShownState.PAUSED: "Paused",
    ShownState.UNKNOWN: "No data yet",
}
TYPE_WORDS = {"http": "HTTP", "tcp": "TCP", "dns": "DNS", "heartbeat": "Heartbeat"}


@dataclass(frozen=True, slots=True)
class MonitorView:
    id: str
    name: str
    group: str | None
    type: str
    description: str | None
    target: str | None  # only when status_page.show_urls is on
    state: ShownState
    since: datetime | None
    cause: str | None  # public form unless show_urls
    last_checked_at: datetime | None
    uptime: dict[str, float | None]
    bars: Markup
    bad_days: int  # days with any downtime among the bars
    bad_days_30: int  # the same among the last 30 (what a phone shows)
    measured_days: int  # days with any time measured among the bars
    response_time_ms: dict[str, int | None] = field(default_factory=dict)  # p50, p95, p99 over 24 h

    @property
    def state_words(self) -> str:
        return STATE_WORDS[self.state]

    @property
    def type_words(self) -> str:
        return TYPE_WORDS.get(self.type, self.type)


@dataclass(frozen=True, slots=True)
class GroupView:
    name: str | None
    monitors: list[MonitorView]
    state: ShownState  # the worst among its monitors
    summary: str
    open: bool  # on large pages, a summary row linking to its own page when nothing needs attention
    slug: str = ""  # its page: /groups/{slug}


@dataclass(frozen=True, slots=True)
class IncidentView:
    id: int
    monitor_id: str | None  # None: a declared incident naming no monitor
    monitor_name: str | None
    started_at: datetime
    confirmed_at: datetime
    resolved_at: datetime | None
    acknowledged_at: datetime | None
    duration_seconds: int
    cause: str | None
    # Its pages are held while a monitor it depends on is down (which one stays private: the
    # parent may not be public).
    held_by_dependency: bool = False
    title: str = ""  # a declared incident's title, else the monitor's name
    declared: bool = False  # declared by a person: no monitor's downtime
    updates: tuple[Update, ...] = ()  # what people wrote, oldest first


@dataclass(frozen=True, slots=True)
class NoticeView:
    """An announcement or a maintenance window, as a card above the monitors."""

    kind: str  # info | minor | major | critical | maintenance
    title: str
    body: str
    when: str  # already in words
    active: bool


@dataclass(frozen=True, slots=True)
class DayHistory:
    day: date
    incidents: list[IncidentView]
    more: int  # incidents that day not listed


@dataclass(frozen=True, slots=True)
class Banner:
    state: str  # operational | degraded | partial_outage | major_outage | maintenance | unknown
    headline: str
    detail: str


@dataclass(frozen=True, slots=True)
class Board:
    title: str
    description: str | None
    generated_at: datetime
    clockface: Clockface
    banner: Banner
    groups: list[GroupView]
    open_incidents: list[IncidentView]
    notices: list[NoticeView]
    history: list[DayHistory]
    by_id: dict[str, MonitorView] = field(default_factory=dict)
    windows: list[Window] = field(default_factory=list)  # maintenance, 91 days back to 7 ahead
    refresh_seconds: int | None = None  # the page's meta refresh (status_page.auto_refresh)

    def monitor(self, monitor_id: str) -> MonitorView | None:
        return self.by_id.get(monitor_id)

    def group(self, slug: str) -> GroupView | None:
        return next((g for g in self.groups if g.slug == slug), None)

    @property
    def monitor_count(self) -> int:
        return len(self.by_id)
