"""`GET /api/v1/openapi.json`: the OpenAPI 3.1 document of the public JSON API and the heartbeat
check-ins.

The body schemas are the JSON schemas of the models the handlers serialize through
(web/api_models.py), so the document describes what is sent, not what someone remembered to
write down. Error answers are listed per path with the status each one can give.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import JSONResponse

from upwatch import __version__
from upwatch.config.fields import SLUG_RE
from upwatch.config.tokens import MAX_LENGTH as MAX_TOKEN_LENGTH
from upwatch.web.api_models import (
    DeclareIncident,
    Error,
    Incident,
    Incidents,
    MonitorDetail,
    Results,
    StatusDocument,
    WriteUpdate,
)
from upwatch.web.params import TIME_EXAMPLE

REF = "#/components/schemas/{model}"
BODIES: tuple[type[BaseModel], ...] = (StatusDocument, MonitorDetail, Results, Incidents, Error)
REQUESTS: tuple[type[BaseModel], ...] = (DeclareIncident, WriteUpdate)
TEXT = {"text/plain": {"schema": {"type": "string"}}}

ERRORS = {
    400: "a parameter is not valid; the message names it and the rule",
    401: "a wrong `Authorization: Bearer` token, or one sent while UPWATCH_API_TOKEN is not set "
    "(without a Bearer token the answer is the public one)",
    404: "no such monitor: unknown, private and archived ids alike",
    503: "starting up, or the database is unreachable: try again in a moment",
}
WRITE_ERRORS = {
    400: "the body is not valid JSON of the documented shape; the message names the field",
    401: "no or a wrong `Authorization: Bearer <UPWATCH_API_TOKEN>`",
    403: "writing is off: UPWATCH_API_TOKEN is not set",
    503: "starting up, or the database is unreachable: try again in a moment",
}
BEARER = {"bearer": {"type": "http", "scheme": "bearer", "description": "UPWATCH_API_TOKEN"}}
# Anyone may read; the token's holder reads the full technical causes.
OPTIONAL_BEARER: list[dict[str, list[str]]] = [{}, {"bearer": []}]
FULL_CAUSES = "; with UPWATCH_API_TOKEN, causes are the full technical ones"
PING_ERRORS = {
    400: "the token is longer than any valid token",
    404: "no heartbeat monitor with this id and token (a wrong token answers like an unknown id)",
    503: "starting up: try again in a moment",
}


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _json(description: str, model: type[BaseModel]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(model)}}}


def _errors(*statuses: int) -> dict[str, Any]:
    answers = {str(s): _json(ERRORS[s], Error) for s in statuses}
    if 401 in statuses:
        answers["401"]["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
    if 503 in statuses:
        retry = {"description": "seconds to wait", "schema": {"type": "integer"}}
        answers["503"]["headers"] = {"Retry-After": retry}
    return answers


def _path_id(description: str) -> dict[str, Any]:
    return {
        "name": "id",
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string", "pattern": SLUG_RE},
        "example": "api",
    }


SINCE = {
    "name": "since",
    "in": "query",
    "description": f"only what started at or after this ISO 8601 time (`{TIME_EXAMPLE}`); "
    "without an offset it is UTC; empty is the same as absent",
    "schema": {"type": "string", "format": "date-time"},
    "allowEmptyValue": True,
}
LIMIT = {
    "name": "limit",
    "in": "query",
    "description": "at most this many, newest first",
    "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
}


def _get(summary: str, ok: dict[str, Any], *errors: int, **fields: Any) -> dict[str, Any]:
    return {"get": {"summary": summary, **fields, "responses": {"200": ok, **_errors(*errors)}}}


def _post(summary: str, request: type[BaseModel], *errors: int, **fields: Any) -> dict[str, Any]:
    """A write: JSON in, the incident as it now stands out (201)."""
    messages = {**WRITE_ERRORS, 404: "no such incident"}
    answers = {str(s): _json(messages[s], Error) for s in errors}
    answers["401"]["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
    body = {"required": True, "content": {"application/json": {"schema": _ref(request)}}}
    operation = {
        "summary": summary,
        **fields,
        "security": [{"bearer": []}],
        "requestBody": body,
        "responses": {"201": _json("the incident as it now stands", Incident), **answers},
    }
    return {"post": operation}


_FEED_ITEM = {
    "type": "object",
    "required": ["id", "url", "title", "content_text", "date_published", "date_modified"],
    "properties": {
        "id": {"type": "string", "description": "a tag: URI naming the incident"},
        "url": {"type": "string", "description": "the monitor's page"},
        "title": {"type": "string", "example": "Public API is down"},
        "content_text": {"type": "string"},
        "date_published": {"type": "string", "format": "date-time"},
        "date_modified": {"type": "string", "format": "date-time"},
    },
}
_JSON_FEED = {
    "summary": "Incidents of public monitors as a JSON Feed 1.1 (https://www.jsonfeed.org/"
    "version/1.1/), newest first: the same entries as /feed.atom",
    "responses": {
        "200": {
            "description": "the feed; `home_page_url` and `feed_url` only with "
            "status_page.public_url",
            "content": {
                "application/feed+json": {
                    "schema": {
                        "type": "object",
                        "required": ["version", "title", "items"],
                        "properties": {
                            "version": {"const": "https://jsonfeed.org/version/1.1"},
                            "title": {"type": "string"},
                            "home_page_url": {"type": "string"},
                            "feed_url": {"type": "string"},
                            "items": {"type": "array", "items": _FEED_ITEM},
                        },
                    }
                }
            },
        },
        "503": {"description": ERRORS[503], "content": TEXT},
    },
}


def _ping(name: str, summary: str) -> dict[str, Any]:
    monitor = _path_id("the heartbeat monitor's id")
    token = {
        "name": "token",
        "in": "path",
        "required": True,
        "description": "the monitor's token from monitors.yaml",
        "schema": {"type": "string", "minLength": 1, "maxLength": MAX_TOKEN_LENGTH},
    }
    responses = {
        "200": {"description": "the check-in is recorded", "content": TEXT},
        **{str(s): {"description": d, "content": TEXT} for s, d in PING_ERRORS.items()},
    }
    operation = {"summary": summary, "parameters": [monitor, token], "responses": responses}
    return {m: {**operation, "operationId": f"{name}_{m}"} for m in ("get", "post", "head")}


def _paths() -> dict[str, Any]:
    monitor_id = _path_id("the monitor's id")
    return {
        "/api/v1/status": _get(
            "The status page's data: overall status, groups of public monitors, open incidents,"
            " announcements and maintenance",
            _json("the current status", StatusDocument),
            503,
        ),
        "/api/v1/monitors/{id}": _get(
            "One public monitor: its summary, details and latest incidents" + FULL_CAUSES,
            _json("the monitor", MonitorDetail),
            401,
            404,
            503,
            parameters=[monitor_id],
            security=OPTIONAL_BEARER,
        ),
        "/api/v1/monitors/{id}/results": _get(
            "A public monitor's raw results, newest first" + FULL_CAUSES,
            _json("the results", Results),
            400,
            401,
            404,
            503,
            parameters=[monitor_id, SINCE, LIMIT],
            security=OPTIONAL_BEARER,
        ),
        "/api/v1/incidents": _get(
            "Incidents of public monitors, newest first" + FULL_CAUSES,
            _json("the incidents", Incidents),
            400,
            401,
            503,
            parameters=[SINCE, LIMIT],
            security=OPTIONAL_BEARER,
        )
        | _post(
            "Declare an incident by hand (its body is the first update); needs UPWATCH_API_TOKEN",
            DeclareIncident,
            400,
            401,
            403,
            503,
        ),
        "/api/v1/incidents/{id}/updates": _post(
            "Write an update on an incident (a `resolved` update closes a declared incident; a "
            "monitor's incident closes when the monitor recovers); needs UPWATCH_API_TOKEN",
            WriteUpdate,
            400,
            401,
            403,
            404,
            503,
            parameters=[
                {
                    "name": "id",
                    "in": "path",
                    "required": True,
                    "description": "the incident's id",
                    "schema": {"type": "integer", "minimum": 1},
                    "example": 42,
                }
            ],
        ),
        "/api/v1/openapi.json": _get(
            "This document",
            {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {}}}},
        ),
        "/feed.json": {"get": _JSON_FEED},
        "/ping/{id}/{token}": _ping("ping", "Report that a heartbeat job ran"),
        "/ping/{id}/{token}/fail": _ping("ping_fail", "Report that a heartbeat job failed"),
    }


@cache
def document() -> dict[str, Any]:
    models: list[tuple[type[BaseModel], Literal["validation", "serialization"]]] = [
        *((m, "serialization") for m in BODIES),
        *((m, "validation") for m in REQUESTS),
    ]
    _, schemas = models_json_schema(models, ref_template=REF)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "upwatch",
            "version": __version__,
            "description": "The public JSON API of an upwatch status page, and heartbeat"
            " check-ins. Private and archived monitors never appear. Timestamps are ISO 8601 in"
            " UTC with `Z`; absent values are `null`, never omitted.",
        },
        "paths": _paths(),
        "components": {"schemas": schemas["$defs"], "securitySchemes": BEARER},
    }


async def openapi_json(request: Request) -> JSONResponse:
    return JSONResponse(document())
