"""A job's page: its progress while it runs (htmx polls the panel), then its result. And the list of jobs."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from fuwu.jobs import kinds, selectors
from fuwu.jobs.models import Job

POLL_SECONDS = 2


def _job(request: HttpRequest, pk: int) -> Job:
    try:
        return selectors.job_for_user(user=request.user, pk=pk)
    except Job.DoesNotExist as exc:
        raise Http404("no such job") from exc


def _context(job: Job) -> dict[str, object]:
    spec = kinds.KINDS.get(job.kind)
    return {
        "job": job,
        "label": spec.label if spec else job.kind,
        "result_template": spec.template if spec else "jobs/result_default.html",
        "poll": POLL_SECONDS,
    }


@never_cache
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return render(request, "jobs/detail.html", _context(_job(request, pk)))


@never_cache
@require_GET
def panel(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress-or-result panel alone, for htmx to swap in; it stops polling once the job is finished."""
    if not request.user.is_authenticated:
        raise Http404("no such job")
    return render(request, "jobs/_panel.html", _context(_job(request, pk)))


@never_cache
@require_GET
def job_list(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    jobs = selectors.jobs_for_user(user=request.user)
    labels = {name: spec.label for name, spec in kinds.KINDS.items()}
    return render(request, "jobs/list.html", {"rows": [(job, labels.get(job.kind, job.kind)) for job in jobs]})
