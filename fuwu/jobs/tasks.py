"""The one task on django-tasks' queue: an attempt at a job. Kinds of job are registered in each app's tasks.py."""

from __future__ import annotations

from django_tasks import TaskContext, task


@task(takes_context=True)
def job_run(context: TaskContext, job_id: int) -> None:
    from fuwu.jobs.services import job_execute

    worker_ids = context.task_result.worker_ids
    job_execute(job_id=job_id, task_id=str(context.task_result.id), worker_id=worker_ids[-1] if worker_ids else "")
