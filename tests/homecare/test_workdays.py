"""Home care's deadlines on the shared working-day clock (``fuwu.common.workdays``): bookings and complaints
across the holidays."""

from __future__ import annotations

import datetime as dt

from fuwu.common.workdays import add_working_hours
from fuwu.homecare import standard
from fuwu.homecare.complaints import complaint_lodge
from fuwu.homecare.models import CalendarDay
from fuwu.homecare.services import order_accept, order_book
from tests.homecare.conftest import World, at

D = dt.date


def test_a_booking_the_afternoon_before_national_day_is_answered_after_it(world: World) -> None:
    hours = int(standard.number("response_hours", on=D(2026, 9, 30)))
    # 9 hours are left of 30 September after 15:00; the holiday counts nothing; the rest fall on 8 October.
    assert 9 < hours <= 9 + 24, "the expectation below is worked out for a limit ending on 8 October"
    order, _ = order_book(
        actor=world.family,
        person=world.elder,
        item="hc-bathing",
        window_start=at(D(2026, 10, 9), 9),
        window_end=at(D(2026, 10, 9), 12),
        idempotency_key="before-national-day",
        now=at(D(2026, 9, 30), 15),
    )
    assert order.respond_by == at(D(2026, 10, 8), 0) + dt.timedelta(hours=hours - 9)


def test_a_booking_the_afternoon_before_spring_festival_is_answered_on_the_worked_saturday(world: World) -> None:
    hours = int(standard.number("response_hours", on=D(2026, 2, 13)))
    assert 9 < hours <= 9 + 24, "the expectation below is worked out for a limit ending on 14 February"
    order, _ = order_book(
        actor=world.family,
        person=world.elder,
        item="hc-cleaning",
        window_start=at(D(2026, 2, 24), 9),
        window_end=at(D(2026, 2, 24), 12),
        idempotency_key="before-spring-festival",
        now=at(D(2026, 2, 13), 15),
    )
    assert order.respond_by == at(D(2026, 2, 14), 0) + dt.timedelta(hours=hours - 9)


def _complaint_due(world: World, lodged: dt.datetime, key: str) -> dt.date:
    order, _ = order_book(
        actor=world.family,
        person=world.elder,
        item="hc-meals",
        window_start=lodged - dt.timedelta(hours=5),
        window_end=lodged - dt.timedelta(hours=2),
        idempotency_key=key,
        now=lodged - dt.timedelta(days=2),
    )
    order_accept(actor=world.provider_admin, order=order, now=lodged - dt.timedelta(days=1))
    return complaint_lodge(actor=world.family, order=order, text="送餐没有来", now=lodged).due_on


def test_a_complaint_across_national_day_is_due_after_the_worked_saturday(world: World) -> None:
    days = int(standard.number("complaint_days", on=D(2026, 9, 29)))
    # The working days after Tuesday 29 September 2026, by the notice.
    working = [D(2026, 9, 30), D(2026, 10, 8), D(2026, 10, 9), D(2026, 10, 10), *_weekdays(D(2026, 10, 12), 10)]
    assert _complaint_due(world, at(D(2026, 9, 29), 14), "nd") == working[days - 1]


def test_a_complaint_follows_the_offices_holiday_notice(world: World) -> None:
    days = int(standard.number("complaint_days", on=D(2026, 11, 23)))
    CalendarDay.objects.create(date=D(2026, 11, 25), is_workday=False, name="台风停工")
    working = [d for d in _weekdays(D(2026, 11, 24), days + 1) if d != D(2026, 11, 25)]
    assert _complaint_due(world, at(D(2026, 11, 23), 14), "typhoon") == working[days - 1]


def test_a_complaint_in_a_year_the_calendar_does_not_know(world: World) -> None:
    days = int(standard.number("complaint_days", on=D(2027, 1, 4)))
    lodged = at(D(2027, 1, 4), 14)  # a Monday
    assert _complaint_due(world, lodged, "2027-weekends") == _weekdays(D(2027, 1, 5), days)[-1]
    CalendarDay.objects.create(date=D(2027, 1, 5), is_workday=False, name="假日")
    assert _complaint_due(world, lodged, "2027-notice") == _weekdays(D(2027, 1, 6), days)[-1]


def _weekdays(first: dt.date, count: int) -> list[dt.date]:
    """``count`` Mondays-to-Fridays from ``first`` on: the working days of a stretch with no holiday in it."""
    found: list[dt.date] = []
    day = first
    while len(found) < count:
        if day.weekday() < 5:
            found.append(day)
        day += dt.timedelta(days=1)
    return found


def test_deadlines_count_chinese_days_whatever_zone_now_is_given_in(world: World) -> None:
    # 05:00 on the first day back is still the last holiday evening in UTC; the limit must not start late.
    local = at(D(2026, 10, 8), 5)
    utc = local.astimezone(dt.UTC)
    assert utc.date() == D(2026, 10, 7)
    hours = int(standard.number("response_hours", on=local.date()))
    order, _ = order_book(
        actor=world.family,
        person=world.elder,
        item="hc-cleaning",
        window_start=at(D(2026, 10, 20), 9),
        window_end=at(D(2026, 10, 20), 12),
        idempotency_key="utc",
        now=utc,
    )
    assert order.respond_by == add_working_hours(local, hours)
    # A complaint at 02:00 on a Monday is lodged on Monday, not on the Sunday it still is in UTC.
    lodged = at(D(2026, 11, 23), 2)
    days = int(standard.number("complaint_days", on=lodged.date()))
    assert _complaint_due(world, lodged.astimezone(dt.UTC), "utc-complaint") == _weekdays(D(2026, 11, 24), days)[-1]
