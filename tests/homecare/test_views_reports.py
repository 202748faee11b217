"""The report pages: who sees which settlement, statement and supervision page, and the buttons on them."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db.models import F
from django.test import Client
from openpyxl import load_workbook
from pypdf import PdfReader

from fuwu.accounts.models import Role, User
from fuwu.areas.models import Area
from fuwu.homecare.models import AccountMonth, Callback, Provider, Settlement, SettlementStatus
from fuwu.homecare.settlement import settlement_generate
from fuwu.homecare.supervision import callbacks_sample
from tests.homecare.conftest import World, make_user
from tests.homecare.test_settlement import AFTER, MONTH, Month, build_month, officer_of

M = "2026-12"


@pytest.fixture
def month(world: World, monkeypatch: pytest.MonkeyPatch) -> Month:
    # The services read the clock when a page calls them: it is early January 2027, December is over.
    monkeypatch.setattr("fuwu.homecare.settlement.local_now", lambda: AFTER)
    monkeypatch.setattr("fuwu.homecare.supervision.local_now", lambda: AFTER)
    return build_month(world)


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def other_provider(world: World) -> tuple[Provider, User, Settlement]:
    provider = Provider.objects.create(
        name="黄岩康乐服务社",
        licence_number="HY-2021-009",
        licence_valid_until=dt.date(2028, 12, 31),
        address="黄岩区",
        contact_name="陈",
        contact_phone="0576-1",
    )
    provider.areas.add(Area.objects.get(code="331003"))
    admin = make_user("hy-admin", Role.PROVIDER_ADMIN, Area.objects.get(code="331003"))
    provider.admins.add(admin)
    settlement = settlement_generate(actor=officer_of("331003"), provider=provider, month=MONTH, now=AFTER)
    return provider, admin, settlement


# --- statements ----------------------------------------------------------------------------------


def statement_url(world: World, suffix: str = "/") -> str:
    return f"/homecare/reports/statement/{world.account.pk}/{M}{suffix}"


def test_the_family_sees_their_elders_statement_and_its_pdf(world: World, month: Month) -> None:
    client = client_for(world.family)
    page = client.get(statement_url(world))
    assert page.status_code == 200
    html = page.content.decode()
    assert world.elder.name in html
    assert "投诉成立" in html
    assert "260.00" in html
    assert "120.00" in html
    pdf = client.get(statement_url(world, ".pdf"))
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert world.elder.name in text


@pytest.mark.parametrize("who", ["stranger", "caregiver_user", "other_officer", "other_provider"])
def test_anyone_else_gets_404_for_a_statement(world: World, month: Month, who: str) -> None:
    if who == "other_officer":
        user = officer_of("331003")
    elif who == "other_provider":
        user = other_provider(world)[1]
    else:
        user = world.user(who)
    client = client_for(user)
    assert client.get(statement_url(world)).status_code == 404
    assert client.get(statement_url(world, ".pdf")).status_code == 404


def test_the_provider_sees_the_statement_with_the_name_masked(world: World, month: Month) -> None:
    html = client_for(world.provider_admin).get(statement_url(world)).content.decode()
    assert world.elder.name not in html
    assert world.elder.name[0] + "*" in html
    assert world.elder.name in client_for(world.officer).get(statement_url(world)).content.decode()


def test_a_statement_of_a_month_that_does_not_exist_is_404(world: World) -> None:
    assert client_for(world.family).get(f"/homecare/reports/statement/{world.account.pk}/2026-13/").status_code == 404


def test_signing_in_is_asked_for(world: World) -> None:
    response = Client().get(statement_url(world))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    assert Client().get("/homecare/reports/settlements/").status_code == 302


# --- settlements ----------------------------------------------------------------------------------


def test_officer_generates_and_confirms_from_the_list(world: World, month: Month) -> None:
    client = client_for(world.officer)
    listing = client.get("/homecare/reports/settlements/", {"month": M}).content.decode()
    assert world.provider.name in listing
    assert "生成结算单" in listing
    response = client.post("/homecare/reports/settlements/generate/", {"provider": world.provider.pk, "month": M})
    settlement = Settlement.objects.get(provider=world.provider, month=MONTH)
    assert response.status_code == 302
    assert response["Location"] == f"/homecare/reports/settlements/{settlement.pk}/"
    detail = client.get(response["Location"]).content.decode()
    assert "196.00" in detail
    assert "张*" in detail
    assert "张三丰" not in detail
    assert f"/homecare/reports/settlements/{settlement.pk}.xlsx" in detail
    listing = client.get("/homecare/reports/settlements/", {"month": M}).content.decode()
    assert 'data-testid="reconciled"' in listing
    confirmed = client.post(f"/homecare/reports/settlements/{settlement.pk}/confirm/", follow=True)
    assert "结算单已确认" in confirmed.content.decode()
    settlement.refresh_from_db()
    assert settlement.status == SettlementStatus.CONFIRMED
    assert "重新生成" not in confirmed.content.decode()


def test_a_refusal_is_shown_on_the_page(world: World, month: Month) -> None:
    client = client_for(world.officer)
    settlement = settlement_generate(actor=world.officer, provider=world.provider, month=MONTH, now=AFTER)
    Settlement.objects.filter(pk=settlement.pk).update(status=SettlementStatus.CONFIRMED)
    response = client.post(
        "/homecare/reports/settlements/generate/", {"provider": world.provider.pk, "month": M}, follow=True
    )
    assert "已经确认，不能重新生成" in response.content.decode()


def test_the_reconciliation_shows_a_one_fen_difference(world: World, month: Month) -> None:
    settlement_generate(actor=world.officer, provider=world.provider, month=MONTH, now=AFTER)
    AccountMonth.objects.filter(account__person=month.elder_b, month=MONTH).update(spent=F("spent") + Decimal("0.01"))
    html = client_for(world.officer).get("/homecare/reports/settlements/", {"month": M}).content.decode()
    assert 'data-testid="unreconciled"' in html
    assert "0.01" in html
    assert f"账户 {month.elder_b.homecare_account.pk}" in html
    # A provider sees no city-wide check.
    html = client_for(world.provider_admin).get("/homecare/reports/settlements/", {"month": M}).content.decode()
    assert "对账结果" not in html
    assert "生成结算单" not in html


def test_providers_see_their_own_settlement_and_not_others(world: World, month: Month) -> None:
    ours = settlement_generate(actor=world.officer, provider=world.provider, month=MONTH, now=AFTER)
    _, their_admin, theirs = other_provider(world)
    client = client_for(world.provider_admin)
    assert client.get(f"/homecare/reports/settlements/{ours.pk}/").status_code == 200
    xlsx = client.get(f"/homecare/reports/settlements/{ours.pk}.xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    assert sheet["B2"].value == world.provider.name
    pdf = client.get(f"/homecare/reports/settlements/{ours.pk}.pdf")
    assert pdf.content.startswith(b"%PDF")
    for suffix in ("/", ".xlsx", ".pdf"):
        assert client.get(f"/homecare/reports/settlements/{theirs.pk}{suffix}").status_code == 404
        assert client_for(their_admin).get(f"/homecare/reports/settlements/{ours.pk}{suffix}").status_code == 404
    listing = client.get("/homecare/reports/settlements/", {"month": M}).content.decode()
    assert world.provider.name in listing
    assert "黄岩康乐服务社" not in listing


def test_providers_and_strangers_cannot_settle(world: World, month: Month) -> None:
    _, _, theirs = other_provider(world)
    provider = client_for(world.provider_admin)
    response = provider.post("/homecare/reports/settlements/generate/", {"provider": world.provider.pk, "month": M})
    assert response.status_code == 403
    assert not Settlement.objects.filter(provider=world.provider).exists()
    officer = client_for(world.officer)
    assert officer.post(f"/homecare/reports/settlements/{theirs.pk}/confirm/").status_code == 404
    response = officer.post("/homecare/reports/settlements/generate/", {"provider": theirs.provider_id, "month": M})
    assert response.status_code == 404
    assert client_for(world.stranger).get("/homecare/reports/settlements/").status_code == 403
    auditor = client_for(make_user("auditor", Role.AUDITOR, None))
    assert auditor.get(f"/homecare/reports/settlements/{theirs.pk}/").status_code == 200
    assert auditor.post(f"/homecare/reports/settlements/{theirs.pk}/confirm/").status_code == 403
    theirs.refresh_from_db()
    assert theirs.status == SettlementStatus.DRAFT


# --- supervision ----------------------------------------------------------------------------------


def test_supervision_page_samples_and_records_callbacks(world: World, month: Month) -> None:
    client = client_for(world.officer)
    page = client.get("/homecare/reports/supervision/", {"month": M}).content.decode()
    assert "按时服务率" in page
    assert world.provider.name in page
    assert "海门街道" in page
    assert "抽样回访" in page
    response = client.post("/homecare/reports/supervision/sample/", {"month": M}, follow=True)
    assert "已抽取 1 个服务工单待回访" in response.content.decode()
    callback = Callback.objects.get()
    url = f"/homecare/reports/callbacks/{callback.pk}/"
    prefix = f"cb{callback.pk}"
    refused = client.post(url, {f"{prefix}-reached": "yes", f"{prefix}-note": ""})
    assert refused.status_code == 400
    assert "请选择老人或家属对服务是否满意" in refused.content.decode()
    done = client.post(url, {f"{prefix}-reached": "yes", f"{prefix}-satisfied": "yes"})
    assert done.status_code == 302
    callback.refresh_from_db()
    assert (callback.reached, callback.satisfied) == (True, True)


def test_supervision_is_for_officers_and_auditors(world: World, month: Month) -> None:
    (callback,) = callbacks_sample(actor=world.officer, month=MONTH, now=AFTER)
    auditor = client_for(make_user("auditor", Role.AUDITOR, None))
    page = auditor.get("/homecare/reports/supervision/", {"month": M}).content.decode()
    assert "按时服务率" in page
    assert "抽样回访" not in page
    assert "保存回访结果" not in page
    for who in (world.provider_admin, world.family, world.caregiver_user, world.stranger):
        assert client_for(who).get("/homecare/reports/supervision/").status_code == 403
    other = client_for(officer_of("331003"))
    url = f"/homecare/reports/callbacks/{callback.pk}/"
    assert other.post(url, {f"cb{callback.pk}-reached": "no", f"cb{callback.pk}-note": "x"}).status_code == 404
    callback.refresh_from_db()
    assert callback.done_at is None
