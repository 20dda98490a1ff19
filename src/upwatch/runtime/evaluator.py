"""Applying the engine's state machine to observations, inside the pipeline's transaction.

The evaluator holds the state of the monitors this process evaluates (loaded from the database
when it takes them, never re-announcing what the database says was announced). Changes are staged
while a transaction runs and become the committed state only when it commits; a failed commit
(database outage) leaves the committed state as it was, so the same observations are evaluated
again, in order, once the database is back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncConnection

from upwatch.config.loader import LoadedConfig
from upwatch.config.models import HeartbeatMonitor, HttpMonitor, MonitorBase
from upwatch.engine import dependencies, escalation, flapping
from upwatch.engine import regions as voting
from upwatch.engine import state as machine
from upwatch.engine.context import MonitorContext, context_for
from upwatch.engine.maintenance import MaintenanceSchedule
from upwatch.engine.model import (
    EscalationProgress,
    Incident,
    MonitorState,
    ShownState,
    Transition,
)
from upwatch.engine.phase import EPOCH
from upwatch.probes.result import ProbeResult
from upwatch.runtime.pipeline import Observation, checkin_observation
from upwatch.store import incident_effects as effects
from upwatch.store import regions as region_store
from upwatch.store import slo_alerts
from upwatch.store.checkins import HandedCheckin, hand_over, take_handed
from upwatch.store.monitors import Lifecycle
from upwatch.store.outbox import enqueue
from upwatch.store.rollups import RollupCache
from upwatch.store.states import Loaded, latest_result_states, load_states, save_states

log = structlog.get_logger("upwatch.evaluator")
# How often SLO alerts are checked: well within the 5-minute short window of the fast burn rule.
SLO_EVERY = timedelta(seconds=10)
# The regions' results are pulled from the database since the last pull, less this much: a
# writer's transaction may commit a little after the time it wrote, or its clock run behind.
PULL_OVERLAP = timedelta(seconds=10)
# Regions' rounds open at most once per this share of min(retry_interval, interval): about once
# per probe of each region (measured with `python -m bench regions`).
ROUND_SPACING = 0.9


def cert_expiring(monitor: MonitorBase, result: ProbeResult) -> bool:
    if not isinstance(monitor, HttpMonitor) or result.cert_expires_at is None:
        return False
    limit = monitor.expect.cert_valid_for
    return limit is not None and result.cert_expires_at - result.checked_at < limit


class Evaluator:
    def __init__(self, loaded: LoadedConfig) -> None:
        self.states: dict[str, MonitorState] = {}
        self.progress: dict[int, EscalationProgress] = {}
        self.created: dict[str, datetime] = {}
        self._staged: dict[str, MonitorState] = {}
        self._staged_progress: dict[int, EscalationProgress] = {}
        self._resolved: set[int] = set()
        self._first: dict[str, datetime] = {}
        # Monitors the clock alone may change (failure runs, open incidents, heartbeats): the
        # only ones the per-flush tick looks at, rather than every monitor every second.
        self._hot: set[str] = set()
        self._heartbeats: set[str] = set()
        # The rollups of the monitors held, written through and kept only for them.
        self.rollups = RollupCache()
        # Counts commits that changed what a status page shows: it is rebuilt when this moves.
        self.version = 0
        self._slo_checked_at: datetime | None = None  # SLO alerts: when last checked
        self._staged_slo_check: datetime | None = None
        # Regions: the rounds of the monitors held that list regions, which regions have a
        # live instance (None: every listed one, when nothing coordinates), and the last pull.
        self.rounds = voting.Rounds()
        self.live_regions: frozenset[str] | None = None
        self._pulled_at: datetime | None = None
        self._staged_pull: datetime | None = None
        self.set_config(loaded)

    def set_config(self, loaded: LoadedConfig) -> None:
        self.config = loaded.config
        self.schedule = MaintenanceSchedule.from_config(loaded.config)
        self.monitors = {m.id: m for m in loaded.config.monitors}
        self._heartbeats = {m.id for m in loaded.config.monitors if isinstance(m, HeartbeatMonitor)}
        self._slo_monitors = {m.id for m in loaded.config.monitors if m.slo is not None}
        self._slo_checked_at = None  # a new config may add or change SLOs: check at once
        self._rules = {m.id: _region_rule(m) for m in loaded.config.monitors if m.regions}
        # A new interval or grace moves heartbeat deadlines: let on_tick derive them afresh.
        for monitor_id, state in self.states.items():
            if isinstance(self.monitors.get(monitor_id), HeartbeatMonitor):
                self.states[monitor_id] = replace(state, deadline_at=None)

    async def take(self, connection: AsyncConnection, monitor_ids: Iterable[str]) -> None:
        """Start evaluating `monitor_ids`, resuming exactly from the database."""
        ids = list(monitor_ids)
        self.rollups.forget(ids)  # another process may have written them meanwhile
        if any(m in self._rules for m in ids):
            self._pulled_at = None  # learn their regions' latest results at the next pull
        found: dict[str, Loaded] = await load_states(connection, ids)
        for monitor_id, loaded in found.items():
            self.states[monitor_id] = loaded.state
            self.created[monitor_id] = loaded.created_at
            self._mark(loaded.state)
            incident = loaded.state.open_incident
            if incident is not None and incident.id is not None:
                self.progress[incident.id] = loaded.progress or EscalationProgress()

    def _mark(self, state: MonitorState) -> None:
        if (
            state.failure_run > 0
            or state.open_incident is not None
            or state.flapping_since is not None
        ):
            self._hot.add(state.monitor_id)
        else:
            self._hot.discard(state.monitor_id)

    def _candidates(self) -> list[str]:
        """The monitors time alone may change, plus those changed in this transaction."""
        ids = self._hot | self._staged.keys() | (self._heartbeats & self.states.keys())
        return sorted(m for m in ids if m in self.states)

    def release(self, monitor_ids: Iterable[str]) -> None:
        ids = list(monitor_ids)
        self.rollups.forget(ids)
        self.rounds.forget(ids)
        for monitor_id in ids:
            self._hot.discard(monitor_id)
            state = self.states.pop(monitor_id, None)
            incident = None if state is None else state.open_incident
            if incident is not None and incident.id is not None:
                self.progress.pop(incident.id, None)

    def failing(self) -> list[str]:
        """Monitors whose last result was down (they start on their retry interval)."""
        return [m for m, s in self.states.items() if s.failure_run > 0]

    # ---- the transaction ----------------------------------------------------------------

    def _current(self, monitor_id: str) -> MonitorState | None:
        return self._staged.get(monitor_id) or self.states.get(monitor_id)

    def _context(self, monitor: MonitorBase, at: datetime) -> MonitorContext:
        created = self.created.get(monitor.id)
        return context_for(monitor, self.config, self.schedule, at=at, created_at=created)

    async def evaluate(
        self, connection: AsyncConnection, batch: Sequence[Observation], now: datetime
    ) -> list[tuple[str, ProbeResult]]:
        """Judge `batch` in order, then what time alone brings; return the results to store."""
        rows: list[tuple[str, ProbeResult]] = []
        elsewhere: list[HandedCheckin] = []
        handed = await take_handed(connection, self.states)
        regional = [o for o in batch if o.region is not None]
        await region_store.record(connection, [_region_result(o) for o in regional], now)
        plain = [o for o in batch if o.region is None]
        for observation in [*(checkin_observation(c) for c in handed), *plain]:
            if observation.checkin and self._current(observation.monitor_id) is None:
                elsewhere.append(_handed(observation))  # evaluated by the shard's holder
                continue
            row = await self._observe(connection, observation, now)
            if row is not None:
                rows.append(row)
        await hand_over(connection, elsewhere)
        rows.extend(await self._vote(connection, now))
        rows.extend(await self._tick(connection, now))
        await self._escalate_due(connection, now)
        await self._check_slos(connection, now)
        await save_states(connection, list(self._staged.values()), now)
        return rows

    async def _check_slos(self, connection: AsyncConnection, now: datetime) -> None:
        """Every SLO_EVERY: open, escalate and resolve the SLO alerts of the monitors held."""
        if self.config.slo_alerts is None or not self._slo_monitors:
            return
        if self._slo_checked_at is not None and now - self._slo_checked_at < SLO_EVERY:
            return
        held = [m for m in self._slo_monitors if m in self.states]
        await slo_alerts.check(connection, self.config, held, now)
        self._staged_slo_check = now

    async def _vote(
        self, connection: AsyncConnection, now: datetime
    ) -> list[tuple[str, ProbeResult]]:
        """Learn the regions' newest results, then judge the rounds they complete."""
        if not self._rules:
            return []
        since = EPOCH if self._pulled_at is None else self._pulled_at - PULL_OVERLAP
        for found in await region_store.written_since(connection, since):
            self._learn(found, now)
        self._staged_pull = now
        live = self.live_regions
        if live is None:
            live = frozenset(r for rule in self._rules.values() for r in rule.regions)
        rows: list[tuple[str, ProbeResult]] = []
        for monitor_id, result in self.rounds.close(self._rules, live, now):
            row = await self._observe(connection, Observation(monitor_id, result), now)
            if row is not None:
                rows.append(row)
        return rows

    def _learn(self, found: region_store.RegionResult, now: datetime) -> None:
        rule = self._rules.get(found.monitor_id)
        state = self._current(found.monitor_id)
        if rule is None or state is None or found.region not in rule.regions:
            return  # not held here, or a region the monitor no longer lists
        checked_at = found.result.checked_at
        fresh = now - checked_at <= rule.fresh_for
        newer = state.last_result_at is None or checked_at > state.last_result_at
        self.rounds.seen(
            found.monitor_id, found.region, found.result, rule, may_open=fresh and newer
        )

    @property
    def first_results(self) -> dict[str, datetime]:
        """Monitors that got their first result ever in this transaction."""
        return self._first

    async def _observe(
        self, connection: AsyncConnection, observation: Observation, now: datetime
    ) -> tuple[str, ProbeResult] | None:
        monitor = self.monitors.get(observation.monitor_id)
        state = self._current(observation.monitor_id)
        if monitor is None or state is None or monitor.paused:
            return None  # not ours (any more): archived, paused or evaluated elsewhere
        result = observation.result
        ctx = self._context(monitor, result.checked_at)
        if observation.checkin:
            moved = machine.check_in(state, ctx, result.checked_at, ok=not result.is_down)
        else:
            moved = machine.apply_result(
                state, ctx, result, cert_expiring=cert_expiring(monitor, result)
            )
        self._note_first(state, result)
        await self._apply(connection, moved, now)
        return monitor.id, moved.result or result

    def _note_first(self, state: MonitorState, result: ProbeResult) -> None:
        if state.last_result_at is None:
            self._first.setdefault(state.monitor_id, result.checked_at)

    async def _tick(
        self, connection: AsyncConnection, now: datetime
    ) -> list[tuple[str, ProbeResult]]:
        """Heartbeat deadlines and failure runs waiting for a maintenance window to end."""
        rows: list[tuple[str, ProbeResult]] = []
        for monitor_id in self._candidates():
            state = self._current(monitor_id)
            monitor = self.monitors.get(monitor_id)
            if state is None or monitor is None or monitor.paused:
                continue
            if not _time_matters(state, monitor, now):
                continue
            moved = machine.on_tick(state, self._context(monitor, now), now)
            if moved.state != state or moved.opened is not None:
                await self._apply(connection, moved, now)
                if moved.result is not None:  # a missed heartbeat deadline is a result too
                    self._note_first(state, moved.result)
                    rows.append((monitor_id, moved.result))
        return rows

    async def _apply(self, connection: AsyncConnection, moved: Transition, now: datetime) -> None:
        state = moved.state
        before = self._current(state.monitor_id)
        if moved.resolved is not None:
            await self._resolve(connection, moved.resolved, now, quiet=moved.quiet)
        if moved.opened is not None:
            state = await self._open(connection, state, moved.opened)
        elif _hold_changed(before, state):
            assert state.open_incident is not None
            await effects.hold(connection, state.open_incident)
        if moved.notices:
            await enqueue(connection, moved.notices, now)
        self._staged[state.monitor_id] = state

    async def _open(
        self, connection: AsyncConnection, state: MonitorState, opened: Incident
    ) -> MonitorState:
        incident = await effects.open_incident(connection, opened)
        log.warning("incident confirmed", monitor=incident.monitor_id, incident=incident.id)
        assert incident.id is not None
        self._staged_progress[incident.id] = EscalationProgress()
        return replace(state, open_incident=incident)

    async def _resolve(
        self, connection: AsyncConnection, resolved: Incident, now: datetime, *, quiet: bool
    ) -> None:
        incident = await effects.resolve(connection, resolved, now, quiet=quiet)
        assert incident.id is not None
        self._staged_progress.pop(incident.id, None)
        self._resolved.add(incident.id)
        log.info("incident resolved", monitor=incident.monitor_id, incident=incident.id)

    async def _escalate_due(self, connection: AsyncConnection, now: datetime) -> None:
        for monitor_id in self._candidates():
            state = self._current(monitor_id)
            incident = None if state is None else state.open_incident
            if state is None or incident is None or incident.id is None:
                continue
            state = await self._hold_for_parents(connection, state, now)
            incident = state.open_incident
            assert incident is not None
            assert incident.id is not None
            progress = self._staged_progress.get(incident.id) or self.progress.get(
                incident.id, EscalationProgress()
            )
            due = escalation.next_due(incident, progress)
            if due is None or due > now:
                continue
            await self._escalate(connection, state, incident, progress, now)

    async def _hold_for_parents(
        self, connection: AsyncConnection, state: MonitorState, now: datetime
    ) -> MonitorState:
        """Hold the open incident while a monitor it depends on fails; release it after."""
        monitor = self.monitors.get(state.monitor_id)
        incident = state.open_incident
        if monitor is None or incident is None or (not monitor.depends_on and not incident.held_by):
            return state
        parent = await self._holding_parent(connection, monitor.depends_on, now)
        held = dependencies.apply_hold(incident, parent, now)
        if held is incident:
            return state
        await effects.hold(connection, held)
        state = replace(state, open_incident=held)
        self._staged[state.monitor_id] = state
        log.info("incident hold", monitor=state.monitor_id, held_by=held.held_by)
        return state

    async def _holding_parent(
        self, connection: AsyncConnection, parents: Sequence[str], now: datetime
    ) -> str | None:
        local = {p: self._current(p) for p in parents}
        latest = {p: s.last_result_state for p, s in local.items() if s is not None}
        elsewhere = [p for p in parents if p not in latest]  # evaluated by another process
        if elsewhere:
            latest.update(await latest_result_states(connection, elsewhere))
        paused = {p for p in parents if (m := self.monitors.get(p)) is None or m.paused}
        for p in paused:
            latest.pop(p, None)
        busy = {p for p in parents if self.schedule.active(p, now) is not None}
        return dependencies.holding_parent(parents, latest, busy)

    async def _escalate(
        self,
        connection: AsyncConnection,
        state: MonitorState,
        incident: Incident,
        progress: EscalationProgress,
        now: datetime,
    ) -> None:
        incident_id = incident.id
        assert incident_id is not None
        monitor = self.monitors.get(state.monitor_id)
        in_maintenance = monitor is not None and self.schedule.active(monitor.id, now) is not None
        fresh, progress = await effects.escalate(
            connection, incident, progress, now, in_maintenance=in_maintenance
        )
        if fresh is not incident:
            self._staged[state.monitor_id] = replace(state, open_incident=fresh)
        self._staged_progress[incident_id] = progress

    async def catch_up(
        self, connection: AsyncConnection, facts: dict[str, Lifecycle], now: datetime
    ) -> None:
        """Apply pausing, archiving and resuming that happened while this process did not
        evaluate the monitor (another instance reconciled the config, or the shard moved).

        Idempotent: stopping resolves an open incident once; resuming starts afresh only if the
        state has not changed since the period ended.
        """
        for monitor_id, fact in facts.items():
            state = self._current(monitor_id)
            if state is None:
                continue
            moved = _lifecycle_transition(state, fact)
            if moved is not None:
                await self._apply(connection, moved, now)
        await save_states(connection, list(self._staged.values()), now)

    def commit(self) -> None:
        if any(_shown_changed(self.states.get(m), s) for m, s in self._staged.items()):
            self.version += 1
        self.states.update(self._staged)
        for state in self._staged.values():
            self._mark(state)
        self.progress.update(self._staged_progress)
        for incident_id in self._resolved:
            self.progress.pop(incident_id, None)
        self.rollups.commit()
        if self._staged_slo_check is not None:
            self._slo_checked_at = self._staged_slo_check
        if self._staged_pull is not None:
            self._pulled_at = self._staged_pull
        self.rounds.commit()
        self.rollback()

    def rollback(self) -> None:
        self.rollups.rollback()
        self._staged.clear()
        self._staged_progress.clear()
        self._resolved.clear()
        self._first = {}
        self._staged_slo_check = None
        self._staged_pull = None
        self.rounds.rollback()


def _hold_changed(before: MonitorState | None, after: MonitorState) -> bool:
    """Whether the open incident's hold moved (flapping began or settled) without it being
    opened or resolved in this step."""
    old = None if before is None else before.open_incident
    new = after.open_incident
    if old is None or new is None or old.id != new.id:
        return False
    return (old.held_by, old.escalate_from) != (new.held_by, new.escalate_from)


def _shown_changed(before: MonitorState | None, after: MonitorState) -> bool:
    if before is None:
        return True
    return (before.state, before.since, before.open_incident, before.flapping_since) != (
        after.state,
        after.since,
        after.open_incident,
        after.flapping_since,
    )


def _region_rule(monitor: MonitorBase) -> voting.RegionRule:
    return voting.RegionRule(
        regions=tuple(monitor.regions or ()),
        confirm=monitor.quorum,
        interval=monitor.interval,
        timeout=monitor.timeout,
        spacing=monitor.effective_retry_interval * ROUND_SPACING,
    )


def _region_result(observation: Observation) -> region_store.RegionResult:
    assert observation.region is not None
    return region_store.RegionResult(observation.monitor_id, observation.region, observation.result)


def _handed(observation: Observation) -> HandedCheckin:
    result = observation.result
    return HandedCheckin(observation.monitor_id, result.checked_at, not result.is_down)


def _lifecycle_transition(state: MonitorState, fact: Lifecycle) -> Transition | None:
    if fact.stopped is not None and fact.stopped_at is not None:
        if state.open_incident is None and state.state is ShownState.UNKNOWN:
            return None  # already stopped
        stop = machine.archive if fact.stopped == "archived" else machine.pause
        return stop(state, _not_before(fact.stopped_at, state))
    if fact.resumed_at is not None and (state.since is None or state.since < fact.resumed_at):
        return machine.resume(state, fact.resumed_at)
    return None


def _not_before(at: datetime, state: MonitorState) -> datetime:
    """`at`, or later if the state already moved past it (an older instance kept probing for a
    moment after the config changed): an incident never resolves before it started."""
    known = [t for t in (at, state.since, state.last_result_at) if t is not None]
    return max(known)


def _time_matters(state: MonitorState, monitor: MonitorBase, now: datetime) -> bool:
    """Whether the clock alone can change this monitor now (cheap filter before on_tick).

    Three things can: a heartbeat deadline passing, the end of a maintenance window that held
    back a failure run long enough to confirm (a missed deadline confirms on its own), and a
    flapping monitor settling.
    """
    within = None if monitor.flapping is None else monitor.flapping.within
    settles = flapping.settles_at(state, within)
    if settles is not None and settles <= now:
        return True
    threshold = 1 if state.deadline_missed else monitor.failure_threshold
    held_back = state.open_incident is None and state.failure_run >= threshold
    if isinstance(monitor, HeartbeatMonitor):
        due = state.deadline_at is None or now >= state.deadline_at
        return (due and not state.deadline_missed) or held_back
    return held_back
