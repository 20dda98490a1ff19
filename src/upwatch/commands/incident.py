"""`upwatch incident declare TITLE --body ...` and `upwatch incident update ID --status ...
BODY`: written updates from a shell, against the database like `upwatch status`.

They go through the same store functions as `POST /api/v1/incidents` and `POST
/api/v1/incidents/{id}/updates` (`store.incident_effects`): the update and its
`incident.updated` messages commit in one transaction, and the running daemon's outbox worker
sends them. The config is read (without `${VAR}`s: nothing is sent from here) for
`status_page.updates_policy`. A running status page shows the update within seconds (its cache).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import UTC, datetime

from sqlalchemy.exc import SQLAlchemyError

from upwatch.commands.status import require_sqlite_file
from upwatch.config.loader import load_config
from upwatch.config.models import Config
from upwatch.errors import UpwatchError, UsageError
from upwatch.runtime.database_errors import describe_database_error
from upwatch.runtime.settings import Settings
from upwatch.store import incident_effects, reads
from upwatch.store.database import create_engine, safe_url
from upwatch.store.migrate import is_migrated
from upwatch.web.views import iso

MAX_TITLE, MAX_BODY = 200, 10_000


def _text(name: str, value: str, most: int) -> str:
    value = value.strip()
    if not value or len(value) > most:
        raise UsageError(f"{name} must be 1 to {most} characters")
    return value


async def _write(settings: Settings, config: Config, args: argparse.Namespace) -> int:
    require_sqlite_file(settings.database_url)
    engine = create_engine(settings.database_url)
    where = safe_url(settings.database_url)
    now = datetime.now(UTC)
    try:
        if not await is_migrated(engine):
            raise UpwatchError(f"the database at {where} is not migrated: run `upwatch migrate`")
        async with engine.begin() as connection:
            if args.action == "declare":
                done = await incident_effects.declare(
                    connection,
                    config,
                    title=_text("TITLE", args.title, MAX_TITLE),
                    body=_text("--body", args.body, MAX_BODY),
                    status=args.status,
                    monitor_ids=args.monitor,
                    severity=args.severity,
                    now=now,
                )
            else:
                done = await incident_effects.add_update(
                    connection,
                    config,
                    args.incident_id,
                    status=args.status,
                    body=_text("BODY", args.body, MAX_BODY),
                    now=now,
                )
        async with engine.connect() as connection:
            record = await reads.incident_record(connection, done.incident_id)
    except incident_effects.NoSuchIncident:
        raise UpwatchError(f"no incident #{args.incident_id}") from None
    except incident_effects.UnknownMonitors as exc:
        raise UsageError(str(exc)) from None
    except (OSError, SQLAlchemyError) as exc:
        reason = describe_database_error(exc)
        raise UpwatchError(f"cannot write to the database at {where}: {reason}") from None
    finally:
        await engine.dispose()
    assert record is not None
    _print(record, done, json_out=args.json)
    return 0


def _print(record: reads.IncidentRecord, done: incident_effects.Written, *, json_out: bool) -> None:
    if json_out:
        data = {
            "id": record.id,
            "title": record.title,
            "declared": bool(record.declared),
            "monitor_id": record.monitor_id,
            "monitors": [m for m, _ in record.monitors],
            "resolved_at": iso(record.resolved_at),
            "updates": [
                {"at": iso(u.at), "status": u.status, "body": u.body} for u in record.updates
            ],
            "told": list(done.told),
        }
        print(json.dumps(data, indent=2))
        return
    state = "resolved" if record.resolved_at is not None else "open"
    print(f"incident #{record.id} {record.title} ({state}): {done.update.status}")
    told = ", ".join(done.told) or "no channel (no channel told, no status_page.updates_policy)"
    print(f"sent to: {told}")


def run_incident(args: argparse.Namespace) -> int:
    config = load_config(args.config, no_env=True).config
    return asyncio.run(_write(Settings.from_env(), config, args))
