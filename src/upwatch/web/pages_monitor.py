"""`/monitors/{id}`: one public monitor's state, uptime, daily bars, response-time chart and
incidents. Its state and uptime come from the cached board, the chart from `rollups_hourly`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row

from upwatch.config.models import Config
from upwatch.engine.model import ShownState
from upwatch.store import reads
from upwatch.store import regions as region_store
from upwatch.store.rollups import hour_of
from upwatch.store.slo_reads import slo_statuses
from upwatch.web.api_models import RegionState, SloFigures
from upwatch.web.board import Board, MonitorView, NoticeView
from upwatch.web.board_notes import incident_view
from upwatch.web.charts import RANGE_WORDS, RANGES, response_chart
from upwatch.web.context import AppContext
from upwatch.web.pages_board import StatusPage, page_values
from upwatch.web.regions_view import region_states
from upwatch.web.render import HTML, Body, render
from upwatch.web.slo_figures import slo_figures, slo_panel

INCIDENT_LIMIT = 25
OTHER_PAGES = 16  # the status page, the feed, /metrics and the like share the page cache
NOTICE_HORIZON = timedelta(days=7)
WINDOW_WORDS = {"24h": "24 hours", "7d": "7 days", "30d": "30 days", "90d": "90 days"}
_SINCE = {
    ShownState.UP: "Operational",
    ShownState.DOWN: "Down",
    ShownState.DEGRADED: "Degraded",
    ShownState.FLAPPING: "Flapping",
}


@dataclass(frozen=True, slots=True)
class MonitorData:
    rollups: list[Row[Any]]
    incidents: list[reads.IncidentRecord]
    slo: SloFigures | None = None
    regions: list[RegionState] = field(default_factory=list)  # each listed region's latest


def state_sentence(m: MonitorView, board: Board) -> str:
    if m.state is ShownState.MAINTENANCE:
        return "In scheduled maintenance: problems during the window are expected."
    if m.state is ShownState.PAUSED:
        return "Monitoring of this service is paused."
    if m.state is ShownState.UNKNOWN or m.state not in _SINCE:
        return "No check has completed yet."
    if m.since is None:
        return _SINCE[m.state]
    return f"{_SINCE[m.state]} since {board.clockface.time(m.since)}."


async def monitor_body(ctx: AppContext, page: StatusPage, m: MonitorView, range_key: str) -> Body:
    loaded = ctx.loaded

    async def build() -> Body:
        assert ctx.engine is not None
        now = ctx.clock()
        start = hour_of(now) - RANGES[range_key] + timedelta(hours=1)
        async with ctx.engine.connect() as connection:
            slo = await slo_statuses(connection, loaded.config, [m.id], now)
            regional = await region_store.latest_of(connection, m.id)
            data = MonitorData(
                await reads.hourly_rollups(connection, m.id, start),
                await reads.incident_rows(connection, monitor_ids=[m.id], limit=INCIDENT_LIMIT),
                slo_figures(slo.get(m.id)),
                region_states(
                    loaded.config.monitor(m.id), regional, ctx.live_regions(), now, full=False
                ),
            )
        # A few milliseconds of work: a worker thread would cost more in hand-overs than it saves.
        return render_monitor(
            page.board,
            m,
            data=data,
            range_key=range_key,
            config=loaded.shown(),
            now=now,
        )

    ctx.pages.fit(len(RANGES) * page.board.monitor_count + OTHER_PAGES)
    return await ctx.pages.get(("monitor", loaded.digest, m.id, range_key), build)


def render_monitor(
    board: Board,
    m: MonitorView,
    *,
    data: MonitorData,
    range_key: str,
    config: Config,
    now: datetime,
) -> Body:
    show_urls = config.status_page.show_urls
    text = render(
        "page/monitor.html.j2",
        **page_values(board),
        m=m,
        fmt=board.clockface,
        generated_at=now,
        state_sentence=state_sentence(m, board),
        window_words=WINDOW_WORDS,
        ranges=list(RANGE_WORDS.items()),
        chart=response_chart(data.rollups, now, range_key, board.clockface),
        incidents=[incident_view(r, show_urls, now) for r in data.incidents],
        notices=_maintenance(m.id, board, now),
        slo=slo_panel(data.slo),
        regions=data.regions,
    )
    return Body.of(text, HTML)


def _maintenance(monitor_id: str, board: Board, now: datetime) -> list[NoticeView]:
    windows = [
        w
        for w in board.windows
        if w.applies_to(monitor_id) and w.ends_at > now and w.starts_at < now + NOTICE_HORIZON
    ]
    return [
        NoticeView(
            "maintenance",
            w.name,
            "",
            board.clockface.span(w.starts_at, w.ends_at),
            w.covers(now),
        )
        for w in windows
    ]


def range_of(query: Sequence[str]) -> str:
    """The chart range asked for (`?range=7d`), else 48 hours."""
    return next((q for q in query if q in RANGES), "48h")
