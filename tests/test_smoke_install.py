"""The image's steps without a Docker engine: build the wheel, install it, check, run, stop.

The same commands as the Dockerfile: `pip wheel --no-deps`, a venv made `--without-pip` and filled
by pip's `--python` (with the `apprise` extra), `upwatch check --no-env` on the shipped example,
then `upwatch run` on a fresh SQLite under a `/data`-like folder, from a working directory outside
the checkout, so the Alembic scripts can only come from the wheel's `upwatch/_migrations`.
Dependencies are resolved by pip from the configured indexes, as in the image, so a dependency
missing from pyproject.toml fails here.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
INSTALL_DEADLINE = 300.0  # seconds; a warm pip cache takes ~10
READY_DEADLINE = 60.0
STOP_DEADLINE = 30.0
# Environment that would change what upwatch does (the example's channel secrets included: `check`
# must pass without them); each test sets what it needs.
_INHERITED_OUT = (
    *("DATABASE_URL", "PORT", "HOST", "LOG_", "UPWATCH_", "RAILWAY_", "VIRTUAL_ENV", "PYTHONPATH"),
    *("SLACK_WEBHOOK_URL", "SMTP_URL", "PAGER_WEBHOOK_URL", "WEBHOOK_SECRET"),
)


@dataclass(frozen=True)
class Installed:
    wheel: Path
    upwatch: Path
    site_packages: Path
    seconds: float


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """upwatch built and installed as the Dockerfile's build stage does it (timed)."""
    work = tmp_path_factory.mktemp("image")
    started = time.monotonic()
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    _run([*pip, "wheel", "--no-deps", "--wheel-dir", str(work / "dist"), str(ROOT)])
    (wheel,) = (work / "dist").glob("upwatch-*.whl")
    venv = work / "opt-venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    _run([*pip, "--python", str(venv / "bin" / "python"), "install", f"{wheel}[apprise]"])
    seconds = time.monotonic() - started
    (site_packages,) = (venv / "lib").glob("python3.*/site-packages")
    return Installed(wheel, venv / "bin" / "upwatch", site_packages, seconds)


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    """The image's /app: the example monitors.yaml, outside the checkout."""
    app = tmp_path / "app"
    app.mkdir()
    shutil.copy(ROOT / "monitors.yaml", app / "monitors.yaml")
    assert not app.resolve().is_relative_to(ROOT)
    return app


def test_install_takes_under_two_minutes(installed: Installed) -> None:
    assert installed.seconds < 120, f"building and installing took {installed.seconds:.0f}s"


def test_the_wheel_ships_the_migrations_and_templates_next_to_the_code(
    installed: Installed,
) -> None:
    names = zipfile.ZipFile(installed.wheel).namelist()
    assert "upwatch/_migrations/env.py" in names
    assert any(n.startswith("upwatch/_migrations/versions/0001") for n in names)
    assert any(n.startswith("upwatch/_templates/") for n in names)
    assert (installed.site_packages / "upwatch" / "_migrations" / "env.py").is_file()


def test_the_image_has_the_apprise_extra_so_the_apprise_channel_works(
    installed: Installed,
) -> None:
    assert (installed.site_packages / "apprise" / "__init__.py").is_file()


def test_check_no_env_passes_on_the_example_as_in_the_image_build(
    installed: Installed, app_dir: Path
) -> None:
    done = subprocess.run(
        [str(installed.upwatch), "check", "--no-env"],
        cwd=app_dir,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok: "), done.stdout


def test_check_without_no_env_names_the_unset_secret(installed: Installed, app_dir: Path) -> None:
    done = subprocess.run(
        [str(installed.upwatch), "check"],
        cwd=app_dir,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "SLACK_WEBHOOK_URL" in done.stderr


def test_run_migrates_a_fresh_sqlite_from_the_wheel_turns_healthy_and_stops_on_sigterm(
    installed: Installed, tmp_path: Path
) -> None:
    app, data = tmp_path / "app", tmp_path / "data"
    app.mkdir()
    data.mkdir()
    port = _free_port()
    (app / "monitors.yaml").write_text(_loopback_config(port))
    env = _clean_env(
        DATABASE_URL=f"sqlite:///{data / 'upwatch.db'}",
        PORT=str(port),
        HOST="127.0.0.1",
        LOG_FORMAT="json",
        RAILWAY_ENVIRONMENT="production",  # on Railway, without a volume: warned once
    )
    with _daemon(installed.upwatch, app, env, tmp_path / "stdout.log") as process:
        status = _wait_for_healthz(port, process)
        assert status == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=STOP_DEADLINE) == 0
    assert (data / "upwatch.db").is_file()
    events = [json.loads(line) for line in (tmp_path / "stdout.log").read_text().splitlines()]
    warnings = [e for e in events if "will not survive a redeploy" in e.get("event", "")]
    assert len(warnings) == 1, events
    assert warnings[0]["level"] == "warning"


def _loopback_config(port: int) -> str:
    return textwrap.dedent(f"""\
        version: 1
        monitors:
          - id: self-health
            name: upwatch health
            url: http://127.0.0.1:{port}/healthz
            interval: 30s
        """)


@contextlib.contextmanager
def _daemon(
    upwatch: Path, cwd: Path, env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """`upwatch run` as a child; killed on the way out if the test failed before SIGTERM."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(upwatch), "run"], cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


def _wait_for_healthz(port: int, process: subprocess.Popen[bytes]) -> int:
    """Poll /healthz until 200; 503 (starting) and a refused connection mean "not yet"."""
    end = time.monotonic() + READY_DEADLINE
    last: object = None
    while time.monotonic() < end:
        if process.poll() is not None:
            pytest.fail(f"upwatch run exited with {process.returncode} before turning healthy")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                return int(answer.status)
        except urllib.error.HTTPError as exc:
            last = exc.code
        except OSError as exc:
            last = exc
        time.sleep(0.2)
    pytest.fail(f"/healthz not 200 within {READY_DEADLINE:.0f}s (last: {last!r})")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_INHERITED_OUT)}
    return {**env, **extra}


def _run(cmd: list[str]) -> None:
    done = subprocess.run(
        cmd, capture_output=True, text=True, timeout=INSTALL_DEADLINE, check=False
    )
    assert done.returncode == 0, f"{' '.join(cmd)}\n{done.stdout}\n{done.stderr}"
