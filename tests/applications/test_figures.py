"""Public per-item figures: counted from a fixture whose answers are worked out by hand below (not by the code
under test), hidden under the minimum, shown on the item's guide page and fresh each day."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from fuwu.applications import figures, ratings, services
from fuwu.applications.models import Application, ItemFigures
from fuwu.common import pagecache
from fuwu.homecare.models import FamilyLink
from fuwu.residents.models import Person
from tests.applications.conftest import PRESCHOOL, VILLAGE_A, World, at
from tests.residents.factories import PersonFactory

AS_OF = dt.date(2026, 12, 10)  # the figures count decisions from 10 Dec 2025 up to 9 Dec 2026
GROUND = "criterion:special-difficulty"

# The fixture, and what each application counts for, worked out on the calendar (2026: 1–7 Oct National Day,
# Sat 10 Oct worked; no holiday from mid-October to the end of the year). The preschool aid's first department
# step has 30 working days, so an application accepted on Tue 29 Sep is due on Mon 16 Nov: Sep 30 (1),
# Oct 8–10 (4), 12–16 (9), 19–23 (14), 26–30 (19), Nov 2–6 (24), 9–13 (29), 16 (30).
#
#   kind        n   submitted → decided                 working days                      timed  on time
#   quick       7   Mon 23 Nov → approved Fri 27 Nov    24, 25, 26, 27 = 4                yes    yes
#   late        2   Mon 28 Sep → approved Fri 20 Nov    Sep 29–30 (2) + Oct 8–Nov 20 (33) yes    no (due 16 Nov)
#                                                       = 35
#   paused      1   Mon 23 Nov, notice Tue 24, supply   Nov 24–Dec 1 = 6, less Nov 25–27  yes    yes
#                   Fri 27, approved Tue 1 Dec          paused (3) = 3
#   refused     1   Mon 23 Nov → 不予受理 Wed 25 Nov     24, 25 = 2                        no     —
#   closed      1   Mon 23 Nov → accepted, closed       24 = 1                            yes    yes
#                   Tue 24 Nov
#   not counted: one withdrawn, one approved in 2025 (before the window), one approved on AS_OF itself.
#
# handled 12; timed 11, on time 9 → 81.8 %; working days 7×4 + 2×35 + 3 + 2 + 1 = 104 → 104 / 12 = 8.7.
# Ratings of the 12: 5×非常满意, 3×满意, 1×基本满意, 1×不满意, 1×非常不满意 (11 rated), satisfied 8 → 72.7 %;
# the 2025 one is rated 非常不满意 and must not count.
HANDLED, TIMED, ON_TIME, DAYS, RATED, SATISFIED = 12, 11, 9, 104, 11, 8


def _person(world: World) -> Person:
    person = PersonFactory(
        birth_date=dt.date(2022, 5, 1), hukou_area=VILLAGE_A, school_stage="preschool", low_income_status="none"
    )
    FamilyLink.objects.create(user=world.parent, person=person, relation="父亲")
    return person


def _submitted(world: World, day: dt.date) -> Application:
    return world.apply(person=_person(world), now=at(day, 9))


def _approved(world: World, submitted: dt.date, accepted: dt.date, decided: dt.date) -> Application:
    a = _submitted(world, submitted)
    a = services.application_accept(actor=world.officer, application=a, now=at(accepted, 10))
    return services.application_decide(actor=world.officer, application=a, approve=True, reason="", now=at(decided, 11))


def build(world: World) -> list[Application]:
    nov = lambda d: dt.date(2026, 11, d)  # noqa: E731 - a short name for the table's days
    quick = [_approved(world, nov(23), nov(24), nov(27)) for _ in range(7)]
    late = [_approved(world, dt.date(2026, 9, 28), dt.date(2026, 9, 29), nov(20)) for _ in range(2)]
    paused = _submitted(world, nov(23))
    paused = services.application_accept(actor=world.officer, application=paused, now=at(nov(23), 10))
    paused = services.application_notice(
        actor=world.officer, application=paused, missing=[0], reason="未签字", now=at(nov(24), 10)
    )
    paused = services.application_supply(
        actor=world.parent,
        application=paused,
        materials={0: services.MaterialInput(services.Provision.COUNTER)},
        now=at(nov(27), 10),
    )
    paused = services.application_decide(
        actor=world.officer, application=paused, approve=True, reason="", now=at(dt.date(2026, 12, 1), 10)
    )
    refused = services.application_decide(
        actor=world.officer,
        application=_submitted(world, nov(23)),
        approve=False,
        reason="不是困难家庭",
        ground=GROUND,
        now=at(nov(25), 10),
    )
    closed = services.application_accept(
        actor=world.officer, application=_submitted(world, nov(23)), now=at(nov(23), 10)
    )
    closed = services.application_close(
        actor=world.officer, application=closed, reason="申请人要求", now=at(nov(24), 10)
    )
    # Not counted:
    services.application_withdraw(actor=world.parent, application=_submitted(world, nov(23)), now=at(nov(24), 10))
    old = _approved(world, dt.date(2025, 11, 3), dt.date(2025, 11, 4), dt.date(2025, 11, 6))
    ratings.rating_give(actor=world.parent, application=old, level=1, reasons=["rude"], now=at(dt.date(2025, 11, 7)))
    _approved(world, nov(23), nov(24), AS_OF)
    counted = [*quick, *late, paused, refused, closed]
    levels = [5, 5, 5, 5, 5, 4, 4, 4, 3, 2, 1]
    for application, level in zip(counted, levels, strict=False):
        reasons = ["slow"] if level <= 2 else []
        ratings.rating_give(
            actor=world.parent, application=application, level=level, reasons=reasons, now=at(dt.date(2026, 12, 2))
        )
    return counted


def test_the_figures_agree_with_the_hand_count(world: World) -> None:
    build(world)
    counted = figures.figures_compute(item_key=PRESCHOOL, as_of=AS_OF)
    assert (counted.handled, counted.timed, counted.on_time, counted.working_days) == (HANDLED, TIMED, ON_TIME, DAYS)
    assert (counted.rated, counted.satisfied) == (RATED, SATISFIED)
    shown = figures.shown(counted)
    assert shown.handled == 12
    assert shown.on_time_rate == Decimal("81.8")
    assert shown.average_days == Decimal("8.7")
    assert shown.satisfaction == Decimal("72.7")


def test_under_the_minimum_nothing_is_shown(world: World, settings: Any) -> None:
    build(world)
    counted = figures.figures_compute(item_key=PRESCHOOL, as_of=AS_OF)
    config = settings.FUWU_APPLICATIONS_RATINGS
    settings.FUWU_APPLICATIONS_RATINGS = {**config, "figures_minimum": 12}
    shown = figures.shown(counted)
    # 12 handled are enough; 11 timed and 11 rated are not.
    assert (shown.handled, shown.on_time_rate, shown.satisfaction) == (12, None, None)
    assert shown.average_days == Decimal("8.7")
    settings.FUWU_APPLICATIONS_RATINGS = {**config, "figures_minimum": 13}
    shown = figures.shown(counted)
    assert not shown.anything
    assert (shown.handled, shown.on_time_rate, shown.average_days, shown.satisfaction) == (None, None, None, None)


def test_the_window_moves_with_the_day(world: World) -> None:
    build(world)
    # Counted as of the day after AS_OF, the application decided on AS_OF is in; a year on, all of them are out.
    assert figures.figures_compute(item_key=PRESCHOOL, as_of=AS_OF + dt.timedelta(days=1)).handled == HANDLED + 1
    assert figures.figures_compute(item_key=PRESCHOOL, as_of=dt.date(2027, 12, 11)).handled == 0
    assert ItemFigures.objects.get(item_key=PRESCHOOL).as_of == dt.date(2027, 12, 11)  # one row per item, updated


def test_the_workday_index_agrees_with_counting_day_by_day() -> None:
    from fuwu.common import workdays

    index = figures.WorkdayIndex(dt.date(2026, 9, 1), dt.date(2027, 2, 28), overrides={})
    days = [dt.date(2026, 9, 1) + dt.timedelta(days=n) for n in range(0, 180, 7)]
    for a in days:
        for b in days:
            assert index.between(a, b) == workdays.working_days_between(a, b)


@pytest.fixture
def today(monkeypatch: pytest.MonkeyPatch) -> dt.date:
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: AS_OF)
    pagecache.fragments.clear()  # another test's page of the same item and day may be kept
    yield AS_OF
    pagecache.fragments.clear()


def _guide(client: Client) -> str:
    with translation.override("zh-hans"):
        response = client.get(reverse("guide:item_detail", args=[PRESCHOOL]), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    return response.content.decode()


def test_the_guide_page_shows_the_figures_of_the_day(world: World, today: dt.date, client: Client) -> None:
    build(world)
    page = _guide(client)
    assert 'data-testid="figures-handled">12<' in page
    assert "81.8%" in page
    assert "8.7 个工作日" in page
    assert "72.7%" in page
    assert ItemFigures.objects.get(item_key=PRESCHOOL).as_of == AS_OF  # stored by the first page of the day


def test_the_guide_page_says_when_there_is_not_enough(world: World, today: dt.date, client: Client) -> None:
    _approved(world, dt.date(2026, 11, 23), dt.date(2026, 11, 24), dt.date(2026, 11, 27))
    page = _guide(client)
    assert "尚无足够数据" in page
    assert 'data-testid="figures-handled"' not in page


def test_the_daily_job_counts_every_applied_for_item(world: World) -> None:
    from fuwu.applications.tasks import figures_compute
    from fuwu.jobs.models import Job

    build(world)
    job = Job.objects.create(kind="applications.figures_compute", params={"slot": "2026-12-10T00:20:00+08:00"})
    outcome = figures_compute(job, lambda *args, **kwargs: None)  # type: ignore[arg-type]
    assert outcome.summary == {"as_of": "2026-12-10", "items": 1}
    assert ItemFigures.objects.get(item_key=PRESCHOOL).handled == HANDLED
