"""K of N regions: how a probe round is voted, and when a round opens and closes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from upwatch.engine.regions import RegionRule, Rounds, effective_confirm, vote
from upwatch.probes.result import ProbeResult, ProbeState

T0 = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
RULE = RegionRule(
    regions=("us", "eu", "ap"),
    confirm=2,
    interval=timedelta(seconds=30),
    timeout=timedelta(seconds=10),
    spacing=timedelta(seconds=10),
)
ALL = frozenset(RULE.regions)


def up(seconds: float = 0, ms: float = 80) -> ProbeResult:
    return ProbeResult(ProbeState.UP, T0 + timedelta(seconds=seconds), ms / 1000)


def down(seconds: float = 0, cause: str = "timed out after 10s") -> ProbeResult:
    at = T0 + timedelta(seconds=seconds)
    return ProbeResult(ProbeState.DOWN, at, 10.0, cause=cause, public_cause="Timed out")


def test_one_region_down_alone_is_an_up_round() -> None:
    voted = vote(RULE, T0, {"us": up(), "eu": down(), "ap": up()}, ALL)
    assert voted is not None
    assert voted.state is ProbeState.UP


def test_two_of_three_down_is_a_down_round_naming_the_regions_that_saw_it() -> None:
    voted = vote(RULE, T0, {"us": up(), "eu": down(), "ap": down()}, ALL)
    assert voted is not None
    assert voted.state is ProbeState.DOWN
    assert voted.cause == "down from eu and ap: timed out after 10s"
    assert voted.public_cause == "Timed out"  # the public words stay plain
    assert voted.checked_at == T0


def test_a_result_older_than_two_intervals_does_not_vote() -> None:
    stale = down(seconds=-61)
    voted = vote(RULE, T0, {"us": up(), "eu": down(), "ap": stale}, ALL)
    assert voted is not None
    assert voted.state is ProbeState.UP


def test_a_region_with_no_live_instance_votes_unknown_and_never_causes_a_page() -> None:
    # ap is gone: its last (down) result must not count, and its absence is no failure.
    latest = {"us": up(), "eu": down(), "ap": down()}
    voted = vote(RULE, T0, latest, frozenset({"us", "eu"}))
    assert voted is not None
    assert voted.state is ProbeState.UP


def test_confirm_drops_to_the_number_of_live_regions() -> None:
    assert effective_confirm(RULE, frozenset({"eu"})) == 1
    assert effective_confirm(RULE, ALL) == 2
    voted = vote(RULE, T0, {"us": up(), "eu": down(), "ap": up()}, frozenset({"eu"}))
    assert voted is not None
    assert voted.state is ProbeState.DOWN


def test_a_round_with_only_too_few_downs_tells_nothing() -> None:
    # us and ap have not reported at all: one down of three is no outage, and no recovery either.
    assert vote(RULE, T0, {"eu": down()}, ALL) is None


def test_a_round_closes_when_every_live_region_reported() -> None:
    rounds = Rounds()
    rounds.seen("api", "eu", down(0.2), RULE)
    assert rounds.close({"api": RULE}, ALL, T0 + timedelta(seconds=1)) == []  # waiting
    rounds.seen("api", "us", up(0.4), RULE)
    rounds.seen("api", "ap", down(0.9), RULE)
    [(monitor_id, voted)] = rounds.close({"api": RULE}, ALL, T0 + timedelta(seconds=1))
    assert monitor_id == "api"
    assert voted.state is ProbeState.DOWN
    assert voted.checked_at == T0 + timedelta(seconds=0.2)  # the round's time: its first result


def test_a_round_closes_without_a_silent_region_after_the_wait() -> None:
    rounds = Rounds()
    rounds.seen("api", "eu", up(0), RULE)
    rounds.seen("api", "us", up(0.1), RULE)
    assert rounds.close({"api": RULE}, ALL, T0 + timedelta(seconds=5)) == []
    late = T0 + RULE.round_wait
    [(_, voted)] = rounds.close({"api": RULE}, ALL, late)
    assert voted.state is ProbeState.UP


def test_results_of_one_round_count_once_and_a_new_round_waits_for_the_spacing() -> None:
    rounds = Rounds()
    for region, seconds in (("us", 0), ("eu", 0.3), ("ap", 0.5)):
        rounds.seen("api", region, up(seconds), RULE)
    assert len(rounds.close({"api": RULE}, ALL, T0 + timedelta(seconds=1))) == 1
    rounds.commit()
    rounds.seen("api", "us", up(0), RULE)  # the same result again (pulled twice)
    rounds.seen("api", "eu", up(5), RULE)  # sooner than the spacing: no new round
    assert rounds.pending == {}
    rounds.seen("api", "ap", up(30), RULE)
    assert "api" in rounds.pending


def test_a_round_closed_in_a_failed_transaction_is_voted_again() -> None:
    rounds = Rounds()
    for region in RULE.regions:
        rounds.seen("api", region, down(0.1), RULE)
    assert len(rounds.close({"api": RULE}, ALL, T0 + timedelta(seconds=1))) == 1
    rounds.rollback()
    assert len(rounds.close({"api": RULE}, ALL, T0 + timedelta(seconds=2))) == 1


def slow(seconds: float = 0) -> ProbeResult:
    at = T0 + timedelta(seconds=seconds)
    cause = "responded in 900ms, expected under 500ms"
    return ProbeResult(ProbeState.DEGRADED, at, 0.9, cause=cause, public_cause="Slow response")


def test_one_slow_region_does_not_make_the_round_degraded_but_k_of_them_do() -> None:
    one = vote(RULE, T0, {"us": slow(), "eu": up(ms=120), "ap": up()}, ALL)
    assert one is not None
    assert (one.state, one.duration) == (ProbeState.UP, 0.12)  # the first up region's answer
    two = vote(RULE, T0, {"us": slow(), "eu": down(), "ap": up()}, ALL)
    assert two is not None
    assert two.state is ProbeState.DEGRADED  # slow in us, down in eu: 2 of 3 see trouble
