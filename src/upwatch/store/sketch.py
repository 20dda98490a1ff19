"""Latency sketches: DDSketch (the `ddsketch` package) with 1 % relative accuracy, so any
percentile read from one is within 1 % of the exact nearest-rank percentile of the durations
added, and sketches of hours merge into days or any window by adding bin counts.

A sketch is stored as compact JSON of its bins, not with pickle or protobuf:
`{"accuracy":0.01,"key":312,"counts":[5375,3265],"zero":0}` is 5,375 durations in bin 312,
3,265 in bin 313 and none at 0 ms. Bins are ddsketch's keys of its logarithmic mapping: bin k
holds durations in (γ^(k-1), γ^k] with γ = 1.01 / 0.99.

Percentiles are read by nearest rank (the ⌈q·n⌉-th smallest duration), not by ddsketch's own
`get_quantile_value`, which interpolates the rank as q·(n-1) and can pick the neighbouring
duration on small counts.
"""

from __future__ import annotations

import itertools
import json
import math
import operator
from bisect import bisect_left
from collections.abc import Sequence
from typing import Any, cast

from ddsketch.ddsketch import BaseDDSketch
from ddsketch.mapping import LogarithmicMapping
from ddsketch.store import Store

ACCURACY = 0.01
MAPPING = LogarithmicMapping(ACCURACY)
QUANTILES = (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))


class BinStore(Store):
    """ddsketch's store interface over whole counts of consecutive bins: `counts[i]` is the
    count of bin `key + i`.

    Rollup rows are written on every flush, each time with one or two more durations than the
    last, so the store keeps each bin's count as text too (`texts`) and writing a row joins
    those strings instead of encoding every bin again; encoding them cost more CPU per probe
    than the rest of the rollup work. The texts are built on the first `dumps` and dropped by a
    merge or copy, which only read paths do. Merging adds lists with `map(add, ...)`, so a
    window of 24 hourly rows merges about as fast as the fixed histogram it replaces.
    """

    def __init__(self, key: int = 0, counts: list[int] | None = None) -> None:
        super().__init__()
        self.key = key
        self.counts: list[int] = counts or []
        self.count = sum(self.counts)
        self.texts: list[str] | None = None

    def copy(self, store: Store) -> None:
        other = cast(BinStore, store)
        self.key, self.counts, self.count = other.key, list(other.counts), other.count
        self.texts = None

    def length(self) -> int:
        return len(self.counts)

    def add(self, key: int, weight: float = 1) -> None:
        if not self.counts:
            self.key = key
        self._cover(key, key)
        i = key - self.key
        count = self.counts[i] = self.counts[i] + int(weight)
        self.count += int(weight)
        if self.texts is not None:
            self.texts[i] = str(count)

    def _cover(self, low: int, high: int) -> None:
        """Grow the lists to hold bins `low` to `high`."""
        if low < self.key:
            self.counts[:0] = [0] * (self.key - low)
            if self.texts is not None:
                self.texts[:0] = ["0"] * (self.key - low)
            self.key = low
        extra = high - self.key + 1 - len(self.counts)
        if extra > 0:
            self.counts += [0] * extra
            if self.texts is not None:
                self.texts += ["0"] * extra

    def key_at_rank(self, rank: float, lower: bool = True) -> int:
        running = 0
        for i, count in enumerate(self.counts):
            running += count
            if (lower and running > rank) or (not lower and running >= rank + 1):
                return self.key + i
        return self.key + len(self.counts) - 1

    def merge(self, store: Store) -> None:
        other = cast(BinStore, store)
        if not other.counts:
            return
        if not self.counts:
            self.copy(other)
            return
        self.texts = None
        self._cover(other.key, other.key + len(other.counts) - 1)
        start = other.key - self.key
        stop = start + len(other.counts)
        self.counts[start:stop] = map(operator.add, self.counts[start:stop], other.counts)
        self.count += other.count

    def json(self) -> str:
        if self.texts is None:
            self.texts = list(map(str, self.counts))
        return "[" + ",".join(self.texts) + "]"


def new_sketch() -> BaseDDSketch:
    """An empty sketch: ddsketch's DDSketch with its logarithmic mapping, on a `BinStore`."""
    return BaseDDSketch(MAPPING, BinStore(), BinStore(), 0.0)


def _positive(sketch: BaseDDSketch) -> BinStore:
    return cast(BinStore, sketch._store)


def percentiles(
    sketch: BaseDDSketch | None, quantiles: Sequence[float] = (0.5, 0.95, 0.99)
) -> list[float | None]:
    """Nearest-rank percentiles in milliseconds, one pass over the bins; None when empty."""
    total = 0 if sketch is None else sketch.count
    if sketch is None or total == 0:
        return [None] * len(quantiles)
    store = _positive(sketch)
    zero = total - store.count
    cumulative = list(itertools.accumulate(store.counts))
    found: list[float | None] = []
    for q in quantiles:
        rank = max(1, math.ceil(q * total - 1e-9)) - zero  # 1-based rank among non-zero bins
        if rank <= 0:
            found.append(0.0)
            continue
        index = min(bisect_left(cumulative, rank - 1e-9), len(cumulative) - 1)
        found.append(MAPPING.value(store.key + index))
    return found


def dumps(sketch: BaseDDSketch) -> str | None:
    """The sketch as compact JSON (None when it holds nothing)."""
    if sketch.count == 0:
        return None
    store = _positive(sketch)
    zero = int(sketch.count - store.count)
    head = f'{{"accuracy":{ACCURACY},"key":{store.key},"counts":'
    return f'{head}{store.json()},"zero":{zero}}}'


def loads(text: str | None) -> BaseDDSketch | None:
    """A stored sketch, or None for a row without one (written before sketches were kept) or
    one kept at another accuracy (it cannot be merged with ours)."""
    if not text:
        return None
    data: dict[str, Any] = json.loads(text)
    if data.get("accuracy") != ACCURACY:
        return None
    store = BinStore(int(data["key"]), data["counts"])
    return BaseDDSketch(MAPPING, store, BinStore(), float(data["zero"]))
