"""Comparing DNS answers with `expect.records`, written the way people write records."""

from __future__ import annotations

import ipaddress

import dns.rdata
import dns.resolver

from upwatch.probes.outcome import Cause, one_line, quoted


def normalize(value: str, record_type: str) -> str:
    """One spelling per record: `Mail.Acme.dev.` -> `mail.acme.dev`, `"v=spf1"` -> `v=spf1`."""
    value = value.strip()
    if record_type == "TXT":
        # Kept case-sensitive: verification tokens and DKIM keys differ by case.
        return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value
    if record_type in ("A", "AAAA"):
        try:
            return ipaddress.ip_address(value).compressed
        except ValueError:
            return value.lower()
    if record_type == "MX":
        preference, _, exchange = value.rpartition(" ")
        name = exchange.lower().rstrip(".")
        return f"{int(preference)} {name}" if preference.strip().isdigit() else name
    return value.lower().rstrip(".")


def answer_values(answer: dns.resolver.Answer, record_type: str) -> list[str]:
    """Normalized answers in a stable order (an RRset has none), MX by preference."""
    values = [normalize(_rdata_text(rdata, record_type), record_type) for rdata in answer]
    return sorted(values, key=_mx_order if record_type == "MX" else None)


def _mx_order(value: str) -> tuple[int, str]:
    preference, _, exchange = value.partition(" ")
    return (int(preference), exchange) if preference.isdigit() else (0, value)


def _rdata_text(rdata: dns.rdata.Rdata, record_type: str) -> str:
    if record_type == "TXT":
        # A TXT record is a list of strings meant to be read joined (long SPF/DKIM values).
        strings: list[bytes] = getattr(rdata, "strings", [])
        return b"".join(strings).decode("utf-8", errors="replace")
    return rdata.to_text()


def records_failure(expected: list[str], answers: list[str], record_type: str) -> Cause | None:
    found = set(answers)
    if record_type == "MX":  # `mail.acme.dev` matches `10 mail.acme.dev`
        found.update(answer.partition(" ")[2] for answer in answers)
    missing = [
        value for value in (normalize(e, record_type) for e in expected) if value not in found
    ]
    if not missing:
        return None
    plural = "s" if len(missing) > 1 else ""
    text = f"expected record{plural} {_listed(missing, record_type)}, got "
    text += _listed(answers, record_type) or "nothing"
    public = f"expected {record_type} record{plural} not in the DNS answer"
    return Cause(one_line(text, 240), public)


def _listed(values: list[str], record_type: str) -> str:
    shown = [quoted(v) if record_type == "TXT" else one_line(v, 60) for v in values[:5]]
    more = f" and {len(values) - 5} more" if len(values) > 5 else ""
    return ", ".join(shown) + more
