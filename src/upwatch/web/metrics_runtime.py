"""The process's own counters on `/metrics`: notification deliveries (permanent failures are
counted), the result buffer that bridges a database outage, and heartbeat successes coalesced.

They live in memory, in the notification worker and the result pipeline; a scrape copies them
on the event loop (where they change) and the collector formats the copy.
"""

from __future__ import annotations

from collections.abc import Iterator, Sized
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Protocol

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

if TYPE_CHECKING:
    from upwatch.runtime.load import ScheduleLoad
    from upwatch.web.context import AppContext

ANY_CHANNEL = "all"  # the channel label of an anonymous scrape


class ResultPipeline(Protocol):
    """What /metrics reads of the daemon's result pipeline (runtime.pipeline.Pipeline)."""

    @property
    def buffer(self) -> Sized: ...
    @property
    def dropped(self) -> int: ...
    @property
    def written(self) -> int: ...
    @property
    def database_up(self) -> bool: ...


class Probing(Protocol):
    """What /metrics reads of the monitoring service: its shards and its schedule's load."""

    @property
    def held(self) -> set[int]: ...
    @property
    def serving_only(self) -> bool: ...
    @property
    def load(self) -> ScheduleLoad: ...
    @property
    def region(self) -> str: ...
    def live_regions(self) -> frozenset[str] | None: ...
    def listed_regions(self) -> list[str]: ...


@dataclass(frozen=True, slots=True)
class ProbingCounts:
    shards: int
    serving_only: bool
    probes: int
    skipped: int
    late: int
    p99_lag: float
    overloaded: bool
    region: str = "default"  # where this instance probes from
    regions: dict[str, bool] = field(default_factory=dict)  # listed region: has a live instance


@dataclass(frozen=True, slots=True)
class RuntimeCounts:
    deliveries: dict[tuple[str, str], int] = field(default_factory=dict)  # (channel, outcome)
    announced: dict[str, int] = field(default_factory=dict)  # channel.failed notices, by channel
    pipeline: tuple[int, int, int, bool] | None = None  # buffered, dropped, written, database up
    probing: ProbingCounts | None = None
    checkins_coalesced: int = 0  # successes answered but not stored (no monitor label: public)

    def anonymous(self) -> RuntimeCounts:
        """For a scrape without the token: channel names summed away ("all"), since a channel's
        name may say who is paged and how."""
        deliveries: dict[tuple[str, str], int] = {}
        for (_channel, outcome), n in self.deliveries.items():
            deliveries[(ANY_CHANNEL, outcome)] = deliveries.get((ANY_CHANNEL, outcome), 0) + n
        announced = {ANY_CHANNEL: sum(self.announced.values())} if self.announced else {}
        return replace(self, deliveries=deliveries, announced=announced)


def runtime_counts(ctx: AppContext) -> RuntimeCounts:
    deliveries: dict[tuple[str, str], int] = {}
    announced: dict[str, int] = {}
    worker = ctx.notifier
    if worker is not None:
        outcomes = {
            "delivered": worker.delivered,
            "retried": worker.retried,
            "failed": worker.failed_permanently,
            "gave_up": worker.gave_up,
        }
        for outcome, counter in outcomes.items():
            deliveries.update({(channel, outcome): n for channel, n in counter.items()})
        announced = dict(worker.announced)
    pipe = ctx.pipeline
    stats = None
    if pipe is not None:
        stats = (len(pipe.buffer), pipe.dropped, pipe.written, pipe.database_up)
    coalesced = ctx.checkin_gate.coalesced
    return RuntimeCounts(deliveries, announced, stats, _probing(ctx.probing), coalesced)


def _probing(service: Probing | None) -> ProbingCounts | None:
    if service is None:
        return None
    load = service.load
    live = service.live_regions()
    regions = {} if live is None else {r: r in live for r in service.listed_regions()}
    return ProbingCounts(
        len(service.held),
        service.serving_only,
        load.probes,
        load.skipped,
        load.late,
        load.p99_lag,
        load.overloaded,
        service.region,
        regions,
    )


def runtime_families(counts: RuntimeCounts) -> Iterator[Metric]:
    sent = CounterMetricFamily(
        "upwatch_notifications",
        "Notification delivery attempts since start, by channel and outcome "
        "(failed: a permanent 4xx; gave_up: still failing after 24 hours)",
        labels=["channel", "outcome"],
    )
    for (channel, outcome), n in sorted(counts.deliveries.items()):
        sent.add_metric([channel, outcome], n)
    announced = CounterMetricFamily(
        "upwatch_channel_failures_announced",
        "channel.failed messages sent through other channels since start, by failed channel",
        labels=["channel"],
    )
    for channel, n in sorted(counts.announced.items()):
        announced.add_metric([channel], n)
    coalesced = CounterMetricFamily(
        "upwatch_checkins_coalesced",
        "Heartbeat successes answered but not stored since start, because the monitor had a "
        "success stored less than a second before",
        counts.checkins_coalesced,
    )
    yield from (sent, announced, coalesced)
    if counts.pipeline is not None:
        yield from _pipeline(*counts.pipeline)
    if counts.probing is not None:
        yield from _probing_families(counts.probing)


def _probing_families(p: ProbingCounts) -> Iterator[Metric]:
    yield GaugeMetricFamily(
        "upwatch_shards_held", "Shards of the 64 this instance probes and judges", p.shards
    )
    yield GaugeMetricFamily(
        "upwatch_stepped_down",
        "1 when a newer config generation runs elsewhere and this instance only serves pages",
        p.serving_only,
    )
    counted = (
        ("upwatch_probes_started", "Probes started since start", p.probes),
        (
            "upwatch_probe_slots_skipped",
            "Scheduled probes skipped since start because the monitor's previous probe had not "
            "started yet (the machine cannot keep up: intervals stretch)",
            p.skipped,
        ),
        (
            "upwatch_probes_late",
            "Probes started more than 1 s after their slot, since start",
            p.late,
        ),
    )
    for name, documentation, value in counted:
        family = CounterMetricFamily(name, f"{documentation}, by region", labels=["region"])
        family.add_metric([p.region], value)
        yield family
    if p.regions:
        region_up = GaugeMetricFamily(
            "upwatch_region_up",
            "1 while a region the config lists has a live instance; 0 while it has none (its "
            "votes count as unknown)",
            labels=["region"],
        )
        for region, up in sorted(p.regions.items()):
            region_up.add_metric([region], 1 if up else 0)
        yield region_up
    yield GaugeMetricFamily(
        "upwatch_schedule_lag_p99_seconds",
        "99th percentile of probe start minus scheduled slot over the last 30 s window",
        p.p99_lag,
    )
    yield GaugeMetricFamily(
        "upwatch_overloaded",
        "1 while probing falls behind schedule (p99 lag over 1 s or slots skipped)",
        p.overloaded,
    )


def _pipeline(buffered: int, dropped: int, written: int, database_up: bool) -> Iterator[Metric]:
    yield GaugeMetricFamily(
        "upwatch_results_buffered", "Probe results held in memory, not yet written", buffered
    )
    yield CounterMetricFamily(
        "upwatch_results_dropped",
        "Results dropped since start because the buffer was full during a database outage",
        dropped,
    )
    yield CounterMetricFamily("upwatch_results_written", "Results written since start", written)
    yield GaugeMetricFamily(
        "upwatch_database_up", "1 when the last write to the database succeeded", database_up
    )
