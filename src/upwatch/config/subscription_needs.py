"""What email subscriptions need besides `status_page.subscriptions`: UPWATCH_SECRET_KEY, which
signs the confirmation and unsubscribe links, and `status_page.public_url`, which every link
starts with.

Without either, `POST /subscribe` answers 503 and no mail goes out; nothing in the config file
alone can tell (the key lives in the environment), so the daemon says it once at start and
`upwatch check` says it too.
"""

from __future__ import annotations

from upwatch.config.models import Config

KEY_VARIABLE = "UPWATCH_SECRET_KEY"
PUBLIC_URL = "status_page.public_url"
_HOW = {
    KEY_VARIABLE: f"set {KEY_VARIABLE} to a long random value (`openssl rand -hex 32`)",
    PUBLIC_URL: f"set {PUBLIC_URL} to the page's address (https://status.example.com)",
}


def missing_for_subscriptions(config: Config, *, secret_key_set: bool) -> list[str]:
    """The names of what subscriptions lack; empty when they are off or ready."""
    if config.status_page.subscriptions is None:
        return []
    missing = [] if secret_key_set else [KEY_VARIABLE]
    return missing if config.status_page.public_url else [*missing, PUBLIC_URL]


def subscription_warning(config: Config, *, secret_key_set: bool) -> str | None:
    """One sentence naming what is missing and what to set; None when nothing is."""
    missing = missing_for_subscriptions(config, secret_key_set=secret_key_set)
    if not missing:
        return None
    verb = "is" if len(missing) == 1 else "are"
    return (
        f"status_page.subscriptions is configured but {' and '.join(missing)} {verb} not set: "
        f"subscribing answers 503 and no confirmation mail is sent; "
        f"{'; '.join(_HOW[m] for m in missing)}"
    )
