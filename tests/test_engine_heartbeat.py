"""Heartbeat monitors: check-ins, deadlines from creation or the last check-in, one miss each."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from upwatch.config.merge import merge_monitors
from upwatch.config.models import Config
from upwatch.engine.context import HeartbeatTiming, MonitorContext, context_for
from upwatch.engine.heartbeat import elapsed, spelled
from upwatch.engine.maintenance import MaintenanceSchedule
from upwatch.engine.model import MonitorState, ShownState
from upwatch.engine.state import check_in, on_tick, resume
from upwatch.probes.result import ProbeState

DAILY = HeartbeatTiming(interval=timedelta(hours=24), grace=timedelta(hours=1))
CREATED = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
MISS_CAUSE = "no check-in for 1d 1h (expected every 24h, 1h grace)"


def t(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def ctx(
    threshold: int = 3,
    *,
    heartbeat: HeartbeatTiming = DAILY,
    in_maintenance: bool = False,
    last_window_end: datetime | None = None,
) -> MonitorContext:
    return MonitorContext(
        failure_threshold=threshold,
        created_at=CREATED,
        heartbeat=heartbeat,
        in_maintenance=in_maintenance,
        last_window_end=last_window_end,
    )


def backup() -> MonitorState:
    return MonitorState("nightly-backup")


@pytest.mark.parametrize(
    ("now", "missed"),
    [
        ("2026-11-20 12:00", False),
        ("2026-11-21 00:59:59", False),
        ("2026-11-21 01:00", True),
        ("2026-11-21 09:00", True),
    ],
)
def test_without_any_check_in_the_deadline_counts_from_the_monitors_creation(
    now: str, missed: bool
) -> None:
    transition = on_tick(backup(), ctx(), t(now))

    assert transition.state.deadline_at == t("2026-11-21 01:00")
    assert (transition.result is not None) is missed


@pytest.mark.parametrize(
    ("checked_in", "deadline"),
    [
        ("2026-11-20 03:00", "2026-11-21 04:00"),
        ("2026-11-20 23:59", "2026-11-22 00:59"),
    ],
)
def test_a_check_in_re_arms_the_deadline_from_its_own_time(checked_in: str, deadline: str) -> None:
    state = check_in(backup(), ctx(), t(checked_in), ok=True).state

    assert (state.last_checkin_at, state.deadline_at) == (t(checked_in), t(deadline))
    assert on_tick(state, ctx(), t(deadline) - timedelta(seconds=1)).result is None
    assert on_tick(state, ctx(), t(deadline)).result is not None


@pytest.mark.parametrize("now", ["2026-11-21 01:00", "2026-11-21 01:01", "2026-11-25 08:00"])
def test_a_missed_deadline_is_a_down_result_at_the_deadline_that_confirms_at_once(
    now: str,
) -> None:
    transition = on_tick(backup(), ctx(threshold=5), t(now))

    assert transition.result is not None
    assert transition.result.state is ProbeState.DOWN
    assert transition.result.checked_at == t("2026-11-21 01:00")
    assert transition.result.cause == MISS_CAUSE
    assert transition.opened is not None
    assert transition.opened.started_at == t("2026-11-21 01:00")
    assert transition.opened.confirmed_at == t("2026-11-21 01:00")
    assert transition.opened.cause == MISS_CAUSE
    assert transition.state.state is ShownState.DOWN


def test_after_a_miss_no_second_miss_comes_until_a_check_in_re_arms_the_deadline() -> None:
    missed = on_tick(backup(), ctx(), t("2026-11-21 01:00")).state

    later = [on_tick(missed, ctx(), t(now)) for now in ("2026-11-22 02:00", "2026-11-30 00:00")]

    assert [tr.result for tr in later] == [None, None]
    assert [tr.opened for tr in later] == [None, None]


def test_a_check_in_after_a_miss_resolves_the_incident_and_re_arms() -> None:
    missed = on_tick(backup(), ctx(), t("2026-11-21 01:00")).state

    back = check_in(missed, ctx(), t("2026-11-21 02:30"), ok=True)
    missed_again = on_tick(back.state, ctx(), t("2026-11-22 03:30"))

    assert back.resolved is not None
    assert back.resolved.resolved_at == t("2026-11-21 02:30")
    assert back.state.state is ShownState.UP
    assert missed_again.opened is not None
    assert missed_again.opened.started_at == t("2026-11-22 03:30")


@pytest.mark.parametrize(("threshold", "failures_to_confirm"), [(1, 1), (3, 3)])
def test_a_reported_failure_is_a_down_result_under_the_failure_threshold(
    threshold: int, failures_to_confirm: int
) -> None:
    state = backup()
    times = [f"2026-11-20 0{hour}:00" for hour in range(1, 1 + failures_to_confirm)]
    transitions = []
    for when in times:
        transitions.append(check_in(state, ctx(threshold), t(when), ok=False))
        state = transitions[-1].state

    assert all(tr.opened is None for tr in transitions[:-1])
    assert transitions[-1].opened is not None
    assert transitions[-1].opened.cause == "reported failure"
    assert transitions[-1].opened.started_at == t(times[0])


def test_a_reported_failure_is_still_a_check_in_that_re_arms_the_deadline() -> None:
    state = check_in(backup(), ctx(), t("2026-11-20 03:00"), ok=False).state

    assert state.deadline_at == t("2026-11-21 04:00")
    assert state.failure_run == 1


def test_deadlines_live_in_the_state_so_a_restarted_process_misses_at_the_same_instant() -> None:
    before_restart = check_in(backup(), ctx(), t("2026-11-20 03:00"), ok=True).state
    reloaded = replace(before_restart)  # what the store hands back after a restart

    transition = on_tick(reloaded, ctx(), t("2026-11-21 06:00"))

    assert transition.result is not None
    assert transition.result.checked_at == t("2026-11-21 04:00")


def test_a_redeploy_that_lengthens_the_interval_moves_the_deadline() -> None:
    state = check_in(backup(), ctx(), t("2026-11-20 03:00"), ok=True).state
    weekly = ctx(heartbeat=HeartbeatTiming(timedelta(days=7), timedelta(hours=1)))

    transition = on_tick(state, weekly, t("2026-11-22 00:00"))

    assert transition.result is None
    assert transition.state.deadline_at == t("2026-11-27 04:00")


def test_resuming_a_heartbeat_monitor_counts_the_deadline_from_the_resume() -> None:
    state = resume(backup(), t("2026-11-25 12:00")).state

    transition = on_tick(state, ctx(), t("2026-11-26 12:59"))

    assert transition.result is None
    assert transition.state.deadline_at == t("2026-11-26 13:00")


def test_a_miss_inside_maintenance_is_confirmed_when_the_window_ends() -> None:
    in_window = on_tick(backup(), ctx(in_maintenance=True), t("2026-11-21 01:30"))
    window_end = t("2026-11-21 02:00")

    confirmed = on_tick(in_window.state, ctx(last_window_end=window_end), window_end)

    assert in_window.result is not None
    assert in_window.opened is None
    assert confirmed.opened is not None
    assert (confirmed.opened.started_at, confirmed.opened.confirmed_at) == (window_end, window_end)


def test_a_check_in_for_a_monitor_that_is_not_a_heartbeat_is_a_bug() -> None:
    with pytest.raises(ValueError, match="not a heartbeat"):
        check_in(backup(), MonitorContext(), t("2026-11-20 03:00"), ok=True)


@pytest.mark.parametrize(
    ("span", "words"),
    [
        (timedelta(days=1, hours=1), "1d 1h"),
        (timedelta(minutes=6), "6m"),
        (timedelta(hours=1, minutes=30), "1h 30m"),
        (timedelta(seconds=45), "45s"),
        (timedelta(minutes=5, seconds=30), "5m 30s"),
    ],
)
def test_spans_in_causes_read_at_a_glance(span: timedelta, words: str) -> None:
    assert elapsed(span) == words


@pytest.mark.parametrize(
    ("span", "words"),
    [
        (timedelta(hours=24), "24h"),
        (timedelta(hours=1), "1h"),
        (timedelta(minutes=5), "5m"),
        (timedelta(days=7), "7d"),
        (timedelta(seconds=90), "90s"),
    ],
)
def test_configured_durations_in_causes_read_as_people_write_them(
    span: timedelta, words: str
) -> None:
    assert spelled(span) == words


def heartbeat_context(own: dict[str, Any]) -> MonitorContext:
    """The context of a daily heartbeat whose config has `defaults: {recovery_threshold: 2}`."""
    monitor = {"id": "nightly-backup", "name": "Backup", "type": "heartbeat"}
    monitor |= {"token": "s3cret-token-0123", "interval": "24h", "grace": "1h", **own}
    document = {"version": 1, "defaults": {"recovery_threshold": 2}, "monitors": [monitor]}
    merged, _ = merge_monitors(document)
    config = Config.model_validate(merged)
    schedule = MaintenanceSchedule.from_config(config)
    at = t("2026-11-21 01:00")
    return context_for(config.monitors[0], config, schedule, at=at, created_at=CREATED)


def test_a_heartbeat_does_not_inherit_recovery_threshold_and_recovers_on_one_check_in() -> None:
    context = heartbeat_context({})
    missed = on_tick(backup(), context, t("2026-11-21 01:00")).state

    back = check_in(missed, context, t("2026-11-21 02:30"), ok=True)

    assert context.recovery_threshold == 1
    assert back.resolved is not None
    assert back.state.state is ShownState.UP


def test_a_heartbeat_that_sets_recovery_threshold_itself_needs_that_many_check_ins() -> None:
    context = heartbeat_context({"recovery_threshold": 2})
    missed = on_tick(backup(), context, t("2026-11-21 01:00")).state

    first = check_in(missed, context, t("2026-11-21 02:30"), ok=True)
    second = check_in(first.state, context, t("2026-11-21 03:00"), ok=True)

    assert (first.resolved, first.state.state) == (None, ShownState.DOWN)
    assert second.resolved is not None
    assert second.resolved.resolved_at == t("2026-11-21 02:30")
