"""A status page worth looking at, built through the real pipeline: Acme's services with 40 days of
results, a resolved outage, an open one, maintenance, a degraded CDN, a paused and a private
monitor, secrets from the environment, and a monitor whose name, group and cause are hostile HTML.
Shared by the page, badge, feed, metrics and browser tests.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import httpx
from starlette.applications import Starlette

from tests.store_helpers import T0, Harness, MakeHarness, app_context, degraded, down, up
from upwatch.config.loader import LoadedConfig, parse_config
from upwatch.probes.result import ProbeResult
from upwatch.runtime.settings import Settings
from upwatch.web.app import create_app
from upwatch.web.context import AppContext
from upwatch.web.page_cache import PageCache

NOW = T0  # 2026-11-22 08:00 UTC
START = NOW - timedelta(days=40)
OUTAGE = NOW - timedelta(days=2, hours=3)  # api: down 7 minutes on 2026-11-20
ENV = {"API_PASSWORD": "hunter2-Secret-Pass", "BACKUP_TOKEN": "tok-SECRET-42"}
PASSWORD = "${API_PASSWORD}"
SECRETS = tuple(ENV.values())
HOSTILE_NAME = '<script>alert("name")</script> & <b>bold</b>'
HOSTILE_GROUP = "<img src=x onerror=alert(1)>"
HOSTILE_CAUSE = '<script>alert("cause")</script>'
PRIVATE_NAME = "Internal admin panel"
PRIVATE_HOST = "admin.corp.acme.test"


def document(*, showcase: bool = False, **status_page: Any) -> dict[str, Any]:
    """The config as written in monitors.yaml; `showcase` leaves the hostile parts out."""
    core, edge = "Core services", "Edge"
    return {
        "version": 1,
        "status_page": {
            "title": "Acme Status",
            "description": "Live status of Acme's public services",
            **status_page,
        },
        "maintenance": [
            {"name": "Database upgrade", "monitors": ["db"], "start": _z(-0.5), "end": _z(1)},
            {"name": "Weekly patching", "monitors": ["*"], "cron": "0 3 * * SUN", "duration": "1h"},
        ],
        "announcements": [
            {
                "title": "Slower EU responses" + ("" if showcase else " <i>"),
                "body": "We are working with our provider & CDN.",
                "severity": "minor",
                "start": _z(-1),
                "end": _z(24),
            }
        ],
        "monitors": [
            _http("api", "Public API", core, basic_auth={"username": "u", "password": PASSWORD}),
            _http("web", "Website", core),
            _tcp("db", "Database", core),
            _http("admin", PRIVATE_NAME, core, url=f"https://{PRIVATE_HOST}/", public=False),
            _http("cdn", "CDN", edge, expect={"response_time_under": "500ms"}),
            _http("legacy", "Legacy API", edge, paused=True),
            _http("evil", HOSTILE_NAME, HOSTILE_GROUP),
            {
                "id": "backup",
                "name": "Nightly backup",
                "group": "Jobs",
                "type": "heartbeat",
                "token": "${BACKUP_TOKEN}",
                "interval": "12h",
                "grace": "1h",
            },
        ],
    }


def _z(hours: float) -> str:
    return (NOW + timedelta(hours=hours)).isoformat().replace("+00:00", "Z")


def _http(monitor_id: str, name: str, group: str, **fields: Any) -> dict[str, Any]:
    url = f"https://{monitor_id}.acme.test/health"
    return {"id": monitor_id, "name": name, "group": group, "url": url, **fields}


def _tcp(monitor_id: str, name: str, group: str) -> dict[str, Any]:
    host = f"{monitor_id}.acme.test"
    return {
        "id": monitor_id,
        "name": name,
        "group": group,
        "type": "tcp",
        "host": host,
        "port": 5432,
    }


def demo_config(
    *, without: tuple[str, ...] = (), showcase: bool = False, **status_page: Any
) -> LoadedConfig:
    """The demo config; `without` leaves monitors out (as if deleted from the file)."""
    data = document(showcase=showcase, **status_page)
    without = (*without, "evil") if showcase else without
    data["monitors"] = [m for m in data["monitors"] if m["id"] not in without]
    text = json.dumps(data)
    parsed, secrets = parse_config(text, "monitors.yaml", ENV, False)
    digest = hashlib.sha256(text.encode()).hexdigest()
    return LoadedConfig(parsed, "monitors.yaml", digest, frozenset(secrets))


def _every(start: datetime, end: datetime, step: timedelta) -> Iterator[datetime]:
    while start < end:
        yield start
        start += step


def _steady(ms: float, start: datetime) -> list[ProbeResult]:
    """Up every 6 hours from `start`, then every 20 minutes for the last two days (the chart)."""
    times = [*_every(start, NOW - timedelta(days=2), timedelta(hours=6))]
    times += _every(NOW - timedelta(days=2), NOW - timedelta(minutes=11), timedelta(minutes=20))
    # Within an hour the three results differ, so the chart's p50 and p95 differ too.
    return [up(t, ms=ms * (1 + t.minute / 30) + (t.hour % 5) * 7) for t in times]


def _downs(minutes: tuple[float, ...], cause: str, public: str) -> list[ProbeResult]:
    return [down(NOW - timedelta(minutes=m), cause, public) for m in minutes]


def results(start: datetime) -> dict[str, list[ProbeResult]]:
    outage = [
        down(
            OUTAGE + timedelta(seconds=s),
            "connection refused to api.acme.test:443",
            "connection refused",
        )
        for s in (0, 20, 40)
    ]
    api = sorted(
        [*_steady(80, start), *outage, up(OUTAGE + timedelta(minutes=7))],
        key=lambda r: r.checked_at,
    )
    web_cause = "expected status 200, got 503 from https://web.acme.test/health"
    admin_cause = f"connection refused to {PRIVATE_HOST}"
    return {
        "api": api,
        "web": [*_steady(120, start), *_downs((9, 8, 7), web_cause, "HTTP 503")],
        "db": _steady(20, start),
        "cdn": [*_steady(300, start), degraded(NOW - timedelta(minutes=5), ms=900.0)],
        "evil": [
            *_steady(50, start),
            *_downs((6, 5, 4), "<b>boom</b> at evil.acme.test", HOSTILE_CAUSE),
        ],
        "admin": [*_steady(60, start), *_downs((6, 5, 4), admin_cause, "connection refused")],
    }


async def seed_demo(
    make_harness: MakeHarness, loaded: LoadedConfig | None = None, *, start: datetime = START
) -> Harness:
    """The demo's monitors with results from `start` (40 days ago: older bars say "no data")."""
    loaded = loaded or demo_config()
    harness = await make_harness(loaded, start=start)
    configured = {m.id for m in loaded.config.monitors}
    for monitor_id, found in results(start).items():
        if monitor_id in configured:
            harness.submit(monitor_id, *found)
    for at in _every(start + timedelta(hours=1), NOW, timedelta(hours=11)):
        harness.check_in("backup", at, ok=True)
    assert await harness.flush(NOW)
    return harness


def context(harness: Harness, *, metrics_token: str | None = None, **fields: Any) -> AppContext:
    """The web's context on the harness, rendering afresh on every request (no cache reuse);
    `fields` set other AppContext fields (notifier, pipeline)."""
    env = {"UPWATCH_INSTANCE": "test"}
    if metrics_token is not None:
        env["UPWATCH_METRICS_TOKEN"] = metrics_token
    ctx = app_context(harness)
    ctx.settings = Settings.from_env(env)
    ctx.pages = PageCache(fresh_for=0, stale_for=0)
    for name, value in fields.items():
        setattr(ctx, name, value)
    return ctx


def app(harness: Harness, **options: Any) -> Starlette:
    return create_app(context(harness, **options))


@asynccontextmanager
async def client(harness: Harness, **options: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app(harness, **options))
    async with httpx.AsyncClient(transport=transport, base_url="http://status.acme.test") as c:
        yield c
