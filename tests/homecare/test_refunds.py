"""Money given back, and the confirmation code's attempt limit.

An upheld complaint costs the elder nothing, whenever it is decided: after confirmation the spent
subsidy (or the package's own payment) goes back; before it, the hold goes back and a later confirmation
spends nothing. A caregiver has a limited number of tries at the four-digit code.
"""

from __future__ import annotations

import pytest

from fuwu.homecare.complaints import complaint_lodge, complaint_resolve
from fuwu.homecare.models import AccountMonth, Order, OrderStatus
from fuwu.homecare.services import HomeCareError, order_cancel, order_confirm
from tests.homecare.conftest import World
from tests.homecare.test_services import NOW, money, order_in


def month(order: Order) -> AccountMonth:
    return AccountMonth.objects.get(pk=order.account_month_id)


def uphold(world: World, order: Order) -> None:
    complaint = complaint_lodge(actor=world.family, order=order, text="护理员没有做完就走了", now=NOW)
    complaint_resolve(actor=world.officer, complaint=complaint, upheld=True, outcome="属实，退回补贴", now=NOW)


def test_upheld_before_confirmation_gives_the_hold_back_and_nothing_is_spent_later(world: World) -> None:
    order = order_in(world, "completed")
    assert money(month(order)) == (order.subsidy, 0, 0)  # held, spent, self-paid
    uphold(world, order)
    assert money(month(order)) == (0, 0, 0)
    order_confirm(actor=world.family, order=order, now=NOW)
    assert money(month(order)) == (0, 0, 0)
    assert Order.objects.get(pk=order.pk).subsidy_refunded


def test_upheld_on_a_scheduled_visit_then_cancelled_gives_back_once(world: World) -> None:
    order = order_in(world, "scheduled")
    uphold(world, order)
    order_cancel(actor=world.family, order=Order.objects.get(pk=order.pk), reason="不需要了", now=NOW)
    assert money(month(order)) == (0, 0, 0)


def test_upheld_on_a_confirmed_package_gives_the_elder_her_money_back(world: World) -> None:
    order = order_in(world, "confirmed", item="hc-package-safety")
    assert month(order).self_paid == order.self_pay > 0
    uphold(world, order)
    assert month(order).self_paid == 0


def test_a_caregiver_has_a_limited_number_of_tries_at_the_code(world: World, settings: object) -> None:
    order = order_in(world, "completed")
    wrong = "0000" if order.confirmation_code != "0000" else "1111"
    for left in (4, 3, 2, 1):
        with pytest.raises(HomeCareError, match=f"还可以再试{left}次") as refused:
            order_confirm(actor=world.caregiver_user, order=order, code=wrong, now=NOW)
        assert refused.value.code == "bad_code"
    with pytest.raises(HomeCareError) as locked:
        order_confirm(actor=world.caregiver_user, order=order, code=wrong, now=NOW)
    assert locked.value.code == "code_locked"
    # Even the right code no longer works for the caregiver; the family can still confirm.
    with pytest.raises(HomeCareError) as still_locked:
        order_confirm(actor=world.caregiver_user, order=order, code=order.confirmation_code, now=NOW)
    assert still_locked.value.code == "code_locked"
    assert Order.objects.get(pk=order.pk).confirmation_failures == 6
    order_confirm(actor=world.family, order=order, now=NOW)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.COMPLETED
    assert Order.objects.get(pk=order.pk).confirmed_at is not None
