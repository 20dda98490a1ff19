"""A monitor's `tls` files: resolved against the config file's folder and tried once at load time.

A certificate that cannot be read, or a key that does not match its certificate, is a config
mistake: `check` reports it at the key that named it, rather than every probe failing later.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path as FilePath

from upwatch.config.models import Config, HttpMonitor, TlsOptions
from upwatch.config.source import Path

FILE_KEYS = ("ca_file", "cert_file", "key_file")


def resolve_tls_files(config: Config, folder: FilePath) -> tuple[Config, list[tuple[Path, str]]]:
    """The config with absolute `*_file` paths, and the problems found, each at its key."""
    problems: list[tuple[Path, str]] = []
    monitors = list(config.monitors)
    for index, monitor in enumerate(monitors):
        if isinstance(monitor, HttpMonitor) and monitor.tls is not None:
            tls, found = _resolved(monitor.tls, folder, ("monitors", index, "tls"))
            problems += found
            monitors[index] = monitor.model_copy(update={"tls": tls})
    return config.model_copy(update={"monitors": monitors}), problems


def _resolved(
    tls: TlsOptions, folder: FilePath, at: Path
) -> tuple[TlsOptions, list[tuple[Path, str]]]:
    update = {
        key: str(folder / name) for key in FILE_KEYS if (name := getattr(tls, key)) is not None
    }
    resolved = tls.model_copy(update=update)
    problems = [((*at, key), message) for key, message in _unreadable(resolved)]
    if not problems:
        problems = [((*at, key), message) for key, message in _unloadable(resolved)]
    return resolved, problems


def _unreadable(tls: TlsOptions) -> Iterator[tuple[str, str]]:
    for key in FILE_KEYS:
        name = getattr(tls, key)
        if name is None:
            continue
        try:
            FilePath(name).read_bytes()
        except OSError as exc:
            yield key, f"cannot read {name} ({exc.strerror or exc})"


def _unloadable(tls: TlsOptions) -> Iterator[tuple[str, str]]:
    """Build the context the probe will use: PEM that OpenSSL refuses is found now."""
    from upwatch.probes.tls import TlsContexts  # ssl and certifi only when a monitor has `tls`

    try:
        TlsContexts().context(verify=True, options=tls)
    except ssl.SSLError as exc:
        reason = str(exc.reason or exc).lower().replace("_", " ")
        yield _blamed(tls, reason), f"OpenSSL cannot use these certificates ({reason})"


def _blamed(tls: TlsOptions, reason: str) -> str:
    if "key" in reason and tls.has_client_certificate:
        return "key_file" if tls.key_file else ("key_pem" if tls.key_pem else "cert_file")
    if tls.has_client_certificate and "ca" not in reason:
        return "cert_file" if tls.cert_file else "cert_pem"
    return "ca_file" if tls.ca_file else "ca_pem"
