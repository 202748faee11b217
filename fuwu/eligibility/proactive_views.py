"""Staff pages for the proactive list: the overview by township, the filtered list, outreach outcomes,
the streamed export, and screening the resident registry."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fuwu.accounts.permissions import can_screen_registry
from fuwu.common.params import DayField, safe_next
from fuwu.common.spreadsheets import CSV_CONTENT_TYPE, XLSX_CONTENT_TYPE
from fuwu.eligibility import proactive
from fuwu.eligibility.models import OutreachStatus, RunStatus, ScreeningRun
from fuwu.eligibility.registry import REGISTRY, latest_registry_run
from fuwu.eligibility.tasks import KIND as REGISTRY_SCREEN
from fuwu.jobs.selectors import job_pending
from fuwu.jobs.services import job_start
from fuwu.standards.selectors import item_names


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


@never_cache
@require_GET
def overview(request: HttpRequest, run_id: int | None = None) -> HttpResponse:
    """The latest screening's list, or (``/proactive/<run_id>/``) a given run's: what to act on, by township."""
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
    items = proactive.items_info()
    return render(
        request,
        "proactive/overview.html",
        {
            "run": run,
            "overview": proactive.overview(run=run, user=request.user, items=items),
            "filters": proactive.Filters(),
            "statuses": OutreachStatus.choices,
            "all_items": proactive.ALL_ITEMS,
            "registry": run.population == REGISTRY,
            "can_screen": can_screen_registry(request.user),
        },
    )


class RegistryScreenForm(forms.Form):
    as_of = DayField(
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


def _list(request: HttpRequest, run: ScreeningRun, filters: proactive.Filters) -> HttpResponse:
    items = proactive.items_info()
    listed = proactive.outreach_list_view(
        run=run, actor=request.user, filters=filters, items=items, page=request.GET.get("page", 1)
    )
    context = {
        "run": run,
        "filters": filters,
        "listed": listed,
        "item": items.get(filters.item) if filters.item else None,
        "statuses": OutreachStatus.choices,
        "all_items": proactive.ALL_ITEMS,
        "can_record": proactive.can_record(request.user),
        "here": request.get_full_path(),
    }
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "proactive/_results.html", context)
    context["overview"] = proactive.overview(run=run, user=request.user, items=items)
    from fuwu.applications.views_proactive import prefill_link  # 免申即享: the township's button, if offered

    context["prefill_url"] = prefill_link(user=request.user, run=run, item_key=filters.item, township=filters.township)
    return render(request, "proactive/list.html", context)


@never_cache
@require_GET
def people_list(request: HttpRequest, run_id: int) -> HttpResponse:
    """The list, filtered by ``?item=&township=&status=`` (htmx swaps the results as the filters change)."""
    run = _run_for(request, run_id)
    return _list(request, run, proactive.Filters.parse(request.GET))


@never_cache
@require_GET
def people(request: HttpRequest, run_id: int, township: str, item: str) -> HttpResponse:
    """The list for one township and item: where the overview's counts lead."""
    run = _run_for(request, run_id)
    filters = proactive.Filters.parse({**request.GET.dict(), "township": township, "item": item})
    return _list(request, run, filters)


@require_POST
def record(request: HttpRequest, run_id: int) -> HttpResponse:
    """Record an outcome; htmx gets the row back, a plain form goes back to the list it came from."""
    run = _run_for(request, run_id)
    item = request.POST.get("item", "")
    try:
        person_id = int(request.POST.get("person_id", ""))
        proactive.outreach_record(
            run=run,
            person_id=person_id,
            item=item,
            status=request.POST.get("status", ""),
            note=request.POST.get("note", "")[:500],
            actor=request.user,
        )
    except ValueError:
        raise Http404("no such person on the list") from None
    except proactive.OutreachError as exc:
        messages.error(request, str(exc))
    else:
        if request.htmx:  # type: ignore[attr-defined]
            row = proactive.outreach_row(run=run, user=request.user, person_id=person_id, item=item)
            return render(
                request,
                "proactive/_row.html",
                {"run": run, "r": row, "statuses": OutreachStatus.choices, "can_record": True, "saved": True},
            )
        messages.success(request, _("联系情况已保存。"))
    back = safe_next(request, reverse("proactive:list", args=[run.pk]))
    if request.htmx:  # type: ignore[attr-defined]
        return HttpResponse(headers={"HX-Redirect": back})  # the whole page again, with the message
    return redirect(back)


@never_cache
@require_GET
def export(request: HttpRequest, run_id: int, fmt: str = "xlsx") -> StreamingHttpResponse:
    """The filtered list as .xlsx or .csv, streamed as it is written (it starts at once and holds one chunk)."""
    run = _run_for(request, run_id)
    csv = fmt == "csv"
    stream = proactive.outreach_export(
        run=run, actor=request.user, filters=proactive.Filters.parse(request.GET), items=proactive.items_info(), csv=csv
    )
    response = StreamingHttpResponse(stream, content_type=CSV_CONTENT_TYPE if csv else XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="proactive-run-{run.pk}.{fmt}"'
    return response
