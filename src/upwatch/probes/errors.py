"""Turning whatever a failed connection raised into a Cause a person understands at 3 a.m.

Exceptions arrive wrapped (aiohttp's around ssl/OSError, sometimes in an ExceptionGroup), so the
whole chain is searched, most specific kind of failure first.
"""

from __future__ import annotations

import errno
import socket
import ssl
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

import aiohttp

from upwatch.config.durations import format_duration
from upwatch.probes.outcome import Cause, one_line

_E = TypeVar("_E", bound=BaseException)

# OpenSSL verify codes (include/openssl/x509_vfy.h) that have a plain-words explanation.
_UNTRUSTED = "TLS certificate is not trusted (unknown issuer or incomplete chain)"
_VERIFY_CAUSES: dict[int, str] = {
    2: _UNTRUSTED,  # X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT
    9: "TLS certificate is not valid yet",  # X509_V_ERR_CERT_NOT_YET_VALID
    10: "TLS certificate has expired",  # X509_V_ERR_CERT_HAS_EXPIRED
    18: "TLS certificate is self-signed",  # X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT
    19: "TLS certificate is self-signed",  # X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN
    20: _UNTRUSTED,  # X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
    21: _UNTRUSTED,  # X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE
    23: "TLS certificate has been revoked",  # X509_V_ERR_CERT_REVOKED
    62: "TLS certificate not valid for this host",  # X509_V_ERR_HOSTNAME_MISMATCH
    64: "TLS certificate not valid for this host",  # X509_V_ERR_IP_ADDRESS_MISMATCH
}
_TLS_REASONS: dict[str, str] = {
    "WRONG_VERSION_NUMBER": "TLS handshake failed: the server did not answer with TLS",
    "UNEXPECTED_EOF_WHILE_READING": "server closed the connection during the TLS handshake",
    "TLSV1_ALERT_PROTOCOL_VERSION": "TLS handshake failed: no TLS version in common",
    "SSLV3_ALERT_HANDSHAKE_FAILURE": "TLS handshake failed: no cipher or protocol in common",
    "TLSV13_ALERT_CERTIFICATE_REQUIRED": "the server requires a client certificate (tls.cert_file)",
    "SSLV3_ALERT_BAD_CERTIFICATE": "the server refused our client certificate",
    "TLSV1_ALERT_UNKNOWN_CA": "the server does not trust our client certificate's issuer",
}
_ERRNO_CAUSES: dict[int, str] = {
    errno.ECONNREFUSED: "connection refused",
    errno.ECONNRESET: "connection reset by peer",
    errno.ECONNABORTED: "connection aborted",
    errno.EPIPE: "server closed the connection while we sent the request",
    errno.EHOSTUNREACH: "host unreachable",
    errno.ENETUNREACH: "network unreachable",
    errno.ETIMEDOUT: "connection timed out",
}
_CLOSED_EARLY = "server closed the connection before the body was complete"
# Never quotes the header: header values from the config are often secrets (tokens).
INVALID_HEADER = Cause.plain(
    "could not send the request: a header name or value is invalid (check the monitor's headers)"
)
_WAITING: dict[str, str] = {
    "connect": "connecting",
    "tls": "during the TLS handshake",
    "ttfb": "waiting for response headers",
    "transfer": "reading the response body",
}


def timed_out(timeout: timedelta, phase: str | None, host: str) -> Cause:
    """`timed out after 10s waiting for response headers`: the deadline, and what it cut short."""
    base = f"timed out after {format_duration(timeout)}"
    if phase == "dns":
        return Cause(f"{base} resolving {host}", f"{base} resolving the host name")
    waiting = _WAITING.get(phase or "")
    return Cause.plain(f"{base} {waiting}" if waiting else base)


def describe(exc: BaseException, host: str) -> Cause:
    links = _chain(exc)
    for explain in _EXPLAINERS:
        cause = explain(links, host)
        if cause is not None:
            return cause
    detail = one_line(str(exc)) or type(exc).__name__
    return Cause(f"request failed ({detail})", "request failed")


def _chain(exc: BaseException) -> list[BaseException]:
    """Every exception in `exc`'s cause/context chain and in exception groups, outermost first."""
    links: list[BaseException] = []
    pending = [exc]
    while pending:
        link = pending.pop()
        if any(link is seen for seen in links):
            continue
        links.append(link)
        nested = link.__cause__ or link.__context__
        if nested is not None:
            pending.append(nested)
        if isinstance(link, BaseExceptionGroup):
            pending.extend(reversed(link.exceptions))
    return links


def _first(links: list[BaseException], kind: type[_E]) -> _E | None:
    """The first link of `kind`; aiohttp's wrappers that also subclass it (its SSL errors are
    `ssl.SSLError`s without a reason) only when `kind` is aiohttp's own."""
    own = issubclass(kind, aiohttp.ClientError)
    return next(
        (
            link
            for link in links
            if isinstance(link, kind) and (own or not isinstance(link, aiohttp.ClientError))
        ),
        None,
    )


def _certificate(links: list[BaseException], host: str) -> Cause | None:
    error = _first(links, ssl.SSLCertVerificationError)
    if error is None:
        return None
    known = _VERIFY_CAUSES.get(error.verify_code)
    if known is not None:
        return Cause.plain(known)
    message = one_line(str(error.verify_message or error.reason or "verification failed"), 80)
    return Cause(f"TLS certificate is not trusted ({message})", "TLS certificate is not trusted")


def _tls(links: list[BaseException], host: str) -> Cause | None:
    error = _first(links, ssl.SSLError)
    if error is None:
        return None
    reason = str(error.reason or "")
    known = _TLS_REASONS.get(reason)
    if known is not None:
        return Cause.plain(known)
    words = reason.lower().replace("_", " ") or one_line(str(error), 80)
    return Cause(f"TLS handshake failed ({words})", "TLS handshake failed")


def _resolution(links: list[BaseException], host: str) -> Cause | None:
    if _first(links, socket.gaierror) is None:
        return None
    return Cause(f"could not resolve {host}", "could not resolve the host name")


def _os_error(links: list[BaseException], host: str) -> Cause | None:
    for link in links:
        if isinstance(link, OSError) and link.errno in _ERRNO_CAUSES:
            return Cause.plain(_ERRNO_CAUSES[link.errno])
    return None


def _protocol(links: list[BaseException], host: str) -> Cause | None:
    """What aiohttp says about an answer that is not HTTP, or one cut short."""
    if _first(links, aiohttp.ServerDisconnectedError) is not None:
        return Cause.plain("server closed the connection without answering")
    if _first(links, aiohttp.ClientPayloadError) is not None:
        return Cause.plain(_CLOSED_EARLY)
    error = _first(links, aiohttp.ClientResponseError)
    if error is None:
        return None
    # llhttp's reasons read "Bad status line: <what it expected and a caret diagram>".
    reason = one_line(str(error.message).split(":", 1)[0], 80).lower() or "unreadable"
    return Cause(f"invalid HTTP response ({reason})", "invalid HTTP response")


def _aiohttp(links: list[BaseException], host: str) -> Cause | None:
    outer = links[0]
    if isinstance(outer, aiohttp.ClientConnectorError):
        return Cause.plain("could not connect")
    if isinstance(outer, aiohttp.ClientConnectionError):
        return Cause.plain("connection lost while reading the response")
    return None


_EXPLAINERS: tuple[Callable[[list[BaseException], str], Cause | None], ...] = (
    _certificate,
    _tls,
    _resolution,
    _os_error,
    _protocol,
    _aiohttp,
)
