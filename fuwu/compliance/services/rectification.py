"""Rectification (整改): each failed requirement of a department's inspection is an order with a deadline.

The deadline is counted in working days on the Chinese calendar (``fuwu.common.workdays``, with the holiday
notices entered as ``CalendarDay`` rows), from the day the inspection is signed, that day not counted: ten
working days from the Friday before the National Day week end well after the week's holidays, and a Saturday
worked in exchange (调休) counts as a working day. The institution answers with what it did and evidence; the
inspectors accept it, send it back, or go and look (a re-inspection). An order the institution leaves
unanswered past its deadline is flagged for the county department; ``escalation_days`` working days later
(the standard's grading) it goes to the city. ``fuwu compliance flag-overdue`` does both; run it daily.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from fuwu.common import workdays
from fuwu.common.audit import audit
from fuwu.common.uploads import Location
from fuwu.compliance import checklists, permissions
from fuwu.compliance.models import (
    ChecklistItem,
    Evidence,
    Inspection,
    OrderStatus,
    RectificationOrder,
)
from fuwu.compliance.services import ComplianceError, local_now
from fuwu.homecare.services import calendar_overrides


def deadline(opened_on: dt.date, days: int, overrides: dict[dt.date, bool] | None = None) -> tuple[dt.date, bool]:
    """The deadline ``days`` working days after ``opened_on``, and whether that year's holidays are known."""
    return workdays.deadline(opened_on, days, overrides=calendar_overrides() if overrides is None else overrides)


def open_orders(
    *,
    inspection: Inspection,
    items: list[ChecklistItem],
    today: dt.date,
    previous: dict[str, RectificationOrder] | None = None,
) -> list[RectificationOrder]:
    """One order per failed requirement; called inside the signing service's transaction."""
    overrides = calendar_overrides()
    orders = []
    for item in items:
        due, known = deadline(today, item.rectification_days, overrides)
        orders.append(
            RectificationOrder(
                inspection=inspection,
                item=item,
                institution_id=inspection.institution_id,
                opened_on=today,
                days=item.rectification_days,
                due_on=due,
                calendar_known=known,
                previous=(previous or {}).get(item.clause_number),
            )
        )
    created = RectificationOrder.objects.bulk_create(orders)
    for order in created:
        audit(
            actor=None,
            event="compliance.order_opened",
            obj=order,
            after={"clause": order.item.clause_number, "due_on": order.due_on.isoformat(), "days": order.days},
        )
    return created


def _locked(order: RectificationOrder) -> RectificationOrder:
    return (
        RectificationOrder.objects.select_for_update(of=("self",))
        .select_related("institution", "institution__area", "inspection", "item")
        .get(pk=order.pk)
    )


def _require(order: RectificationOrder, *allowed: str, action: str) -> None:
    if order.status not in allowed:
        shown = _("、").join(str(OrderStatus(s).label) for s in allowed)
        raise ComplianceError(
            _("整改通知当前为“%(status)s”，不能%(action)s；只有“%(allowed)s”的可以%(action)s。")
            % {"status": order.get_status_display(), "action": action, "allowed": shown},
            code="wrong_state",
        )


@transaction.atomic
def order_evidence_add(
    *, actor: Any, order: RectificationOrder, upload: Any, at: Location | None = None, now: dt.datetime | None = None
) -> Evidence:
    """A photo or PDF showing what the institution put right."""
    from fuwu.compliance.services.inspections import evidence_limit, evidence_store

    order = _locked(order)
    if not permissions.is_institution_admin(actor, order.institution):
        raise PermissionDenied("only the institution's administrators may send evidence for its orders")
    _require(order, OrderStatus.OPEN, action=pgettext("compliance action", "上传整改材料"))
    if order.files.count() >= evidence_limit():
        raise ComplianceError(
            _("每份整改通知最多 %(limit)s 个照片或文件。") % {"limit": evidence_limit()}, code="too_many_files"
        )
    now = now or local_now()
    fields = evidence_store(
        actor=actor, upload=upload, folder="compliance/rectification", images_only=False, at=at, now=now
    )
    evidence = Evidence.objects.create(order=order, **fields)
    audit(actor=actor, event="compliance.order_evidence_added", obj=order, after={"evidence": evidence.pk})
    return evidence


@transaction.atomic
def order_answer(
    *, actor: Any, order: RectificationOrder, response: str, now: dt.datetime | None = None
) -> RectificationOrder:
    """open → answered: the institution says what it did (with the evidence already uploaded)."""
    order = _locked(order)
    if not permissions.is_institution_admin(actor, order.institution):
        raise PermissionDenied("only the institution's administrators may answer its orders")
    _require(order, OrderStatus.OPEN, action=pgettext("compliance action", "提交整改情况"))
    if not response.strip():
        raise ComplianceError(_("请写明采取了哪些整改措施。"), code="response_required")
    if not order.files.exists():
        raise ComplianceError(_("请先上传整改后的照片或证明材料。"), code="evidence_missing")
    before = order.status
    order.status, order.response = OrderStatus.ANSWERED, response.strip()
    order.answered_at, order.answered_by = now or local_now(), actor
    order.save(update_fields=["status", "response", "answered_at", "answered_by"])
    audit(
        actor=actor,
        event="compliance.order_answered",
        obj=order,
        before={"status": before},
        after={"status": order.status},
    )
    return order


def _decide(
    actor: Any, order: RectificationOrder, to: str, note: str, event: str, now: dt.datetime | None
) -> RectificationOrder:
    order = _locked(order)
    if not permissions.may_decide(actor, order):
        raise PermissionDenied("only the inspectors who found it or an officer of the area may decide an order")
    _require(order, OrderStatus.ANSWERED, action=pgettext("compliance action", "验收"))
    before = order.status
    order.status, order.decision_note = to, note.strip()
    order.decided_at, order.decided_by = now or local_now(), actor
    fields = ["status", "decision_note", "decided_at", "decided_by"]
    if to == OrderStatus.OPEN:
        order.answered_at = None  # answered again later, after the institution does more
        fields.append("answered_at")
    order.save(update_fields=fields)
    audit(actor=actor, event=event, obj=order, before={"status": before}, after={"status": order.status}, note=note)
    return order


@transaction.atomic
def order_accept(
    *, actor: Any, order: RectificationOrder, note: str = "", now: dt.datetime | None = None
) -> RectificationOrder:
    """answered → accepted: the evidence shows the failure put right (书面验收)."""
    return _decide(actor, order, OrderStatus.ACCEPTED, note, "compliance.order_accepted", now)


@transaction.atomic
def order_return(
    *, actor: Any, order: RectificationOrder, note: str, now: dt.datetime | None = None
) -> RectificationOrder:
    """answered → open: not enough; the note says what is missing. The deadline stays."""
    if not note.strip():
        raise ComplianceError(_("退回时请写明还缺什么，机构才能补齐。"), code="note_required")
    return _decide(actor, order, OrderStatus.OPEN, note, "compliance.order_returned", now)


@transaction.atomic
def order_reinspect(
    *, actor: Any, order: RectificationOrder, note: str = "", now: dt.datetime | None = None
) -> RectificationOrder:
    """answered → to_reinspect: the inspectors will go and look (a re-inspection decides it)."""
    return _decide(actor, order, OrderStatus.TO_REINSPECT, note, "compliance.order_to_reinspect", now)


@transaction.atomic
def orders_flag_overdue(*, today: dt.date | None = None) -> tuple[int, int]:
    """Flag open orders past their deadline (level 1) and escalate those long past it (level 2).

    Returns ``(flagged, escalated)``. Idempotent: a level is set once, with its audit row.
    """
    today = today or local_now().date()
    overrides = calendar_overrides()
    now = timezone.now()
    flagged = escalated = 0
    overdue = (
        RectificationOrder.objects.select_for_update(of=("self",))
        .filter(status=OrderStatus.OPEN, due_on__lt=today, escalation__lt=2)
        .select_related("inspection__version")
    )
    for order in overdue:
        version = order.inspection.version
        assert version is not None  # noqa: S101 - orders come from signed inspections
        days = checklists.grading(version).escalation_days
        level = 2 if workdays.add_working_days(order.due_on, days, overrides=overrides) < today else 1
        if level <= order.escalation:
            continue
        before = order.escalation
        order.escalation = level
        order.overdue_flagged_at = order.overdue_flagged_at or now
        order.save(update_fields=["escalation", "overdue_flagged_at"])
        flagged += before == 0
        escalated += level == 2
        audit(
            actor=None,
            event="compliance.order_escalated" if level == 2 else "compliance.order_overdue",
            obj=order,
            before={"escalation": before},
            after={"escalation": level, "due_on": order.due_on.isoformat()},
        )
    return flagged, escalated
