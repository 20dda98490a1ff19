"""`python -m bench regions`: one monitor probed from one region, or from three with a 2-of-3
vote, over simulated days on a fake clock, through the engine's own code.

Nothing here touches a database, the network or the real clock. What is real: the monitor's
config model and its defaults (`upwatch.config.models`), its probe phase (`engine.phase`), the
region rule the evaluator derives from it (`runtime.evaluator._region_rule`), the rounds and the
vote (`engine.regions.Rounds`), the context (`engine.context.context_for`) and the state machine
(`engine.state.apply_result`). What is modelled, after the runtime code it stands for:

- each region's scheduler (`runtime/scheduler.py`): slots at the monitor's phase on the interval
  grid; a result that starts a failure moves that region to a retry grid starting retry_interval
  after that probe started (or when it came back, if later), a result that ends one moves it back
  to the phase grid; a slot that
  comes while the region's probe still runs is skipped. Each region decides from its own results.
- a probe starts up to 20 ms after its slot; `checked_at` is its start. Up: a round trip of
  about 60, 140 or 220 ms (us, eu, ap; log-normal spread). Down: a timeout (it takes `timeout`)
  or a refused connection (as long as a round trip). Outages and blips fail the same way.
- a region's result is stored by that region's pipeline within a second of it coming back; the
  evaluator holding the monitor flushes once a second (at a phase of its own): it learns the
  results stored since its last flush, each with `may_open` as `Evaluator._learn` computes it,
  then `Rounds.close(rules, live, now)` and `apply_result` on each voted round, then commits.
  Flushes in which nothing can happen (no new result, no open round) are skipped: they would
  change nothing. The evaluator's re-reading of results already pulled (`PULL_OVERLAP`) is left
  out: `Rounds.seen` ignores a result it already holds.
- one region (today's behaviour, no `regions`): each result goes straight to `apply_result` at
  the flush after it comes back (the same process probes and evaluates).

Counted besides pages: rounds closed by the round wait rather than complete, rounds voted up
although a region was down, down rounds in which fewer than K of the down results were new (a
region's latest result votes until it is 2 × interval old, so one result can count in two
rounds), and rounds found open longer than their wait (a round that never closes).

The world: three outages every region sees (fixed times of day), and per region a 1 % chance per
probe of a transient failure, either of that probe alone (`isolated`) or of the region's path for
up to three minutes from that probe on (`episodes`: every probe of that region starting within it
fails). Each day is one seed (`random.Random(seed)`), so every figure is reproducible.
"""

from __future__ import annotations

import argparse
import heapq
import math
import random
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from upwatch.config.models import Config, MonitorBase
from upwatch.engine.context import MonitorContext, context_for
from upwatch.engine.maintenance import MaintenanceSchedule
from upwatch.engine.model import MonitorState
from upwatch.engine.phase import next_fire
from upwatch.engine.regions import RegionRule, Rounds
from upwatch.engine.state import apply_result
from upwatch.probes.result import ProbeResult, ProbeState
from upwatch.runtime.evaluator import _region_rule

DAY0 = datetime(2026, 12, 4, tzinfo=UTC)
MONITOR_ID = "api"
REGIONS = ("us", "eu", "ap")
# Round trip of an answered probe per region: the target sits near `us`.
BASE_RTT = {"us": 0.06, "eu": 0.14, "ap": 0.22}
START_LAG = 0.02  # seconds a probe may start after its slot (the slot timer's granularity)
STORE_DELAY = 1.0  # seconds a region's pipeline may take to store a result (it flushes each second)
EPISODE_MAX = 180.0  # seconds an `episodes` blip may keep a region's path failing
# (start as seconds into the day, length in seconds): 03:17 for 4 min, 11:42 for 10, 19:05 for 30;
# each day moves them later by up to one interval, else the monitor's fixed phase would meet
# every outage at the same point of its grid and every day would detect it equally fast.
OUTAGES = ((3 * 3600 + 17 * 60, 240), (11 * 3600 + 42 * 60, 600), (19 * 3600 + 5 * 60, 1800))
CAUSES = {"timeout": "timed out after {timeout}s", "refused": "connection refused"}
PUBLIC = {"timeout": "Timed out", "refused": "Connection refused"}


@dataclass(frozen=True, slots=True)
class Setup:
    interval: int = 30
    timeout: int = 10
    failure_threshold: int = 3
    retry_interval: int = 20
    blip_chance: float = 0.01

    def monitor_config(self, regions: Sequence[str] | None, confirm: int | None) -> Config:
        monitor: dict[str, object] = {
            "id": MONITOR_ID,
            "name": "API",
            "url": "https://api.example.test/health",
            "interval": f"{self.interval}s",
            "timeout": f"{self.timeout}s",
            "failure_threshold": self.failure_threshold,
            "retry_interval": f"{self.retry_interval}s",
            "escalation": "none",
        }
        if regions:
            monitor["regions"] = list(regions)
            monitor["confirm"] = confirm
        return Config.model_validate({"version": 1, "monitors": [monitor]})

    @property
    def bound(self) -> int:
        """The promised detection time: interval + (failure_threshold − 1) × retry_interval."""
        return self.interval + (self.failure_threshold - 1) * self.retry_interval


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    regions: tuple[str, ...]  # one region: no `regions` in the config, results judged directly
    confirm: int | None
    blips: str  # isolated | episodes
    failure: str  # timeout | refused: how both outages and blips fail

    @property
    def voted(self) -> bool:
        return len(self.regions) > 1


@dataclass(slots=True)
class Page:
    paged_at: float  # the flush (fake clock) that opened the incident: when it is sent
    started_at: float  # the incident's started_at (first down result of the run)
    confirmed_at: float  # the incident's confirmed_at (a result's or a round's checked_at)
    resolved_at: float | None = None  # the flush that resolved it
    reused: bool = False  # its failure run counted a down round with fewer than K new downs


@dataclass(slots=True)
class DayResult:
    seed: int
    pages: list[Page] = field(default_factory=list)
    outages: list[tuple[float, float]] = field(default_factory=list)  # (start, end) seconds
    detected: list[Page | None] = field(default_factory=list)  # per outage
    covered: int = 0  # outages that began while an incident (a false page) was open
    false_pages: list[Page] = field(default_factory=list)
    probes: int = 0
    down_probes: int = 0
    rounds: int = 0  # rounds voted (or results judged, for one region)
    rounds_at_wait: int = 0  # rounds closed by the round wait rather than complete
    reused_downs: int = 0  # down rounds counted with fewer than K results no round used before
    stuck_rounds: int = 0  # flushes that found a round open longer than its wait (+ a flush)
    region_only_downs: int = 0  # rounds with at least one region down that voted up


@dataclass(slots=True)
class _Prober:
    """One region's scheduler for the monitor."""

    region: str
    grid_start: float
    every: float
    retrying: bool = False
    episode_until: float = -math.inf


@dataclass(order=True, slots=True)
class _Stored:
    visible_at: float
    done_at: float
    seq: int
    region: str = field(compare=False)
    result: ProbeResult = field(compare=False)


def _at(seconds: float) -> datetime:
    return DAY0 + timedelta(seconds=seconds)


def _seconds(at: datetime) -> float:
    return (at - DAY0).total_seconds()


class Day:
    """One simulated day of one scenario."""

    def __init__(self, setup: Setup, scenario: Scenario, seed: int) -> None:
        self.setup = setup
        self.scenario = scenario
        self.rng = random.Random(seed)
        self.out = DayResult(seed)
        for begin, length in OUTAGES:
            start = begin + self.rng.uniform(0, setup.interval)
            self.out.outages.append((start, start + length))
        config = setup.monitor_config(
            scenario.regions if scenario.voted else None, scenario.confirm
        )
        monitor = config.monitor(MONITOR_ID)
        assert monitor is not None
        self.monitor: MonitorBase = monitor
        # No maintenance window: the context is the same at every instant of the day.
        self.ctx: MonitorContext = context_for(
            monitor, config, MaintenanceSchedule.from_config(config), at=DAY0, created_at=DAY0
        )
        self.rule: RegionRule | None = _region_rule(monitor) if scenario.voted else None
        self.live = frozenset(scenario.regions)
        self.state = MonitorState(MONITOR_ID)
        self.rounds = Rounds()
        self.flush_phase = self.rng.random()
        self.events: list[tuple[float, int, int]] = []  # (time, seq, prober index or -1: flush)
        self.stored: list[_Stored] = []
        self.flushes: set[float] = set()
        self.seq = 0
        self.used: set[tuple[str, datetime]] = set()  # down results some down round counted
        self.open_page: Page | None = None
        self.run_reused = False
        first = _seconds(next_fire(MONITOR_ID, monitor.interval, DAY0))
        self.probers = [
            _Prober(region, first, monitor.interval.total_seconds()) for region in scenario.regions
        ]

    def run(self) -> DayResult:
        for index, prober in enumerate(self.probers):
            self._push(prober.grid_start, index)
        while self.events:
            at, _, what = heapq.heappop(self.events)
            if at >= 86_400:
                break
            if what < 0:
                self._flush(at)
            else:
                self._probe(self.probers[what], what, at)
        self._attribute()
        return self.out

    # ---- the world -----------------------------------------------------------------------

    def _down(self, prober: _Prober, start: float) -> bool:
        if any(begin <= start < end for begin, end in self.out.outages):
            return True
        if start < prober.episode_until:
            return True
        if self.rng.random() >= self.setup.blip_chance:
            return False
        if self.scenario.blips == "episodes":
            prober.episode_until = start + self.rng.uniform(0, EPISODE_MAX)
        return True

    def _result(self, prober: _Prober, start: float) -> ProbeResult:
        rtt = BASE_RTT[prober.region] * self.rng.lognormvariate(0, 0.3)
        if not self._down(prober, start):
            return ProbeResult(ProbeState.UP, _at(start), rtt)
        kind = self.scenario.failure
        took = float(self.setup.timeout) if kind == "timeout" else rtt
        cause = CAUSES[kind].format(timeout=self.setup.timeout)
        return ProbeResult(
            ProbeState.DOWN, _at(start), took, cause=cause, public_cause=PUBLIC[kind]
        )

    # ---- one region's scheduler --------------------------------------------------------------

    def _probe(self, prober: _Prober, index: int, slot: float) -> None:
        start = slot + self.rng.uniform(0, START_LAG)
        result = self._result(prober, start)
        done = start + result.duration
        self.out.probes += 1
        self.out.down_probes += result.is_down
        visible = done + (self.rng.uniform(0, STORE_DELAY) if self.scenario.voted else 0.0)
        self.seq += 1
        heapq.heappush(self.stored, _Stored(visible, done, self.seq, prober.region, result))
        self._flush_after(visible)
        self._push(self._follow(prober, slot, done, failing=result.is_down), index)

    def _follow(self, prober: _Prober, slot: float, done: float, *, failing: bool) -> float:
        """The region's next slot, as `ProbeScheduler._follow` and `_schedule` would set it."""
        if failing != prober.retrying:
            prober.retrying = failing
            if failing:
                prober.grid_start = max(done, slot + self.setup.retry_interval)
                prober.every = float(self.setup.retry_interval)
            else:
                prober.grid_start = _seconds(
                    next_fire(MONITOR_ID, self.monitor.interval, _at(done))
                )
                prober.every = float(self.setup.interval)
            return prober.grid_start
        # The same grid: its next slot, skipping those that came while this probe ran.
        after = max(slot + prober.every / 2, done)
        steps = math.ceil((after - prober.grid_start) / prober.every)
        return prober.grid_start + max(0, steps) * prober.every

    # ---- the evaluator ------------------------------------------------------------------------

    def _flush_after(self, at: float) -> None:
        tick = math.ceil(at - self.flush_phase) + self.flush_phase
        if tick not in self.flushes:
            self.flushes.add(tick)
            self._push(tick, -1)

    def _flush(self, now: float) -> None:
        self.flushes.discard(now)
        learned: list[_Stored] = []
        while self.stored and self.stored[0].visible_at <= now:
            learned.append(heapq.heappop(self.stored))
        if self.rule is None:
            # One region: judged in the order the results came back.
            for stored in sorted(learned, key=lambda s: s.done_at):
                self._judge(stored.result, now)
            return
        self._vote(learned, self.rule, now)

    def _vote(self, learned: list[_Stored], rule: RegionRule, now: float) -> None:
        at = _at(now)
        for stored in learned:
            checked_at = stored.result.checked_at
            fresh = at - checked_at <= rule.fresh_for
            last = self.state.last_result_at
            newer = last is None or checked_at > last
            self.rounds.seen(
                MONITOR_ID, stored.region, stored.result, rule, may_open=fresh and newer
            )
        latest = self.rounds.latest.get(MONITOR_ID, {})
        pending = self.rounds.pending.get(MONITOR_ID)
        complete = pending is not None and pending.complete(rule, latest, self.live)
        if pending is not None and at >= pending.opened_at + rule.round_wait + timedelta(seconds=2):
            self.out.stuck_rounds += 1
        for _, result in self.rounds.close({MONITOR_ID: rule}, self.live, at):
            self.out.rounds_at_wait += not complete
            self._inspect(result, rule, latest)
            self._judge(result, now)
        self.rounds.commit()
        if MONITOR_ID in self.rounds.pending:
            self._flush_after(now + 0.5)

    def _inspect(
        self, voted: ProbeResult, rule: RegionRule, latest: dict[str, ProbeResult]
    ) -> None:
        """Count what a vote counted: down results reused by a later down round, and rounds in
        which some region was down but too few agreed."""
        fresh = {
            region: result
            for region, result in latest.items()
            if voted.checked_at - result.checked_at <= rule.fresh_for
        }
        downs = {(region, r.checked_at) for region, r in fresh.items() if r.is_down}
        if voted.is_down:
            if len(downs - self.used) < rule.confirm:
                self.out.reused_downs += 1
                self.run_reused = True
            self.used |= downs
        elif downs:
            self.out.region_only_downs += 1

    def _judge(self, result: ProbeResult, now: float) -> None:
        self.out.rounds += 1
        moved = apply_result(self.state, self.ctx, result)
        self.state = moved.state
        if not result.is_down:
            self.run_reused = False
        if moved.resolved is not None and self.open_page is not None:
            self.open_page.resolved_at = now
            self.open_page = None
        if moved.opened is not None:
            opened = moved.opened
            page = Page(now, _seconds(opened.started_at), _seconds(opened.confirmed_at))
            page.reused = self.run_reused
            self.out.pages.append(page)
            self.open_page = page

    def _push(self, at: float, what: int) -> None:
        self.seq += 1
        heapq.heappush(self.events, (at, self.seq, what))

    def _attribute(self) -> None:
        """Each outage is detected by the first page sent after it began, if that page's
        failure run started before it ended; every other page is false. An outage that began
        while a false page was still open is counted as covered, not detected."""
        claimed: set[int] = set()
        for begin, end in self.out.outages:
            found = None
            for index, page in enumerate(self.out.pages):
                if page.paged_at < begin:
                    if page.resolved_at is None or page.resolved_at > begin:
                        self.out.covered += 1
                        break
                    continue
                if index not in claimed and page.started_at < end:
                    found = index
                break
            if found is not None:
                claimed.add(found)
            self.out.detected.append(None if found is None else self.out.pages[found])
        self.out.false_pages = [p for i, p in enumerate(self.out.pages) if i not in claimed]


# ---- reporting ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Summary:
    scenario: Scenario
    days: list[DayResult]

    @property
    def false_pages(self) -> int:
        return sum(len(d.false_pages) for d in self.days)

    def detections(self, outage: int | None = None) -> list[float]:
        return [
            page.paged_at - d.outages[i][0]
            for d in self.days
            for i, page in enumerate(d.detected)
            if page is not None and (outage is None or i == outage)
        ]

    def stamps(self) -> list[float]:
        """confirmed_at − outage start: the time the incident says it was confirmed."""
        return [
            page.confirmed_at - d.outages[i][0]
            for d in self.days
            for i, page in enumerate(d.detected)
            if page is not None
        ]

    def total(self, name: str) -> int:
        return sum(int(getattr(d, name)) for d in self.days)


def _fmt(values: Sequence[float]) -> str:
    if not values:
        return "–"
    return f"{statistics.median(values):5.1f} / {max(values):5.1f}"


def report(setup: Setup, summaries: Sequence[Summary], *, verbose: bool) -> None:
    days = len(summaries[0].days)
    outages = len(OUTAGES) * days
    print(
        f"\n{'scenario':<28} {'false pages':>11} {'per day':>7} {'outages paged':>13}"
        f" {'covered':>7} {'paged after, med / max s':>24} {'> bound':>7}"
        f" {'confirmed_at after':>18}"
    )
    for s in summaries:
        found = s.detections()
        over = sum(1 for d in found if d > setup.bound)
        print(
            f"{s.scenario.name:<28} {s.false_pages:>11} {s.false_pages / days:>7.2f}"
            f" {len(found):>7} / {outages:<3} {s.total('covered'):>7} {_fmt(found):>24}"
            f" {over:>7} {_fmt(s.stamps()):>18}"
        )
    print(
        f"\nbound: interval + (failure_threshold − 1) × retry_interval = {setup.bound} s."
        " 'paged after': from the outage's start to the flush that opened the incident;"
        " 'confirmed_at after': to the incident's confirmed_at (a result's or round's checked_at)."
        " covered: the outage began while a false page was still open."
    )
    print("\nper outage, paged after (median / max s):")
    for s in summaries:
        cells = "   ".join(
            f"{length // 60:>2} min: {_fmt(s.detections(i))}"
            for i, (_, length) in enumerate(OUTAGES)
        )
        print(f"  {s.scenario.name:<28} {cells}")
    print("\nengine counters (totals over all days):")
    for s in summaries:
        reused = sum(1 for d in s.days for p in d.false_pages if p.reused)
        print(
            f"  {s.scenario.name:<28} probes {s.total('probes')}, down {s.total('down_probes')},"
            f" judged {s.total('rounds')}, closed at the wait {s.total('rounds_at_wait')},"
            f" voted up with a region down {s.total('region_only_downs')},"
            f" down rounds with < K new downs {s.total('reused_downs')}"
            f" (false pages counting one: {reused}),"
            f" rounds open past their wait {s.total('stuck_rounds')}"
        )
    if verbose:
        for s in summaries:
            print(f"\n{s.scenario.name}:")
            for d in s.days:
                for page in d.false_pages:
                    resolved = "never" if page.resolved_at is None else _clock(page.resolved_at)
                    print(
                        f"  seed {d.seed}: false page at {_clock(page.paged_at)}, run from"
                        f" {_clock(page.started_at)}, resolved {resolved}"
                        + (", counted a reused down" if page.reused else "")
                    )


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{seconds % 60:06.3f}"


def scenarios(blips: Sequence[str], failures: Sequence[str]) -> list[Scenario]:
    found = []
    for failure in failures:
        for blip in blips:
            found.append(Scenario(f"1 region, {blip}, {failure}", ("us",), None, blip, failure))
            found.append(Scenario(f"2 of 3, {blip}, {failure}", REGIONS, 2, blip, failure))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench regions", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--days", type=int, default=20, help="simulated days, one seed each")
    parser.add_argument("--seed", type=int, default=1, help="the first day's seed")
    parser.add_argument("--interval", type=int, default=30, help="seconds")
    parser.add_argument("--timeout", type=int, default=10, help="seconds")
    parser.add_argument("--failure-threshold", type=int, default=3)
    parser.add_argument("--retry-interval", type=int, default=20, help="seconds")
    parser.add_argument("--blip-chance", type=float, default=0.01, help="per probe, per region")
    parser.add_argument(
        "--blips", choices=("isolated", "episodes", "both"), default="both", help="blip model"
    )
    parser.add_argument(
        "--failures", choices=("timeout", "refused", "both"), default="both", help="how probes fail"
    )
    parser.add_argument("--verbose", action="store_true", help="list every false page")
    args = parser.parse_args(argv)
    setup = Setup(
        args.interval, args.timeout, args.failure_threshold, args.retry_interval, args.blip_chance
    )
    blips = ("isolated", "episodes") if args.blips == "both" else (args.blips,)
    failures = ("timeout", "refused") if args.failures == "both" else (args.failures,)
    seeds = range(args.seed, args.seed + args.days)
    print(
        f"one monitor, interval {setup.interval} s, timeout {setup.timeout} s, failure_threshold"
        f" {setup.failure_threshold}, retry_interval {setup.retry_interval} s, recovery_threshold 1"
    )
    print(
        f"{args.days} simulated days (seeds {seeds.start}–{seeds.stop - 1}); per region a"
        f" {setup.blip_chance:.0%} chance per probe of a transient failure (isolated: that probe;"
        f" episodes: the region's path for U(0, {EPISODE_MAX:.0f}) s)"
    )
    print(
        "outages every region sees: "
        + ", ".join(f"{_clock(b)[:5]} for {n // 60} min" for b, n in OUTAGES)
        + "; regions us, eu, ap"
    )
    began = time.perf_counter()
    summaries = [
        Summary(scenario, [Day(setup, scenario, seed).run() for seed in seeds])
        for scenario in scenarios(blips, failures)
    ]
    report(setup, summaries, verbose=args.verbose)
    print(f"\n({time.perf_counter() - began:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
