"""Public per-item figures on the item's guide page: applications handled, on-time rate, average working days,
satisfaction.

Counted over the applications **decided** (approved, refused or closed; not withdrawn) in the
``figures_window_days`` before the day ``as_of`` (that day excluded), so every process counting on one day
gets the same numbers, whenever it counts:

* handled — how many;
* on time — an application is timed if at least one of its department steps had a due date, and on time if
  every such step was finished (advanced, approved, refused or closed) by its due date — a step stopped by a
  one-time notice counts as finished on the notice's day, as the clock does; on-time rate = on time ÷ timed;
* working days — from the day of submission (not counted) to the day of decision, less the working days spent
  awaiting the applicant (notice to supply); averaged over the handled ones;
* satisfaction — ratings of those applications at 满意 or better ÷ their ratings.

A figure is shown only if its own count (handled, timed or rated) is at least ``figures_minimum``; below it the
page says 尚无足够数据 — a rate over three applicants would describe three people.

Freshness: the guide page is cached per version, item and day (ADR 22's keys plus today's date), so it is
rendered at most once a day per process; the figures it shows are those stored for today (``ItemFigures``),
computed by the daily job ``applications.figures_compute`` shortly after midnight or, failing that, by the
first page of the day. Figures are thus at most a day old, and the same on every process.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from itertools import groupby

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from fuwu.applications import clock
from fuwu.applications.models import Application, ApplicationEvent, EventKind, ItemFigures, Rating, Status
from fuwu.common import satisfaction, workdays

DECIDED = (Status.APPROVED, Status.REFUSED, Status.CLOSED)
# Events that finish the step the clock was running for.
FINISHING = (EventKind.ADVANCED, EventKind.APPROVED, EventKind.REFUSED, EventKind.CLOSED)
# Events after which ``ApplicationEvent.due_on`` is the due date of the step now running.
SETS_DUE = (EventKind.ACCEPTED, EventKind.ACCEPTED_WITH_PROMISE, EventKind.ADVANCED, EventKind.TRANSFERRED)


def _config(name: str) -> int:
    return int(settings.FUWU_APPLICATIONS_RATINGS[name])


class WorkdayIndex:
    """Working days between two dates in O(1): a running count of working days over a range of dates."""

    def __init__(self, start: dt.date, end: dt.date, *, overrides: Mapping[dt.date, bool]) -> None:
        self.start = start
        self.counts = [0]
        day = start
        while day < end:
            day += dt.timedelta(days=1)
            self.counts.append(self.counts[-1] + workdays.is_workday(day, overrides=overrides))

    def between(self, a: dt.date, b: dt.date) -> int:
        """As ``workdays.working_days_between``: working days after ``a`` up to and including ``b``."""
        if b <= a:
            return 0
        return self.counts[(b - self.start).days] - self.counts[(a - self.start).days]


@dataclass(frozen=True)
class Outcome:
    """One decided application, as the figures count it."""

    timed: bool
    on_time: bool
    working_days: int


def _day(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment).date()


def outcome(
    events: Iterable[tuple[str, dt.datetime, dt.date | None, str]], *, decided_on: dt.date, index: WorkdayIndex
) -> Outcome:
    """Walk one application's timeline (kind, at, due_on, to_status), oldest first."""
    due: dt.date | None = None
    paused_from: dt.date | None = None
    paused = 0
    submitted: dt.date | None = None
    timed = late = False
    for kind, at, due_on, to_status in events:
        day = _day(at)
        if kind == EventKind.SUBMITTED:
            submitted = day
        if kind in FINISHING and due is not None:
            timed = True
            late = late or (paused_from or day) > due
        if kind == EventKind.NOTICE:
            paused_from = day
        elif kind == EventKind.SUPPLIED and paused_from is not None and to_status != Status.AWAITING_APPLICANT:
            paused += index.between(paused_from, day)
            paused_from = None
            due = due_on
        elif kind in SETS_DUE:
            due = due_on
    if paused_from is not None:  # closed while awaiting the applicant
        paused += index.between(paused_from, decided_on)
    start = submitted or decided_on
    return Outcome(
        timed=timed, on_time=timed and not late, working_days=max(0, index.between(start, decided_on) - paused)
    )


def _bounds(as_of: dt.date) -> tuple[dt.datetime, dt.datetime]:
    zone = timezone.get_current_timezone()
    first = as_of - dt.timedelta(days=_config("figures_window_days"))
    return (
        dt.datetime.combine(first, dt.time(), tzinfo=zone),
        dt.datetime.combine(as_of, dt.time(), tzinfo=zone),
    )


def figures_compute(*, item_key: str, as_of: dt.date) -> ItemFigures:
    """Count one item's figures over its applications decided in the window before ``as_of`` and store them."""
    since, until = _bounds(as_of)
    decided = Application.objects.filter(
        item_key=item_key, status__in=DECIDED, decided_at__gte=since, decided_at__lt=until
    )
    rows = {pk: _day(at) for pk, at in decided.values_list("pk", "decided_at") if at is not None}
    handled = timed = on_time = total_days = 0
    if rows:
        first = min(
            [*rows.values(), *(_day(at) for at in decided.values_list("submitted_at", flat=True))]
        ) - dt.timedelta(days=1)
        index = WorkdayIndex(first, as_of, overrides=clock.overrides())
        events = (
            ApplicationEvent.objects.filter(application__in=decided)
            .order_by("application_id", "at", "id")
            .values_list("application_id", "kind", "at", "due_on", "to_status")
        )
        for pk, group in groupby(events.iterator(chunk_size=5000), key=lambda e: e[0]):
            result = outcome((e[1:] for e in group), decided_on=rows[pk], index=index)
            handled += 1
            timed += result.timed
            on_time += result.on_time
            total_days += result.working_days
    ratings = Rating.objects.filter(application__in=decided)
    rated = ratings.count()
    satisfied = ratings.filter(level__gte=satisfaction.SATISFIED_AT_LEAST).count()
    values = {
        "as_of": as_of,
        "handled": handled,
        "timed": timed,
        "on_time": on_time,
        "working_days": total_days,
        "rated": rated,
        "satisfied": satisfied,
        "computed_at": timezone.now(),
    }
    try:
        with transaction.atomic():
            figures, _created = ItemFigures.objects.update_or_create(item_key=item_key, defaults=values)
    except IntegrityError:  # another process stored the same day's figures first: the same numbers
        figures = ItemFigures.objects.get(item_key=item_key)
    return figures


def figures_compute_all(*, as_of: dt.date) -> int:
    """Every item that has ever had an application (the daily job); returns how many were counted."""
    keys = sorted(set(Application.objects.values_list("item_key", flat=True).distinct()))
    for key in keys:
        figures_compute(item_key=key, as_of=as_of)
    return len(keys)


@dataclass(frozen=True)
class Shown:
    """What the guide page shows: each figure, or ``None`` for 尚无足够数据."""

    as_of: dt.date
    minimum: int
    handled: int | None
    on_time_rate: Decimal | None  # percent, one decimal
    no_limits: bool  # enough handled, none of them with a due date: the standard states no limits
    average_days: Decimal | None  # one decimal
    satisfaction: Decimal | None  # percent, one decimal

    @property
    def anything(self) -> bool:
        return self.handled is not None


def _percent(part: int, whole: int) -> Decimal:
    return (Decimal(100) * part / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def shown(figures: ItemFigures) -> Shown:
    minimum = _config("figures_minimum")
    enough = figures.handled >= minimum
    return Shown(
        as_of=figures.as_of,
        minimum=minimum,
        handled=figures.handled if enough else None,
        on_time_rate=_percent(figures.on_time, figures.timed) if enough and figures.timed >= minimum else None,
        no_limits=enough and figures.timed == 0,
        average_days=(Decimal(figures.working_days) / figures.handled).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        if enough
        else None,
        satisfaction=_percent(figures.satisfied, figures.rated) if figures.rated >= minimum else None,
    )


def item_figures(*, item_key: str, today: dt.date) -> Shown:
    """Today's figures of the item: stored ones if counted today, else counted now (and stored)."""
    stored = ItemFigures.objects.filter(item_key=item_key, as_of=today).first()
    return shown(stored or figures_compute(item_key=item_key, as_of=today))
