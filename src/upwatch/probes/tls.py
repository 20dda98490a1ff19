"""TLS contexts for HTTP probes: the trust a monitor asks for, built once and shared by its probes.

Loading a CA bundle costs far more CPU than a probe, so each distinct trust setting (the default,
`verify_tls: false`, or one monitor's `tls` block) gets one context for the Prober's lifetime.

Default trust is OpenSSL's default paths, so `SSL_CERT_FILE` and `SSL_CERT_DIR` apply, plus
certifi's bundle (slim images often have no system store). A monitor's `ca_file` adds to that trust;
it does not replace it. Client certificates come from files or PEM text (a `${VAR}` on platforms
where a key cannot be a committed file); Python loads a certificate chain only from a file, so PEM
text is written to a private temporary file for the moment it takes to load.
"""

from __future__ import annotations

import os
import ssl
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import certifi

from upwatch.config.models import TlsOptions
from upwatch.probes.outcome import Cause, one_line
from upwatch.probes.timing import CURRENT_CLOCK


class TimedContext(ssl.SSLContext):
    """An SSLContext that opens the probe's `tls` phase when a handshake starts.

    asyncio and uvloop call `wrap_bio` once the TCP connection is up, just before the handshake:
    the one moment between connect and TLS that no HTTP client reports.
    """

    def wrap_bio(self, *args: object, **kwargs: object) -> ssl.SSLObject:
        clock = CURRENT_CLOCK.get()
        if clock is not None:
            clock.switch("tls")
        session = super().wrap_bio(*args, **kwargs)  # type: ignore[arg-type]
        if clock is not None:
            clock.tls = session
        return session


class TlsContexts:
    """One context per distinct trust setting; `extra_ca_pem` is trusted by every verifying one."""

    def __init__(self, *, extra_ca_pem: str | None = None) -> None:
        self._extra_ca_pem = extra_ca_pem
        self._contexts: dict[tuple[bool, TlsOptions | None], ssl.SSLContext] = {}

    def context(self, *, verify: bool, options: TlsOptions | None) -> ssl.SSLContext:
        key = (verify, options)
        found = self._contexts.get(key)
        if found is None:
            found = self._contexts[key] = self._build(verify, options)
        return found

    def _build(self, verify: bool, options: TlsOptions | None) -> ssl.SSLContext:
        context = TimedContext(ssl.PROTOCOL_TLS_CLIENT)
        if verify:
            context.load_default_certs(ssl.Purpose.SERVER_AUTH)
            context.load_verify_locations(cafile=certifi.where())
            if self._extra_ca_pem:
                context.load_verify_locations(cadata=self._extra_ca_pem)
        else:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if options is not None:
            _apply(context, options, verify=verify)
        return context


def _apply(context: ssl.SSLContext, options: TlsOptions, *, verify: bool) -> None:
    if verify and options.ca_file:
        context.load_verify_locations(cafile=options.ca_file)
    if verify and options.ca_pem:
        context.load_verify_locations(cadata=options.ca_pem)
    if options.has_client_certificate:
        with (
            _as_file(options.cert_file, options.cert_pem) as cert,
            _as_file(options.key_file, options.key_pem) as key,
        ):
            if cert is not None:
                context.load_cert_chain(cert, key)


@contextmanager
def _as_file(path: str | None, pem: str | None) -> Iterator[str | None]:
    if pem is None:
        yield path
        return
    descriptor, name = tempfile.mkstemp(prefix="upwatch-tls-", suffix=".pem")  # mode 0600
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(pem)
        yield name
    finally:
        os.unlink(name)


def unusable_tls(exc: OSError | ssl.SSLError) -> Cause:
    """The monitor's own `tls` files could not be loaded: our setup, not the target's fault."""
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else None
    if isinstance(exc, ssl.SSLError):
        reason = str(exc.reason or "").lower().replace("_", " ") or None
    detail = one_line(reason or str(exc), 80)
    return Cause.plain(f"could not load the monitor's tls certificates or key ({detail})")
