"""A provider serving two counties: each county's officer sees their own elders' part of the settlement only,
and generating or confirming it needs authority over every line (issue 9).

Before: the officer of 椒江 opened the provider's settlement (page, Excel, PDF) with the 黄岩 elders' lines and
totals, and could regenerate and confirm it.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.test import Client
from openpyxl import load_workbook
from pypdf import PdfReader

from fuwu.accounts.models import User
from fuwu.areas.models import Area
from fuwu.homecare.models import EntitlementAccount, Settlement, SettlementStatus
from fuwu.homecare.services import HomeCareError, order_book, order_confirm
from fuwu.homecare.settlement import settlement_confirm, settlement_generate, settlement_report
from fuwu.residents.masking import mask_name
from tests.homecare.conftest import ELDER_HOME, World, at, open_account
from tests.homecare.test_settlement import AFTER, BOOKED, MONTH, Month, build_month, officer_of, visit
from tests.residents.factories import PersonFactory

pytestmark = pytest.mark.django_db

HUANGYAN_VILLAGE = "331003001901"
HUANGYAN_ELDER = "诸葛亮明"


@pytest.fixture
def two_counties(world: World, monkeypatch: pytest.MonkeyPatch) -> tuple[Month, User, User]:
    """December 2026 of ``build_month`` for 椒江, and one bathing visit to a 黄岩 elder by the same provider."""
    monkeypatch.setattr("fuwu.homecare.settlement.local_now", lambda: AFTER)
    month = build_month(world)
    world.provider.areas.add(Area.objects.get(code="331003"))
    huangyan_officer = officer_of("331003")
    elder = PersonFactory(name=HUANGYAN_ELDER, hukou_area=HUANGYAN_VILLAGE, low_income_status="none")
    account = open_account(huangyan_officer, elder, amount=Decimal("200.00"), items=["hc-bathing"])
    account.latitude, account.longitude, account.address = *ELDER_HOME, "黄岩某村"
    account.save()
    assert EntitlementAccount.objects.get(person=elder).provider == world.provider
    day = dt.date(2026, 12, 22)
    order, _ = order_book(
        actor=huangyan_officer,
        person=elder,
        item="hc-bathing",
        window_start=at(day, 9),
        window_end=at(day, 12),
        idempotency_key="hy-bath",
        now=BOOKED,
    )
    order = visit(world, order, confirm=False)
    order_confirm(actor=huangyan_officer, order=order, now=at(day, 18))
    return month, huangyan_officer, officer_of("331000")


def page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return response.content.decode()


def test_each_officer_sees_their_own_elders_part(world: World, two_counties: tuple[Month, User, User]) -> None:
    _, huangyan_officer, city_officer = two_counties
    whole = settlement_generate(actor=city_officer, provider=world.provider, month=MONTH, now=AFTER)
    assert whole.lines.count() == 8  # the seven lines of 椒江's month and the 黄岩 visit
    assert (whole.gross, whole.net) == (Decimal("356.00"), Decimal("276.00"))

    client = Client()
    client.force_login(world.officer)
    html = page(client, f"/homecare/reports/settlements/{whole.pk}/")
    assert mask_name(HUANGYAN_ELDER) not in html
    assert "196.00" in html  # 椒江's net, not the provider's
    assert "356.00" not in html
    assert 'data-testid="partial"' in html
    assert "/confirm/" not in html  # no buttons for a part
    listing = page(client, "/homecare/reports/settlements/?month=2026-12")
    assert "196.00" in listing
    assert "356.00" not in listing

    sheet = load_workbook(io.BytesIO(client.get(f"/homecare/reports/settlements/{whole.pk}.xlsx").content)).active
    cells = [str(c) for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert mask_name(HUANGYAN_ELDER) not in cells
    assert Decimal("356.00") not in [c for row in sheet.iter_rows(values_only=True) for c in row]
    assert Decimal("196.00") in [c for row in sheet.iter_rows(values_only=True) for c in row]
    pdf = PdfReader(io.BytesIO(client.get(f"/homecare/reports/settlements/{whole.pk}.pdf").content))
    text = "".join(p.extract_text() for p in pdf.pages)
    assert "356.00" not in text
    assert "196.00" in text

    client.force_login(huangyan_officer)
    html = page(client, f"/homecare/reports/settlements/{whole.pk}/")
    assert mask_name(HUANGYAN_ELDER) in html
    assert "80.00" in html
    assert "196.00" not in html

    # Those who supervise the whole (the city's officer, the provider's own administrator) see all of it.
    for user in (city_officer, world.provider_admin):
        report = settlement_report(whole, user=user)
        assert (report.hidden, report.net, len(report.rows)) == (0, Decimal("276.00"), 8)


def test_a_county_officer_cannot_generate_or_confirm_a_settlement_spanning_counties(
    world: World, two_counties: tuple[Month, User, User]
) -> None:
    _, huangyan_officer, city_officer = two_counties
    for officer in (world.officer, huangyan_officer):
        with pytest.raises(HomeCareError) as refused:
            settlement_generate(actor=officer, provider=world.provider, month=MONTH, now=AFTER)
        assert refused.value.code == "outside_area"
    assert not Settlement.objects.exists()

    client = Client()
    client.force_login(world.officer)
    response = client.post(
        "/homecare/reports/settlements/generate/", {"provider": world.provider.pk, "month": "2026-12"}, follow=True
    )
    assert "不在您的辖区" in response.content.decode()
    assert not Settlement.objects.exists()

    whole = settlement_generate(actor=city_officer, provider=world.provider, month=MONTH, now=AFTER)
    with pytest.raises(HomeCareError) as refused:
        settlement_confirm(actor=world.officer, settlement=whole, now=AFTER)
    assert refused.value.code == "outside_area"
    client.post(f"/homecare/reports/settlements/{whole.pk}/confirm/")
    whole.refresh_from_db()
    assert whole.status == SettlementStatus.DRAFT
    settlement_confirm(actor=city_officer, settlement=whole, now=AFTER)
    whole.refresh_from_db()
    assert whole.status == SettlementStatus.CONFIRMED


def test_a_county_officer_still_settles_a_month_of_their_own_elders_only(world: World) -> None:
    """Serving two counties, but with visits in one this month: that county's officer settles it."""
    build_month(world)
    world.provider.areas.add(Area.objects.get(code="331003"))
    settlement = settlement_generate(actor=world.officer, provider=world.provider, month=MONTH, now=AFTER)
    settlement_confirm(actor=world.officer, settlement=settlement, now=AFTER)
    assert settlement_report(settlement, user=world.officer).hidden == 0
