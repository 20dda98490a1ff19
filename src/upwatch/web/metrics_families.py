"""The metric families of a scrape, filled monitor by monitor."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from upwatch.engine.model import ShownState
from upwatch.engine.slo import SloStatus
from upwatch.probes.result import ProbeState
from upwatch.store.regions import RegionResult

_M = ["monitor"]
_PASSED = (str(ProbeState.UP), str(ProbeState.DEGRADED))  # degraded met every hard expectation


def _gauge(name: str, documentation: str, labels: list[str] = _M) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, labels=labels)


class Families:
    def __init__(self) -> None:
        self.success = _gauge("probe_success", "Whether the latest probe succeeded (1) or not (0)")
        self.duration = _gauge("probe_duration_seconds", "How long the latest probe took")
        self.status = _gauge(
            "probe_http_status_code", "HTTP status of the latest probe's final response (0: none)"
        )
        self.cert = _gauge(
            "probe_ssl_earliest_cert_expiry",
            "When the TLS certificate seen by the latest probe expires, as unix time",
        )
        self.info = _gauge(
            "upwatch_monitor_info",
            "A monitor's name, group and type as labels; always 1",
            ["monitor", "name", "group", "type", "public"],
        )
        self.state = _gauge(
            "upwatch_monitor_state",
            "1 for the state the status page shows for a monitor, 0 for the others",
            ["monitor", "state"],
        )
        self.open = _gauge("upwatch_open_incidents", "Incidents of a monitor not yet resolved")
        self.uptime = _gauge(
            "upwatch_uptime_ratio",
            "Uptime over a trailing window, 0 to 1 (maintenance and paused time excluded)",
            ["monitor", "window"],
        )
        # A summary, because `quantile` is its label (promtool refuses it on a gauge); quantiles
        # only, over the trailing 24 hours: a window's count and sum fall as hours leave it, and
        # a summary's _count and _sum must never fall.
        self.response = Metric(
            "upwatch_response_time_seconds",
            "Response time over the last 24 hours at each quantile (nearest rank, within 2 %), "
            "from the hourly rollups' latency sketches",
            "summary",
        )
        self.checked = _gauge(
            "upwatch_last_check_timestamp_seconds", "When the latest result was recorded"
        )
        self.slo_target = _gauge(
            "upwatch_slo_target_ratio", "A monitor's SLO target, 0 to 1 (0.999 for 99.9 %)"
        )
        self.slo_left = _gauge(
            "upwatch_slo_budget_left_ratio",
            "Share of the SLO's error budget not yet spent in its window; below 0 when overspent",
        )
        self.region_success = _gauge(
            "upwatch_region_probe_success",
            "Whether a region's latest probe of a monitor with `regions` succeeded (1) or not (0)",
            ["monitor", "region"],
        )
        self.region_duration = _gauge(
            "upwatch_region_probe_duration_seconds",
            "How long a region's latest probe of a monitor with `regions` took",
            ["monitor", "region"],
        )
        self.slo_burn = _gauge(
            "upwatch_slo_burn_rate",
            "Bad time over a trailing window as a multiple of what the SLO allows in it",
            ["monitor", "window"],
        )

    def add_monitor(
        self,
        row: Any,
        state: ShownState,
        uptime: dict[str, float | None],
        open_incidents: int,
    ) -> None:
        monitor = [row.id]
        public = "true" if row.public else "false"
        self.info.add_metric([row.id, row.name, row.group_name or "", row.type, public], 1)
        for candidate in ShownState:
            self.state.add_metric([row.id, str(candidate)], float(candidate is state))
        self.open.add_metric(monitor, open_incidents)
        for window, value in uptime.items():
            if value is not None:
                self.uptime.add_metric([row.id, window], value / 100)
        self._latest(row, monitor)

    def add_response_times(self, monitor_id: str, found: dict[str, float | None]) -> None:
        """p50/p95/p99 in ms as `quantile="0.5|0.95|0.99"` in seconds; none without data."""
        for quantile, label in (("0.5", "p50"), ("0.95", "p95"), ("0.99", "p99")):
            if (value := found.get(label)) is not None:
                labels = {"monitor": monitor_id, "quantile": quantile}
                self.response.add_sample(self.response.name, labels, value / 1000)

    def add_slo(self, monitor_id: str, status: SloStatus) -> None:
        self.slo_target.add_metric([monitor_id], status.target / 100)
        self.slo_left.add_metric([monitor_id], status.budget_left_percent / 100)
        for window, rate in status.burn.items():
            self.slo_burn.add_metric([monitor_id, window], rate)

    def add_regions(self, monitor_id: str, found: Iterable[RegionResult]) -> None:
        for item in found:
            labels = [monitor_id, item.region]
            self.region_success.add_metric(labels, float(item.result.state in _PASSED))
            self.region_duration.add_metric(labels, item.result.duration)

    def _latest(self, row: Any, monitor: list[str]) -> None:
        if row.last_result_state is None:
            return  # never probed: no probe_* samples rather than made-up zeros
        self.success.add_metric(monitor, float(row.last_result_state in _PASSED))
        self.checked.add_metric(monitor, row.last_result_at.timestamp())
        if row.duration_ms is not None:
            self.duration.add_metric(monitor, row.duration_ms / 1000)
        if row.type == "http":
            self.status.add_metric(monitor, row.last_status_code or 0)
        if row.cert_expires_at is not None:
            self.cert.add_metric(monitor, row.cert_expires_at.timestamp())

    def all(self) -> Iterator[Metric]:
        yield from (
            self.success,
            self.duration,
            self.status,
            self.cert,
            self.info,
            self.state,
            self.open,
            self.uptime,
            self.response,
            self.checked,
            self.slo_target,
            self.slo_left,
            self.slo_burn,
            self.region_success,
            self.region_duration,
        )
