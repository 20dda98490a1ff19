"""`upwatch check` and `upwatch schema` as a user and an image build run them."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.config_helpers import Reported, position_of
from upwatch.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "monitors.yaml"
SCHEMA = ROOT / "docs" / "monitors.schema.json"
REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?\}")
# Valid values for the example's variables, as a deployment would set them.
EXAMPLE_ENV = {
    "SLACK_WEBHOOK_URL": "https://hooks.slack.example.test/services/T000/B000/XXXX",
    "SMTP_URL": "smtp://upwatch:mail-password@smtp.example.test:587",
    "PAGER_WEBHOOK_URL": "https://pager.example.test/upwatch",
    "WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "SEARCH_API_PASSWORD": "pa#ss: word",
    "BACKUP_PING_TOKEN": "a-long-random-ping-token",
}


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return [value] if isinstance(value, str) else []


def _references() -> list[tuple[str, bool]]:
    """Each `${NAME}` in the example's values (not its comments), in order, and whether it has a
    default."""
    values = _strings(yaml.safe_load(EXAMPLE.read_text()))
    return [(m[1], m[2] is not None) for v in values for m in REFERENCE.finditer(v)]


def _expected_ok_line() -> str:
    written: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text())
    return (
        f"ok: {len(written['monitors'])} monitors, {len(written.get('channels') or {})} channels, "
        f"{len(written.get('escalations') or {})} escalation policies"
    )


@pytest.fixture
def bare_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No variable of the example, and no UPWATCH_CONFIG, leaks in from the machine running us."""
    for name, _ in _references():
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("UPWATCH_CONFIG", raising=False)
    return monkeypatch


def _placeholder_line(*, warning: bool) -> str:
    """Where the example writes its placeholder heartbeat token, as `check` reports it."""
    line, col = position_of(EXAMPLE.read_text(), '"${BACKUP_PING_TOKEN')
    kind = "warning: " if warning else ""
    message = (
        "is the placeholder from the example config, which anyone can read: set your own token "
        "(use a random one such as the output of `openssl rand -hex 24`); `upwatch run` refuses "
        "the placeholder"
    )
    return f"{EXAMPLE}:{line}:{col}: monitors.6.token: {kind}{message}"


def test_the_example_passes_check_without_secrets_warning_of_its_placeholder_token(
    bare_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--no-env", "-c", str(EXAMPLE)]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == [_expected_ok_line()]
    assert err.splitlines() == [_placeholder_line(warning=True)]


def test_the_example_without_its_secrets_names_each_unset_variable(
    bare_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    required = [name for name, has_default in _references() if not has_default]
    assert required, "the example should show secrets coming from the environment"
    assert main(["check", "-c", str(EXAMPLE)]) == 2
    out, err = capsys.readouterr()
    *lines, summary, hint = err.splitlines()
    assert out == ""
    assert hint.startswith("hint: set them, or run `upwatch check --no-env` to check everything")
    # With the real environment, the placeholder token (BACKUP_PING_TOKEN unset) is an error too.
    assert _placeholder_line(warning=False) in lines
    lines.remove(_placeholder_line(warning=False))
    count = len(required) + 1
    assert summary == f"{EXAMPLE}: {count} problems found"
    named = [re.search(r"environment variable (\w+) is not set", line) for line in lines]
    assert [m[1] if m else line for m, line in zip(named, lines, strict=True)] == required
    for line in lines:
        Reported.parse(line)


def test_the_example_passes_with_its_secrets_set(
    bare_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = {name for name, _ in _references()} - EXAMPLE_ENV.keys()
    assert not missing, f"give the new example variables a valid value in EXAMPLE_ENV: {missing}"
    for name, value in EXAMPLE_ENV.items():
        bare_env.setenv(name, value)
    assert main(["check", "-c", str(EXAMPLE)]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == [_expected_ok_line()]
    assert err == ""
    for value in EXAMPLE_ENV.values():
        assert value not in out


def test_the_config_path_defaults_to_upwatch_config(
    bare_env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chosen = tmp_path / "elsewhere.yaml"
    chosen.write_text("version: 1\nmonitors: [{id: a, name: A, url: 'https://e.test/'}]\n")
    (tmp_path / "monitors.yaml").write_text("not: [valid\n")
    bare_env.chdir(tmp_path)
    bare_env.setenv("UPWATCH_CONFIG", str(chosen))
    assert main(["check"]) == 0
    assert capsys.readouterr().out == "ok: 1 monitors, 0 channels, 0 escalation policies\n"


def test_the_config_path_falls_back_to_monitors_yaml_in_the_working_directory(
    bare_env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "monitors.yaml").write_text("version: 1\nmonitors: []\n")
    bare_env.chdir(tmp_path)
    assert main(["check"]) == 0
    assert capsys.readouterr().out.startswith("ok: 0 monitors")


def test_c_wins_over_upwatch_config(
    bare_env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "given.yaml").write_text("version: 1\nmonitors: []\n")
    bare_env.setenv("UPWATCH_CONFIG", str(tmp_path / "absent.yaml"))
    assert main(["check", "-c", str(tmp_path / "given.yaml")]) == 0
    assert capsys.readouterr().out.startswith("ok: ")


@pytest.mark.parametrize("name", ["absent.yaml", "a-directory"])
def test_a_config_that_cannot_be_read_is_one_line_and_exit_2(
    bare_env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    (tmp_path / "a-directory").mkdir()
    path = tmp_path / name
    assert main(["check", "-c", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"upwatch: {path}: cannot read the config file")


def test_schema_prints_the_committed_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    printed = json.loads(capsys.readouterr().out)
    committed = json.loads(SCHEMA.read_text())
    assert printed == committed, "docs/monitors.schema.json is stale: upwatch schema > it"


def test_the_schema_describes_the_example_config() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    instance = json.loads(json.dumps(yaml.safe_load(EXAMPLE.read_text()), default=str))
    jsonschema.validate(instance, json.loads(SCHEMA.read_text()))


def test_the_installed_console_script_exits_2_on_a_broken_config(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "upwatch"
    path = tmp_path / "monitors.yaml"
    text = "version: 1\nmonitors:\n  - {id: web, name: Web, url: ftp://e.test/}\n"
    path.write_text(text)
    line, col = position_of(text, "ftp://")
    done = subprocess.run(
        [str(script), "check", "-c", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        f"{path}:{line}:{col}: monitors.0.url: must be an http:// or https:// URL",
        f"{path}: 1 problem found",
    ]


def test_a_config_without_unset_variables_gets_no_no_env_hint(
    bare_env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "monitors.yaml"
    path.write_text("version: 1\nmonitors:\n  - {id: web, name: Web, url: ftp://e.test/}\n")
    assert main(["check", "-c", str(path)]) == 2
    assert "--no-env" not in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "at", "words"),
    [
        (
            "version: 1\nmonitors:\n\t- {id: web, name: Web, url: 'https://e.test/'}\n",
            "\t-",
            "a tab character: YAML indents with spaces",
        ),
        (
            "version: 1\ndefaults:\n    interval: 30s\n  timeout: 5s\nmonitors: []\n",
            "timeout",
            "this line is indented differently from the lines above it",
        ),
        (
            "version: 1\nmonitors:\n  - id: web\n    name: Web: the site\n",
            ": the site",
            "a mapping value is not allowed here (a ':' inside an unquoted value? quote it",
        ),
        (
            "version: 1\nstatus_page: {title: 'Acme\nmonitors: []\n",
            "'Acme",
            "this quote is never closed",
        ),
    ],
    ids=["tab", "indent", "colon-in-value", "unclosed-quote"],
)
def test_a_yaml_syntax_error_is_told_in_words_at_its_position(
    bare_env: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    text: str,
    at: str,
    words: str,
) -> None:
    path = tmp_path / "monitors.yaml"
    path.write_text(text)
    line, col = position_of(text, at)
    assert main(["check", "-c", str(path)]) == 2
    first, summary = capsys.readouterr().err.splitlines()
    assert first.startswith(f"{path}:{line}:{col}: not valid YAML: {words}")
    assert "<block" not in first
    assert summary == f"{path}: 1 problem found"


def test_the_example_self_api_monitor_does_not_repeat_every_outage() -> None:
    # The API's overall `status` turns away from "operational" when any monitor is down: a monitor
    # asserting it would open a second incident for every outage of the others.
    written: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text())
    own_api = [m for m in written["monitors"] if str(m.get("url", "")).endswith("/api/v1/status")]
    assert own_api
    for monitor in own_api:
        assert "status" not in (monitor.get("expect") or {}).get("json", {})
