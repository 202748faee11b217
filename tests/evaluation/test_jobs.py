"""The nightly job and the command line compute what the engine computes, and refuse bad ranges clearly."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from fuwu.evaluation.models import IndicatorValue
from fuwu.evaluation.tasks import job_range, months_back
from fuwu.jobs.kinds import JobError
from fuwu.jobs.models import Job, JobStatus
from fuwu.jobs.services import job_start
from fuwu.jobs.worker import run_queue
from tests.homecare.conftest import World
from tests.homecare.test_supervision import Built


def test_ranges() -> None:
    today = dt.date(2027, 1, 15)
    assert months_back(today, 2) == dt.date(2026, 12, 1)
    assert job_range({}, today) == (dt.date(2026, 12, 1), today)
    assert job_range({"months": 12}, today) == (dt.date(2026, 2, 1), today)
    assert job_range({"first": "2026-03-01", "last": "2026-04-30"}, today) == (
        dt.date(2026, 3, 1),
        dt.date(2026, 4, 30),
    )
    with pytest.raises(JobError):
        job_range({"months": 0}, today)
    with pytest.raises(JobError):
        job_range({"first": "March"}, today)


def test_the_job_materialises_the_month(world: World, built: Built) -> None:
    job_start(kind="evaluation.indicators_compute", actor=None, params={"first": "2026-12-01", "last": "2026-12-31"})
    assert run_queue() == 1
    job = Job.objects.get(kind="evaluation.indicators_compute")
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result["periods_computed"] > 0
    assert IndicatorValue.objects.filter(
        indicator__key="hc-on-time-rate", area__code="331002", period_start=dt.date(2026, 12, 1)
    ).exists()


def test_the_command(world: World, built: Built) -> None:
    out = StringIO()
    call_command("indicators", "compute", "--from", "2026-12", "--to", "2026-12", stdout=out)
    assert "8 indicator(s), 2026-12 to 2026-12" in out.getvalue()
    assert IndicatorValue.objects.filter(period_start=dt.date(2026, 12, 1), period_kind="month").exists()
    again = StringIO()
    call_command("indicators", "compute", "--from", "2026-12", "--to", "2026-12", stdout=again)
    assert "0 period(s) computed" in again.getvalue()
    listed = StringIO()
    call_command("indicators", "list", stdout=listed)
    assert "taizhou-home-care  hc-on-time-rate  computed from homecare_visits" in listed.getvalue()
    with pytest.raises(CommandError, match="--from"):
        call_command("indicators", "compute", "--from", "2026-13")
    with pytest.raises(CommandError, match="is after"):
        call_command("indicators", "compute", "--from", "2026-12", "--to", "2026-11")
