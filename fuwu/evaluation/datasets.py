"""The rows of each published data view (catalog.py), read for one period ``[start, end)``.

Each producer returns plain dicts keyed by the view's columns, in a stable order, so the engine can digest
them and evaluate the indicators' expressions on them with the rule language's own evaluator. ``today``
is the day of computing, for columns such as ``pending`` that depend on it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db.models import Count, Min, Q, Sum
from django.utils import timezone

from fuwu.homecare.models import (
    AccountStatus,
    Callback,
    Caregiver,
    Complaint,
    ComplaintStatus,
    EntitlementAccount,
    Order,
    OrderKind,
    Rating,
    TrainingKind,
)
from fuwu.homecare.settlement import DONE

Row = dict[str, Any]
Producer = Callable[[dt.date, dt.date, dt.date], list[Row]]


def _local_date(moment: dt.datetime | None) -> dt.date | None:
    return timezone.localtime(moment).date() if moment else None


def _seconds(delta: dt.timedelta) -> Decimal:
    return Decimal(delta.days * 86400 + delta.seconds) + Decimal(delta.microseconds) / Decimal(1_000_000)


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    zone = timezone.get_current_timezone()
    return dt.datetime.combine(start, dt.time(), tzinfo=zone), dt.datetime.combine(end, dt.time(), tzinfo=zone)


def homecare_visits(start: dt.date, end: dt.date, today: dt.date) -> list[Row]:
    orders = (
        Order.objects.filter(account_month__month__gte=start, account_month__month__lt=end)
        .select_related("account__person", "callback")
        .prefetch_related("partners")
        .order_by("pk")
    )
    rows = []
    for o in orders:
        offset = None
        if o.checkin_at is not None and o.planned_start is not None:
            arrivals = [o.checkin_at, *(p.checkin_at for p in o.partners.all())]
            offset = max(_seconds(abs(a - o.planned_start)) for a in arrivals if a is not None)
        if o.visit_minutes is not None:
            duration: Decimal | None = Decimal(o.visit_minutes * 60)
        elif o.checkin_at is not None and o.checkout_at is not None:
            duration = _seconds(o.checkout_at - o.checkin_at)
        else:
            duration = None
        try:
            callback: Callback | None = o.callback
        except Callback.DoesNotExist:
            callback = None
        rows.append(
            {
                "area": o.account.person.hukou_area,
                "provider_id": o.provider_id,
                "kind": o.kind,
                "status": o.status,
                "done": o.status in DONE,
                "confirmed": o.confirmed_at is not None,
                "checked_in": o.checkin_at is not None,
                "planned": o.planned_start is not None,
                "arrival_offset_seconds": offset,
                "checkin_distance_m": o.checkin_distance_m,
                "checkout_distance_m": o.checkout_distance_m,
                "located": not (o.checkin_typed or o.checkout_typed),
                "duration_seconds": duration,
                "agreed_minutes": o.minutes,
                "called_back": callback is not None and callback.reached is True,
            }
        )
    return rows


def homecare_responses(start: dt.date, end: dt.date, today: dt.date) -> list[Row]:
    orders = Order.objects.filter(account_month__month__gte=start, account_month__month__lt=end).values("pk")
    rows: list[Row] = [
        {
            "area": r["order__account__person__hukou_area"],
            "provider_id": r["order__provider_id"],
            "stars": r["stars"],
            "callback_satisfied": None,
        }
        for r in Rating.objects.filter(order__in=orders)
        .order_by("pk")
        .values("order__provider_id", "order__account__person__hukou_area", "stars")
    ]
    rows += [
        {
            "area": c["order__account__person__hukou_area"],
            "provider_id": c["order__provider_id"],
            "stars": None,
            "callback_satisfied": c["satisfied"],
        }
        for c in Callback.objects.filter(order__in=orders, reached=True, satisfied__isnull=False)
        .order_by("pk")
        .values("order__provider_id", "order__account__person__hukou_area", "satisfied")
    ]
    return rows


def homecare_complaints(start: dt.date, end: dt.date, today: dt.date) -> list[Row]:
    low, high = _bounds(start, end)
    complaints = Complaint.objects.filter(lodged_at__gte=low, lodged_at__lt=high).order_by("pk")
    return [
        {
            "area": c["order__account__person__hukou_area"],
            "provider_id": c["order__provider_id"],
            "status": c["status"],
            "due_on": c["due_on"],
            "resolved_on": _local_date(c["resolved_at"]),
            "pending": c["status"] == ComplaintStatus.OPEN and c["due_on"] >= today,
        }
        for c in complaints.values(
            "order__provider_id", "order__account__person__hukou_area", "status", "due_on", "resolved_at"
        )
    ]


def homecare_new_accounts(start: dt.date, end: dt.date, today: dt.date) -> list[Row]:
    accounts = (
        EntitlementAccount.objects.filter(opened_on__gte=start, opened_on__lt=end)
        .annotate(first_visit=Min("orders__checkin_at", filter=Q(orders__status__in=DONE)))
        .order_by("pk")
    )
    rows = []
    for a in accounts.values("provider_id", "person__hukou_area", "opened_on", "first_visit", "first_visit_due"):
        first = _local_date(a["first_visit"])
        rows.append(
            {
                "area": a["person__hukou_area"],
                "provider_id": a["provider_id"],
                "opened_on": a["opened_on"],
                "first_visit_due": a["first_visit_due"],
                "first_visit_on": first,
                "pending": first is None and a["first_visit_due"] >= today,
            }
        )
    return rows


def homecare_entitled(start: dt.date, end: dt.date, today: dt.date) -> list[Row]:
    accounts = (
        EntitlementAccount.objects.filter(status=AccountStatus.ACTIVE, opened_on__lt=end)
        .annotate(
            served_count=Count(
                "orders",
                filter=Q(
                    orders__kind=OrderKind.SUBSIDISED,
                    orders__status__in=DONE,
                    orders__confirmed_at__isnull=False,
                    orders__account_month__month__gte=start,
                    orders__account_month__month__lt=end,
                ),
            )
        )
        .order_by("pk")
    )
    return [
        {"area": a["person__hukou_area"], "provider_id": a["provider_id"], "served": a["served_count"] > 0}
        for a in accounts.values("provider_id", "person__hukou_area", "served_count")
    ]


def homecare_caregivers(start: dt.date, end: dt.date, today: dt.date) -> list[Row]:
    year_start = (end - dt.timedelta(days=1)).replace(month=1, day=1)
    caregivers = (
        Caregiver.objects.filter(active=True)
        .annotate(
            hours=Sum(
                "training__hours",
                filter=Q(
                    training__kind=TrainingKind.IN_SERVICE,
                    training__completed_on__gte=year_start,
                    training__completed_on__lt=end,
                ),
            )
        )
        .order_by("pk")
    )
    return [
        {"area": None, "provider_id": c["provider_id"], "training_hours": c["hours"] or Decimal(0)}
        for c in caregivers.values("provider_id", "hours")
    ]


PRODUCERS: dict[str, Producer] = {
    "homecare_visits": homecare_visits,
    "homecare_responses": homecare_responses,
    "homecare_complaints": homecare_complaints,
    "homecare_new_accounts": homecare_new_accounts,
    "homecare_entitled": homecare_entitled,
    "homecare_caregivers": homecare_caregivers,
}
