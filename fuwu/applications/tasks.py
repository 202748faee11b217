"""Applications' scheduled jobs (``FUWU_SCHEDULE``): the items' public figures, once a day; overdue applications
flagged and escalated (``overdue.py``), once a day."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy, gettext_noop

from fuwu.accounts.models import Role
from fuwu.accounts.permissions import has_role
from fuwu.applications.figures import figures_compute_all
from fuwu.applications.overdue import applications_flag_overdue
from fuwu.jobs import kinds
from fuwu.jobs.kinds import JobError, Outcome, Progress
from fuwu.jobs.models import Job


@kinds.register("applications.figures_compute", label=gettext_lazy("统计各事项的办件公开数据"))
def figures_compute(job: Job, progress: Progress) -> Outcome:
    """Count every item's figures as of the slot's day (the day the job was due, whenever it runs)."""
    text = job.params.get("slot")
    as_of = timezone.localtime(dt.datetime.fromisoformat(text) if text else timezone.now()).date()
    counted = figures_compute_all(as_of=as_of)
    progress(1, 1)
    return Outcome(url="", summary={"as_of": as_of.isoformat(), "items": counted})


def _officers(user: Any, job: Job) -> bool:
    return has_role(user, {Role.DEPARTMENT_OFFICER})


@kinds.register("applications.flag_overdue", label=gettext_lazy("标记超期申请并督办"), may_view=_officers)
def flag_overdue(job: Job, progress: Progress) -> Outcome:
    run = applications_flag_overdue()
    progress(1, 1)
    return Outcome(url=reverse("applications:inbox") + "?overdue=on", summary=run.as_dict())


# --- 免申即享: one township's pre-filled applications (or grants) from a screening run (``proactive.py``) -----

PREFILL = "applications.prefill"


@kinds.register(PREFILL, label=gettext_lazy("免申即享：生成预填申请"), template="applications/prefill_result.html")
def prefill(job: Job, progress: Progress) -> Outcome:
    """The officer's run for one township and item; a retry creates only what the killed attempt had not."""
    from fuwu.applications import proactive
    from fuwu.applications.services import ApplicationError
    from fuwu.eligibility.models import ScreeningRun
    from fuwu.standards.models import ServiceItem
    from fuwu.standards.selectors import item_in_force

    params = job.params
    run = ScreeningRun.objects.filter(pk=params["run"]).first()
    try:
        item = item_in_force(key=params["item"])
    except ServiceItem.DoesNotExist:
        raise JobError(gettext_noop("该服务事项已不在施行的标准中。")) from None
    if run is None:
        raise JobError(gettext_noop("这次筛查的结果已不存在。"))
    try:
        result = proactive.prefill_create(
            actor=job.requested_by, run=run, item=item, township=params["township"], progress=progress
        )
    except ApplicationError as exc:
        raise JobError(str(exc)) from exc
    progress(1, 1)
    url = reverse("proactive:people", kwargs={"run_id": run.pk, "township": params["township"], "item": item.key})
    return Outcome(url=url, summary={**result.as_dict(), "item": item.key, "township": params["township"]})
