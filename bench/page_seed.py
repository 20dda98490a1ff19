"""A SQLite database the size the status page must stay fast at: 1,000 monitors (50 per group,
a few private and paused), 90 days of hourly and daily rollups, about 3 incidents per monitor
(some still open), a weekly maintenance window on every monitor, and one latest result each.

Rows are written straight into the tables (the schema comes from the real migrations), so seeding
takes seconds, not the 90 days it would take to probe.
"""

from __future__ import annotations

import hashlib
import json
import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from upwatch.config.loader import LoadedConfig, parse_config
from upwatch.store.database import create_engine, database_url
from upwatch.store.migrate import migrate
from upwatch.store.monitors import reconcile
from upwatch.store.rollups import Rollup, day_of, hour_of
from upwatch.store.sketch import dumps
from upwatch.store.tables import DAILY, HOURLY, INCIDENTS, MONITORS, RESULTS, STATES

GROUP_SIZE = 50
CHUNK = 20_000


def bench_config(monitors: int, maintenance_cron: str = "0 3 * * SUN") -> LoadedConfig:
    """The config of `monitors` monitors; the browser test asks for a daily maintenance window
    (`0 3 * * *`), the benchmark keeps a weekly one."""
    document: dict[str, Any] = {
        "version": 1,
        "status_page": {"title": "Bench Status", "description": "1,000 synthetic services"},
        "maintenance": [
            {"name": "Patching", "monitors": ["*"], "cron": maintenance_cron, "duration": "30m"}
        ],
        "announcements": [{"title": "Benchmark data", "body": "Nothing here is real."}],
        "monitors": [
            {
                "id": f"m{i:04d}",
                "name": f"Service {i:04d}",
                "group": f"Group {i // GROUP_SIZE:02d}",
                "url": f"https://s{i}.bench.test/health",
                "public": i % 40 != 7,
                "paused": i % 250 == 3,
            }
            for i in range(monitors)
        ],
    }
    text = json.dumps(document)
    parsed, _ = parse_config(text, "bench.yaml", {}, False)
    digest = hashlib.sha256(text.encode()).hexdigest()
    return LoadedConfig(parsed, "bench.yaml", digest, frozenset())


def _latency(rng: random.Random) -> Rollup:
    rollup = Rollup()
    base = rng.choice((40, 80, 120, 250))
    for _ in range(60):
        rollup.add("up", rng.lognormvariate(0, 0.35) * base)
    return rollup


def _scaled_sketch(r: Rollup, scale: int) -> str | None:
    """The rollup's sketch as stored, every count multiplied by `scale`."""
    text = dumps(r.sketch)
    if text is None:
        return None
    stored = json.loads(text)
    stored["counts"] = [count * scale for count in stored["counts"]]
    stored["zero"] *= scale
    return json.dumps(stored, separators=(",", ":"))


def _rollup_row(monitor_id: str, bucket: datetime, r: Rollup, scale: int) -> dict[str, Any]:
    return {
        "monitor_id": monitor_id,
        "bucket": bucket,
        "checks": r.checks * scale,
        "failures": 0,
        "degraded": 0,
        "downtime_seconds": 0.0,
        "latency_sum_ms": r.latency_sum_ms * scale,
        "latency_sketch": _scaled_sketch(r, scale),
    }


async def _insert(connection: AsyncConnection, table: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        await connection.execute(table.insert(), rows[start : start + CHUNK])


async def _rollups(
    connection: AsyncConnection, ids: list[str], start: datetime, now: datetime
) -> None:
    rng = random.Random(7)
    shapes = [_latency(rng) for _ in range(16)]
    hours = int((hour_of(now) - start) / timedelta(hours=1)) + 1
    for monitor_id in ids:
        hourly = [
            _rollup_row(monitor_id, start + timedelta(hours=h), rng.choice(shapes), 1)
            for h in range(hours)
        ]
        await _insert(connection, HOURLY, hourly)
    days = sorted({day_of(start + timedelta(hours=h)) for h in range(hours)})
    daily = [_rollup_row(m, d, rng.choice(shapes), 24) for m in ids for d in days]
    await _insert(connection, DAILY, daily)


def _incidents(
    ids: list[str], start: datetime, now: datetime, open_every: int
) -> list[dict[str, Any]]:
    rng = random.Random(11)
    rows = []
    span = (now - start).total_seconds()
    for monitor_id in ids:
        for _ in range(rng.randint(0, 6)):
            began = start + timedelta(seconds=rng.uniform(0, span - 7200))
            ended = began + timedelta(seconds=rng.uniform(60, 3600))
            rows.append(_incident(monitor_id, began, ended))
    for monitor_id in ids[5::open_every]:
        rows.append(_incident(monitor_id, now - timedelta(minutes=17), None))
    return rows


def _incident(monitor_id: str, began: datetime, ended: datetime | None) -> dict[str, Any]:
    return {
        "monitor_id": monitor_id,
        "started_at": began,
        "confirmed_at": began + timedelta(minutes=2),
        "resolved_at": ended,
        "cause": f"expected status 200, got 503 from https://{monitor_id}.bench.test/health",
        "public_cause": "HTTP 503",
    }


async def _states(
    connection: AsyncConnection, ids: list[str], now: datetime, open_every: int
) -> None:
    down = set(ids[5::open_every])
    checked = now - timedelta(seconds=20)
    for monitor_id in ids:
        state = "down" if monitor_id in down else "up"
        values = {
            "state": state,
            "since": now - timedelta(days=3),
            "last_result_at": checked,
            "last_result_state": state,
            "last_status_code": 503 if state == "down" else 200,
            "last_public_cause": "HTTP 503" if state == "down" else None,
        }
        await connection.execute(STATES.update().where(STATES.c.monitor_id == monitor_id), values)
    latest = [
        {"monitor_id": m, "checked_at": checked, "state": "up", "duration_ms": 83.0} for m in ids
    ]
    await _insert(connection, RESULTS, latest)


async def seed(
    path: str,
    monitors: int,
    days: int,
    now: datetime,
    *,
    open_every: int = 200,
    maintenance_cron: str = "0 3 * * SUN",
    rollup_days: int | None = None,
) -> LoadedConfig:
    """Create `path` (a new SQLite file) holding `monitors` monitors and `days` of history: one
    open incident per `open_every` monitors, and latency rollups for the last `rollup_days` (all
    `days` by default; the bars read incidents, not rollups, so a browser test needs only one)."""
    loaded = bench_config(monitors, maintenance_cron)
    engine = create_engine(database_url({"DATABASE_URL": f"sqlite:///{path}"}))
    start = hour_of(now - timedelta(days=days))
    try:
        await migrate(engine)
        async with engine.begin() as connection:
            await reconcile(connection, loaded.config, start, generation=1)
            ids = [m.id for m in loaded.config.monitors]
            await connection.execute(MONITORS.update().values(first_result_at=start))
            await _states(connection, ids, now, open_every)
            await _insert(connection, INCIDENTS, _incidents(ids, start, now, open_every))
            rollups_from = start if rollup_days is None else hour_of(now - timedelta(rollup_days))
            await _rollups(connection, ids, max(start, rollups_from), now)
    finally:
        await engine.dispose()
    return loaded
