"""Each listed region's latest result for a monitor, as the API and the monitor page show it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from upwatch.config.models import MonitorBase
from upwatch.probes.public_words import plain_cause
from upwatch.probes.result import ProbeState
from upwatch.store.regions import RegionResult
from upwatch.web.api_models import RegionState


def region_states(
    monitor: MonitorBase | None,
    found: Sequence[RegionResult],
    live: frozenset[str] | None,
    now: datetime,
    *,
    full: bool,
) -> list[RegionState]:
    """In the order the monitor lists its regions; a region that never reported is left out.
    A result older than 2 × interval, or of a region with no live instance (`live`; None when
    unknown), is shown as `unknown`: it no longer votes."""
    if monitor is None or not monitor.regions:
        return []
    latest = {f.region: f.result for f in found}
    shown: list[RegionState] = []
    for region in monitor.regions:
        result = latest.get(region)
        if result is None:
            continue
        gone = live is not None and region not in live
        stale = gone or now - result.checked_at > 2 * monitor.interval
        up = result.state is ProbeState.UP
        shown.append(
            RegionState(
                region=region,
                state="unknown" if stale else result.state,
                checked_at=result.checked_at,
                response_time_ms=round(result.duration * 1000, 1),
                cause=None if up else (result.cause if full else plain_cause(result.public_cause)),
            )
        )
    return shown
