"""Who is calling the API: `Authorization: Bearer <UPWATCH_API_TOKEN>` or nobody in particular.

Writes need the token. Reads answer everyone, in public words; the token's holder gets the full
technical causes instead, and a wrong token is refused (401) rather than quietly answered in
public words, so a mistyped token is noticed. Only a Bearer credential is a claim to the token: a
reverse proxy's own `Basic` credential, passed on, leaves a read public.
"""

from __future__ import annotations

import hmac
from enum import Enum
from typing import TypeVar

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from upwatch.web.api_models import Error

REALM = 'Bearer realm="upwatch api"'
UNAUTHORIZED = "unauthorized: send the header Authorization: Bearer <UPWATCH_API_TOKEN>"
# An answer for the token's holder must not be kept by a shared cache and handed to the next
# reader; a public answer that varies with the header says so, for the same reason.
PRIVATE_HEADERS = {"Cache-Control": "private, no-store", "Vary": "Authorization"}
PUBLIC_HEADERS = {"Vary": "Authorization"}
R = TypeVar("R", bound=Response)


class Caller(Enum):
    ANONYMOUS = "anonymous"  # no Bearer credential
    TRUSTED = "trusted"  # the right token
    REFUSED = "refused"  # a Bearer credential that is not the token (or no token is set)


def caller(request: Request, token: str | None) -> Caller:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return Caller.ANONYMOUS
    if token is not None and _same(given.strip(), token):
        return Caller.TRUSTED
    return Caller.REFUSED


def _same(given: str, token: str) -> bool:
    """Compared in constant time, so the answer's timing says nothing about the token."""
    return hmac.compare_digest(given.encode(), token.encode())


def unauthorized() -> JSONResponse:
    return JSONResponse(
        Error(error=UNAUTHORIZED).json_data(),
        status_code=401,
        headers={"WWW-Authenticate": REALM, "Cache-Control": "no-store"},
    )


def mark(response: R, who: Caller) -> R:
    """`response` with the cache headers for who asked."""
    response.headers.update(PRIVATE_HEADERS if who is Caller.TRUSTED else PUBLIC_HEADERS)
    return response
