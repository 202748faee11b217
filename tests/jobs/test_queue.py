"""A job from the request that starts it to its result: queued, run by the worker (in this process), progress
shown while it runs, the result or the error after; retried or reported when its worker dies mid-way."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from fuwu.accounts.models import Role, User
from fuwu.common.models import AuditLog
from fuwu.jobs import kinds
from fuwu.jobs.kinds import JobError, Outcome, Progress
from fuwu.jobs.models import Job, JobStatus
from fuwu.jobs.services import job_start, jobs_heartbeat, jobs_reap
from fuwu.jobs.worker import Worker, clock_step, run_queue

pytestmark = pytest.mark.django_db

seen: dict[str, Any] = {}


def _panel(job: Job) -> str:
    client: Client = seen["client"]
    return client.get(f"/jobs/{job.pk}/panel/").content.decode()


@kinds.register(
    "tests.count", label="数一数", max_attempts=2, abandon=lambda job: seen.setdefault("abandoned", []).append(job.pk)
)
def count(job: Job, progress: Progress) -> Outcome:
    total = int(job.params["to"])
    for done in range(1, total + 1):
        progress(done, total, "正在数")
        if done == total // 2:
            # Half way: what the person's page shows now, read through the page itself.
            seen["half"] = _panel(job)
            seen["status_half"] = Job.objects.get(pk=job.pk).status
        if job.params.get("die_at") == done and job.attempts == 1:
            raise SystemExit(1)  # the worker is stopped mid-task (a second Ctrl-C), on the first attempt
    if job.params.get("refuse"):
        raise JobError("数到 %(n)s 就不数了。", n=total)
    if job.params.get("crash"):
        raise ZeroDivisionError("bug")
    return Outcome(url="/done/", summary={"counted": total})


def officer() -> User:
    return User.objects.create_user("job-officer", password="x-long-password-1", role=Role.RESIDENT)


@pytest.fixture(autouse=True)
def _reset(settings: Any) -> None:
    seen.clear()
    settings.FUWU_JOBS = {**settings.FUWU_JOBS, "progress_every": 0}  # every step visible


@pytest.fixture
def client() -> Client:
    client = Client()
    client.force_login(officer())
    seen["client"] = client
    return client


def test_queued_then_run_by_the_worker_with_progress_then_the_result(client: Client) -> None:
    user = User.objects.get(username="job-officer")
    job = job_start(kind="tests.count", actor=user, params={"to": 10})
    assert job.status == JobStatus.QUEUED
    assert DBTaskResult.objects.get(pk=job.task_id).status == "READY"
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "数一数" in page
    assert "排队中" in page
    assert 'hx-trigger="every 2s"' in page

    assert run_queue() == 1

    assert seen["status_half"] == JobStatus.RUNNING
    assert 'value="50"' in seen["half"]  # <progress max="100" value="50">
    assert "5 / 10" in seen["half"]
    assert "正在数" in seen["half"]
    assert "hx-get" in seen["half"]  # still polling while it runs
    job.refresh_from_db()
    assert (job.status, job.done, job.total, job.attempts) == (JobStatus.SUCCEEDED, 10, 10, 1)
    assert job.result == {"counted": 10}
    assert job.finished_at is not None
    assert DBTaskResult.objects.get(pk=job.task_id).status == "SUCCESSFUL"
    panel = client.get(f"/jobs/{job.pk}/panel/").content.decode()
    assert "已完成" in panel
    assert 'href="/done/"' in panel
    assert "hx-get" not in panel
    assert set(AuditLog.objects.filter(object_type="jobs.job").values_list("event", flat=True)) == {
        "job.queued",
        "job.succeeded",
    }
    listing = client.get("/jobs/").content.decode()
    assert f'href="/jobs/{job.pk}/"' in listing


def test_a_refusal_is_shown_to_the_person_and_not_retried(client: Client) -> None:
    job = job_start(
        kind="tests.count", actor=User.objects.get(username="job-officer"), params={"to": 4, "refuse": True}
    )
    run_queue()
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.FAILED, 1)
    assert "数到 4 就不数了。" in client.get(f"/jobs/{job.pk}/").content.decode()
    assert seen["abandoned"] == [job.pk]


def test_a_bug_is_logged_and_reported_without_detail(client: Client, caplog: pytest.LogCaptureFixture) -> None:
    job = job_start(kind="tests.count", actor=User.objects.get(username="job-officer"), params={"to": 2, "crash": True})
    run_queue()
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "任务出错，没有完成" in page
    assert "ZeroDivisionError" not in page
    assert "ZeroDivisionError" in caplog.text
    assert seen["abandoned"] == [job.pk]


def test_a_worker_stopped_mid_task_requeues_the_job_and_the_retry_finishes_it(client: Client) -> None:
    job = job_start(kind="tests.count", actor=User.objects.get(username="job-officer"), params={"to": 6, "die_at": 3})
    first_task = job.task_id
    assert run_queue() == 2  # the interrupted attempt, then the retry it queued
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.SUCCEEDED, 2)
    assert job.task_id != first_task
    assert DBTaskResult.objects.get(pk=first_task).status == "FAILED"
    assert seen["abandoned"] == [job.pk]  # the retry first cleaned up what the stopped attempt left
    assert "job.retried" in AuditLog.objects.filter(object_type="jobs.job").values_list("event", flat=True)


def killed_mid_way(job: Job, *, at: dt.datetime) -> None:
    """What SIGKILL leaves: the attempt claimed and running, its last heartbeat at ``at``, nothing after."""
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, attempts=job.attempts + 1, started_at=at, heartbeat_at=at, worker_id="dead"
    )
    DBTaskResult.objects.filter(pk=job.task_id).update(status="RUNNING", started_at=at)


def test_the_watchdog_retries_a_job_whose_worker_was_killed_then_reports_it(client: Client) -> None:
    job = job_start(kind="tests.count", actor=User.objects.get(username="job-officer"), params={"to": 3})
    now = timezone.now()
    killed_mid_way(job, at=now - dt.timedelta(seconds=30))
    assert jobs_reap(now=now) == []  # 30 s without a heartbeat is not yet dead
    assert jobs_reap(now=now + dt.timedelta(minutes=5)) == [job]
    job.refresh_from_db()
    assert (job.status, job.attempts, job.worker_id) == (JobStatus.QUEUED, 1, "")
    assert "上次运行被中断，已重新排队" in client.get(f"/jobs/{job.pk}/").content.decode()
    # Killed again on its second and last attempt: reported, and what it left is cleaned up.
    job.refresh_from_db()
    killed_mid_way(job, at=now)
    assert jobs_reap(now=now + dt.timedelta(minutes=5)) == [job]
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.FAILED, 2)
    assert seen["abandoned"] == [job.pk]
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "已重试 2 次仍未完成" in page
    assert not DBTaskResult.objects.filter(status="RUNNING").exists()
    assert run_queue() == 0  # nothing left to run


def test_a_worker_beats_for_its_own_jobs_so_the_watchdog_leaves_them_alone() -> None:
    job = job_start(kind="tests.count", actor=None, params={"to": 3})
    old = timezone.now() - dt.timedelta(minutes=10)
    killed_mid_way(job, at=old)
    Job.objects.filter(pk=job.pk).update(worker_id="alive")
    assert jobs_reap(worker_id="alive") == []  # its own worker never reaps it
    assert jobs_heartbeat(worker_id="alive") == 1
    clock_step(worker_id="another", scheduler=False)  # another worker's watchdog: the heartbeat is fresh
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING


def test_only_the_requester_sees_a_job(client: Client) -> None:
    job = job_start(kind="tests.count", actor=User.objects.get(username="job-officer"), params={"to": 1})
    other = Client()
    other.force_login(User.objects.create_user("someone", password="x-long-password-1", role=Role.RESIDENT))
    assert other.get(f"/jobs/{job.pk}/").status_code == 404
    assert other.get(f"/jobs/{job.pk}/panel/").status_code == 404
    assert f"/jobs/{job.pk}/" not in other.get("/jobs/").content.decode()
    assert Client().get(f"/jobs/{job.pk}/").status_code == 302  # anonymous: log in first
    assert client.get(f"/jobs/{job.pk}/").status_code == 200


@kinds.register("tests.wait_for_heartbeat", label="等心跳")
def wait_for_heartbeat(job: Job, progress: Progress) -> Outcome:
    """Runs until the worker's clock has beaten for it (or gives up after 30 s)."""
    first = Job.objects.values_list("heartbeat_at", flat=True).get(pk=job.pk)
    for _ in range(300):
        if Job.objects.values_list("heartbeat_at", flat=True).get(pk=job.pk) != first:
            return Outcome(summary={"beaten": True})
        time.sleep(0.1)
    return Outcome(summary={"beaten": False})


@pytest.mark.django_db(transaction=True)
def test_the_worker_clock_beats_for_its_job_and_runs_the_scheduler(settings: Any, file_database: str) -> None:
    settings.FUWU_SCHEDULE = {"often": {"kind": "tests.count", "every": "1 minutes", "params": {"to": 1}}}
    job = job_start(kind="tests.wait_for_heartbeat", actor=None)
    worker = Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        excluded_queue_names=[],
        tick=0.1,
    )
    worker.run()  # the job, then whatever the clock's scheduler queued meanwhile, then the queue is empty
    job.refresh_from_db()
    assert (job.status, job.result) == (JobStatus.SUCCEEDED, {"beaten": True})
    scheduled = Job.objects.get(schedule="often")
    assert scheduled.status == JobStatus.SUCCEEDED
    assert scheduled.params["to"] == 1
