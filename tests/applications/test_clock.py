"""The clock of an application on the 2026 calendar: National Day (1–7 Oct off, Sat 10 Oct worked, the
Mid-Autumn Friday 25 Sep off), the Spring Festival (15–23 Feb off, Sats 14 and 28 Feb worked); stopped by a
notice, started again by supply; 容缺 promises due in working days. Expected dates are counted by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from fuwu.applications import clock, services
from fuwu.applications.models import MaterialState, Provision, Status
from fuwu.applications.services import ApplicationError, MaterialInput
from fuwu.homecare.models import CalendarDay
from tests.applications.conftest import World, at, photo

D = dt.date


def test_the_review_step_across_national_day_counts_the_worked_saturday(world: World) -> None:
    application = world.apply(now=at(D(2026, 9, 29)))
    application = services.application_accept(actor=world.officer, application=application, now=at(D(2026, 9, 30)))
    # 30 working days after Wed 30 Sep: 8, 9, 10 (Sat, worked) Oct … 16 Nov is the 29th, 17 Nov the 30th.
    assert application.due_on == D(2026, 11, 17)
    assert application.events.get(kind="accepted").due_on == D(2026, 11, 17)


def test_the_payment_step_across_the_spring_festival(world: World) -> None:
    application = services.application_accept(
        actor=world.officer, application=world.apply(now=at(D(2026, 2, 9))), now=at(D(2026, 2, 10))
    )
    application = services.application_advance(actor=world.officer, application=application, now=at(D(2026, 2, 13)))
    # 20 working days after Fri 13 Feb: Sat 14 (worked) is the 1st, 24–27 Feb the 2nd–5th, Sat 28 the 6th,
    # then 2–6, 9–13 Mar (7th–16th) and 16–19 Mar (17th–20th).
    assert (application.step, application.due_on) == (2, D(2026, 3, 19))


def test_a_notice_stops_the_clock_and_supply_starts_it_again(world: World) -> None:
    application = services.application_accept(
        actor=world.officer, application=world.apply(now=at(D(2026, 9, 21))), now=at(D(2026, 9, 22))
    )
    # After Tue 22 Sep: 23, 24, 28, 29, 30 Sep, 8, 9, 10 Oct … the 30th is Tue 10 Nov.
    assert application.due_on == D(2026, 11, 10)
    application = services.application_notice(
        actor=world.officer, application=application, missing=[0], reason="申请表未签字", now=at(D(2026, 9, 23))
    )
    assert application.status == Status.AWAITING_APPLICANT
    assert (application.paused_on, application.days_left) == (D(2026, 9, 23), 29)
    application = services.application_supply(
        actor=world.parent,
        application=application,
        materials={0: MaterialInput(Provision.UPLOAD, photo())},
        now=at(D(2026, 10, 9), 15),
    )
    # 29 working days after Fri 9 Oct: the 6 working days the applicant took (24, 28, 29, 30 Sep, 8, 9 Oct)
    # move 10 Nov to 18 Nov.
    assert application.status == Status.IN_PROGRESS
    assert application.due_on == D(2026, 11, 18)
    assert (application.paused_on, application.days_left, application.resume_status) == (None, None, "")
    assert application.materials.get(index=0).state == MaterialState.PROVIDED


def test_a_notice_before_acceptance_has_no_clock_to_stop(world: World) -> None:
    application = services.application_notice(
        actor=world.officer, application=world.apply(), missing=[0], reason="缺", now=at(D(2026, 11, 23))
    )
    assert application.days_left is None
    application = services.application_supply(
        actor=world.parent,
        application=application,
        materials={0: MaterialInput(Provision.COUNTER)},
        now=at(D(2026, 11, 24)),
    )
    assert (application.status, application.due_on) == (Status.SUBMITTED, None)


def test_a_promise_is_due_in_working_days_and_blocks_approval_until_kept(world: World) -> None:
    application = services.application_accept_with_promise(
        actor=world.officer, application=world.apply(), promised=[0], days=5, reason="先受理", now=at(D(2026, 9, 30))
    )
    material = application.materials.get(index=0)
    # 5 working days after Wed 30 Sep: 8, 9, 10 (Sat, worked), 12, 13 Oct.
    assert (material.state, material.promised_by) == (MaterialState.PROMISED, D(2026, 10, 13))
    assert application.status == Status.IN_PROGRESS
    assert application.due_on == D(2026, 11, 17)
    with pytest.raises(ApplicationError) as open_promise:
        services.application_decide(actor=world.officer, application=application, approve=True, reason="")
    assert open_promise.value.code == "promise_open"
    application = services.application_supply(
        actor=world.parent,
        application=application,
        materials={0: MaterialInput(Provision.UPLOAD, photo())},
        now=at(D(2026, 10, 12)),
    )
    # Keeping a promise does not stop or move the clock.
    assert (application.status, application.due_on) == (Status.IN_PROGRESS, D(2026, 11, 17))
    assert services.application_decide(
        actor=world.officer, application=application, approve=True, reason=""
    ).status == (Status.APPROVED)


@pytest.mark.parametrize("days", [0, 61])
def test_a_promise_needs_a_sensible_number_of_days(world: World, days: int) -> None:
    with pytest.raises(ApplicationError) as refused:
        services.application_accept_with_promise(
            actor=world.officer, application=world.apply(), promised=[0], days=days, reason="先受理"
        )
    assert (refused.value.code, refused.value.field) == ("bad_days", "days")


def test_the_offices_holiday_notice_moves_the_due_date(world: World) -> None:
    CalendarDay.objects.create(date=D(2026, 11, 24), is_workday=False, name="台风停工")
    application = services.application_accept_with_promise(
        actor=world.officer, application=world.apply(), promised=[0], days=1, reason="先受理", now=at(D(2026, 11, 23))
    )
    assert application.materials.get(index=0).promised_by == D(2026, 11, 25)


@pytest.mark.django_db
def test_overdue_when_paused_stays_overdue_when_resumed() -> None:
    # Due Thu 24 Sep, paused on Tue 29 Sep: two working days late (28, 29 Sep); resumed on Mon 12 Oct, it is
    # two working days late again (9 and 10 Oct behind, counting the worked Saturday).
    left = clock.days_left(today=D(2026, 9, 29), due_on=D(2026, 9, 24))
    assert left == -2
    assert clock.resume(today=D(2026, 10, 12), days_left=left) == D(2026, 10, 9)
    assert clock.overdue(due_on=D(2026, 10, 9), today=D(2026, 10, 12))
