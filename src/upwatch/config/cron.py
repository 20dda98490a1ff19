"""Standard 5-field crontab expressions, translated for APScheduler 3.

Two dialect differences matter: crontab counts days of week from Sunday (0 and 7 both Sunday) while
APScheduler's CronTrigger counts from Monday, and crontab fires when *either* day-of-month or
day-of-week matches if both are restricted, where CronTrigger requires both. Days of week are
therefore expanded to names, and a doubly restricted expression becomes an OrTrigger of two.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger

DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
MACROS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
# (name, lowest, highest, names for values starting at `lowest`)
FIELDS = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, MONTH_NAMES),
    ("day of week", 0, 7, (*DAY_NAMES, "sun")),
)
_PART = re.compile(r"^(\*|[a-z0-9]+(?:-[a-z0-9]+)?)(?:/(\d+))?$")


class CronError(ValueError):
    """A crontab expression that cannot be used; the message says which field and why."""


def _number(token: str, spec: tuple[str, int, int, tuple[str, ...]]) -> int:
    name, low, high, names = spec
    if token.isdigit():
        value = int(token)
    elif token[:3] in names and len(token) == 3:
        value = names.index(token) + low
    else:
        raise CronError(f"{name}: '{token}' is not a number or a name")
    if not low <= value <= high:
        raise CronError(f"{name}: {value} is outside {low}-{high}")
    return value


def expand(text: str, spec: tuple[str, int, int, tuple[str, ...]]) -> set[int]:
    """All values one crontab field selects, e.g. `1-5` -> {1, 2, 3, 4, 5}."""
    name, low, high, _ = spec
    values: set[int] = set()
    for part in text.lower().split(","):
        match = _PART.match(part)
        if match is None:
            raise CronError(f"{name}: cannot read '{part}'; use *, N, N-M, */S or lists of them")
        span, step = match.group(1), int(match.group(2) or 1)
        if step < 1:
            raise CronError(f"{name}: a step must be at least 1")
        first, last = (low, high) if span == "*" else _span(span, spec)
        if first > last:
            raise CronError(f"{name}: range {span} runs backwards")
        values.update(range(first, last + 1, step))
    return values


def _span(span: str, spec: tuple[str, int, int, tuple[str, ...]]) -> tuple[int, int]:
    ends = span.split("-")
    return _number(ends[0], spec), _number(ends[-1], spec)


def split_crontab(expression: str) -> list[str]:
    """The five fields of `expression` (macros such as @daily expanded), each checked."""
    text = MACROS.get(expression.strip().lower(), expression)
    fields = text.split()
    if len(fields) != 5:
        raise CronError(
            "a cron expression has 5 fields: minute hour day-of-month month day-of-week"
        )
    for text_field, spec in zip(fields, FIELDS, strict=True):
        expand(text_field, spec)
    _check_some_day_exists(fields)
    return fields


def _check_some_day_exists(fields: list[str]) -> None:
    """Reject `0 0 30 2 *`: a crontab that would never fire is a typo, not a schedule."""
    _, _, day, month, weekday = fields
    if day == "*" or weekday != "*":
        return  # with a day of week too, crontab fires on either
    longest = max(DAYS_IN_MONTH[m - 1] for m in expand(month, FIELDS[3]))
    if min(expand(day, FIELDS[2])) > longest:
        raise CronError(f"day of month: never fires, the months given have at most {longest} days")


def crontab_trigger(expression: str, timezone: tzinfo) -> BaseTrigger:
    """An APScheduler trigger that fires exactly when crontab would; fire times are in UTC."""
    minute, hour, day, month, weekday = split_crontab(expression)
    days = sorted({d % 7 for d in expand(weekday, FIELDS[4])})
    names = "*" if weekday == "*" else ",".join(DAY_NAMES[d] for d in days)
    common = {"minute": minute, "hour": hour, "month": month, "timezone": timezone}
    inner: BaseTrigger
    if day != "*" and weekday != "*":
        inner = OrTrigger(
            [CronTrigger(day=day, **common), CronTrigger(day_of_week=names, **common)]
        )
    else:
        inner = CronTrigger(day=day, day_of_week=names, **common)
    fixed_time = not (minute.startswith("*") or hour.startswith("*"))
    return CrontabTrigger(inner, once_per_wall_time=fixed_time)


class CrontabTrigger(BaseTrigger):  # type: ignore[misc]  # APScheduler 3 ships no type hints
    """Wraps CronTrigger with two crontab habits around daylight-saving changes.

    - Fire times are returned in UTC. CronTrigger returns local times, and local arithmetic on the
      second 02:30 of an autumn night (`fire + 1µs`) lands back on the first one, so a caller
      stepping through fire times would never get past it.
    - A job at a fixed time (no `*` in minute or hour) runs once when the clock goes back, as
      cron does; `*/15 * * * *` keeps running through both passes of the repeated hour.
    """

    def __init__(self, inner: BaseTrigger, *, once_per_wall_time: bool) -> None:
        self.inner = inner
        self.once_per_wall_time = once_per_wall_time

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        fire = self.inner.get_next_fire_time(previous_fire_time, now)
        while fire is not None and self.once_per_wall_time and _second_pass(fire):
            fire = self.inner.get_next_fire_time(None, fire.astimezone(UTC) + _TICK)
        return None if fire is None else fire.astimezone(UTC)

    def __str__(self) -> str:
        return str(self.inner)


_TICK = timedelta(microseconds=1)


def _second_pass(local: datetime) -> bool:
    """Whether `local` is the second pass through a wall-clock time repeated as clocks go back."""
    return local.fold == 1 and local.utcoffset() != local.replace(fold=0).utcoffset()
