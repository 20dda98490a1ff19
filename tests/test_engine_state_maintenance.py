"""Maintenance in the state machine: runs count, nothing confirms inside, the window end does."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from upwatch.engine.context import MonitorContext
from upwatch.engine.model import MonitorState, Resolution, ShownState
from upwatch.engine.state import apply_result, on_tick
from upwatch.probes.result import ProbeResult, ProbeState

# A window from 03:00 to 03:30 UTC on 2026-11-22.
WINDOW_END = datetime(2026, 11, 22, 3, 30, tzinfo=UTC)


def t(hhmm: str) -> datetime:
    return datetime.fromisoformat(f"2026-11-22 {hhmm}").replace(tzinfo=UTC)


def inside(threshold: int = 3) -> MonitorContext:
    return MonitorContext(failure_threshold=threshold, in_maintenance=True)


def after(threshold: int = 3, window_end: datetime | None = WINDOW_END) -> MonitorContext:
    return MonitorContext(failure_threshold=threshold, last_window_end=window_end)


def down(hhmm: str) -> ProbeResult:
    return ProbeResult(ProbeState.DOWN, t(hhmm), 0.1, cause="connection refused")


def up(hhmm: str) -> ProbeResult:
    return ProbeResult(ProbeState.UP, t(hhmm), 0.1)


def failing_through_the_window(threshold: int = 3) -> MonitorState:
    state = MonitorState("database", state=ShownState.UP, since=t("00:00"))
    for hhmm in ("03:05", "03:10", "03:15", "03:20", "03:25"):
        transition = apply_result(state, inside(threshold), down(hhmm))
        assert transition.opened is None
        state = transition.state
    return state


@pytest.mark.parametrize("threshold", [1, 3])
def test_down_results_inside_a_window_count_but_confirm_nothing(threshold: int) -> None:
    state = failing_through_the_window(threshold)

    assert state.open_incident is None
    assert (state.failure_run, state.failure_run_started_at) == (5, t("03:05"))
    assert (state.state, state.since) == (ShownState.UP, t("00:00"))


@pytest.mark.parametrize("now", ["03:30", "03:31", "04:00"])
def test_a_run_that_failed_through_the_window_is_confirmed_at_its_end(now: str) -> None:
    transition = on_tick(failing_through_the_window(), after(), t(now))

    assert transition.opened is not None
    assert transition.opened.started_at == WINDOW_END
    assert transition.opened.confirmed_at == WINDOW_END
    assert (transition.state.state, transition.state.since) == (ShownState.DOWN, WINDOW_END)


def test_the_first_result_after_the_window_confirms_with_started_at_the_window_end() -> None:
    transition = apply_result(failing_through_the_window(), after(), down("03:35"))

    assert transition.opened is not None
    assert (transition.opened.started_at, transition.opened.confirmed_at) == (
        WINDOW_END,
        t("03:35"),
    )


def test_a_run_that_began_inside_and_reaches_the_threshold_after_starts_at_the_window_end() -> None:
    state = MonitorState("database")
    state = apply_result(state, inside(), down("03:25")).state
    state = apply_result(state, after(), down("03:31")).state

    transition = apply_result(state, after(), down("03:32"))

    assert transition.opened is not None
    assert (transition.opened.started_at, transition.opened.confirmed_at) == (
        WINDOW_END,
        t("03:32"),
    )


def test_a_run_entirely_after_an_old_window_starts_at_its_first_down_result() -> None:
    state = MonitorState("database")
    for hhmm in ("05:00", "05:01"):
        state = apply_result(state, after(), down(hhmm)).state

    transition = apply_result(state, after(), down("05:02"))

    assert transition.opened is not None
    assert transition.opened.started_at == t("05:00")


@pytest.mark.parametrize(
    ("state", "ctx", "now"),
    [
        pytest.param(failing_through_the_window(), inside(), t("03:29"), id="still-inside"),
        pytest.param(failing_through_the_window(), after(window_end=None), t("04:00"), id="no-end"),
        pytest.param(
            failing_through_the_window(), after(window_end=t("05:00")), t("04:00"), id="end-later"
        ),
        pytest.param(
            apply_result(failing_through_the_window(), inside(), up("03:28")).state,
            after(),
            t("04:00"),
            id="recovered-inside",
        ),
        pytest.param(
            apply_result(MonitorState("database"), inside(), down("03:29")).state,
            after(),
            t("04:00"),
            id="run-below-threshold",
        ),
    ],
)
def test_the_window_end_confirms_nothing_when_the_run_did_not_fail_through_it(
    state: MonitorState, ctx: MonitorContext, now: datetime
) -> None:
    assert on_tick(state, ctx, now).opened is None


def test_an_incident_opened_before_the_window_resolves_inside_it() -> None:
    state = apply_result(MonitorState("database"), after(1, None), down("02:50")).state
    assert state.open_incident is not None

    transition = apply_result(state, inside(1), up("03:10"))

    assert transition.resolved is not None
    assert transition.resolved.resolved_at == t("03:10")
    assert transition.resolved.resolution is Resolution.RECOVERED
    assert transition.state.state is ShownState.UP


def test_an_incident_opened_before_the_window_stays_open_while_it_keeps_failing() -> None:
    state = apply_result(MonitorState("database"), after(1, None), down("02:50")).state

    transition = apply_result(state, inside(1), down("03:10"))

    assert transition.resolved is None
    assert transition.opened is None
    assert transition.state.open_incident == state.open_incident
