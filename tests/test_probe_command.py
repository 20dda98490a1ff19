"""`upwatch probe ID_OR_URL`: what a person sees and the exit code scripts rely on."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import trustme

from tests.config_helpers import position_of
from tests.probe_servers import HttpServer, LoopThread, TlsServers, never_answer, respond
from upwatch.cli import main


def write_config(tmp_path: Path, *monitors: str) -> str:
    path = tmp_path / "monitors.yaml"
    path.write_text("version: 1\nmonitors:\n" + "".join(f"  - {m}\n" for m in monitors))
    return str(path)


def upwatch_executable() -> str:
    sibling = Path(sys.executable).with_name("upwatch")
    found = str(sibling) if sibling.exists() else shutil.which("upwatch")
    assert found, "the upwatch console script is not installed"
    return found


def test_an_up_url_prints_its_status_and_each_phase_and_exits_0(
    http_server: HttpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["probe", http_server.url("/ok")])

    lines = capsys.readouterr().out.splitlines()
    assert code == 0
    assert lines[0] == f"UP        GET {http_server.url('/ok')}"
    assert lines[1] == "status    HTTP 200"
    assert [line.split()[0] for line in lines[2:]] == ["connect", "ttfb", "transfer", "total"]
    assert all(line.endswith(" ms") for line in lines[2:])


def test_a_down_url_prints_the_cause_and_exits_1(
    http_server: HttpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["probe", http_server.url("/status/503")])

    out = capsys.readouterr().out
    assert code == 1
    assert out.startswith("DOWN ")
    assert "\ncause     expected status 2xx, got 503\n" in out
    assert "\nstatus    HTTP 503\n" in out


def test_a_monitor_id_uses_its_definition_and_degraded_exits_3(
    http_server: HttpServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(
        tmp_path,
        f"{{id: api, name: Public API, url: '{http_server.url('/slow')}', "
        "expect: {response_time_under: 100ms, body_contains: ok}}",
    )

    code = main(["probe", "api", "-c", config])

    out = capsys.readouterr().out
    assert code == 3
    assert out.startswith("DEGRADED ")
    assert "\nmonitor   api (Public API)\n" in out
    assert "\ncause     response took " in out


def test_a_certificate_expiry_is_shown(
    tls_server: TlsServers, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = tls_server("valid").url("/ok")
    config = write_config(tmp_path, f"{{id: site, name: Site, url: '{url}', verify_tls: false}}")

    code = main(["probe", "site", "-c", config])

    out = capsys.readouterr().out
    assert code == 0
    expected = tls_server.expires_at.strftime("%Y-%m-%d %H:%M UTC")
    assert f"\ncert      expires {expected} (in " in out
    assert "\ntls " in out


def test_tcp_and_dns_monitors_are_probed_by_id(
    http_server: HttpServer, dns_port: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(
        tmp_path,
        f"{{id: db, name: DB, type: tcp, host: 127.0.0.1, port: {http_server.port}}}",
        "{id: apex, name: Apex, type: dns, hostname: acme.test, nameserver: 127.0.0.1, "
        f"port: {dns_port}, expect: {{records: [203.0.113.99]}}}}",
    )

    assert main(["probe", "db", "-c", config]) == 0
    assert capsys.readouterr().out.startswith(f"UP        tcp 127.0.0.1:{http_server.port}\n")
    assert main(["probe", "apex", "-c", config]) == 1
    assert "\ncause     expected record 203.0.113.99, got 203.0.113.10" in capsys.readouterr().out


def test_secrets_from_the_environment_are_not_printed(
    http_server: HttpServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("API_TOKEN", "tok-3f9a7c")
    url = http_server.url("/status/503") + "?token=${API_TOKEN}"
    config = write_config(tmp_path, f"{{id: api, name: API, url: '{url}'}}")

    assert main(["probe", "api", "-c", config]) == 1

    out = capsys.readouterr().out
    assert "tok-3f9a7c" not in out
    assert "?token=********" in out


def test_url_credentials_are_not_printed(
    http_server: HttpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"http://ops:pa55word@127.0.0.1:{http_server.port}/ok"

    assert main(["probe", url]) == 0

    out = capsys.readouterr().out
    assert "pa55word" not in out
    assert f"GET http://***@127.0.0.1:{http_server.port}/ok" in out


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("nope", "no monitor with id 'nope' in {config} (ids: api, backup)"),
        ("nope.example", "to probe a URL, write it with http:// or https://"),
        ("backup", "'backup' is a heartbeat monitor: it is push-based"),
    ],
)
def test_an_id_that_cannot_be_probed_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], target: str, message: str
) -> None:
    config = write_config(
        tmp_path,
        "{id: api, name: API, url: 'http://127.0.0.1:9/'}",
        "{id: backup, name: Backup, type: heartbeat, token: abcdefgh12345678, interval: 1h}",
    )

    code = main(["probe", target, "-c", config])

    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert message.format(config=config) in captured.err
    assert len(captured.err.splitlines()) == 1


def test_a_hung_resolver_does_not_hold_the_command_past_its_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    release = threading.Event()

    def hanging_getaddrinfo(*args: object, **kwargs: object) -> object:
        release.wait(10)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", hanging_getaddrinfo)
    config = write_config(
        tmp_path, "{id: api, name: API, url: 'http://hangs.example/', timeout: 1s}"
    )

    started = time.monotonic()
    try:
        code = main(["probe", "api", "-c", config])
    finally:
        release.set()

    assert code == 1
    assert "\ncause     timed out after 1s resolving hangs.example\n" in capsys.readouterr().out
    assert time.monotonic() - started < 1.5


@pytest.mark.slow
def test_the_command_returns_soon_after_the_deadline_of_a_silent_server(
    http_server: HttpServer, tmp_path: Path
) -> None:
    http_server.routes["/never/cli"] = never_answer
    url = http_server.url("/never/cli")
    config = write_config(tmp_path, f"{{id: stuck, name: Stuck, url: '{url}', timeout: 1s}}")

    started = time.monotonic()
    done = subprocess.run(
        [upwatch_executable(), "probe", "stuck", "-c", config],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    finished = time.monotonic()

    assert done.returncode == 1, done.stderr
    assert "\ncause     timed out after 1s waiting for response headers\n" in done.stdout
    # From the moment the request reached the server to the command's exit; the interpreter's
    # own start (~0.8 s of imports, several seconds on a loaded CI machine) comes before and is
    # bounded separately, loosely: only a hang fails it.
    asked_at = next(r.received_at for r in http_server.requests if r.path == "/never/cli")
    assert finished - asked_at < 1.5
    assert finished - started < 8


# ---- only the monitor's own ${VAR}s are needed, others may be unset ---------------------------

UNSET = ("SLACK_WEBHOOK_URL", "OTHER_URL", "OTHER_PASSWORD", "API_URL", "API_TOKEN", "METHOD")


def config_with_variables(tmp_path: Path, api: str, *, defaults: str = "", other: str = "") -> str:
    other = other or (
        "{id: other, name: Other, url: '${OTHER_URL}/health', escalation: team, "
        "basic_auth: {username: ops, password: '${OTHER_PASSWORD}'}}"
    )
    text = f"""\
version: 1
defaults: {{{defaults}}}
channels:
  slack: {{type: slack, webhook_url: '${{SLACK_WEBHOOK_URL}}'}}
escalations:
  team: [{{after: 0s, notify: [slack]}}]
monitors:
  - {api}
  - {other}
"""
    path = tmp_path / "monitors.yaml"
    path.write_text(text)
    return str(path)


@pytest.fixture
def unset_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in UNSET:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("unset_variables")
def test_a_monitor_is_probed_without_the_variables_of_other_monitors_and_channels(
    http_server: HttpServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api = f"{{id: api, name: API, url: '{http_server.url('/ok')}', escalation: team}}"
    config = config_with_variables(tmp_path, api)

    assert main(["probe", "api", "-c", config]) == 0
    assert capsys.readouterr().out.startswith(f"UP        GET {http_server.url('/ok')}\n")
    # `check` (like `run`) still wants every variable the file names.
    assert main(["check", "-c", config]) == 2
    err = capsys.readouterr().err
    assert all(name in err for name in ("SLACK_WEBHOOK_URL", "OTHER_URL", "OTHER_PASSWORD"))


@pytest.mark.usefixtures("unset_variables")
def test_a_variable_of_the_monitor_itself_is_still_required_and_named_where_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_with_variables(tmp_path, "{id: api, name: API, url: '${API_URL}/health'}")

    assert main(["probe", "api", "-c", config]) == 2

    captured = capsys.readouterr()
    line, col = position_of(Path(config).read_text(), "'${API_URL}")
    assert captured.out == ""
    assert captured.err.splitlines() == [
        f"{config}:{line}:{col}: monitors.0.url: "
        "environment variable API_URL is not set (and has no :-default)",
        f"{config}: 1 problem found",
    ]


@pytest.mark.usefixtures("unset_variables")
def test_a_variable_the_monitor_inherits_from_defaults_is_required_at_the_defaults_line(
    http_server: HttpServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api = f"{{id: api, name: API, url: '{http_server.url('/ok')}'}}"
    db = f"{{id: db, name: DB, type: tcp, host: 127.0.0.1, port: {http_server.port}}}"
    defaults = "headers: {Authorization: 'Bearer ${API_TOKEN}'}"
    config = config_with_variables(tmp_path, api, defaults=defaults, other=db)

    assert main(["probe", "api", "-c", config]) == 2
    err = capsys.readouterr().err
    line, col = position_of(Path(config).read_text(), "'Bearer")
    assert err.startswith(
        f"{config}:{line}:{col}: defaults.headers.Authorization: environment variable API_TOKEN"
    )
    # A tcp monitor sends no headers, so it does not inherit them, nor need their variable.
    assert main(["probe", "db", "-c", config]) == 0


@pytest.mark.usefixtures("unset_variables")
def test_a_variable_elsewhere_that_no_stand_in_can_fill_is_required_and_named(
    http_server: HttpServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A method must be one of a few words: with it unknown, the file cannot be validated at all.
    api = f"{{id: api, name: API, url: '{http_server.url('/ok')}'}}"
    other = "{id: other, name: Other, url: 'https://e.test/', method: '${METHOD}'}"
    config = config_with_variables(tmp_path, api, other=other)

    assert main(["probe", "api", "-c", config]) == 2

    lines = capsys.readouterr().err.splitlines()
    assert [line.split(": ", 2)[1:] for line in lines[:-1]] == [
        ["monitors.1.method", "environment variable METHOD is not set (and has no :-default)"]
    ]


def test_a_fresh_process_times_only_the_answer_not_its_own_setup(
    server_thread: LoopThread, test_ca: trustme.CA, tmp_path: Path
) -> None:
    # A 63 ms answer within a 150 ms limit: loading CA bundles and starting a session (tens of
    # milliseconds in a fresh process) must not push it over and make it read DEGRADED.
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    test_ca.issue_cert("127.0.0.1").configure_cert(context)
    server = HttpServer(server_thread, {"/answer": respond(200, b"ok", delay=0.063)}, context)
    test_ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    config = write_config(
        tmp_path,
        f"{{id: api, name: API, url: '{server.url('/answer')}', tls: {{ca_file: ca.pem}}, "
        "expect: {response_time_under: 150ms}}",
    )

    done = subprocess.run(
        [upwatch_executable(), "probe", "api", "-c", config],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("UP ")
