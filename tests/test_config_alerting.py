"""monitors.yaml keys of alert quality: severity, slo, flapping, depends_on and slo_alerts."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.config_helpers import ConfigFiles
from upwatch.config.models import Slo

HOOK = """
channels:
  hook: {type: webhook, url: "http://127.0.0.1:9/hook"}
escalations:
  default:
    - {after: 0s, notify: [hook]}
    - {after: 5m, notify: [hook], severities: [critical, error]}
"""


@pytest.fixture
def configs(tmp_path: Path) -> ConfigFiles:
    return ConfigFiles(tmp_path)


def test_severity_slo_and_flapping_come_from_defaults_and_the_monitor_wins(
    configs: ConfigFiles,
) -> None:
    config = configs.config(
        "version: 1\n"
        "defaults: {severity: warning, flapping: {changes: 4, within: 30m}}\n"
        + HOOK
        + "slo_alerts: {policy: default}\n"
        "monitors:\n"
        '  - {id: db, name: DB, url: "http://127.0.0.1:1/"}\n'
        '  - {id: api, name: API, url: "http://127.0.0.1:1/", severity: critical,\n'
        "     depends_on: [db], slo: {target: 99.9%, window: 7d}, flapping: null}\n"
    )
    db, api = config.monitors
    assert (db.severity, api.severity) == ("warning", "critical")
    assert db.flapping is not None
    assert db.flapping.within == timedelta(minutes=30)
    assert api.flapping is None
    assert api.depends_on == ["db"]
    assert api.slo == Slo(target=99.9, window=timedelta(days=7))
    assert api.slo.bad_fraction == pytest.approx(0.001)
    assert config.escalations["default"][1].severities == ["critical", "error"]
    assert config.slo_alerts is not None
    assert config.slo_alerts.policy == "default"


def test_a_monitor_defaults_to_critical_with_no_slo_and_no_flap_damping(
    configs: ConfigFiles,
) -> None:
    (monitor,) = configs.config(
        'version: 1\nmonitors:\n  - {id: web, name: Web, url: "http://127.0.0.1:1/"}\n'
    ).monitors
    assert (monitor.severity, monitor.slo, monitor.flapping, monitor.depends_on) == (
        "critical",
        None,
        None,
        [],
    )


def test_a_dependency_cycle_unknown_parent_and_self_dependency_are_each_reported(
    configs: ConfigFiles,
) -> None:
    problems = configs.problems(
        "version: 1\nmonitors:\n"
        '  - {id: a, name: A, url: "http://127.0.0.1:1/", depends_on: [b]}\n'
        '  - {id: b, name: B, url: "http://127.0.0.1:1/", depends_on: [c]}\n'
        '  - {id: c, name: C, url: "http://127.0.0.1:1/", depends_on: [a, zz, c]}\n'
    )
    found = {(p.path, p.message) for p in problems}
    assert ("monitors.0.depends_on", "dependency cycle: a → b → c → a") in found
    assert ("monitors.2.depends_on.1", "no monitor named 'zz' (known: a, b, c)") in found
    assert ("monitors.2.depends_on.2", "a monitor cannot depend on itself") in found
    assert len(problems) == 3


def test_a_chain_without_a_cycle_passes(configs: ConfigFiles) -> None:
    config = configs.config(
        "version: 1\nmonitors:\n"
        '  - {id: a, name: A, url: "http://127.0.0.1:1/", depends_on: [b, c]}\n'
        '  - {id: b, name: B, url: "http://127.0.0.1:1/", depends_on: [c]}\n'
        '  - {id: c, name: C, url: "http://127.0.0.1:1/"}\n'
    )
    assert [m.depends_on for m in config.monitors] == [["b", "c"], ["c"], []]


@pytest.mark.parametrize(
    ("key", "path", "words"),
    [
        ("severity: fatal", "monitors.0.severity", "'critical', 'error', 'warning' or 'info'"),
        ("slo: {target: 100%}", "monitors.0.slo.target", "less than 100"),
        ("slo: {target: 99%, window: 12h}", "monitors.0.slo.window", "from 1d to 400d"),
        ("flapping: {changes: 1, within: 30m}", "monitors.0.flapping.changes", "2"),
        ("flapping: {changes: 4, within: 10s}", "monitors.0.flapping.within", "from 1m to 1d"),
    ],
)
def test_a_wrong_value_is_reported_where_it_was_written(
    configs: ConfigFiles, key: str, path: str, words: str
) -> None:
    (problem,) = configs.problems(
        f'version: 1\nmonitors:\n  - {{id: web, name: Web, url: "http://127.0.0.1:1/", {key}}}\n'
    )
    assert problem.path == path
    assert words in problem.message


def test_an_slo_alert_policy_must_exist_and_depends_on_has_no_default(
    configs: ConfigFiles,
) -> None:
    problems = configs.problems(
        "version: 1\ndefaults: {depends_on: [web]}\n" + HOOK + "slo_alerts: {policy: pager}\n"
        'monitors:\n  - {id: web, name: Web, url: "http://127.0.0.1:1/"}\n'
    )
    found = {p.path: p.message for p in problems}
    assert "per monitor" in found["defaults.depends_on"]
    assert found["slo_alerts.policy"] == "no escalation policy named 'pager' (known: default)"
