"""The whole life of one bath, through the services, as the browser journey drives it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from fuwu.eligibility.models import Receipt
from fuwu.homecare.door import Position, order_check_in, order_check_out, order_partner_check_in
from fuwu.homecare.models import AccountMonth, OrderStatus
from fuwu.homecare.planning import dispatch_day
from fuwu.homecare.services import order_accept, order_book, order_confirm, order_rate
from tests.homecare.conftest import ELDER_HOME, TODAY, World, at, second_caregiver


def test_a_bath_from_booking_to_rating(world: World) -> None:
    day = TODAY + dt.timedelta(days=2)
    order, created = order_book(
        actor=world.family,
        person=world.elder,
        item="hc-bathing",
        window_start=at(day, 9),
        window_end=at(day, 12),
        idempotency_key="bath-1",
        now=at(TODAY, 10),
    )
    assert created
    assert order.price == Decimal("80")
    assert order.subsidy == Decimal("80")
    month = AccountMonth.objects.get(pk=order.account_month_id)
    assert (month.allowance, month.held, month.spent) == (Decimal("200"), Decimal("80"), Decimal("0"))

    order_accept(actor=world.provider_admin, order=order, now=at(TODAY, 11))
    partner = second_caregiver(world)  # bathing is done by two (delivery.staff: 2)
    run = dispatch_day(actor=world.provider_admin, provider=world.provider, day=day, now=at(TODAY, 12))
    order.refresh_from_db()
    assert run.assigned == 1, run.unassigned
    assert order.status == OrderStatus.SCHEDULED
    assert order.planned_start is not None
    assert at(day, 9) <= order.planned_start <= at(day, 12) - dt.timedelta(minutes=order.minutes)
    crew = {order.caregiver, *(p.caregiver for p in order.partners.all())}
    assert crew == {world.caregiver, partner}
    lead = order.caregiver
    assert lead is not None
    assert lead.user is not None
    second = partner if lead == world.caregiver else world.caregiver
    assert second.user is not None

    home = Position(*ELDER_HOME)
    arrive = order.planned_start + dt.timedelta(minutes=5)
    order_check_in(actor=lead.user, order=order, at=home, now=arrive)
    order.refresh_from_db()
    assert order.started_at is None  # the bath starts when both are there
    order_partner_check_in(actor=second.user, order=order, at=home, now=arrive + dt.timedelta(minutes=3))
    order.refresh_from_db()
    assert order.started_at == arrive + dt.timedelta(minutes=3)
    leave = arrive + dt.timedelta(minutes=70)
    order_check_out(actor=lead.user, order=order, at=home, tasks_done=["协助洗浴"], now=leave)
    order.refresh_from_db()
    assert (order.visit_minutes, order.flags, order.payable) == (67, [], Decimal("80.00"))
    order_confirm(actor=lead.user, order=order, code=order.confirmation_code, now=leave + dt.timedelta(minutes=1))
    month.refresh_from_db()
    assert (month.held, month.spent) == (Decimal("0"), Decimal("80"))
    # Served now: the proactive list no longer counts her as entitled but not served for bathing.
    receipt = Receipt.objects.get(person_id=world.elder.pk, item="hc-bathing")
    assert (receipt.since, receipt.source) == (day, "homecare")
    order_rate(actor=world.family, order=order, stars=5, comment="很好", now=at(day, 18))
    order.refresh_from_db()
    assert order.status == OrderStatus.RATED
