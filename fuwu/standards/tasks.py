"""The standards' scheduled job: review reminders (``FUWU_SCHEDULE``: every morning).

A version in force whose review falls due within the reminder window, or is overdue, gets one audit row
per state and due date (``standard.review_due_soon``, then ``standard.review_overdue``), so its history
page shows when the reminder went out and a daily run does not repeat it. The job's result counts them
and links to the list of reviews due, where the standards office acts on them.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy

from fuwu.accounts.permissions import can_view_registry
from fuwu.common.audit import audit, history_for
from fuwu.jobs import kinds
from fuwu.jobs.kinds import Outcome, Progress
from fuwu.jobs.models import Job
from fuwu.standards.selectors import reviews_due

REMIND_WITHIN_DAYS = 180  # as the reviews page lists them


def _registry_readers(user: Any, job: Job) -> bool:
    return can_view_registry(user)


@kinds.register(
    "standards.review_reminders",
    label=gettext_lazy("标准复审提醒"),
    template="registry/jobs/review_reminders.html",
    may_view=_registry_readers,
)
def review_reminders(job: Job, progress: Progress) -> Outcome:
    today = timezone.localdate()
    versions = list(reviews_due(today=today, within_days=REMIND_WITHIN_DAYS))
    overdue = due_soon = reminded = 0
    for done, version in enumerate(versions, start=1):
        late = version.review_due_on < today
        overdue += late
        due_soon += not late
        event = "standard.review_overdue" if late else "standard.review_due_soon"
        due = version.review_due_on.isoformat()
        with transaction.atomic():
            if not history_for(version).filter(event=event, note=due).exists():
                audit(actor=None, event=event, obj=version, after={"review_due_on": due}, note=due)
                reminded += 1
        progress(done, len(versions))
    return Outcome(url=reverse("registry:reviews"), summary={"overdue": overdue, "due_soon": due_soon, "new": reminded})
