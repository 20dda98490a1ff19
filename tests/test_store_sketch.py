"""Latency sketches: percentiles within 2 % of the exact nearest-rank percentile, after the
sketches are serialized, read back and merged, as rollup rows are over a window."""

from __future__ import annotations

import json
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from upwatch.store import sketch as sketches
from upwatch.store.rollups import Rollup

QUANTILES = (0.5, 0.95, 0.99)

# Durations in ms as probes measure them: from a microsecond to two minutes, or exactly 0.
durations = st.one_of(st.just(0.0), st.floats(min_value=0.001, max_value=120_000.0))


def nearest_rank(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


def close(found: float | None, exact: float) -> bool:
    assert found is not None
    return abs(found - exact) <= 0.02 * exact


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(durations, max_size=60), min_size=1, max_size=8))
def test_merged_sketches_read_back_give_percentiles_within_two_percent(
    parts: list[list[float]],
) -> None:
    merged = sketches.new_sketch()
    for part in parts:
        sketch = sketches.new_sketch()
        for value in part:
            sketch.add(value)
        stored = sketches.dumps(sketch)
        loaded = sketches.loads(stored)
        assert (loaded is None) == (not part)
        if loaded is not None:
            merged.merge(loaded)

    values = [v for part in parts for v in part]
    found = sketches.percentiles(sketches.loads(sketches.dumps(merged)), QUANTILES)
    if not values:
        assert found == [None, None, None]
        return
    for q, value in zip(QUANTILES, found, strict=True):
        assert close(value, nearest_rank(values, q)), (q, value, nearest_rank(values, q))


@given(st.lists(durations, min_size=1, max_size=200), st.integers(0, 199))
def test_rollups_merged_in_any_split_agree_with_one_rollup_of_everything(
    values: list[float], cut: int
) -> None:
    whole, first, second = Rollup(), Rollup(), Rollup()
    for i, value in enumerate(values):
        whole.add("up", value)
        (first if i < cut else second).add("up", value)
    first.merge(second)
    assert first.percentiles() == whole.percentiles()
    first_text, whole_text = sketches.dumps(first.sketch), sketches.dumps(whole.sketch)
    assert first_text is not None
    assert whole_text is not None
    assert json.loads(first_text) == json.loads(whole_text)


@given(st.lists(durations, min_size=1, max_size=100), st.integers(1, 20))
def test_a_sketch_written_flush_after_flush_reads_back_as_one_written_once(
    values: list[float], step: int
) -> None:
    """The store keeps its JSON current as durations arrive: each write equals a fresh one."""
    rollup = Rollup()
    for start in range(0, len(values), step):
        for value in values[start : start + step]:
            rollup.add("up", value)
        text = sketches.dumps(rollup.sketch)
        fresh = sketches.loads(text)
        assert fresh is not None
        assert sketches.dumps(fresh) is not None
        assert json.loads(sketches.dumps(fresh) or "") == json.loads(text or "")
        assert fresh.count == start + len(values[start : start + step])


def test_a_stored_sketch_is_compact_json_of_bin_counts() -> None:
    sketch = sketches.new_sketch()
    for value in (508.0, 510.0, 512.0, 516.0, 0.0):
        sketch.add(value)
    text = sketches.dumps(sketch)
    assert text is not None
    stored = json.loads(text)
    assert stored["accuracy"] == 0.01
    assert (stored["zero"], sum(stored["counts"])) == (1, 4)
    assert all(isinstance(count, int) for count in stored["counts"])
    assert len(text) < 80


def test_rows_without_a_sketch_or_at_another_accuracy_read_as_no_data() -> None:
    assert sketches.loads(None) is None
    assert sketches.loads("") is None
    assert sketches.loads('{"accuracy":0.02,"key":1,"counts":[3],"zero":0}') is None
    assert sketches.percentiles(None) == [None, None, None]
