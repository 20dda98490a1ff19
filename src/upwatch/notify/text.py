"""Small text helpers shared by the templates and the channels."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_WHITESPACE = re.compile(r"\s+")
_MINUTE, _HOUR, _DAY = 60, 3600, 86400


def one_line(text: str) -> str:
    """Line breaks and runs of blanks become single spaces (subjects, headers, Slack fields)."""
    return _WHITESPACE.sub(" ", text).strip()


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, marked with an ellipsis when cut."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def utc(value: datetime | None) -> str:
    """`2026-11-22 08:00 UTC`: a time a person reads at a glance, always in UTC."""
    if value is None:
        return "unknown"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def duration(value: timedelta | float | None) -> str:
    """`45s`, `12m`, `2h 5m`, `3d 4h`: the two largest units, no more."""
    if value is None:
        return "unknown"
    seconds = int(value.total_seconds() if isinstance(value, timedelta) else value)
    seconds = max(seconds, 0)
    if seconds < _MINUTE:
        return f"{seconds}s"
    if seconds < _HOUR:
        return f"{seconds // _MINUTE}m"
    if seconds < _DAY:
        hours, minutes = divmod(seconds // _MINUTE, 60)
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    days, hours = divmod(seconds // _HOUR, 24)
    return f"{days}d {hours}h" if hours else f"{days}d"


def slack_escape(text: str) -> str:
    """Slack's mrkdwn control characters, so a monitor named `<!channel>` pings no one.

    https://api.slack.com/reference/surfaces/formatting#escaping
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
