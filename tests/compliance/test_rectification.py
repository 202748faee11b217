"""Rectification deadlines in working days over the Chinese holidays, the institution's answer, overdue escalation."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from fuwu.common.models import AuditLog
from fuwu.compliance.models import OrderStatus, RectificationOrder
from fuwu.compliance.services import ComplianceError
from fuwu.compliance.services.inspections import inspection_sign
from fuwu.compliance.services.rectification import (
    deadline,
    order_answer,
    order_evidence_add,
    order_reinspect,
    order_return,
    orders_flag_overdue,
)
from fuwu.homecare.models import CalendarDay
from tests.compliance.conftest import FIRE, World, fill, photo, started


def signed_on(world: World, day: dt.date, results: dict[str, str], name: str = "hemei", **options: object):  # type: ignore[no-untyped-def]
    inspection = started(world, name, day=day, **options)  # type: ignore[arg-type]
    fill(inspection, world.user("inspector0"), results=results)
    moment = dt.datetime.combine(day, dt.time(16), tzinfo=timezone.get_current_timezone())
    return inspection_sign(actor=world.user("inspector0"), inspection=inspection, now=moment)


@pytest.mark.parametrize(
    ("opened", "days", "due"),
    [
        # Friday 13 February 2026: Saturday the 14th is worked in exchange (调休); 15-23 February are the
        # Spring Festival holiday; Saturday the 28th is worked too.
        (dt.date(2026, 2, 13), 5, dt.date(2026, 2, 27)),
        (dt.date(2026, 2, 13), 10, dt.date(2026, 3, 5)),
        # Wednesday 30 September 2026: 1-7 October are the National Day holiday; Saturday 10 October is worked.
        (dt.date(2026, 9, 30), 5, dt.date(2026, 10, 13)),
        (dt.date(2026, 9, 30), 15, dt.date(2026, 10, 27)),
        # An ordinary week: Monday + 5 working days is the next Monday.
        (dt.date(2026, 11, 23), 5, dt.date(2026, 11, 30)),
    ],
)
def test_deadlines_count_working_days_over_holidays(opened: dt.date, days: int, due: dt.date) -> None:
    assert deadline(opened, days, {}) == (due, True)


def test_a_village_fire_inspection_opens_orders_with_each_clauses_days(world: World) -> None:
    from fuwu.compliance.models import Institution

    village = Institution.objects.create(
        name="和美社区（消防安全）",
        kind="village-fire-safety",
        code="VF-HM",
        area=world.areas["331002001901"],
        address="和美社区",
    )
    world.institutions["village_fire"] = village
    inspection = signed_on(
        world, dt.date(2026, 9, 30), {"5.2": "not", "6.1": "partly"}, name="village_fire", standard=FIRE
    )
    orders = {o.item.clause_number: o for o in inspection.orders.all()}
    assert (orders["5.2"].days, orders["5.2"].due_on) == (5, dt.date(2026, 10, 13))
    assert (orders["6.1"].days, orders["6.1"].due_on) == (10, dt.date(2026, 10, 20))


def test_a_year_whose_holidays_are_not_published_yet_is_flagged_and_an_entered_notice_counts(world: World) -> None:
    due, known = deadline(dt.date(2027, 9, 30), 5)
    assert (due, known) == (dt.date(2027, 10, 7), False)  # weekends only: the deadline may move
    # The office enters the (here imagined) notice: 1-7 October off, Saturday 9 October worked.
    for day in range(1, 8):
        CalendarDay.objects.create(date=dt.date(2027, 10, day), is_workday=False, name="国庆节")
    CalendarDay.objects.create(date=dt.date(2027, 10, 9), is_workday=True, name="国庆节调休")
    assert deadline(dt.date(2027, 9, 30), 5) == (dt.date(2027, 10, 13), True)


def test_the_institution_answers_with_evidence_and_may_be_sent_back(world: World) -> None:
    inspection = signed_on(world, dt.date(2026, 11, 23), {"4.2": "not"})
    order = inspection.orders.get()
    admin = world.user("station_admin")
    for stranger in ("centre_admin", "inspector0", "officer"):
        with pytest.raises(PermissionDenied):
            order_evidence_add(actor=world.user(stranger), order=order, upload=photo())
    with pytest.raises(ComplianceError) as caught:
        order_answer(actor=admin, order=order, response=" ")
    assert caught.value.code == "response_required"
    order_evidence_add(actor=admin, order=order, upload=photo())
    order_answer(actor=admin, order=order, response="已挂牌")
    with pytest.raises(ComplianceError) as caught:
        order_return(actor=world.user("inspector0"), order=order, note="")
    assert caught.value.code == "note_required"
    returned = order_return(actor=world.user("inspector0"), order=order, note="照片看不清标牌内容")
    assert returned.status == OrderStatus.OPEN
    assert returned.answered_at is None
    with pytest.raises(ComplianceError) as caught:
        order_reinspect(actor=world.user("inspector0"), order=order)
    assert caught.value.code == "wrong_state"


def test_overdue_orders_are_flagged_then_escalated_once(world: World) -> None:
    inspection = signed_on(world, dt.date(2026, 9, 30), {"4.2": "not"})
    order = inspection.orders.get()
    assert order.due_on == dt.date(2026, 10, 27)
    assert orders_flag_overdue(today=dt.date(2026, 10, 27)) == (0, 0)  # due today: not late yet
    assert orders_flag_overdue(today=dt.date(2026, 10, 28)) == (1, 0)
    assert orders_flag_overdue(today=dt.date(2026, 10, 29)) == (0, 0)  # flagged once
    order.refresh_from_db()
    assert order.escalation == 1
    # Five working days after the deadline (the veterans' grading) it goes to the city.
    assert orders_flag_overdue(today=dt.date(2026, 11, 3)) == (0, 0)
    assert orders_flag_overdue(today=dt.date(2026, 11, 4)) == (0, 1)
    order.refresh_from_db()
    assert order.escalation == 2
    assert list(
        AuditLog.objects.filter(object_type="compliance.rectificationorder", object_id=str(order.pk))
        .order_by("id")
        .values_list("event", flat=True)
    ) == ["compliance.order_opened", "compliance.order_overdue", "compliance.order_escalated"]


def test_an_answered_order_is_not_the_institutions_delay(world: World) -> None:
    inspection = signed_on(world, dt.date(2026, 9, 30), {"4.2": "not"})
    order = inspection.orders.get()
    order_evidence_add(actor=world.user("station_admin"), order=order, upload=photo())
    order_answer(actor=world.user("station_admin"), order=order, response="已挂牌")
    assert orders_flag_overdue(today=dt.date(2026, 12, 31)) == (0, 0)
    assert RectificationOrder.objects.get(pk=order.pk).escalation == 0
