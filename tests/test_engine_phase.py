"""Probe phases: spread evenly, the same in every process, on a grid that does not drift."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from upwatch.engine.phase import EPOCH, SHARDS, next_fire, phase_offset, shard_of

MINUTE = timedelta(seconds=60)
NOW = datetime(2026, 11, 22, 10, 0, 0, 123456, tzinfo=UTC)


@pytest.mark.parametrize("pattern", ["monitor-{}", "m{:05d}", "{}", "api-eu-{}-health"])
def test_ten_thousand_monitors_at_sixty_seconds_spread_over_the_minute(pattern: str) -> None:
    ids = [pattern.format(i) for i in range(10_000)]

    buckets = Counter(int(phase_offset(i, MINUTE).total_seconds()) for i in ids)

    mean = len(ids) / 60
    assert set(buckets) == set(range(60))
    assert max(buckets.values()) <= 3 * mean


@pytest.mark.parametrize(
    ("monitor_id", "interval", "offset"),
    [
        # crc32("api") = 2902841359, read as a fraction of 2**32 and scaled to the interval
        ("api", MINUTE, timedelta(seconds=40, microseconds=552225)),
        ("api", timedelta(minutes=5), timedelta(seconds=202, microseconds=761126)),
        # crc32("database") = 3377661486
        ("database", timedelta(seconds=30), timedelta(seconds=23, microseconds=592692)),
    ],
)
def test_a_phase_is_the_ids_checksum_scaled_into_the_interval(
    monitor_id: str, interval: timedelta, offset: timedelta
) -> None:
    assert phase_offset(monitor_id, interval) == offset


def test_phases_and_shards_are_the_same_in_another_process_with_another_hash_seed() -> None:
    code = (
        "from datetime import timedelta; from upwatch.engine.phase import phase_offset, shard_of;"
        "print(phase_offset('api', timedelta(seconds=60)).total_seconds(), shard_of('api'))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}

    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    ).stdout.split()

    assert out == [str(phase_offset("api", MINUTE).total_seconds()), str(shard_of("api"))]


@pytest.mark.parametrize("monitor_id", ["api", "database", "nightly-backup"])
@pytest.mark.parametrize("interval", [timedelta(seconds=1), MINUTE, timedelta(hours=24)])
def test_next_fire_is_the_first_grid_instant_at_or_after_now(
    monitor_id: str, interval: timedelta
) -> None:
    fire = next_fire(monitor_id, interval, NOW)

    assert NOW <= fire < NOW + interval
    assert (fire - EPOCH - phase_offset(monitor_id, interval)) % interval == timedelta(0)


def test_a_fire_time_is_its_own_next_fire_and_the_one_after_is_an_interval_later() -> None:
    fire = next_fire("api", MINUTE, NOW)

    assert next_fire("api", MINUTE, fire) == fire
    assert next_fire("api", MINUTE, fire + timedelta(microseconds=1)) == fire + MINUTE


def test_late_wakeups_do_not_drift_the_schedule() -> None:
    first = next_fire("api", MINUTE, NOW)
    fire = first
    for late in (timedelta(seconds=3), timedelta(milliseconds=250), timedelta(seconds=59)):
        fire = next_fire("api", MINUTE, fire + late)

    assert fire == first + 3 * MINUTE


@pytest.mark.parametrize(("monitor_id", "shard"), [("api", 15), ("database", 46)])
def test_a_monitors_shard_is_crc32_of_its_id_modulo_64(monitor_id: str, shard: int) -> None:
    assert shard_of(monitor_id) == shard
    assert 0 <= shard_of(monitor_id) < SHARDS


def test_an_interval_of_zero_is_refused() -> None:
    with pytest.raises(ValueError, match="longer than zero"):
        next_fire("api", timedelta(0), NOW)
