"""Schemathesis over /api/v1/openapi.json, in process through the WSGI application: anonymous and as staff.

Every generated request (valid and, for parameters, boundary values the schema allows) must get an answer the
document declares — status, content type and body schema — and never a 5xx. Bounded to a few examples per
operation and derandomised, so it runs in well under two minutes on a shared two-core machine and a failure
reproduces.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from fuwu.api.api import api
from fuwu.wsgi import application
from tests.security.conftest import client_as
from tests.security.world import World

pytestmark = pytest.mark.django_db

DOCUMENT = api.get_openapi_schema(path_prefix="/api/v1")

# Requests the document allows: the answer must be one it declares (status, content type, body).
positive = schemathesis.openapi.from_dict(DOCUMENT)
positive.app = application
# NUL bytes are tested on their own (test_injection.py::test_a_nul_byte_gets_an_answer_not_a_500).
positive.config.generation.update(modes=[GenerationMode.POSITIVE], allow_x00=False)
# Requests it does not allow (wrong types, missing fields, out-of-range values): never a 5xx, and the refusal is
# one the document declares (the 422 of fuwu.api.refusals, on every operation), in the declared shape.
negative = schemathesis.openapi.from_dict(DOCUMENT)
negative.app = application
negative.config.generation.update(modes=[GenerationMode.NEGATIVE], allow_x00=False)

CONFORMANCE = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
CSRF = "s" * 32  # an unmasked secret: the same value in the cookie and the header passes Django's check
BOUNDED = settings(
    max_examples=6, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)


@pytest.fixture(autouse=True)
def _one_connection() -> Iterator[None]:
    """The WSGI handler closes the database connection after each request; the test's transaction lives on it.

    Django's test client does the same as this: it disconnects ``close_old_connections`` while it asks.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _headers(world: World, role: str) -> dict[str, str]:
    if role == "anonymous":
        return {}
    session = client_as(world, role).cookies["sessionid"].value
    return {"Cookie": f"sessionid={session}; csrftoken={CSRF}", "X-CSRFToken": CSRF}


@pytest.mark.parametrize("role", ["anonymous", "officer"])
@positive.parametrize()
@BOUNDED
def test_valid_requests_get_the_documented_answer(world: World, role: str, case: Any) -> None:
    case.call_and_validate(headers=_headers(world, role), checks=CONFORMANCE)


@pytest.mark.parametrize("role", ["anonymous", "officer"])
@negative.parametrize()
@BOUNDED
def test_invalid_requests_get_a_documented_refusal(world: World, role: str, case: Any) -> None:
    case.call_and_validate(headers=_headers(world, role), checks=CONFORMANCE)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/api/v1/items?life_area=true", None),
        ("get", "/api/v1/standards/taizhou-home-care?version=AAA", None),
        ("get", "/api/v1/search", None),
        ("get", "/api/v1/homecare/projects?on=AAA", None),
        ("post", "/api/v1/eligibility", ""),
    ],
)
def test_validation_errors_are_in_the_document(client: Client, method: str, path: str, body: str | None) -> None:
    response = client.get(path) if method == "get" else client.post(path, body, content_type="application/json")
    operation = DOCUMENT["paths"][path.split("?")[0].replace("taizhou-home-care", "{key}")][method]
    declared = operation["responses"]
    assert str(response.status_code) in declared, f"{response.status_code} not in {sorted(declared)}"
    schema = declared[str(response.status_code)]["content"]["application/json"]["schema"]
    if "$ref" in schema:
        schema = DOCUMENT["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    jsonschema.validate(response.json(), {**schema, "components": DOCUMENT.get("components", {})})
    assert response.status_code == 422
    answer = response.json()
    assert answer["code"] == "invalid", answer
    assert answer["errors"], answer
    assert isinstance(answer["detail"], str)
