"""Crontab expressions for maintenance windows fire when crontab(5) would."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest

from upwatch.config.cron import CronError, crontab_trigger, split_crontab

BERLIN = ZoneInfo("Europe/Berlin")
# Wednesday 4 March 2026, noon UTC: the "now" of most cases below.
WEDNESDAY = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


def at(year: int, month: int, day: int, hour: int, minute: int, tz: tzinfo = UTC) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=tz)


def instant(year: int, month: int, day: int, hour: int, minute: int, fold: int = 0) -> datetime:
    """A Berlin wall-clock time as a UTC instant (`fold=1`: the second pass of a repeated hour).

    Converted because Python never finds an ambiguous local time equal to a time in another zone.
    """
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN, fold=fold).astimezone(UTC)


def next_fire(expression: str, now: datetime, tz: tzinfo = UTC) -> datetime | None:
    fire: datetime | None = crontab_trigger(expression, tz).get_next_fire_time(None, now)
    return fire


def fires(expression: str, start: datetime, count: int, tz: tzinfo = UTC) -> list[datetime]:
    """The next `count` fire times after `start`, stepping the way a scheduler does."""
    trigger = crontab_trigger(expression, tz)
    found: list[datetime] = []
    now = start
    while len(found) < count:
        fire = trigger.get_next_fire_time(None, now)
        assert fire is not None
        found.append(fire)
        now = fire + timedelta(microseconds=1)
    return found


@pytest.mark.parametrize(
    ("expression", "now", "expected"),
    [
        # day of week: 0 and 7 are both Sunday, names work in any case
        ("0 3 * * 0", WEDNESDAY, at(2026, 3, 8, 3, 0)),
        ("0 3 * * 7", WEDNESDAY, at(2026, 3, 8, 3, 0)),
        ("0 3 * * SUN", WEDNESDAY, at(2026, 3, 8, 3, 0)),
        ("0 3 * * sun", WEDNESDAY, at(2026, 3, 8, 3, 0)),
        ("0 3 * * 1", WEDNESDAY, at(2026, 3, 9, 3, 0)),  # Monday, not Tuesday
        ("0 3 * * 6", WEDNESDAY, at(2026, 3, 7, 3, 0)),  # Saturday
        ("0 3 * * 5-7", WEDNESDAY, at(2026, 3, 6, 3, 0)),  # Friday to Sunday
        ("0 3 * * 6-7", WEDNESDAY, at(2026, 3, 7, 3, 0)),
        ("0 3 * * sat,sun", WEDNESDAY, at(2026, 3, 7, 3, 0)),
        ("0 9 * * mon-fri", at(2026, 3, 6, 10, 0), at(2026, 3, 9, 9, 0)),  # Friday -> Monday
        # ranges, steps and lists
        ("*/15 * * * *", at(2026, 3, 4, 12, 1), at(2026, 3, 4, 12, 15)),
        ("0 9-17/4 * * *", WEDNESDAY, at(2026, 3, 4, 13, 0)),
        ("5,35 * * * *", at(2026, 3, 4, 12, 6), at(2026, 3, 4, 12, 35)),
        ("0 0 */10 * *", WEDNESDAY, at(2026, 3, 11, 0, 0)),  # days 1, 11, 21, 31
        ("0 3 * FEB,apr *", WEDNESDAY, at(2026, 4, 1, 3, 0)),
        ("0 0 1 1-3 *", WEDNESDAY, at(2027, 1, 1, 0, 0)),
        ("0 0 29 2 *", WEDNESDAY, at(2028, 2, 29, 0, 0)),  # next leap day
        # macros
        ("@hourly", at(2026, 3, 4, 12, 1), at(2026, 3, 4, 13, 0)),
        ("@hourly", WEDNESDAY, WEDNESDAY),  # a time that matches is itself the next fire time
        ("@daily", WEDNESDAY, at(2026, 3, 5, 0, 0)),
        ("@midnight", WEDNESDAY, at(2026, 3, 5, 0, 0)),
        ("@weekly", WEDNESDAY, at(2026, 3, 8, 0, 0)),
        ("@monthly", WEDNESDAY, at(2026, 4, 1, 0, 0)),
        ("@yearly", WEDNESDAY, at(2027, 1, 1, 0, 0)),
        # day of month and day of week both restricted: either one matches (crontab's OR rule)
        ("0 0 13 * 5", WEDNESDAY, at(2026, 3, 6, 0, 0)),  # Friday 6th, before the 13th
        ("0 0 5 * 1", WEDNESDAY, at(2026, 3, 5, 0, 0)),  # the 5th, before Monday 9th
        # only one restricted: that one alone decides
        ("0 0 13 * *", WEDNESDAY, at(2026, 3, 13, 0, 0)),
        ("0 0 * * 5", WEDNESDAY, at(2026, 3, 6, 0, 0)),
    ],
)
def test_next_fire_time(expression: str, now: datetime, expected: datetime) -> None:
    assert next_fire(expression, now) == expected


def test_the_or_rule_fires_on_every_13th_and_every_friday() -> None:
    start = at(2026, 3, 1, 0, 0)
    days = (start + timedelta(days=i) for i in range(90))
    expected = [d for d in days if d.day == 13 or d.weekday() == 4][:10]
    assert fires("0 0 13 * 5", start, 10) == expected


@pytest.mark.parametrize(
    ("expression", "now", "expected"),
    [
        # a plain local time is local: 03:00 Berlin is 02:00 UTC in winter, 01:00 UTC in summer
        ("0 3 * * *", at(2026, 3, 4, 12, 0, tz=BERLIN), at(2026, 3, 5, 3, 0, tz=BERLIN)),
        ("0 3 * * *", at(2026, 7, 1, 12, 0, tz=BERLIN), at(2026, 7, 2, 3, 0, tz=BERLIN)),
        # across the spring change (29 March 2026, 02:00 -> 03:00): the day has 23 hours
        ("0 3 * * *", at(2026, 3, 28, 12, 0, tz=BERLIN), at(2026, 3, 29, 3, 0, tz=BERLIN)),
        ("0 4 * * SUN", at(2026, 3, 28, 12, 0, tz=BERLIN), at(2026, 3, 29, 4, 0, tz=BERLIN)),
        # across the autumn change (25 October 2026, 03:00 -> 02:00)
        ("0 3 * * *", at(2026, 10, 24, 12, 0, tz=BERLIN), at(2026, 10, 25, 3, 0, tz=BERLIN)),
        ("0 12 * * SUN", at(2026, 10, 24, 12, 0, tz=BERLIN), at(2026, 10, 25, 12, 0, tz=BERLIN)),
    ],
)
def test_cron_is_evaluated_in_the_configured_timezone(
    expression: str, now: datetime, expected: datetime
) -> None:
    fire = next_fire(expression, now, BERLIN)
    assert fire == expected
    assert fire is not None
    assert fire.utcoffset() == timedelta(0)  # handed out as UTC instants


def test_a_daily_time_in_the_repeated_autumn_hour_fires_once() -> None:
    start = at(2026, 10, 24, 12, 0, tz=BERLIN)
    first, second = fires("30 2 * * *", start, 2, BERLIN)
    # 02:30 happens twice on 25 October; crontab runs a fixed-time job at the first one only
    assert first == instant(2026, 10, 25, 2, 30, fold=0)
    assert second == instant(2026, 10, 26, 2, 30)


def test_an_hourly_job_runs_in_both_passes_of_the_repeated_hour() -> None:
    start = at(2026, 10, 25, 1, 0, tz=BERLIN)
    found = fires("30 * * * *", start, 4, BERLIN)
    assert found == [
        instant(2026, 10, 25, 1, 30),
        instant(2026, 10, 25, 2, 30, fold=0),
        instant(2026, 10, 25, 2, 30, fold=1),
        instant(2026, 10, 25, 3, 30),
    ]
    assert [b - a for a, b in itertools.pairwise(found)] == [timedelta(hours=1)] * 3


def test_a_time_skipped_by_the_spring_change_still_fires_that_day() -> None:
    start = at(2026, 3, 28, 12, 0, tz=BERLIN)
    first, second = fires("30 2 * * *", start, 2, BERLIN)
    # 02:30 does not exist on 29 March; the job runs once that night, read as 02:30 winter time
    assert first == instant(2026, 3, 29, 2, 30, fold=0)
    assert second == instant(2026, 3, 30, 2, 30)


def test_fire_times_can_be_stepped_through_without_getting_stuck() -> None:
    # Stepping by a microsecond in local time from the second 02:30 would land on the first one.
    found = fires("*/30 * * * *", at(2026, 10, 25, 0, 0, tz=BERLIN), 10, BERLIN)
    assert len(set(found)) == 10
    assert found == sorted(found)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("0 3 * *", "a cron expression has 5 fields"),
        ("0 0 3 * * *", "a cron expression has 5 fields"),
        ("", "a cron expression has 5 fields"),
        ("@every 5m", "a cron expression has 5 fields"),
        ("61 * * * *", "minute: 61 is outside 0-59"),
        ("* 24 * * *", "hour: 24 is outside 0-23"),
        ("* * 0 * *", "day of month: 0 is outside 1-31"),
        ("* * 32 * *", "day of month: 32 is outside 1-31"),
        ("* * * 13 *", "month: 13 is outside 1-12"),
        ("* * * * 8", "day of week: 8 is outside 0-7"),
        ("* * * * funday", "day of week: 'funday' is not a number or a name"),
        ("* * * smarch *", "month: 'smarch' is not a number or a name"),
        ("5-1 * * * *", "minute: range 5-1 runs backwards"),
        ("*/0 * * * *", "minute: a step must be at least 1"),
        ("1,,2 * * * *", "minute: cannot read ''"),
        ("0 3 30 2 *", "day of month: never fires, the months given have at most 29 days"),
        ("0 3 31 4,6,9,11 *", "day of month: never fires, the months given have at most 30"),
    ],
)
def test_invalid_expressions_say_which_field_is_wrong(expression: str, message: str) -> None:
    with pytest.raises(CronError, match="^" + message.replace("*", r"\*")):
        split_crontab(expression)


def test_a_day_that_exists_only_on_the_named_weekday_is_fine() -> None:
    # With a day of week too, crontab fires on that weekday even if the 30th never comes.
    assert split_crontab("0 3 30 2 mon") == ["0", "3", "30", "2", "mon"]
    assert next_fire("0 3 30 2 mon", WEDNESDAY) == at(2027, 2, 1, 3, 0)


def test_macros_expand_to_their_five_fields() -> None:
    assert split_crontab("@daily") == ["0", "0", "*", "*", "*"]
    assert split_crontab(" @Weekly ") == ["0", "0", "*", "*", "0"]
