"""Links in messages: signed acknowledge links and the status page.

An acknowledge token names one incident and an expiry, signed with HMAC-SHA256 under
UPWATCH_SECRET_KEY: `<incident id>.<expiry, unix seconds>.<base64url signature>`; a token for an
SLO alert puts `s` before the id (and the `s` is signed too). It is URL-safe,
needs no database row, and a changed digit anywhere breaks the signature. Without a secret key
or a public URL there is no acknowledge link at all.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

ACK_VALID_FOR = timedelta(days=7)
# ASCII digits only (`int()` reads other scripts' digits too), bounded: an id fits in 64 bits, an
# expiry in 12 digits, the signature is 32 bytes of unpadded base64url.
_ACK_TOKEN = re.compile(r"(s?)([0-9]{1,18})\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})")
SLO_PREFIX = "s"
_PURPOSE = b"upwatch-ack-v1"  # a key used for nothing else, even if the secret key is reused


class TokenProblem(StrEnum):
    INVALID = "invalid"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class AckCheck:
    """What a token says: the incident, or why it cannot be used."""

    incident_id: int | None  # the incident's id, or the SLO alert's when `slo`
    expires_at: datetime | None = None
    problem: TokenProblem | None = None
    slo: bool = False


def _signature(secret_key: str, incident_id: int, expires: int, prefix: str = "") -> str:
    key = hmac.new(secret_key.encode(), _PURPOSE, hashlib.sha256).digest()
    digest = hmac.new(key, f"{prefix}{incident_id}.{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def ack_token(secret_key: str, incident_id: int, expires_at: datetime, *, slo: bool = False) -> str:
    expires = int(expires_at.timestamp())
    prefix = SLO_PREFIX if slo else ""
    return f"{prefix}{incident_id}.{expires}.{_signature(secret_key, incident_id, expires, prefix)}"


def check_ack_token(secret_key: str, token: str, now: datetime) -> AckCheck:
    """The incident a token acknowledges; a tampered token is INVALID, an old one EXPIRED."""
    parts = _ACK_TOKEN.fullmatch(token)
    if parts is None:
        return AckCheck(None, problem=TokenProblem.INVALID)
    prefix, incident_id, expires = parts[1], int(parts[2]), int(parts[3])
    expected = _signature(secret_key, incident_id, expires, prefix)
    if not hmac.compare_digest(expected.encode(), parts[4].encode()):
        return AckCheck(None, problem=TokenProblem.INVALID)
    try:
        expires_at = datetime.fromtimestamp(expires, UTC)
    except (OverflowError, OSError, ValueError):
        return AckCheck(None, problem=TokenProblem.INVALID)
    slo = prefix == SLO_PREFIX
    if now >= expires_at:
        return AckCheck(incident_id, expires_at, TokenProblem.EXPIRED, slo)
    return AckCheck(incident_id, expires_at, slo=slo)


def ack_url(
    public_url: str | None,
    secret_key: str | None,
    incident_id: int,
    issued_at: datetime,
    *,
    slo: bool = False,
) -> str | None:
    """`<public_url>/ack/<token>`, valid ACK_VALID_FOR from `issued_at`; None when off."""
    if not public_url or not secret_key:
        return None
    token = ack_token(secret_key, incident_id, issued_at + ACK_VALID_FOR, slo=slo)
    return f"{public_url.rstrip('/')}/ack/{token}"


def status_page_url(public_url: str | None, monitor_id: str | None, *, public: bool) -> str | None:
    """The monitor's own page when it is public, else the status page itself."""
    if not public_url:
        return None
    base = public_url.rstrip("/")
    return f"{base}/monitors/{monitor_id}" if public and monitor_id else f"{base}/"
