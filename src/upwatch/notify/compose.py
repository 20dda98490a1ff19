"""From an outbox row to a `Message`: the event's frozen facts plus what the running config adds
now (the monitor's name and group, the status page link, a fresh acknowledge link).

Config values come from `loaded.shown()`, so a secret never enters a message's text; causes were
redacted before they were stored.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from upwatch.config.loader import LoadedConfig
from upwatch.engine.model import EventType
from upwatch.notify.links import ack_url, status_page_url
from upwatch.notify.message import (
    Message,
    MonitorInfo,
    message_from_payload,
    slo_alert_id,
    wants_ack_link,
)
from upwatch.store.deliveries import Delivery


def monitor_info(delivery: Delivery, loaded: LoadedConfig) -> MonitorInfo | None:
    """The monitor as the config calls it today; the database's last name if it was removed."""
    if delivery.monitor_id is None:
        return None
    configured = loaded.shown().monitor(delivery.monitor_id)
    if configured is not None:
        return MonitorInfo(configured.id, configured.name, configured.group, configured.public)
    return MonitorInfo(
        delivery.monitor_id,
        delivery.monitor_name or delivery.monitor_id,
        delivery.monitor_group,
        bool(delivery.monitor_public),
    )


def compose(
    delivery: Delivery, loaded: LoadedConfig, told: tuple[str, ...], secret_key: str | None
) -> Message:
    monitor = monitor_info(delivery, loaded)
    public_url = loaded.shown().status_page.public_url
    page = status_page_url(
        public_url, None if monitor is None else monitor.id, public=bool(monitor and monitor.public)
    )
    message = message_from_payload(
        key=delivery.key,
        event=delivery.event,
        channel=delivery.channel,
        at=delivery.event_at,
        payload=delivery.payload,
        monitor=monitor,
        told=told,
        status_page_url=page,
    )
    if wants_ack_link(message) and message.incident is not None:
        # Valid a week from the event, so every retry of one message carries the same link.
        link = ack_url(public_url, secret_key, message.incident.id, delivery.event_at)
        message = replace(message, ack_url=link)
    alert = slo_alert_id(message)
    if alert is not None:
        link = ack_url(public_url, secret_key, alert, delivery.event_at, slo=True)
        message = replace(message, ack_url=link)
    return message


def notify_test_message(channel: str, loaded: LoadedConfig, now: datetime) -> Message:
    """What `upwatch notify-test` sends: no monitor, no incident, a fresh id each time."""
    return Message(
        key=f"test:{channel}:{now.isoformat()}",
        event=EventType.TEST,
        channel=channel,
        at=now,
        monitor=None,
        status_page_url=status_page_url(loaded.shown().status_page.public_url, None, public=False),
    )
