"""SLO figures for the monitor page, `GET /api/v1/monitors/{id}` and `/metrics`: the store's
incident and pause rows plus the config's maintenance windows, through engine/slo.py.

One read for any number of monitors (a scrape asks for all of them at once), and the maintenance
schedule is walked once for the longest window, then filtered per monitor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from upwatch.config.durations import format_duration
from upwatch.engine.slo import SHOWN_BURN_WINDOWS, SloStatus
from upwatch.web.api_models import SloFigures
from upwatch.web.pages_format import duration

_UNIT_WORDS = {"d": "day", "h": "hour", "m": "minute", "s": "second"}
_BURN_WORDS = (("1 hour", "last_1h"), ("6 hours", "last_6h"), ("3 days", "last_3d"))


@dataclass(frozen=True, slots=True)
class SloPanel:
    """The monitor page's SLO card, in words, from the same figures the API sends."""

    objective: str  # "99.9% over 30 days"
    budget: str  # "43m 12s"
    left: str  # "38m 2s" or "overspent by 5m"
    left_percent: str  # "88.04%" or "-11.57%"
    overspent: bool
    burn: list[tuple[str, str]]  # ("1 hour", "0.42×")


def slo_figures(status: SloStatus | None) -> SloFigures | None:
    """The API's `slo`: seconds to the tenth, budget left floored to two decimals (it never
    shows more budget than is left), burn rates to two decimals."""
    if status is None:
        return None
    return SloFigures.model_validate(
        {
            "target": status.target,
            "window": format_duration(status.window),
            "budget_seconds": round(status.budget_seconds, 1),
            "budget_left_seconds": round(status.budget_left_seconds, 1),
            "budget_left_percent": floor_percent(status.budget_left_percent),
            "burn": {label: round(status.burn[label], 2) for label in SHOWN_BURN_WINDOWS},
        }
    )


def floor_percent(value: float) -> float:
    """Two decimals, rounded down: 99.996 % left is 99.99, not a full 100."""
    return math.floor(round(value * 100, 6)) / 100


def slo_panel(figures: SloFigures | None) -> SloPanel | None:
    if figures is None:
        return None
    left = figures.budget_left_seconds
    return SloPanel(
        objective=f"{figures.target:g}% over {window_words(figures.window)}",
        budget=duration(figures.budget_seconds),
        left=duration(left) if left > 0 else f"overspent by {duration(-left)}",
        left_percent=f"{figures.budget_left_percent:.2f}%".replace("-", "\u2212"),
        overspent=left <= 0,
        burn=[(words, f"{getattr(figures.burn, name):.2f}\u00d7") for words, name in _BURN_WORDS],
    )


def window_words(window: str) -> str:
    """`30d` as `30 days`, `36h` as `36 hours`."""
    count, unit = window[:-1], window[-1]
    if not count.isdigit() or unit not in _UNIT_WORDS:
        return window  # not a whole number of one unit (`1500ms`): as written
    noun = _UNIT_WORDS[unit]
    return f"{count} {noun}" if count == "1" else f"{count} {noun}s"
