"""The process's own counters on `/metrics`: notification deliveries (DESIGN §6: permanent
failures are counted) and the result buffer that bridges a database outage (DESIGN §9).

They live in memory, in the notification worker and the result pipeline; a scrape copies them
on the event loop (where they change) and the collector formats the copy.
"""

from __future__ import annotations

from collections.abc import Iterator, Sized
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

if TYPE_CHECKING:
    from upwatch.web.context import AppContext


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


@dataclass(frozen=True, slots=True)
class RuntimeCounts:
    deliveries: dict[tuple[str, str], int] = field(default_factory=dict)  # (channel, outcome)
    announced: dict[str, int] = field(default_factory=dict)  # channel.failed notices, by channel
    pipeline: tuple[int, int, int, bool] | None = None  # buffered, dropped, written, database up


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
    return RuntimeCounts(deliveries, announced, stats)


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
    yield from (sent, announced)
    if counts.pipeline is not None:
        yield from _pipeline(*counts.pipeline)


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
