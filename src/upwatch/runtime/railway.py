"""The start-up warning on Railway: SQLite on the container's own disk is lost.

docs/deploy-railway.md shows the warning and its fixes (a volume, or a Postgres database).

A Railway deployment starts from a fresh copy of the image, so a SQLite file survives only on a
volume (Railway sets RAILWAY_VOLUME_MOUNT_PATH where it is attached). PostgreSQL needs no warning.
"""

from __future__ import annotations

from pathlib import Path

import structlog
from sqlalchemy.engine import URL

from upwatch.runtime.settings import Settings

log = structlog.get_logger("upwatch")
POSTGRES_FIX = "add a Postgres database and set DATABASE_URL=${{Postgres.DATABASE_URL}}"


def sqlite_file_lost_on_redeploy(url: URL, volume: str | None, cwd: Path) -> str | None:
    """The SQLite database a redeploy would lose, or None when the data outlives the container."""
    if url.get_backend_name() != "sqlite":
        return None
    if not url.database or url.database == ":memory:":
        return ":memory:"
    path = (cwd / url.database).resolve()  # an absolute database path ignores cwd
    if volume and path.is_relative_to(Path(volume).resolve()):
        return None
    return str(path)


def warn_if_history_is_lost_on_redeploy(settings: Settings, cwd: Path | None = None) -> bool:
    """Log the warning (call once, at start) when on Railway with SQLite off a volume."""
    if not settings.railway:
        return False
    volume = settings.volume_mount_path
    lost = sqlite_file_lost_on_redeploy(settings.database_url, volume, cwd or Path.cwd())
    if lost is None:
        return False
    if volume:
        fix = f"set DATABASE_URL=sqlite:///{volume.rstrip('/')}/upwatch.db, or {POSTGRES_FIX}"
    else:
        fix = f"attach a volume at /data (and set RAILWAY_RUN_UID=0), or {POSTGRES_FIX}"
    log.warning(
        "history will not survive a redeploy: the SQLite database is not on a Railway volume",
        database=lost,
        volume=volume or "none attached",
        fix=fix,
        guide="docs/deploy-railway.md",
    )
    return True
