"""The JSON API: every response is checked against the OpenAPI document the API publishes."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from django.test import Client
from openapi_spec_validator import validate as validate_spec

from fuwu.areas.services import areas_load
from fuwu.standards.models import StandardVersion
from tests.conftest import REPO

pytestmark = pytest.mark.django_db


@pytest.fixture
def openapi(client: Client) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def check(client: Client, openapi: dict[str, Any], path: str, template: str, status: int = 200) -> Any:
    """GET ``path`` and validate the body against the schema for ``template`` and ``status``."""
    response = client.get(path)
    assert response.status_code == status, response.content
    operation = openapi["paths"][template]["get"]
    schema = operation["responses"][str(status)]["content"]["application/json"]["schema"]
    # The response schema, rooted in the OpenAPI document so "#/components/..." references resolve.
    root = {**openapi, **schema}
    jsonschema.Draft202012Validator(root).validate(response.json())
    return response.json()


def test_the_openapi_document_is_valid_openapi_3(openapi: dict[str, Any]) -> None:
    validate_spec(openapi)
    assert openapi["openapi"].startswith("3.")
    assert {"/api/v1/standards", "/api/v1/items/{key}", "/api/v1/areas", "/api/v1/search"} <= set(openapi["paths"])


def test_browsable_docs(client: Client) -> None:
    assert client.get("/api/v1/docs").status_code == 200


def test_standards_endpoints(client: Client, openapi: dict[str, Any], mini_version: StandardVersion) -> None:
    [standard] = check(client, openapi, "/api/v1/standards", "/api/v1/standards")
    assert standard["code"] == "DB3310/T 999—2021"
    detail = check(client, openapi, "/api/v1/standards/test-home-visits", "/api/v1/standards/{key}")
    assert [c["number"] for c in detail["clauses"]] == ["1", "4", "5", "5.1", "5.2", "6"]
    assert detail["clauses"][3]["parent"] == "5"
    assert detail["parameters"][0]["values"][1]["value"]["100+"] == "500"
    missing = check(client, openapi, "/api/v1/standards/nope", "/api/v1/standards/{key}", 404)
    assert "nope" in missing["detail"]
    check(client, openapi, "/api/v1/standards/test-home-visits?version=7", "/api/v1/standards/{key}", 404)


def test_items_endpoints(client: Client, openapi: dict[str, Any], mini_version: StandardVersion) -> None:
    items = check(client, openapi, "/api/v1/items?life_area=elderly", "/api/v1/items")
    assert [i["key"] for i in items] == ["test-visit"]
    assert check(client, openapi, "/api/v1/items?life_area=education", "/api/v1/items") == []
    assert client.get("/api/v1/items?life_area=moon").status_code == 422
    item = check(client, openapi, "/api/v1/items/test-visit", "/api/v1/items/{key}")
    assert item["document"]["steps"][1]["legal_limit_days"] == 10
    check(client, openapi, "/api/v1/items/nope", "/api/v1/items/{key}", 404)


def test_areas_endpoints(client: Client, openapi: dict[str, Any]) -> None:
    areas_load(path=REPO / "data" / "areas" / "taizhou.yaml", villages_per_township=1)
    counties = check(client, openapi, "/api/v1/areas?parent=331000", "/api/v1/areas")
    assert len(counties) == 9
    assert check(client, openapi, "/api/v1/areas/331081", "/api/v1/areas/{code}")["name"]["zh"] == "温岭市"
    check(client, openapi, "/api/v1/areas/999999", "/api/v1/areas/{code}", 404)


def test_search_endpoint(client: Client, openapi: dict[str, Any], mini_version: StandardVersion) -> None:
    result = check(client, openapi, "/api/v1/search?q=%E4%B8%8A%E9%97%A8", "/api/v1/search")
    assert [i["key"] for i in result["items"]] == ["test-visit"]
    assert client.get("/api/v1/search").status_code == 422
    assert client.get("/api/v1/search?q=" + "x" * 101).status_code == 422
