"""Heartbeat tokens: a short one is a warning, the example's placeholder an error at `run`.

Warnings print as `FILE:LINE:COL: path: warning: message` on stderr and never change the exit
code; the placeholder is only a warning under `check --no-env`, so the image build passes.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.config_helpers import ConfigFiles, position_of
from upwatch.cli import main
from upwatch.config.tokens import EXAMPLE_PLACEHOLDER
from upwatch.runtime import daemon

EXAMPLE = Path(__file__).resolve().parent.parent / "monitors.yaml"
SHORT = "only-15-chars-x"
LONG_ENOUGH = "sixteen-chars-ok"
SHORT_WARNING = (
    "is shorter than 16 characters and could be guessed; use a random one such as the output of "
    "`openssl rand -hex 24`"
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "monitors.yaml"
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def daemon_started(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """`upwatch run` up to the daemon: records that it would have started, and returns 0."""
    started: list[str] = []

    async def run_daemon(loaded: object, settings: object) -> int:
        started.append("run")
        return 0

    monkeypatch.setattr(daemon, "run_daemon", run_daemon)
    monkeypatch.setenv("DATABASE_URL", "sqlite:///unused.db")
    monkeypatch.setenv("UPWATCH_WORKERS", "1")  # this process runs the daemon: no workers to spawn
    return started


def test_the_shipped_example_uses_the_placeholder_upwatch_knows() -> None:
    assert f":-{EXAMPLE_PLACEHOLDER}}}" in EXAMPLE.read_text()


@pytest.mark.parametrize("args", [["check"], ["check", "--no-env"], ["run"]])
def test_a_token_under_16_characters_is_a_warning_in_the_located_format_and_exit_stays_0(
    args: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    daemon_started: list[str],
) -> None:
    text = f"""\
        version: 1
        monitors:
          - {{id: backup, name: Backup, type: heartbeat, token: {SHORT}}}
          - {{id: sync, name: Sync, type: heartbeat, token: {LONG_ENOUGH}}}
        """
    path = write(tmp_path, text)

    assert main([*args, "-c", str(path)]) == 0

    line, col = position_of(textwrap.dedent(text), SHORT)
    assert capsys.readouterr().err.splitlines() == [
        f"{path}:{line}:{col}: monitors.0.token: warning: {SHORT_WARNING}"
    ]
    assert daemon_started == (["run"] if args == ["run"] else [])


def test_the_placeholder_token_is_an_error_at_run_and_the_daemon_does_not_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], daemon_started: list[str]
) -> None:
    text = f"""\
        version: 1
        monitors:
          - {{id: backup, name: Backup, type: heartbeat,
             token: "${{BACKUP_PING_TOKEN:-{EXAMPLE_PLACEHOLDER}}}"}}
        """
    path = write(tmp_path, text)

    assert main(["run", "-c", str(path)]) == 2

    line, col = position_of(textwrap.dedent(text), '"${BACKUP')
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(
        f"{path}:{line}:{col}: monitors.0.token: is the placeholder from the example config"
    )
    assert err[1:] == [f"{path}: 1 problem found"]
    assert daemon_started == []


def test_the_placeholder_is_only_a_warning_under_check_no_env(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(
        tmp_path,
        f"""\
        version: 1
        monitors:
          - {{id: backup, name: Backup, type: heartbeat, token: {EXAMPLE_PLACEHOLDER}}}
        """,
    )

    assert main(["check", "--no-env", "-c", str(path)]) == 0

    out, err = capsys.readouterr()
    assert out == "ok: 1 monitors, 0 channels, 0 escalation policies\n"
    [warning] = err.splitlines()
    assert ": monitors.0.token: warning: is the placeholder from the example config" in warning


def test_a_token_from_an_unset_variable_under_no_env_is_not_judged(tmp_path: Path) -> None:
    loaded = ConfigFiles(tmp_path).load(
        """\
        version: 1
        monitors:
          - {id: backup, name: Backup, type: heartbeat, token: "${BACKUP_PING_TOKEN}"}
        """,
        no_env=True,
    )
    assert loaded.warnings == ()


def test_a_token_set_from_the_environment_is_judged_and_never_printed(tmp_path: Path) -> None:
    secret = "tiny-secret"
    loaded = ConfigFiles(tmp_path).load(
        """\
        version: 1
        monitors:
          - {id: backup, name: Backup, type: heartbeat, token: "${BACKUP_PING_TOKEN}"}
        """,
        {"BACKUP_PING_TOKEN": secret},
    )
    [warning] = loaded.warnings
    assert warning.endswith(f"monitors.0.token: warning: {SHORT_WARNING}")
    assert secret not in warning


def test_a_token_longer_than_256_characters_is_an_error(tmp_path: Path) -> None:
    [problem] = ConfigFiles(tmp_path).problems(
        f"""\
        version: 1
        monitors:
          - {{id: backup, name: Backup, type: heartbeat, token: {"t" * 257}}}
        """
    )
    assert (problem.path, problem.message) == ("monitors.0.token", "must be at most 256 long")
