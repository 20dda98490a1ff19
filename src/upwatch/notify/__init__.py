"""Notifications: the outbox worker, message rendering and one module per channel.

- `message`: what one notification says, built from an outbox row and the running config.
- `render`: Jinja2 templates (shipped under `templates/notify/`, overridable by the user).
- `channels`: one module per channel type behind one registry (`channels.CHANNEL_TYPES`).
- `dispatch`: sends one message through one configured channel, with a timeout, errors as data.
- `worker`: claims due outbox rows under a lease, delivers them, retries with backoff.
- `links`: signed acknowledge links and status page links.
"""
