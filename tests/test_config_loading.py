"""Valid monitors.yaml files load as documented: defaults, merging, interpolation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from tests.config_helpers import ConfigFiles
from upwatch.config.loader import STAND_INS
from upwatch.config.models import DnsMonitor, HeartbeatMonitor, HttpMonitor, TcpMonitor

EXAMPLE = Path(__file__).resolve().parent.parent / "monitors.yaml"


@pytest.fixture
def configs(tmp_path: Path) -> ConfigFiles:
    return ConfigFiles(tmp_path)


def test_a_minimal_http_monitor_gets_the_built_in_defaults(configs: ConfigFiles) -> None:
    config = configs.config("""
        version: 1
        monitors:
          - {id: web, name: Web, url: "https://example.test/"}
    """)
    (web,) = config.monitors
    assert isinstance(web, HttpMonitor)
    assert web.interval == timedelta(seconds=60)
    assert web.timeout == timedelta(seconds=10)
    assert web.failure_threshold == 3
    assert web.recovery_threshold == 1
    assert web.retry_interval == timedelta(seconds=20)
    assert web.follow_redirects is True
    assert web.max_redirects == 5
    assert web.verify_tls is True
    assert web.max_body == 1024 * 1024
    assert web.expect.status == ["2xx"]
    assert web.method == "GET"
    assert web.public is True
    assert web.paused is False


def test_only_version_and_monitors_are_required(configs: ConfigFiles) -> None:
    config = configs.config("version: 1\nmonitors: []\n")
    assert config.monitors == []
    assert config.channels == {}
    assert config.escalations == {}
    assert config.status_page.timezone == "UTC"


def test_defaults_merge_into_each_monitor_key_by_key(configs: ConfigFiles) -> None:
    config = configs.config("""
        version: 1
        defaults:
          interval: 30s
          timeout: 5s
          failure_threshold: 2
          expect: {status: [200, 204], body_contains: ok, response_time_under: 2s}
        monitors:
          - {id: plain, name: Plain, url: "https://example.test/"}
          - id: own
            name: Own
            url: https://example.test/own
            interval: 5m
            expect: {status: ["3xx"], body_contains: null}
    """)
    plain, own = config.monitors
    assert isinstance(plain, HttpMonitor)
    assert isinstance(own, HttpMonitor)
    assert (plain.interval, plain.timeout, plain.failure_threshold) == (
        timedelta(seconds=30),
        timedelta(seconds=5),
        2,
    )
    assert plain.expect.status == [200, 204]
    assert plain.expect.body_contains == "ok"
    # the monitor's own keys win; its status list replaces the default's; null removes a default
    assert own.interval == timedelta(minutes=5)
    assert own.timeout == timedelta(seconds=5)
    assert own.expect.status == ["3xx"]
    assert own.expect.body_contains is None
    assert own.expect.response_time_under == timedelta(seconds=2)


def test_null_in_a_monitor_removes_a_default_and_the_built_in_applies(
    configs: ConfigFiles,
) -> None:
    config = configs.config("""
        version: 1
        defaults: {interval: 5m, escalation: default, tags: [prod]}
        channels: {team: {type: slack, webhook_url: "https://hooks.example.test/T"}}
        escalations: {default: [{notify: [team]}]}
        monitors:
          - {id: web, name: Web, url: "https://example.test/", interval: null, escalation: null}
    """)
    (web,) = config.monitors
    assert web.interval == timedelta(seconds=60)
    assert web.escalation_policy is None
    assert web.tags == ["prod"]


def test_keys_of_another_monitor_type_in_defaults_are_ignored(configs: ConfigFiles) -> None:
    config = configs.config("""
        version: 1
        defaults:
          url: https://example.test/default
          method: POST
          follow_redirects: false
          expect: {status: [200], body_contains: ok, records: ["192.0.2.1"]}
        monitors:
          - {id: db, name: DB, type: tcp, host: db.example.test, port: 5432}
          - {id: job, name: Job, type: heartbeat, token: 0123456789abcdef, interval: 24h}
          - {id: apex, name: Apex, type: dns, hostname: example.test}
          - {id: web, name: Web}
    """)
    db, job, apex, web = config.monitors
    assert isinstance(db, TcpMonitor)
    assert isinstance(job, HeartbeatMonitor)
    assert isinstance(apex, DnsMonitor)
    assert isinstance(web, HttpMonitor)
    assert apex.expect.records == ["192.0.2.1"]
    assert web.url == "https://example.test/default"
    assert web.method == "POST"
    assert web.follow_redirects is False
    assert web.expect.status == [200]
    assert web.expect.body_contains == "ok"


def test_a_heartbeat_takes_recovery_threshold_only_from_itself(configs: ConfigFiles) -> None:
    config = configs.config("""
        version: 1
        defaults: {recovery_threshold: 2}
        monitors:
          - {id: job, name: Job, type: heartbeat, token: 0123456789abcdef, interval: 24h}
          - {id: own, name: Own, type: heartbeat, token: 0123456789abcdef, interval: 24h,
             recovery_threshold: 2}
          - {id: web, name: Web, url: https://example.test}
    """)
    assert [m.recovery_threshold for m in config.monitors] == [1, 2, 2]


def test_monitor_types_carry_their_own_keys(configs: ConfigFiles) -> None:
    config = configs.config("""
        version: 1
        monitors:
          - {id: db, name: DB, type: tcp, host: db.example.test, port: 5432, interval: 30s}
          - {id: apex, name: Apex, type: dns, hostname: example.test, record_type: MX,
             nameserver: 192.0.2.53, expect: {records: ["10 mx.example.test."]}}
          - {id: job, name: Job, type: heartbeat, token: "0123456789abcdef", interval: 24h,
             grace: 1h}
    """)
    db, apex, job = config.monitors
    assert isinstance(db, TcpMonitor)
    assert (db.host, db.port, db.interval) == ("db.example.test", 5432, timedelta(seconds=30))
    assert isinstance(apex, DnsMonitor)
    assert (apex.record_type, apex.nameserver) == ("MX", "192.0.2.53")
    assert isinstance(job, HeartbeatMonitor)
    assert (job.interval, job.grace) == (timedelta(hours=24), timedelta(hours=1))


@pytest.mark.parametrize(
    ("own", "expected"),
    [
        ("escalation: none", None),
        ("escalation: critical", "critical"),
        ("", "default"),
    ],
)
def test_the_escalation_policy_comes_from_the_monitor_then_defaults(
    configs: ConfigFiles, own: str, expected: str | None
) -> None:
    config = configs.config(f"""
        version: 1
        defaults: {{escalation: default}}
        channels: {{team: {{type: slack, webhook_url: "https://hooks.example.test/T"}}}}
        escalations:
          default: [{{notify: [team]}}]
          critical: [{{notify: [team]}}, {{after: 2m, notify: [team], repeat_every: 30m}}]
        monitors:
          - id: web
            name: Web
            url: https://example.test/
            {own}
    """)
    assert config.monitors[0].escalation_policy == expected


def test_without_any_escalation_a_monitor_notifies_no_one(configs: ConfigFiles) -> None:
    config = configs.config(
        "version: 1\nmonitors: [{id: web, name: Web, url: 'https://example.test/'}]\n"
    )
    assert config.monitors[0].escalation_policy is None


def test_variables_are_interpolated_with_defaults_and_dollar_escapes(
    configs: ConfigFiles,
) -> None:
    env = {"API_HOST": "api.example.test", "TEAM": "platform"}
    config = configs.config(
        """
        version: 1
        monitors:
          - id: web
            name: "${TEAM} API"
            url: "https://${API_HOST}/health?region=${REGION:-eu}"
            headers: {X-Empty: "${UNSET:-}", X-Team: "${TEAM:-nobody}"}
            expect: {body_contains: "costs $$5 and $${NOT_A_VAR}"}
        """,
        env,
    )
    (web,) = config.monitors
    assert isinstance(web, HttpMonitor)
    assert web.name == "platform API"
    assert web.url == "https://api.example.test/health?region=eu"
    assert web.headers == {"X-Empty": "", "X-Team": "platform"}
    assert web.expect.body_contains == "costs $5 and ${NOT_A_VAR}"


@pytest.mark.parametrize("password", ["pa#ss: word", "x # y", "[not, a, list]", "{a: b}", "'q'"])
def test_yaml_syntax_inside_a_variable_stays_part_of_the_value(
    configs: ConfigFiles, password: str
) -> None:
    loaded = configs.load(
        """
        version: 1
        monitors:
          - {id: web, name: Web, url: "https://example.test/",
             basic_auth: {username: probe, password: "${PROBE_PASSWORD}"}, interval: 30s}
        """,
        {"PROBE_PASSWORD": password},
    )
    (web,) = loaded.config.monitors
    assert isinstance(web, HttpMonitor)
    assert web.basic_auth is not None
    assert web.basic_auth.password == password
    assert web.interval == timedelta(seconds=30)  # the rest of the line was still read
    assert password in loaded.secrets
    assert password not in loaded.redact(f"login failed for {password}")


def test_no_env_accepts_unset_variables(configs: ConfigFiles) -> None:
    text = """
        version: 1
        channels:
          hook: {type: webhook, url: "${HOOK_URL}", secret: "${HOOK_SECRET}"}
          mail: {type: email, smtp_url: "${SMTP_URL}", from: "${MAIL_FROM}", to: [o@e.test]}
        escalations: {default: [{notify: [hook, mail]}]}
        monitors:
          - {id: job, name: Job, type: heartbeat, token: "${TOKEN}", escalation: default}
    """
    config = configs.config(text, no_env=True)
    assert (len(config.monitors), len(config.channels), len(config.escalations)) == (1, 2, 1)


def test_yaml_merge_keys_share_settings_between_monitors(configs: ConfigFiles) -> None:
    config = configs.config("""
        version: 1
        monitors:
          - &base
            id: a
            name: A
            url: https://example.test/a
            interval: 30s
            expect: {status: [200]}
          - <<: *base
            id: b
            name: B
            interval: 2m
          - {<<: [*base], id: c, name: C}
    """)
    a, b, c = config.monitors
    assert [m.id for m in config.monitors] == ["a", "b", "c"]
    assert isinstance(b, HttpMonitor)
    assert b.url == "https://example.test/a"
    assert (a.interval, b.interval, c.interval) == (
        timedelta(seconds=30),
        timedelta(minutes=2),
        timedelta(seconds=30),
    )
    assert isinstance(c, HttpMonitor)
    assert c.expect.status == [200]


def test_times_without_an_offset_are_utc_whatever_the_page_timezone(
    configs: ConfigFiles,
) -> None:
    config = configs.config("""
        version: 1
        status_page: {timezone: Europe/Berlin}
        maintenance:
          - {name: Move, monitors: ["*"],
             start: 2026-12-01 02:00:00, end: 2026-12-01T04:00:00+01:00}
        announcements:
          - {title: Hello, start: 2026-11-20}
        monitors:
          - {id: web, name: Web, url: "https://example.test/"}
    """)
    (window,) = config.maintenance
    assert window.start == datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    assert window.start is not None
    assert window.start.utcoffset() == timedelta(0)
    assert window.end == datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    assert config.announcements[0].start == datetime(2026, 11, 20, tzinfo=UTC)


@pytest.mark.parametrize(
    "address", ["oncall@acme.test", "ops@db.internal", "first.last+tag@sub.example.co.uk"]
)
def test_emails_are_checked_for_syntax_only(configs: ConfigFiles, address: str) -> None:
    config = configs.config(f"""
        version: 1
        channels:
          mail: {{type: email, smtp_url: "smtp://u:p@mail.test:587", from: "{address}",
                  to: ["{address}"]}}
        monitors: []
    """)
    assert config.channels["mail"].to == [address]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/x",
        "https://example.test/",
        "HTTPS://EXAMPLE.TEST/path?q=1#frag",
        "http://[2001:db8::1]:8080/",
        "http://localhost/",
    ],
)
def test_any_http_or_https_url_is_accepted(configs: ConfigFiles, url: str) -> None:
    config = configs.config(f"""
        version: 1
        channels:
          team: {{type: slack, webhook_url: "{url}"}}
          hook: {{type: webhook, url: "{url}"}}
        monitors:
          - {{id: web, name: Web, url: "{url}"}}
    """)
    assert config.monitors[0].url == url  # type: ignore[union-attr]


def test_a_webhook_secret_is_whsec_and_base64(configs: ConfigFiles) -> None:
    secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    config = configs.config(f"""
        version: 1
        channels:
          signed: {{type: webhook, url: "https://hooks.example.test/", secret: "{secret}"}}
          unsigned: {{type: webhook, url: "https://hooks.example.test/"}}
        monitors: []
    """)
    assert config.channels["signed"].secret == secret  # type: ignore[union-attr]
    assert config.channels["unsigned"].secret is None  # type: ignore[union-attr]


def test_maintenance_windows_may_cover_every_monitor(configs: ConfigFiles) -> None:
    config = configs.config("""
        version: 1
        maintenance:
          - {name: All, monitors: ["*"], cron: "0 3 * * SUN", duration: 30m}
        monitors: []
    """)
    assert config.maintenance[0].monitors == ["*"]
    assert config.maintenance[0].duration == timedelta(minutes=30)


def test_the_environment_given_is_the_one_used(
    configs: ConfigFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("API_HOST", "from-process.example.test")
    text = "version: 1\nmonitors: [{id: w, name: W, url: 'https://${API_HOST}/'}]\n"
    config = configs.config(text, {"API_HOST": "given.example.test"})
    assert config.monitors[0].url == "https://given.example.test/"  # type: ignore[union-attr]


def test_the_digest_identifies_the_file_content(configs: ConfigFiles) -> None:
    text = "version: 1\nmonitors: []\n"
    first, same = configs.load(text), configs.load(text)
    changed = configs.load(text + "# a comment\n")
    assert first.digest == same.digest != changed.digest


def test_the_example_config_loads_without_secrets(configs: ConfigFiles) -> None:
    loaded = configs.load(EXAMPLE.read_text(), no_env=True)
    written = yaml.safe_load(EXAMPLE.read_text())
    assert [m.id for m in loaded.config.monitors] == [m["id"] for m in written["monitors"]]
    assert sorted(loaded.config.channels) == sorted(written["channels"])
    # Nothing came from the environment: every secret is a credential written in the file itself
    # (or the stand-in `--no-env` puts where a variable is unset).
    text = EXAMPLE.read_text()
    assert all(secret in text or secret in STAND_INS for secret in loaded.secrets)


def test_keys_are_read_as_written(configs: ConfigFiles) -> None:
    config = configs.config("""
        version: 1
        monitors:
          - {id: web, name: Web, url: "https://example.test/",
             expect: {json: {on: true, "yes": 1, 404: missing, checks.db: ok}}}
    """)
    (web,) = config.monitors
    assert isinstance(web, HttpMonitor)
    assert web.expect.json_paths == {"on": True, "yes": 1, "404": "missing", "checks.db": "ok"}
