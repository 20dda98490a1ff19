"""The channel types: one line each. A channel type is one module holding its config model (a
`ChannelConfig` with `type: Literal["name"]`) and `send(message, channel, ctx) -> Outcome`;
the config union, the JSON Schema, the reference docs and secret redaction all follow from here.
"""

from __future__ import annotations

from upwatch.notify.channels import (
    apprise,
    discord,
    email,
    google_chat,
    ntfy,
    pagerduty,
    pushover,
    slack,
    teams,
    telegram,
    webhook,
)
from upwatch.notify.channels.base import ChannelConfig, ChannelType

CHANNEL_TYPES: dict[str, ChannelType] = {
    t.model.type_name(): t
    for t in (
        ChannelType(slack.SlackChannel, slack.send),
        ChannelType(email.EmailChannel, email.send),
        ChannelType(webhook.WebhookChannel, webhook.send),
        ChannelType(discord.DiscordChannel, discord.send),
        ChannelType(teams.TeamsChannel, teams.send),
        ChannelType(google_chat.GoogleChatChannel, google_chat.send),
        ChannelType(apprise.AppriseChannel, apprise.send),
        ChannelType(pagerduty.PagerDutyChannel, pagerduty.send),
        ChannelType(telegram.TelegramChannel, telegram.send),
        ChannelType(ntfy.NtfyChannel, ntfy.send),
        ChannelType(pushover.PushoverChannel, pushover.send),
    )
}
CHANNEL_MODELS: dict[str, type[ChannelConfig]] = {n: t.model for n, t in CHANNEL_TYPES.items()}
