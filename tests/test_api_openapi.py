"""`GET /api/v1/openapi.json`: a valid OpenAPI 3.1 document of every JSON and check-in route,
with the error answers each one gives. (tests/test_api_fuzz.py checks real answers against it.)"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
import schemathesis
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.store_helpers import Harness, MakeHarness, config, http
from upwatch.web.app import routes
from upwatch.web.openapi import document

MakeClient = Callable[[Harness], httpx.AsyncClient]


async def test_the_document_is_served_as_valid_openapi_3_1(
    engine: AsyncEngine, make_harness: MakeHarness, make_client: MakeClient
) -> None:
    harness = await make_harness(config(http("api")))

    response = await make_client(harness).get("/api/v1/openapi.json")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    served = response.json()
    assert served["openapi"] == "3.1.0"
    schemathesis.openapi.from_dict(served).validate()  # raises on a document that is not valid


def test_every_json_and_check_in_route_is_documented() -> None:
    served = {r.path for r in routes() if r.path.startswith(("/api/", "/ping/", "/feed.json"))}

    assert set(document()["paths"]) == served


@pytest.mark.parametrize(
    ("path", "method", "statuses"),
    [
        ("/api/v1/status", "get", {"200", "503"}),
        ("/api/v1/monitors/{id}", "get", {"200", "401", "404", "503"}),
        ("/api/v1/monitors/{id}/results", "get", {"200", "400", "401", "404", "503"}),
        ("/api/v1/incidents", "get", {"200", "400", "401", "503"}),
        ("/ping/{id}/{token}", "post", {"200", "400", "404", "503"}),
        ("/ping/{id}/{token}/fail", "head", {"200", "400", "404", "503"}),
        ("/feed.json", "get", {"200", "503"}),
    ],
)
def test_each_operation_lists_its_error_answers(path: str, method: str, statuses: set[str]) -> None:
    responses = document()["paths"][path][method]["responses"]

    assert set(responses) == statuses
    if path.startswith("/api/"):
        errors = [responses[s] for s in statuses - {"200"}]
        assert all(
            e["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
            for e in errors
        )


def test_body_schemas_require_every_key_and_allow_no_other() -> None:
    schemas = document()["components"]["schemas"]

    incident = schemas["Incident"]
    assert incident["additionalProperties"] is False
    assert set(incident["required"]) == set(incident["properties"])
    assert set(schemas["Uptime"]["required"]) == {"24h", "7d", "30d", "90d"}
