"""The registry's background job: importing an uploaded resident list (``/residents/import/``)."""

from __future__ import annotations

import io

from django.urls import reverse
from django.utils.translation import gettext_lazy

from fuwu.jobs import kinds
from fuwu.jobs.kinds import Outcome, Progress
from fuwu.jobs.models import Job
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
