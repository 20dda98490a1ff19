"""Schemathesis against the real server: every operation of `/api/v1/openapi.json`, with valid and
invalid inputs, on the demo's seeded database (SQLite and PostgreSQL), served by uvicorn on
127.0.0.1.

Each answer must be no 5xx, a status the document lists for that operation, and a body and
content type that match the document. The number of examples is bounded and derandomized, so a
run takes seconds and a failure comes back the same every time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from hypothesis.strategies import SearchStrategy
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.errors import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.page_data import ENV, demo_config, seed_demo
from tests.store_helpers import MakeHarness, app_context, on_uvicorn
from upwatch.web.app import create_app

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
]
EXAMPLES = 30  # per operation and generation mode
# Ids that exist, so that query parameters are also tried on real rows (random ids are 404s).
KNOWN = {
    "/api/v1/monitors/{id}": {"id": "api"},
    "/api/v1/monitors/{id}/results": {"id": "api"},
    "/ping/{id}/{token}": {"id": "backup", "token": ENV["BACKUP_TOKEN"]},
    "/ping/{id}/{token}/fail": {"id": "backup", "token": ENV["BACKUP_TOKEN"]},
}
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
async def served(engine: AsyncEngine, make_harness: MakeHarness) -> AsyncIterator[str]:
    """The demo's status page (open and resolved incidents, maintenance, a paused, a private
    and a heartbeat monitor) on a real uvicorn; yields its base URL."""
    harness = await seed_demo(make_harness, demo_config())
    async with on_uvicorn(create_app(app_context(harness))) as url:
        yield url


def cases(operation: APIOperation, mode: GenerationMode) -> SearchStrategy[Case]:
    """Generated cases; in positive mode half of them on a monitor that exists."""
    generated = operation.as_strategy(generation_mode=mode)
    known = KNOWN.get(operation.path)
    if mode is GenerationMode.NEGATIVE or known is None:
        return generated
    return generated | operation.as_strategy(generation_mode=mode, path_parameters=known)


def fuzz(base_url: str) -> list[str]:
    """Every operation in both generation modes; a description of each failure found."""
    schema = schemathesis.openapi.from_url(f"{base_url}/api/v1/openapi.json", timeout=10)
    failures = []
    with requests.Session() as session:
        for found in schema.get_all_operations():
            operation = found.ok()
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

                @FUZZ
                @given(case=cases(operation, mode))
                def check(case: Case) -> None:
                    case.call_and_validate(base_url=base_url, session=session, checks=CHECKS)

                try:
                    check()
                except Unsatisfiable:  # no parameter to get wrong (negative mode)
                    assert mode is GenerationMode.NEGATIVE, operation.label
                except (FailureGroup, Exception) as failure:  # each with its request as curl
                    failures.append(f"{operation.label} ({mode.value}): {failure}")
    return failures


async def test_every_api_answer_conforms_to_the_openapi_document(served: str) -> None:
    failures = await asyncio.to_thread(fuzz, served)

    assert not failures, "\n\n".join(failures)
