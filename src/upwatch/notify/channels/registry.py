"""The channel types: one line each. A channel type is one module holding its config model (a
`ChannelConfig` with `type: Literal["name"]`) and `send(message, channel, ctx) -> Outcome`;
the config union, the JSON Schema, the reference docs and secret redaction all follow from here.
"""

from __future__ import annotations

from upwatch.notify.channels import email, slack, webhook
from upwatch.notify.channels.base import ChannelConfig, ChannelType

CHANNEL_TYPES: dict[str, ChannelType] = {
    t.model.type_name(): t
    for t in (
        ChannelType(slack.SlackChannel, slack.send),
        ChannelType(email.EmailChannel, email.send),
        ChannelType(webhook.WebhookChannel, webhook.send),
    )
}
CHANNEL_MODELS: dict[str, type[ChannelConfig]] = {n: t.model for n, t in CHANNEL_TYPES.items()}
