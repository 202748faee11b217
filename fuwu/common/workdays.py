"""Working time on the Chinese calendar: statutory holidays and the weekend days worked in exchange (调休).

The standard's limits are counted in working days ("5 个工作日内") or working hours. A working day is
what the State Council's annual notice says it is: ``chinese_calendar`` knows the notices it was
released with; a later year's notice is entered as ``CalendarDay`` rows (which also override the
package). For a year neither knows, weekends are the only days off and :func:`calendar_known` says
so, so a page can warn that the deadline may move when the notice comes out.

Working hours are clock hours that fall on working days: a request at 16:00 on the Friday before
the National Day week with a 24-hour limit is due at 16:00 on the next working day after it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import lru_cache

import chinese_calendar

MAX_SEARCH_DAYS = 366  # no holiday run is anywhere near this; it guards against a bad override table


def _package_knows(year: int) -> bool:
    try:
        chinese_calendar.is_workday(dt.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


_package_knows_year = lru_cache(maxsize=None)(_package_knows)


def is_workday(day: dt.date, *, overrides: Mapping[dt.date, bool] | None = None) -> bool:
    if overrides and day in overrides:
        return overrides[day]
    if _package_knows_year(day.year):
        return bool(chinese_calendar.is_workday(day))
    return day.weekday() < 5


def calendar_known(day: dt.date, *, overrides: Mapping[dt.date, bool] | None = None) -> bool:
    """Whether the holidays of ``day``'s year are known (package or entered notice)."""
    return _package_knows_year(day.year) or any(d.year == day.year for d in overrides or {})


def add_working_days(start: dt.date, days: int, *, overrides: Mapping[dt.date, bool] | None = None) -> dt.date:
    """The date ``days`` working days after ``start`` (``start`` itself not counted).

    "Within 5 working days of Monday" ends on the following Monday in an ordinary week.
    """
    if days < 0:
        raise ValueError("days must not be negative")
    day = start
    counted = 0
    for _ in range(days * 7 + MAX_SEARCH_DAYS):
        if counted == days:
            return day
        day += dt.timedelta(days=1)
        if is_workday(day, overrides=overrides):
            counted += 1
    raise ValueError(f"no {days} working days found after {start}; check the calendar overrides")


def add_working_hours(
    start: dt.datetime, hours: int | float, *, overrides: Mapping[dt.date, bool] | None = None
) -> dt.datetime:
    """``start`` plus ``hours`` of clock time, counting only time that falls on working days.

    ``start`` must be timezone-aware; days are those of its own time zone (Asia/Shanghai in fuwu).
    """
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    remaining = dt.timedelta(hours=hours)
    moment = start
    for _ in range(int(hours // 24) + MAX_SEARCH_DAYS + 2):
        day_end = dt.datetime.combine(moment.date() + dt.timedelta(days=1), dt.time(), tzinfo=moment.tzinfo)
        if is_workday(moment.date(), overrides=overrides):
            available = day_end - moment
            if remaining <= available:
                return moment + remaining
            remaining -= available
        moment = day_end
    raise ValueError(f"no {hours} working hours found after {start}; check the calendar overrides")


def deadline(opened_on: dt.date, days: int, *, overrides: Mapping[dt.date, bool] | None = None) -> tuple[dt.date, bool]:
    """A rectification's deadline: ``days`` working days after ``opened_on``, and whether that year's holidays
    are known (if not, a page warns that it may move when the notice comes out). Compliance's orders and
    applications' 差评 rectifications both count this way."""
    due = add_working_days(opened_on, days, overrides=overrides)
    return due, calendar_known(due, overrides=overrides)


def working_days_between(start: dt.date, end: dt.date, *, overrides: Mapping[dt.date, bool] | None = None) -> int:
    """Working days after ``start`` up to and including ``end`` (0 if ``end`` is not after ``start``)."""
    count = 0
    day = start
    while day < end:
        day += dt.timedelta(days=1)
        count += is_workday(day, overrides=overrides)
    return count
