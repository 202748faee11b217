"""The evaluation of a standard due for review: the report, the office's decision, the stored PDFs.

Thin: parse, call ``fuwu.evaluation.review``, render. Readers: the standards office and auditors; only the
standards office decides.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from fuwu.areas.models import Area, AreaLevel
from fuwu.areas.selectors import area_names
from fuwu.evaluation import review
from fuwu.evaluation.models import Decision, StandardEvaluation
from fuwu.evaluation.report import charts
from fuwu.standards.models import IN_FORCE, StandardVersion


def _guard(request: HttpRequest) -> HttpResponse | None:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not review.can_read(request.user):
        raise PermissionDenied
    return None


def _version(key: str) -> StandardVersion:
    version = StandardVersion.objects.filter(standard__key=key, status__in=IN_FORCE).select_related("standard").first()
    if version is None:
        raise Http404("no standard in force with this key")
    return version


@never_cache
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    if (refused := _guard(request)) is not None:
        return refused
    today = timezone.localdate()
    recent = StandardEvaluation.objects.select_related("version__standard", "decided_by").order_by("-decided_at")[:20]
    return render(
        request,
        "evaluation/review/index.html",
        {"today": today, "due": review.versions_due(today=today), "recent": recent},
    )


def _counties(version: StandardVersion, report: dict[str, Any]) -> list[dict[str, str]]:
    """The counties, each a link into the dashboard (the drill-down), for the first computed indicator."""
    indicators = report["effect"]["indicators"]
    if not indicators:
        return []
    counties = list(Area.objects.filter(level=AreaLevel.COUNTY).order_by("code").values_list("code", flat=True))
    names = area_names(counties)
    query = f"?indicator={indicators[0]['key']}"
    return [
        {"name": names.get(code, code), "url": reverse("evaluation:area", args=[version.standard.key, code]) + query}
        for code in counties
    ]


def _report_page(
    request: HttpRequest,
    version: StandardVersion,
    *,
    error: str = "",
    form: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    report = review.evaluation_report(version)
    context = {
        "version": version,
        "report": report,
        "charts": charts(report),
        "counties": _counties(version, report),
        "can_decide": review.can_decide(request.user),
        "decisions": Decision.choices,
        "error": error,
        "form": form or {"decision": report["suggestion"]["decision"], "reasons": ""},
        "earlier": review.evaluations_of(version),
    }
    return render(request, "evaluation/review/report.html", context, status=status)


@never_cache
@require_GET
def report(request: HttpRequest, key: str) -> HttpResponse:
    if (refused := _guard(request)) is not None:
        return refused
    return _report_page(request, _version(key))


@require_POST
def decide(request: HttpRequest, key: str) -> HttpResponse:
    if not request.user.is_authenticated or not review.can_decide(request.user):
        raise PermissionDenied
    version = _version(key)
    form = {"decision": str(request.POST.get("decision", "")), "reasons": str(request.POST.get("reasons", ""))}
    try:
        evaluation = review.evaluation_decide(
            actor=request.user, version=version, decision=form["decision"], reasons=form["reasons"]
        )
    except review.ReviewError as exc:
        return _report_page(request, version, error=str(exc), form=form, status=400)
    messages.success(
        request,
        _("%(code)s：复审结论“%(decision)s”已记录，评估报告已存档。")
        % {"code": version.code, "decision": evaluation.get_decision_display()},
    )
    return redirect("registry:history", pk=version.pk)


@require_GET
def report_pdf(request: HttpRequest, pk: int) -> HttpResponseBase:
    if (refused := _guard(request)) is not None:
        return refused
    try:
        evaluation = StandardEvaluation.objects.select_related("version__standard").get(pk=pk)
    except StandardEvaluation.DoesNotExist as exc:
        raise Http404("no such evaluation") from exc
    try:
        handle = evaluation.report.open("rb")
    except FileNotFoundError as exc:
        raise Http404("the report's file is missing") from exc
    name = f"evaluation-{evaluation.version.standard.key}-v{evaluation.version.number}-{evaluation.pk}.pdf"
    return FileResponse(handle, content_type="application/pdf", as_attachment=False, filename=name)
