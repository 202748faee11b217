"""Every int, date and month a home-care page or the API reads, out of range or malformed: never a 500.

The review (issue 9) found nine such inputs; this sweeps every parameter of the kind across the API and the
home-care, registry and proactive pages, as each role, and then names the answers the pages give.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from fuwu.accounts.models import Role
from tests.homecare.conftest import World, make_user

pytestmark = pytest.mark.django_db

BIG = "9223372036854775808"
INTS = [BIG, "99999999999999999999999", "-1", "0", "1e5", "abc"]
DAYS = ["0001-01-01", "9999-12-31", "0000-01-01", "2026-02-30"]
MONTHS = ["0000-01", "0001-01", "9999-12", "2026-13"]


def requests(world: World) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, options) for every parameter of an id, a day or a month."""
    account, elder, provider = world.account.pk, world.elder.pk, world.provider.pk
    out: list[tuple[str, str, dict[str, Any]]] = []
    for v in INTS:
        out += [
            ("get", f"/api/v1/homecare/orders?person_id={v}", {}),
            ("get", f"/api/v1/homecare/orders?offset={v}", {}),
            ("get", f"/api/v1/homecare/orders/{v}", {}),
            ("get", f"/api/v1/homecare/accounts/{v}/statement", {}),
            ("get", f"/homecare/office/plan/?provider={v}", {}),
            ("get", f"/homecare/office/accounts/?page={v}", {}),
            ("get", f"/residents/?page={v}", {}),
            ("get", f"/proactive/{v}/list/" if v.isdigit() else "/proactive/", {}),
            ("post", "/homecare/reports/settlements/generate/", {"data": {"provider": v, "month": "2026-11"}}),
            ("post", "/homecare/office/plan/absent/", {"data": {"caregiver": v, "day": "2026-12-01", "reason": "x"}}),
        ]
    for v in DAYS:
        out += [
            ("get", f"/api/v1/homecare/projects?on={v}", {}),
            ("get", f"/homecare/route/?day={v}", {}),
            ("get", f"/homecare/office/plan/?day={v}&provider={provider}", {}),
            ("post", "/homecare/office/plan/", {"data": {"provider": provider, "day": v}}),
            (
                "post",
                "/homecare/office/plan/absent/",
                {"data": {"provider": provider, "caregiver": world.caregiver.pk, "day": v, "reason": "x"}},
            ),
            ("post", "/proactive/screen/", {"data": {"as_of": v}}),
            ("post", f"/homecare/elders/{elder}/book/", {"data": {"project": "hc-meals", "day": v}}),
        ]
    for start, end in [
        ("9999-12-31T23:00:00-12:00", "9999-12-31T23:30:00-12:00"),
        ("0001-01-01T00:30:00+14:00", "0001-01-01T01:00:00+14:00"),
        ("2026-12-01T08:00:00+08:00", "9999-12-31T23:30:00-12:00"),
    ]:
        body = {"person_id": elder, "item": "hc-meals", "window_start": start, "window_end": end}
        out.append(
            (
                "post",
                "/api/v1/homecare/orders",
                {"data": json.dumps(body), "content_type": "application/json", "headers": {"Idempotency-Key": start}},
            )
        )
    for v in MONTHS:
        out += [
            ("get", f"/api/v1/homecare/accounts/{elder}/statement?month={v}", {}),
            ("get", f"/homecare/reports/statement/{account}/{v}/", {}),
            ("get", f"/homecare/reports/statement/{account}/{v}.pdf", {}),
            ("get", f"/homecare/reports/settlements/?month={v}", {}),
            ("get", f"/homecare/reports/supervision/?month={v}", {}),
            ("get", f"/homecare/office/accounts/{account}/?month={v}", {}),
            ("post", "/homecare/reports/settlements/generate/", {"data": {"provider": provider, "month": v}}),
            ("post", "/homecare/reports/supervision/sample/", {"data": {"month": v}}),
        ]
    return out


@pytest.mark.parametrize("who", ["officer", "provider_admin", "caregiver_user", "family", "auditor"])
def test_no_parameter_gives_a_500(world: World, who: str) -> None:
    user = make_user("auditor", Role.AUDITOR, None) if who == "auditor" else world.user(who)
    client = Client(raise_request_exception=False)
    client.force_login(user)
    failures = []
    for method, path, options in requests(world):
        response = getattr(client, method)(path, **options)
        if response.status_code >= 500:
            failures.append(f"{method.upper()} {path} {options.get('data', '')}")
    assert failures == []


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_a_day_out_of_range_is_400_with_a_message(client: Client, world: World, day: str) -> None:
    client.force_login(world.caregiver_user)
    route = client.get(f"/homecare/route/?day={day}")
    assert route.status_code == 400
    assert "日期超出范围" in route.content.decode()
    client.force_login(world.provider_admin)
    plan = client.get(f"/homecare/office/plan/?day={day}&provider={world.provider.pk}")
    assert plan.status_code == 400
    assert "1900-01-01" in plan.content.decode()


@pytest.mark.parametrize("month", ["0001-01", "9999-12"])
def test_a_statement_of_a_month_out_of_range_is_404(client: Client, world: World, month: str) -> None:
    client.force_login(world.family)
    assert client.get(f"/homecare/reports/statement/{world.account.pk}/{month}/").status_code == 404
    assert client.get(f"/homecare/reports/statement/{world.account.pk}/2199-12/").status_code == 200


def test_the_nan_body_and_the_big_body_of_the_review(client: Client, world: World) -> None:
    client.force_login(world.family)
    nan = client.post("/api/v1/eligibility", '{"facts": {"income": NaN}}', content_type="application/json")
    assert nan.status_code == 400
    big = client.post(
        "/api/v1/eligibility", json.dumps({"facts": {"sex": "x" * 3_000_000}}), content_type="application/json"
    )
    assert big.status_code == 413
