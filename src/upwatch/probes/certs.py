"""When the certificate a server presented expires, read from its TLS session."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime


def peer_cert_expiry(ssl_object: ssl.SSLObject | None) -> datetime | None:
    """When the certificate of a (possibly closed) TLS session expires; None without TLS."""
    if ssl_object is None:
        return None
    decoded = ssl_object.getpeercert()
    if decoded:
        not_after = decoded.get("notAfter")
        if isinstance(not_after, str):
            return datetime.fromtimestamp(ssl.cert_time_to_seconds(not_after), UTC)
    # Without verification (`verify_tls: false`) Python decodes nothing, only the DER bytes.
    der = ssl_object.getpeercert(binary_form=True)
    return None if der is None else _der_not_after(der)


def _der_not_after(der: bytes) -> datetime | None:
    from cryptography import x509  # imported only for unverified connections

    try:
        return x509.load_der_x509_certificate(der).not_valid_after_utc
    except ValueError:  # a certificate the server sent that we cannot parse
        return None


def earliest(current: datetime | None, new: datetime | None) -> datetime | None:
    """Over redirect hops, the certificate closest to expiry is the one that will break first."""
    if current is None:
        return new
    if new is None:
        return current
    return min(current, new)
