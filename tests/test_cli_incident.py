"""`upwatch incident declare|update`: written updates from a shell, against the database, through
the same store functions as the API."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from upwatch.cli import main
from upwatch.commands import incident_args
from upwatch.store import incident_updates
from upwatch.store.database import create_engine, database_url
from upwatch.store.tables import INCIDENTS, MONITORS, OUTBOX

CONFIG = """\
version: 1
channels:
  team-slack: {type: slack, webhook_url: "https://hooks.slack.test/services/T1"}
escalations:
  default:
    - {after: 0s, notify: [team-slack]}
status_page: {updates_policy: default}
monitors:
  - {id: api, name: Public API, url: "https://api.acme.test/health"}
"""


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A migrated SQLite file with the config's monitors reconciled (`api`)."""
    path = tmp_path / "upwatch.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    (tmp_path / "monitors.yaml").write_text(CONFIG)
    monkeypatch.chdir(tmp_path)
    assert main(["migrate"]) == 0
    asyncio.run(_add_monitor(path))
    return path


async def _add_monitor(path: Path) -> None:
    engine = create_engine(database_url({"DATABASE_URL": f"sqlite:///{path}"}))
    now = datetime.now(UTC)
    row = {
        "id": "api",
        "name": "Public API",
        "type": "http",
        "interval_seconds": 60.0,
        "created_at": now,
        "updated_at": now,
    }
    async with engine.begin() as connection:
        await connection.execute(MONITORS.insert(), row)
    await engine.dispose()


async def _read(path: Path) -> tuple[list[Any], list[Any]]:
    engine = create_engine(database_url({"DATABASE_URL": f"sqlite:///{path}"}))
    async with engine.connect() as connection:
        incidents = list(await connection.execute(select(INCIDENTS)))
        outbox = list(await connection.execute(select(OUTBOX).order_by(OUTBOX.c.id)))
    await engine.dispose()
    return incidents, outbox


def test_the_cli_knows_the_same_statuses_as_the_store() -> None:
    assert incident_args.STATUSES == incident_updates.STATUSES


def test_declare_then_update_then_resolve(
    database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    code = main(
        ["incident", "declare", "Login is slow", "--body", "Looking into it", "--monitor", "api"]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert out.splitlines() == [
        "incident #1 Login is slow (open): investigating",
        "sent to: team-slack",
    ]

    assert main(["incident", "update", "1", "--status", "identified", "A bad cache node"]) == 0
    capsys.readouterr()
    assert main(["incident", "update", "1", "--status", "resolved", "Fixed", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)

    assert (shown["id"], shown["declared"], shown["monitor_id"], shown["monitors"]) == (
        1,
        True,
        None,
        ["api"],
    )
    assert shown["resolved_at"] is not None
    assert [(u["status"], u["body"]) for u in shown["updates"]] == [
        ("investigating", "Looking into it"),
        ("identified", "A bad cache node"),
        ("resolved", "Fixed"),
    ]
    [incident], outbox = asyncio.run(_read(database))
    assert incident.declared
    assert incident.monitor_id is None
    assert [(r.event, r.channel) for r in outbox] == [("incident.updated", "team-slack")] * 3


def test_an_update_on_no_such_incident_or_an_unknown_monitor_is_an_error(
    database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["incident", "update", "7", "--status", "monitoring", "words"]) == 1
    assert capsys.readouterr().err == "upwatch: no incident #7\n"
    assert main(["incident", "declare", "T", "--body", "b", "--monitor", "nope"]) == 2
    assert capsys.readouterr().err == "upwatch: no such monitor: nope\n"
    assert asyncio.run(_read(database)) == ([], [])


def test_a_bad_status_is_a_usage_error(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["incident", "update", "1", "--status", "fixed", "words"])
    assert exit_.value.code == 2
    assert "invalid choice: 'fixed'" in capsys.readouterr().err
