"""Following a redirect by hand: where it goes, with which method, and which headers may follow.

A monitor's headers often carry credentials for its own origin (`Authorization`, `X-Api-Key`), so
a redirect to another origin (scheme, host or port) keeps only the harmless ones, and https → http
never carries any: the same rule browsers apply to `Authorization` and cookies, extended to every
custom header. Once dropped they stay dropped, even if a later hop comes back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from http.cookies import Morsel, SimpleCookie

import aiohttp
from multidict import CIMultiDict
from yarl import URL

from upwatch.probes.outcome import Cause

# Headers a redirect to another origin may still carry (besides our own defaults).
CROSS_ORIGIN_SAFE = frozenset({"accept", "accept-language", "user-agent"})
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
INVALID_LOCATION = Cause.plain("redirect to an invalid URL")
NOT_HTTP = Cause.plain("redirect to a URL that is not http:// or https://")


@dataclass(slots=True)
class Hop:
    """One request of a probe's redirect chain."""

    method: str
    url: URL
    headers: CIMultiDict[str]
    body: bytes | None
    cookies: aiohttp.CookieJar | None = field(default=None)

    def cookie_header(self) -> str | None:
        """Cookies set earlier in this probe for this URL, with any the monitor set itself."""
        own = self.headers.get("Cookie")
        if self.cookies is None:
            return own
        jar = self.cookies.filter_cookies(self.url)
        sent = "; ".join(f"{morsel.key}={morsel.coded_value}" for morsel in jar.values())
        return "; ".join(part for part in (own, sent) if part) or None


def next_hop(hop: Hop, response: aiohttp.ClientResponse) -> Hop | Cause | None:
    """The request a redirect asks for, the cause when it is unusable, or None when final."""
    # A 3xx without a usable Location is the final answer, judged by its status (as Go's client
    # and browsers do); such answers exist in the wild.
    location = response.headers.get("Location", "").strip()
    if response.status not in REDIRECT_CODES or not location:
        return None
    try:
        target = hop.url.join(URL(location)).with_fragment(None)
    except ValueError:
        return INVALID_LOCATION
    if target.scheme not in ("http", "https"):
        return NOT_HTTP
    if not target.host:
        return INVALID_LOCATION
    method, body, headers = _method_after(hop, response.status)
    if _origin(target) != _origin(hop.url):
        headers = _cross_origin(headers)
    cookies = _remember_cookies(hop.cookies, response)
    return Hop(method, target, headers, body, cookies)


def _method_after(hop: Hop, status: int) -> tuple[str, bytes | None, CIMultiDict[str]]:
    # RFC 9110 §15.4: 303 turns anything but HEAD into GET; 301/302 turn POST into GET, as every
    # browser does; 307/308 repeat the request as it was.
    to_get = (status == 303 and hop.method != "HEAD") or (
        status in (301, 302) and hop.method == "POST"
    )
    if not to_get:
        return hop.method, hop.body, hop.headers
    headers = hop.headers.copy()
    for name in ("Content-Type", "Content-Length", "Content-Encoding", "Transfer-Encoding"):
        headers.popall(name, None)
    return "GET", None, headers


def _origin(url: URL) -> tuple[str, str, int | None]:
    return url.scheme, (url.host or "").lower(), url.port


def _cross_origin(headers: CIMultiDict[str]) -> CIMultiDict[str]:
    return CIMultiDict((k, v) for k, v in headers.items() if k.lower() in CROSS_ORIGIN_SAFE)


def _remember_cookies(
    jar: aiohttp.CookieJar | None, response: aiohttp.ClientResponse
) -> aiohttp.CookieJar | None:
    """The probe's jar, made on the first Set-Cookie: a site that sets a session cookie and then
    redirects expects it back. The jar dies with the probe; monitors never share cookies."""
    cookies: SimpleCookie = response.cookies
    if not cookies:
        return jar
    if jar is None:
        # `unsafe`: keep cookies of hosts named by IP address too, as browsers do.
        jar = aiohttp.CookieJar(unsafe=True)
    jar.update_cookies(_morsels(cookies), response.url)
    return jar


def _morsels(cookies: SimpleCookie) -> dict[str, Morsel[str]]:
    return dict(cookies.items())
