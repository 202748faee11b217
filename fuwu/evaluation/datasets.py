"""The rows of each published data view (catalog.py), read for one period ``[start, end)``.

Each producer returns plain dicts keyed by the view's columns, in a stable order, so the engine can digest
them and evaluate the indicators' expressions on them with the rule language's own evaluator. ``today``
is the day of computing, for columns such as ``pending`` that depend on it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    DateField,
    DateTimeField,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Abs, Cast, Coalesce, Greatest, NullIf, Trunc, TruncDate
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
    TrainingRecord,
    VisitPartner,
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


# --- screening --------------------------------------------------------------------------------------


def _township_area(township: str) -> str | None:
    """ScreeningCount keeps 9-digit township codes, as the area list codes townships; empty: no known township."""
    return township or None


def screening_results(start: dt.date, end: dt.date, today: dt.date) -> list[Row]:
    """The latest completed, not what-if, run with its as-of date in the period: its counts by township.

    Entitled persons are split into those already receiving the item (eligible minus the run's candidates in
    the township) and those not (the candidates) — only for items worth a call, the only ones a run lists
    candidates for, and only while the run's candidates are kept; otherwise ``served`` is empty.
    """
    from fuwu.eligibility.models import RunStatus, ScreeningCount, ScreeningRun
    from fuwu.eligibility.proactive import items_info
    from fuwu.eligibility.selectors import candidates_of

    run = (
        ScreeningRun.objects.filter(status=RunStatus.COMPLETED, draft=False, as_of__gte=start, as_of__lt=end)
        .order_by("-as_of", "-finished_at", "-pk")
        .first()
    )
    if run is None:
        return []
    listed = {key for key, info in items_info().items() if info.outreach} if run.purged_at is None else set()
    candidates: dict[tuple[str, str], int] = defaultdict(int)
    for area, item, n in candidates_of(run).values_list("hukou_area", "item").annotate(n=Count("pk")).order_by():
        candidates[(area[:9], item)] += n
    rows: list[Row] = [
        {"area": None, "item": None, "answer": "screened", "served": None, "persons": run.screened or run.persons}
    ]
    for township, item, eligible, unknown in (
        ScreeningCount.objects.filter(run=run)
        .order_by("township", "item")
        .values_list("township", "item", "eligible", "unknown")
    ):
        area = _township_area(township)
        if item in listed:
            waiting = min(candidates.get((township, item), 0), eligible)
            rows.append(
                {"area": area, "item": item, "answer": "eligible", "served": True, "persons": eligible - waiting}
            )
            rows.append({"area": area, "item": item, "answer": "eligible", "served": False, "persons": waiting})
        else:
            rows.append({"area": area, "item": item, "answer": "eligible", "served": None, "persons": eligible})
        rows.append({"area": area, "item": item, "answer": "unknown", "served": None, "persons": unknown})
    return rows


# --- applications ---------------------------------------------------------------------------------------


def _applications(start: dt.date, end: dt.date, today: dt.date, *, by: str) -> list[Row]:
    from fuwu.applications.models import Application, Status

    low, high = _bounds(start, end)
    decided_states = (Status.APPROVED, Status.REFUSED)
    rows = Application.objects.filter(**{f"{by}__gte": low, f"{by}__lt": high})
    if by == "decided_at":
        rows = rows.filter(status__in=decided_states)
    out = []
    for a in rows.order_by("pk").values(
        "item_key", "area_code", "status", "submitted_at", "decided_at", "due_on", "paused_on"
    ):
        submitted = _local_date(a["submitted_at"])
        decided_on = _local_date(a["decided_at"]) if a["status"] in decided_states else None
        due = a["due_on"]
        out.append(
            {
                "area": a["area_code"] or None,
                "item": a["item_key"],
                "status": a["status"],
                "submitted_on": submitted,
                "accepted": due is not None,
                "due_on": due,
                "decided": decided_on is not None,
                "decided_on": decided_on,
                "on_time": (due is None or decided_on <= due) if decided_on is not None else None,
                "overdue": (a["status"] in ("submitted", "in_progress") and due is not None and due < today),
                "days_to_decision": (decided_on - submitted).days if decided_on and submitted else None,
            }
        )
    return out


def applications(start: dt.date, end: dt.date, today: dt.date) -> list[Row]:
    return _applications(start, end, today, by="submitted_at")


def applications_decided(start: dt.date, end: dt.date, today: dt.date) -> list[Row]:
    return _applications(start, end, today, by="decided_at")


# --- compliance -------------------------------------------------------------------------------------------


def compliance_inspections(start: dt.date, end: dt.date, today: dt.date) -> list[Row]:
    from fuwu.compliance.models import DONE as INSPECTED
    from fuwu.compliance.models import FAILED, Inspection, InspectionStatus

    inspections = (
        Inspection.objects.exclude(status=InspectionStatus.CANCELLED)
        .filter(
            Q(inspected_on__gte=start, inspected_on__lt=end)
            | Q(inspected_on__isnull=True, planned_on__gte=start, planned_on__lt=end)
        )
        .annotate(failed=Count("items", filter=Q(items__answer__result__in=FAILED)))
        .order_by("pk")
        .values(
            "institution__area__code",
            "standard__key",
            "institution__kind",
            "kind",
            "status",
            "planned_on",
            "inspected_on",
            "score",
            "passed",
            "critical_failed",
            "failed",
        )
    )
    rows = []
    for i in inspections:
        done = i["status"] in INSPECTED
        planned, inspected = i["planned_on"], i["inspected_on"]
        rows.append(
            {
                "area": i["institution__area__code"],
                "standard": i["standard__key"],
                "institution_kind": i["institution__kind"],
                "kind": i["kind"],
                "status": i["status"],
                "done": done,
                "planned_on": planned,
                "inspected_on": inspected,
                "on_schedule": (done and inspected is not None and inspected <= planned) if planned else None,
                "score": i["score"],
                "passed": i["passed"] if done else None,
                "critical_failed": i["critical_failed"] if done else None,
                "failed_clauses": i["failed"] if done else None,
            }
        )
    return rows


def compliance_clauses(start: dt.date, end: dt.date, today: dt.date) -> list[Row]:
    from fuwu.compliance.models import DONE as INSPECTED
    from fuwu.compliance.models import ChecklistItem

    items = (
        ChecklistItem.objects.filter(
            inspection__status__in=INSPECTED,
            inspection__inspected_on__gte=start,
            inspection__inspected_on__lt=end,
            answer__isnull=False,
        )
        .order_by("inspection_id", "position", "pk")
        .values(
            "inspection__institution__area__code",
            "inspection__standard__key",
            "inspection__institution__kind",
            "inspection__kind",
            "clause_number",
            "clause_kind",
            "critical",
            "answer__result",
        )
    )
    return [
        {
            "area": c["inspection__institution__area__code"],
            "standard": c["inspection__standard__key"],
            "institution_kind": c["inspection__institution__kind"],
            "inspection_kind": c["inspection__kind"],
            "clause": c["clause_number"],
            "clause_kind": c["clause_kind"],
            "critical": c["critical"],
            "result": c["answer__result"],
        }
        for c in items
    ]


def compliance_rectifications(start: dt.date, end: dt.date, today: dt.date) -> list[Row]:
    from fuwu.compliance.models import OPEN_ORDERS, OrderStatus, RectificationOrder

    closed_states = (OrderStatus.ACCEPTED, OrderStatus.VERIFIED)
    orders = (
        RectificationOrder.objects.filter(opened_on__gte=start, opened_on__lt=end)
        .order_by("pk")
        .values(
            "institution__area__code",
            "inspection__standard__key",
            "institution__kind",
            "status",
            "opened_on",
            "due_on",
            "decided_at",
        )
    )
    rows = []
    for o in orders:
        closed = o["status"] in closed_states
        closed_on = _local_date(o["decided_at"]) if closed else None
        rows.append(
            {
                "area": o["institution__area__code"],
                "standard": o["inspection__standard__key"],
                "institution_kind": o["institution__kind"],
                "status": o["status"],
                "opened_on": o["opened_on"],
                "due_on": o["due_on"],
                "closed": closed,
                "closed_on": closed_on,
                "on_time": closed_on is not None and closed_on <= o["due_on"],
                "overdue": o["status"] in OPEN_ORDERS and o["due_on"] < today,
            }
        )
    return rows


def compliance_coverage(start: dt.date, end: dt.date, today: dt.date) -> list[Row]:
    from fuwu.areas.models import AreaLevel
    from fuwu.compliance.coverage import rollup, standards_with_kinds

    versions = standards_with_kinds()
    keys = {v.standard_id: v.standard.key for v in versions}
    rows = []
    for coverage, version in zip(rollup(versions), versions, strict=True):
        for r in coverage.rows:
            if r.level not in (AreaLevel.TOWNSHIP, AreaLevel.VILLAGE):
                continue
            rows.append(
                {
                    "area": r.code,
                    "standard": keys[version.standard_id],
                    "level": r.level,
                    "institutions": r.institutions,
                    "covered": r.covered,
                    "pilot": bool(r.pilot),
                    "pilot_status": r.pilot or None,
                }
            )
    return rows


# Views "as computed": their rows do not depend on the period (read once per run).
UNDATED = frozenset({"compliance_coverage"})

PRODUCERS: dict[str, Producer] = {
    "homecare_visits": homecare_visits,
    "homecare_responses": homecare_responses,
    "homecare_complaints": homecare_complaints,
    "homecare_new_accounts": homecare_new_accounts,
    "homecare_entitled": homecare_entitled,
    "homecare_caregivers": homecare_caregivers,
    "screening_results": screening_results,
    "applications": applications,
    "applications_decided": applications_decided,
    "compliance_inspections": compliance_inspections,
    "compliance_clauses": compliance_clauses,
    "compliance_rectifications": compliance_rectifications,
    "compliance_coverage": compliance_coverage,
}


# --- the same views as queries, for the set-based engine ---------------------------------------------------
#
# For every view read per period but one, each producer above has a twin here: the same columns as one ORM
# query the engine wraps in a GROUP BY (engine.py, ``count_by_sql``), so the rows never leave the database. Each
# column is the ``v_<name>`` annotation of the producer's column of that name, with the same meaning
# (tests/evaluation/test_sql_path.py holds the two equal); ``v_period`` is the first day of the period the row
# falls in. An event view's query covers a whole range of periods of one kind (``[first, end)``, bucketed by
# ``kind``); a snapshot view's one period (``[first, end)``, ``v_period`` its first day). The two views with no
# query here are read through their producers: screening results (its rows are already the run's township
# counts, split by one GROUP BY over its candidates) and compliance coverage (undated: the compliance roll-up,
# read once per run).

# A view's query: (first, end, today, kind) -> the parts whose rows together are the view's rows.
Query = Callable[[dt.date, dt.date, dt.date, str], list[QuerySet[Any]]]


class _Seconds(Func):
    """``a - b`` in seconds, for two datetimes (exact on PostgreSQL, microseconds ÷ 10⁶ on SQLite)."""

    arg_joiner = " - "
    template = "EXTRACT(EPOCH FROM (%(expressions)s))"
    output_field = DecimalField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # Django's own SQLite function for datetime differences (whole microseconds).
        return self.as_sql(
            compiler, connection, template="(django_timestamp_diff(%(expressions)s) / 1000000.0)", arg_joiner=", "
        )


class _Days(Func):
    """``a - b`` in whole days, for two dates."""

    arg_joiner = " - "
    template = "(%(expressions)s)"
    output_field = IntegerField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler, connection, template="CAST(julianday(%(expressions)s) AS INTEGER)", arg_joiner=") - julianday("
        )


def _flag(condition: Q | Exists) -> Case:
    """True or False (never unknown), as the producers' ``a is not None``, ``x in (...)`` columns are."""
    return Case(When(condition, then=Value(True)), default=Value(False), output_field=BooleanField())


def _bucket(field: str, kind: str, *, moment: bool = False) -> Trunc:
    """The first day of the period of ``kind`` a date (or a ``moment``, in local time) falls in."""
    zone = timezone.get_current_timezone() if moment else None
    return Trunc(field, kind, output_field=DateField(), tzinfo=zone)


def _local_day(field: str) -> TruncDate:
    return TruncDate(field, tzinfo=timezone.get_current_timezone())


def _columns(qs: QuerySet[Any], **columns: Any) -> QuerySet[Any]:
    return qs.order_by().values(**{f"v_{name}": value for name, value in columns.items()})


def _abs_seconds(a: Any, b: Any) -> Any:
    return Abs(_Seconds(a, b))


def homecare_visits_query(first: dt.date, end: dt.date, today: dt.date, kind: str) -> list[QuerySet[Any]]:
    partners = VisitPartner.objects.filter(order=OuterRef("pk"), checkin_at__isnull=False).order_by().values("order")
    # The largest gap over the lead and every partner who checked in: the partners' earliest and latest check-ins
    # bound it (|t - planned| is largest at one of the two ends).
    earliest = Subquery(partners.annotate(t=Min("checkin_at")).values("t"), output_field=DateTimeField())
    latest = Subquery(partners.annotate(t=Max("checkin_at")).values("t"), output_field=DateTimeField())
    lead = _abs_seconds(F("checkin_at"), F("planned_start"))
    offset = Case(
        When(
            Q(checkin_at__isnull=False, planned_start__isnull=False),
            then=Greatest(
                lead,
                Coalesce(_abs_seconds(earliest, F("planned_start")), lead),
                Coalesce(_abs_seconds(latest, F("planned_start")), lead),
            ),
        ),
        default=None,
        output_field=DecimalField(),
    )
    duration = Case(
        When(visit_minutes__isnull=False, then=ExpressionWrapper(F("visit_minutes") * 60, DecimalField())),
        When(Q(checkin_at__isnull=False, checkout_at__isnull=False), then=_Seconds(F("checkout_at"), F("checkin_at"))),
        default=None,
        output_field=DecimalField(),
    )
    orders = Order.objects.filter(account_month__month__gte=first, account_month__month__lt=end)
    return [
        _columns(
            orders,
            period=_bucket("account_month__month", kind),
            area=F("account__person__hukou_area"),
            provider_id=F("provider_id"),
            kind=F("kind"),
            status=F("status"),
            done=_flag(Q(status__in=DONE)),
            confirmed=_flag(Q(confirmed_at__isnull=False)),
            checked_in=_flag(Q(checkin_at__isnull=False)),
            planned=_flag(Q(planned_start__isnull=False)),
            arrival_offset_seconds=offset,
            checkin_distance_m=F("checkin_distance_m"),
            checkout_distance_m=F("checkout_distance_m"),
            located=_flag(Q(checkin_typed=False, checkout_typed=False)),
            duration_seconds=duration,
            agreed_minutes=F("minutes"),
            called_back=_flag(Exists(Callback.objects.filter(order=OuterRef("pk"), reached=True))),
        )
    ]


def homecare_responses_query(first: dt.date, end: dt.date, today: dt.date, kind: str) -> list[QuerySet[Any]]:
    dated = {"order__account_month__month__gte": first, "order__account_month__month__lt": end}
    common = {
        "period": _bucket("order__account_month__month", kind),
        "area": F("order__account__person__hukou_area"),
        "provider_id": F("order__provider_id"),
    }
    return [
        _columns(
            Rating.objects.filter(**dated),
            **common,
            stars=F("stars"),
            callback_satisfied=Cast(Value(None), BooleanField()),
        ),
        _columns(
            Callback.objects.filter(**dated, reached=True, satisfied__isnull=False),
            **common,
            stars=Cast(Value(None), IntegerField()),
            callback_satisfied=F("satisfied"),
        ),
    ]


def homecare_complaints_query(first: dt.date, end: dt.date, today: dt.date, kind: str) -> list[QuerySet[Any]]:
    low, high = _bounds(first, end)
    return [
        _columns(
            Complaint.objects.filter(lodged_at__gte=low, lodged_at__lt=high),
            period=_bucket("lodged_at", kind, moment=True),
            area=F("order__account__person__hukou_area"),
            provider_id=F("order__provider_id"),
            status=F("status"),
            due_on=F("due_on"),
            resolved_on=_local_day("resolved_at"),
            pending=_flag(Q(status=ComplaintStatus.OPEN, due_on__gte=today)),
        )
    ]


def homecare_new_accounts_query(first: dt.date, end: dt.date, today: dt.date, kind: str) -> list[QuerySet[Any]]:
    visited = Order.objects.filter(account=OuterRef("pk"), status__in=DONE).order_by().values("account")
    accounts = EntitlementAccount.objects.filter(opened_on__gte=first, opened_on__lt=end).alias(
        first_visit=Subquery(visited.annotate(t=Min("checkin_at")).values("t"), output_field=DateTimeField())
    )
    return [
        _columns(
            accounts,
            period=_bucket("opened_on", kind),
            area=F("person__hukou_area"),
            provider_id=F("provider_id"),
            opened_on=F("opened_on"),
            first_visit_due=F("first_visit_due"),
            first_visit_on=_local_day("first_visit"),
            pending=_flag(Q(first_visit__isnull=True, first_visit_due__gte=today)),
        )
    ]


def homecare_entitled_query(start: dt.date, end: dt.date, today: dt.date, kind: str) -> list[QuerySet[Any]]:
    served = Order.objects.filter(
        account=OuterRef("pk"),
        kind=OrderKind.SUBSIDISED,
        status__in=DONE,
        confirmed_at__isnull=False,
        account_month__month__gte=start,
        account_month__month__lt=end,
    )
    return [
        _columns(
            EntitlementAccount.objects.filter(status=AccountStatus.ACTIVE, opened_on__lt=end),
            period=Value(start, output_field=DateField()),
            area=F("person__hukou_area"),
            provider_id=F("provider_id"),
            served=_flag(Exists(served)),
        )
    ]


def _applications_query(first: dt.date, end: dt.date, today: dt.date, kind: str, *, by: str) -> list[QuerySet[Any]]:
    from fuwu.applications.models import Application, Status

    low, high = _bounds(first, end)
    decided_states = (Status.APPROVED, Status.REFUSED)
    rows = Application.objects.filter(**{f"{by}__gte": low, f"{by}__lt": high})
    if by == "decided_at":
        rows = rows.filter(status__in=decided_states)
    decided = Q(status__in=decided_states, decided_at__isnull=False)
    rows = rows.alias(
        decided_local=Case(When(decided, then=_local_day("decided_at")), default=None, output_field=DateField()),
        submitted_local=_local_day("submitted_at"),
    )
    return [
        _columns(
            rows,
            period=_bucket(by, kind, moment=True),
            area=NullIf(F("area_code"), Value("")),
            item=F("item_key"),
            status=F("status"),
            submitted_on=F("submitted_local"),
            accepted=_flag(Q(due_on__isnull=False)),
            due_on=F("due_on"),
            decided=_flag(decided),
            decided_on=F("decided_local"),
            on_time=Case(
                When(decided & Q(due_on__isnull=True), then=Value(True)),
                When(decided, then=_flag(Q(decided_local__lte=F("due_on")))),
                default=None,
                output_field=BooleanField(),
            ),
            overdue=_flag(Q(status__in=("submitted", "in_progress"), due_on__isnull=False, due_on__lt=today)),
            days_to_decision=_Days(F("decided_local"), F("submitted_local")),
        )
    ]


def applications_query(first: dt.date, end: dt.date, today: dt.date, kind: str) -> list[QuerySet[Any]]:
    return _applications_query(first, end, today, kind, by="submitted_at")


def applications_decided_query(first: dt.date, end: dt.date, today: dt.date, kind: str) -> list[QuerySet[Any]]:
    return _applications_query(first, end, today, kind, by="decided_at")


def homecare_caregivers_query(start: dt.date, end: dt.date, today: dt.date, kind: str) -> list[QuerySet[Any]]:
    year_start = (end - dt.timedelta(days=1)).replace(month=1, day=1)
    hours = (
        TrainingRecord.objects.filter(
            caregiver=OuterRef("pk"),
            kind=TrainingKind.IN_SERVICE,
            completed_on__gte=year_start,
            completed_on__lt=end,
        )
        .order_by()
        .values("caregiver")
        .annotate(h=Sum("hours"))
        .values("h")
    )
    return [
        _columns(
            Caregiver.objects.filter(active=True),
            period=Value(start, output_field=DateField()),
            area=Cast(Value(None), CharField()),
            provider_id=F("provider_id"),
            training_hours=Coalesce(Subquery(hours, output_field=DecimalField()), Value(Decimal(0))),
        )
    ]


def compliance_inspections_query(first: dt.date, end: dt.date, today: dt.date, kind: str) -> list[QuerySet[Any]]:
    from fuwu.compliance.models import DONE as INSPECTED
    from fuwu.compliance.models import FAILED, ChecklistItem, Inspection, InspectionStatus

    done = Q(status__in=INSPECTED)
    failed = (
        ChecklistItem.objects.filter(inspection=OuterRef("pk"), answer__result__in=FAILED)
        .order_by()
        .values("inspection")
        .annotate(n=Count("pk"))
        .values("n")
    )
    inspections = (
        Inspection.objects.exclude(status=InspectionStatus.CANCELLED)
        .filter(
            Q(inspected_on__gte=first, inspected_on__lt=end)
            | Q(inspected_on__isnull=True, planned_on__gte=first, planned_on__lt=end)
        )
        .alias(dated=Coalesce("inspected_on", "planned_on"))
    )

    def if_done(value: Any, output: Any) -> Case:
        return Case(When(done, then=value), default=None, output_field=output)

    return [
        _columns(
            inspections,
            period=_bucket("dated", kind),
            area=F("institution__area__code"),
            standard=F("standard__key"),
            institution_kind=F("institution__kind"),
            kind=F("kind"),
            status=F("status"),
            done=_flag(done),
            planned_on=F("planned_on"),
            inspected_on=F("inspected_on"),
            on_schedule=Case(
                When(planned_on__isnull=True, then=None),
                default=_flag(done & Q(inspected_on__isnull=False, inspected_on__lte=F("planned_on"))),
                output_field=BooleanField(),
            ),
            score=F("score"),
            passed=if_done(F("passed"), BooleanField()),
            critical_failed=if_done(F("critical_failed"), BooleanField()),
            failed_clauses=if_done(Coalesce(Subquery(failed, output_field=IntegerField()), Value(0)), IntegerField()),
        )
    ]


def compliance_clauses_query(first: dt.date, end: dt.date, today: dt.date, kind: str) -> list[QuerySet[Any]]:
    from fuwu.compliance.models import DONE as INSPECTED
    from fuwu.compliance.models import ChecklistItem

    items = ChecklistItem.objects.filter(
        inspection__status__in=INSPECTED,
        inspection__inspected_on__gte=first,
        inspection__inspected_on__lt=end,
        answer__isnull=False,
    )
    return [
        _columns(
            items,
            period=_bucket("inspection__inspected_on", kind),
            area=F("inspection__institution__area__code"),
            standard=F("inspection__standard__key"),
            institution_kind=F("inspection__institution__kind"),
            inspection_kind=F("inspection__kind"),
            clause=F("clause_number"),
            clause_kind=F("clause_kind"),
            critical=F("critical"),
            result=F("answer__result"),
        )
    ]


def compliance_rectifications_query(first: dt.date, end: dt.date, today: dt.date, kind: str) -> list[QuerySet[Any]]:
    from fuwu.compliance.models import OPEN_ORDERS, OrderStatus, RectificationOrder

    closed = Q(status__in=(OrderStatus.ACCEPTED, OrderStatus.VERIFIED))
    orders = RectificationOrder.objects.filter(opened_on__gte=first, opened_on__lt=end).alias(
        closed_local=Case(When(closed, then=_local_day("decided_at")), default=None, output_field=DateField())
    )
    return [
        _columns(
            orders,
            period=_bucket("opened_on", kind),
            area=F("institution__area__code"),
            standard=F("inspection__standard__key"),
            institution_kind=F("institution__kind"),
            status=F("status"),
            opened_on=F("opened_on"),
            due_on=F("due_on"),
            closed=_flag(closed),
            closed_on=F("closed_local"),
            on_time=_flag(Q(closed_local__isnull=False, closed_local__lte=F("due_on"))),
            overdue=_flag(Q(status__in=OPEN_ORDERS, due_on__lt=today)),
        )
    ]


QUERIES: dict[str, Query] = {
    "homecare_visits": homecare_visits_query,
    "homecare_responses": homecare_responses_query,
    "homecare_complaints": homecare_complaints_query,
    "homecare_new_accounts": homecare_new_accounts_query,
    "homecare_entitled": homecare_entitled_query,
    "applications": applications_query,
    "applications_decided": applications_decided_query,
    "homecare_caregivers": homecare_caregivers_query,
    "compliance_inspections": compliance_inspections_query,
    "compliance_clauses": compliance_clauses_query,
    "compliance_rectifications": compliance_rectifications_query,
}
