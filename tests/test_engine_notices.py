"""`monitor.degraded` and `certificate.expiring`: first step's channels, once a day, never muted
into maintenance, never without a policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from upwatch.engine.context import MonitorContext
from upwatch.engine.model import EventType, MonitorState, PolicyStep, ShownState, Transition
from upwatch.engine.state import apply_result
from upwatch.probes.result import ProbeResult, ProbeState

CRITICAL = (
    PolicyStep(timedelta(0), ("team-slack", "ops-email")),
    PolicyStep(timedelta(minutes=2), ("pager",), timedelta(minutes=30)),
)
WITH_POLICY = MonitorContext(failure_threshold=1, policy_name="critical", policy=CRITICAL)
EXPIRES = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def t(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def degraded(when: str, cause: str = "responded in 6.2s, expected under 5s") -> ProbeResult:
    return ProbeResult(ProbeState.DEGRADED, t(when), 6.2, cause=cause, cert_expires_at=EXPIRES)


def up(when: str) -> ProbeResult:
    return ProbeResult(ProbeState.UP, t(when), 0.1)


def evaluate(
    results: list[ProbeResult],
    ctx: MonitorContext = WITH_POLICY,
    *,
    cert_expiring: bool = False,
    state: MonitorState | None = None,
) -> list[Transition]:
    state = state or MonitorState("api", state=ShownState.UP)
    transitions = []
    for result in results:
        transitions.append(apply_result(state, ctx, result, cert_expiring=cert_expiring))
        state = transitions[-1].state
    return transitions


def events(transitions: list[Transition]) -> list[tuple[str, EventType, str]]:
    return [(n.at.isoformat(), n.event, n.channel) for tr in transitions for n in tr.notices]


def test_becoming_degraded_tells_the_first_steps_channels() -> None:
    [transition] = evaluate([degraded("2026-11-22 10:00")])

    assert [(n.event, n.channel) for n in transition.notices] == [
        (EventType.MONITOR_DEGRADED, "team-slack"),
        (EventType.MONITOR_DEGRADED, "ops-email"),
    ]
    notice = transition.notices[0]
    assert notice.key == "monitor:api:2026-11-22:monitor.degraded:-:0:team-slack"
    assert notice.data["cause"] == "responded in 6.2s, expected under 5s"
    assert notice.data["incident"] is None
    assert transition.state.last_degraded_notice_at == t("2026-11-22 10:00")


@pytest.mark.parametrize(
    ("results", "told_at"),
    [
        pytest.param(
            [degraded("2026-11-22 10:00"), degraded("2026-11-22 10:01")],
            ["2026-11-22 10:00"],
            id="still-degraded",
        ),
        pytest.param(
            [degraded("2026-11-22 10:00"), up("2026-11-22 10:01"), degraded("2026-11-22 18:00")],
            ["2026-11-22 10:00"],
            id="flapping-within-a-day",
        ),
        pytest.param(
            [degraded("2026-11-22 10:00"), up("2026-11-22 10:01"), degraded("2026-11-23 09:59")],
            ["2026-11-22 10:00"],
            id="just-under-a-day",
        ),
        pytest.param(
            [degraded("2026-11-22 10:00"), up("2026-11-22 10:01"), degraded("2026-11-23 10:00")],
            ["2026-11-22 10:00", "2026-11-23 10:00"],
            id="a-day-later",
        ),
    ],
)
def test_degraded_notices_go_out_at_most_once_a_day(
    results: list[ProbeResult], told_at: list[str]
) -> None:
    sent = events(evaluate(results))

    assert sorted({at for at, _, _ in sent}) == [t(when).isoformat() for when in told_at]


def test_an_expiring_certificate_is_told_once_a_day_while_it_lasts() -> None:
    results = [
        degraded(f"2026-11-2{day} {hour}:00", "certificate expires in 6 days")
        for day in (2, 3)
        for hour in (10, 11)
    ]

    sent = events(evaluate(results, cert_expiring=True))

    assert sent == [
        ("2026-11-22T10:00:00+00:00", EventType.CERTIFICATE_EXPIRING, "team-slack"),
        ("2026-11-22T10:00:00+00:00", EventType.CERTIFICATE_EXPIRING, "ops-email"),
        ("2026-11-23T10:00:00+00:00", EventType.CERTIFICATE_EXPIRING, "team-slack"),
        ("2026-11-23T10:00:00+00:00", EventType.CERTIFICATE_EXPIRING, "ops-email"),
    ]


def test_a_certificate_notice_carries_the_expiry_and_stands_in_for_the_degraded_one() -> None:
    [transition] = evaluate([degraded("2026-11-22 10:00")], cert_expiring=True)

    assert {n.event for n in transition.notices} == {EventType.CERTIFICATE_EXPIRING}
    assert transition.notices[0].data["cert_expires_at"] == "2026-11-28T12:00:00Z"
    assert transition.state.last_degraded_notice_at is None


@pytest.mark.parametrize(
    "ctx",
    [
        pytest.param(MonitorContext(policy=CRITICAL, in_maintenance=True), id="in-maintenance"),
        pytest.param(MonitorContext(), id="no-policy"),
    ],
)
@pytest.mark.parametrize("cert_expiring", [False, True])
def test_monitor_notices_are_never_sent_in_maintenance_or_without_a_policy(
    ctx: MonitorContext, cert_expiring: bool
) -> None:
    [transition] = evaluate([degraded("2026-11-22 10:00")], ctx, cert_expiring=cert_expiring)

    assert transition.notices == ()
    assert transition.state.last_degraded_notice_at is None
    assert transition.state.last_cert_notice_at is None


def test_recovering_into_degraded_tells_that_the_monitor_is_degraded() -> None:
    down = ProbeResult(ProbeState.DOWN, t("2026-11-22 09:00"), 10.0, cause="timed out after 10s")

    *_, recovered = evaluate([down, degraded("2026-11-22 09:05")])

    assert recovered.resolved is not None
    assert {n.event for n in recovered.notices} == {EventType.MONITOR_DEGRADED}


def test_the_state_machine_never_emits_incident_messages() -> None:
    down = ProbeResult(ProbeState.DOWN, t("2026-11-22 09:00"), 10.0, cause="timed out after 10s")

    transitions = evaluate([down, up("2026-11-22 09:05")])

    assert transitions[0].opened is not None
    assert transitions[1].resolved is not None
    assert events(transitions) == []
