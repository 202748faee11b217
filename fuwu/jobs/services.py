"""Writes for jobs: starting one, running an attempt, the heartbeat, and the watchdog for dead workers."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop
from django_tasks_db.models import DBTaskResult

from fuwu.common.audit import audit
from fuwu.jobs import kinds
from fuwu.jobs.models import Job, JobFile, JobStatus

logger = logging.getLogger(__name__)

# What the person reads when the job broke in a way they cannot fix (the detail is in the log).
FAILED = gettext_noop("任务出错，没有完成，也没有留下做到一半的结果。请稍后重试；如果再次出错，请联系系统管理员。")
INTERRUPTED = gettext_noop(
    "任务在运行中被中断（后台进程停止），已重试 %(attempts)s 次仍未完成，做到一半的结果已清除。请重新提交。"
)
REQUEUED = gettext_noop("上次运行被中断，已重新排队")


def _options() -> dict[str, Any]:
    return {"stale_after": 120.0, "progress_every": 1.0, **getattr(settings, "FUWU_JOBS", {})}


def _enqueue(job: Job) -> None:
    from fuwu.jobs.tasks import job_run

    kind = kinds.get(job.kind)
    result = job_run.using(queue_name=kind.queue).enqueue(job.pk)
    job.task_id = str(result.id)
    job.save(update_fields=["task_id"])


@transaction.atomic
def job_start(
    *,
    kind: str,
    actor: Any,
    params: dict[str, Any] | None = None,
    schedule: str = "",
    files: dict[str, bytes] | None = None,
) -> Job:
    """Record a job for ``actor`` (``None``: the system) and put it on the queue, in one transaction.

    ``files`` (name → bytes) go with it, for the worker to read (``job_file``); they are deleted when the
    job finishes, whatever the outcome.
    """
    spec = kinds.get(kind)
    job = Job.objects.create(
        kind=spec.name,
        requested_by=actor if getattr(actor, "is_authenticated", False) else None,
        schedule=schedule,
        params=params or {},
        max_attempts=spec.max_attempts,
    )
    for name, content in (files or {}).items():
        JobFile.objects.create(job=job, name=name, content=content)
    _enqueue(job)
    audit(actor=actor, event="job.queued", obj=job, after={"kind": job.kind, "schedule": schedule})
    return job


def job_file(job: Job, name: str) -> bytes:
    """A file given to ``job_start``; ``JobFile.DoesNotExist`` once the job has finished."""
    return bytes(JobFile.objects.values_list("content", flat=True).get(job=job, name=name))


def _claim(job_id: int, task_id: str, worker_id: str) -> Job | None:
    """Mark the job running for this attempt; None when this queue row is not the job's current attempt."""
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status != JobStatus.QUEUED or job.task_id != task_id:
            return None
        now = timezone.now()
        job.status = JobStatus.RUNNING
        job.attempts += 1
        job.started_at = job.heartbeat_at = now
        job.worker_id = worker_id[:64]
        job.message = ""
        job.save(update_fields=["status", "attempts", "started_at", "heartbeat_at", "worker_id", "message"])
    return job


def _finish(job: Job, *, status: JobStatus, **values: Any) -> None:
    with transaction.atomic():
        updated = Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING, task_id=job.task_id).update(
            status=status, finished_at=timezone.now(), **values
        )
        if updated:
            JobFile.objects.filter(job=job).delete()
            job.refresh_from_db()
            audit(
                actor=None,
                event=f"job.{status}",
                obj=job,
                after={"kind": job.kind, "attempts": job.attempts, "error": job.error},
            )


def _abandon(job: Job) -> None:
    """Let the kind remove what an attempt left; a failure here is logged, never hides the job's own outcome."""
    spec = kinds.KINDS.get(job.kind)
    if spec is None or spec.abandon is None:
        return
    try:
        spec.abandon(job)
    except Exception:
        logger.exception("job %s (%s): cleaning up after an attempt failed", job.pk, job.kind)


def job_execute(*, job_id: int, task_id: str, worker_id: str = "") -> None:
    """One attempt at a job: the body of the queue's task (``fuwu.jobs.tasks.job_run``).

    Not atomic: the kind commits in its own steps, so its progress is visible and no lock is held for the
    whole job. Its outcome is written at the end; if the process dies first, the watchdog
    (``jobs_reap``) finds the job by its stale heartbeat.
    """
    job = _claim(job_id, task_id, worker_id)
    if job is None:
        logger.info("job %s: queue row %s is not its current attempt; skipped", job_id, task_id)
        return
    try:
        spec = kinds.get(job.kind)
    except kinds.UnknownKind:
        logger.exception("job %s", job.pk)
        _finish(job, status=JobStatus.FAILED, error=FAILED)
        return
    if job.attempts > 1:
        _abandon(job)  # a retry starts from a clean slate
        job.state = {}
        Job.objects.filter(pk=job.pk).update(state={})
    try:
        outcome = spec.run(job, kinds.Progress(job, interval=float(_options()["progress_every"])))
    except kinds.JobError as exc:
        _abandon(job)
        _finish(job, status=JobStatus.FAILED, error=exc.message, error_params=exc.params)
    except Exception:
        logger.exception("job %s (%s) failed", job.pk, job.kind)
        _abandon(job)
        _finish(job, status=JobStatus.FAILED, error=FAILED)
    except BaseException:
        # The worker is being stopped (a second Ctrl-C, SIGTERM's sys.exit) in the middle of the work.
        _interrupted(job)
        raise
    else:
        _finish(
            job,
            status=JobStatus.SUCCEEDED,
            result_url=outcome.url[:500],
            result=outcome.summary,
            done=job.total if job.total is not None else job.done,
        )


def _interrupted(job: Job, *, now: dt.datetime | None = None, stale_before: dt.datetime | None = None) -> bool:
    """Queue a job whose attempt died again, or fail it when it has no attempts left; whether it changed.

    With ``stale_before``, only if its heartbeat is still older than that once the row is locked.
    """
    with transaction.atomic():
        current = Job.objects.select_for_update().filter(pk=job.pk, status=JobStatus.RUNNING).first()
        if current is None or (
            stale_before is not None and (current.heartbeat_at is None or current.heartbeat_at >= stale_before)
        ):
            return False
        DBTaskResult.objects.filter(pk=current.task_id, status="RUNNING").update(
            status="FAILED", finished_at=now or timezone.now(), exception_class_path="fuwu.jobs.Interrupted"
        )
        retry = current.attempts < current.max_attempts
        if retry:
            current.status = JobStatus.QUEUED
            current.message = REQUEUED
            current.worker_id = ""
            current.heartbeat_at = None
            current.save(update_fields=["status", "message", "worker_id", "heartbeat_at"])
            _enqueue(current)
        audit(
            actor=None,
            event="job.retried" if retry else "job.interrupted",
            obj=current,
            after={"kind": current.kind, "attempts": current.attempts},
        )
    if not retry:
        _abandon(current)
        _finish(
            current,
            status=JobStatus.FAILED,
            error=INTERRUPTED,
            error_params={"attempts": str(current.attempts)},
        )
    return True


def jobs_heartbeat(*, worker_id: str) -> int:
    """Tell the watchdog that this worker's running jobs are alive."""
    return Job.objects.filter(status=JobStatus.RUNNING, worker_id=worker_id).update(heartbeat_at=timezone.now())


def jobs_reap(*, now: dt.datetime | None = None, worker_id: str = "") -> list[Job]:
    """Running jobs whose worker stopped beating (killed, machine lost): retried, or failed and cleaned up.

    ``worker_id`` is the caller's own worker, whose jobs are alive by definition. Returns the jobs handled.
    """
    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=float(_options()["stale_after"]))
    stale = Job.objects.filter(status=JobStatus.RUNNING, heartbeat_at__lt=cutoff)
    if worker_id:
        stale = stale.exclude(worker_id=worker_id)
    handled = []
    for job in stale:
        if _interrupted(job, now=now, stale_before=cutoff):
            logger.warning("job %s (%s): its worker stopped beating mid-way", job.pk, job.kind)
            handled.append(job)
    return handled
