"""The monitor state machine: failure runs, confirmation, recovery, degraded, pause."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from upwatch.engine.context import MonitorContext
from upwatch.engine.model import (
    Incident,
    MonitorState,
    PolicyStep,
    Resolution,
    ShownState,
    Transition,
)
from upwatch.engine.state import apply_result, archive, pause, resume, shown_state
from upwatch.probes.result import ProbeResult, ProbeState

Outcomes = list[tuple[str, str]]


def t(text: str) -> datetime:
    """`10:02` on 2026-11-22 UTC, or a full `2026-11-23 01:00`."""
    full = text if len(text) > 8 else f"2026-11-22 {text}"
    return datetime.fromisoformat(full).replace(tzinfo=UTC)


def result(when: str, state: str = "down", cause: str | None = None) -> ProbeResult:
    default = {"down": "expected status 200, got 503", "degraded": "slow: 6.2s"}.get(state)
    return ProbeResult(
        ProbeState(state),
        checked_at=t(when),
        duration=0.1,
        cause=cause or default,
        public_cause="HTTP 503" if state == "down" else None,
        status_code=503 if state == "down" else 200,
    )


def feed(
    outcomes: Outcomes, ctx: MonitorContext, state: MonitorState | None = None
) -> tuple[MonitorState, list[Transition]]:
    state = state or MonitorState("api")
    transitions = []
    for when, kind in outcomes:
        transition = apply_result(state, ctx, result(when, kind))
        transitions.append(transition)
        state = transition.state
    return state, transitions


def opened(transitions: list[Transition]) -> list[Incident]:
    return [tr.opened for tr in transitions if tr.opened is not None]


def resolved(transitions: list[Transition]) -> list[Incident]:
    return [tr.resolved for tr in transitions if tr.resolved is not None]


@pytest.mark.parametrize(
    ("threshold", "outcomes", "started_at", "confirmed_at"),
    [
        (1, [("10:00", "down")], "10:00", "10:00"),
        (3, [("10:00", "down"), ("10:01", "down"), ("10:02", "down")], "10:00", "10:02"),
        (
            3,
            [("10:00", "down"), ("10:00:20", "down"), ("10:00:40", "down"), ("10:01", "down")],
            "10:00",
            "10:00:40",
        ),
        (
            3,
            [
                ("10:00", "down"),
                ("10:01", "up"),
                ("10:02", "down"),
                ("10:03", "down"),
                ("10:04", "down"),
            ],
            "10:02",
            "10:04",
        ),
        (
            2,
            [("10:00", "down"), ("10:01", "degraded"), ("10:02", "down"), ("10:03", "down")],
            "10:02",
            "10:03",
        ),
    ],
)
def test_the_threshold_th_consecutive_down_result_confirms_an_incident_started_at_the_first(
    threshold: int, outcomes: Outcomes, started_at: str, confirmed_at: str
) -> None:
    state, transitions = feed(outcomes, MonitorContext(failure_threshold=threshold))

    [incident] = opened(transitions)
    assert (incident.started_at, incident.confirmed_at) == (t(started_at), t(confirmed_at))
    assert state.open_incident == incident
    assert (state.state, state.since) == (ShownState.DOWN, t(started_at))


@pytest.mark.parametrize(
    ("before", "since"),
    [(ShownState.UP, "09:00"), (ShownState.DEGRADED, "09:30"), (ShownState.UNKNOWN, None)],
)
def test_down_results_below_the_threshold_leave_the_state_as_it_was(
    before: ShownState, since: str | None
) -> None:
    start = MonitorState("api", state=before, since=None if since is None else t(since))

    state, transitions = feed([("10:00", "down"), ("10:01", "down")], MonitorContext(), start)

    assert opened(transitions) == []
    assert (state.state, state.since) == (start.state, start.since)
    assert (state.failure_run, state.failure_run_started_at) == (2, t("10:00"))


@pytest.mark.parametrize("kind", ["up", "degraded"])
def test_an_up_or_degraded_result_ends_the_failure_run(kind: str) -> None:
    state, _ = feed([("10:00", "down"), ("10:01", "down"), ("10:02", kind)], MonitorContext())

    assert (state.failure_run, state.failure_run_started_at) == (0, None)


@pytest.mark.parametrize(
    ("recovery", "after_confirmation", "resolved_at", "shown"),
    [
        (1, [("10:05", "up")], "10:05", ShownState.UP),
        (1, [("10:05", "degraded")], "10:05", ShownState.DEGRADED),
        (2, [("10:05", "up"), ("10:06", "up")], "10:05", ShownState.UP),
        (2, [("10:05", "up"), ("10:06", "degraded")], "10:05", ShownState.DEGRADED),
        (
            2,
            [("10:05", "up"), ("10:06", "down"), ("10:07", "up"), ("10:08", "up")],
            "10:07",
            ShownState.UP,
        ),
        (3, [("10:05", "degraded"), ("10:06", "up"), ("10:07", "up")], "10:05", ShownState.UP),
    ],
)
def test_recovery_threshold_non_down_results_resolve_the_incident_at_the_first_of_them(
    recovery: int, after_confirmation: Outcomes, resolved_at: str, shown: ShownState
) -> None:
    ctx = MonitorContext(failure_threshold=2, recovery_threshold=recovery)

    state, transitions = feed([("10:00", "down"), ("10:01", "down"), *after_confirmation], ctx)

    [incident] = resolved(transitions)
    assert incident.resolved_at == t(resolved_at)
    assert incident.resolution is Resolution.RECOVERED
    assert incident.duration(t("23:59")) == t(resolved_at) - t("10:00")
    assert state.open_incident is None
    assert (state.state, state.since) == (shown, t(resolved_at))


@pytest.mark.parametrize(
    "after_confirmation",
    [
        [("10:05", "up")],
        [("10:05", "up"), ("10:06", "down"), ("10:07", "degraded")],
    ],
)
def test_too_few_non_down_results_keep_the_incident_open_and_the_monitor_down(
    after_confirmation: Outcomes,
) -> None:
    ctx = MonitorContext(failure_threshold=2, recovery_threshold=2)

    state, transitions = feed([("10:00", "down"), ("10:01", "down"), *after_confirmation], ctx)

    assert resolved(transitions) == []
    assert state.open_incident is not None
    assert (state.state, state.since) == (ShownState.DOWN, t("10:00"))


SLOTS = MonitorContext(
    failure_threshold=2, recovery_threshold=2, recovery_spacing=timedelta(seconds=10)
)


def test_two_successes_of_one_slot_count_once_and_a_later_slot_resolves() -> None:
    # Two slots fired together after a restart, 0.28 s apart, then one half a (20 s) interval on.
    down = [("10:00", "down"), ("10:01", "down")]
    both = [("10:05", "up"), ("2026-11-22 10:05:00.280000", "up")]

    held, early = feed([*down, *both], SLOTS)
    state, later = feed([("2026-11-22 10:05:10.280000", "up")], SLOTS, held)

    assert resolved(early) == []
    assert (held.state, held.success_run) == (ShownState.DOWN, 1)
    [incident] = resolved(later)
    assert incident.resolved_at == t("10:05")
    assert state.open_incident is None


def test_a_success_is_spaced_from_the_last_one_that_counted_not_the_last_result() -> None:
    outcomes = [("10:00", "down"), ("10:01", "down"), ("10:05", "up"), ("10:05:06", "up")]

    state, transitions = feed([*outcomes, ("10:05:10", "up")], SLOTS)

    [incident] = resolved(transitions)
    assert incident.resolved_at == t("10:05")
    assert transitions[-1].resolved == incident
    assert state.open_incident is None


def test_successes_one_interval_apart_resolve_at_the_second() -> None:
    ctx = replace(SLOTS, recovery_spacing=timedelta(seconds=30))
    outcomes = [("10:00", "down"), ("10:01", "down"), ("10:05", "up"), ("10:06", "up")]

    state, transitions = feed(outcomes, ctx)

    assert transitions[-1].resolved is not None
    assert transitions[-1].resolved.resolved_at == t("10:05")
    assert state.state is ShownState.UP


def test_a_down_result_forgets_the_last_counted_success() -> None:
    outcomes = [("10:00", "down"), ("10:01", "down"), ("10:05", "up"), ("10:05:02", "down")]

    _, transitions = feed([*outcomes, ("10:05:04", "up"), ("10:05:14", "up")], SLOTS)

    [incident] = resolved(transitions)
    assert incident.resolved_at == t("10:05:04")


def test_down_results_during_an_open_incident_do_not_open_another() -> None:
    outcomes = [(f"10:0{minute}", "down") for minute in range(8)]

    state, transitions = feed(outcomes, MonitorContext(failure_threshold=3))

    assert len(opened(transitions)) == 1
    assert state.failure_run == 8


@pytest.mark.parametrize(
    ("outcomes", "shown", "since"),
    [
        ([("10:00", "degraded")], ShownState.DEGRADED, "10:00"),
        ([("10:00", "up"), ("10:01", "degraded")], ShownState.DEGRADED, "10:01"),
        ([("10:00", "degraded"), ("10:01", "degraded")], ShownState.DEGRADED, "10:00"),
        ([("10:00", "degraded"), ("10:01", "up")], ShownState.UP, "10:01"),
        ([("10:00", "up"), ("10:01", "up")], ShownState.UP, "10:00"),
        ([("10:00", "up"), ("10:01", "down"), ("10:02", "up")], ShownState.UP, "10:00"),
    ],
)
def test_degraded_is_shown_at_once_and_since_moves_only_when_the_state_changes(
    outcomes: Outcomes, shown: ShownState, since: str
) -> None:
    state, transitions = feed(outcomes, MonitorContext(failure_threshold=1 + len(outcomes)))

    assert opened(transitions) == []
    assert (state.state, state.since) == (shown, t(since))


def test_degraded_results_count_as_up_and_never_open_an_incident() -> None:
    outcomes = [(f"10:0{minute}", "degraded") for minute in range(5)]

    _, transitions = feed(outcomes, MonitorContext(failure_threshold=1))

    assert opened(transitions) == []


def test_the_last_result_fields_follow_every_result() -> None:
    state, _ = feed([("10:00", "up"), ("10:01", "down")], MonitorContext())

    assert state.last_result_at == t("10:01")
    assert state.last_result_state is ProbeState.DOWN
    assert state.last_cause == "expected status 200, got 503"
    assert state.last_public_cause == "HTTP 503"
    assert state.last_status_code == 503


def test_an_incident_records_the_cause_and_the_policy_it_was_confirmed_with() -> None:
    policy = (PolicyStep(timedelta(0), ("team-slack",)),)
    ctx = MonitorContext(failure_threshold=1, policy_name="default", policy=policy)

    transition = apply_result(MonitorState("api"), ctx, result("10:00", cause="timed out"))

    assert transition.opened is not None
    assert transition.opened.cause == "timed out"
    assert (transition.opened.policy_name, transition.opened.policy) == ("default", policy)
    assert transition.opened.id is None
    assert transition.result == result("10:00", cause="timed out")


def test_a_redeployed_policy_does_not_change_the_open_incident() -> None:
    old = (PolicyStep(timedelta(0), ("team-slack",)),)
    new = (PolicyStep(timedelta(0), ("pager",)),)
    state, _ = feed([("10:00", "down")], MonitorContext(failure_threshold=1, policy=old))

    state, _ = feed([("10:01", "down")], MonitorContext(failure_threshold=1, policy=new), state)

    assert state.open_incident is not None
    assert state.open_incident.policy == old


@pytest.mark.parametrize(
    ("stop", "resolution"),
    [(pause, Resolution.PAUSED), (archive, Resolution.ARCHIVED)],
)
def test_pausing_or_archiving_resolves_the_open_incident_with_its_reason(
    stop: Callable[[MonitorState, datetime], Transition], resolution: Resolution
) -> None:
    state, _ = feed([("10:00", "down")], MonitorContext(failure_threshold=1))

    transition = stop(state, t("10:30"))

    assert transition.resolved is not None
    assert transition.resolved.resolution is resolution
    assert str(transition.resolved.resolution) in {"monitoring paused", "monitor removed"}
    assert transition.resolved.resolved_at == t("10:30")
    assert transition.resolved.duration(t("23:00")) == timedelta(minutes=30)
    assert transition.state.open_incident is None
    assert transition.state.failure_run == 0


def test_pausing_a_monitor_without_an_incident_resolves_nothing() -> None:
    state, _ = feed([("10:00", "up")], MonitorContext())

    transition = pause(state, t("10:30"))

    assert transition.resolved is None
    assert (transition.state.state, transition.state.since) == (ShownState.UNKNOWN, t("10:30"))


def test_resuming_starts_afresh_as_unknown_without_the_old_failure_run() -> None:
    state, _ = feed([("10:00", "down"), ("10:01", "down")], MonitorContext(failure_threshold=3))
    paused = pause(state, t("10:02")).state

    fresh = resume(paused, t("12:00")).state
    after, transitions = feed([("12:01", "down")], MonitorContext(failure_threshold=3), fresh)

    assert (fresh.state, fresh.since, fresh.failure_run) == (ShownState.UNKNOWN, t("12:00"), 0)
    assert opened(transitions) == []
    assert after.failure_run_started_at == t("12:01")


@pytest.mark.parametrize(
    ("computed", "paused", "in_maintenance", "shown"),
    [
        (ShownState.DOWN, True, True, ShownState.PAUSED),
        (ShownState.DOWN, True, False, ShownState.PAUSED),
        (ShownState.DOWN, False, True, ShownState.MAINTENANCE),
        (ShownState.UP, False, True, ShownState.MAINTENANCE),
        (ShownState.DOWN, False, False, ShownState.DOWN),
        (ShownState.DEGRADED, False, False, ShownState.DEGRADED),
        (ShownState.UNKNOWN, False, False, ShownState.UNKNOWN),
    ],
)
def test_paused_wins_over_maintenance_which_wins_over_the_computed_state(
    computed: ShownState, paused: bool, in_maintenance: bool, shown: ShownState
) -> None:
    state = replace(MonitorState("api"), state=computed)

    assert shown_state(state, paused=paused, in_maintenance=in_maintenance) is shown
