"""The response-time chart of `/monitors/{id}`: hourly p50 and p95 from the latency sketches of
`rollups_hourly`, laid out as SVG coordinates here and drawn by the template (no JavaScript, no
chart library). p99 is listed per hour and over the range but not drawn.

p50 is a solid line and p95 a dashed one, so the two differ without colour; hours without data
break the lines instead of drawing a slope through the gap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from upwatch.store import sketch as sketches
from upwatch.store.rollups import Rollup, hour_of, rollup_of
from upwatch.web.pages_format import Clockface, milliseconds

RANGES = {"48h": timedelta(hours=48), "7d": timedelta(days=7)}
RANGE_WORDS = {"48h": "last 48 hours", "7d": "last 7 days"}
WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 52, 12, 12, 26  # margins around the plot
_STEPS = (1.0, 2.0, 2.5, 5.0)
_HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Tick:
    at: float
    label: str


@dataclass(frozen=True, slots=True)
class HourPoint:
    hour: datetime
    p50: float | None
    p95: float | None
    p99: float | None
    checks: int


@dataclass(frozen=True, slots=True)
class Chart:
    range_key: str
    width: int
    height: int
    left: int
    right: float
    top: int
    bottom: float
    p50_path: str
    p95_path: str
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    points: list[HourPoint]  # hours with data, for the table under the chart
    p50: float | None  # over the whole range, from the merged sketches
    p95: float | None
    p99: float | None

    @property
    def words(self) -> str:
        return RANGE_WORDS[self.range_key]


def nice_top(value: float) -> float:
    """The smallest 4 x (1, 2, 2.5 or 5) x 10^k at or above `value`, so quarter ticks are round."""
    magnitude = 0.01
    while True:
        for step in _STEPS:
            if 4 * step * magnitude >= value:
                return 4 * step * magnitude
        magnitude *= 10


def response_chart(
    rows: Sequence[Any], now: datetime, range_key: str, clockface: Clockface
) -> Chart:
    hours = int(RANGES[range_key] / _HOUR)
    first = hour_of(now) - (hours - 1) * _HOUR
    by_hour = {row.bucket: row for row in rows}
    slots = [first + i * _HOUR for i in range(hours)]
    points = [_point(slot, by_hour.get(slot)) for slot in slots]
    top = nice_top(max([p.p95 or p.p50 or 0.0 for p in points] + [1.0]))
    right, bottom = WIDTH - RIGHT, HEIGHT - BOTTOM

    def x(i: int) -> float:
        return LEFT + i * (right - LEFT) / max(1, hours - 1)

    def y(value: float) -> float:
        return bottom - value / top * (bottom - TOP)

    merged = Rollup()
    for row in rows:
        merged.merge(rollup_of(row))
    overall = merged.percentiles()
    return Chart(
        range_key=range_key,
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        right=right,
        top=TOP,
        bottom=bottom,
        p50_path=_path([p.p50 for p in points], x, y),
        p95_path=_path([p.p95 for p in points], x, y),
        y_ticks=[Tick(y(top * q / 4), milliseconds(top * q / 4)) for q in range(5)],
        x_ticks=_x_ticks(slots, range_key, clockface, x),
        points=[p for p in points if p.checks],
        p50=overall["p50"],
        p95=overall["p95"],
        p99=overall["p99"],
    )


def _point(hour: datetime, row: Any) -> HourPoint:
    if row is None:
        return HourPoint(hour, None, None, None, 0)
    stored = sketches.loads(row.latency_sketch)
    if stored is None:  # an hour from before migration 0004: what was stored with it then
        return HourPoint(hour, row.p50_ms, row.p95_ms, None, row.checks)
    p50, p95, p99 = sketches.percentiles(stored)
    return HourPoint(hour, p50, p95, p99, row.checks)


def _path(values: Sequence[float | None], x: Any, y: Any) -> str:
    """`M x y L x y ...`, restarting after each gap; a lone hour is a dot (round caps)."""
    parts: list[str] = []
    previous: float | None = None
    for i, value in enumerate(values):
        if value is not None:
            command = "L" if previous is not None else "M"
            parts.append(f"{command}{x(i):.1f} {y(value):.1f}")
            if previous is None and (i + 1 >= len(values) or values[i + 1] is None):
                parts.append("h0.1")
        previous = value
    return " ".join(parts)


def _x_ticks(slots: Sequence[datetime], range_key: str, clockface: Clockface, x: Any) -> list[Tick]:
    ticks = []
    for i, slot in enumerate(slots):
        local = clockface.local(slot)
        if local.minute != 0:
            continue  # zones with half-hour offsets: label whole local hours only
        if local.hour == 0:
            ticks.append(Tick(x(i), f"{local:%a} {local.day}"))
        elif range_key == "48h" and local.hour % 6 == 0:
            ticks.append(Tick(x(i), f"{local:%H}:00"))
    return ticks
