"""Home care's scheduled work, queued by the scheduler and run by the worker as the settings schedule it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from fuwu.homecare.models import Settlement, SettlementStatus
from fuwu.homecare.services import order_book
from fuwu.jobs.models import Job, JobStatus
from fuwu.jobs.schedule import schedule_tick
from fuwu.jobs.worker import run_queue
from tests.homecare.conftest import TODAY, World, at

# 08:00 on 1 December 2026 in Shanghai: every entry of the schedule has a slot that has begun.
MORNING = dt.datetime(2026, 12, 1, 8, 0, tzinfo=timezone.get_current_timezone())


@pytest.fixture(autouse=True)
def _officers(settings: Any) -> None:
    settings.FUWU_SCHEDULE_OFFICERS = ["officer"]


def test_the_schedule_flags_overdue_orders_samples_callbacks_and_drafts_settlements(
    world: World, client: Client
) -> None:
    order, _ = order_book(
        actor=world.family,
        person=world.elder,
        item="hc-bathing",
        window_start=at(TODAY + dt.timedelta(days=2), 9),
        window_end=at(TODAY + dt.timedelta(days=2), 12),
        idempotency_key="late",
        now=at(TODAY, 10),  # booked weeks ago and never accepted: past its response time now
    )
    claimed = schedule_tick(now=MORNING)
    assert {c.name for c in claimed} == {
        "homecare-flag-overdue",
        "homecare-callbacks-sample",
        "homecare-month-end-settlement",
        "standards-review-reminders",
        "eligibility-runs-purge",
        "evaluation-indicators",
        "applications-figures",
        "notices-send-due",
        "applications-flag-overdue",
    }
    assert run_queue() == 9
    jobs = {j.kind: j for j in Job.objects.all()}
    assert {j.status for j in jobs.values()} == {JobStatus.SUCCEEDED}, {k: j.error for k, j in jobs.items()}

    order.refresh_from_db()
    assert order.overdue_flagged_at is not None
    assert jobs["homecare.flag_overdue"].result == {"flagged": 1}

    settlement = Settlement.objects.get(provider=world.provider)
    assert (settlement.month, settlement.status, settlement.created_by) == (
        dt.date(2026, 11, 1),
        SettlementStatus.DRAFT,
        world.officer,
    )
    assert jobs["homecare.settlement_month_end"].result == {"month": "2026-11-01", "drafted": 1}
    assert jobs["homecare.callbacks_sample"].result["month"] == "2026-11-01"

    # The officer sees the scheduled jobs and their results; the family does not.
    client.force_login(world.officer)
    listing = client.get("/jobs/").content.decode()
    assert "生成上月结算单（草稿）" in listing
    assert "定时任务" in listing
    page = client.get(f"/jobs/{jobs['homecare.settlement_month_end'].pk}/").content.decode()
    assert "已生成 2026-11 的结算单草稿 1 份" in page
    assert 'href="/homecare/reports/settlements/"' in page
    client.force_login(world.family)
    assert client.get(f"/jobs/{jobs['homecare.settlement_month_end'].pk}/").status_code == 404
    assert "生成上月结算单" not in client.get("/jobs/").content.decode()

    # The same slots again (within the notices' five minutes): nothing new is queued.
    assert schedule_tick(now=MORNING + dt.timedelta(minutes=4)) == []


def test_without_officers_the_scheduled_home_care_work_says_what_to_set(world: World, settings: Any) -> None:
    settings.FUWU_SCHEDULE_OFFICERS = []
    settings.FUWU_SCHEDULE = {"settle": {"kind": "homecare.settlement_month_end", "every": "month", "at": "02:00"}}
    schedule_tick(now=MORNING)
    run_queue()
    job = Job.objects.get()
    assert job.status == JobStatus.FAILED
    assert "FUWU_SCHEDULE_OFFICERS" in job.error_text()
    assert not Settlement.objects.exists()
