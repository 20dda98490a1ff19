"""Invalid monitors.yaml files: every rule is reported where it was broken, readably.

Each case names the text the problem must point at (`at`): the expected line and column are where
that text first occurs in the config, so the tables stay true when a case is edited.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import tempfile
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.config_helpers import ConfigFiles, Reported, position_of
from upwatch.cli import main
from upwatch.config.loader import ConfigInvalid, load_config

MONITORS = """
monitors:
  - {id: web, name: Web, url: "https://example.test/"}
"""
# One http monitor, its mapping left open for the key under test.
WEB = 'version: 1\nmonitors:\n  - {id: web, name: Web, url: "https://e.test/", '
SLACK = """
channels:
  team: {type: slack, webhook_url: "https://hooks.example.test/T1"}
"""


@pytest.fixture
def configs(tmp_path: Path) -> ConfigFiles:
    return ConfigFiles(tmp_path)


def case(text: str | list[str], at: str | None, path: str, fragment: str, case_id: str) -> Any:
    """One invalid config; a list of parts is dedented part by part and joined."""
    parts = [text] if isinstance(text, str) else text
    joined = "".join(textwrap.dedent(part).lstrip("\n") for part in parts)
    return pytest.param(joined, at, path, fragment, id=case_id)


INVALID = [
    # --- the document ------------------------------------------------------------------------
    case(MONITORS, "monitors:", "version", "required key is missing", "missing-version"),
    case("version: 2\n" + MONITORS, "2", "version", "must be 1", "wrong-version"),
    case("version: 1\n" + SLACK, "version", "monitors", "required key is missing", "no-monitors"),
    case(
        "version: 1\nmonitors: {web: {name: Web}}\n",
        "{web",
        "monitors",
        "must be a list",
        "monitors-not-a-list",
    ),
    case(
        "version: 1\nmonitor: []\n" + MONITORS,
        "monitor:",
        "monitor",
        "did you mean 'monitors'?",
        "unknown-top-level-key",
    ),
    # --- unknown keys, with a suggestion where one is close ----------------------------------
    case(
        [
            """
        version: 1
        monitors:
          - {id: web, name: Web, url: "https://example.test/", intervall: 5m}
        """
        ],
        "intervall",
        "monitors.0.intervall",
        "unknown key 'intervall'; did you mean 'interval'?",
        "unknown-monitor-key",
    ),
    case(
        [
            """
        version: 1
        channels:
          hook: {type: webhook, url: "https://hooks.example.test/", secrte: whsec_QUJD}
        """,
            MONITORS,
        ],
        "secrte",
        "channels.hook.secrte",
        "did you mean 'secret'?",
        "unknown-channel-key",
    ),
    case(
        [
            """
        version: 1
        monitors:
          - id: web
            name: Web
            url: https://example.test/
            expect: {stauts: [200]}
        """
        ],
        "stauts",
        "monitors.0.expect.stauts",
        "did you mean 'status'?",
        "unknown-expect-key",
    ),
    case(
        "version: 1\nstatus_page: {titel: Acme}\n" + MONITORS,
        "titel",
        "status_page.titel",
        "did you mean 'title'?",
        "unknown-status-page-key",
    ),
    case(
        [
            """
        version: 1
        channels:
          mail:
            type: email
            from: upwatch@example.test
            to: [ops@example.test]
            api: {provider: resend, api_key: re_123, region: eu}
        """,
            MONITORS,
        ],
        "region",
        "channels.mail.api.region",
        "unknown key 'region'",
        "unknown-email-api-key",
    ),
    case(
        "version: 1\ndefaults: {timeuot: 5s}\n" + MONITORS,
        "timeuot",
        "defaults.timeuot",
        "did you mean 'timeout'?",
        "unknown-key-in-defaults",
    ),
    # --- ids and names -----------------------------------------------------------------------
    case(
        'version: 1\nmonitors:\n  - {id: "Web Site", name: Web, url: "https://example.test/"}\n',
        '"Web Site"',
        "monitors.0.id",
        "must be a slug",
        "id-not-a-slug",
    ),
    case(
        [
            """
        version: 1
        monitors:
          - {id: web, name: Web, url: "https://example.test/"}
          - {id: web, name: Web again, url: "https://example.test/again"}
        """
        ],
        "web, name: Web again",
        "monitors.1.id",
        "'web' is already used by monitors.0",
        "duplicate-id",
    ),
    case(
        'version: 1\nchannels:\n  Team Slack: {type: slack, webhook_url: "https://h.example.test"}\n'
        + MONITORS,
        "Team Slack",
        'channels."Team Slack"',  # quoted: the name has a space
        "must be a slug",
        "channel-name-not-a-slug",
    ),
    # --- durations and timing ----------------------------------------------------------------
    case(
        WEB + "interval: 5 minutes}\n",
        "5 minutes",
        "monitors.0.interval",
        "not a duration",
        "bad-duration",
    ),
    case(
        WEB + "interval: 500ms}\n",
        "500ms",
        "monitors.0.interval",
        "must be at least 1s",
        "interval-below-1s",
    ),
    case(
        WEB + "timeout: 0s}\n",
        "0s",
        "monitors.0.timeout",
        "must be greater than 0",
        "timeout-zero",
    ),
    case(
        [
            """
        version: 1
        monitors:
          - {id: web, name: Web, url: "https://e.test/", interval: 30s, timeout: 45s}
        """
        ],
        "45s",
        "monitors.0.timeout",
        "must not be longer than the interval",
        "timeout-longer-than-interval",
    ),
    case(
        "version: 1\nescalations:\n  page: [{notify: [team], repeat_every: 10s}]\n"
        + SLACK
        + MONITORS,
        "10s",
        "escalations.page.0.repeat_every",
        "must be at least 1m",
        "repeat-every-too-short",
    ),
    case(
        "version: 1\nretention: {raw: a month}\n" + MONITORS,
        "a month",
        "retention.raw",
        "not a duration",
        "retention-not-a-duration",
    ),
    # --- monitor types and their required keys -----------------------------------------------
    case(
        "version: 1\nmonitors:\n  - {id: ping, name: Ping, type: icmp, host: db.example.test}\n",
        "icmp",
        "monitors.0.type",
        "'http', 'tcp', 'dns', 'heartbeat'",
        "unknown-monitor-type",
    ),
    case(
        "version: 1\nmonitors:\n  - {id: ping, name: Ping, type: [http, tcp]}\n",
        "[http",
        "monitors.0.type",
        "unknown type; use one of",
        "monitor-type-not-a-name",
    ),
    case(
        "version: 1\nmonitors:\n  - {id: web, name: Web}\n",
        "{id: web",
        "monitors.0.url",
        "required key is missing",
        "http-without-url",
    ),
    case(
        "version: 1\nmonitors:\n  - {id: db, name: DB, type: tcp, port: 5432}\n",
        "{id: db",
        "monitors.0.host",
        "required key is missing",
        "tcp-without-host",
    ),
    case(
        "version: 1\nmonitors:\n  - {id: db, name: DB, type: tcp, host: db.example.test}\n",
        "{id: db",
        "monitors.0.port",
        "required key is missing",
        "tcp-without-port",
    ),
    case(
        "version: 1\nmonitors:\n  - {id: db, name: DB, type: tcp, host: db.test, port: 70000}\n",
        "70000",
        "monitors.0.port",
        "must be at most 65535",
        "tcp-port-out-of-range",
    ),
    case(
        "version: 1\nmonitors:\n  - {id: apex, name: DNS, type: dns}\n",
        "{id: apex",
        "monitors.0.hostname",
        "required key is missing",
        "dns-without-hostname",
    ),
    case(
        "version: 1\nmonitors:\n  - {id: apex, name: DNS, type: dns, hostname: e.test,"
        " record_type: SRV}\n",
        "SRV",
        "monitors.0.record_type",
        "'A', 'AAAA', 'CNAME', 'MX', 'TXT' or 'NS'",
        "dns-unknown-record-type",
    ),
    case(
        "version: 1\nmonitors:\n  - {id: backup, name: Backup, type: heartbeat, interval: 24h}\n",
        "{id: backup",
        "monitors.0.token",
        "required key is missing",
        "heartbeat-without-token",
    ),
    case(
        WEB + "method: FETCH}\n",
        "FETCH",
        "monitors.0.method",
        "must be one of 'GET'",
        "unknown-http-method",
    ),
    case(
        [
            """
        version: 1
        monitors:
          - {id: web, name: Web, url: "https://e.test/", body: "{}", json: {a: 1}}
        """
        ],
        '"{}"',
        "monitors.0.body",
        "either body or json, not both",
        "body-and-json",
    ),
    case(
        WEB + "failure_threshold: 0}\n",
        "0}",
        "monitors.0.failure_threshold",
        "must be at least 1",
        "failure-threshold-zero",
    ),
    # --- URLs, emails, webhook secrets -------------------------------------------------------
    case(
        'version: 1\nmonitors:\n  - {id: files, name: Files, url: "ftp://files.example.test/"}\n',
        '"ftp://',
        "monitors.0.url",
        "must be an http:// or https:// URL",
        "monitor-url-scheme",
    ),
    case(
        "version: 1\nchannels:\n  team: {type: slack, webhook_url: hooks.example.test/T1}\n"
        + MONITORS,
        "hooks.example.test/T1",
        "channels.team.webhook_url",
        "must be an http:// or https:// URL",
        "channel-url-without-scheme",
    ),
    case(
        "version: 1\nchannels:\n  team: {type: sms, number: '+15550100'}\n" + MONITORS,
        "sms",
        "channels.team.type",
        "'slack', 'email', 'webhook'",
        "unknown-channel-type",
    ),
    case(
        [
            """
        version: 1
        channels:
          mail: {type: email, smtp_url: "smtp://mail.test:587", from: upwatch, to: [ops@e.test]}
        """,
            MONITORS,
        ],
        "upwatch,",
        "channels.mail.from",
        "must be an email address",
        "bad-from-address",
    ),
    case(
        [
            """
        version: 1
        channels:
          mail: {type: email, smtp_url: "smtp://m.test", from: up@e.test, to: ["ops at e.test"]}
        """,
            MONITORS,
        ],
        '"ops at',
        "channels.mail.to.0",
        "must be an email address",
        "bad-to-address",
    ),
    case(
        [
            """
        version: 1
        channels:
          mail: {type: email, smtp_url: "smtp://mail.test:587", from: up@e.test,
                 api: {provider: resend, api_key: re_123}, to: [ops@e.test]}
        """,
            MONITORS,
        ],
        '"smtp://',
        "channels.mail.smtp_url",
        "either smtp_url or api, not both",
        "email-with-smtp-and-api",
    ),
    case(
        "version: 1\nchannels:\n  mail: {type: email, from: up@e.test, to: [ops@e.test]}\n"
        + MONITORS,
        "{type: email",
        "channels.mail.smtp_url",
        "needs smtp_url",
        "email-without-transport",
    ),
    case(
        "version: 1\nchannels:\n"
        "  mail: {type: email, from: u@e.test, to: [o@e.test],\n"
        "         api: {provider: sendgrid, api_key: k, api_base: api.eu.sendgrid.com}}\n"
        + MONITORS,
        "api.eu.sendgrid.com}",
        "channels.mail.api.api_base",
        "must be an http:// or https:// URL",
        "email-api-base-without-scheme",
    ),
    case(
        "version: 1\nchannels:\n"
        "  mail: {type: email, smtp_url: mail.test, from: u@e.test, to: [o@e.test]}\n" + MONITORS,
        "mail.test,",
        "channels.mail.smtp_url",
        "must be smtp://",
        "smtp-url-scheme",
    ),
    case(
        [
            """
        version: 1
        channels:
          hook: {type: webhook, url: "https://hooks.example.test/", secret: s3cr3t-value}
        """,
            MONITORS,
        ],
        "s3cr3t-value",
        "channels.hook.secret",
        "whsec_ followed by base64",
        "webhook-secret-without-prefix",
    ),
    case(
        [
            """
        version: 1
        channels:
          hook: {type: webhook, url: "https://hooks.example.test/", secret: whsec_abc}
        """,
            MONITORS,
        ],
        "whsec_abc",
        "channels.hook.secret",
        "whsec_ followed by base64",
        "webhook-secret-not-base64",
    ),
    # --- expectations ------------------------------------------------------------------------
    case(
        WEB + "expect: {status: [600]}}\n",
        "[600]",
        "monitors.0.expect.status",
        "between 100 and 599",
        "status-code-out-of-range",
    ),
    case(
        WEB + "expect: {status: [2XX]}}\n",
        "[2XX]",
        "monitors.0.expect.status",
        '"1xx" to "5xx"',
        "status-class-misspelt",
    ),
    case(
        [
            """
        version: 1
        monitors:
          - {id: web, name: Web, url: "https://e.test/", expect: {body_regex: "ok("}}
        """
        ],
        '"ok("',
        "monitors.0.expect.body_regex",
        "not valid RE2 syntax: missing )",
        "invalid-regex",
    ),
    case(
        WEB + "expect: {body_regex: '(ok)\\s+\\1'}}\n",
        "'(ok)",
        "monitors.0.expect.body_regex",
        "invalid escape sequence `\\1` at character 8; backreferences are not supported",
        "regex-backreference-is-not-re2",
    ),
    case(
        WEB + "expect: {body_regex: 'status(?=: ok)'}}\n",
        "'status",
        "monitors.0.expect.body_regex",
        "invalid perl operator `(?=` at character 7; lookahead is not supported",
        "regex-lookahead-is-not-re2",
    ),
    case(
        [
            """
        version: 1
        defaults: {expect: {body_regex: '(?<!not )ok'}}
        monitors:
          - {id: web, name: Web, url: "https://e.test/"}
        """
        ],
        "'(?<!",
        "defaults.expect.body_regex",
        "`(?<!` at character 1; negative lookbehind is not supported",
        "regex-lookbehind-in-defaults",
    ),
    # --- references --------------------------------------------------------------------------
    case(
        "version: 1\nescalations:\n  default: [{after: 0s, notify: [team-slak]}]\n"
        + SLACK
        + MONITORS,
        "team-slak",
        "escalations.default.0.notify.0",
        "no channel named 'team-slak' (known: team)",
        "escalation-to-unknown-channel",
    ),
    case(
        [
            """
        version: 1
        escalations:
          default: [{notify: [team]}]
        """,
            SLACK,
            """
        monitors:
          - {id: web, name: Web, url: "https://e.test/", escalation: critical}
        """,
        ],
        "critical",
        "monitors.0.escalation",
        "no escalation policy named 'critical' (known: default)",
        "monitor-with-unknown-escalation",
    ),
    case(
        "version: 1\nescalations:\n  none: [{notify: [team]}]\n" + SLACK + MONITORS,
        "[{notify",
        "escalations.none",
        "'none' is reserved",
        "escalation-named-none",
    ),
    case(
        [
            """
        version: 1
        maintenance:
          - {name: DB upgrade, monitors: [database],
             start: 2026-12-01T02:00:00Z, end: 2026-12-01T04:00:00Z}
        """,
            MONITORS,
        ],
        "database",
        "maintenance.0.monitors.0",
        "no monitor named 'database' (known: web)",
        "maintenance-of-unknown-monitor",
    ),
    # --- maintenance windows and cron --------------------------------------------------------
    case(
        [
            """
        version: 1
        maintenance:
          - {name: Both, monitors: [web], cron: "0 3 * * SUN", duration: 30m,
             start: 2026-12-01T02:00:00Z, end: 2026-12-01T04:00:00Z}
        """,
            MONITORS,
        ],
        '"0 3',
        "maintenance.0.cron",
        "either cron + duration or start + end, not both",
        "maintenance-cron-and-start",
    ),
    case(
        [
            """
        version: 1
        maintenance:
          - {name: Nightly, monitors: [web], cron: "0 0 3 * * *", duration: 30m}
        """,
            MONITORS,
        ],
        '"0 0 3',
        "maintenance.0.cron",
        "a cron expression has 5 fields",
        "cron-with-six-fields",
    ),
    case(
        [
            """
        version: 1
        maintenance:
          - {name: Nightly, monitors: [web], cron: "61 3 * * *", duration: 30m}
        """,
            MONITORS,
        ],
        '"61',
        "maintenance.0.cron",
        "minute: 61 is outside 0-59",
        "cron-minute-out-of-range",
    ),
    case(
        [
            """
        version: 1
        maintenance:
          - {name: Weekly, monitors: [web], cron: "0 3 * * 8", duration: 30m}
        """,
            MONITORS,
        ],
        '"0 3',
        "maintenance.0.cron",
        "day of week: 8 is outside 0-7",
        "cron-day-of-week-8",
    ),
    case(
        [
            """
        version: 1
        maintenance:
          - {name: Leap, monitors: [web], cron: "0 3 30 2 *", duration: 30m}
        """,
            MONITORS,
        ],
        '"0 3',
        "maintenance.0.cron",
        "never fires",
        "cron-that-never-fires",
    ),
    case(
        [
            """
        version: 1
        maintenance:
          - {name: Nightly, monitors: [web], cron: "0 3 * * *"}
        """,
            MONITORS,
        ],
        "{name: Nightly",
        "maintenance.0.duration",
        "needs both cron and duration",
        "cron-without-duration",
    ),
    case(
        "version: 1\nstatus_page: {timezone: Europe/Berln}\n" + MONITORS,
        "Europe/Berln",
        "status_page.timezone",
        "unknown time zone",
        "unknown-timezone",
    ),
    case(
        [
            """
        version: 1
        maintenance:
          - {name: Backwards, monitors: [web],
             start: 2026-12-01T04:00:00Z, end: 2026-12-01T02:00:00Z}
        """,
            MONITORS,
        ],
        "2026-12-01T02",
        "maintenance.0.end",
        "must be after start",
        "end-before-start",
    ),
    case(
        [
            """
        version: 1
        announcements:
          - {title: Slow, severity: huge}
        """,
            MONITORS,
        ],
        "huge",
        "announcements.0.severity",
        "'info', 'minor', 'major' or 'critical'",
        "announcement-severity",
    ),
    case(
        [
            """
        version: 1
        announcements:
          - {title: Slow, start: 2026-02-30T08:00:00Z}
        """,
            MONITORS,
        ],
        "2026-02-30",
        "announcements.0.start",
        "day is out of range for month",
        "date-that-does-not-exist",
    ),
    # --- interpolation -----------------------------------------------------------------------
    case(
        'version: 1\nmonitors:\n  - {id: web, name: Web, url: "https://${API_HOST}/health"}\n',
        '"https://${',
        "monitors.0.url",
        "environment variable API_HOST is not set (and has no :-default)",
        "unset-variable",
    ),
    case(
        'version: 1\nmonitors:\n  - {id: web, name: Web, url: "https://${API_HOST/health"}\n',
        '"https://${',
        "monitors.0.url",
        "`${` is not closed",
        "unclosed-reference",
    ),
    case(
        'version: 1\nmonitors:\n  - {id: web, name: Web, url: "https://${1HOST}/health"}\n',
        '"https://${',
        "monitors.0.url",
        "needs a variable name",
        "reference-without-a-name",
    ),
    # --- YAML itself -------------------------------------------------------------------------
    case(
        "version: 1\nmonitors: []\nversion: 2\n",
        "version: 2",
        "version",
        "duplicate key 'version' (first written on line 1)",
        "duplicate-yaml-key",
    ),
    case(
        "version: 1\nmonitors: [{id: web, name: Web\n",
        None,
        "",
        "not valid YAML",
        "yaml-syntax-error",
    ),
    case("", None, "", "the file is empty; start with `version: 1`", "empty-file"),
    case("# only a comment\n", None, "", "the file is empty", "comments-only"),
    case("- version: 1\n- monitors: []\n", "- version", "", "the file must be a mapping", "a-list"),
    case(
        "version: 1\nx: &loop [1, *loop]\n" + MONITORS,
        "&loop",
        "x",
        "an alias refers to the node that contains it",
        "recursive-alias",
    ),
    case(
        "version: 1\nmonitors: [{id: web, name: !!int many, url: 'https://e.test'}]\n",
        "!!int",
        "monitors.0.name",
        "cannot read this value as int",
        "wrong-yaml-tag",
    ),
]


@pytest.mark.parametrize(("text", "at", "path", "fragment"), INVALID)
def test_each_broken_rule_is_reported_once_where_it_was_written(
    configs: ConfigFiles, text: str, at: str | None, path: str, fragment: str
) -> None:
    env = {"DEFINED": "x"}
    problems = configs.problems(text, env)
    assert len(problems) == 1, problems
    (problem,) = problems
    assert problem.file.endswith("monitors.yaml")
    assert problem.path == path
    assert fragment in problem.message
    if at is not None:
        assert (problem.line, problem.col) == position_of(text, at)


def test_an_unknown_key_with_nothing_close_lists_the_allowed_keys(configs: ConfigFiles) -> None:
    text = "version: 1\nchannels:\n  team: {type: slack, webhook_url: 'https://h.test', zzz: 1}\n"
    (problem,) = configs.problems(text + MONITORS)
    assert "did you mean" not in problem.message
    assert problem.message.endswith("(allowed here: type, webhook_url)")


def test_an_unknown_key_in_basic_auth_lists_its_keys(configs: ConfigFiles) -> None:
    text = """
        version: 1
        monitors:
          - {id: web, name: Web, url: "https://e.test/", basic_auth: {user: u, password: p}}
    """
    problems = configs.problems(text)
    messages = {p.path: p.message for p in problems}
    assert "did you mean 'username'?" in messages["monitors.0.basic_auth.user"]
    assert "required key is missing" in messages["monitors.0.basic_auth.username"]


def test_every_problem_in_a_file_is_reported_in_file_order(configs: ConfigFiles) -> None:
    text = textwrap.dedent("""\
        version: 1
        status_page: {timezone: Mars/Olympus}
        channels:
          hook: {type: webhook, url: "https://h.test/", secret: plain}
        escalations:
          default: [{notify: [pager]}]
        monitors:
          - {id: web, name: Web, url: "ftp://e.test/", interval: 5 minutes}
          - {id: Bad, name: Bad, url: "https://e.test/", escalation: nope}
          - {id: db, name: DB, type: tcp, host: db.test, port: 0}
        maintenance:
          - {name: Nightly, monitors: [web], cron: "0 3 * * 8", duration: 30m}
    """)
    expected = {
        ("status_page.timezone", "Mars/Olympus"),
        ("channels.hook.secret", "plain"),
        ("escalations.default.0.notify.0", "pager"),
        ("monitors.0.url", '"ftp://'),
        ("monitors.0.interval", "5 minutes"),
        ("monitors.1.id", "Bad,"),
        ("monitors.1.escalation", "nope"),
        ("monitors.2.port", "0}"),
        ("maintenance.0.cron", '"0 3'),
    }
    problems = configs.problems(text)
    assert len(problems) == len(expected)
    assert {(p.path, (p.line, p.col)) for p in problems} == {
        (path, position_of(text, at)) for path, at in expected
    }
    positions = [(p.line, p.col) for p in problems]
    assert positions == sorted(positions)


def test_the_cli_prints_every_problem_and_a_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "monitors.yaml"
    path.write_text("version: 3\nmonitors:\n  - {id: web, name: Web, url: nope, timeout: 0s}\n")
    # the bad url does not hide the bad timeout next to it
    assert main(["check", "-c", str(path)]) == 2
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert out == ""
    assert lines[-1] == f"{path}: 3 problems found"
    assert all(line.startswith(f"{path}:") for line in lines[:-1])
    assert len(lines) == 4


def test_check_prints_a_pattern_re2_refuses_at_its_line_with_where_in_the_pattern(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = WEB + "expect: {body_regex: 'ok'}}\n"
    text += "  - {id: api, name: API, url: 'https://e.test/', expect: {body_regex: '(a)\\1'}}\n"
    path = tmp_path / "monitors.yaml"
    path.write_text(text)

    assert main(["check", "-c", str(path)]) == 2

    first, count = capsys.readouterr().err.splitlines()
    line, col = position_of(text, "'(a)")
    assert first.startswith(f"{path}:{line}:{col}: monitors.1.expect.body_regex: not valid RE2 ")
    assert "`\\1` at character 4; backreferences are not supported" in first
    assert "https://github.com/google/re2/wiki/Syntax" in first
    assert count == f"{path}: 1 problem found"


def test_a_value_wrong_in_defaults_is_reported_once_at_the_defaults_line(
    configs: ConfigFiles,
) -> None:
    text = textwrap.dedent("""\
        version: 1
        defaults:
          interval: 5 minutes
          expect: {status: [700]}
        monitors:
          - {id: a, name: A, url: "https://e.test/a"}
          - {id: b, name: B, url: "https://e.test/b"}
          - {id: c, name: C, url: "https://e.test/c"}
    """)
    problems = configs.problems(text)
    assert [(p.path, (p.line, p.col)) for p in problems] == [
        ("defaults.interval", position_of(text, "5 minutes")),
        ("defaults.expect.status", position_of(text, "[700]")),
    ]


def test_a_key_no_monitor_type_knows_is_an_error_in_defaults_once(configs: ConfigFiles) -> None:
    text = textwrap.dedent("""\
        version: 1
        defaults: {retries: 3, expect: {bdy_contains: ok}}
        monitors:
          - {id: a, name: A, url: "https://e.test/a"}
          - {id: b, name: B, type: tcp, host: db.test, port: 5432}
    """)
    problems = configs.problems(text)
    assert [(p.path, (p.line, p.col)) for p in problems] == [
        ("defaults.retries", position_of(text, "retries")),
        ("defaults.expect.bdy_contains", position_of(text, "bdy_contains")),
    ]
    assert "did you mean 'body_contains'?" in problems[1].message


def test_an_id_in_defaults_is_refused(configs: ConfigFiles) -> None:
    (problem,) = configs.problems("version: 1\ndefaults: {id: web}\n" + MONITORS)
    assert problem.path == "defaults.id"
    assert "unique" in problem.message


def test_a_default_that_breaks_one_monitors_timing_names_that_monitor(
    configs: ConfigFiles,
) -> None:
    text = textwrap.dedent("""\
        version: 1
        defaults: {timeout: 45s}
        monitors:
          - {id: slow, name: Slow, url: "https://e.test/", interval: 5m}
          - {id: fast, name: Fast, url: "https://e.test/", interval: 30s}
    """)
    (problem,) = configs.problems(text)
    assert problem.path == "monitors.1.timeout"
    assert (problem.line, problem.col) == position_of(text, "{id: fast")
    assert "longer than the interval (the value comes from defaults)" in problem.message


def test_an_odd_key_is_quoted_so_each_problem_stays_on_one_line(configs: ConfigFiles) -> None:
    text = 'version: 1\n"two\\nlines": 1\n' + MONITORS
    (problem,) = configs.problems(text)
    assert problem.path == '"two\\nlines"'


def test_a_document_nested_beyond_reason_is_a_problem_not_a_crash(configs: ConfigFiles) -> None:
    text = "version: 1\nx: " + "[" * 3000 + "]" * 3000 + "\n" + MONITORS
    (problem,) = configs.problems(text)
    assert "nested more than" in problem.message


def test_a_key_written_twice_is_refused_even_after_a_merge_key(configs: ConfigFiles) -> None:
    text = textwrap.dedent("""\
        version: 1
        monitors:
          - &base {id: a, name: A, url: "https://e.test/"}
          - {<<: *base, id: b, name: B, id: c}
    """)
    (problem,) = configs.problems(text)
    assert (problem.line, problem.col) == position_of(text, "id: c")
    assert problem.message == "duplicate key 'id' (first written on line 4)"


def test_two_documents_in_one_file_are_refused(configs: ConfigFiles) -> None:
    (problem,) = configs.problems("version: 1\n" + MONITORS + "---\nversion: 1\n")
    second = "a second document ('---'): write the whole config as one document"
    assert problem.message == f"not valid YAML: {second}"


# --- --no-env -------------------------------------------------------------------------------


def test_no_env_accepts_unset_variables_but_reports_every_other_error(
    configs: ConfigFiles,
) -> None:
    text = textwrap.dedent("""\
        version: 1
        channels:
          team: {type: slack, webhook_url: "${SLACK_WEBHOOK_URL}"}
          hook: {type: webhook, url: "${HOOK_URL}", secret: "${HOOK_SECRET}"}
          mail: {type: email, smtp_url: "${SMTP_URL}", from: "${MAIL_FROM}", to: [ops@e.test],
                 api: {provider: resend, api_key: "${RESEND_KEY}"}}
        escalations:
          default: [{notify: [team, hook], after: "${AFTER}", repeat_every: 5s}]
        monitors:
          - {id: web, name: Web, url: "${WEB_URL}", interval: 0s, timeout: "${TIMEOUT}"}
          - {id: db, name: DB, type: tcp, host: "${DB_HOST}", port: "${DB_PORT}", timeout: 0s}
          - {id: job, name: Job, type: heartbeat, token: "${TOKEN}", escalation: defualt}
    """)
    problems = configs.problems(text, no_env=True)
    assert [(p.path, (p.line, p.col)) for p in problems] == [
        ("channels.mail.smtp_url", position_of(text, '"${SMTP_URL}"')),
        ("escalations.default.0.repeat_every", position_of(text, "5s")),
        ("monitors.0.interval", position_of(text, "0s")),
        ("monitors.1.timeout", position_of(text, "0s}")),
        ("monitors.2.escalation", position_of(text, "defualt")),
    ]
    assert "either smtp_url or api, not both" in problems[0].message
    assert not any("not set" in p.message for p in problems)


def test_no_env_passes_a_file_whose_only_gaps_are_unset_variables(configs: ConfigFiles) -> None:
    text = """
        version: 1
        channels:
          team: {type: slack, webhook_url: "${SLACK_WEBHOOK_URL}"}
        escalations:
          default: [{notify: [team]}]
        monitors:
          - {id: web, name: Web, url: "${WEB_URL}", interval: "${INTERVAL}", timeout: 2m,
             escalation: default, public: "${PUBLIC}", failure_threshold: "${THRESHOLD}"}
    """
    config = configs.config(text, no_env=True)
    assert [m.id for m in config.monitors] == ["web"]
    assert configs.invalid(text).lines  # the same file, judged with the (empty) environment


def test_no_env_still_reports_a_misspelt_key_whose_value_is_unset(configs: ConfigFiles) -> None:
    text = textwrap.dedent("""\
        version: 1
        channels:
          team: {type: slack, webhok_url: "${SLACK_WEBHOOK_URL}"}
        defaults: {intervall: "${INTERVAL}"}
    """)
    problems = configs.problems(text + MONITORS, no_env=True)
    assert {p.path: p.message for p in problems}.keys() == {
        "channels.team.webhok_url",
        "channels.team.webhook_url",
        "defaults.intervall",
    }


def test_no_env_passes_when_no_stand_in_fits_a_value_waiting_for_a_variable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "monitors.yaml"
    path.write_text(
        "version: 1\nmonitors:\n"
        '  - {id: a, name: A, url: "https://e.test/", method: "${METHOD}"}\n'
        '  - {id: b, name: B, url: "https://e.test/", headers: "${HEADERS}"}\n'
    )
    assert main(["check", "--no-env", "-c", str(path)]) == 0
    assert capsys.readouterr().out == "ok: 2 monitors, 0 channels, 0 escalation policies\n"


def test_an_unset_variable_is_named_once_and_its_value_not_judged(configs: ConfigFiles) -> None:
    text = 'version: 1\nmonitors:\n  - {id: db, name: DB, type: tcp, host: h, port: "${PORT}"}\n'
    (problem,) = configs.problems(text)
    assert problem.message == "environment variable PORT is not set (and has no :-default)"


# --- secrets ---------------------------------------------------------------------------------

SECRETS = {
    "SLACK_WEBHOOK_URL": "xoxb-S3CRET-not-a-url",
    "WEBHOOK_SECRET": "S3CRET-plain-signing-key",
    "PROBE_PASSWORD": "S3CRET pa#ss: word",
    "PROBE_INTERVAL": "S3CRET-five-minutes",
    "POLICY": "S3CRET  policy",
    "MONITOR_ID": "S3CRET_ID",
    "API_KEY": "S3CRET-api-key",
}
LEAKY = """\
version: 1
channels:
  team: {type: slack, webhook_url: "${SLACK_WEBHOOK_URL}"}
  hook: {type: webhook, url: "https://hooks.example.test/", secret: "${WEBHOOK_SECRET}"}
  mail: {type: email, smtp_url: "smtp://m.test", api: {provider: resend, api_key: "${API_KEY}"},
         from: u@e.test, to: [o@e.test]}
monitors:
  - id: web
    name: Web
    url: https://example.test/
    basic_auth: {username: probe, password: "${PROBE_PASSWORD}", realm: x}
    interval: "${PROBE_INTERVAL}"
    escalation: "${POLICY}"
  - {id: "${MONITOR_ID}", name: Other, url: "https://example.test/${API_KEY}", timeout: 0s}
"""


def _secret_forms() -> set[str]:
    return {form for s in SECRETS.values() for form in (s, " ".join(s.split()))}


def test_secrets_never_appear_in_check_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    path = tmp_path / "monitors.yaml"
    path.write_text(LEAKY)
    assert main(["check", "-c", str(path)]) == 2
    out, err = capsys.readouterr()
    problems = [Reported.parse(line) for line in err.splitlines()[:-1]]
    assert {p.path for p in problems} >= {
        "channels.team.webhook_url",
        "channels.hook.secret",
        "channels.mail.smtp_url",
        "monitors.0.basic_auth.realm",
        "monitors.0.interval",
        "monitors.0.escalation",
        "monitors.1.id",
        "monitors.1.timeout",
    }
    for secret in _secret_forms():
        assert secret not in out + err
        assert "S3CRET" not in out + err


def test_secrets_never_appear_in_the_problem_lines(configs: ConfigFiles) -> None:
    invalid = configs.invalid(LEAKY, SECRETS)
    assert "S3CRET" not in "\n".join(invalid.lines) + str(invalid)


def test_a_short_secret_does_not_garble_positions(configs: ConfigFiles) -> None:
    text = "\n" * 9 + "version: 1\nmonitors:\n"
    text += '  - {id: db, name: DB, type: tcp, host: h, port: "${P}"}\n'
    text += "  - {id: web, name: Web, url: 'https://e.test/', max_redirects: -1}\n"
    (problem,) = configs.problems(text, {"P": "1"})
    assert (problem.line, problem.col) == position_of(text, "-1")
    assert problem.path == "monitors.1.max_redirects"


# --- any text at all --------------------------------------------------------------------------

CONFIG_KEYS = [
    "version", "monitors", "defaults", "channels", "escalations", "maintenance", "announcements",
    "status_page", "retention", "id", "name", "url", "type", "interval", "timeout", "expect",
    "status", "host", "port", "hostname", "token", "cron", "start", "end", "notify", "after",
    "smtp_url", "api", "from", "to", "secret", "webhook_url", "json", "basic_auth", "password",
    "escalation", "timezone", "records", "body_regex", "<<",
]  # fmt: skip
SCALARS = [
    "${A}", "${UNSET}", "${A:-x}", "$$", "${", "$${A}", "tcp", "http", "dns", "heartbeat",
    "slack", "email", "webhook", "5s", "0s", "1d", "https://e.test", "0 3 * * 8", "whsec_QQ==",
    "none", "*", "a@b.test", "2026-12-01T02:00:00Z",
]  # fmt: skip
TEXT = st.text(st.sampled_from(list("ab1 -_:#\t\n${}[]'\"*&!|>%@,.é☃\u200b")), max_size=16)
SCALAR = st.one_of(st.none(), st.booleans(), st.integers(-3, 70000), st.sampled_from(SCALARS), TEXT)
KEY = st.one_of(st.sampled_from(CONFIG_KEYS), TEXT)
TREE = st.recursive(
    SCALAR,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEY, inner, max_size=5)),
    max_leaves=30,
)
MONITOR_LIKE = st.fixed_dictionaries(
    {"id": st.sampled_from(["web", "db", "Web", "${A}"]), "name": SCALAR},
    optional={k: TREE for k in ("type", "url", "interval", "timeout", "expect", "escalation")},
)
DOCUMENT = st.one_of(
    TREE,
    st.fixed_dictionaries(
        {"version": st.sampled_from([1, 2, "1"]), "monitors": st.lists(MONITOR_LIKE, max_size=3)},
        optional={k: TREE for k in ("defaults", "channels", "escalations", "maintenance")},
    ),
)


@st.composite
def yamlish(draw: st.DrawFn) -> str:
    """YAML dumped from random values, sometimes with random text spliced into it."""
    text = yaml.safe_dump(
        draw(DOCUMENT), allow_unicode=True, default_flow_style=draw(st.booleans())
    )
    if draw(st.booleans()):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(TEXT) + text[at:]
    return text


@settings(deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(yamlish(), TEXT), no_env=st.booleans())
def test_any_document_gets_ok_or_located_problems_never_a_traceback(
    text: str, no_env: bool
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "monitors.yaml")
        Path(path).write_text(text, encoding="utf-8")
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["check", "-c", path, *(["--no-env"] if no_env else [])])
    assert code in (0, 2), err.getvalue()
    summary = re.compile(re.escape(path) + r": \d+ problems? found$")
    located = re.compile(re.escape(path) + r":\d+:\d+: ")
    for line in err.getvalue().splitlines():
        known = located.match(line) or summary.match(line) or line.startswith("hint: ")
        assert known or line.startswith("upwatch: "), line
    assert "Traceback" not in err.getvalue()
    assert "internal error" not in err.getvalue()
    assert (code == 0) == out.getvalue().startswith("ok: ")


def test_a_config_file_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "monitors.yaml"
    path.write_bytes(b"version: 1\nname: \xff\xfe\n")
    with pytest.raises(Exception, match="not UTF-8") as caught:
        load_config(str(path))
    assert not isinstance(caught.value, ConfigInvalid)
