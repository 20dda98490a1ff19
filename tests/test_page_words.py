"""The status page's plain words for causes, and which maintenance and incidents it lists: pure
functions, tested with tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from upwatch.engine.heartbeat import REPORTED_FAILURE, miss_result
from upwatch.engine.maintenance import Window
from upwatch.probes.public_words import plain_cause
from upwatch.web.board_notes import history, next_occurrences

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("public", "words"),
    [
        ('$.status was "partial_outage", expected "operational"', "Unexpected response"),
        ("expected status 200, got 503", "Unexpected response"),
        ("body does not contain 'ok'", "Unexpected response"),
        ("too many redirects (more than 10)", "Unexpected response"),
        ("timed out after 10s waiting for response headers", "Timed out"),
        ("timed out after 5s resolving the host name", "Timed out"),
        ("connection timed out", "Timed out"),
        ("connection refused", "Connection refused"),
        ("TLS certificate not valid for this host", "Certificate problem"),
        ("TLS handshake failed", "Certificate problem"),
        ("certificate expires in 3d 4h", "Certificate problem"),
        ("could not resolve the host name", "DNS problem"),
        ("domain does not exist (NXDOMAIN)", "DNS problem"),
        ("no AAAA records", "DNS problem"),
        ("no DNS server answered (SERVFAIL or refused)", "DNS problem"),
        ("no check-in for 1h 5m (expected every 1h, 5m grace)", "Missed check-in"),
        (REPORTED_FAILURE, "Reported failure"),
        ("response took 1.2s, expected under 500ms", "Slow response"),
        ("connection reset by peer", "Connection failed"),
        ("host unreachable", "Connection failed"),
        ("timed out after 10s; response took 2s, expected under 1s", "Timed out"),
        (None, None),
        ("", None),
    ],
)
def test_public_causes_read_as_plain_words(public: str | None, words: str | None) -> None:
    assert plain_cause(public) == words


def test_a_missed_deadline_reads_as_a_missed_check_in() -> None:
    timing = SimpleNamespace(
        allowance=timedelta(hours=1, minutes=5),
        interval=timedelta(hours=1),
        grace=timedelta(minutes=5),
    )
    result = miss_result(NOW, timing)  # type: ignore[arg-type]

    assert plain_cause(result.public_cause) == "Missed check-in"


def window(day: int, hour: int = 3) -> Window:
    start = datetime(2026, 11, day, hour, tzinfo=UTC)
    return Window("Nightly backup window", start, start + timedelta(minutes=30), ("*",))


def test_a_daily_window_is_one_entry_with_its_next_occurrence() -> None:
    windows = [window(d) for d in range(20, 30)]
    other = Window("Database upgrade", NOW, NOW + timedelta(hours=1), ("db",))

    found = next_occurrences([*windows, other], NOW)

    assert found == [other, window(23)]


def incident(day: int, *, resolved: bool) -> SimpleNamespace:
    start = datetime(2026, 11, day, 5, tzinfo=UTC)
    return SimpleNamespace(
        id=day,
        monitor_id="api",
        monitor_name="Public API",
        started_at=start,
        confirmed_at=start,
        resolved_at=start + timedelta(minutes=7) if resolved else None,
        acknowledged_at=None,
        public_cause="connection refused",
        cause="connection refused to api.acme.test:443",
        held_by=None,
        declared=False,
        shown_monitor=("api", "Public API"),
        title="Public API",
        updates=[],
    )


def test_history_lists_resolved_incidents_on_the_days_that_had_them() -> None:
    rows = [incident(22, resolved=False), incident(20, resolved=True), incident(10, resolved=True)]

    days = history(rows, False, UTC, NOW)  # type: ignore[arg-type]

    assert [d.day.isoformat() for d in days] == ["2026-11-20"]  # not the ongoing one, not Nov 10
    assert [i.cause for i in days[0].incidents] == ["Connection refused"]
