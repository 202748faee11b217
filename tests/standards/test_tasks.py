"""Review reminders: a standard due or overdue for review gets one audit row per state, shown in its history."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from fuwu.accounts.models import Role, User
from fuwu.common.audit import history_for
from fuwu.jobs.models import Job, JobStatus
from fuwu.jobs.services import job_start
from fuwu.jobs.worker import run_queue
from fuwu.standards.selectors import versions_in_force
from tests.conftest import REPO

pytestmark = pytest.mark.django_db


def test_reminders_for_reviews_due_are_recorded_once_and_shown_to_the_standards_office() -> None:
    call_command("standards", "load", str(REPO / "standards"), stdout=io.StringIO())
    today = timezone.localdate()
    versions = list(versions_in_force().order_by("pk"))
    overdue, soon, later = versions[0], versions[1], versions[2]
    overdue.review_due_on = today - dt.timedelta(days=1)
    soon.review_due_on = today + dt.timedelta(days=30)
    later.review_due_on = today + dt.timedelta(days=400)
    for v in (overdue, soon, later):
        v.save(update_fields=["review_due_on"])
    others = versions_in_force().exclude(pk__in=[overdue.pk, soon.pk, later.pk])
    others.update(review_due_on=today + dt.timedelta(days=1000))

    job_start(kind="standards.review_reminders", actor=None)
    run_queue()
    job = Job.objects.get()
    assert job.status == JobStatus.SUCCEEDED
    assert job.result == {"overdue": 1, "due_soon": 1, "new": 2}
    assert history_for(overdue).filter(event="standard.review_overdue").count() == 1
    assert history_for(soon).filter(event="standard.review_due_soon").count() == 1
    assert not history_for(later).filter(event__startswith="standard.review_").exists()

    job_start(kind="standards.review_reminders", actor=None)  # the next morning: nothing new to remind
    run_queue()
    assert Job.objects.latest("pk").result == {"overdue": 1, "due_soon": 1, "new": 0}
    assert history_for(overdue).filter(event="standard.review_overdue").count() == 1

    office = Client()
    office.force_login(User.objects.create_user("office", password="x-long-password-1", role=Role.STANDARDS_OFFICE))
    page = office.get(f"/jobs/{job.pk}/").content.decode()
    assert "已逾期未复审的标准 1 项，180 天内到期的 1 项" in page
    assert 'href="/staff/reviews/"' in page
    resident = Client()
    resident.force_login(User.objects.create_user("someone", password="x-long-password-1", role=Role.RESIDENT))
    assert resident.get(f"/jobs/{job.pk}/").status_code == 404
