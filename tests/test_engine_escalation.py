"""Escalation: due times, grouping, reminders and their collapse, stopping, maintenance, keys."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from upwatch.engine.escalation import (
    CANCELLED_BY_ACK_OR_RESOLVE,
    acknowledged_notices,
    due_notices,
    next_due,
    resolved_notices,
    step_due_at,
)
from upwatch.engine.model import (
    EscalationProgress,
    EventType,
    Incident,
    Notice,
    PolicyStep,
    Resolution,
    StepProgress,
)

OPENED, ESCALATED, REMINDER = (
    EventType.INCIDENT_OPENED,
    EventType.INCIDENT_ESCALATED,
    EventType.INCIDENT_REMINDER,
)
SLACK = PolicyStep(timedelta(0), ("team-slack",))
ONCALL = PolicyStep(timedelta(minutes=5), ("oncall-email", "pager"), timedelta(minutes=30))
CRITICAL = (SLACK, ONCALL)

Sent = list[tuple[EventType, str, int | None, int]]


def t(hhmm: str) -> datetime:
    return datetime.fromisoformat(f"2026-11-22 {hhmm}").replace(tzinfo=UTC)


def incident(
    policy: tuple[PolicyStep, ...] = CRITICAL, started: str = "10:00", confirmed: str = "10:02"
) -> Incident:
    return Incident(
        monitor_id="api",
        started_at=t(started),
        confirmed_at=t(confirmed),
        cause="expected status 200, got 503",
        id=42,
        policy_name="critical",
        policy=policy,
    )


def sent(notices: tuple[Notice, ...]) -> Sent:
    return [(n.event, n.channel, n.step, n.repeat) for n in notices]


def run(
    subject: Incident, times: list[str], maintenance: tuple[str, str] | None = None
) -> tuple[dict[str, Sent], EscalationProgress]:
    """Evaluate at each time in turn, carrying progress as the store would."""
    progress = EscalationProgress()
    by_time = {}
    for hhmm in times:
        inside = maintenance is not None and maintenance[0] <= hhmm < maintenance[1]
        notices, progress = due_notices(subject, progress, t(hhmm), in_maintenance=inside)
        by_time[hhmm] = sent(notices)
    return by_time, progress


@pytest.mark.parametrize(
    ("started", "confirmed", "after", "due"),
    [
        ("10:00", "10:02", timedelta(0), "10:02"),
        ("10:00", "10:02", timedelta(minutes=2), "10:02"),
        ("10:00", "10:02", timedelta(minutes=5), "10:05"),
        ("10:00", "10:00", timedelta(minutes=2), "10:02"),
        ("09:00", "10:02", timedelta(minutes=30), "10:02"),
    ],
)
def test_a_step_is_due_at_the_later_of_confirmation_and_start_plus_after(
    started: str, confirmed: str, after: timedelta, due: str
) -> None:
    subject = incident((PolicyStep(after, ("team-slack",)),), started, confirmed)

    assert step_due_at(subject, 0) == t(due)


def test_steps_fire_on_schedule_and_a_repeating_step_reminds_every_interval() -> None:
    by_time, progress = run(incident(), ["10:02", "10:03", "10:05", "10:34", "10:35", "11:05"])

    assert by_time == {
        "10:02": [(OPENED, "team-slack", 0, 0)],
        "10:03": [],
        "10:05": [(ESCALATED, "oncall-email", 1, 0), (ESCALATED, "pager", 1, 0)],
        "10:34": [],
        "10:35": [(REMINDER, "oncall-email", 1, 1), (REMINDER, "pager", 1, 1)],
        "11:05": [(REMINDER, "oncall-email", 1, 2), (REMINDER, "pager", 1, 2)],
    }
    assert progress.steps == (StepProgress(t("10:02"), 0), StepProgress(t("10:05"), 2))


def test_reminders_missed_while_upwatch_was_down_collapse_into_one() -> None:
    by_time, _ = run(incident(), ["10:02", "10:05", "10:35", "12:20", "12:34", "12:35"])

    assert by_time["12:20"] == [(REMINDER, "oncall-email", 1, 4), (REMINDER, "pager", 1, 4)]
    assert by_time["12:34"] == []
    assert by_time["12:35"] == [(REMINDER, "oncall-email", 1, 5), (REMINDER, "pager", 1, 5)]


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        pytest.param(
            CRITICAL,
            [(OPENED, "team-slack", 0, 0), (OPENED, "oncall-email", 0, 0), (OPENED, "pager", 0, 0)],
            id="distinct-channels",
        ),
        pytest.param(
            (SLACK, PolicyStep(timedelta(minutes=5), ("team-slack", "oncall-email"))),
            [(OPENED, "team-slack", 0, 0), (OPENED, "oncall-email", 0, 0)],
            id="a-channel-in-both-steps-gets-one-message",
        ),
        pytest.param(
            (SLACK, ONCALL, PolicyStep(timedelta(minutes=6), ("phone",))),
            [
                (OPENED, "team-slack", 0, 0),
                (OPENED, "oncall-email", 0, 0),
                (OPENED, "pager", 0, 0),
                (OPENED, "phone", 0, 0),
            ],
            id="three-steps",
        ),
    ],
)
def test_steps_due_at_the_same_evaluation_go_out_as_one_message_per_channel(
    policy: tuple[PolicyStep, ...], expected: Sent
) -> None:
    by_time, _ = run(incident(policy), ["10:07"])

    assert by_time["10:07"] == expected


def test_a_first_firing_leads_a_message_that_also_carries_a_reminder() -> None:
    third = PolicyStep(timedelta(minutes=65), ("phone",))

    by_time, progress = run(incident((SLACK, ONCALL, third)), ["10:02", "10:05", "10:35", "11:05"])

    assert by_time["11:05"] == [
        (ESCALATED, "oncall-email", 2, 0),
        (ESCALATED, "pager", 2, 0),
        (ESCALATED, "phone", 2, 0),
    ]
    assert progress.step(1).last_repeat == 2


@pytest.mark.parametrize(
    ("stopped", "at"),
    [
        pytest.param(replace(incident(), acknowledged_at=t("10:04")), "10:05", id="acknowledged"),
        pytest.param(
            replace(incident(), acknowledged_at=t("10:04")), "12:00", id="acknowledged-long-ago"
        ),
        pytest.param(
            replace(incident(), resolved_at=t("10:04"), resolution=Resolution.RECOVERED),
            "10:05",
            id="resolved",
        ),
    ],
)
def test_acknowledgement_and_resolution_stop_every_step_and_reminder(
    stopped: Incident, at: str
) -> None:
    _, progress = run(incident(), ["10:02"])

    notices, after = due_notices(stopped, progress, t(at), in_maintenance=False)

    assert notices == ()
    assert after == progress
    assert next_due(stopped, progress) is None


def test_acknowledgement_and_resolution_cancel_steps_and_reminders_only() -> None:
    assert {OPENED, ESCALATED, REMINDER} == CANCELLED_BY_ACK_OR_RESOLVE


def test_steps_due_in_maintenance_fire_when_it_ends_and_keep_their_schedule() -> None:
    times = ["10:02", "10:05", "10:19", "10:20", "10:35"]

    by_time, progress = run(incident(), times, maintenance=("10:03", "10:20"))

    assert by_time["10:05"] == by_time["10:19"] == []
    assert by_time["10:20"] == [(ESCALATED, "oncall-email", 1, 0), (ESCALATED, "pager", 1, 0)]
    assert by_time["10:35"] == [(REMINDER, "oncall-email", 1, 1), (REMINDER, "pager", 1, 1)]
    assert progress.step(1).fired_at == t("10:05")


def test_a_step_held_back_past_its_first_reminder_does_not_also_remind_at_once() -> None:
    by_time, _ = run(
        incident(), ["10:02", "10:50", "11:04", "11:05"], maintenance=("10:03", "10:50")
    )

    assert by_time["10:50"] == [(ESCALATED, "oncall-email", 1, 0), (ESCALATED, "pager", 1, 0)]
    assert by_time["11:04"] == []
    assert by_time["11:05"] == [(REMINDER, "oncall-email", 1, 2), (REMINDER, "pager", 1, 2)]


def test_notice_keys_are_the_same_when_due_notices_runs_again_on_the_same_inputs() -> None:
    progress = EscalationProgress((StepProgress(t("10:02"), 0),))

    first = due_notices(incident(), progress, t("10:40"), in_maintenance=False)
    again = due_notices(incident(), progress, t("10:40"), in_maintenance=False)

    assert first == again
    assert [n.key for n in first[0]] == [
        "incident:42:incident.escalated:1:0:oncall-email",
        "incident:42:incident.escalated:1:0:pager",
    ]


def test_a_lost_evaluation_redone_later_repeats_the_key_of_what_it_lost() -> None:
    lost, _ = due_notices(incident(), EscalationProgress(), t("10:02"), in_maintenance=False)

    redone, _ = due_notices(incident(), EscalationProgress(), t("10:06"), in_maintenance=False)

    assert lost[0].key == "incident:42:incident.opened:0:0:team-slack"
    assert lost[0].key in {n.key for n in redone}


def test_an_incident_message_carries_what_the_message_needs() -> None:
    [notice], _ = due_notices(incident(), EscalationProgress(), t("10:02"), in_maintenance=False)

    assert notice.at == t("10:02")
    assert notice.data == {
        "monitor": {"id": "api", "severity": "critical"},
        "incident": {
            "id": 42,
            "started_at": "2026-11-22T10:00:00Z",
            "confirmed_at": "2026-11-22T10:02:00Z",
            "resolved_at": None,
            "resolution": None,
            "duration_seconds": 120,
            "acknowledged": False,
            "acknowledged_at": None,
            "step": 0,
            "repeat": 0,
            "cause": "expected status 200, got 503",
            "policy": "critical",
            "held_by": None,
            "alert_key": None,
        },
        "cause": "expected status 200, got 503",
        "cert_expires_at": None,
        "flapping": None,
    }


@pytest.mark.parametrize(
    ("times", "expected"),
    [
        ([], "10:02"),
        (["10:02"], "10:05"),
        (["10:02", "10:05"], "10:35"),
        (["10:02", "10:05", "12:20"], "12:35"),
    ],
)
def test_next_due_says_when_to_evaluate_again(times: list[str], expected: str) -> None:
    _, progress = run(incident(), times)

    assert next_due(incident(), progress) == t(expected)


def test_a_policy_without_repeats_has_nothing_due_once_every_step_fired() -> None:
    _, progress = run(incident((SLACK,)), ["10:02"])

    assert next_due(incident((SLACK,)), progress) is None


def test_acknowledgement_is_told_to_every_channel_that_was_told_anything() -> None:
    acknowledged = replace(incident(), acknowledged_at=t("10:10"))

    notices = acknowledged_notices(acknowledged, ["team-slack", "pager", "team-slack"], t("10:10"))

    assert [n.key for n in notices] == [
        "incident:42:incident.acknowledged:-:0:pager",
        "incident:42:incident.acknowledged:-:0:team-slack",
    ]
    assert notices[0].data["incident"]["acknowledged"] is True


def test_resolution_is_told_to_every_channel_that_was_told_anything_with_its_duration() -> None:
    done = replace(incident(), resolved_at=t("10:12"), resolution=Resolution.RECOVERED)

    notices = resolved_notices(done, {"team-slack", "oncall-email"}, t("10:12"))

    assert [(n.event, n.channel) for n in notices] == [
        (EventType.INCIDENT_RESOLVED, "oncall-email"),
        (EventType.INCIDENT_RESOLVED, "team-slack"),
    ]
    assert notices[0].data["incident"]["duration_seconds"] == 720
    assert notices[0].data["incident"]["resolution"] == "recovered"


def test_an_incident_resolved_before_anyone_was_told_announces_nothing() -> None:
    done = replace(incident(), resolved_at=t("10:03"), resolution=Resolution.RECOVERED)

    assert resolved_notices(done, set(), t("10:03")) == ()


def test_escalating_an_incident_that_was_not_stored_is_a_bug() -> None:
    unsaved = replace(incident(), id=None)

    with pytest.raises(ValueError, match="store the incident"):
        due_notices(unsaved, EscalationProgress(), t("10:02"), in_maintenance=False)


def test_progress_survives_a_round_trip_through_json() -> None:
    _, progress = run(incident(), ["10:02", "10:05", "10:35"])

    assert EscalationProgress.from_json(progress.to_json()) == progress
    assert EscalationProgress.from_json(None) == EscalationProgress()
