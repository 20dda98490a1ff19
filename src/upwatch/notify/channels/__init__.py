"""The channel registry: one module per channel type, one line each here.

Adding a channel type is a new module with `send(message, channel, ctx) -> Outcome` and
`secrets(channel) -> set[str]`, a config model in `upwatch.config.models`, and one line below.
"""

from __future__ import annotations

from upwatch.notify.channels import email, slack, webhook
from upwatch.notify.channels.base import ChannelType, SendContext

CHANNEL_TYPES: dict[str, ChannelType] = {
    "slack": ChannelType(slack.send, slack.secrets),
    "email": ChannelType(email.send, email.secrets),
    "webhook": ChannelType(webhook.send, webhook.secrets),
}

__all__ = ["CHANNEL_TYPES", "ChannelType", "SendContext"]
