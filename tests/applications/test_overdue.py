"""The overdue job: exactly the applications whose running clock is past due are flagged (the holiday calendar is
in the due date, a paused clock does not count), each is escalated once per step, a re-run changes nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from fuwu.applications import services
from fuwu.applications.models import Application, ApplicationEvent, EventKind, Overdue
from fuwu.applications.overdue import applications_flag_overdue, escalated
from fuwu.applications.selectors import InboxFilters, inbox_for, inbox_overdue_count
from fuwu.common.models import AuditLog
from fuwu.jobs import kinds
from tests.applications.conftest import VILLAGE_A, World, at
from tests.residents.factories import PersonFactory

# Accepted on Wed 30 Sep 2026, 30 working days: due Tue 17 Nov (National Day, and the worked Saturday 10 Oct).
ACCEPTED = dt.date(2026, 9, 30)
DUE = dt.date(2026, 11, 17)


def accepted(world: World, *, on: dt.date = ACCEPTED) -> Application:
    person = PersonFactory(hukou_area=VILLAGE_A, school_stage="preschool", birth_date=dt.date(2022, 5, 1))
    app = world.apply(world.officer, person=person, now=at(on, 9))
    return services.application_accept(actor=world.officer, application=app, now=at(on, 10))


def run(day: dt.date) -> dict[str, object]:
    return applications_flag_overdue(today=day, now=at(day, 0, 20)).as_dict()


def escalations() -> list[tuple[int, int]]:
    return list(ApplicationEvent.objects.filter(kind=EventKind.ESCALATED).values_list("application_id", "step"))


def test_the_due_date_across_national_day_is_not_overdue_on_the_day(world: World) -> None:
    app = accepted(world)
    assert app.due_on == DUE
    assert run(DUE)["overdue"] == 0
    result = run(DUE + dt.timedelta(days=1))
    assert result["overdue"] == 1
    assert result["newly_flagged"] == 1
    assert result["escalated"] == 1
    state = Overdue.objects.get(application=app)
    assert state.since == DUE + dt.timedelta(days=1)
    assert state.escalated_step == app.step
    assert escalated(Application.objects.get(pk=app.pk))


def test_only_running_clocks_past_due_are_flagged(world: World) -> None:
    late = accepted(world)
    paused = accepted(world)
    services.application_notice(
        actor=world.officer, application=paused, missing=[0], reason="缺申请表", now=at(dt.date(2026, 11, 2))
    )
    in_time = accepted(world, on=dt.date(2026, 11, 16))  # due in December
    waiting = world.apply(world.officer, person=PersonFactory(hukou_area=VILLAGE_A), now=at(ACCEPTED))  # no clock
    decided = accepted(world)
    services.application_close(actor=world.officer, application=decided, reason="撤件", now=at(dt.date(2026, 11, 2)))
    day = dt.date(2026, 11, 25)
    result = run(day)
    assert result["overdue"] == 1
    flagged = set(Overdue.objects.filter(since__isnull=False).values_list("application_id", flat=True))
    assert flagged == {late.pk}
    assert escalations() == [(late.pk, late.step)]
    assert {paused.pk, in_time.pk, waiting.pk, decided.pk}.isdisjoint(flagged)
    # The inbox's filter and count read the same predicate.
    assert inbox_overdue_count(user=world.officer, today=day) == 1
    assert [a.pk for a in inbox_for(user=world.officer, filters=InboxFilters(overdue=True), today=day)] == [late.pk]
    assert inbox_overdue_count(user=world.officer_b, today=day) == 0


def test_escalated_once_per_step_and_a_rerun_changes_nothing(world: World) -> None:
    app = accepted(world)
    day = DUE + dt.timedelta(days=3)
    first = run(day)
    assert first["escalated"] == 1
    again = run(day)
    assert first["notified_officers"] == 1  # no supervisor in this world: the handling officer is told
    assert again == {**first, "newly_flagged": 0, "escalated": 0, "notified_officers": 0}
    assert run(day + dt.timedelta(days=1))["escalated"] == 0
    assert len(escalations()) == 1
    event = ApplicationEvent.objects.get(kind=EventKind.ESCALATED)
    assert event.actor is None
    assert event.step == app.step
    assert event.due_on == DUE
    assert event.details["department"] == world.education.pk
    assert AuditLog.objects.filter(event="application.overdue_flagged").count() == 3
    # The next step, late in its turn, is escalated again; the advance cleared the first flag.
    app.refresh_from_db()
    app = services.application_advance(actor=world.officer, application=app, now=at(day, 10))
    cleared = run(day + dt.timedelta(days=1))
    assert cleared["cleared"] == 1
    assert cleared["overdue"] == 0
    late_again = app.due_on + dt.timedelta(days=1)
    assert run(late_again)["escalated"] == 1
    assert escalations() == [(app.pk, 1), (app.pk, 2)]


def test_a_paused_then_resumed_clock_is_flagged_again_but_not_escalated_twice(world: World) -> None:
    app = accepted(world)
    day = DUE + dt.timedelta(days=1)
    run(day)
    app.refresh_from_db()
    app = services.application_notice(actor=world.officer, application=app, missing=[0], reason="缺", now=at(day, 11))
    assert run(day + dt.timedelta(days=1))["cleared"] == 1  # paused: no longer counted
    services.application_supply(
        actor=world.officer, application=app, materials={0: services.MaterialInput("counter")}, now=at(day, 15)
    )
    # Supplied the same day: the one working day it was overdue stays overdue; the same step is not escalated twice.
    result = run(day + dt.timedelta(days=2))
    assert result["overdue"] == 1
    assert result["escalated"] == 0
    assert len(escalations()) == 1


def test_the_job_is_registered_and_scheduled(settings: pytest.FixtureRequest) -> None:
    assert "applications.flag_overdue" in kinds.KINDS
    entry = settings.FUWU_SCHEDULE["applications-flag-overdue"]  # type: ignore[attr-defined]
    assert entry["kind"] == "applications.flag_overdue"
    assert entry["every"] == "day"
