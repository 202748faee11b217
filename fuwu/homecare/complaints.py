"""Complaints about a visit: lodged by the family, resolved by the officer of the area within the standard's limit.

The complainant may name the clause of the standard the complaint concerns, and the officer may set or correct
it when resolving (``fuwu.standards.clause_choice``: a clause of the version governing the order's item); the
evaluation of the standard counts the complaint against it (``fuwu.evaluation.review``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from fuwu.common import workdays
from fuwu.common.audit import audit
from fuwu.homecare import permissions, standard, visits
from fuwu.homecare.models import AccountMonth, Complaint, ComplaintStatus, Order, OrderStatus
from fuwu.homecare.services import HomeCareError, calendar_overrides, local_now, locked
from fuwu.standards import clause_choice
from fuwu.standards.models import Clause

# ``complaint_resolve``'s default: the clause named when it was lodged stays.
UNCHANGED = object()


def named_clause(order: Order, raw: object) -> Clause | None:
    """The clause ``raw`` names for ``order`` (None: none named); ``HomeCareError`` on the clause field otherwise."""
    try:
        return clause_choice.resolve(clause_choice.governing_version(order.item), raw)
    except clause_choice.ClauseChoiceError as exc:
        raise HomeCareError(str(exc), code="bad_clause") from exc


@transaction.atomic
def complaint_lodge(
    *, actor: Any, order: Order, text: str, clause: object = None, now: dt.datetime | None = None
) -> Complaint:
    """A complaint on a visited order; ``clause`` optionally names the clause it concerns (a choice's value)."""
    order = locked(order)
    if not permissions.can_book_for(actor, order.account.person):
        raise PermissionDenied("only the elder's family or their officer may lodge a complaint")
    if order.status in (OrderStatus.REQUESTED, OrderStatus.CANCELLED):
        raise HomeCareError(_("这笔工单还没有派单上门，不能投诉；如需取消请直接取消预约。"), code="wrong_state")
    if not text.strip():
        raise HomeCareError(_("请写明投诉的内容。"), code="text_required")
    named = named_clause(order, clause)
    now = timezone.localtime(now or local_now())  # the day it is in China, whatever zone came in
    due = workdays.add_working_days(
        now.date(), int(standard.number("complaint_days", on=now.date())), overrides=calendar_overrides()
    )
    complaint = Complaint.objects.create(
        order=order, text=text.strip(), lodged_by=actor, lodged_at=now, due_on=due, clause=named
    )
    after = {"order": order.pk, "due_on": str(due), "clause": named.number if named else None}
    audit(actor=actor, event="homecare.complaint_lodged", obj=complaint, after=after)
    return complaint


@transaction.atomic
def complaint_resolve(
    *,
    actor: Any,
    complaint: Complaint,
    upheld: bool,
    outcome: str,
    clause: object = UNCHANGED,
    now: dt.datetime | None = None,
) -> Complaint:
    """Close a complaint. Upheld: the elder gets the subsidy back and the provider is not paid for the visit.

    ``clause`` sets or corrects the clause it concerns (``""``: none); left out, the complainant's stays.
    """
    complaint = Complaint.objects.select_for_update().select_related("order__account__person").get(pk=complaint.pk)
    order = locked(complaint.order)
    if not permissions.is_officer_for(actor, order.account.person):
        raise PermissionDenied("only an officer of the elder's area may resolve the complaint")
    if complaint.status != ComplaintStatus.OPEN:
        raise HomeCareError(_("这件投诉已经办结。"), code="wrong_state")
    if not outcome.strip():
        raise HomeCareError(_("请写明处理结果。"), code="outcome_required")
    before_clause = complaint.clause.number if complaint.clause else None
    if clause is not UNCHANGED:
        complaint.clause = named_clause(order, clause)
    complaint.status = ComplaintStatus.UPHELD if upheld else ComplaintStatus.DISMISSED
    complaint.outcome, complaint.resolved_at, complaint.resolved_by = outcome.strip(), now or local_now(), actor
    complaint.save()
    if upheld and not order.subsidy_refunded and (order.subsidy or order.self_pay):
        _refund(order)
    audit(
        actor=actor,
        event="homecare.complaint_resolved",
        obj=complaint,
        before={"clause": before_clause},
        after={
            "status": complaint.status,
            "refunded": order.subsidy_refunded,
            "clause": complaint.clause.number if complaint.clause else None,
        },
        note=outcome,
    )
    return complaint


def _refund(order: Order) -> None:
    """An upheld complaint costs the elder nothing: what was spent (or is still held) goes back.

    ``subsidy_refunded`` marks it, for the elder's own payment on a package as well as the subsidy.
    """
    month = AccountMonth.objects.filter(pk=order.account_month_id)
    if order.confirmed_at is not None and order.payable is not None:
        subsidy, own = visits.spent_parts(order)
        month.update(spent=F("spent") - subsidy, self_paid=F("self_paid") - own)
    elif order.status in (OrderStatus.CANCELLED, OrderStatus.NO_SHOW):
        return  # the hold went back when it ended; nothing was spent
    else:
        # Not confirmed yet, or confirmed but held for the officer's review: the hold is still there.
        month.update(held=F("held") - order.subsidy)
    order.subsidy_refunded = True
    order.save(update_fields=["subsidy_refunded"])
