"""Staff pages for the proactive list: counts by township, the people, outreach outcomes, Excel export,
and screening the resident registry."""

from __future__ import annotations

from io import BytesIO

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from fuwu.accounts.permissions import can_screen_registry
from fuwu.areas.models import Area
from fuwu.eligibility import proactive
from fuwu.eligibility.models import OutreachRecord, OutreachStatus, RunStatus, ScreeningRun
from fuwu.eligibility.registry import REGISTRY, latest_registry_run
from fuwu.eligibility.reports import fill
from fuwu.eligibility.tasks import KIND as REGISTRY_SCREEN
from fuwu.jobs.selectors import job_pending
from fuwu.jobs.services import job_start
from fuwu.standards.selectors import item_names, items_in_force

PAGE = 200


def _run_for(request: HttpRequest, run_id: int | None = None) -> ScreeningRun:
    if not request.user.is_authenticated or proactive.area_prefix_for(request.user) is None:
        raise PermissionDenied
    # Only a completed run: a running one is still loading its results, a failed one has none.
    run = (
        ScreeningRun.objects.filter(pk=run_id, status=RunStatus.COMPLETED).first() if run_id else proactive.latest_run()
    )
    if run is None:
        raise Http404("no completed screening yet")
    return run


def _names() -> dict[str, str]:
    return {i.key: i.name for i in items_in_force()}


def overview(request: HttpRequest, run_id: int | None = None) -> HttpResponse:
    """The latest screening's list, or (``/proactive/<run_id>/``) a given run's."""
    if not request.user.is_authenticated:
        return redirect(f"/accounts/login/?next={request.path}")
    if (
        run_id is None
        and can_screen_registry(request.user)
        and proactive.area_prefix_for(request.user) is not None
        and proactive.latest_run() is None
    ):
        # Nothing screened yet: an officer can start by screening the registry.
        return redirect("proactive:screen")
    run = _run_for(request, run_id)
    counts = proactive.counts_by_township(run=run, user=request.user)
    areas = dict(Area.objects.filter(code__in={c.township for c in counts}).values_list("code", "name_zh"))
    return render(
        request,
        "proactive/overview.html",
        {
            "run": run,
            "counts": counts,
            "areas": areas,
            "names": _names(),
            "total": sum(c.people for c in counts),
            "registry": run.population == REGISTRY,
            "can_screen": can_screen_registry(request.user),
        },
    )


class RegistryScreenForm(forms.Form):
    as_of = forms.DateField(
        label=gettext_lazy("筛查日期"),
        help_text=gettext_lazy("按这一天的年龄和正在执行的标准判断是否符合条件。"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


@never_cache
@require_http_methods(["GET", "POST"])
def screen(request: HttpRequest) -> HttpResponse:
    """Start a screening of the registered residents as a background job, and follow it on the job's page."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not can_screen_registry(request.user):
        raise PermissionDenied
    pending = job_pending(user=request.user, kind=REGISTRY_SCREEN)
    if request.method == "POST":
        form = RegistryScreenForm(request.POST)
        if pending is not None:
            # A second click while one runs would screen twice; show the one that runs.
            messages.info(request, _("您提交的筛查还在进行，请等它完成。"))
            return redirect(pending)
        if form.is_valid():
            job = job_start(
                kind=REGISTRY_SCREEN, actor=request.user, params={"as_of": form.cleaned_data["as_of"].isoformat()}
            )
            return redirect(job)
    else:
        form = RegistryScreenForm(initial={"as_of": timezone.localdate()})
    run = latest_registry_run()
    rows = []
    if run is not None:
        language = "en" if translation.get_language() == "en" else "zh"
        names = item_names(keys=list(run.counts))
        rows = [
            (key, names.get(key, {}).get(language) or key, c["eligible"], c["unknown"]) for key, c in run.counts.items()
        ]
    return render(
        request, "eligibility/registry_screen.html", {"form": form, "run": run, "rows": rows, "pending": pending}
    )


def people(request: HttpRequest, run_id: int, township: str, item: str) -> HttpResponse:
    run = _run_for(request, run_id)
    results = list(proactive.newly_entitled(run=run, user=request.user, item=item, township=township)[:PAGE])
    records = {
        r.person_id: r
        for r in OutreachRecord.objects.filter(run=run, item=item, person_id__in=[x.person_id for x in results])
    }
    villages = dict(Area.objects.filter(code__in={r.hukou_area for r in results}).values_list("code", "name_zh"))
    township_name = Area.objects.filter(code=township).values_list("name_zh", flat=True).first() or township
    return render(
        request,
        "proactive/people.html",
        {
            "run": run,
            "township": township,
            "township_name": township_name,
            "item": item,
            "item_name": _names().get(item, item),
            "rows": [(r, records.get(r.person_id), villages.get(r.hukou_area, r.hukou_area)) for r in results],
            "statuses": OutreachStatus.choices,
            "page": PAGE,
        },
    )


@require_POST
def record(request: HttpRequest, run_id: int, township: str, item: str) -> HttpResponse:
    run = _run_for(request, run_id)
    try:
        proactive.outreach_record(
            run=run,
            person_id=int(request.POST.get("person_id", "0")),
            item=item,
            status=request.POST.get("status", ""),
            note=request.POST.get("note", "")[:500],
            actor=request.user,
        )
    except (proactive.OutreachError, ValueError) as exc:
        messages.error(request, str(exc))
    return redirect("proactive:people", run_id=run.pk, township=township, item=item)


def export(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _run_for(request, run_id)
    names = _names()
    results = proactive.newly_entitled(run=run, user=request.user)
    records = {(r.person_id, r.item): r for r in OutreachRecord.objects.filter(run=run)}
    areas = dict(
        Area.objects.filter(code__in=set(results.values_list("hukou_area", flat=True))).values_list("code", "name_zh")
    )
    workbook = Workbook()
    sheet = workbook.active
    assert isinstance(sheet, Worksheet)  # noqa: S101 - a new workbook always has one sheet
    header = ["人员编号", "村（社区）", "村（社区）代码", "服务项目", "项目代码", "标准金额（元）", "联系情况", "备注"]
    rows = []
    for r in results.iterator(chunk_size=2000):
        rec = records.get((r.person_id, r.item))
        rows.append(
            [
                r.person_id,
                areas.get(r.hukou_area, ""),
                r.hukou_area,
                names.get(r.item, r.item),
                r.item,
                r.amount,
                str(rec.get_status_display() if rec else OutreachStatus.PENDING.label),
                rec.note if rec else "",
            ]
        )
    fill(sheet, "主动服务名单", header, rows)
    buffer = BytesIO()
    workbook.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="proactive-run-{run.pk}.xlsx"'
    return response
