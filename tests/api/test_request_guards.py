"""What the API refuses before any handler runs, and the inputs that used to answer 500 (issue 9)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client

from fuwu.accounts.models import Role, User
from fuwu.common.models import AuditLog
from fuwu.standards.models import StandardVersion
from tests.homecare.conftest import World
from tests.homecare.conftest import world as world  # the home-care world of tests/homecare, shared
from tests.residents.factories import PersonFactory

pytestmark = pytest.mark.django_db

ELIGIBILITY = "/api/v1/eligibility"
FACTS = {"facts": {"birth_date": "1944-05-01", "hukou_area": "331002001901"}, "items": ["test-visit"]}


def _json(response: Any, status: int) -> Any:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    return response.json()


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_json_nan_and_infinity_are_400(client: Client, mini_version: StandardVersion, constant: str) -> None:
    body = '{"facts": {"income": %s}}' % constant  # noqa: UP031 - JSON text, not a format
    answer = _json(client.post(ELIGIBILITY, body, content_type="application/json"), 400)
    detail = answer["detail"]
    assert answer["code"] == "bad_json"
    assert detail.startswith("body: not valid JSON")
    assert constant.lstrip("-") in detail


def test_a_fact_given_as_the_string_nan_is_422(client: Client, mini_version: StandardVersion) -> None:
    body = {"facts": {"income": "NaN"}}
    assert _json(client.post(ELIGIBILITY, body, content_type="application/json"), 422)["detail"] == (
        "income: must be a finite number"
    )


def test_a_body_over_the_cap_is_413_before_it_is_read(client: Client, mini_version: StandardVersion) -> None:
    big = json.dumps({"facts": {"sex": "x" * 3_000_000}})
    answer = _json(client.post(ELIGIBILITY, big, content_type="application/json"), 413)
    detail = answer["detail"]
    assert answer["code"] == "too_large"
    assert detail.startswith("body: ")
    assert "65536" in detail


def test_the_cap_is_a_setting(client: Client, mini_version: StandardVersion, settings: Any) -> None:
    settings.FUWU_API_MAX_BODY = 10
    _json(client.post(ELIGIBILITY, FACTS, content_type="application/json"), 413)


def test_a_logged_in_post_needs_the_csrf_token(mini_version: StandardVersion) -> None:
    """A cross-site text/plain form post carries the session cookie but not the token: refused, nothing audited."""
    officer = User.objects.create_user("auditor", password="x-long-password-1", role=Role.AUDITOR)
    person = PersonFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(officer)
    body = json.dumps({"person_id": person.pk})
    refused = _json(client.post(ELIGIBILITY, body, content_type="text/plain"), 403)
    assert refused["detail"].startswith("CSRF check failed")
    assert refused["code"] == "csrf_failed"
    _json(client.post(ELIGIBILITY, body, content_type="application/json"), 403)
    assert not AuditLog.objects.filter(object_type="residents.person").exists()
    token = _get_new_csrf_string()
    client.cookies["csrftoken"] = token
    _json(client.post(ELIGIBILITY, body, content_type="application/json", headers={"X-CSRFToken": token}), 200)
    assert AuditLog.objects.filter(event="person.eligibility_checked", object_id=str(person.pk)).exists()


def test_anonymous_facts_need_no_token(mini_version: StandardVersion) -> None:
    client = Client(enforce_csrf_checks=True)
    _json(client.post(ELIGIBILITY, FACTS, content_type="application/json"), 200)


BIG = "9223372036854775808"  # one past the largest 64-bit id


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/homecare/orders?person_id={BIG}",
        f"/api/v1/homecare/orders?offset={BIG}",
        f"/api/v1/homecare/orders/{BIG}",
        f"/api/v1/homecare/accounts/{BIG}/statement",
        "/api/v1/homecare/projects?on=0001-01-01",
        "/api/v1/homecare/projects?on=9999-12-31",
        f"/api/v1/standards/x?version={BIG}",
    ],
)
def test_out_of_range_parameters_are_422(client: Client, world: World, path: str) -> None:
    client.force_login(world.officer)
    answer = _json(client.get(path), 422)
    assert answer["code"] == "invalid"
    assert isinstance(answer["detail"], str)  # one line naming each parameter (fuwu.api.refusals)
    assert answer["errors"]  # the list of problems, each naming the parameter
    assert {p["loc"][-1] for p in answer["errors"]} <= {"person_id", "offset", "order_id", "on", "version"}
    assert answer["errors"][0]["loc"][-1] in answer["detail"]


@pytest.mark.parametrize("month", ["0000-01", "0001-01", "9999-12", "2026-13"])
def test_an_out_of_range_statement_month_is_422(client: Client, world: World, month: str) -> None:
    client.force_login(world.officer)
    answer = _json(client.get(f"/api/v1/homecare/accounts/{world.elder.pk}/statement?month={month}"), 422)
    assert answer["code"] == "bad_month"
    assert answer["detail"].startswith("month: ")


def test_an_eligibility_as_of_out_of_range_is_422(client: Client, mini_version: StandardVersion) -> None:
    detail = _json(client.post(ELIGIBILITY, {**FACTS, "as_of": "0001-01-01"}, content_type="application/json"), 422)
    assert "between 1900-01-01 and 2199-12-31" in json.dumps(detail, ensure_ascii=False)
