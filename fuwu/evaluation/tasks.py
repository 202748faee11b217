"""The evaluation's scheduled job: materialise the indicators (``FUWU_SCHEDULE``: every night).

By default the job covers the current month and the one before (late data for last month still comes in:
complaints resolved, callbacks made); ``{"months": N}`` widens it, ``{"first": ..., "last": ...}`` names the
range. Periods whose data did not change are left alone (engine.py), so a wide range costs reads only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy, gettext_noop

from fuwu.evaluation import permissions
from fuwu.evaluation.engine import indicators_compute
from fuwu.jobs import kinds
from fuwu.jobs.kinds import JobError, Outcome, Progress
from fuwu.jobs.models import Job

DEFAULT_MONTHS = 2


def _readers(user: Any, job: Job) -> bool:
    return permissions.can_view_dashboard(user)


def months_back(today: dt.date, months: int) -> dt.date:
    """The first day of the month ``months - 1`` months before ``today``'s."""
    index = today.year * 12 + today.month - 1 - (months - 1)
    return dt.date(index // 12, index % 12 + 1, 1)


def job_range(params: dict[str, Any], today: dt.date) -> tuple[dt.date, dt.date]:
    if "first" in params or "last" in params:
        try:
            first = dt.date.fromisoformat(str(params.get("first", "")))
            last = dt.date.fromisoformat(str(params.get("last", today.isoformat())))
        except ValueError:
            raise JobError(gettext_noop("起止日期应写成 2026-01-01 这样的格式。")) from None
        return first, last
    months = params.get("months", DEFAULT_MONTHS)
    if not isinstance(months, int) or not 1 <= months <= 120:
        raise JobError(gettext_noop("月数应在1～120之间。"))
    return months_back(today, months), today


@kinds.register(
    "evaluation.indicators_compute",
    label=gettext_lazy("计算标准实施指标"),
    may_view=_readers,
)
def compute(job: Job, progress: Progress) -> Outcome:
    first, last = job_range(job.params, timezone.localdate())
    summary = indicators_compute(first=first, last=last, progress=lambda done, total: progress(done, total))
    return Outcome(url=reverse("evaluation:dashboard"), summary=summary.as_dict())
