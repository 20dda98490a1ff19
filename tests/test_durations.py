from datetime import timedelta

import pytest

from upwatch.config.durations import DurationError, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("500ms", timedelta(milliseconds=500)),
        ("30s", timedelta(seconds=30)),
        ("5m", timedelta(minutes=5)),
        ("2h", timedelta(hours=2)),
        ("14d", timedelta(days=14)),
        ("1.5s", timedelta(milliseconds=1500)),
    ],
)
def test_durations_parse_as_written(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected
    assert parse_duration(format_duration(expected)) == expected


@pytest.mark.parametrize("text", ["30", "5 minutes", "", "-5s", "1w", 30])
def test_non_durations_are_rejected(text: object) -> None:
    with pytest.raises(DurationError, match=r"duration"):
        parse_duration(text)
