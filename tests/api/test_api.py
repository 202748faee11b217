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


def post(client: Client, openapi: dict[str, Any], path: str, body: dict[str, Any], status: int = 200) -> Any:
    response = client.post(path, body, content_type="application/json")
    assert response.status_code == status, response.content
    schema = openapi["paths"][path]["post"]["responses"][str(status)]["content"]["application/json"]["schema"]
    jsonschema.Draft202012Validator({**openapi, **schema}).validate(response.json())
    return response.json()


def test_facts_vocabulary(client: Client, openapi: dict[str, Any]) -> None:
    facts = {f["name"]: f for f in check(client, openapi, "/api/v1/facts", "/api/v1/facts")}
    assert facts["low_income_status"]["allowed"] == ["none", "destitute", "minimum_allowance", "marginal"]
    assert facts["age"]["derived"] == "full_years(birth_date, :as_of)"
    assert facts["household_size"]["household"] is True


def test_eligibility_for_one_person(client: Client, openapi: dict[str, Any], mini_version: StandardVersion) -> None:
    body = {"as_of": "2026-11-29", "facts": {"birth_date": "1944-05-01", "hukou_area": "331002001901"}}
    [result] = post(client, openapi, "/api/v1/eligibility", {**body, "items": ["test-visit"]})["results"]
    assert result["status"] == "eligible"
    assert result["amount"] == "60.00"
    assert result["name"]["zh"] == "高龄老人上门探访"
    assert [(c["name"], c["passed"], c["clause"]) for c in result["criteria"]] == [
        ("aged-80-plus", True, "4"),
        ("taizhou-hukou", True, "4"),
    ]
    unknown = post(client, openapi, "/api/v1/eligibility", {"facts": {"hukou_area": "331002001901"}})["results"][0]
    assert unknown["status"] == "unknown"
    assert unknown["missing"] == ["birth_date"]
    # Beside the codes, the same answer in the words the self-check uses, in Chinese and English.
    assert result["level_text"] == {"zh": "每月 60 元", "en": "60 yuan a month"}
    assert result["criteria"][0]["source"] == {
        "zh": "依据《测试上门探访服务规范》第 4 条",
        "en": "Clause 4 of Test home visit service specification",
    }
    assert result["self_paid"] is False
    assert unknown["level_text"] is None
    assert unknown["missing_text"] == [{"zh": "出生日期", "en": "Date of birth"}]


def test_eligibility_words_for_shared_self_paid_and_national_items(
    client: Client, openapi: dict[str, Any], db: None
) -> None:
    from django.core.management import call_command

    from tests.conftest import REPO

    call_command("standards", "load", str(REPO / "standards"))
    facts = {
        "birth_date": "1944-05-01",
        "hukou_area": "331002001901",
        "residence_area": "331002001901",
        "low_income_status": "minimum_allowance",
        "care_need": "moderate",
    }
    body = {"as_of": "2026-11-29", "facts": facts, "items": ["hc-meals", "hc-package-health", "sr-destitute-support"]}
    results = {r["item"]: r for r in post(client, openapi, "/api/v1/eligibility", body)["results"]}
    meals, package = results["hc-meals"], results["hc-package-health"]
    assert (meals["amount"], meals["shared"], meals["national_item"]) == (
        "500.00",
        "hc-monthly-allowance",
        "gb-elderly-welfare-subsidy",
    )
    assert meals["implements_text"]["zh"] == "落实国家基本公共服务标准“老年人福利补贴”"
    assert meals["level_text"]["zh"] == "每月 500 元"
    assert package["self_paid"] is True
    assert package["level_text"] == {
        "zh": "自费购买，价格每月 100 元",
        "en": "Bought at one's own cost, at 100 yuan a month",
    }
    assert results["sr-destitute-support"]["implements_text"]["en"] == (
        "Implements the national basic public service item “Support for persons in extreme poverty”"
    )


@pytest.mark.parametrize(
    ("facts", "message"),
    [
        ({"agee": 80}, "agee: not a fact in the vocabulary"),
        ({"age": 80}, "age: is derived from other facts"),
        ({"birth_date": "1944-13-01"}, "birth_date: must be a date"),
        ({"low_income_status": "poor"}, "low_income_status: must be one of none, destitute"),
        ({"income": -5}, "income: cannot be negative"),
        ({"disability_grade": "two"}, "disability_grade: must be a whole number"),
        ({"hukou_area": "33"}, "hukou_area: must be an area code"),
    ],
)
def test_eligibility_rejects_bad_facts(
    client: Client, openapi: dict[str, Any], mini_version: StandardVersion, facts: dict[str, Any], message: str
) -> None:
    detail = post(client, openapi, "/api/v1/eligibility", {"facts": facts}, 422)["detail"]
    assert message in detail


def test_eligibility_rejects_unknown_items(
    client: Client, openapi: dict[str, Any], mini_version: StandardVersion
) -> None:
    assert "no-such" in post(client, openapi, "/api/v1/eligibility", {"items": ["no-such"]}, 422)["detail"]


def test_eligibility_of_a_registered_person_is_scoped_and_audited(
    client: Client, openapi: dict[str, Any], mini_version: StandardVersion
) -> None:
    import datetime as dt

    from fuwu.accounts.models import Department, Role, User
    from fuwu.areas.models import Area, AreaLevel
    from fuwu.common.models import AuditLog
    from tests.residents.factories import PersonFactory

    city = Area.objects.create(code="331000", name_zh="台州市", level=AreaLevel.CITY)
    department = Department.objects.create(code="civil-affairs", name_zh="民政局")
    officers = {
        code: User.objects.create_user(
            f"officer-{code}",
            password="x-long-password-1",
            role=Role.DEPARTMENT_OFFICER,
            department=department,
            area=Area.objects.create(code=code, name_zh=code, level=AreaLevel.COUNTY, parent=city),
        )
        for code in ("331002", "331003")
    }
    person = PersonFactory(birth_date=dt.date(1944, 5, 1))
    body = {"as_of": "2026-11-29", "person_id": person.pk, "items": ["test-visit"]}
    assert post(client, openapi, "/api/v1/eligibility", body, 404)["detail"].startswith("person_id")  # anonymous
    client.force_login(officers["331003"])  # another county
    post(client, openapi, "/api/v1/eligibility", body, 404)
    client.force_login(officers["331002"])
    [result] = post(client, openapi, "/api/v1/eligibility", body)["results"]
    assert result["status"] == "eligible"
    assert AuditLog.objects.filter(event="person.eligibility_checked", actor=officers["331002"]).count() == 1
