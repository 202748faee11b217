"""The visit rules through the pages people use: the caregiver's phone, the family's order page, the provider's
plan, the officer's reviews and the elder's home on the map, the statement and the settlement."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from fuwu.accounts.models import Role
from fuwu.areas.models import Area
from fuwu.homecare import door, services
from fuwu.homecare.door import Position
from fuwu.homecare.models import (
    AccountMonth,
    EntitlementAccount,
    LocationProposal,
    LocationSource,
    Order,
    OrderStatus,
    ReviewStatus,
)
from fuwu.homecare.settlement import settlement_generate
from tests.homecare.conftest import ELDER_HOME, TODAY, World, at, make_user, second_caregiver, with_partner
from tests.homecare.test_views_door import Clock
from tests.homecare.test_views_door import clock as clock  # the pages' clock, set to the world's Monday morning
from tests.homecare.test_visits import DAY, booked

pytestmark = pytest.mark.django_db

HOME = Position(*ELDER_HOME)
AT_HOME = {"latitude": str(ELDER_HOME[0]), "longitude": str(ELDER_HOME[1]), "located": "device", "accuracy": "9"}
TYPED = {"latitude": str(ELDER_HOME[0]), "longitude": str(ELDER_HOME[1])}


def text(response: Any) -> str:
    return str(response.content.decode())


def as_user(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def scheduled(world: World, item: str = "hc-bathing", *, key: str = "v1", hour: int = 9) -> Order:
    """Booked for tomorrow, accepted and given to the world's caregiver (with a partner when it needs two)."""
    order = booked(world, item, key=key, hour=hour)
    if order.staff > 1:
        with_partner(world, order, arrive=None)
    return order


# --- at the door ------------------------------------------------------------------------------------


def test_the_caregivers_page_refuses_a_check_in_a_day_early(client: Client, world: World) -> None:
    order = scheduled(world)
    as_user(client, world.caregiver_user)
    page = text(client.get(reverse("homecare:visit", args=[order.pk])))
    assert "可以签到的时间" in page
    assert "08:00–10:00" in page
    refused = client.post(reverse("homecare:visit_check_in", args=[order.pk]), AT_HOME)
    assert refused.status_code == 400
    assert "现在还不能签到" in text(refused)
    order.refresh_from_db()
    assert order.status == OrderStatus.SCHEDULED


def test_typed_coordinates_at_the_door_need_a_reason(client: Client, world: World, clock: Clock) -> None:
    order = scheduled(world, "hc-cleaning")
    clock.now = at(DAY, 9, 5)
    as_user(client, world.caregiver_user)
    url = reverse("homecare:visit_check_in", args=[order.pk])
    refused = client.post(url, TYPED)
    assert refused.status_code == 400
    assert "经纬度是手动填写的" in text(refused)
    response = client.post(url, {**TYPED, "reason": "手机定位失败"})
    assert response.status_code == 302
    page = text(client.get(response["Location"]))
    assert "手动填写，已标记待核查" in page
    assert "李护理员签到的位置是手动填写的，不是手机定位" in page


def test_both_caregivers_check_in_for_the_bath_on_their_phones(client: Client, world: World, clock: Clock) -> None:
    order = scheduled(world)
    partner = second_caregiver(world)
    assert partner.user is not None
    clock.now = at(DAY, 8, 57)
    # The partner sees the visit on their route, marked as theirs to join, and checks in first.
    as_user(client, partner.user)
    route = text(client.get(reverse("homecare:route")))
    assert reverse("homecare:visit", args=[order.pk]) in route
    assert "我是搭档" in route
    page = text(client.get(reverse("homecare:visit", args=[order.pk])))
    assert "到达后签到（搭档）" in page
    assert reverse("homecare:visit_check_out", args=[order.pk]) not in page
    assert client.post(reverse("homecare:visit_check_in", args=[order.pk]), AT_HOME).status_code == 302
    assert "我的签到时间" in text(client.get(reverse("homecare:visit", args=[order.pk])))
    # The lead checks in: the bath starts then.
    clock.now = at(DAY, 9, 2)
    as_user(client, world.caregiver_user)
    response = client.post(reverse("homecare:visit_check_in", args=[order.pk]), AT_HOME)
    assert response.status_code == 302
    page = text(client.get(response["Location"]))
    assert "已签到，开始服务" in page
    assert "王护理员（08:57 已签到）" in page
    order.refresh_from_db()
    assert (order.status, order.started_at) == (OrderStatus.IN_SERVICE, at(DAY, 9, 2))


def test_a_lead_alone_is_told_before_checking_out(client: Client, world: World, clock: Clock) -> None:
    order = scheduled(world)
    clock.now = at(DAY, 9)
    as_user(client, world.caregiver_user)
    client.post(reverse("homecare:visit_check_in", args=[order.pk]), AT_HOME)
    clock.now = at(DAY, 10, 10)
    page = text(client.get(reverse("homecare:visit", args=[order.pk])))
    assert "王护理员还没有签到" in page
    assert "暂缓结算待核查" in page


def test_checking_out_early_asks_for_a_reason_on_the_phone(client: Client, world: World, clock: Clock) -> None:
    order = scheduled(world, "hc-cleaning")
    clock.now = at(DAY, 9)
    as_user(client, world.caregiver_user)
    client.post(reverse("homecare:visit_check_in", args=[order.pk]), AT_HOME)
    clock.now = at(DAY, 9, 45)
    assert "已服务 45 分钟" in text(client.get(reverse("homecare:visit", args=[order.pk])))
    url = reverse("homecare:visit_check_out", args=[order.pk])
    refused = client.post(url, {**AT_HOME, "tasks": "打扫客厅"})
    assert refused.status_code == 400
    page = text(refused)
    assert "少于这个项目至少 120 分钟的要求" in page
    assert 'for="checkout_short_reason"' in page
    response = client.post(url, {**AT_HOME, "tasks": "打扫客厅", "short_reason": "老人身体不适，要求停止"})
    assert response.status_code == 302
    assert "已签退，实际服务 45 分钟" in text(client.get(response["Location"]))


# --- the family, before they confirm --------------------------------------------------------------------


def short_cleaning(world: World) -> Order:
    order = scheduled(world, "hc-cleaning")
    door.order_check_in(actor=world.caregiver_user, order=order, at=HOME, now=at(DAY, 9))
    return door.order_check_out(
        actor=world.caregiver_user,
        order=order,
        at=HOME,
        tasks_done=["打扫客厅"],
        short_reason="老人身体不适",
        now=at(DAY, 9, 45),
    )


def test_the_family_sees_a_short_visit_and_its_price_before_confirming(client: Client, world: World) -> None:
    # Seen: the family was offered "confirm completed" for a visit checked out in the minute it began.
    order = short_cleaning(world)
    as_user(client, world.family)
    assert "服务有异常，请查看" in text(client.get(reverse("homecare:family_home")))
    page = text(client.get(reverse("homecare:order", args=[order.pk])))
    assert "这次服务有以下情况" in page
    assert "实际服务 45 分钟，少于约定的至少 120 分钟" in page
    assert "老人身体不适" in page
    assert "本次支付 30.00 元（原价 80.00 元）" in page
    assert "这次实际服务 45 分钟（这个项目每次不少于 120 分钟）" in page
    assert "确认后从补贴额度中支付 30.00 元" in page
    # The confirmation is the page's last step, after all of that.
    assert page.index("这次服务有以下情况") < page.index(reverse("homecare:order_confirm", args=[order.pk]))
    response = client.post(reverse("homecare:order_confirm", args=[order.pk]))
    assert response.status_code == 302
    month = AccountMonth.objects.get()
    assert (month.held, month.spent) == (Decimal("0.00"), Decimal("30.00"))


def test_the_family_is_told_a_held_visit_waits_for_review(client: Client, world: World) -> None:
    order = scheduled(world, "hc-cleaning")
    door.order_check_in(actor=world.caregiver_user, order=order, at=HOME, now=at(DAY, 9, 40))
    door.order_check_out(actor=world.caregiver_user, order=order, at=HOME, tasks_done=["打扫"], now=at(DAY, 11, 45))
    as_user(client, world.family)
    page = text(client.get(reverse("homecare:order", args=[order.pk])))
    assert "李护理员签到比约定时间晚 40 分钟" in page
    assert "暂缓结算" in page
    assert "确认只表示服务确实发生了" in page


# --- the provider's plan --------------------------------------------------------------------------------


def test_the_plan_opens_on_the_next_day_with_orders_to_plan(client: Client, world: World) -> None:
    # Seen: the plan page opened on an empty today while tomorrow had accepted orders.
    order, _ = services.order_book(
        actor=world.family,
        person=world.elder,
        item="hc-cleaning",
        window_start=at(DAY + dt.timedelta(days=2), 9),
        window_end=at(DAY + dt.timedelta(days=2), 12),
        idempotency_key="later",
        now=at(TODAY, 8),
    )
    services.order_accept(actor=world.provider_admin, order=order, now=at(TODAY, 9))
    as_user(client, world.provider_admin)
    page = text(client.get(reverse("homecare:plan_day")))
    assert "今天没有要安排的工单，下面是接下来最近有工单的一天" in page
    assert f'value="{(DAY + dt.timedelta(days=2)).isoformat()}"' in page
    assert f'data-testid="unassigned-{order.pk}"' in page
    # Asked for a day, that day.
    assert f'data-testid="unassigned-{order.pk}"' not in text(
        client.get(reverse("homecare:plan_day"), {"day": DAY.isoformat()})
    )


def test_the_plan_gives_the_bath_two_caregivers(client: Client, world: World) -> None:
    order, _ = services.order_book(
        actor=world.family,
        person=world.elder,
        item="hc-bathing",
        window_start=at(DAY, 9),
        window_end=at(DAY, 12),
        idempotency_key="bath",
        now=at(TODAY, 8),
    )
    services.order_accept(actor=world.provider_admin, order=order, now=at(TODAY, 9))
    as_user(client, world.provider_admin)
    alone = client.post(reverse("homecare:plan_day"), {"provider": world.provider.pk, "day": DAY.isoformat()})
    page = text(client.get(alone["Location"]))
    assert "这项服务需要 2 名护理员一起做" in page
    assert Order.objects.get(pk=order.pk).status == OrderStatus.ACCEPTED
    partner = second_caregiver(world)
    again = client.post(reverse("homecare:plan_day"), {"provider": world.provider.pk, "day": DAY.isoformat()})
    page = text(client.get(again["Location"]))
    order.refresh_from_db()
    assert order.status == OrderStatus.SCHEDULED
    assert {order.caregiver, *(p.caregiver for p in order.partners.all())} == {world.caregiver, partner}
    assert "两人服务，搭档" in page
    assert "两人服务，做" in page


# --- the officer's review --------------------------------------------------------------------------------


def held_visit(world: World) -> Order:
    order = scheduled(world, "hc-cleaning")
    door.order_check_in(actor=world.caregiver_user, order=order, at=HOME, now=at(DAY, 9, 40))
    door.order_check_out(actor=world.caregiver_user, order=order, at=HOME, tasks_done=["打扫"], now=at(DAY, 11, 45))
    services.order_confirm(actor=world.family, order=order, now=at(DAY, 11, 50))
    return order


def test_the_officer_reviews_a_held_visit_on_a_page(client: Client, world: World) -> None:
    order = held_visit(world)
    as_user(client, world.officer)
    assert "待核查的服务 1 次" in text(client.get(reverse("homecare:office_home")))
    page = text(client.get(reverse("homecare:reviews")))
    assert f'data-testid="held-{order.pk}"' in page
    assert "李护理员签到比约定时间晚 40 分钟" in page
    url = reverse("homecare:review_decide", args=[order.pk])
    refused = client.post(url, {"decision": "reduced", "note": "迟到"})
    assert refused.status_code == 400
    assert "减额结算时，请填写支付的金额" in text(refused)
    response = client.post(url, {"decision": "reduced", "amount": "60", "note": "电话回访，迟到但服务完整"})
    assert response.status_code == 302
    page = text(client.get(response["Location"]))
    assert f"工单 {order.pk} 已核查：核查后减额结算，支付 60.00 元" in page
    assert "没有等待核查的服务" in page
    order.refresh_from_db()
    assert (order.review, order.payable) == (ReviewStatus.REDUCED, Decimal("60.00"))
    assert AccountMonth.objects.get().spent == Decimal("60.00")


@pytest.mark.parametrize(
    ("who", "page", "decide"),
    [
        ("officer", 200, 302),
        ("auditor", 200, 403),  # reads every held visit, decides none
        ("provider_admin", 403, 403),
        ("caregiver_user", 403, 403),
        ("family", 403, 403),
    ],
)
def test_who_sees_and_decides_the_reviews(client: Client, world: World, who: str, page: int, decide: int) -> None:
    order = held_visit(world)
    user = make_user("auditor", Role.AUDITOR, None) if who == "auditor" else world.user(who)
    as_user(client, user)
    response = client.get(reverse("homecare:reviews"))
    assert response.status_code == page
    if page == 200:
        assert f'data-testid="held-{order.pk}"' in text(response)
        assert (reverse("homecare:review_decide", args=[order.pk]) in text(response)) is (decide == 302)
    posted = client.post(reverse("homecare:review_decide", args=[order.pk]), {"decision": "full", "note": "核实"})
    assert posted.status_code == decide
    expected = ReviewStatus.FULL if decide == 302 else ReviewStatus.PENDING
    assert Order.objects.get(pk=order.pk).review == expected


def test_an_officer_of_another_area_does_not_find_the_visit(client: Client, world: World) -> None:
    order = held_visit(world)
    area = Area.objects.get(code="331003")
    elsewhere = make_user("officer9", Role.DEPARTMENT_OFFICER, area, department=world.officer.department)
    as_user(client, elsewhere)
    assert f"held-{order.pk}" not in text(client.get(reverse("homecare:reviews")))
    response = client.post(reverse("homecare:review_decide", args=[order.pk]), {"decision": "full", "note": "x"})
    assert response.status_code == 404


# --- the statement and the settlement --------------------------------------------------------------------


def test_the_statement_and_the_settlement_say_why(client: Client, world: World) -> None:
    short = short_cleaning(world)
    services.order_confirm(actor=world.family, order=short, now=at(DAY, 10))
    as_user(client, world.family)
    page = text(client.get(reverse("homecare:statement", args=[world.account.pk, f"{DAY:%Y-%m}"])))
    assert "30.00" in page
    assert "实际服务 45 分钟，少于约定的至少 120 分钟，按实际服务时长比例结算" in page
    settlement = settlement_generate(
        actor=world.officer, provider=world.provider, month=DAY, now=at(dt.date(2026, 12, 2), 9)
    )
    as_user(client, world.officer)
    page = text(client.get(reverse("homecare:settlement", args=[settlement.pk])))
    assert "50.00" in page
    assert "按实际服务时长比例结算" in page


def test_a_settlement_with_a_held_visit_says_so_and_links_the_reviews(client: Client, world: World) -> None:
    held_visit(world)
    settlement = settlement_generate(
        actor=world.officer, provider=world.provider, month=DAY, now=at(dt.date(2026, 12, 2), 9)
    )
    as_user(client, world.officer)
    page = text(client.get(reverse("homecare:settlement", args=[settlement.pk])))
    assert "有 1 次服务暂缓结算、等待核查" in page
    assert reverse("homecare:reviews") in page
    assert "待核查，暂不结算" in page


# --- the elder's home on the map ---------------------------------------------------------------------------


def test_the_account_page_offers_the_map_with_its_source(client: Client, world: World) -> None:
    as_user(client, world.officer)
    page = text(client.get(reverse("homecare:account", args=[world.account.pk])))
    assert "data-home-map" in page
    assert "echarts-6.1.0.min.js" in page
    assert "echarts-china-cities-pypkg 0.0.9" in page
    assert "2018-02-09" in page
    assert "county=331002" in page
    assert 'name="source"' in page
    assert "说明（手动填写经纬度时必填）" in page


def test_the_county_outline_is_served_from_our_own_file(client: Client, world: World) -> None:
    as_user(client, world.officer)
    response = client.get(reverse("homecare:county_outline"), {"county": "331002"})
    assert response.status_code == 200
    outline = json.loads(response.content)
    assert [f["id"] for f in outline["features"]] == ["331002"]
    everything = json.loads(client.get(reverse("homecare:county_outline")).content)
    assert len(everything["features"]) == 9
    as_user(client, world.family)
    assert client.get(reverse("homecare:county_outline")).status_code == 403


def test_typed_home_coordinates_need_a_note_on_the_page(client: Client, world: World) -> None:
    url = reverse("homecare:account", args=[world.account.pk])
    as_user(client, world.officer)
    typed = {"address": "海门街道 2 号", "latitude": "28.66", "longitude": "121.43"}
    refused = client.post(url, typed)
    assert refused.status_code == 400
    assert "请在“说明”中写明坐标从哪里得来" in text(refused)
    assert client.post(url, {**typed, "note": "手机地图长按读取"}).status_code == 302
    account = EntitlementAccount.objects.get(pk=world.account.pk)
    assert (account.location_source, account.location_note) == (LocationSource.TYPED, "手机地图长按读取")
    assert client.post(url, {**typed, "source": "map"}).status_code == 302
    assert EntitlementAccount.objects.get(pk=world.account.pk).location_source == LocationSource.MAP


def test_the_officer_takes_the_caregivers_located_check_in_as_the_home(client: Client, world: World) -> None:
    order = scheduled(world, "hc-cleaning")
    here = Position(ELDER_HOME[0] + Decimal("0.0008"), ELDER_HOME[1] + Decimal("0.0004"), accuracy_m=9)
    door.order_check_in(actor=world.caregiver_user, order=order, at=here, now=at(DAY, 9))
    proposal = LocationProposal.objects.get()
    url = reverse("homecare:account", args=[world.account.pk])
    as_user(client, world.provider_admin)
    assert 'data-testid="location-proposal"' not in text(client.get(url))  # the officer decides
    as_user(client, world.officer)
    page = text(client.get(url))
    assert 'data-testid="location-proposal"' in page
    assert "误差约 9 米" in page
    decide = reverse("homecare:location_proposal", args=[world.account.pk, proposal.pk])
    response = client.post(decide, {"action": "accept"})
    assert response.status_code == 302
    account = EntitlementAccount.objects.get(pk=world.account.pk)
    assert (account.latitude, account.longitude, account.location_source) == (
        here.latitude,
        here.longitude,
        LocationSource.CHECKIN,
    )
    assert "采用护理员签到定位" in text(client.get(url))
