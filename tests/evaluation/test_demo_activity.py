"""`fuwu demo_activity`: months of visits, applications and inspections, the indicators computed from them;
the same seed gives the same activity, and a second run changes nothing."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from fuwu.applications.models import Application, ApplicationEvent
from fuwu.areas.models import Area
from fuwu.common.models import AuditLog
from fuwu.compliance.models import Answer, Inspection, Institution, RectificationOrder
from fuwu.evaluation.demo import demo_activity_ensure, months_back
from fuwu.evaluation.models import IndicatorPublication, IndicatorValue, ManualValue
from fuwu.homecare.demo import DEMO_SOURCE
from fuwu.homecare.models import AccountMonth, EntitlementAccount, Order, Rating
from tests.conftest import REPO
from tests.residents.factories import PersonFactory

MONTHS = 3


def _counts() -> dict[str, int]:
    return {
        "orders": Order.objects.count(),
        "months": AccountMonth.objects.count(),
        "ratings": Rating.objects.count(),
        "applications": Application.objects.count(),
        "events": ApplicationEvent.objects.count(),
        "inspections": Inspection.objects.count(),
        "answers": Answer.objects.count(),
        "rectifications": RectificationOrder.objects.count(),
        "values": IndicatorValue.objects.count(),
        "audit": AuditLog.objects.count(),
        "entries": ManualValue.objects.count(),
        "published": IndicatorPublication.objects.count(),
    }


def _fingerprint() -> list[tuple[Any, ...]]:
    orders = Order.objects.filter(idempotency_key__startswith="demo-activity").order_by("idempotency_key")
    return [
        *orders.values_list("account__person__hukou_area", "item", "status", "planned_start", "checkin_at"),
        *Application.objects.order_by("submitted_at", "item_key").values_list("item_key", "status", "submitted_at"),
    ]


@pytest.fixture
def demo(db: None, settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path
    call_command("areas", "load", verbosity=0)
    call_command("standards", "load", str(REPO / "standards"), verbosity=0)
    call_command("demo_accounts", verbosity=0)
    call_command("demo_homecare", verbosity=0)
    # A few institutions the standards govern (demo_compliance makes 220 through the services: minutes).
    for n, (kind, code) in enumerate(
        [
            ("village-fire-safety", "331002001"),
            ("micro-fire-station", "331002002"),
            ("veterans-station-township", "331002001"),
            ("veterans-service-centre", "331002"),
        ]
    ):
        area = Area.objects.filter(code__startswith=code).order_by("-level", "code").first()
        assert area is not None
        Institution.objects.create(name=f"演示机构{n}", kind=kind, code=f"T-{n}", area=area, address="某路1号")
    today = timezone.localdate()
    # Elders of 82 and younger residents in three townships of 椒江区 (the registry the demo draws from).
    villages: dict[str, str] = {}
    for code in (
        Area.objects.filter(level="village", code__startswith="331002").order_by("code").values_list("code", flat=True)
    ):
        villages.setdefault(code[:9], code)
    for n, village in enumerate(sorted(villages.values())[:3] * 4):
        PersonFactory(hukou_area=village, birth_date=today.replace(year=today.year - 82) - dt.timedelta(days=n))
        PersonFactory(hukou_area=village, birth_date=today.replace(year=today.year - 40))


def test_months_of_activity_fill_the_dashboards_and_a_second_run_changes_nothing(demo: None) -> None:
    out = StringIO()
    call_command("demo_activity", "--months", str(MONTHS), "--seed", "1", stdout=out)
    assert "Demo activity" in out.getvalue()
    span = months_back(timezone.localdate(), MONTHS)

    # Home care: accounts in more than one township, visits in every month, ratings; the demo elder left alone.
    townships = {a[:9] for a in EntitlementAccount.objects.values_list("person__hukou_area", flat=True)}
    assert len(townships) >= 2
    assert not EntitlementAccount.objects.filter(person__source_id=DEMO_SOURCE).exists()
    for month in span:
        assert Order.objects.filter(account_month__month=month, status__in=["completed", "rated"]).exists(), month
    assert Rating.objects.exists()
    # Applications and inspections month by month.
    assert Application.objects.filter(status__in=["approved", "refused"]).count() > MONTHS * 10
    signed = Inspection.objects.filter(status="signed", inspected_on__gte=span[0]).exclude(items=None)
    assert signed.exists()
    assert all(i.items.filter(answer__isnull=False).count() == i.items.count() for i in signed[:5])

    # The indicators are computed: home care's county values for every month, and the applications' on-time
    # rate for the month's city value.
    for month in span[:-1]:
        assert IndicatorValue.objects.filter(
            indicator__key="hc-on-time-rate", area__code="331002", period_kind="month", period_start=month
        ).exists(), month
    assert IndicatorValue.objects.filter(indicator__key="sr-allowance-on-time-rate").exists()

    # The civil-affairs officer entered last quarter's values by hand; the office published home care's.
    entered = ManualValue.objects.filter(area__code="331002", entered_by__username="officer")
    assert entered.filter(indicator__key="sr-destitute-institutional-care-rate").exists()
    assert IndicatorPublication.objects.filter(published=True, indicator__key="hc-on-time-rate").exists()
    page = Client().get(reverse("evaluation:public", args=["taizhou-home-care"])).content.decode()
    assert "按时服务率" in page

    before = _counts()
    again = StringIO()
    call_command("demo_activity", "--months", str(MONTHS), "--seed", "1", stdout=again)
    assert "nothing added" in again.getvalue()
    assert "0 value(s) written" in again.getvalue()
    assert _counts() == before


def test_the_same_seed_gives_the_same_activity(demo: None) -> None:
    prints = []
    for _ in range(2):
        with transaction.atomic():
            assert demo_activity_ensure(months=2, seed=7).created
            prints.append(_fingerprint())
            transaction.set_rollback(True)
    assert prints[0] == prints[1]
    assert prints[0]
    assert demo_activity_ensure(months=2, seed=8).created  # another seed is another activity


def test_bad_arguments_are_refused(demo: None) -> None:
    with pytest.raises(CommandError, match="--months"):
        call_command("demo_activity", "--months", "0")
    with pytest.raises(ValueError, match="months"):
        demo_activity_ensure(months=40)
