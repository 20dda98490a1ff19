"""`upwatch status [--json]`: current monitor states and open incidents, from the database.

An operator's view: private monitors included, full causes shown. It only reads: a SQLite file
that does not exist is reported, never created (an empty one would hide a wrong DATABASE_URL).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import URL
from sqlalchemy.exc import SQLAlchemyError

from upwatch.config.loader import load_config
from upwatch.config.models import Config
from upwatch.engine.maintenance import MaintenanceSchedule
from upwatch.errors import UpwatchError, UsageError
from upwatch.runtime.database_errors import describe_database_error
from upwatch.runtime.settings import Settings
from upwatch.store import reads
from upwatch.store.database import create_engine, safe_url
from upwatch.store.migrate import is_migrated
from upwatch.web.views import iso, shown_state


def _config_or_none(path: str) -> Config | None:
    try:
        return load_config(path, no_env=True).config
    except UsageError:
        return None  # status reads the database; a broken config only hides maintenance


def require_sqlite_file(url: URL) -> None:
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return
    if database.startswith("file:") or Path(database).exists():
        return
    raise UpwatchError(
        f"no database at {Path(database).resolve()}: "
        "run `upwatch migrate` or start `upwatch run` first"
    )


async def _gather(settings: Settings, config: Config | None) -> dict[str, Any]:
    require_sqlite_file(settings.database_url)
    engine = create_engine(settings.database_url)
    now = datetime.now(UTC)
    try:
        if not await is_migrated(engine):
            where = safe_url(settings.database_url)
            raise UpwatchError(f"the database at {where} is not migrated: run `upwatch migrate`")
        async with engine.connect() as connection:
            rows = await reads.live_monitors(connection)
            incidents = await reads.incident_rows(connection, open_only=True, limit=1000)
    except (OSError, SQLAlchemyError) as exc:
        where = safe_url(settings.database_url)
        reason = describe_database_error(exc)
        raise UpwatchError(f"cannot read the database at {where}: {reason}") from None
    finally:
        await engine.dispose()
    schedule = MaintenanceSchedule.from_config(config) if config else MaintenanceSchedule([], UTC)
    return {
        "database": safe_url(settings.database_url),
        "generated_at": iso(now),
        "monitors": [_monitor(r, schedule, now) for r in sorted(rows, key=lambda r: r.id)],
        "incidents": [_incident(i, now) for i in incidents],
    }


def _monitor(row: Any, schedule: MaintenanceSchedule, now: datetime) -> dict[str, Any]:
    state = shown_state(row, schedule, now)
    return {
        "id": row.id,
        "name": row.name,
        "group": row.group_name,
        "state": str(state),
        "since": iso(row.since),
        "cause": row.last_cause if row.state in ("down", "degraded") else None,
        "last_checked_at": iso(row.last_result_at),
        "public": row.public,
    }


def _incident(row: Any, now: datetime) -> dict[str, Any]:
    return {
        "id": row.id,
        "monitor_id": row.monitor_id,
        "monitor_name": row.monitor_name,
        "title": row.title,
        "declared": bool(row.declared),
        "started_at": iso(row.started_at),
        "confirmed_at": iso(row.confirmed_at),
        "duration_seconds": int((now - row.started_at).total_seconds()),
        "cause": row.cause,
        "acknowledged_at": iso(row.acknowledged_at),
    }


def show_status(args: argparse.Namespace) -> int:
    data = asyncio.run(_gather(Settings.from_env(), _config_or_none(args.config)))
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    print(f"database: {data['database']}\n")
    print(f"{'MONITOR':<24} {'STATE':<12} {'SINCE':<21} CAUSE")
    for m in data["monitors"]:
        print(f"{m['id']:<24} {m['state'].upper():<12} {m['since'] or '-':<21} {m['cause'] or ''}")
    if not data["monitors"]:
        print("(no monitors yet: start `upwatch run` once)")
    print(f"\n{len(data['incidents'])} open incident(s)")
    for i in data["incidents"]:
        minutes = i["duration_seconds"] // 60
        ack = ", acknowledged" if i["acknowledged_at"] else ""
        what = f"declared: {i['title']}" if i["declared"] else f"{i['monitor_id']}: {i['cause']}"
        print(f"  #{i['id']} {what} ({minutes}m{ack})")
    return 0
