"""The start-up warning on Railway when SQLite is not on a volume (docs/deploy-railway.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
from structlog.testing import capture_logs

from upwatch.runtime.railway import (
    sqlite_file_lost_on_redeploy,
    warn_if_history_is_lost_on_redeploy,
)
from upwatch.runtime.settings import Settings
from upwatch.store.database import database_url

APP = Path("/app")


@pytest.mark.parametrize(
    ("url", "volume", "lost"),
    [
        ("sqlite:////data/upwatch.db", None, "/data/upwatch.db"),
        ("sqlite:////data/upwatch.db", "/data", None),
        ("sqlite:////data/upwatch.db", "/data/", None),
        ("sqlite:////data/sub/upwatch.db", "/data", None),
        ("sqlite:////data/upwatch.db", "/mnt/volume", "/data/upwatch.db"),
        ("sqlite:////database/upwatch.db", "/data", "/database/upwatch.db"),
        ("sqlite:////data/../tmp/upwatch.db", "/data", "/tmp/upwatch.db"),
        ("sqlite:///upwatch.db", None, "/app/upwatch.db"),
        ("sqlite:///upwatch.db", "/app", None),
        ("sqlite://", "/data", ":memory:"),
        ("sqlite:///:memory:", "/data", ":memory:"),
        ("postgresql://u:p@db.railway.internal:5432/railway", None, None),
        ("postgres://u:p@db.railway.internal:5432/railway", None, None),
    ],
)
def test_a_sqlite_file_is_lost_on_redeploy_unless_it_is_under_the_volume(
    url: str, volume: str | None, lost: str | None
) -> None:
    parsed = database_url({"DATABASE_URL": url})
    assert sqlite_file_lost_on_redeploy(parsed, volume, APP) == lost


def settings(**env: str) -> Settings:
    return Settings.from_env({"DATABASE_URL": "sqlite:////data/upwatch.db", **env})


def test_on_railway_without_a_volume_the_warning_says_what_is_lost_and_both_fixes() -> None:
    with capture_logs() as logs:
        warned = warn_if_history_is_lost_on_redeploy(
            settings(RAILWAY_ENVIRONMENT="production"), APP
        )
    assert warned
    (entry,) = logs
    assert entry["log_level"] == "warning"
    assert "will not survive a redeploy" in entry["event"]
    assert entry["database"] == "/data/upwatch.db"
    assert entry["volume"] == "none attached"
    assert "attach a volume at /data" in entry["fix"]
    assert "DATABASE_URL=${{Postgres.DATABASE_URL}}" in entry["fix"]


def test_a_volume_mounted_elsewhere_gets_the_database_url_that_would_put_sqlite_on_it() -> None:
    env = {"RAILWAY_ENVIRONMENT": "production", "RAILWAY_VOLUME_MOUNT_PATH": "/mnt/upwatch/"}
    with capture_logs() as logs:
        assert warn_if_history_is_lost_on_redeploy(settings(**env), APP)
    assert "DATABASE_URL=sqlite:////mnt/upwatch/upwatch.db" in logs[0]["fix"]
    assert logs[0]["volume"] == "/mnt/upwatch/"


@pytest.mark.parametrize(
    "env",
    [
        pytest.param({}, id="not on Railway"),
        pytest.param(
            {"RAILWAY_ENVIRONMENT": "production", "RAILWAY_VOLUME_MOUNT_PATH": "/data"},
            id="on Railway with the volume at /data",
        ),
        pytest.param(
            {"RAILWAY_REPLICA_ID": "r1", "DATABASE_URL": "postgresql://u:p@h/db"},
            id="on Railway with PostgreSQL",
        ),
    ],
)
def test_nothing_is_logged_when_history_survives_or_upwatch_is_not_on_railway(
    env: dict[str, str],
) -> None:
    with capture_logs() as logs:
        assert not warn_if_history_is_lost_on_redeploy(settings(**env), APP)
    assert logs == []


def test_any_railway_variable_means_railway_and_the_volume_path_is_read() -> None:
    on = settings(RAILWAY_SERVICE_NAME="upwatch", RAILWAY_VOLUME_MOUNT_PATH="/data")
    assert on.railway
    assert on.volume_mount_path == "/data"
    assert not settings().railway
    assert settings().volume_mount_path is None
