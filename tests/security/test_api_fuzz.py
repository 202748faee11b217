"""Schemathesis over /api/v1/openapi.json, in process through the WSGI application: anonymous and as staff.

Every generated request (valid and, for parameters, boundary values the schema allows) must get an answer the
document declares — status, content type and body schema — and never a 5xx. Bounded to a few examples per
operation and derandomised, so it runs in well under two minutes on a shared two-core machine and a failure
reproduces.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
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

schema = schemathesis.openapi.from_dict(api.get_openapi_schema(path_prefix="/api/v1"))
schema.app = application

CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
CSRF = "s" * 32  # an unmasked secret: the same value in the cookie and the header passes Django's check


def _headers(world: World, role: str) -> dict[str, str]:
    if role == "anonymous":
        return {}
    session = client_as(world, role).cookies["sessionid"].value
    return {"Cookie": f"sessionid={session}; csrftoken={CSRF}", "X-CSRFToken": CSRF}


@pytest.mark.parametrize("role", ["anonymous", "officer"])
@schema.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_answers_as_its_document_says(world: World, role: str, case: Any) -> None:
    case.call_and_validate(headers=_headers(world, role), checks=CHECKS)
