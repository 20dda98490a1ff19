"""Numbers, times, ids and tokens from a request's path and query, read strictly.

Python's own parsers take more than a client should send: `str.isdigit()` is true for `²` (which
`int()` then rejects), `int()` reads Arabic-Indic digits, and `datetime.fromisoformat()` accepts
`0001-01-01T00:00:00+14:00`, a time that does not exist in UTC. Handlers read their parameters
through here: a value that is not valid raises BadParameter, which the app answers with a 400
naming the parameter and the rule. A client's mistake is never a 500, a traceback in the log,
or a database error.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from starlette.requests import Request

from upwatch.config.fields import SLUG_RE
from upwatch.config.tokens import MAX_LENGTH as MAX_TOKEN_LENGTH

_DIGITS = re.compile(r"[0-9]{1,9}")  # ASCII only; nine digits are far above any limit here
MAX_TIME_LENGTH = 40  # 2026-11-22T10:00:00.123456+14:00 is 32 characters
TIME_EXAMPLE = "2026-11-22T10:00:00Z"


class BadParameter(ValueError):
    """A path or query parameter a client got wrong: answered with 400 and this message."""

    def __init__(self, name: str, rule: str) -> None:
        super().__init__(f"{name} {rule}")
        self.name = name


def whole_number(request: Request, name: str, *, default: int, low: int, high: int) -> int:
    """`?name=` as a whole number from `low` to `high` (ASCII digits only), else `default`."""
    text = request.query_params.get(name)
    if text is None:
        return default
    if _DIGITS.fullmatch(text) is None or not low <= int(text) <= high:
        raise BadParameter(name, f"must be a whole number from {low} to {high}")
    return int(text)


def instant(request: Request, name: str) -> datetime | None:
    """`?name=` as an ISO 8601 time in UTC; absent or empty is None. Without an offset it is
    UTC. An offset's `+` typed into a URL unencoded arrives as a space, so that is read too."""
    text = request.query_params.get(name)
    if not text:
        return None
    rule = f"must be an ISO 8601 time such as {TIME_EXAMPLE}"
    if len(text) > MAX_TIME_LENGTH or not text.isascii():
        raise BadParameter(name, rule)
    head, space, offset = text.rpartition(" ")
    for candidate in (text, f"{head}+{offset}") if space else (text,):
        try:
            value = datetime.fromisoformat(candidate)
        except ValueError:
            continue
        return _in_utc(name, value)
    raise BadParameter(name, rule)


def _in_utc(name: str, value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+14:00 is before year 1 in UTC
        raise BadParameter(name, "must be a time between years 1 and 9999 in UTC") from None


def monitor_id(request: Request, name: str = "id") -> str | None:
    """The `{id}` path parameter, or None when it cannot be a monitor id (so: no such monitor).

    Ids are slugs of at most 64 characters; anything else is answered as an unknown id without
    looking it up.
    """
    value: str = request.path_params[name]
    return value if re.fullmatch(SLUG_RE, value) else None


def token(request: Request, name: str = "token") -> str:
    """A `{token}` path parameter; one longer than any valid token is refused before it is
    compared, hashed or looked up."""
    value: str = request.path_params[name]
    if len(value) > MAX_TOKEN_LENGTH:
        raise BadParameter(name, f"is longer than {MAX_TOKEN_LENGTH} characters")
    return value
