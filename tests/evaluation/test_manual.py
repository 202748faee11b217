"""Indicators entered by hand: who may, what is kept (who, when, source; audited), bad input, and the engine
never touching them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from fuwu.accounts.models import Department, Role, User
from fuwu.common.models import AuditLog
from fuwu.evaluation.engine import Period, indicators_compute
from fuwu.evaluation.manual import manual_value_enter, parse_period
from fuwu.evaluation.models import ManualValue
from fuwu.standards.models import Indicator
from tests.compliance.conftest import World, make_user
from tests.compliance.conftest import world as compliance_world  # noqa: F401 - a fixture, used by name

VETERANS = "taizhou-veterans-service-centre"
SATISFACTION = "vc-satisfaction"
URL = reverse("evaluation:manual", args=[VETERANS, SATISFACTION])


@pytest.fixture
def world(compliance_world: World) -> World:  # noqa: F811
    bureau = Department.objects.create(code="veterans", name_zh="退役军人事务局")
    areas = compliance_world.areas
    compliance_world.users["vet"] = make_user("vet", Role.DEPARTMENT_OFFICER, areas["331002"], department=bureau)
    compliance_world.users["vet_hy"] = make_user("vet_hy", Role.DEPARTMENT_OFFICER, areas["331003"], department=bureau)
    return compliance_world


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def indicator(key: str = SATISFACTION) -> Indicator:
    return Indicator.objects.get(version__standard__key=VETERANS, key=key)


GOOD = {
    "area": "331002",
    "period_kind": "quarter",
    "period": "2026-Q3",
    "value": "92.5",
    "numerator": "185",
    "denominator": "200",
    "source_document": "椒江区2026年第三季度退役军人服务满意度测评报告",
    "source_date": "2026-10-12",
    "note": "第三方测评，抽样200人",
}


def test_an_officer_of_the_leading_department_enters_a_value_and_the_dashboard_shows_it(world: World) -> None:
    client = client_for(world.users["vet"])
    assert client.get(URL).status_code == 200
    response = client.post(URL, GOOD)
    assert response.status_code == 302
    row = ManualValue.objects.get()
    assert (row.area.code, row.period_kind, row.period_start) == ("331002", "quarter", dt.date(2026, 7, 1))
    assert (row.value, row.numerator, row.denominator) == (Decimal("92.5"), 185, 200)
    assert row.entered_by == world.users["vet"]
    log = AuditLog.objects.get(event="evaluation.manual_value_entered")
    assert log.actor == world.users["vet"]
    assert log.after is not None
    assert log.after["source_document"] == GOOD["source_document"]
    # The dashboard of the county (and the city's, for the standards office) marks it as entered by hand.
    page = client.get(reverse("evaluation:standard", args=[VETERANS])).content.decode()
    assert "人工填报" in page
    assert GOOD["source_document"] in page
    assert "2026-10-12" in page
    office = client_for(world.users["stdoffice"])
    city_page = office.get(reverse("evaluation:area", args=[VETERANS, "331002"])).content.decode()
    assert GOOD["source_document"] in city_page
    assert URL not in city_page  # the office reads; it does not enter


def test_a_correction_keeps_the_earlier_value_in_the_audit_log(world: World) -> None:
    client = client_for(world.users["vet"])
    client.post(URL, GOOD)
    client.post(URL, {**GOOD, "value": "90", "numerator": "180", "note": "更正：剔除重复样本"})
    row = ManualValue.objects.get()
    assert row.value == Decimal(90)
    corrected = AuditLog.objects.get(event="evaluation.manual_value_corrected")
    assert corrected.before is not None
    assert corrected.after is not None
    assert (corrected.before["value"], corrected.after["value"]) == ("92.5000", "90.0000")


@pytest.mark.parametrize("who", ["officer", "stdoffice", "auditor", "resident", "inspector0"])
def test_others_may_not_enter(world: World, who: str) -> None:
    client = client_for(world.users[who])
    assert client.get(URL).status_code == 403
    assert client.post(URL, GOOD).status_code == 403
    assert not ManualValue.objects.exists()


def test_an_area_outside_the_officers_is_refused(world: World) -> None:
    response = client_for(world.users["vet_hy"]).post(URL, GOOD)  # 黄岩's officer, for 椒江
    assert response.status_code == 400
    assert "area" in response.context["form"].errors
    with pytest.raises(PermissionDenied):
        manual_value_enter(
            actor=world.users["vet_hy"],
            indicator=indicator(),
            area=world.areas["331002"],
            period=Period.containing("year", dt.date(2025, 1, 1)),
            value=Decimal(1),
            source_document="x",
            source_date=dt.date(2026, 1, 1),
        )
    assert not ManualValue.objects.exists()


def test_a_computed_indicator_is_not_entered_by_hand(world: World) -> None:
    client = client_for(world.users["vet"])
    assert client.get(reverse("evaluation:manual", args=[VETERANS, "vc-station-coverage"])).status_code == 404
    with pytest.raises(ValidationError) as error:
        manual_value_enter(
            actor=world.users["vet"],
            indicator=indicator("vc-station-coverage"),
            area=world.areas["331002"],
            period=Period.containing("year", dt.date(2025, 1, 1)),
            value=Decimal(1),
            source_document="x",
            source_date=dt.date(2026, 1, 1),
        )
    assert "indicator" in error.value.message_dict


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"period": "2026/10"}, "period", "2026-Q4"),
        ({"period_kind": "month", "period": "2026-13"}, "period", "2026-10"),
        ({"period_kind": "year", "period": "2999"}, "period", "2199"),
        ({"source_date": "2100-01-01"}, "source_date", "晚于今天"),
        ({"numerator": ""}, "denominator", "都填"),
        ({"numerator": "300"}, "denominator", "分子应在"),
        ({"value": "-1"}, "value", ""),
        ({"source_document": ""}, "source_document", ""),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(
    world: World, change: dict[str, Any], field: str, words: str
) -> None:
    response = client_for(world.users["vet"]).post(URL, {**GOOD, **change})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors, errors
    assert words in " ".join(errors[field])
    assert not ManualValue.objects.exists()
    assert not AuditLog.objects.filter(event__startswith="evaluation.manual").exists()


def test_a_period_not_yet_begun_is_refused(world: World) -> None:
    response = client_for(world.users["vet"]).post(URL, {**GOOD, "period_kind": "year", "period": "2198"})
    assert response.status_code == 400
    assert "period" in response.context["form"].errors


def test_parse_period() -> None:
    assert parse_period("quarter", "2026-q4") == Period("quarter", dt.date(2026, 10, 1), dt.date(2027, 1, 1))
    assert parse_period("year", "2026").start == dt.date(2026, 1, 1)
    with pytest.raises(ValidationError):
        parse_period("week", "2026-01")


def test_the_engine_never_overwrites_a_value_entered_by_hand(world: World) -> None:
    client_for(world.users["vet"]).post(URL, GOOD)
    before = list(ManualValue.objects.values())
    summary = indicators_compute(first=dt.date(2026, 1, 1), last=dt.date(2026, 10, 31))
    assert summary.periods_computed > 0  # it did run (vc-station-coverage and the others)
    assert list(ManualValue.objects.values()) == before
