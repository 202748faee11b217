"""Field pages, made for a phone on a poor connection: the inspector's assignments, the checklist (also the
institution's self-assessment), photos taken in the page, signing, the record as PDF, and rectification orders.

Each answer is its own small form. With the page's script it is saved as it is given, in the background, and
kept on the phone to be sent again if the connection drops (``static/compliance/field.js``); without the
script each has its own button. Photos carry the position the browser reports, sent as fields.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from fuwu.accounts.models import Role
from fuwu.common.uploads import UploadRefused, location_from_fields
from fuwu.compliance import permissions, selectors
from fuwu.compliance.checklists import kind_name
from fuwu.compliance.forms import AnswerForm, DecisionForm, EvidenceForm, OrderAnswerForm, SignForm
from fuwu.compliance.models import (
    FAILED,
    ChecklistItem,
    Evidence,
    Inspection,
    InspectionKind,
    InspectionStatus,
    OrderStatus,
    RectificationOrder,
)
from fuwu.compliance.pdf import record_pdf
from fuwu.compliance.services import ComplianceError
from fuwu.compliance.services.inspections import (
    answer_give,
    evidence_add,
    evidence_limit,
    inspection_sign,
    inspection_start,
    reinspection_open,
)
from fuwu.compliance.services.rectification import (
    order_accept,
    order_answer,
    order_evidence_add,
    order_reinspect,
    order_return,
)
from fuwu.compliance.views import for_roles, wants_json
from fuwu.compliance.views.public import result_context

FIELD = {Role.INSPECTOR}
STAFF = {
    Role.INSPECTOR,
    Role.INSTITUTION_ADMIN,
    Role.PROVIDER_ADMIN,
    Role.DEPARTMENT_OFFICER,
    Role.STANDARDS_OFFICE,
    Role.AUDITOR,
}


@never_cache
@require_GET
@for_roles(FIELD)
def home(request: HttpRequest) -> HttpResponse:
    mine = selectors.inspections_for_user(request.user)
    context = {
        "todo": mine.filter(status__in=[InspectionStatus.PLANNED, InspectionStatus.IN_PROGRESS]).order_by(
            "planned_on", "pk"
        ),
        "done": mine.filter(status__in=[InspectionStatus.SIGNED, InspectionStatus.PUBLISHED]).order_by("-signed_at")[
            :20
        ],
        "orders": selectors.orders_for_user(request.user)
        .filter(status__in=[OrderStatus.ANSWERED, OrderStatus.TO_REINSPECT, OrderStatus.OPEN])
        .order_by("status", "due_on"),
    }
    return render(request, "compliance/field/home.html", context)


def _inspection(request: HttpRequest, pk: int) -> Inspection:
    """An inspection the user may see in full; anything else is a 404."""
    try:
        found = Inspection.objects.select_related(
            "institution", "institution__area", "standard", "version", "follows", "signed_by"
        ).get(pk=pk)
    except Inspection.DoesNotExist as exc:
        raise Http404("no such inspection") from exc
    if not permissions.may_view(request.user, found):
        raise Http404("no such inspection")
    return found


def _items(inspection: Inspection) -> list[ChecklistItem]:
    return list(inspection.items.select_related("answer").prefetch_related("files").order_by("position"))


def _progress(items: list[ChecklistItem]) -> dict[str, int]:
    answered = sum(1 for i in items if hasattr(i, "answer"))
    return {"answered": answered, "total": len(items)}


@never_cache
@require_GET
@for_roles(STAFF)
def inspection(request: HttpRequest, pk: int) -> HttpResponse:
    found = _inspection(request, pk)
    items = _items(found)
    fill = found.status == InspectionStatus.IN_PROGRESS and permissions.may_fill(request.user, found)
    orders = {o.item_id: o for o in found.orders.all()}
    context = {
        **(result_context(found) if found.status in (InspectionStatus.SIGNED, InspectionStatus.PUBLISHED) else {}),
        "inspection": found,
        "kind_name": kind_name(found.institution.kind),
        "items": [(i, orders.get(i.pk)) for i in items],
        "fill": fill,
        "progress": _progress(items),
        "can_start": found.status == InspectionStatus.PLANNED and permissions.is_assigned(request.user, found),
        "can_reinspect": found.kind != InspectionKind.SELF
        and found.status in (InspectionStatus.SIGNED, InspectionStatus.PUBLISHED)
        and (
            permissions.is_assigned(request.user, found) or permissions.is_officer_for(request.user, found.institution)
        )
        and found.orders.filter(status__in=[OrderStatus.OPEN, OrderStatus.ANSWERED, OrderStatus.TO_REINSPECT]).exists(),
        "can_publish": found.status == InspectionStatus.SIGNED
        and found.kind != InspectionKind.SELF
        and permissions.is_officer_for(request.user, found.institution),
        "sign_form": SignForm(),
        "evidence_limit": evidence_limit(),
        "results": AnswerForm.base_fields["result"].choices,  # type: ignore[attr-defined]
        "failed_results": FAILED,
    }
    return render(request, "compliance/field/inspection.html", context)


@require_POST
@for_roles(FIELD)
def start(request: HttpRequest, pk: int) -> HttpResponse:
    found = _inspection(request, pk)
    try:
        inspection_start(actor=request.user, inspection=found)
    except ComplianceError as exc:
        messages.error(request, str(exc))
    return HttpResponseRedirect(reverse("compliance:inspection", args=[pk]))


def _item(found: Inspection, item_pk: int) -> ChecklistItem:
    try:
        return found.items.get(pk=item_pk)
    except ChecklistItem.DoesNotExist as exc:
        raise Http404("no such item") from exc


def _back(pk: int, item: ChecklistItem) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("compliance:inspection", args=[pk]) + f"#item-{item.pk}")


@require_POST
@for_roles(STAFF)
def answer(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    found = _inspection(request, pk)
    item = _item(found, item_pk)
    form = AnswerForm(request.POST)
    if not form.is_valid():
        message = _("请选择判定结果，数值请填写数字。")
        if wants_json(request):
            return JsonResponse({"ok": False, "code": "bad_form", "message": message}, status=400)
        messages.error(request, message)
        return _back(pk, item)
    try:
        saved, applied = answer_give(
            actor=request.user,
            item=item,
            result=form.cleaned_data["result"],
            note=form.cleaned_data["note"],
            number=form.cleaned_data["number"],
            client_time=form.cleaned_data["client_time"],
        )
    except ComplianceError as exc:
        if wants_json(request):
            return JsonResponse({"ok": False, "code": exc.code, "message": str(exc)}, status=400)
        messages.error(request, str(exc))
        return _back(pk, item)
    done = _progress(_items(found))
    text = _("已保存（%(time)s）") % {"time": f"{timezone.localtime(saved.answered_at):%H:%M:%S}"}
    if wants_json(request):
        return JsonResponse({"ok": True, "applied": applied, "message": text, **done})
    messages.success(request, _("第 %(clause)s 条：%(text)s") % {"clause": item.clause_number, "text": text})
    return _back(pk, item)


@require_POST
@for_roles(STAFF)
def evidence(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    found = _inspection(request, pk)
    item = _item(found, item_pk)
    form = EvidenceForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("请先拍照或选择文件。"))
        return _back(pk, item)
    try:
        at = location_from_fields(
            form.cleaned_data["latitude"], form.cleaned_data["longitude"], form.cleaned_data["accuracy"]
        )
        evidence_add(actor=request.user, item=item, upload=form.cleaned_data["file"], at=at)
    except UploadRefused as exc:
        messages.error(request, str(exc))
    except ComplianceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("第 %(clause)s 条的照片已上传%(where)s。")
            % {"clause": item.clause_number, "where": _("（含拍摄位置）") if at else _("（未取得位置）")},
        )
    return _back(pk, item)


@require_POST
@for_roles(STAFF)
def sign(request: HttpRequest, pk: int) -> HttpResponse:
    found = _inspection(request, pk)
    form = SignForm(request.POST)
    summary = form.cleaned_data["summary"] if form.is_valid() else ""
    try:
        signed = inspection_sign(actor=request.user, inspection=found, summary=summary)
    except ComplianceError as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(reverse("compliance:inspection", args=[pk]) + "#sign")
    messages.success(request, _("检查记录已签署：%(score)s 分。") % {"score": signed.score})
    return HttpResponseRedirect(reverse("compliance:inspection", args=[pk]))


@require_POST
@for_roles({Role.INSPECTOR, Role.DEPARTMENT_OFFICER})
def reinspect(request: HttpRequest, pk: int) -> HttpResponse:
    found = _inspection(request, pk)
    try:
        again = reinspection_open(actor=request.user, original=found)
    except ComplianceError as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(reverse("compliance:inspection", args=[pk]))
    messages.success(request, _("复查已开始：原检查符合的条款和已书面验收的整改沿用结果，其余请现场核实。"))
    return HttpResponseRedirect(reverse("compliance:inspection", args=[again.pk]))


@never_cache
@require_GET
def record(request: HttpRequest, pk: int) -> HttpResponse:
    """The inspection record as PDF: published ones for anyone, others for those who may see them."""
    try:
        found = selectors.result_public(pk)
    except Inspection.DoesNotExist:
        if not request.user.is_authenticated:
            raise Http404("no such published result") from None
        found = _inspection(request, pk)
    if found.status not in (InspectionStatus.SIGNED, InspectionStatus.PUBLISHED):
        raise Http404("the record exists once the inspection is signed")
    response = HttpResponse(record_pdf(found), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="inspection-{found.pk}.pdf"'
    return response


@never_cache
@require_GET
@for_roles(STAFF)
def evidence_file(request: HttpRequest, pk: int) -> HttpResponseBase:
    try:
        found = Evidence.objects.select_related("item__inspection", "order").get(pk=pk)
    except Evidence.DoesNotExist as exc:
        raise Http404("no such file") from exc
    allowed = (
        permissions.may_view(request.user, found.item.inspection)
        if found.item is not None
        else found.order is not None and permissions.may_view_order(request.user, found.order)
    )
    if not allowed:
        raise Http404("no such file")
    try:
        handle = found.file.open("rb")
    except OSError as exc:
        raise Http404("file missing") from exc
    content_type = {"jpeg": "image/jpeg", "png": "image/png", "pdf": "application/pdf"}[found.kind]
    return FileResponse(handle, content_type=content_type)


# --- rectification ----------------------------------------------------------------------------------------------


def _order(request: HttpRequest, pk: int) -> RectificationOrder:
    try:
        found = selectors.orders_for_user(request.user).select_related("inspection__version").get(pk=pk)
    except RectificationOrder.DoesNotExist as exc:
        raise Http404("no such order") from exc
    return found


@never_cache
@require_GET
@for_roles(STAFF)
def order(request: HttpRequest, pk: int) -> HttpResponse:
    found = _order(request, pk)
    is_admin = permissions.is_institution_admin(request.user, found.institution)
    context: dict[str, Any] = {
        "order": found,
        "files": list(found.files.all()),
        "can_answer": is_admin and found.status == OrderStatus.OPEN,
        "can_decide": found.status == OrderStatus.ANSWERED and permissions.may_decide(request.user, found),
        "answer_form": OrderAnswerForm(initial={"response": found.response}),
        "decision_form": DecisionForm(),
        "evidence_limit": evidence_limit(),
        "reinspection": found.inspection.reinspections.filter(status=InspectionStatus.IN_PROGRESS).first(),
    }
    return render(request, "compliance/field/order.html", context)


@require_POST
@for_roles({Role.INSTITUTION_ADMIN, Role.PROVIDER_ADMIN})
def order_evidence(request: HttpRequest, pk: int) -> HttpResponse:
    found = _order(request, pk)
    form = EvidenceForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("请先拍照或选择文件。"))
    else:
        try:
            at = location_from_fields(
                form.cleaned_data["latitude"], form.cleaned_data["longitude"], form.cleaned_data["accuracy"]
            )
            order_evidence_add(actor=request.user, order=found, upload=form.cleaned_data["file"], at=at)
        except (UploadRefused, ComplianceError) as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("整改材料已上传。"))
    return HttpResponseRedirect(reverse("compliance:order", args=[pk]))


@require_POST
@for_roles({Role.INSTITUTION_ADMIN, Role.PROVIDER_ADMIN})
def order_answer_view(request: HttpRequest, pk: int) -> HttpResponse:
    found = _order(request, pk)
    form = OrderAnswerForm(request.POST)
    try:
        order_answer(actor=request.user, order=found, response=form.data.get("response", ""))
    except ComplianceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("整改情况已提交，等待检查人员验收。"))
    return HttpResponseRedirect(reverse("compliance:order", args=[pk]))


@require_POST
@for_roles({Role.INSPECTOR, Role.DEPARTMENT_OFFICER})
def order_decide(request: HttpRequest, pk: int) -> HttpResponse:
    found = _order(request, pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择验收意见。"))
        return HttpResponseRedirect(reverse("compliance:order", args=[pk]))
    decide = {"accept": order_accept, "reinspect": order_reinspect, "return": order_return}[
        form.cleaned_data["decision"]
    ]
    try:
        decide(actor=request.user, order=found, note=form.cleaned_data["note"])
    except ComplianceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已记录验收意见。"))
    return HttpResponseRedirect(reverse("compliance:order", args=[pk]))
