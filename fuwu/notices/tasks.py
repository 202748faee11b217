"""The outbox's retries on the schedule (``FUWU_SCHEDULE["notices-send-due"]``): every pending delivery whose
next attempt has come is sent again; each attempt and its error stay on the delivery."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy

from fuwu.jobs import kinds
from fuwu.jobs.kinds import Outcome, Progress
from fuwu.jobs.models import Job
from fuwu.notices.selectors import may_read_outbox
from fuwu.notices.services import deliveries_send_due


def _staff(user: Any, job: Job) -> bool:
    return may_read_outbox(user)


@kinds.register("notices.send_due", label=gettext_lazy("发送待发的短信和邮件"), may_view=_staff)
def send_due(job: Job, progress: Progress) -> Outcome:
    sent = deliveries_send_due()
    progress(1, 1)
    return Outcome(url=reverse("notices:outbox"), summary={"sent": sent})
