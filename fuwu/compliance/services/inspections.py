"""Inspections: a checklist copied from the standard when it starts, answered clause by clause, signed, published.

The answers of a checklist arrive one at a time from a phone in the field, perhaps twice (a retry after the
connection dropped) and out of order (a queue replayed later). Each carries the device's time; an answer older
than the one stored is ignored, so the last thing the inspector chose is what stays.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from PIL import Image, ImageDraw, ImageFont

from fuwu.common.audit import audit
from fuwu.common.uploads import ALL_KINDS, IMAGES, Location, UploadRefused, store_upload
from fuwu.compliance import checklists, permissions
from fuwu.compliance.checklists import Entry
from fuwu.compliance.models import (
    FAILED,
    OPEN_ORDERS,
    Answer,
    ChecklistItem,
    Evidence,
    Inspection,
    InspectionKind,
    InspectionStatus,
    Institution,
    OrderStatus,
    RectificationOrder,
    Result,
    Standing,
)
from fuwu.compliance.scoring import Line, outcome
from fuwu.compliance.services import ComplianceError, local_now
from fuwu.compliance.services.rectification import open_orders
from fuwu.standards.models import Standard

ITEM_FIELDS = [f.name for f in ChecklistItem._meta.concrete_fields if f.name not in ("id", "inspection")]


def _state(inspection: Inspection) -> dict[str, Any]:
    return {"status": inspection.status, "score": str(inspection.score) if inspection.score is not None else None}


def locked(inspection: Inspection) -> Inspection:
    return (
        Inspection.objects.select_for_update(of=("self",))
        .select_related("institution", "institution__area", "version", "standard")
        .get(pk=inspection.pk)
    )


def require(inspection: Inspection, *allowed: str, action: str) -> None:
    if inspection.status not in allowed:
        shown = _("、").join(str(InspectionStatus(s).label) for s in allowed)
        raise ComplianceError(
            _("检查当前为“%(status)s”，不能%(action)s；只有“%(allowed)s”的检查可以%(action)s。")
            % {"status": inspection.get_status_display(), "action": action, "allowed": shown},
            code="wrong_state",
        )


def _items_from(inspection: Inspection, entries: Iterable[Entry]) -> list[ChecklistItem]:
    return ChecklistItem.objects.bulk_create(
        ChecklistItem(
            inspection=inspection,
            position=e.position,
            clause_number=e.clause_number,
            clause_kind=e.clause_kind,
            subject=e.subject,
            title_zh=e.title_zh,
            title_en=e.title_en,
            text_zh=e.text_zh,
            text_en=e.text_en,
            method=e.method,
            evidence=list(e.evidence),
            measure_zh=e.measure_zh,
            measure_en=e.measure_en,
            unit_zh=e.unit_zh,
            unit_en=e.unit_en,
            at_least=e.at_least,
            at_most=e.at_most,
            weight=e.weight,
            critical=e.critical,
            guidance_zh=e.guidance_zh,
            guidance_en=e.guidance_en,
            rectification_days=e.rectification_days,
            modeled=e.modeled,
        )
        for e in entries
    )


def _begin(inspection: Inspection, *, today: dt.date) -> None:
    """Fix the version in force on ``today`` and copy its checklist for the institution's kind."""
    version = checklists.version_on(standard=inspection.standard_id, day=today)
    if version is None:
        raise ComplianceError(
            _("%(day)s 没有现行有效的标准版本可以检查；请核对检查日期或先发布标准。") % {"day": today.isoformat()},
            code="no_standard_in_force",
        )
    entries = checklists.checklist(version, inspection.institution.kind)
    if not entries:
        raise ComplianceError(
            _("%(standard)s 对这类机构没有需要检查的条款。") % {"standard": version.code}, code="nothing_to_check"
        )
    inspection.version, inspection.inspected_on = version, today
    inspection.status = InspectionStatus.IN_PROGRESS
    inspection.save(update_fields=["version", "inspected_on", "status"])
    _items_from(inspection, entries)


@transaction.atomic
def inspection_start(*, actor: Any, inspection: Inspection, today: dt.date | None = None) -> Inspection:
    """planned → in_progress, with the checklist of the standard in force on the inspection date."""
    inspection = locked(inspection)
    if not permissions.is_assigned(actor, inspection):
        raise PermissionDenied("only the inspectors drawn for this inspection may start it")
    require(inspection, InspectionStatus.PLANNED, action=pgettext("compliance action", "开始检查"))
    before = _state(inspection)
    _begin(inspection, today=today or local_now().date())
    audit(
        actor=actor,
        event="compliance.inspection_started",
        obj=inspection,
        before=before,
        after={**_state(inspection), "version": inspection.version_id, "items": inspection.items.count()},
    )
    return inspection


@transaction.atomic
def inspection_assign(
    *, actor: Any, institution: Institution, standard: Standard, inspectors: list[Any], planned_on: dt.date
) -> Inspection:
    """An inspection outside the draw, by two named inspectors of the officer's department (e.g. a pilot's
    acceptance, or a complaint followed up); the draw's conflict and employer rules still apply."""
    from fuwu.compliance.models import Conflict, Inspector

    if not permissions.is_officer_for(actor, institution):
        raise PermissionDenied("only an officer of the institution's area assigns inspections")
    pool = {
        i.user_id: i
        for i in Inspector.objects.filter(user__in=inspectors, department_id=actor.department_id, active=True)
    }
    users: set[int] = {int(u.pk) for u in inspectors}
    if len(users) != 2 or set(pool) != users:
        raise ComplianceError(_("请从本部门检查人员库中选派两名不同的检查人员。"), code="bad_inspectors")
    barred = [
        i.name
        for i in pool.values()
        if i.employer_id == institution.pk or Conflict.objects.filter(inspector=i, institution=institution).exists()
    ]
    if barred:
        raise ComplianceError(
            _("%(names)s 与该机构有利害关系，应当回避。") % {"names": _("、").join(barred)}, code="conflicted"
        )
    inspection = Inspection.objects.create(
        institution=institution, standard=standard, kind=InspectionKind.OFFICIAL, planned_on=planned_on
    )
    inspection.inspectors.set(list(users))
    audit(actor=actor, event="compliance.inspection_assigned", obj=inspection, after={"inspectors": sorted(users)})
    return inspection


@transaction.atomic
def self_assessment_start(
    *, actor: Any, institution: Institution, standard: Standard, today: dt.date | None = None
) -> Inspection:
    """The institution's own check against a standard that governs it; one open at a time per standard."""
    if not permissions.is_institution_admin(actor, institution):
        raise PermissionDenied("only the institution's administrators may assess it")
    Institution.objects.select_for_update().get(pk=institution.pk)
    open_one = Inspection.objects.filter(
        institution=institution, standard=standard, kind=InspectionKind.SELF, status=InspectionStatus.IN_PROGRESS
    ).first()
    if open_one is not None:
        return open_one
    inspection = Inspection.objects.create(institution=institution, standard=standard, kind=InspectionKind.SELF)
    _begin(inspection, today=today or local_now().date())
    audit(actor=actor, event="compliance.self_assessment_started", obj=inspection, after=_state(inspection))
    return inspection


def plain(number: Decimal) -> str:
    """80, 2.5 — never 8E+1 or 80.00."""
    return format(number.normalize(), "f")


def _number_problem(item: ChecklistItem, number: Decimal) -> str | None:
    unit = item.unit_zh
    if item.at_least is not None and number < item.at_least:
        return _("%(measure)s为 %(number)s%(unit)s，低于标准要求的 %(bound)s%(unit)s") % {
            "measure": item.measure_zh,
            "number": plain(number),
            "unit": unit,
            "bound": plain(item.at_least),
        }
    if item.at_most is not None and number > item.at_most:
        return _("%(measure)s为 %(number)s%(unit)s，超过标准允许的 %(bound)s%(unit)s") % {
            "measure": item.measure_zh,
            "number": plain(number),
            "unit": unit,
            "bound": plain(item.at_most),
        }
    return None


@transaction.atomic
def answer_give(
    *,
    actor: Any,
    item: ChecklistItem,
    result: str,
    note: str = "",
    number: Decimal | None = None,
    client_time: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> tuple[Answer, bool]:
    """Record the answer for one clause. Returns ``(answer, applied)``; ``applied`` is False for a stale retry."""
    inspection = locked(item.inspection)
    if not permissions.may_fill(actor, inspection):
        raise PermissionDenied("only whoever fills this checklist may answer it")
    require(inspection, InspectionStatus.IN_PROGRESS, action=pgettext("compliance action", "填写"))
    if result not in Result.values:
        raise ComplianceError(_("请选择符合、部分符合、不符合或不适用。"), code="bad_result")
    note = note.strip()
    if result in FAILED and not note:
        raise ComplianceError(
            _("第 %(clause)s 条判为“%(result)s”时请写明发现的问题，机构要据此整改。")
            % {"clause": item.clause_number, "result": Result(result).label},
            code="note_required",
        )
    if "number" in item.evidence and result != Result.NOT_APPLICABLE:
        if number is None:
            raise ComplianceError(
                _("第 %(clause)s 条需要填写%(measure)s（%(unit)s）。")
                % {"clause": item.clause_number, "measure": item.measure_zh, "unit": item.unit_zh},
                code="number_required",
            )
        problem = _number_problem(item, number)
        if problem and result == Result.COMPLIANT:
            raise ComplianceError(
                _("%(problem)s，不能判为“符合”；请核对数值或改判。") % {"problem": problem}, code="number_contradicts"
            )
    now = now or local_now()
    existing = Answer.objects.select_for_update().filter(item=item).first()
    if existing is not None and client_time and existing.client_time and existing.client_time > client_time:
        return existing, False  # a retry of an older answer, arriving after a newer one
    answer, _created = Answer.objects.update_or_create(
        item=item,
        defaults={
            "result": result,
            "note": note,
            "number": number if "number" in item.evidence else None,
            "answered_by": actor,
            "answered_at": now,
            "client_time": client_time,
            "carried": "",
        },
    )
    audit(
        actor=actor,
        event="compliance.answer_given",
        obj=inspection,
        before={"clause": item.clause_number, "result": existing.result} if existing else None,
        after={"clause": item.clause_number, "result": result, "number": str(number) if number is not None else None},
    )
    return answer, True


def _stamp(taken: dt.datetime, at: Location | None) -> Any:
    """Write the time and place in the photo's corner, as an inspection camera does (水印)."""
    where = f"  {at.latitude:.5f}N {at.longitude:.5f}E" if at else ""
    caption = f"{timezone.localtime(taken):%Y-%m-%d %H:%M}{where}"

    def draw(image: Image.Image) -> Image.Image:
        if image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGB")
        size = max(12, image.width // 40)
        font = ImageFont.load_default(size=size)
        canvas = ImageDraw.Draw(image)
        left, top, right, bottom = canvas.textbbox((0, 0), caption, font=font)
        pad = size // 3
        y = image.height - (bottom - top) - 3 * pad
        canvas.rectangle((0, y, right - left + 2 * pad, image.height), fill=(0, 0, 0))
        canvas.text((pad, y + pad - top), caption, font=font, fill=(255, 255, 255))
        return image

    return draw


def evidence_store(
    *, actor: Any, upload: Any, folder: str, images_only: bool, at: Location | None, now: dt.datetime
) -> dict[str, Any]:
    """The kernel's checks, the photo stamped; the fields for an ``Evidence`` row. Raises ComplianceError."""
    try:
        stored = store_upload(
            upload, folder=folder, allowed=IMAGES if images_only else ALL_KINDS, transform=_stamp(now, at)
        )
    except UploadRefused as exc:
        raise ComplianceError(str(exc), code=exc.code) from exc
    return {
        "file": stored.name,
        "kind": stored.kind,
        "size": stored.size,
        "sha256": stored.sha256,
        "original_name": stored.original_name,
        "latitude": at.latitude if at else None,
        "longitude": at.longitude if at else None,
        "accuracy_m": int(at.accuracy_m) if at and at.accuracy_m is not None else None,
        "uploaded_by": actor,
        "uploaded_at": now,
    }


def evidence_limit() -> int:
    return int(str(settings.FUWU_COMPLIANCE["evidence_per_item"]))


@transaction.atomic
def evidence_add(
    *, actor: Any, item: ChecklistItem, upload: Any, at: Location | None = None, now: dt.datetime | None = None
) -> Evidence:
    """A photo taken on site (or, where the clause asks for a file, a PDF) for one checklist item."""
    inspection = locked(item.inspection)
    if not permissions.may_fill(actor, inspection):
        raise PermissionDenied("only whoever fills this checklist may add evidence to it")
    require(inspection, InspectionStatus.IN_PROGRESS, action=pgettext("compliance action", "上传照片或材料"))
    if item.files.count() >= evidence_limit():
        raise ComplianceError(
            _("每个条款最多 %(limit)s 个照片或文件。") % {"limit": evidence_limit()}, code="too_many_files"
        )
    now = now or local_now()
    fields = evidence_store(
        actor=actor,
        upload=upload,
        folder="compliance/evidence",
        images_only="file" not in item.evidence,
        at=at,
        now=now,
    )
    evidence = Evidence.objects.create(item=item, **fields)
    audit(
        actor=actor,
        event="compliance.evidence_added",
        obj=inspection,
        after={"clause": item.clause_number, "evidence": evidence.pk, "kind": evidence.kind, "located": at is not None},
    )
    return evidence


def _missing(items: list[ChecklistItem]) -> tuple[list[str], list[str]]:
    """Clauses not answered, and clauses answered without the evidence they ask for."""
    unanswered, unevidenced = [], []
    for item in items:
        answer = getattr(item, "answer", None)
        if answer is None:
            unanswered.append(item.clause_number)
            continue
        if answer.result == Result.NOT_APPLICABLE or answer.carried:
            continue
        files = list(item.files.all())
        if ("photo" in item.evidence and not any(e.is_image for e in files)) or ("file" in item.evidence and not files):
            unevidenced.append(item.clause_number)
    return unanswered, unevidenced


def _lines(items: list[ChecklistItem]) -> list[Line]:
    return [Line(i.clause_number, i.weight, i.critical, i.answer.result) for i in items]


@transaction.atomic
def inspection_sign(
    *, actor: Any, inspection: Inspection, summary: str = "", now: dt.datetime | None = None
) -> Inspection:
    """in_progress → signed: score and grade by the standard's method; failed requirements open orders."""
    inspection = locked(inspection)
    if not permissions.may_fill(actor, inspection):
        raise PermissionDenied("only whoever fills this checklist may sign it")
    require(inspection, InspectionStatus.IN_PROGRESS, action=pgettext("compliance action", "签署"))
    items = list(inspection.items.select_related("answer").prefetch_related("files").order_by("position"))
    unanswered, unevidenced = _missing(items)
    if unanswered:
        raise ComplianceError(
            _("还有 %(n)s 条没有填写：第 %(clauses)s 条。")
            % {"n": len(unanswered), "clauses": _("、").join(unanswered)},
            code="unanswered",
        )
    if unevidenced:
        raise ComplianceError(
            _("第 %(clauses)s 条要求拍照或上传材料，还没有上传。") % {"clauses": _("、").join(unevidenced)},
            code="evidence_missing",
        )
    assert inspection.version is not None  # noqa: S101 - a started inspection always has one (a constraint)
    result = outcome(_lines(items), checklists.grading(inspection.version))
    if result.score is None:
        raise ComplianceError(_("所有条款都判为“不适用”，无法评分；请核对机构类型或改判。"), code="nothing_applicable")
    now = now or local_now()
    before = _state(inspection)
    inspection.status, inspection.signed_by, inspection.signed_at = InspectionStatus.SIGNED, actor, now
    inspection.score, inspection.passed, inspection.critical_failed = (
        result.score,
        result.passed,
        bool(result.critical_failures),
    )
    inspection.grade_key, inspection.grade_zh, inspection.grade_en = result.grade_key, result.grade_zh, result.grade_en
    inspection.stars, inspection.summary = result.stars, summary.strip()
    inspection.save()
    orders: list[RectificationOrder] = []
    if inspection.kind != InspectionKind.SELF:
        previous = _settle_orders(inspection, items, actor=actor, now=now) if inspection.follows_id else {}
        failed = [
            i for i in items if i.clause_kind == "requirement" and i.answer.result in FAILED and not i.answer.carried
        ]
        orders = open_orders(
            inspection=inspection, items=failed, today=timezone.localtime(now).date(), previous=previous
        )
    audit(
        actor=actor,
        event="compliance.inspection_signed",
        obj=inspection,
        before=before,
        after={
            **_state(inspection),
            "passed": result.passed,
            "grade": result.grade_key,
            "critical_failures": list(result.critical_failures),
            "orders": [o.pk for o in orders],
        },
    )
    return inspection


def _settle_orders(
    reinspection: Inspection, items: list[ChecklistItem], *, actor: Any, now: dt.datetime
) -> dict[str, RectificationOrder]:
    """The re-inspection decides the original's orders still open: met now → verified; else failed.

    Returns the failed ones by clause, for the orders this re-inspection opens in their place.
    """
    by_clause = {i.clause_number: i for i in items}
    failed: dict[str, RectificationOrder] = {}
    for order in (
        RectificationOrder.objects.select_for_update()
        .filter(inspection=reinspection.follows, status__in=OPEN_ORDERS)
        .select_related("item")
    ):
        item = by_clause[order.item.clause_number]
        before = order.status
        order.status = OrderStatus.FAILED if item.answer.result in FAILED else OrderStatus.VERIFIED
        order.closed_by, order.decided_at, order.decided_by = reinspection, now, actor
        order.save(update_fields=["status", "closed_by", "decided_at", "decided_by"])
        audit(
            actor=actor,
            event="compliance.order_reinspected",
            obj=order,
            before={"status": before},
            after={"status": order.status, "reinspection": reinspection.pk},
        )
        if order.status == OrderStatus.FAILED:
            failed[item.clause_number] = order
    return failed


@transaction.atomic
def inspection_publish(*, actor: Any, inspection: Inspection, now: dt.datetime | None = None) -> Inspection:
    """signed → published (公开): the result goes on the public pages and becomes the institution's standing."""
    inspection = locked(inspection)
    if not permissions.is_officer_for(actor, inspection.institution):
        raise PermissionDenied("only an officer of the institution's area may publish its result")
    if inspection.kind == InspectionKind.SELF:
        raise ComplianceError(_("机构自评结果不公开。"), code="self_assessment")
    require(inspection, InspectionStatus.SIGNED, action=pgettext("compliance action", "公开"))
    before = _state(inspection)
    inspection.status, inspection.published_at = InspectionStatus.PUBLISHED, now or local_now()
    inspection.save(update_fields=["status", "published_at"])
    standing = Standing.objects.filter(institution=inspection.institution, standard=inspection.standard).first()
    assert inspection.inspected_on is not None  # noqa: S101 - signed (a constraint)
    assert inspection.score is not None  # noqa: S101 - signed (a constraint)
    newer = standing is None or (standing.inspected_on, standing.inspection_id) <= (
        inspection.inspected_on,
        inspection.pk,
    )
    if newer:
        Standing.objects.update_or_create(
            institution=inspection.institution,
            standard=inspection.standard,
            defaults={
                "inspection": inspection,
                "inspected_on": inspection.inspected_on,
                "score": inspection.score,
                "passed": bool(inspection.passed),
                "grade_key": inspection.grade_key,
                "grade_zh": inspection.grade_zh,
                "grade_en": inspection.grade_en,
                "stars": inspection.stars,
            },
        )
    audit(actor=actor, event="compliance.inspection_published", obj=inspection, before=before, after=_state(inspection))
    return inspection


@transaction.atomic
def reinspection_open(*, actor: Any, original: Inspection, today: dt.date | None = None) -> Inspection:
    """A re-inspection (复查) of the clauses still to be put right, on the original's checklist and version.

    Clauses met the first time, and those whose rectification was accepted on the evidence, are carried
    with the reason; the others are to be checked again on site.
    """
    original = locked(original)
    if not (permissions.is_assigned(actor, original) or permissions.is_officer_for(actor, original.institution)):
        raise PermissionDenied("only the inspectors of the original inspection or an officer may open a re-inspection")
    if original.kind == InspectionKind.SELF:
        raise ComplianceError(_("机构自评不复查。"), code="self_assessment")
    require(original, InspectionStatus.SIGNED, InspectionStatus.PUBLISHED, action=pgettext("compliance action", "复查"))
    current = Inspection.objects.filter(follows=original, status=InspectionStatus.IN_PROGRESS).first()
    if current is not None:
        return current
    orders = {o.item_id: o for o in original.orders.all()}
    if not any(o.status in OPEN_ORDERS for o in orders.values()):
        raise ComplianceError(_("这次检查没有待复查的整改事项。"), code="nothing_to_reinspect")
    reinspection = Inspection.objects.create(
        institution=original.institution,
        standard=original.standard,
        version=original.version,
        kind=InspectionKind.REINSPECTION,
        status=InspectionStatus.IN_PROGRESS,
        follows=original,
        inspected_on=today or local_now().date(),
    )
    reinspection.inspectors.set(original.inspectors.all())
    originals = list(original.items.select_related("answer").order_by("position"))
    copies = ChecklistItem.objects.bulk_create(
        ChecklistItem(inspection=reinspection, **{f: getattr(i, f) for f in ITEM_FIELDS}) for i in originals
    )
    now = local_now()
    carried = []
    for before, copy in zip(originals, copies, strict=True):
        order = orders.get(before.pk)
        answer = before.answer
        if order is not None and order.status == OrderStatus.ACCEPTED:
            reason = _("整改材料已验收（整改通知 %(order)s）") % {"order": order.pk}
            result: str = Result.COMPLIANT
        elif order is None and (answer.result not in FAILED or before.clause_kind != "requirement"):
            reason, result = _("沿用原检查结果"), answer.result
        else:
            continue
        carried.append(
            Answer(
                item=copy,
                result=result,
                note=answer.note,
                number=answer.number,
                answered_by=actor,
                answered_at=now,
                carried=reason,
            )
        )
    Answer.objects.bulk_create(carried)
    audit(
        actor=actor,
        event="compliance.reinspection_opened",
        obj=reinspection,
        after={**_state(reinspection), "follows": original.pk, "to_check": len(copies) - len(carried)},
    )
    return reinspection


@transaction.atomic
def inspection_cancel(*, actor: Any, inspection: Inspection, reason: str) -> Inspection:
    """planned → cancelled (a redraw replaced the draw that planned it)."""
    inspection = locked(inspection)
    require(inspection, InspectionStatus.PLANNED, action=pgettext("compliance action", "取消"))
    before = _state(inspection)
    inspection.status, inspection.cancel_reason = InspectionStatus.CANCELLED, reason.strip()[:300]
    inspection.save(update_fields=["status", "cancel_reason"])
    audit(actor=actor, event="compliance.inspection_cancelled", obj=inspection, before=before, after=_state(inspection))
    return inspection
