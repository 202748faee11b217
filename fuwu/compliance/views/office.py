"""Office pages: the department's institutions and their import, the draw, results to publish, rectification
overdue, and the standards office's pilots. Officers act in their own area; the standards office and auditors
read the whole city (auditors change nothing)."""

from __future__ import annotations

import datetime as dt
import io
from typing import cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fuwu.accounts.models import Role
from fuwu.accounts.permissions import can_draw_inspections, can_manage_pilots
from fuwu.areas.models import Area
from fuwu.common.clerk_sheets import errors_workbook
from fuwu.common.params import safe_next
from fuwu.compliance import coverage, selectors
from fuwu.compliance.checklists import kind_name, kinds_in_force
from fuwu.compliance.forms import DrawForm, ImportForm, PilotForm, RedrawForm
from fuwu.compliance.models import (
    Draw,
    DrawStatus,
    Inspection,
    InspectionStatus,
    InstitutionImport,
    OrderStatus,
    Pilot,
)
from fuwu.compliance.services import ComplianceError, local_now
from fuwu.compliance.services.draws import draw_make, draw_publish, draw_redo, draw_verify, parse_ratios
from fuwu.compliance.services.inspections import inspection_publish
from fuwu.compliance.services.institutions import COLUMNS, institutions_import
from fuwu.compliance.services.pilots import pilot_decide, pilot_designate, pilot_findings
from fuwu.compliance.views import for_roles, staff
from fuwu.compliance.views.public import draw_rows, strata
from fuwu.standards.models import Standard

OFFICE = {Role.DEPARTMENT_OFFICER, Role.STANDARDS_OFFICE, Role.AUDITOR}
OFFICERS = {Role.DEPARTMENT_OFFICER}
PAGE = 50


@never_cache
@require_GET
@for_roles(OFFICE)
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    inspections = selectors.inspections_for_user(user).exclude(kind="self")
    orders = selectors.orders_for_user(user)
    counts = {s: inspections.filter(status=s).count() for s in InspectionStatus.values}
    context = {
        "here": "home",
        "draws": selectors.draws_for_user(user).exclude(status=DrawStatus.SUPERSEDED)[:10],
        "counts": [(InspectionStatus(s).label, n) for s, n in counts.items()],
        "to_publish": inspections.filter(status=InspectionStatus.SIGNED).order_by("signed_at")[:30],
        "overdue": orders.filter(escalation__gte=1, status=OrderStatus.OPEN).order_by("due_on")[:30],
        "institutions": selectors.institutions_for_user(user).count(),
        "can_draw": can_draw_inspections(user),
        "can_pilot": can_manage_pilots(user),
        "kinds": kinds_in_force(),
    }
    return render(request, "compliance/office/home.html", context)


@never_cache
@require_GET
@for_roles(OFFICE)
def institutions(request: HttpRequest) -> HttpResponse:
    kinds = kinds_in_force()
    page = Paginator(selectors.institutions_for_user(request.user).order_by("area__code", "name"), PAGE).get_page(
        request.GET.get("page")
    )
    rows = [(i, kind_name(i.kind, kinds)) for i in page.object_list]
    return render(
        request,
        "compliance/office/institutions.html",
        {
            "here": "institutions",
            "page": page,
            "rows": rows,
            "can_import": staff(request).role == Role.DEPARTMENT_OFFICER,
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
@for_roles(OFFICERS)
def institutions_import_page(request: HttpRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        report = institutions_import(
            actor=request.user,
            data=upload.read(),
            filename=upload.name or "upload",
            valid_only=form.cleaned_data["valid_only"],
        )
    context = {
        "here": "institutions",
        "form": form,
        "report": report,
        "problems": report.problems[:500] if report else [],
        "columns": COLUMNS,
        "kinds": kinds_in_force().values(),
    }
    return render(request, "compliance/office/import.html", context)


@never_cache
@require_GET
@for_roles(OFFICERS)
def import_errors(request: HttpRequest, pk: int) -> HttpResponseBase:
    try:
        record = InstitutionImport.objects.get(pk=pk, actor=staff(request))
    except InstitutionImport.DoesNotExist as exc:
        raise Http404("no such import") from exc
    return FileResponse(
        io.BytesIO(errors_workbook(record.errors, title=_("错误报告"))),
        as_attachment=True,
        filename=f"institutions-import-{record.pk}-errors.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def _next_month(today: dt.date) -> tuple[dt.date, dt.date]:
    start = today.replace(day=1)
    end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    return start, end


@never_cache
@require_http_methods(["GET", "POST"])
@for_roles(OFFICERS)
def draw_new(request: HttpRequest) -> HttpResponse:
    if not can_draw_inspections(request.user):
        messages.error(request, _("您的账号没有设置部门和辖区，不能抽取。"))
        return HttpResponseRedirect(reverse("compliance:office"))
    kinds = kinds_in_force()
    start, end = _next_month(local_now().date())
    form = DrawForm(request.POST or None, kinds=kinds, initial={"period_start": start, "period_end": end})
    if request.method == "POST" and form.is_valid():
        try:
            made = draw_make(
                actor=request.user,
                area=cast(Area, staff(request).area),
                period_start=form.cleaned_data["period_start"],
                period_end=form.cleaned_data["period_end"],
                ratios=parse_ratios(form.ratios(), kinds),
                seed=form.cleaned_data["seed"],
            )
        except ComplianceError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("已抽取 %(n)s 个机构，请核对后公开。") % {"n": made.picks.count()})
            return HttpResponseRedirect(reverse("compliance:office_draw", args=[made.pk]))
    return render(request, "compliance/office/draw_new.html", {"here": "draws", "form": form})


def _own_draw(request: HttpRequest, pk: int) -> Draw:
    try:
        return selectors.draws_for_user(request.user).get(pk=pk)
    except Draw.DoesNotExist as exc:
        raise Http404("no such draw") from exc


@never_cache
@require_GET
@for_roles(OFFICE)
def draw_detail(request: HttpRequest, pk: int) -> HttpResponse:
    found = _own_draw(request, pk)
    context = {
        "here": "draws",
        "draw": found,
        "strata": strata(found),
        "rows": draw_rows(found, public=False),
        "verified": draw_verify(found) if request.GET.get("verify") else None,
        "redraw_form": RedrawForm(),
        "may_act": can_draw_inspections(request.user) and found.department_id == staff(request).department_id,
        "successor": Draw.objects.filter(supersedes=found).first(),
    }
    return render(request, "compliance/office/draw.html", context)


@require_POST
@for_roles(OFFICERS)
def draw_publish_view(request: HttpRequest, pk: int) -> HttpResponse:
    found = _own_draw(request, pk)
    try:
        draw_publish(actor=request.user, draw=found)
    except ComplianceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("抽取结果已公开。"))
    return HttpResponseRedirect(reverse("compliance:office_draw", args=[pk]))


@require_POST
@for_roles(OFFICERS)
def draw_redo_view(request: HttpRequest, pk: int) -> HttpResponse:
    found = _own_draw(request, pk)
    form = RedrawForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("重新抽取必须说明原因，原因会和两次抽取一起公开。"))
        return HttpResponseRedirect(reverse("compliance:office_draw", args=[pk]))
    try:
        made = draw_redo(
            actor=request.user, draw=found, reason=form.cleaned_data["reason"], seed=form.cleaned_data["seed"]
        )
    except ComplianceError as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(reverse("compliance:office_draw", args=[pk]))
    messages.success(request, _("已重新抽取；原抽取已作废并保留，原因将一起公开。"))
    return HttpResponseRedirect(reverse("compliance:office_draw", args=[made.pk]))


@require_POST
@for_roles(OFFICERS)
def inspection_publish_view(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        found = selectors.inspections_for_user(request.user).get(pk=pk)
    except Inspection.DoesNotExist as exc:
        raise Http404("no such inspection") from exc
    try:
        inspection_publish(actor=request.user, inspection=found)
    except ComplianceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("%(name)s 的检查结果已公开。") % {"name": found.institution.name})
    return HttpResponseRedirect(safe_next(request, reverse("compliance:office")))


@never_cache
@require_GET
@for_roles(OFFICE)
def rectifications(request: HttpRequest) -> HttpResponse:
    orders = selectors.orders_for_user(request.user).filter(
        status__in=[OrderStatus.OPEN, OrderStatus.ANSWERED, OrderStatus.TO_REINSPECT]
    )
    page = Paginator(orders.order_by("-escalation", "due_on", "pk"), PAGE).get_page(request.GET.get("page"))
    return render(request, "compliance/office/rectifications.html", {"here": "rectifications", "page": page})


@never_cache
@require_http_methods(["GET", "POST"])
@for_roles(OFFICE)
def pilots(request: HttpRequest) -> HttpResponse:
    versions = coverage.standards_with_kinds()
    form = PilotForm(request.POST or None, standards=[(v.standard.key, f"{v.code} {v.title}") for v in versions])
    if request.method == "POST":
        if not can_manage_pilots(request.user):
            raise PermissionDenied
        if form.is_valid():
            try:
                area = Area.objects.get(code=form.cleaned_data["area"])
                pilot_designate(
                    actor=request.user,
                    standard=Standard.objects.get(key=form.cleaned_data["standard"]),
                    area=area,
                    start_on=form.cleaned_data["start_on"],
                    accept_by=form.cleaned_data["accept_by"],
                )
            except Area.DoesNotExist:
                form.add_error("area", _("没有这个地区代码。"))
            except ComplianceError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("已设立试点。"))
                return HttpResponseRedirect(reverse("compliance:pilots"))
    titles = {v.standard_id: v.title for v in versions}
    rows = [
        (p, titles.get(p.standard_id, p.standard.key))
        for p in Pilot.objects.select_related("standard", "area").order_by("accept_by", "pk")
    ]
    context = {"here": "pilots", "form": form, "rows": rows, "can_pilot": can_manage_pilots(request.user)}
    return render(request, "compliance/office/pilots.html", context)


@never_cache
@require_GET
@for_roles(OFFICE)
def pilot_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        pilot = Pilot.objects.select_related("standard", "area").get(pk=pk)
    except Pilot.DoesNotExist as exc:
        raise Http404("no such pilot") from exc
    findings = pilot_findings(pilot, today=local_now().date())
    context = {"here": "pilots", "pilot": pilot, "findings": findings, "can_pilot": can_manage_pilots(request.user)}
    return render(request, "compliance/office/pilot.html", context)


@require_POST
@for_roles({Role.STANDARDS_OFFICE})
def pilot_decide_view(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        pilot = Pilot.objects.get(pk=pk)
    except Pilot.DoesNotExist as exc:
        raise Http404("no such pilot") from exc
    try:
        decided = pilot_decide(actor=request.user, pilot=pilot)
    except ComplianceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("验收结论：%(status)s") % {"status": decided.get_status_display()})
    return HttpResponseRedirect(reverse("compliance:pilot", args=[pk]))
