"""Reads of jobs, scoped to who may see them."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from fuwu.jobs import kinds
from fuwu.jobs.models import Job, JobStatus


def may_view(user: Any, job: Job) -> bool:
    """The person who asked; for a job nobody asked for (the schedule), whom its kind allows."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if job.requested_by_id is not None and job.requested_by_id == user.pk:
        return True
    spec = kinds.KINDS.get(job.kind)
    return spec is not None and spec.may_view is not None and bool(spec.may_view(user, job))


def job_for_user(*, user: Any, pk: int) -> Job:
    """The job if ``user`` may see it; ``Job.DoesNotExist`` otherwise (so a URL does not tell what exists)."""
    job = Job.objects.select_related("requested_by").get(pk=pk)
    if not may_view(user, job):
        raise Job.DoesNotExist
    return job


def jobs_for_user(*, user: Any, limit: int = 50) -> list[Job]:
    """The user's own recent jobs and the scheduled jobs their role may read, newest first."""
    if not getattr(user, "is_authenticated", False):
        return []
    visible_kinds = [name for name, spec in kinds.KINDS.items() if spec.may_view is not None]
    candidates: QuerySet[Job] = Job.objects.filter(
        Q(requested_by=user) | Q(requested_by__isnull=True, kind__in=visible_kinds)
    ).select_related("requested_by")
    return [job for job in candidates[: limit * 2] if may_view(user, job)][:limit]


def job_pending(*, user: Any, kind: str) -> Job | None:
    """The user's newest job of ``kind`` that has not finished (so a page can send them to it, not start another)."""
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        Job.objects.filter(kind=kind, requested_by=user, status__in=[JobStatus.QUEUED, JobStatus.RUNNING])
        .order_by("-created_at")
        .first()
    )
