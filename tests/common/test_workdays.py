"""Deadlines on the Chinese calendar: the 2026 holidays and the weekend days worked in exchange, a year the
calendar does not know yet, the office's own holiday notice, and the deadlines the services set with them.

The 2026 calendar (State Council notice, as the ``chinese_calendar`` package has it): National Day
1–7 October off, with Sunday 20 September and Saturday 10 October worked; the Mid-Autumn Festival
Friday 25 September off; the Spring Festival 15–23 February off, with Saturdays 14 and 28 February
worked. The first test checks these facts against the package, so the expectations below rest on them.
"""

from __future__ import annotations

import datetime as dt

import chinese_calendar
import pytest
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from fuwu.common.workdays import (
    add_working_days,
    add_working_hours,
    calendar_known,
    is_workday,
    working_days_between,
)

D = dt.date


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=timezone.get_current_timezone())


NATIONAL_DAY = [D(2026, 10, d) for d in range(1, 8)]
SPRING_FESTIVAL = [D(2026, 2, d) for d in range(15, 24)]
WORKED_WEEKENDS = [D(2026, 2, 14), D(2026, 2, 28), D(2026, 9, 20), D(2026, 10, 10)]


def test_the_2026_calendar_is_what_these_tests_assume() -> None:
    assert not any(chinese_calendar.is_workday(d) for d in NATIONAL_DAY + SPRING_FESTIVAL)
    assert all(chinese_calendar.is_workday(d) and d.weekday() >= 5 for d in WORKED_WEEKENDS)
    assert not chinese_calendar.is_workday(D(2026, 9, 25))  # Mid-Autumn Festival, a Friday
    assert chinese_calendar.is_workday(D(2026, 9, 30))  # the Wednesday before National Day
    assert not chinese_calendar.is_workday(D(2026, 10, 11))  # the Sunday after it
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(D(2027, 6, 1))


def test_is_workday_follows_the_notice() -> None:
    assert [is_workday(d) for d in NATIONAL_DAY] == [False] * 7
    assert [is_workday(d) for d in WORKED_WEEKENDS] == [True] * 4
    assert is_workday(D(2026, 11, 23))  # an ordinary Monday
    assert not is_workday(D(2026, 11, 22))  # an ordinary Sunday


# --- working days -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        # National Day: the last working day before it, then the worked Saturday after it.
        (D(2026, 9, 30), 1, D(2026, 10, 8)),
        (D(2026, 9, 29), 5, D(2026, 10, 12)),  # 30 Sep, 8, 9, 10 (Sat, worked), 12 Oct
        (D(2026, 10, 3), 1, D(2026, 10, 8)),  # from inside the holiday
        (D(2026, 10, 9), 1, D(2026, 10, 10)),  # Friday → the Saturday worked in exchange
        (D(2026, 9, 18), 1, D(2026, 9, 20)),  # Friday → the Sunday worked in exchange
        (D(2026, 9, 24), 1, D(2026, 9, 28)),  # Thursday → over the Mid-Autumn long weekend
        # Spring Festival.
        (D(2026, 2, 13), 1, D(2026, 2, 14)),  # Friday → the Saturday worked before it
        (D(2026, 2, 14), 1, D(2026, 2, 24)),  # the last working day before it → the first after it
        (D(2026, 2, 12), 3, D(2026, 2, 24)),  # 13, 14, 24
        (D(2026, 2, 27), 1, D(2026, 2, 28)),  # Friday → the Saturday worked after it
        # An ordinary week and weekend.
        (D(2026, 11, 20), 1, D(2026, 11, 23)),  # Friday → Monday
        (D(2026, 11, 21), 1, D(2026, 11, 23)),  # Saturday → Monday
        (D(2026, 11, 23), 5, D(2026, 11, 30)),  # "within 5 working days of Monday" is the next Monday
        (D(2026, 11, 23), 0, D(2026, 11, 23)),
    ],
)
def test_add_working_days(start: dt.date, days: int, due: dt.date) -> None:
    assert add_working_days(start, days) == due
    assert working_days_between(start, due) == days


def test_working_days_between_counts_after_the_start_up_to_the_end() -> None:
    assert working_days_between(D(2026, 9, 30), D(2026, 10, 7)) == 0
    assert working_days_between(D(2026, 9, 30), D(2026, 10, 10)) == 3
    assert working_days_between(D(2026, 10, 10), D(2026, 9, 30)) == 0


def test_negative_days_are_an_error() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_working_days(D(2026, 11, 23), -1)


def test_an_override_table_with_no_working_day_in_reach_is_an_error() -> None:
    start = D(2026, 11, 23)
    closed = {start + dt.timedelta(days=i): False for i in range(400)}
    with pytest.raises(ValueError, match="overrides"):
        add_working_days(start, 1, overrides=closed)
    with pytest.raises(ValueError, match="overrides"):
        add_working_hours(at(start, 10), 1, overrides=closed)


# --- working hours ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        # The afternoon before National Day: 8 hours that day, the rest on the first day back.
        (at(D(2026, 9, 30), 16), 24, at(D(2026, 10, 8), 16)),
        (at(D(2026, 9, 30), 16), 8, at(D(2026, 10, 1), 0)),  # exactly what was left of the day
        (at(D(2026, 9, 30), 16), 9, at(D(2026, 10, 8), 1)),
        (at(D(2026, 10, 3), 10), 24, at(D(2026, 10, 9), 0)),  # asked during the holiday: the clock starts on 8 Oct
        (at(D(2026, 10, 9), 16), 24, at(D(2026, 10, 10), 16)),  # into the worked Saturday
        (at(D(2026, 10, 10), 16), 24, at(D(2026, 10, 12), 16)),  # over the Sunday off
        # Spring Festival.
        (at(D(2026, 2, 13), 16), 24, at(D(2026, 2, 14), 16)),
        (at(D(2026, 2, 14), 16), 24, at(D(2026, 2, 24), 16)),
        (at(D(2026, 2, 14), 16), 48, at(D(2026, 2, 25), 16)),
        # A weekend, and none.
        (at(D(2026, 11, 20), 16), 24, at(D(2026, 11, 23), 16)),
        (at(D(2026, 11, 23), 16), 24, at(D(2026, 11, 24), 16)),
        (at(D(2026, 11, 23), 16), 0.5, at(D(2026, 11, 23), 16, 30)),
    ],
)
def test_add_working_hours(start: dt.datetime, hours: float, due: dt.datetime) -> None:
    assert add_working_hours(start, hours) == due


def test_working_hours_need_an_aware_start() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        add_working_hours(dt.datetime(2026, 11, 23, 10), 24)  # noqa: DTZ001 - naive on purpose


# --- a year the package does not know, and the office's own notice ------------------------------


def test_a_year_without_a_notice_has_only_weekends_off() -> None:
    new_year = D(2027, 1, 1)  # a Friday; the 2027 notice will make it a holiday
    assert not calendar_known(new_year)
    assert is_workday(new_year)
    assert not is_workday(D(2027, 1, 2))
    assert add_working_days(D(2026, 12, 31), 1) == new_year
    assert add_working_days(D(2027, 2, 5), 1) == D(2027, 2, 8)  # Friday → Monday, whatever the festival
    assert add_working_hours(at(D(2027, 1, 1), 16), 24) == at(D(2027, 1, 4), 16)


def test_an_override_makes_the_year_known_and_moves_the_deadline() -> None:
    notice = {D(2027, 1, 1): False}
    assert calendar_known(D(2027, 9, 1), overrides=notice)
    assert not calendar_known(D(2028, 1, 3), overrides=notice)
    assert not is_workday(D(2027, 1, 1), overrides=notice)
    assert add_working_days(D(2026, 12, 31), 1, overrides=notice) == D(2027, 1, 4)
    assert add_working_hours(at(D(2026, 12, 31), 16), 24, overrides=notice) == at(D(2027, 1, 4), 16)


def test_an_override_wins_over_the_package_both_ways() -> None:
    # A typhoon day off on a Wednesday, and a Saturday worked to make it up.
    overrides = {D(2026, 11, 25): False, D(2026, 11, 28): True}
    assert calendar_known(D(2026, 11, 25), overrides=overrides)
    assert add_working_days(D(2026, 11, 24), 1, overrides=overrides) == D(2026, 11, 26)
    assert add_working_days(D(2026, 11, 27), 1, overrides=overrides) == D(2026, 11, 28)
    assert add_working_hours(at(D(2026, 11, 24), 16), 24, overrides=overrides) == at(D(2026, 11, 26), 16)


# --- properties ----------------------------------------------------------------------------------

dates = st.dates(min_value=D(2004, 1, 1), max_value=D(2027, 12, 31))
overrides = st.dictionaries(dates, st.booleans(), max_size=8)


@settings(max_examples=300, deadline=None)
@given(start=dates, days=st.integers(min_value=1, max_value=40), notice=overrides)
def test_add_working_days_lands_on_the_nth_working_day(start: dt.date, days: int, notice: dict[dt.date, bool]) -> None:
    due = add_working_days(start, days, overrides=notice)
    assert is_workday(due, overrides=notice)
    assert working_days_between(start, due, overrides=notice) == days
    # ... and on the first such day: the day before it is one working day short.
    assert working_days_between(start, due - dt.timedelta(days=1), overrides=notice) == days - 1


@settings(max_examples=200, deadline=None)
@given(
    start=dates.filter(lambda d: is_workday(d) and d < D(2027, 12, 1)),
    days=st.integers(min_value=1, max_value=20),
    minute=st.integers(min_value=1, max_value=24 * 60 - 1),
)
def test_whole_days_of_working_hours_agree_with_working_days(start: dt.date, days: int, minute: int) -> None:
    # From a working day (after midnight), 24·n working hours end at the same time on the n-th working day after.
    begin = at(start, minute // 60, minute % 60)
    due = add_working_hours(begin, 24 * days)
    assert due.date() == add_working_days(start, days)
    assert due.timetz() == begin.timetz()


# --- deadlines the services set ------------------------------------------------------------------
