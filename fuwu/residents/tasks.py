"""The registry's background jobs: importing an uploaded resident list (``/residents/import/``), and loading
the registry in bulk (``fuwu residents load --queue``)."""

from __future__ import annotations

import io
from pathlib import Path

from django.urls import reverse
from django.utils.translation import gettext_lazy, gettext_noop

from fuwu.jobs import kinds
from fuwu.jobs.kinds import JobError, Outcome, Progress
from fuwu.jobs.models import Job
from fuwu.residents.loading import LOAD_JOB, LoadError, LoadReport, persons_load
from fuwu.residents.permissions import can_import_persons
from fuwu.residents.services import IMPORT_JOB, persons_import, persons_import_upload


@kinds.register(IMPORT_JOB, label=gettext_lazy("导入居民名单"), template="residents/import_job_result.html")
def import_list(job: Job, progress: Progress) -> Outcome:
    """One transaction writes the whole list or nothing, so a killed attempt leaves nothing; a retry starts over."""
    report = persons_import(
        file=io.BytesIO(persons_import_upload(job)),
        filename=str(job.params["filename"]),
        actor=job.requested_by,
        valid_only=bool(job.params["valid_only"]),
        progress=progress,
    )
    r = report.record
    return Outcome(
        url=reverse("residents:import_report", kwargs={"pk": r.pk}),
        summary={
            "import": r.pk,
            "written": report.written,
            "rows": r.rows,
            "created": r.created,
            "updated": r.updated,
            "unchanged": r.unchanged,
            "rejected": r.rejected,
            "errors": len(report.errors),
        },
    )


@kinds.register(
    LOAD_JOB,
    label=gettext_lazy("批量载入居民档案"),
    template="residents/load_job_result.html",
    # A retry carries on from the load's checkpoint, so a worker that dies costs one batch, not the load.
    max_attempts=5,
    # Started from the command line it has no requester: the officers who import residents follow it.
    may_view=lambda user, job: can_import_persons(user),
)
def load_registry(job: Job, progress: Progress) -> Outcome:
    """A batch per transaction; no ``abandon``: the committed batches are whole and valid, and kept."""
    params = job.params
    limit = params.get("limit")
    try:
        report = persons_load(
            path=Path(str(params["path"])),
            actor=job.requested_by,
            valid_only=bool(params.get("valid_only")),
            limit=int(limit) if limit is not None else None,
            batch_size=int(params.get("batch_size") or 0) or 20_000,
            progress=progress,
            job=job,
            resume=bool(params.get("resume", True)) or job.attempts > 1,
            workers=int(params["workers"]) if params.get("workers") else None,
            pipeline=None if params.get("pipeline") is None else bool(params["pipeline"]),
        )
    except FileNotFoundError as exc:
        raise JobError(gettext_noop("找不到要载入的文件 %(path)s。"), path=params["path"]) from exc
    except LoadError as exc:
        if exc.record is None:  # the file itself: nothing was written
            first = exc.errors[0] if exc.errors else None
            raise JobError(gettext_noop("文件有问题，没有载入：%(problem)s"), problem=str(first or exc)) from exc
        report = LoadReport(exc.record)
    r = report.record
    return Outcome(
        url="",
        summary={
            "import": r.pk,
            "outcome": r.outcome,
            "written": r.outcome != r.Outcome.REJECTED,
            "rows": r.rows,
            "created": r.created,
            "updated": r.updated,
            "unchanged": r.unchanged,
            "rejected": r.rejected,
            "errors": r.errors[:20],
            "resumed_from": report.resumed_from,
        },
    )
