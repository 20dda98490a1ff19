"""Secrets written literally in the config: credentials count as secret wherever they come from.

`${VAR}` values are secret by origin (see interpolate.py); these are secret by what they are:
tokens, passwords, API keys, webhook secrets, URL credentials, Slack webhook URLs
(the URL is the credential) and header values (usually Authorization).
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

from upwatch.config.models import (
    Config,
    EmailChannel,
    HeartbeatMonitor,
    HttpMonitor,
    SlackChannel,
    WebhookChannel,
)

MIN_HEADER_SECRET = 8  # short header values (`json`, `1`) would only blur unrelated output


def _url_password(url: str | None) -> Iterator[str]:
    if url:
        password = urlsplit(url).password
        if password:
            yield password


def _headers(headers: dict[str, str]) -> Iterator[str]:
    yield from (v for v in headers.values() if len(v) >= MIN_HEADER_SECRET)


def _monitor_secrets(config: Config) -> Iterator[str]:
    for monitor in config.monitors:
        if isinstance(monitor, HeartbeatMonitor):
            yield monitor.token
        if isinstance(monitor, HttpMonitor):
            yield from _url_password(monitor.url)
            yield from _headers(monitor.headers)
            if monitor.basic_auth is not None:
                yield monitor.basic_auth.password
            if monitor.tls is not None and monitor.tls.key_pem:
                yield monitor.tls.key_pem


def _channel_secrets(config: Config) -> Iterator[str]:
    for channel in config.channels.values():
        if isinstance(channel, SlackChannel):
            yield channel.webhook_url
        elif isinstance(channel, WebhookChannel):
            yield from _url_password(channel.url)
            yield from _headers(channel.headers)
            if channel.secret:
                yield channel.secret
        elif isinstance(channel, EmailChannel):
            yield from _url_password(channel.smtp_url)
            if channel.api is not None:
                yield channel.api.api_key


def literal_secrets(config: Config) -> set[str]:
    return {s for s in (*_monitor_secrets(config), *_channel_secrets(config)) if s}
