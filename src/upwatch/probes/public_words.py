"""The few plain words a status page gives as a failure's cause ("Timed out", "DNS problem").

A customer reading a status page needs the kind of failure, not `$.status was "partial_outage"`:
the probes' public wordings (already free of hosts and URLs) are sorted into the words that
hosted status pages use. It runs when a page is rendered, not when a result is stored, so
incidents recorded before this wording existed read the same way. Notifications and
authenticated surfaces keep the full technical cause.
"""

from __future__ import annotations

UNEXPECTED_RESPONSE = "Unexpected response"
TIMED_OUT = "Timed out"
CONNECTION_REFUSED = "Connection refused"
CONNECTION_FAILED = "Connection failed"
CERTIFICATE_PROBLEM = "Certificate problem"
DNS_PROBLEM = "DNS problem"
MISSED_CHECK_IN = "Missed check-in"
REPORTED_FAILURE = "Reported failure"
SLOW_RESPONSE = "Slow response"

# (start of the probe's public wording, lowercased; the plain words). First match wins, so the
# more specific beginnings come first. The wordings are the probes' own (probes/errors.py,
# probes/dns.py, probes/expect.py, probes/outcome.py, engine/heartbeat.py).
_BEGINNINGS: tuple[tuple[str, str], ...] = (
    ("timed out", TIMED_OUT),
    ("connection timed out", TIMED_OUT),
    ("connection refused", CONNECTION_REFUSED),
    ("tls ", CERTIFICATE_PROBLEM),
    ("certificate ", CERTIFICATE_PROBLEM),
    ("could not load the monitor's tls", CERTIFICATE_PROBLEM),
    ("the server requires a client certificate", CERTIFICATE_PROBLEM),
    ("the server refused our client certificate", CERTIFICATE_PROBLEM),
    ("the server does not trust our client certificate", CERTIFICATE_PROBLEM),
    ("server closed the connection during the tls", CERTIFICATE_PROBLEM),
    ("could not resolve", DNS_PROBLEM),
    ("domain does not exist", DNS_PROBLEM),
    ("no dns ", DNS_PROBLEM),
    ("dns ", DNS_PROBLEM),
    ("no check-in", MISSED_CHECK_IN),
    ("reported failure", REPORTED_FAILURE),
    ("response took", SLOW_RESPONSE),
    ("connection reset", CONNECTION_FAILED),
    ("connection aborted", CONNECTION_FAILED),
    ("connection lost", CONNECTION_FAILED),
    ("host unreachable", CONNECTION_FAILED),
    ("network unreachable", CONNECTION_FAILED),
    ("could not connect", CONNECTION_FAILED),
    ("could not send the request", CONNECTION_FAILED),
    ("request failed", CONNECTION_FAILED),
)


def plain_cause(public: str | None) -> str | None:
    """The plain words for a probe's public cause (None stays None). Several causes joined by
    `; ` (a degraded result) read as the first one; anything else about the answer (status,
    body, JSON, redirects) is an unexpected response."""
    if not public:
        return None
    first = public.split("; ", 1)[0].strip().lower()
    if first.startswith("no ") and first.endswith(" records"):
        return DNS_PROBLEM  # `no AAAA records`
    return next((words for start, words in _BEGINNINGS if first.startswith(start)), None) or (
        UNEXPECTED_RESPONSE
    )
