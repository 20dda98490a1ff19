"""The environment of section 3 of the contract, read once at start."""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
import socket
import sys
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.engine import URL

from upwatch.config.fields import SLUG_RE
from upwatch.errors import UsageError
from upwatch.runtime import workers
from upwatch.store.database import database_url

_SLUG = re.compile(SLUG_RE)


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: URL
    host: str
    port: int
    secret_key: str | None
    metrics_token: str | None
    # UPWATCH_API_TOKEN: `Authorization: Bearer` for the API's writes (declared incidents and
    # updates); without it they are refused.
    api_token: str | None
    heartbeat_url: str | None
    log_level: str
    log_format: str  # "json" | "console"
    instance: str  # name + per-process nonce: the holder of leases
    railway: bool  # running on Railway (for the no-volume warning)
    draining_seconds: float
    volume_mount_path: str | None = None  # RAILWAY_VOLUME_MOUNT_PATH: where a volume is attached
    # Which worker of `run --workers N` this is (0 when on its own): warnings about the whole
    # service, said once at start, come from worker 0 alone.
    worker_index: int = 0
    siblings: int = 1  # how many workers the parent started, this one included
    # Where this instance probes from (UPWATCH_REGION, else RAILWAY_REPLICA_REGION, else
    # `default`), and the local address its probes leave from (UPWATCH_SOURCE_ADDRESS).
    region: str = "default"
    source_address: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        name = env.get("UPWATCH_INSTANCE") or env.get("RAILWAY_REPLICA_ID") or socket.gethostname()
        return cls(
            database_url=database_url(env),
            host=env.get("HOST") or "0.0.0.0",  # noqa: S104 - a service listens on all interfaces
            port=_port(env.get("PORT") or "8080"),
            secret_key=env.get("UPWATCH_SECRET_KEY") or None,
            metrics_token=env.get("UPWATCH_METRICS_TOKEN") or None,
            api_token=env.get("UPWATCH_API_TOKEN") or None,
            heartbeat_url=env.get("UPWATCH_HEARTBEAT_URL") or None,
            log_level=(env.get("LOG_LEVEL") or "info").lower(),
            log_format=(env.get("LOG_FORMAT") or _default_format()).lower(),
            instance=f"{name}:{secrets.token_hex(4)}",
            railway=any(k.startswith("RAILWAY_") for k in env),
            draining_seconds=float(env.get("RAILWAY_DEPLOYMENT_DRAINING_SECONDS") or 0),
            volume_mount_path=env.get("RAILWAY_VOLUME_MOUNT_PATH") or None,
            worker_index=_index(env.get(workers.INDEX) or "0"),
            siblings=max(1, _index(env.get(workers.SIBLINGS) or "1")),
            region=_region(env.get("UPWATCH_REGION") or env.get("RAILWAY_REPLICA_REGION")),
            source_address=_address(env.get("UPWATCH_SOURCE_ADDRESS") or None),
        )

    def secrets(self) -> set[str]:
        # The heartbeat URL is a credential (a healthchecks.io check URL is its own secret).
        found = {
            self.secret_key,
            self.metrics_token,
            self.api_token,
            self.database_url.password,
            self.heartbeat_url,
        }
        return {s for s in found if isinstance(s, str) and s}


def _default_format() -> str:
    return "console" if sys.stdout.isatty() else "json"


def _index(text: str) -> int:
    return int(text) if text.isascii() and text.isdigit() else 0


def _region(text: str | None) -> str:
    if not text:
        return "default"
    if not _SLUG.fullmatch(text):
        raise UsageError(
            "UPWATCH_REGION must be a region name: lowercase letters, digits, '-' and '_', "
            "up to 64 characters (as in the config's `regions`)"
        )
    return text


def _address(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        ipaddress.ip_address(text)
    except ValueError:
        raise UsageError("UPWATCH_SOURCE_ADDRESS must be an IP address of this host") from None
    return text


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise UsageError("PORT must be a TCP port number (1-65535)")
    return int(text)
