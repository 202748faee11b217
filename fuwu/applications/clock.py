"""The application clock: working days on the Chinese calendar (``fuwu.common.workdays``), with the holiday
notices entered as ``CalendarDay`` rows, stopped while the applicant is asked for something.

Counting, as the standards count "within N working days": the day a step starts is not counted, so a step
of 5 days started on a Monday is due on the next Monday. A notice stops the clock on its day (that day is
spent) and keeps the working days left; supplying starts it again the day of supply (not counted). An
application already overdue when the notice went out stays overdue by as many working days when it resumes.
"""

from __future__ import annotations

import datetime as dt

from fuwu.common import workdays


def overrides() -> dict[dt.date, bool]:
    # The holiday notices the office entered (home care's table, where they were first needed).
    from fuwu.homecare.models import CalendarDay

    return dict(CalendarDay.objects.values_list("date", "is_workday"))


def due(*, today: dt.date, days: int) -> dt.date:
    return workdays.add_working_days(today, days, overrides=overrides())


def days_left(*, today: dt.date, due_on: dt.date) -> int:
    """Working days after ``today`` up to ``due_on``; negative when ``due_on`` is already past."""
    table = overrides()
    if due_on >= today:
        return workdays.working_days_between(today, due_on, overrides=table)
    return -workdays.working_days_between(due_on, today, overrides=table)


def resume(*, today: dt.date, days_left: int) -> dt.date:
    table = overrides()
    if days_left >= 0:
        return workdays.add_working_days(today, days_left, overrides=table)
    day, behind = today, 0
    while behind < -days_left:
        day -= dt.timedelta(days=1)
        behind += workdays.is_workday(day, overrides=table)
    return day


def overdue(*, due_on: dt.date | None, today: dt.date) -> bool:
    return due_on is not None and due_on < today
