"""The HTTP surface: status page, JSON API, badges, feed, ack, ping, health and metrics."""
