"""Refusals are in the language of the request: English when English is active, Chinese by default.

What is stored (the reasons a day's plan writes down) stays in the site's language whoever asked.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re

import pytest
from django.utils import translation

from fuwu.homecare import standard
from fuwu.homecare.models import AccountMonth, Caregiver, EntitlementAccount, Order
from fuwu.homecare.planning import dispatch_day
from fuwu.homecare.services import HomeCareError, order_accept, order_book, order_schedule
from tests.homecare.conftest import TODAY, World, at

DAY = TODAY + dt.timedelta(days=2)  # the Wednesday of an ordinary week
NOW = at(TODAY, 10)
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
_keys = itertools.count()


def book(world: World, *, item: str = "hc-bathing", day: dt.date = DAY, hour: int = 9) -> Order:
    order, created = order_book(
        actor=world.family,
        person=world.elder,
        item=item,
        window_start=at(day, hour),
        window_end=at(day, hour + 3),
        idempotency_key=f"english-{next(_keys)}",
        now=NOW,
    )
    assert created
    return order


def refusal(world: World, **kwargs: object) -> HomeCareError:
    with pytest.raises(HomeCareError) as refused:
        book(world, **kwargs)  # type: ignore[arg-type]
    return refused.value


def short_of_allowance(world: World) -> tuple[standard.Project, object]:
    """Half a bathing visit left once the first is booked: the project, and what is left as the month shows it."""
    project = standard.project("hc-bathing", on=DAY)
    EntitlementAccount.objects.filter(pk=world.account.pk).update(monthly_allowance=project.price * 3 / 2)
    month = AccountMonth.objects.get(pk=book(world).account_month_id)
    return project, month.allowance - month.held - month.spent


def test_too_little_allowance_is_refused_in_english_with_the_amounts_filled_in(world: World) -> None:
    project, left = short_of_allowance(world)
    with translation.override("en"):
        refused = refusal(world, hour=14)
    message = str(refused)
    assert refused.code == "insufficient_subsidy"
    assert not CJK.search(message), message
    assert message == (
        f"Only {left} yuan of this month's allowance is left, not enough for {project.name_en} ({project.price} yuan)."
    )


def test_too_little_allowance_is_refused_in_chinese_by_default(world: World) -> None:
    project, left = short_of_allowance(world)
    refused = refusal(world, hour=14)
    assert refused.code == "insufficient_subsidy"
    assert str(refused) == f"本月补贴余额{left}元，不足以支付{project.name_zh}（{project.price}元）。"


def test_a_past_window_is_refused_in_the_active_language(world: World) -> None:
    with translation.override("en"):
        english = refusal(world, day=TODAY, hour=6)
    chinese = refusal(world, day=TODAY, hour=6)
    assert english.code == chinese.code == "bad_window"
    assert str(english) == "That time window has already passed. Please choose a time in the future."
    assert str(chinese) == "服务时段已经过去，请选择今后的时间。"


def test_a_step_from_the_wrong_state_names_the_states_and_the_step_in_english(world: World) -> None:
    order = book(world)
    order_accept(actor=world.provider_admin, order=order, now=NOW)
    with translation.override("en"), pytest.raises(HomeCareError) as refused:
        order_accept(actor=world.provider_admin, order=order, now=NOW)
    message = str(refused.value)
    assert not CJK.search(message), message
    assert (
        message
        == "This order is “Accepted”, so you cannot accept it. That is only possible for orders that are Booked."
    )
    with pytest.raises(HomeCareError) as again:
        order_accept(actor=world.provider_admin, order=order, now=NOW)
    assert str(again.value) == "工单当前状态为“已受理”，不能受理；只有已预约状态的工单可以受理。"


def test_a_blocked_caregiver_is_explained_in_english(world: World) -> None:
    order = book(world)
    order_accept(actor=world.provider_admin, order=order, now=NOW)
    lapsed = DAY - dt.timedelta(days=1)
    Caregiver.objects.filter(pk=world.caregiver.pk).update(health_certificate_expires=lapsed, qualifications=[])
    world.caregiver.refresh_from_db()
    with translation.override("en"), pytest.raises(HomeCareError) as refused:
        order_schedule(actor=world.provider_admin, order=order, caregiver=world.caregiver, planned_start=at(DAY, 9))
    message = str(refused.value)
    assert refused.value.code == "caregiver_blocked"
    assert message.startswith(
        f"{world.caregiver.name} cannot make this visit: health certificate expired on {lapsed}; "
    )
    assert "missing qualifications: " in message
    assert not CJK.search(message.removeprefix(world.caregiver.name)), message


def test_the_plan_stores_why_a_caregiver_was_left_out_in_chinese_even_for_an_english_request(world: World) -> None:
    order = book(world)
    order_accept(actor=world.provider_admin, order=order, now=NOW)
    lapsed = DAY - dt.timedelta(days=1)
    Caregiver.objects.filter(pk=world.caregiver.pk).update(health_certificate_expires=lapsed)
    with translation.override("en"):
        run = dispatch_day(actor=world.provider_admin, provider=world.provider, day=DAY, now=NOW, time_limit_s=1.0)
    reasons = {row["caregiver"]: row["reason"] for row in run.excluded_caregivers}
    assert reasons[world.caregiver.pk] == f"健康证明已于{lapsed}过期"
