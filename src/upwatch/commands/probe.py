"""`upwatch probe ID_OR_URL`: run one probe now and print what a person needs to act on it."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import NamedTuple
from urllib.parse import urlsplit

from pydantic import ValidationError

from upwatch.config.models import (
    Config,
    DnsMonitor,
    HeartbeatMonitor,
    HttpMonitor,
    MonitorBase,
    TcpMonitor,
)
from upwatch.errors import UsageError
from upwatch.probes.outcome import time_left
from upwatch.probes.prober import Prober
from upwatch.probes.result import PHASES, ProbeResult, ProbeState

EXIT_CODES = {ProbeState.UP: 0, ProbeState.DOWN: 1, ProbeState.DEGRADED: 3}
_SHOWN_IDS = 10


class Target(NamedTuple):
    monitor: MonitorBase  # what is probed
    shown: MonitorBase  # what is printed: the same monitor with the config's secrets replaced
    redact: Callable[[str], str]  # the same for the probe's cause
    from_config: bool


def run_probe(args: argparse.Namespace) -> int:
    target = _target(args.target, args.config)
    result = asyncio.run(probe_once(target.monitor))
    shown = result.redacted(target.redact)
    print(render_report(target.shown, shown, from_config=target.from_config))
    return EXIT_CODES[result.state]


async def probe_once(monitor: MonitorBase) -> ProbeResult:
    async with Prober() as prober:
        # The daemon's prober is warm; setup (a session, a TLS context) is not response time.
        prober.prepare(monitor)
        return await prober.probe(monitor)


def _target(target: str, config_path: str) -> Target:
    if target.lower().startswith(("http://", "https://")):
        try:  # built-in defaults, no config file needed
            adhoc = HttpMonitor(id="adhoc", name=target, url=target)
            return Target(adhoc, adhoc, _unchanged, False)
        except ValidationError:
            raise UsageError(f"not a URL upwatch can probe: {target}") from None
    from upwatch.config.loader import Needs, load_config  # only an id needs the config file

    # Only this monitor's variables must be set: probing it needs no Slack webhook.
    loaded = load_config(config_path, needs=Needs(monitor=target))
    monitor = _monitor_by_id(loaded.config, target, config_path)
    at = next(i for i, m in enumerate(loaded.config.monitors) if m is monitor)
    shown = loaded.shown().monitors[at]
    return Target(monitor, shown, loaded.redact, True)


def _unchanged(text: str) -> str:
    return text


def _monitor_by_id(config: Config, monitor_id: str, config_path: str) -> MonitorBase:
    monitor = config.monitor(monitor_id)
    if monitor is None:
        ids = [m.id for m in config.monitors]
        listed = ", ".join(ids[:_SHOWN_IDS]) + (", …" if len(ids) > _SHOWN_IDS else "")
        hint = "; to probe a URL, write it with http:// or https://" if "." in monitor_id else ""
        raise UsageError(
            f"no monitor with id '{monitor_id}' in {config_path} (ids: {listed}){hint}"
        )
    if isinstance(monitor, HeartbeatMonitor):
        raise UsageError(
            f"'{monitor_id}' is a heartbeat monitor: it is push-based (the job it watches checks "
            f"in at /ping/{monitor_id}/<token>), so there is nothing to probe"
        )
    return monitor


def render_report(monitor: MonitorBase, result: ProbeResult, *, from_config: bool) -> str:
    lines = [f"{result.state.value.upper():<10}{_describe_target(monitor)}"]
    if from_config:
        lines.append(f"{'monitor':<10}{monitor.id} ({monitor.name})")
    if result.cause:
        lines.append(f"{'cause':<10}{result.cause}")
    if result.status_code is not None:
        lines.append(f"{'status':<10}HTTP {result.status_code}")
    lines.extend(f"{phase:<10}{_ms(result.phases[phase])}" for phase in _phases(result))
    lines.append(f"{'total':<10}{_ms(result.duration)}")
    if result.cert_expires_at is not None:
        lines.append(f"{'cert':<10}{_expiry(result.cert_expires_at, result.checked_at)}")
    return "\n".join(lines)


def _phases(result: ProbeResult) -> list[str]:
    return [phase for phase in PHASES if phase in result.phases]


def _describe_target(monitor: MonitorBase) -> str:
    if isinstance(monitor, HttpMonitor):
        return f"{monitor.method} {_without_credentials(monitor.url)}"
    if isinstance(monitor, TcpMonitor):
        return f"tcp {monitor.host}:{monitor.port}"
    if isinstance(monitor, DnsMonitor):
        server = f" @{monitor.nameserver}:{monitor.port}" if monitor.nameserver else ""
        return f"dns {monitor.record_type} {monitor.hostname}{server}"
    return monitor.id


def _without_credentials(url: str) -> str:
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]).geturl()


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def _expiry(expires_at: datetime, now: datetime) -> str:
    left = (expires_at - now).total_seconds()
    when = expires_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if left <= 0:
        return f"expired {when} ({time_left(-left)} ago)"
    return f"expires {when} (in {time_left(left)})"
