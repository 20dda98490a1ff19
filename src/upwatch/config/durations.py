"""Durations as written in monitors.yaml: `500ms`, `30s`, `5m`, `2h`, `14d`."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")
DURATION_REGEX = r"^\s*\d+(\.\d+)?\s*(ms|s|m|h|d)\s*$"


class DurationError(ValueError):
    """A value that is not a duration; the message never repeats the value itself."""


def parse_duration(value: object) -> timedelta:
    """Turn `30s` into a timedelta; a timedelta passes through unchanged."""
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        raise DurationError("expected a duration such as 500ms, 30s, 5m, 2h or 14d")
    match = _PATTERN.match(value)
    if match is None:
        raise DurationError(
            "not a duration: write a number followed by ms, s, m, h or d (e.g. 30s, 5m)"
        )
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


def format_duration(value: timedelta) -> str:
    """The shortest exact spelling, for messages and the schema's examples: 90s -> `90s`."""
    ms = round(value.total_seconds() * 1000)
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms and ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


def _validate(value: Any) -> timedelta:
    return parse_duration(value)


Duration = Annotated[
    timedelta,
    BeforeValidator(_validate),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema({"type": "string", "pattern": DURATION_REGEX, "examples": ["30s", "5m"]}),
]
