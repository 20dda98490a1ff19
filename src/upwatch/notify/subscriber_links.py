"""Signed links for subscribers: confirming a subscription and unsubscribing.

Both name a subscriber by id and are signed with HMAC-SHA256 under UPWATCH_SECRET_KEY, each
with its own purpose key (a confirm token can never unsubscribe, nor acknowledge an incident):

- confirm: `<id>.<expiry, unix seconds>.<base64url signature>`, valid CONFIRM_VALID_FOR;
- unsubscribe: `<id>.<base64url signature>`, valid for as long as the subscription exists (a
  List-Unsubscribe link in an old message must still work, RFC 8058).

No token is stored: the database holds only the address and the dates.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import UTC, datetime, timedelta

CONFIRM_VALID_FOR = timedelta(days=2)
_CONFIRM = re.compile(r"([0-9]{1,18})\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})")
_UNSUBSCRIBE = re.compile(r"([0-9]{1,18})\.([A-Za-z0-9_-]{43})")
_CONFIRM_PURPOSE = b"upwatch-subscribe-confirm-v1"
_UNSUBSCRIBE_PURPOSE = b"upwatch-unsubscribe-v1"


class Expired(Exception):
    """A confirm link used after its expiry."""


def _signature(secret_key: str, purpose: bytes, text: str) -> str:
    key = hmac.new(secret_key.encode(), purpose, hashlib.sha256).digest()
    digest = hmac.new(key, text.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _valid(secret_key: str, purpose: bytes, text: str, signature: str) -> bool:
    expected = _signature(secret_key, purpose, text)
    return hmac.compare_digest(expected.encode(), signature.encode())


def confirm_token(secret_key: str, subscriber_id: int, issued_at: datetime) -> str:
    expires = int((issued_at + CONFIRM_VALID_FOR).timestamp())
    text = f"{subscriber_id}.{expires}"
    return f"{text}.{_signature(secret_key, _CONFIRM_PURPOSE, text)}"


def check_confirm_token(secret_key: str, token: str, now: datetime) -> int | None:
    """The subscriber a confirm token names; None when tampered; raises Expired when old."""
    parts = _CONFIRM.fullmatch(token)
    if parts is None:
        return None
    if not _valid(secret_key, _CONFIRM_PURPOSE, f"{parts[1]}.{parts[2]}", parts[3]):
        return None
    try:
        expires_at = datetime.fromtimestamp(int(parts[2]), UTC)
    except (OverflowError, OSError, ValueError):
        return None
    if now >= expires_at:
        raise Expired
    return int(parts[1])


def unsubscribe_token(secret_key: str, subscriber_id: int) -> str:
    text = str(subscriber_id)
    return f"{text}.{_signature(secret_key, _UNSUBSCRIBE_PURPOSE, text)}"


def check_unsubscribe_token(secret_key: str, token: str) -> int | None:
    """The subscriber an unsubscribe token names; None when tampered."""
    parts = _UNSUBSCRIBE.fullmatch(token)
    if parts is None or not _valid(secret_key, _UNSUBSCRIBE_PURPOSE, parts[1], parts[2]):
        return None
    return int(parts[1])


def link(public_url: str, path: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/{path}/{token}"
