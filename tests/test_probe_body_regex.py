"""`body_regex` is RE2: the usual patterns behave as before, and none backtracks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.probe_servers import HttpServer, respond
from upwatch.config.models import HttpExpect, HttpMonitor
from upwatch.probes.expect import Answer, hard_failure
from upwatch.probes.outcome import quoted
from upwatch.probes.prober import Prober
from upwatch.probes.result import ProbeState

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
BODY_SIZE = 210 * 1024


def judged(pattern: str, body: str, charset: str | None = "utf-8") -> str | None:
    answer = Answer(status_code=200, body=body.encode(charset or "utf-8"), charset=charset)
    cause = hard_failure(HttpExpect(body_regex=pattern), answer)
    return None if cause is None else cause.text


@pytest.mark.parametrize(
    ("pattern", "body"),
    [
        (r"(?i)HEALTHY", '{"status": "healthy"}'),
        (r'"status":\s*"(ok|healthy)"', '{"status":  "ok"}'),
        (r"(?i)café", "CAFÉ OUVERT"),  # case folding beyond ASCII
        (r"☃ \d+", "snow ☃ 42"),
        (r"caf.$", "café"),  # `.` is one character, not one byte
        (r"(?m)^ready$", "booting\nready\nserving"),
        (r"(?s)begin.*end", "begin\n...\nend"),
        (r"\bgood\b", "all good here"),
        (r"(?P<state>up|down)", "state: up"),
        (r"version [0-9]+\.[0-9]+", "version 3.12"),
    ],
)
def test_the_patterns_people_write_match_as_they_did(pattern: str, body: str) -> None:
    assert judged(pattern, body) is None


@pytest.mark.parametrize(
    ("pattern", "body"),
    [
        (r"(?i)unhealthy", '{"status": "healthy"}'),
        (r"^ready$", "booting\nready\nserving"),  # without (?m), ^ and $ are the whole body
        (r"good\b", "goodness"),
        (r"café", "CAFÉ"),  # case matters unless (?i) says otherwise
    ],
)
def test_a_pattern_that_does_not_match_is_down(pattern: str, body: str) -> None:
    assert judged(pattern, body) == f"body does not match {quoted(pattern)}"


def test_a_body_in_another_charset_is_matched_as_text() -> None:
    assert judged("Grüße", "Viele Grüße", charset="iso-8859-1") is None


@pytest.mark.parametrize(
    ("pattern", "body", "matches"),
    [
        # RE2's `$` is the very end of the body; Python's `re` also matched before a final newline.
        (r"ok$", "ok\n", False),
        (r"ok\s*$", "ok\n", True),
        # RE2's \d and \w are ASCII; Python's `re` took any Unicode digit or letter.
        (r"^\d+$", "٤٢", False),
        (r"^\w+$", "héllo", False),
        (r"^\pL+$", "héllo", True),
    ],
)
def test_where_re2_differs_from_pythons_re(pattern: str, body: str, *, matches: bool) -> None:
    assert (judged(pattern, body) is None) is matches


def http(url: str, **fields: Any) -> HttpMonitor:
    return HttpMonitor.model_validate(
        {"id": "api", "name": "API", "url": url, "timeout": "5s", **fields}
    )


@pytest.mark.parametrize(
    ("filler", "pattern"),
    [
        (b"a", "^(a+)+$"),  # nested quantifiers, then one character that cannot match
        (b"x", "(x+x+)+y"),
        (b"a", "^(a|a)*$"),
        (b"a", "^(a|aa)+$"),
    ],
)
async def test_a_backtracking_pattern_against_a_large_body_is_judged_not_stuck(
    prober: Prober, http_server: HttpServer, filler: bytes, pattern: str
) -> None:
    # With Python's `re`, each of these runs for longer than anyone would wait; RE2 never
    # backtracks, so the probe ends with an ordinary verdict.
    path = f"/hostile/{filler.decode()}"
    http_server.routes[path] = respond(200, filler * BODY_SIZE + b"!")
    monitor = http(http_server.url(path), expect={"body_regex": pattern})

    result = await prober.probe(monitor, now=NOW)

    assert (result.state, result.cause) == (ProbeState.DOWN, f'body does not match "{pattern}"')
