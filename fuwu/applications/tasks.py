"""Applications' scheduled job (``FUWU_SCHEDULE``): flag overdue applications and escalate them (``overdue.py``)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy

from fuwu.accounts.models import Role
from fuwu.accounts.permissions import has_role
from fuwu.applications.overdue import applications_flag_overdue
from fuwu.jobs import kinds
from fuwu.jobs.kinds import Outcome, Progress
from fuwu.jobs.models import Job


def _officers(user: Any, job: Job) -> bool:
    return has_role(user, {Role.DEPARTMENT_OFFICER})


@kinds.register("applications.flag_overdue", label=gettext_lazy("标记超期申请并督办"), may_view=_officers)
def flag_overdue(job: Job, progress: Progress) -> Outcome:
    run = applications_flag_overdue()
    progress(1, 1)
    return Outcome(url=reverse("applications:inbox") + "?overdue=on", summary=run.as_dict())
