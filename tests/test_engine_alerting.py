"""Pure rules of alert quality, with hand-written contexts and a fake clock: severity filters,
flap damping and dependency holds."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from upwatch.engine import dependencies, flapping
from upwatch.engine.context import FlapRule, MonitorContext
from upwatch.engine.escalation import due_notices, next_due
from upwatch.engine.model import (
    EscalationProgress,
    EventType,
    Incident,
    MonitorState,
    PolicyStep,
    ShownState,
)
from upwatch.engine.state import apply_result, on_tick, shown_state
from upwatch.probes.result import ProbeResult, ProbeState

T0 = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
POLICY = (
    PolicyStep(timedelta(0), ("slack",)),
    PolicyStep(timedelta(minutes=5), ("pager",), severities=("critical",)),
)
CTX = MonitorContext(
    failure_threshold=1,
    policy_name="default",
    policy=POLICY,
    flapping=FlapRule(4, timedelta(minutes=30)),
)


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def result(up: bool, at: datetime) -> ProbeResult:
    if up:
        return ProbeResult(ProbeState.UP, at, 0.05, status_code=200)
    return ProbeResult(ProbeState.DOWN, at, 0.05, "refused", "Connection refused")


def incident(**fields: object) -> Incident:
    base = Incident("api", T0, T0, "refused", id=1, policy_name="default", policy=POLICY)
    return replace(base, **fields)  # type: ignore[arg-type]


def test_a_step_for_critical_only_is_skipped_for_a_warning_and_its_index_kept() -> None:
    for severity, expected in (("critical", ["slack", "pager"]), ("warning", ["slack"])):
        notices, _ = due_notices(
            incident(severity=severity), EscalationProgress(), minutes(6), in_maintenance=False
        )
        assert [n.channel for n in notices] == expected
    assert next_due(incident(severity="warning"), EscalationProgress()) == T0


def test_a_held_incident_fires_nothing_and_after_release_counts_from_the_release() -> None:
    held = incident(held_by="depends_on:db")
    assert due_notices(held, EscalationProgress(), minutes(30), in_maintenance=False)[0] == ()
    assert next_due(held, EscalationProgress()) is None

    released = dependencies.apply_hold(held, None, minutes(20))
    assert (released.held_by, released.escalate_from) == (None, minutes(20))
    assert next_due(released, EscalationProgress()) == minutes(20)
    notices, progress = due_notices(
        released, EscalationProgress(), minutes(20), in_maintenance=False
    )
    assert [(n.event, n.channel) for n in notices] == [(EventType.INCIDENT_OPENED, "slack")]
    assert next_due(released, progress) == minutes(25)  # step 1: release + 5m


def test_the_first_parent_down_or_in_maintenance_holds_and_a_flapping_hold_is_left_alone() -> None:
    latest = {"db": ProbeState.UP, "cache": ProbeState.DOWN, "queue": None}
    assert dependencies.holding_parent(["db", "cache"], latest, ()) == "cache"
    assert dependencies.holding_parent(["db", "queue"], latest, {"queue"}) == "queue"
    assert dependencies.holding_parent(["db", "queue"], latest, ()) is None
    flapping_held = incident(held_by=flapping.HOLD)
    assert dependencies.apply_hold(flapping_held, "cache", T0) is flapping_held
    assert dependencies.apply_hold(flapping_held, None, T0) is flapping_held
    assert dependencies.held_parent("depends_on:cache") == "cache"


def run(state: MonitorState, pattern: str, start: float = 0) -> tuple[MonitorState, list[str]]:
    """Feed one result a minute (`d` down, `u` up); return the state and the events told."""
    told: list[str] = []
    for i, mark in enumerate(pattern):
        moved = apply_result(state, CTX, result(mark == "u", minutes(start + i)))
        told += [str(n.event) for n in moved.notices]
        if moved.opened is not None and moved.opened.held_by is None:
            told.append("opened")
        if moved.resolved is not None and not moved.quiet:
            told.append("resolved")
        state = moved.state
        if moved.opened is not None:
            state = replace(state, open_incident=replace(moved.opened, id=i + 1))
    return state, told


def test_the_fourth_change_within_the_span_starts_flapping_once_and_silences_incidents() -> None:
    state, told = run(MonitorState("api"), "dudu")
    assert told == ["opened", "resolved", "opened", "monitor.flapping"]  # the 4th is quiet
    assert state.flapping_since == minutes(3)
    assert shown_state(state, paused=False, in_maintenance=False) is ShownState.FLAPPING
    assert shown_state(state, paused=False, in_maintenance=True) is ShownState.MAINTENANCE

    state, told = run(state, "dudud", start=4)
    assert told == []  # recorded, not told: opened incidents are held
    assert state.open_incident is not None
    assert state.open_incident.held_by == flapping.HOLD


def test_it_settles_within_after_the_last_change_and_a_down_settle_escalates_from_then() -> None:
    state, _ = run(MonitorState("api"), "dudud")  # flapping from the 4th, down at the 5th
    assert state.changes[-1] == minutes(4)
    assert on_tick(state, CTX, minutes(33)).state.flapping_since is not None  # not yet

    moved = on_tick(state, CTX, minutes(40))  # found late: settles at its due time
    [settled] = moved.notices
    assert (settled.event, settled.at, settled.episode) == (
        EventType.MONITOR_SETTLED,
        minutes(34),
        minutes(3),
    )
    assert settled.data["flapping"]["state"] == "down"
    assert moved.state.flapping_since is None
    assert moved.state.open_incident is not None
    assert moved.state.open_incident.held_by is None
    assert moved.state.open_incident.escalate_from == minutes(34)
    assert moved.state.state is ShownState.DOWN


def test_two_flapping_spells_on_one_day_are_two_messages() -> None:
    first, _ = run(MonitorState("api"), "dudu")
    settled = on_tick(first, CTX, minutes(40)).state
    second, told = run(settled, "dudu", start=60)
    assert "monitor.flapping" in told
    keys = {
        n.key
        for s, at in ((first, minutes(3)), (second, minutes(63)))
        for n in flapping._told(EventType.MONITOR_FLAPPING, s, CTX, at)
    }
    assert len(keys) == 2
