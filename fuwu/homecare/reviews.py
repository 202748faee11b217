"""The officer's review of visits the standard's rules hold from settlement (``fuwu.homecare.visits``).

A visit checked out with a flag whose rule is ``hold`` (late, out of range, typed position, a partner
missing …) is ``pending``: nothing of it is spent or settled. The officer of the elder's area looks at
what happened and decides, with a note::

    pending ─approve in full─▶ full      (the booked price)
            ─pay reduced────▶ reduced   (an amount between nothing and the price)
            ─refuse─────────▶ refused   (nothing)

If the family has already confirmed the visit, the decided amount is spent from the elder's month at
once (the rest of the hold goes back); otherwise their confirmation spends it later. The month's
settlement lists a pending visit as not paid, and cannot be confirmed until every one is decided.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from fuwu.common.audit import audit
from fuwu.homecare import permissions, selectors, visits
from fuwu.homecare.models import Order, ReviewStatus
from fuwu.homecare.services import HomeCareError, local_now, locked

DECISIONS = (ReviewStatus.FULL, ReviewStatus.REDUCED, ReviewStatus.REFUSED)
CENT = Decimal("0.01")


def _amount(order: Order, decision: str, amount: Decimal | None) -> Decimal:
    price = Decimal(order.price).quantize(CENT)
    if decision == ReviewStatus.FULL:
        return price
    if decision == ReviewStatus.REFUSED:
        return Decimal("0.00")
    try:
        value = None if amount is None else Decimal(amount)
        valid = value is not None and value.is_finite() and value == value.quantize(CENT) and 0 < value < price
    except InvalidOperation:
        valid = False
    if not valid or value is None:
        raise HomeCareError(
            _("减额结算时，请填写支付的金额：大于 0、小于原价 %(price)s 元，最多两位小数。") % {"price": price},
            code="bad_amount",
        )
    return value


@transaction.atomic
def visit_review(
    *,
    actor: Any,
    order: Order,
    decision: str,
    note: str,
    amount: Decimal | None = None,
    now: dt.datetime | None = None,
) -> Order:
    """Decide a held visit: ``full``, ``reduced`` (with ``amount``) or ``refused``, always with a ``note``."""
    order = locked(order)
    if not permissions.is_officer_for(actor, order.account.person):
        raise PermissionDenied("only an officer of the elder's area may review the visit")
    if order.review != ReviewStatus.PENDING:
        raise HomeCareError(_("这次服务不在待核查状态，不能再核查。"), code="wrong_state")
    if decision not in DECISIONS:
        raise HomeCareError(_("请选择核查结论：全额结算、减额结算或不予结算。"), code="bad_decision")
    if not note.strip():
        raise HomeCareError(_("请写明核查的情况和理由。"), code="note_required")
    payable = _amount(order, decision, amount)
    before = {"review": order.review, "payable": None}
    order.review, order.payable = decision, payable
    order.review_note, order.reviewed_at, order.reviewed_by = note.strip()[:300], now or local_now(), actor
    order.save(update_fields=["review", "payable", "review_note", "reviewed_at", "reviewed_by"])
    spent, self_paid = visits.spend(order)
    audit(
        actor=actor,
        event="homecare.visit_reviewed",
        obj=order,
        before=before,
        after={"review": decision, "payable": str(payable), "spent": str(spent), "self_paid": str(self_paid)},
        note=order.review_note,
    )
    return order


def reviews_for_user(*, user: Any) -> QuerySet[Order]:
    """Visits held for review that ``user`` may see (officers: their area; auditors: all), oldest first."""
    if not permissions.can_supervise(user):
        return Order.objects.none()
    return (
        selectors.orders_for_user(user=user)
        .filter(review=ReviewStatus.PENDING)
        .prefetch_related("partners__caregiver")
        .order_by("checkout_at", "pk")
    )


def reviewed_for_user(*, user: Any) -> QuerySet[Order]:
    """Visits already reviewed that ``user`` may see, newest decision first."""
    if not permissions.can_supervise(user):
        return Order.objects.none()
    return (
        selectors.orders_for_user(user=user)
        .filter(review__in=DECISIONS)
        .select_related("reviewed_by")
        .order_by("-reviewed_at", "-pk")
    )
