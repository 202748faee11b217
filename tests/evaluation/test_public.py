"""The public page per standard: only what the office publishes, county level or above, enough data, cached."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from fuwu.accounts.models import Department, Role, User
from fuwu.common.models import AuditLog
from fuwu.evaluation.engine import Period, indicators_compute
from fuwu.evaluation.manual import manual_value_enter
from fuwu.evaluation.models import IndicatorPublication
from fuwu.evaluation.public import indicator_publish_set
from fuwu.standards.models import Indicator
from tests.compliance.conftest import World, make_user
from tests.compliance.conftest import world as compliance_world  # noqa: F401 - a fixture, used by name

VETERANS = "taizhou-veterans-service-centre"
PUBLIC = reverse("evaluation:public", args=[VETERANS])
PUBLISH = reverse("evaluation:publish", args=[VETERANS])


@pytest.fixture
def world(compliance_world: World) -> World:  # noqa: F811
    # Villages with a village station: 2 of 4 (tests/compliance/conftest.py), counted for 2026.
    indicators_compute(first=dt.date(2026, 1, 1), last=dt.date(2026, 10, 31))
    return compliance_world


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_nothing_is_public_until_the_office_publishes_it(world: World, settings: Any) -> None:
    settings.FUWU_EVALUATION_PUBLIC_MIN_DENOMINATOR = 1
    anonymous = Client()
    page = anonymous.get(PUBLIC).content.decode()
    assert "尚未公开" in page
    assert "村（社区）退役军人服务站覆盖率" not in page

    office = client_for(world.users["stdoffice"])
    assert office.post(PUBLISH, {"published": ["vc-station-coverage"]}).status_code == 302
    assert AuditLog.objects.filter(event="evaluation.indicator_published").count() == 1
    page = anonymous.get(PUBLIC).content.decode()  # the cached page changed with what it shows
    assert "村（社区）退役军人服务站覆盖率" in page
    assert "50.0%" in page  # the city: 2 of 4 villages
    assert "椒江区" in page
    assert "66.7%" in page  # 椒江: 2 of its 3 villages
    assert "黄岩区" in page
    assert "0.0%" in page  # 黄岩: none of its 1
    assert "海门街道" not in page  # never below county level
    assert "和美社区" not in page

    # Withdrawn: gone again.
    office.post(PUBLISH, {})
    assert "村（社区）退役军人服务站覆盖率" not in anonymous.get(PUBLIC).content.decode()
    assert AuditLog.objects.filter(event="evaluation.indicator_withdrawn").count() == 1


def test_small_counts_are_not_shown(world: World) -> None:
    indicator_publish_set(
        actor=world.users["stdoffice"], indicator=Indicator.objects.get(key="vc-station-coverage"), published=True
    )
    page = Client().get(PUBLIC).content.decode()  # the default minimum (20) is above 4 villages
    assert "村（社区）退役军人服务站覆盖率" in page
    assert "数据不足" in page
    assert "50.0%" not in page


def test_a_value_entered_by_hand_shows_with_its_source(world: World, settings: Any) -> None:
    bureau = Department.objects.create(code="veterans", name_zh="退役军人事务局")
    vet = make_user("vet", Role.DEPARTMENT_OFFICER, world.areas["331002"], department=bureau)
    satisfaction = Indicator.objects.get(key="vc-satisfaction")
    for area in ("331002", "331002001"):  # a county's and a township's
        manual_value_enter(
            actor=vet,
            indicator=satisfaction,
            area=world.areas[area],
            period=Period.containing("year", dt.date(2025, 1, 1)),
            value=Decimal("93.1") if area == "331002" else Decimal("77.7"),
            source_document="2025年度满意度测评报告",
            source_date=dt.date(2026, 2, 1),
        )
    indicator_publish_set(actor=world.users["stdoffice"], indicator=satisfaction, published=True)
    page = Client().get(PUBLIC).content.decode()
    assert "93.1" in page
    assert "2025年度满意度测评报告" in page
    assert "人工填报" in page
    assert "77.7" not in page  # the township's value stays off the public page


def test_only_the_office_publishes(world: World) -> None:
    with pytest.raises(PermissionDenied):
        indicator_publish_set(
            actor=world.users["officer"], indicator=Indicator.objects.get(key="vc-station-coverage"), published=True
        )
    assert client_for(world.users["officer"]).post(PUBLISH, {"published": ["vc-station-coverage"]}).status_code == 403
    assert not IndicatorPublication.objects.exists()
    office = client_for(world.users["stdoffice"])
    response = office.post(PUBLISH, {"published": ["no-such-indicator"]}, follow=True)
    assert "不属于这项标准" in response.content.decode()
    assert not IndicatorPublication.objects.exists()
    assert office.get(PUBLISH).status_code == 200


@pytest.mark.django_db
def test_an_unknown_standard_is_a_404_page() -> None:
    assert Client().get(reverse("evaluation:public", args=["no-such-standard"])).status_code == 404
