"""Judging an HTTP answer against `expect`: hard expectations make it DOWN, soft ones DEGRADED."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from upwatch.config.models import HttpExpect
from upwatch.config.regex import Matcher, compile_re2
from upwatch.probes.jsonpaths import json_paths_failure
from upwatch.probes.outcome import Cause, quoted, slow_cause, time_left


@dataclass(slots=True)
class Answer:
    """What the final response of an HTTP probe gave us to judge."""

    status_code: int | None = None
    body: bytes = b""
    charset: str | None = None
    cert_expires_at: datetime | None = None


def needs_body(expect: HttpExpect) -> bool:
    return bool(
        expect.body_contains is not None
        or expect.body_not_contains is not None
        or expect.body_regex is not None
        or expect.json_paths
    )


def hard_failure(expect: HttpExpect, answer: Answer) -> Cause | None:
    status = answer.status_code or 0
    if not expect.status_matches(status):
        return Cause.plain(f"expected status {_allowed(expect.status)}, got {status}")
    if not needs_body(expect):
        return None
    failure = _text_failure(expect, _text(answer))
    if failure is None and expect.json_paths:
        failure = json_paths_failure(answer.body, expect.json_paths)
    return failure


def soft_failures(expect: HttpExpect, elapsed: float, answer: Answer, now: datetime) -> list[Cause]:
    failures = [slow_cause(expect.response_time_under, elapsed)]
    failures.append(_cert_failure(expect.cert_valid_for, answer.cert_expires_at, now))
    return [failure for failure in failures if failure is not None]


def _allowed(status: list[int | str]) -> str:
    """`200`, `200 or 204`, `200, 204 or 3xx`."""
    items = [str(item) for item in status]
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


def _text(answer: Answer) -> str:
    try:
        return answer.body.decode(answer.charset or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know
        return answer.body.decode("utf-8", errors="replace")


def _text_failure(expect: HttpExpect, text: str) -> Cause | None:
    if expect.body_contains is not None and expect.body_contains not in text:
        return Cause.plain(f"body does not contain {quoted(expect.body_contains)}")
    if expect.body_not_contains is not None and expect.body_not_contains in text:
        return Cause.plain(f"body contains {quoted(expect.body_not_contains)}")
    if expect.body_regex is not None and _compiled(expect.body_regex).search(text) is None:
        return Cause.plain(f"body does not match {quoted(expect.body_regex)}")
    return None


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> Matcher:
    # RE2, so no pattern backtracks (the config check already refused what RE2 cannot compile).
    # Monitors' patterns outnumber re2's own cache (128) when thousands of monitors run.
    return compile_re2(pattern)


def _cert_failure(
    valid_for: timedelta | None, expires_at: datetime | None, now: datetime
) -> Cause | None:
    if valid_for is None or expires_at is None or expires_at - now >= valid_for:
        return None
    left = (expires_at - now).total_seconds()
    if left <= 0:
        return Cause.plain("TLS certificate has expired")
    return Cause.plain(f"certificate expires in {time_left(left)}")
