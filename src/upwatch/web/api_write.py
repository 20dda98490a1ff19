"""The API's writes: `POST /api/v1/incidents` declares an incident, `POST
/api/v1/incidents/{id}/updates` writes an update on any incident.

Both need `Authorization: Bearer <UPWATCH_API_TOKEN>`; without the token configured they are
refused (403), with a wrong or missing one answered 401. The change and its `incident.updated`
messages commit in one transaction (`store.incident_effects`), as the CLI's do.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse

from upwatch.store import incident_effects, reads
from upwatch.web.api_auth import Caller, caller, mark, unauthorized
from upwatch.web.api_models import DeclareIncident, Error, WriteUpdate
from upwatch.web.context import AppContext
from upwatch.web.params import BadParameter
from upwatch.web.status import incident

MAX_BODY = 64 * 1024
_DIGITS = "0123456789"
M = TypeVar("M", bound=BaseModel)


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(Error(error=message).json_data(), status_code=status, headers=headers)


def _refusal(request: Request, ctx: AppContext) -> JSONResponse | None:
    """Why this request may not write, or None when it may."""
    token = ctx.settings.api_token
    if token is None:
        return _error(403, "writing through the API is off: set UPWATCH_API_TOKEN to turn it on")
    if caller(request, token) is not Caller.TRUSTED:
        return unauthorized()
    if ctx.engine is None:
        return _error(503, "starting up", {"Retry-After": "5"})
    return None


async def _body(request: Request, model: type[M]) -> M:
    """The JSON body as `model`; BadParameter (400) naming what is wrong otherwise."""
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise BadParameter("body", f"is larger than {MAX_BODY} bytes")
    try:
        data: Any = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadParameter("body", "must be a JSON object") from None
    if not isinstance(data, dict):
        raise BadParameter("body", "must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise BadParameter(where, _rule(first)) from None


def _rule(error: Any) -> str:
    """Pydantic's message in the API's words (`title is required`)."""
    if error["type"] == "missing":
        return "is required"
    if error["type"] == "extra_forbidden":
        return "is not a known field"
    message = str(error["msg"])
    return message[:1].lower() + message[1:]


async def declare(request: Request) -> JSONResponse:
    ctx: AppContext = request.app.state.ctx
    refused = _refusal(request, ctx)
    if refused is not None:
        return refused
    asked = await _body(request, DeclareIncident)
    assert ctx.engine is not None
    now = ctx.clock()
    try:
        async with ctx.engine.begin() as connection:
            done = await incident_effects.declare(
                connection,
                ctx.loaded.shown(),
                title=asked.title,
                body=asked.body,
                status=asked.status,
                monitor_ids=asked.monitors,
                severity=asked.severity,
                now=now,
            )
    except incident_effects.UnknownMonitors as exc:
        raise BadParameter("monitors", f"names no monitor {', '.join(exc.ids)}") from None
    return await _answer(ctx, done.incident_id, 201)


async def add_update(request: Request) -> JSONResponse:
    ctx: AppContext = request.app.state.ctx
    refused = _refusal(request, ctx)
    if refused is not None:
        return refused
    text: str = request.path_params["id"]
    if not (0 < len(text) <= 18 and all(c in _DIGITS for c in text)):
        return _error(404, "no such incident")
    asked = await _body(request, WriteUpdate)
    assert ctx.engine is not None
    try:
        async with ctx.engine.begin() as connection:
            done = await incident_effects.add_update(
                connection,
                ctx.loaded.shown(),
                int(text),
                status=asked.status,
                body=asked.body,
                now=ctx.clock(),
            )
    except incident_effects.NoSuchIncident:
        return _error(404, "no such incident")
    return await _answer(ctx, done.incident_id, 201)


async def _answer(ctx: AppContext, incident_id: int, status: int) -> JSONResponse:
    """The incident as it now stands (full causes: the caller holds the token)."""
    assert ctx.engine is not None
    ctx.pages.clear()  # the page, the feed and /api/v1/status show the update at once
    async with ctx.engine.connect() as connection:
        record = await reads.incident_record(connection, incident_id)
    assert record is not None
    body = incident(record, ctx.loaded.shown(), ctx.clock(), full=True)
    return mark(JSONResponse(body.json_data(), status_code=status), Caller.TRUSTED)
