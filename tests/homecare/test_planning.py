"""Planning a provider's day from the database: who gets which visit, who is left out and why, and re-planning
when a caregiver calls in sick. The solver itself is tested in ``test_dispatch.py``; here the question is
what ``dispatch_day`` and ``caregiver_absent`` write back."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from fuwu.accounts.models import Role, User
from fuwu.areas.models import Area
from fuwu.common.models import AuditLog
from fuwu.homecare import planning, standard
from fuwu.homecare.models import (
    Caregiver,
    CaregiverAbsence,
    DispatchRun,
    FamilyLink,
    Order,
    OrderStatus,
    Provider,
    TrainingRecord,
)
from fuwu.homecare.planning import caregiver_absent, dispatch_day, in_words
from fuwu.homecare.services import HomeCareError, order_accept, order_book, order_schedule
from tests.homecare.conftest import TODAY, VILLAGE, World, at, make_user, open_account
from tests.residents.factories import PersonFactory

DAY = TODAY + dt.timedelta(days=2)  # a Wednesday
NOW = at(TODAY, 10)
QUICK = 1.0  # seconds for the solver; these days are tiny
_keys = itertools.count()


@pytest.fixture(autouse=True)
def _quick_replans(monkeypatch: pytest.MonkeyPatch) -> None:
    """``caregiver_absent`` re-plans with the default time limit; these tests need far less."""
    plan = planning.dispatch_day

    def quick(**kwargs: Any) -> DispatchRun:
        return plan(**{"time_limit_s": QUICK, **kwargs})

    monkeypatch.setattr(planning, "dispatch_day", quick)


def accepted(world: World, *, item: str = "hc-cleaning", hour: int = 8, hours: int = 4, person: Any = None) -> Order:
    order, _ = order_book(
        actor=world.officer,
        person=person or world.elder,
        item=item,
        window_start=at(DAY, hour),
        window_end=at(DAY, hour + hours),
        idempotency_key=f"plan-{next(_keys)}",
        now=NOW,
    )
    return order_accept(actor=world.provider_admin, order=order, now=NOW)


def carer(world: World, name: str, **fields: Any) -> Caregiver:
    """A caregiver of the world's provider, trained and certified unless told otherwise, living near the elder."""
    values = {
        "provider": world.provider,
        "name": name,
        "qualifications": ["care-worker"],
        "health_certificate_expires": dt.date(2027, 6, 30),
        "home_latitude": Decimal("28.655000"),
        "home_longitude": Decimal("121.415000"),
        "shift_start": dt.time(8),
        "shift_end": dt.time(17),
        **fields,
    }
    created = Caregiver.objects.create(**values)
    TrainingRecord.objects.create(
        caregiver=created,
        kind="pre_job",
        completed_on=dt.date(2025, 1, 1),
        hours=standard.number("pre_job_training_hours", on=DAY),
        topic="岗前培训",
    )
    return created


def plan(world: World, *, now: dt.datetime = NOW, day: dt.date = DAY) -> DispatchRun:
    return dispatch_day(actor=world.provider_admin, provider=world.provider, day=day, now=now, time_limit_s=QUICK)


def reload(order: Order) -> Order:
    return Order.objects.get(pk=order.pk)


def assert_inside_window(order: Order) -> None:
    assert order.planned_start is not None
    assert order.window_start <= order.planned_start
    assert order.planned_start + dt.timedelta(minutes=order.minutes) <= order.window_end


def test_accepted_orders_of_the_day_go_to_the_qualified_caregiver(world: World) -> None:
    needed = standard.project("hc-cleaning", on=DAY).qualifications
    assert needed, "cleaning needs a qualification the unqualified caregiver lacks"
    unqualified = carer(world, "钱护理员", qualifications=[])
    orders = [accepted(world, hour=8), accepted(world, hour=12)]
    requested, _ = order_book(
        actor=world.officer,
        person=world.elder,
        item="hc-meals",
        window_start=at(DAY, 11),
        window_end=at(DAY, 13),
        idempotency_key="not-yet-accepted",
        now=NOW,
    )
    tomorrow = TODAY + dt.timedelta(days=3)
    other_day, _ = order_book(
        actor=world.officer,
        person=world.elder,
        item="hc-meals",
        window_start=at(tomorrow, 9),
        window_end=at(tomorrow, 12),
        idempotency_key="another-day",
        now=NOW,
    )
    order_accept(actor=world.provider_admin, order=other_day, now=NOW)

    run = plan(world)

    assert (run.day, run.visits, run.assigned, run.unassigned) == (DAY, 2, 2, [])
    assert run.created_by == world.provider_admin
    for order in map(reload, orders):
        assert order.status == OrderStatus.SCHEDULED
        assert order.caregiver == world.caregiver
        assert world.caregiver.pk != unqualified.pk
        assert_inside_window(order)
        assert AuditLog.objects.filter(event="homecare.order_scheduled", object_id=str(order.pk)).exists()
    assert reload(requested).status == OrderStatus.REQUESTED
    assert reload(other_day).status == OrderStatus.ACCEPTED
    assert AuditLog.objects.filter(event="homecare.day_planned", object_id=str(run.pk), actor=world.provider_admin)


def test_an_elder_without_a_home_location_is_left_unassigned_with_the_reason(world: World) -> None:
    neighbour = PersonFactory.create(birth_date=dt.date(1938, 8, 8), hukou_area=VILLAGE)
    FamilyLink.objects.create(user=world.family, person=neighbour, relation="son")
    account = open_account(world.officer, neighbour, amount=Decimal("200.00"), items=["hc-cleaning"])
    assert account.latitude is None
    located = accepted(world)
    unlocated = accepted(world, person=neighbour)

    run = plan(world)

    assert (run.visits, run.assigned) == (2, 1)
    assert reload(located).status == OrderStatus.SCHEDULED
    left = reload(unlocated)
    assert (left.status, left.caregiver, left.planned_start) == (OrderStatus.ACCEPTED, None, None)
    assert "住址" in left.dispatch_note
    assert run.unassigned == [{"order": unlocated.pk, "reason": left.dispatch_note}]


def test_a_caregiver_whose_certificate_has_expired_gets_nothing(world: World) -> None:
    # The expired one lives next door to the elder; the valid one is farther away but still gets every visit.
    expired = carer(
        world,
        "孙护理员",
        health_certificate_expires=DAY - dt.timedelta(days=1),
        home_latitude=Decimal("28.656000"),
        home_longitude=Decimal("121.420000"),
    )
    orders = [accepted(world, hour=8), accepted(world, hour=12)]

    run = plan(world)

    assert not Order.objects.filter(caregiver=expired).exists()
    assert {reload(o).caregiver_id for o in orders} == {world.caregiver.pk}
    excluded = {row["caregiver"]: row["reason"] for row in run.excluded_caregivers}
    assert "健康证明" in excluded[expired.pk]
    assert world.caregiver.pk not in excluded


def test_a_caregiver_short_of_training_gets_nothing(world: World) -> None:
    untrained = carer(world, "冯护理员")
    untrained.training.all().delete()
    accepted(world)
    run = plan(world)
    assert not Order.objects.filter(caregiver=untrained).exists()
    assert "岗前培训" in {row["caregiver"]: row["reason"] for row in run.excluded_caregivers}[untrained.pk]


def test_an_absent_caregivers_visits_are_re_planned(world: World) -> None:
    stand_in = carer(world, "何护理员", qualifications=list(world.caregiver.qualifications))
    orders = [accepted(world, hour=8), accepted(world, hour=11), accepted(world, item="hc-meals", hour=14, hours=2)]
    for order in orders:
        order_schedule(
            actor=world.provider_admin, order=order, caregiver=world.caregiver, planned_start=order.window_start
        )

    run = caregiver_absent(
        actor=world.provider_admin, caregiver=world.caregiver, day=DAY, reason="发烧", now=at(DAY - dt.timedelta(1), 18)
    )

    absence = CaregiverAbsence.objects.get()
    assert (absence.caregiver, absence.day, absence.reason, absence.reported_by) == (
        world.caregiver,
        DAY,
        "发烧",
        world.provider_admin,
    )
    assert "发烧" in run.reason
    assert {"caregiver": world.caregiver.pk, "reason": "当日请假"} in run.excluded_caregivers
    assert not Order.objects.filter(caregiver=world.caregiver).exists()
    for order in map(reload, orders):
        if order.status == OrderStatus.SCHEDULED:
            assert order.caregiver == stand_in
            assert_inside_window(order)
        else:
            assert (order.status, order.caregiver) == (OrderStatus.ACCEPTED, None)
            assert order.dispatch_note
    assert run.assigned == Order.objects.filter(caregiver=stand_in).count() >= 1
    assert AuditLog.objects.filter(event="homecare.caregiver_absent", object_id=str(world.caregiver.pk)).exists()


def test_with_nobody_to_take_them_the_absent_caregivers_visits_go_back_to_accepted(world: World) -> None:
    orders = [accepted(world, hour=8), accepted(world, hour=12)]
    for order in orders:
        order_schedule(
            actor=world.provider_admin, order=order, caregiver=world.caregiver, planned_start=order.window_start
        )
    run = caregiver_absent(actor=world.provider_admin, caregiver=world.caregiver, day=DAY, reason="家中有事", now=NOW)
    assert run.assigned == 0
    for order in map(reload, orders):
        assert (order.status, order.caregiver, order.planned_start) == (OrderStatus.ACCEPTED, None, None)
        assert order.dispatch_note
        assert AuditLog.objects.filter(event="homecare.order_unscheduled", object_id=str(order.pk)).exists()
    assert {row["order"] for row in run.unassigned} == {o.pk for o in orders}


def test_an_absence_needs_a_reason_and_is_recorded_once(world: World) -> None:
    with pytest.raises(HomeCareError) as refused:
        caregiver_absent(actor=world.provider_admin, caregiver=world.caregiver, day=DAY, reason=" ", now=NOW)
    assert refused.value.code == "reason_required"
    assert not CaregiverAbsence.objects.exists()
    caregiver_absent(actor=world.provider_admin, caregiver=world.caregiver, day=DAY, reason="发烧", now=NOW)
    caregiver_absent(actor=world.provider_admin, caregiver=world.caregiver, day=DAY, reason="仍在发烧", now=NOW)
    assert CaregiverAbsence.objects.count() == 1
    assert AuditLog.objects.filter(event="homecare.caregiver_absent").count() == 1


def _outsiders(world: World) -> list[User]:
    elsewhere = Area.objects.get(code="331003")
    other = Provider.objects.create(
        name="黄岩夕阳红居家养老服务社",
        licence_number="HY-2022-002",
        licence_valid_until=dt.date(2028, 12, 31),
        address="黄岩区",
        contact_name="陈主任",
        contact_phone="0576-1111111",
    )
    other_admin = make_user("provider2", Role.PROVIDER_ADMIN, elsewhere)
    other.admins.add(other_admin)
    # An administrator who lost the role keeps the link but not the right.
    demoted = make_user("former-admin", Role.RESIDENT, world.provider_admin.area)
    world.provider.admins.add(demoted)
    return [world.officer, world.family, world.caregiver_user, world.stranger, other_admin, demoted]


def test_only_the_providers_administrators_plan_its_day(world: World) -> None:
    order = accepted(world)
    for outsider in _outsiders(world):
        with pytest.raises(PermissionDenied):
            dispatch_day(actor=outsider, provider=world.provider, day=DAY, now=NOW, time_limit_s=QUICK)
        with pytest.raises(PermissionDenied):
            caregiver_absent(actor=outsider, caregiver=world.caregiver, day=DAY, reason="病假", now=NOW)
    assert reload(order).status == OrderStatus.ACCEPTED
    assert not DispatchRun.objects.exists()
    assert not CaregiverAbsence.objects.exists()


def test_a_past_day_cannot_be_planned(world: World) -> None:
    order = accepted(world)
    with pytest.raises(HomeCareError) as refused:
        plan(world, now=at(DAY + dt.timedelta(days=1), 0, 1))
    assert refused.value.code == "day_passed"
    assert reload(order).status == OrderStatus.ACCEPTED
    assert not DispatchRun.objects.exists()


def test_planning_later_in_the_day_places_visits_after_now(world: World) -> None:
    early = accepted(world, hour=8, hours=3)  # cleaning takes 2 hours: at 10:30 it no longer fits
    late = accepted(world, hour=11, hours=4)
    run = plan(world, now=at(DAY, 10, 30))
    assert reload(early).status == OrderStatus.ACCEPTED
    assert reload(early).dispatch_note
    placed = reload(late)
    assert placed.status == OrderStatus.SCHEDULED
    assert placed.planned_start is not None
    assert placed.planned_start >= at(DAY, 10, 30)
    assert_inside_window(placed)
    assert run.assigned == 1


@pytest.mark.parametrize(
    "reason",
    [
        "its window 08:00–09:00 had passed when the plan was re-made at 10:15",
        "needs 2 caregivers together: only 7 can make it at 09:00–11:00",
        "needs 2 caregivers together: no other caregiver with skill 'care-worker' can join the lead at 09:10–10:10 "
        "or later in its window",
        "no caregiver is on the roster",
        "no caregiver has skill 'hair-foot-care'",
        "no single caregiver has all of skills 'care-worker' and 'nurse-or-therapist'",
        "caregiver certificate expired: every caregiver with skill 'nurse-or-therapist' (7) holds an expired "
        "certificate",
        "every caregiver with skill 'care-worker' (7) is absent",
        "every caregiver is unavailable: 7 (certificate expired), 8 (absent)",
        "no caregiver with skill 'care-worker' works at 20:00–21:00",
        "no caregiver's shift can reach this elder within the time window 08:20–09:20 and get home in time",
        "capacity of the day exhausted: the caregivers who could make this visit (7, 8) are fully booked around "
        "08:00–09:00",
        "capacity of the day exhausted: every caregiver on shift at 08:00–09:00 (7) is busy with visits under way",
    ],
)
def test_the_solvers_reasons_reach_the_provider_in_words(world: World, reason: str) -> None:
    words = in_words(reason, {"7": "李护理员", "8": "王护理员"})
    assert not re.search(r"[A-Za-z]", words), words
    if "only 7" in reason:
        assert "只有李护理员能上门" in words
    if "'hair-foot-care'" in reason:
        assert words == "没有护理员具备理发修脚相应技能"
