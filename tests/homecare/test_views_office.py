"""The office pages: a provider's inbox, day plan and caregivers; an officer's accounts, complaints, overdue list."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from fuwu.accounts.models import Role, User
from fuwu.areas.models import Area
from fuwu.eligibility.models import ScreeningRun
from fuwu.homecare import services
from fuwu.homecare.complaints import complaint_lodge
from fuwu.homecare.models import (
    CaregiverAbsence,
    Complaint,
    ComplaintStatus,
    EntitlementAccount,
    Order,
    OrderStatus,
    Provider,
)
from fuwu.homecare.services import order_accept, order_book
from fuwu.residents.masking import mask_name
from fuwu.residents.models import Person
from tests.homecare.conftest import TODAY, VILLAGE, World, at, make_user, open_account, registry_run
from tests.residents.factories import PersonFactory

NOW = at(TODAY, 10)  # Monday 10:00
DAY = TODAY + dt.timedelta(days=2)


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pages read the time through ``services.local_now``; pin it to the test world's Monday."""
    monkeypatch.setattr(services, "local_now", lambda: NOW)


def login(client: Client, world: World, role: str) -> Client:
    client.force_login(world.user(role))
    return client


def book(
    world: World,
    *,
    key: str,
    item: str = "hc-cleaning",
    day: dt.date = DAY,
    hours: tuple[int, int] = (9, 12),
    now: dt.datetime = NOW,
    person: Person | None = None,
    actor: User | None = None,
) -> Order:
    order, _ = order_book(
        actor=actor or world.family,
        person=person or world.elder,
        item=item,
        window_start=at(day, hours[0]),
        window_end=at(day, hours[1]),
        idempotency_key=key,
        now=now,
    )
    return order


def row(html: str, testid: str) -> str:
    """The table row (or section) carrying ``data-testid``."""
    match = re.search(rf'<(tr|section)[^>]*data-testid="{re.escape(testid)}".*?</\1>', html, re.S)
    assert match, f"{testid} not on the page"
    return match.group(0)


def text(response: Any) -> str:
    return str(response.content.decode())


# --- the provider's inbox ------------------------------------------------------------------------


def test_provider_accepts_from_the_inbox(client: Client, world: World) -> None:
    order = book(world, key="a")
    login(client, world, "provider_admin")
    inbox = client.get("/homecare/office/")
    assert inbox.status_code == 200
    requested = row(text(inbox), f"requested-{order.pk}")
    assert reverse("homecare:order_accept", args=[order.pk]) in requested
    assert "已超时" not in requested

    response = client.post(reverse("homecare:order_accept", args=[order.pk]))
    assert response.status_code == 302
    assert response["Location"] == f"/homecare/office/?provider={world.provider.pk}"
    order.refresh_from_db()
    assert order.status == OrderStatus.ACCEPTED
    page = text(client.get(response["Location"]))
    assert f"已受理工单 {order.pk}" in page
    assert f'data-testid="requested-{order.pk}"' not in page

    # Accepting twice is refused by the service, and the person sees why.
    client.post(reverse("homecare:order_accept", args=[order.pk]))
    page = text(client.get("/homecare/office/"))
    assert "不能受理" in page


def test_provider_declines_with_a_reason(client: Client, world: World) -> None:
    order = book(world, key="d")
    login(client, world, "provider_admin")
    url = reverse("homecare:order_decline", args=[order.pk])

    client.post(url, {"reason": ""})
    order.refresh_from_db()
    assert order.status == OrderStatus.REQUESTED
    assert "不受理的原因" in text(client.get("/homecare/office/"))

    response = client.post(url, {"reason": "当日人手不足"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.end_reason) == (OrderStatus.CANCELLED, "当日人手不足")
    assert order.account_month.held == Decimal(0)
    assert "已拒绝受理" in text(client.get(response["Location"]))


def test_a_request_past_its_response_limit_is_marked_overdue(client: Client, world: World) -> None:
    late = book(world, key="late", now=NOW - dt.timedelta(days=7))
    fresh = book(world, key="fresh", hours=(13, 16))
    assert late.respond_by < NOW < fresh.respond_by
    login(client, world, "provider_admin")
    page = text(client.get("/homecare/office/"))
    marked = row(page, f"requested-{late.pk}")
    # Said in words, with an icon, not by colour alone.
    assert "已超时" in marked
    assert "超过受理时限" in marked
    assert "⚠" in marked
    assert "已超时" not in row(page, f"requested-{fresh.pk}")
    overdue = page.split('id="overdue-list"', 1)[1]
    assert f"<td>{late.pk}</td>" in overdue
    assert f"<td>{fresh.pk}</td>" not in overdue


# --- the day's plan ------------------------------------------------------------------------------


@pytest.fixture
def unlocated(world: World) -> Person:
    """A second elder of the village with an account but no home location yet."""
    person = PersonFactory(birth_date=dt.date(1940, 1, 1), hukou_area=VILLAGE, low_income_status="none")
    open_account(world.officer, person, amount=Decimal("200.00"), items=["hc-cleaning"])
    return person


def test_planning_the_day_schedules_accepted_orders_and_says_why_others_wait(
    client: Client, world: World, unlocated: Person
) -> None:
    placed = book(world, key="p")
    stuck = book(world, key="s", person=unlocated, actor=world.officer)
    waiting = book(world, key="w", hours=(14, 17))
    for order in (placed, stuck):
        order_accept(actor=world.provider_admin, order=order, now=NOW)
    login(client, world, "provider_admin")
    before = text(client.get("/homecare/office/plan/", {"day": DAY.isoformat()}))
    assert "生成派单计划" in before
    assert "尚未生成派单计划" in row(before, f"unassigned-{placed.pk}")

    response = client.post("/homecare/office/plan/", {"provider": world.provider.pk, "day": DAY.isoformat()})
    assert response.status_code == 302
    assert response["Location"] == f"/homecare/office/plan/?provider={world.provider.pk}&day={DAY.isoformat()}"
    placed.refresh_from_db()
    stuck.refresh_from_db()
    waiting.refresh_from_db()
    assert placed.status == OrderStatus.SCHEDULED
    assert placed.caregiver == world.caregiver
    assert stuck.status == OrderStatus.ACCEPTED
    assert waiting.status == OrderStatus.REQUESTED

    page = text(client.get(response["Location"]))
    assert "派单计划已生成：2 单中安排了 1 单" in page
    assert "老人住址尚未定位" in row(page, f"unassigned-{stuck.pk}")
    route = row(page, f"route-{world.caregiver.pk}")
    assert world.account.address in route
    assert timezone.localtime(placed.planned_start).strftime("%H:%M") in route
    assert "另有 1 笔当天的预约尚未受理" in page
    run = world.provider.dispatch_runs.get()
    assert "求解方法" in page
    assert f"<dd>{run.solver}</dd>" in page


def test_planning_a_past_day_is_refused_with_the_reason(client: Client, world: World) -> None:
    login(client, world, "provider_admin")
    yesterday = (TODAY - dt.timedelta(days=1)).isoformat()
    response = client.post("/homecare/office/plan/", {"provider": world.provider.pk, "day": yesterday}, follow=True)
    assert "不能为已经过去的日期派单" in text(response)
    assert not world.provider.dispatch_runs.exists()


def test_an_absence_re_plans_the_day(client: Client, world: World) -> None:
    order = book(world, key="p")
    order_accept(actor=world.provider_admin, order=order, now=NOW)
    login(client, world, "provider_admin")
    client.post("/homecare/office/plan/", {"provider": world.provider.pk, "day": DAY.isoformat()})
    order.refresh_from_db()
    assert order.status == OrderStatus.SCHEDULED

    # No reason: nothing recorded, and the form says what is missing.
    empty = {"caregiver": world.caregiver.pk, "day": DAY.isoformat(), "reason": ""}
    page = text(client.post("/homecare/office/plan/absent/", empty, follow=True))
    assert "请假原因" in page
    assert "这个字段是必填项" in page
    assert not CaregiverAbsence.objects.exists()

    response = client.post("/homecare/office/plan/absent/", {**empty, "reason": "发烧"})
    assert response.status_code == 302
    assert CaregiverAbsence.objects.get().reason == "发烧"
    order.refresh_from_db()
    assert order.status == OrderStatus.ACCEPTED
    assert order.caregiver is None
    page = text(client.get(response["Location"]))
    assert "已记录李护理员请假" in page
    assert "当日请假" in page
    assert "李护理员请假：发烧" in page  # the latest run's reason
    assert f"unassigned-{order.pk}" in page


def test_an_absence_for_another_providers_caregiver_is_not_found(client: Client, world: World) -> None:
    other = _other_provider(world)
    client.force_login(other.admins.get())
    response = client.post(
        "/homecare/office/plan/absent/", {"caregiver": world.caregiver.pk, "day": DAY.isoformat(), "reason": "x"}
    )
    assert response.status_code == 404
    assert not CaregiverAbsence.objects.exists()


# --- caregivers ----------------------------------------------------------------------------------


def test_caregivers_page_shows_an_expired_certificate_as_a_blocker(client: Client, world: World) -> None:
    login(client, world, "provider_admin")
    fine = row(text(client.get("/homecare/office/caregivers/")), f"caregiver-{world.caregiver.pk}")
    assert "可以派单" in fine
    assert "不能派单" not in fine
    assert "养老护理员职业技能等级证书" in fine  # the standard's name, not the id
    assert "care-worker" not in fine

    world.caregiver.health_certificate_expires = TODAY - dt.timedelta(days=1)
    world.caregiver.save()
    blocked = row(text(client.get("/homecare/office/caregivers/")), f"caregiver-{world.caregiver.pk}")
    assert "不能派单" in blocked
    assert f"健康证明已于{TODAY - dt.timedelta(days=1):%Y-%m-%d}过期" in blocked
    assert "已过期" in blocked


def test_caregivers_page_counts_this_years_in_service_training(client: Client, world: World) -> None:
    world.caregiver.training.create(kind="in_service", completed_on=TODAY.replace(month=3), hours=6, topic="急救")
    world.caregiver.training.create(
        kind="in_service", completed_on=TODAY.replace(year=TODAY.year - 1), hours=30, topic="去年"
    )
    login(client, world, "provider_admin")
    cells = re.findall(
        r"<td>(.*?)</td>",
        row(text(client.get("/homecare/office/caregivers/")), f"caregiver-{world.caregiver.pk}"),
        re.S,
    )
    assert cells[3].startswith("6.0 / 24")
    assert "未完成" in cells[3]
    assert cells[2].startswith("40.0 / 40")


# --- accounts ------------------------------------------------------------------------------------


def _registry_run(*people: Person, population: str = "registry") -> ScreeningRun:
    return registry_run(*people, items=("hc-cleaning", "hc-meals"), population=population)


def test_officer_opens_accounts_from_a_registry_screening(client: Client, world: World) -> None:
    newcomer = PersonFactory(birth_date=dt.date(1941, 2, 2), hukou_area=VILLAGE)
    elsewhere = PersonFactory(birth_date=dt.date(1941, 2, 2), hukou_area="331003001901")
    run = _registry_run(newcomer, elsewhere)
    login(client, world, "officer")
    page = text(client.get("/homecare/office/accounts/"))
    assert "从筛查结果开通账户" in page
    assert f'value="{run.pk}"' in page

    response = client.post("/homecare/office/accounts/", {"run": run.pk})
    assert response.status_code == 302
    account = EntitlementAccount.objects.get(person=newcomer)
    assert (account.monthly_allowance, account.items) == (Decimal("300.00"), ["hc-cleaning", "hc-meals"])
    assert not EntitlementAccount.objects.filter(person=elsewhere).exists()
    page = text(client.get(response["Location"]))
    assert "开通 1 户，更新 0 户，无变化 0 户。未开通：不在本人辖区 1 人。" in page
    assert newcomer.name in row(page, f"account-{account.pk}")
    assert "未定位" in row(page, f"account-{account.pk}")

    # Again: nothing new.
    client.post("/homecare/office/accounts/", {"run": run.pk})
    assert "开通 0 户，更新 0 户，无变化 1 户" in text(client.get("/homecare/office/accounts/"))


def test_only_registry_runs_are_offered_for_opening(client: Client, world: World) -> None:
    synthetic = _registry_run(PersonFactory(birth_date=dt.date(1941, 2, 2)), population="/data/people.parquet")
    login(client, world, "officer")
    assert f'value="{synthetic.pk}"' not in text(client.get("/homecare/office/accounts/"))
    page = text(client.post("/homecare/office/accounts/", {"run": synthetic.pk}, follow=True))
    assert "筛查结果" in page
    assert "选择一个有效的选项" in page


def test_a_provider_sees_accounts_but_may_not_open_them(client: Client, world: World) -> None:
    run = _registry_run(PersonFactory(birth_date=dt.date(1941, 2, 2)))
    login(client, world, "provider_admin")
    page = text(client.get("/homecare/office/accounts/"))
    assert "从筛查结果开通账户" not in page
    assert mask_name(world.elder.name) in row(page, f"account-{world.account.pk}")
    assert world.elder.name not in page
    assert client.post("/homecare/office/accounts/", {"run": run.pk}).status_code == 403


def test_account_page_shows_the_statement_and_a_booking_link(client: Client, world: World) -> None:
    book(world, key="st")
    login(client, world, "officer")
    page = text(client.get(f"/homecare/office/accounts/{world.account.pk}/", {"month": DAY.strftime("%Y-%m")}))
    assert world.elder.name in page
    assert re.search(r'data-testid="remaining">\s*1\d\d', page)  # 200 less the held cleaning
    assert f"/homecare/elders/{world.elder.pk}/book/" in page


def test_setting_the_home_location(client: Client, world: World) -> None:
    url = f"/homecare/office/accounts/{world.account.pk}/"
    login(client, world, "officer")
    bad = client.post(url, {"address": "新地址", "latitude": "95", "longitude": "121.4"})
    assert bad.status_code == 400
    assert "经纬度超出范围" in text(bad)
    world.account.refresh_from_db()
    assert world.account.address != "新地址"

    good = client.post(url, {"address": "新地址 1 号", "latitude": "28.7", "longitude": "121.45", "source": "map"})
    assert good.status_code == 302
    world.account.refresh_from_db()
    assert (world.account.address, world.account.latitude) == ("新地址 1 号", Decimal("28.700000"))
    assert "住址和定位已保存" in text(client.get(url))

    # The provider may set it too; it sees the elder's surname only.
    login(client, world, "provider_admin")
    page = text(client.get(url))
    assert world.elder.name not in page
    assert mask_name(world.elder.name) in page
    assert "替老人预约服务" not in page
    picked = {"address": "机构补录", "latitude": "28.6", "longitude": "121.4", "source": "map"}
    assert client.post(url, picked).status_code == 302
    world.account.refresh_from_db()
    assert world.account.address == "机构补录"


# --- complaints and overdue orders ---------------------------------------------------------------


def test_officer_resolves_a_complaint(client: Client, world: World) -> None:
    order = book(world, key="c")
    order_accept(actor=world.provider_admin, order=order, now=NOW)
    late = complaint_lodge(actor=world.family, order=order, text="迟到一小时", now=NOW - dt.timedelta(days=30))
    login(client, world, "officer")
    page = text(client.get("/homecare/office/complaints/"))
    section = row(page, f"complaint-{late.pk}")
    assert "迟到一小时" in section
    assert "已超过办结期限" in section
    assert "⚠" in section

    url = reverse("homecare:complaint_resolve", args=[late.pk])
    client.post(url, {"decision": "dismissed", "outcome": ""})
    late.refresh_from_db()
    assert late.status == ComplaintStatus.OPEN
    assert "处理结果" in text(client.get("/homecare/office/complaints/"))

    response = client.post(url, {"decision": "dismissed", "outcome": "核实为交通原因，已提醒机构"})
    assert response.status_code == 302
    late.refresh_from_db()
    assert (late.status, late.resolved_by) == (ComplaintStatus.DISMISSED, world.officer)
    page = text(client.get("/homecare/office/complaints/"))
    assert f"投诉 {late.pk} 已办结" in page
    assert f'data-testid="complaint-{late.pk}"' not in page
    assert "核实为交通原因" in page.split('id="resolved"', 1)[1]

    client.post(url, {"decision": "upheld", "outcome": "再次"})
    assert "这件投诉已经办结" in text(client.get("/homecare/office/complaints/"))


def test_overdue_page_lists_the_areas_late_orders(client: Client, world: World) -> None:
    late = book(world, key="late", now=NOW - dt.timedelta(days=7))
    fresh = book(world, key="fresh", hours=(13, 16))
    login(client, world, "officer")
    page = text(client.get("/homecare/office/overdue/"))
    assert "超过受理时限" in row(page, f"overdue-{late.pk}")
    assert f"overdue-{fresh.pk}" not in page
    assert "超过时限的工单 1 笔" in text(client.get("/homecare/office/"))


# --- who may see what ----------------------------------------------------------------------------


def _other_provider(world: World) -> Provider:
    other = Provider.objects.create(
        name="黄岩服务社",
        licence_number="HY-1",
        licence_valid_until=dt.date(2030, 1, 1),
        address="黄岩",
        contact_name="赵",
        contact_phone="1",
    )
    other.areas.add(Area.objects.get(code="331003"))
    other.admins.add(make_user("other-provider", Role.PROVIDER_ADMIN, None))
    return other


PAGES = ["office_home", "plan_day", "caregivers", "accounts", "account", "complaints", "overdue"]
ALLOWED = {
    "officer": {"office_home", "accounts", "account", "complaints", "overdue"},
    "provider_admin": {"office_home", "plan_day", "caregivers", "accounts", "account"},
    "caregiver_user": set(),
    "family": set(),
    "stranger": set(),
}


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("role", [*ALLOWED, "anonymous"])
def test_permission_matrix(client: Client, world: World, role: str, page: str) -> None:
    url = reverse(f"homecare:{page}", args=[world.account.pk] if page == "account" else [])
    if role != "anonymous":
        login(client, world, role)
    response = client.get(url)
    if role == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    elif page in ALLOWED[role]:
        assert response.status_code == 200
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("role", ["officer", "caregiver_user", "family", "stranger", "anonymous"])
def test_only_providers_accept_decline_and_plan(client: Client, world: World, role: str) -> None:
    order = book(world, key="x")
    if role != "anonymous":
        login(client, world, role)
    for url, data in [
        (reverse("homecare:order_accept", args=[order.pk]), {}),
        (reverse("homecare:order_decline", args=[order.pk]), {"reason": "不接"}),
        ("/homecare/office/plan/", {"provider": world.provider.pk, "day": DAY.isoformat()}),
        ("/homecare/office/plan/absent/", {"caregiver": world.caregiver.pk, "day": DAY.isoformat(), "reason": "x"}),
    ]:
        response = client.post(url, data)
        assert response.status_code == (302 if role == "anonymous" else 403), url
    order.refresh_from_db()
    assert order.status == OrderStatus.REQUESTED
    assert not world.provider.dispatch_runs.exists()


def test_rows_of_another_provider_or_area_are_not_found(client: Client, world: World) -> None:
    order = book(world, key="x")
    complaint = Complaint.objects.create(
        order=order, text="t", lodged_by=world.family, lodged_at=NOW, due_on=TODAY, status=ComplaintStatus.OPEN
    )
    other = _other_provider(world)
    client.force_login(other.admins.get())
    assert client.post(reverse("homecare:order_accept", args=[order.pk])).status_code == 404
    assert client.get(f"/homecare/office/accounts/{world.account.pk}/").status_code == 404
    assert client.get(f"/homecare/office/?provider={world.provider.pk}").status_code == 404
    assert client.get(f"/homecare/office/plan/?provider={world.provider.pk}").status_code == 404

    county = Area.objects.get(code="331003")
    outsider = make_user("other-officer", Role.DEPARTMENT_OFFICER, county, department=world.officer.department)
    client.force_login(outsider)
    assert client.get(f"/homecare/office/accounts/{world.account.pk}/").status_code == 404
    assert client.post(f"/homecare/office/accounts/{world.account.pk}/", {"address": "x"}).status_code == 404
    resolve = reverse("homecare:complaint_resolve", args=[complaint.pk])
    assert client.post(resolve, {"decision": "upheld", "outcome": "x"}).status_code == 404
    assert client.get("/homecare/office/complaints/").content.decode().count('data-testid="complaint-') == 0
    order.refresh_from_db()
    complaint.refresh_from_db()
    assert (order.status, complaint.status) == (OrderStatus.REQUESTED, ComplaintStatus.OPEN)


def test_a_provider_admin_of_several_providers_picks_one(client: Client, world: World) -> None:
    second = _other_provider(world)
    second.admins.add(world.provider_admin)
    login(client, world, "provider_admin")
    for url in ("/homecare/office/", "/homecare/office/plan/", "/homecare/office/caregivers/"):
        page = text(client.get(url))
        assert "选择服务机构" in page
        assert f"?provider={second.pk}" in page
        assert f"?provider={world.provider.pk}" in page
    assert second.name in text(client.get(f"/homecare/office/caregivers/?provider={second.pk}"))
    assert client.get("/homecare/office/plan/?provider=nope").status_code == 404


def test_a_refused_post_is_not_possible_by_get(client: Client, world: World) -> None:
    order = book(world, key="g")
    login(client, world, "provider_admin")
    assert client.get(reverse("homecare:order_accept", args=[order.pk])).status_code == 405
    assert client.get("/homecare/office/plan/absent/").status_code == 405


# --- the back office -----------------------------------------------------------------------------


def test_every_home_care_model_in_the_admin_loads(client: Client, world: World) -> None:
    order = book(world, key="adm")
    order_accept(actor=world.provider_admin, order=order, now=NOW)
    complaint_lodge(actor=world.family, order=order, text="t", now=NOW)
    boss = User.objects.create_superuser("boss", "boss@example.org", "pw-123456789")
    client.force_login(boss)
    models = [m for m in admin.site._registry if m._meta.app_label == "homecare"]
    assert len(models) >= 10
    for model in models:
        url = reverse(f"admin:homecare_{model._meta.model_name}_changelist")
        assert client.get(url).status_code == 200, url
    change = client.get(reverse("admin:homecare_caregiver_change", args=[world.caregiver.pk]))
    assert change.status_code == 200
    assert "养老护理员职业技能等级证书" in text(change)
    assert client.get(reverse("admin:homecare_order_change", args=[order.pk])).status_code == 200
    # Orders change only through the services.
    assert client.get(reverse("admin:homecare_order_add")).status_code == 403
