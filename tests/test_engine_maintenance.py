"""Maintenance windows: crontab in the page's time zone plus duration, one-off windows, lookups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from upwatch.config.models import Config, MaintenanceWindow
from upwatch.engine.maintenance import MaintenanceSchedule, Window

BERLIN = ZoneInfo("Europe/Berlin")
WEEKLY_DB = MaintenanceWindow(
    name="Weekly DB maintenance",
    monitors=["database"],
    cron="0 3 * * SUN",
    duration=timedelta(minutes=30),
)
MIGRATION = MaintenanceWindow(
    name="Migration",
    monitors=["*"],
    start=datetime(2026, 12, 1, 2, 0, tzinfo=UTC),
    end=datetime(2026, 12, 1, 4, 0, tzinfo=UTC),
)
SCHEDULE = MaintenanceSchedule([WEEKLY_DB, MIGRATION], BERLIN)


def t(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def weekly(starts: str) -> Window:
    start = t(starts)
    return Window("Weekly DB maintenance", start, start + timedelta(minutes=30), ("database",))


MIGRATION_WINDOW = Window("Migration", t("2026-12-01 02:00"), t("2026-12-01 04:00"), ("*",))


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        pytest.param(
            "2026-11-16 00:00",
            "2026-11-30 00:00",
            [weekly("2026-11-22 02:00"), weekly("2026-11-29 02:00")],
            id="winter-03:00-CET-is-02:00-UTC",
        ),
        pytest.param(
            "2026-07-01 00:00", "2026-07-08 00:00", [weekly("2026-07-05 01:00")], id="summer-CEST"
        ),
        pytest.param(
            "2026-03-28 00:00",
            "2026-03-30 00:00",
            [weekly("2026-03-29 01:00")],
            id="spring-forward",
        ),
        pytest.param(
            "2026-10-24 00:00", "2026-10-26 00:00", [weekly("2026-10-25 02:00")], id="fall-back"
        ),
        pytest.param(
            "2026-11-22 02:20",
            "2026-11-22 02:21",
            [weekly("2026-11-22 02:00")],
            id="range-inside-a-window",
        ),
        pytest.param("2026-11-22 02:30", "2026-11-29 02:00", [], id="ends-and-starts-are-open"),
    ],
)
def test_cron_windows_are_fire_times_in_the_page_time_zone_plus_duration(
    start: str, end: str, expected: list[Window]
) -> None:
    assert SCHEDULE.windows_between("database", t(start), t(end)) == expected


def test_day_of_week_zero_and_seven_are_both_sunday() -> None:
    def sundays(cron: str) -> list[Window]:
        window = WEEKLY_DB.model_copy(update={"cron": cron})
        return MaintenanceSchedule([window], BERLIN).windows_between(
            "database", t("2026-11-16 00:00"), t("2026-11-30 00:00")
        )

    assert sundays("0 3 * * 0") == sundays("0 3 * * 7") == sundays("0 3 * * SUN")


@pytest.mark.parametrize(
    ("monitor_id", "at", "expected"),
    [
        ("database", "2026-11-22 01:59:59", None),
        ("database", "2026-11-22 02:00", weekly("2026-11-22 02:00")),
        ("database", "2026-11-22 02:29:59", weekly("2026-11-22 02:00")),
        ("database", "2026-11-22 02:30", None),
        ("api", "2026-11-22 02:15", None),
        ("api", "2026-12-01 03:00", MIGRATION_WINDOW),
        ("database", "2026-12-01 03:00", MIGRATION_WINDOW),
        ("api", "2026-12-01 04:00", None),
    ],
)
def test_a_monitor_is_in_maintenance_from_a_windows_start_until_just_before_its_end(
    monitor_id: str, at: str, expected: Window | None
) -> None:
    assert SCHEDULE.active(monitor_id, t(at)) == expected


def test_of_overlapping_windows_the_active_one_is_the_one_ending_last() -> None:
    long_one = WEEKLY_DB.model_copy(update={"name": "Long", "duration": timedelta(hours=2)})
    schedule = MaintenanceSchedule([WEEKLY_DB, long_one], BERLIN)

    active = schedule.active("database", t("2026-11-22 02:10"))

    assert active is not None
    assert (active.name, active.ends_at) == ("Long", t("2026-11-22 04:00"))


def test_upcoming_lists_current_and_next_windows_of_every_monitor_in_order() -> None:
    upcoming = SCHEDULE.upcoming(t("2026-11-22 02:15"), timedelta(days=14))

    assert upcoming == [
        weekly("2026-11-22 02:00"),
        weekly("2026-11-29 02:00"),
        MIGRATION_WINDOW,
        weekly("2026-12-06 02:00"),
    ]


@pytest.mark.parametrize(
    ("monitor_id", "at", "expected"),
    [
        ("database", "2026-11-25 12:00", "2026-11-22 02:30"),
        ("database", "2026-11-22 02:30", "2026-11-22 02:30"),
        ("database", "2026-11-22 02:29", "2026-11-15 02:30"),
        ("database", "2026-12-01 05:00", "2026-12-01 04:00"),
        ("api", "2026-11-30 00:00", None),
        ("api", "2026-12-24 00:00", "2026-12-01 04:00"),
    ],
)
def test_the_last_window_end_is_the_most_recent_end_at_or_before_an_instant(
    monitor_id: str, at: str, expected: str | None
) -> None:
    assert SCHEDULE.last_end_before(monitor_id, t(at)) == (
        None if expected is None else t(expected)
    )


def test_the_last_end_of_a_monthly_window_is_found_weeks_back() -> None:
    monthly = MaintenanceWindow(
        name="Monthly", monitors=["*"], cron="0 0 1 * *", duration=timedelta(hours=1)
    )
    schedule = MaintenanceSchedule([monthly], BERLIN)

    # 1 November 00:00 CET is 31 October 23:00 UTC
    assert schedule.last_end_before("api", t("2026-11-25 00:00")) == t("2026-11-01 00:00")


def test_a_schedule_from_the_config_uses_the_status_page_time_zone() -> None:
    config = Config.model_validate(
        {
            "version": 1,
            "status_page": {"timezone": "America/New_York"},
            "maintenance": [
                {"name": "Nightly", "monitors": ["api"], "cron": "0 3 * * *", "duration": "30m"}
            ],
            "monitors": [{"id": "api", "name": "API", "url": "https://api.example.com"}],
        }
    )

    schedule = MaintenanceSchedule.from_config(config)

    # 03:00 EST is 08:00 UTC
    assert schedule.windows_between("api", t("2026-11-22 00:00"), t("2026-11-23 00:00")) == [
        Window("Nightly", t("2026-11-22 08:00"), t("2026-11-22 08:30"), ("api",))
    ]
