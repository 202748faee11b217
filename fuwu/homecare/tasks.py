"""Home care's scheduled jobs (``FUWU_SCHEDULE``): overdue flags, callback sampling, month-end settlement drafts.

Each calls the existing service, as the command line or an officer's page would. Sampling and settlement
act for the officers named in ``FUWU_SCHEDULE_OFFICERS`` (their area decides what they cover, and the
audit rows name them); a settlement is only drafted here, an officer still confirms it.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy, gettext_noop

from fuwu.accounts.models import User
from fuwu.homecare import permissions
from fuwu.homecare.services import HomeCareError, month_start, orders_flag_overdue
from fuwu.homecare.settlement import providers_for_settlement, settlement_generate
from fuwu.homecare.supervision import callbacks_sample
from fuwu.jobs import kinds
from fuwu.jobs.kinds import JobError, Outcome, Progress
from fuwu.jobs.models import Job

logger = logging.getLogger(__name__)


def _supervisors(user: Any, job: Job) -> bool:
    return permissions.can_supervise(user)


def _slot(job: Job) -> dt.datetime:
    text = job.params.get("slot")
    return dt.datetime.fromisoformat(text) if text else timezone.now()


def _officers() -> list[User]:
    names = list(getattr(settings, "FUWU_SCHEDULE_OFFICERS", []))
    if not names:
        raise JobError(gettext_noop("没有设置代为执行定时任务的工作人员（FUWU_SCHEDULE_OFFICERS）。"))
    found = {u.username: u for u in User.objects.filter(username__in=names, is_active=True)}
    missing = [n for n in names if n not in found]
    if missing:
        logger.warning("FUWU_SCHEDULE_OFFICERS: no active user %s", ", ".join(missing))
    return [found[n] for n in names if n in found]


@kinds.register(
    "homecare.flag_overdue",
    label=gettext_lazy("标记超时工单"),
    template="homecare/jobs/flag_overdue.html",
    may_view=_supervisors,
)
def flag_overdue(job: Job, progress: Progress) -> Outcome:
    flagged = orders_flag_overdue(now=None)
    progress(1, 1)
    return Outcome(url=reverse("homecare:overdue"), summary={"flagged": flagged})


@kinds.register(
    "homecare.callbacks_sample",
    label=gettext_lazy("抽取电话回访"),
    template="homecare/jobs/callbacks_sample.html",
    may_view=_supervisors,
)
def sample_callbacks(job: Job, progress: Progress) -> Outcome:
    """Top up each officer's sample of the month of the slot's previous day (on the 1st: the month just ended)."""
    month = month_start(timezone.localtime(_slot(job)).date() - dt.timedelta(days=1))
    officers = _officers()
    sampled = 0
    for done, officer in enumerate(officers, start=1):
        try:
            sampled += len(callbacks_sample(actor=officer, month=month))
        except (HomeCareError, PermissionDenied) as exc:
            logger.warning("callback sampling for %s skipped: %s", officer.username, exc)
        progress(done, len(officers))
    return Outcome(url=reverse("homecare:supervision"), summary={"month": month.isoformat(), "sampled": sampled})


@kinds.register(
    "homecare.settlement_month_end",
    label=gettext_lazy("生成上月结算单（草稿）"),
    template="homecare/jobs/settlement_month_end.html",
    may_view=_supervisors,
)
def settlement_month_end(job: Job, progress: Progress) -> Outcome:
    """Draft last month's settlement of every provider each officer may settle; confirmed ones are left alone."""
    month = month_start(timezone.localtime(_slot(job)).date().replace(day=1) - dt.timedelta(days=1))
    pairs = [(officer, provider) for officer in _officers() for provider in providers_for_settlement(user=officer)]
    drafted: set[int] = set()
    for done, (officer, provider) in enumerate(pairs, start=1):
        if provider.pk not in drafted:
            try:
                settlement_generate(actor=officer, provider=provider, month=month)
                drafted.add(provider.pk)
            except (HomeCareError, PermissionDenied) as exc:  # confirmed already, or not this officer's to settle
                logger.info("month-end settlement of %s by %s skipped: %s", provider, officer.username, exc)
        progress(done, len(pairs))
    return Outcome(url=reverse("homecare:settlements"), summary={"month": month.isoformat(), "drafted": len(drafted)})


@checks.register(deploy=True)
def schedule_officers_are_set(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    if getattr(settings, "FUWU_SCHEDULE_OFFICERS", None):
        return []
    return [
        checks.Warning(
            "FUWU_SCHEDULE_OFFICERS is empty: scheduled callback sampling and month-end settlement drafts will fail.",
            hint="Set it to the usernames of the department officers on whose behalf they run (comma-separated).",
            id="homecare.W001",
        )
    ]
