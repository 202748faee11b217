"""Supervision: telephone callbacks on a random sample of visits, and the standard's quality indicators.

Callbacks: officers sample the completed visits of a month in their area so that at least the
standard's share of them is called back (``callback_share``, a percent). Sampling may run any day and
tops the month up to the share of what is completed so far; each sampled visit is due for its call
within the standard's working days (``callback_days``) of the later of the visit and the sampling day,
so a visit sampled late still gets the full time.

Indicators: each of the standard's indicators that fuwu can count from its own records, per provider
and per county and township of the elder's hukou, with its numerator, denominator, value and the
target of the version in force. How each formula is read:

* hc-on-time-rate — visits whose caregivers (the lead and any partner who came) all checked in within the
  standard's punctuality tolerance (``visit_rules.punctuality``, 15 min in Taizhou) of the agreed time, the
  start the plan gave the elder ÷ visits checked in;
* hc-satisfaction-rate — ratings of 4 or 5 stars (满意, 非常满意) plus callbacks that reached the elder
  and found them satisfied ÷ all ratings plus all such callbacks (the valid respondents);
* hc-complaint-resolution-rate — complaints lodged in the month resolved by their due day ÷ complaints
  lodged in the month; an open complaint not yet due is left out until it is resolved or overdue;
* hc-callback-rate — completed visits whose callback reached the elder ÷ completed visits;
* hc-checkin-compliance-rate — completed visits with check-in and check-out located by the phone (not
  typed) within the standard's radius, and lasting at least the project's minutes (from when every
  caregiver it needs was there) ÷ completed visits;
* hc-first-visit-rate — accounts opened in the month whose first completed visit came by their
  ``first_visit_due`` ÷ accounts opened in the month; one with no visit yet and not yet due is left out;
* hc-training-completion-rate — active caregivers with at least the annual training hours of
  in-service training from January to the end of the month ÷ active caregivers (per provider only:
  caregivers belong to no hukou area).

* hc-coverage-rate — elders with an active account opened by the month's end who had a confirmed,
  completed subsidised visit drawn on the month's allowance ÷ those elders.

The visits of a month are those drawn on that month's allowance (``order.account_month.month``).

The county and township rows come from the evaluation engine's table (``fuwu.evaluation``: the same
formulas written as the standard's ``computation``s over published data views), brought up to date for the
month first — a no-op when nothing they count has changed. The provider rows and the totals are still
counted here: the engine's table has no provider dimension, and a scope's totals include training, which
is counted by provider. tests/evaluation holds the engine's numbers equal to this module's.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
import secrets
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Count, Min, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from fuwu.accounts.models import Role
from fuwu.accounts.permissions import has_role
from fuwu.areas.models import Area, AreaLevel
from fuwu.common import satisfaction, workdays
from fuwu.common.audit import audit
from fuwu.homecare import permissions, standard, visits
from fuwu.homecare.models import (
    AccountStatus,
    Callback,
    Caregiver,
    Complaint,
    ComplaintStatus,
    EntitlementAccount,
    Order,
    OrderKind,
    Provider,
    Rating,
    TrainingKind,
)
from fuwu.homecare.services import HomeCareError, calendar_overrides, local_now, month_start
from fuwu.homecare.settlement import DONE, next_month, serves
from fuwu.residents.permissions import in_officer_area, officer_prefix
from fuwu.standards.models import Indicator

# Ratings at or above this are 非常满意 (5) or 满意 (4): the national scale's "satisfied" (fuwu.common.satisfaction).
SATISFIED_STARS = int(satisfaction.SATISFIED_AT_LEAST)


def _local_date(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment).date()


def _scope(user: Any) -> str | None:
    """The hukou prefix ``user`` supervises ("" for everywhere); ``None`` for no supervision at all."""
    if has_role(user, {Role.AUDITOR}):
        return ""
    prefix = officer_prefix(user)
    return prefix if prefix is not None and permissions.can_supervise(user) else None


def _month_orders(prefix: str, first: dt.date) -> QuerySet[Order]:
    return Order.objects.filter(account_month__month=first, account__person__hukou_area__startswith=prefix)


# --- callbacks ------------------------------------------------------------------------------------


def _callback_due(order: Order, sampled_on: dt.date, overrides: dict[dt.date, bool]) -> dt.date:
    visited = _local_date(order.checkout_at) if order.checkout_at else sampled_on
    days = int(standard.number("callback_days", on=visited))
    return workdays.add_working_days(max(visited, sampled_on), days, overrides=overrides)


@transaction.atomic
def callbacks_sample(
    *,
    actor: Any,
    month: dt.date,
    share: Decimal | None = None,
    seed: int | None = None,
    now: dt.datetime | None = None,
) -> list[Callback]:
    """Sample the month's completed visits in the officer's area up to ``share`` percent called back.

    ``share`` defaults to the standard's; ``seed`` makes the draw repeatable (for a re-check), without
    it the draw is unpredictable so a provider cannot tell which visits will be called.
    """
    prefix = officer_prefix(actor)
    if prefix is None or not permissions.can_supervise(actor):
        raise PermissionDenied("only an officer with an area may sample callbacks")
    now = now or local_now()
    first = month_start(month)
    if first > month_start(now.date()):
        raise HomeCareError(_("这个月还没有开始，没有可以回访的服务。"), code="future_month")
    if share is None:
        share = standard.number("callback_share", on=first)
    if not Decimal(0) <= share <= Decimal(100):
        raise HomeCareError(_("回访比例应在0～100%之间。"), code="bad_share")
    completed = list(
        _month_orders(prefix, first)
        .filter(status__in=DONE)
        .select_for_update()
        .select_related("account__person")
        .order_by("pk")
    )
    sampled = set(Callback.objects.filter(order__in=[o.pk for o in completed]).values_list("order_id", flat=True))
    needed = int((Decimal(len(completed)) * share / 100).to_integral_value(rounding=ROUND_CEILING))
    candidates = [o for o in completed if o.pk not in sampled]
    count = min(max(needed - len(sampled), 0), len(candidates))
    if count == 0:
        return []
    draw = random.Random(seed) if seed is not None else secrets.SystemRandom()  # noqa: S311 - a seeded re-check
    chosen = sorted(draw.sample(candidates, count), key=lambda o: o.pk)
    overrides = calendar_overrides()
    today = now.date()
    created = []
    for order in chosen:
        callback = Callback.objects.create(order=order, sampled_on=today, due_on=_callback_due(order, today, overrides))
        audit(
            actor=actor,
            event="homecare.callback_sampled",
            obj=callback,
            after={"order": order.pk, "due_on": str(callback.due_on), "share": str(share), "seeded": seed is not None},
        )
        created.append(callback)
    return created


@transaction.atomic
def callback_record(
    *,
    actor: Any,
    callback: Callback,
    reached: bool,
    satisfied: bool | None,
    note: str = "",
    now: dt.datetime | None = None,
) -> Callback:
    """Record the call. Not reached: may be tried again; reached: the answer is final."""
    callback = Callback.objects.select_for_update().select_related("order__account__person").get(pk=callback.pk)
    if not permissions.is_officer_for(actor, callback.order.account.person):
        raise PermissionDenied("only an officer of the elder's area may record the callback")
    if callback.reached:
        raise HomeCareError(_("这次回访已经记录过了。"), code="wrong_state")
    if reached and satisfied is None:
        raise HomeCareError(_("已接通时，请选择老人或家属对服务是否满意。"), code="satisfaction_required")
    if not reached and not note.strip():
        raise HomeCareError(
            _("未接通时，请在备注中写明情况（如无人接听、号码错误），以便再次回访。"), code="note_required"
        )
    before = {"reached": callback.reached, "satisfied": callback.satisfied}
    callback.done_at, callback.done_by = now or local_now(), actor
    callback.reached = reached
    callback.satisfied = satisfied if reached else None
    callback.note = note.strip()
    callback.save()
    audit(
        actor=actor,
        event="homecare.callback_recorded",
        obj=callback,
        before=before,
        after={"reached": reached, "satisfied": callback.satisfied},
        note=callback.note,
    )
    return callback


def callbacks_for_user(*, user: Any, month: dt.date) -> QuerySet[Callback]:
    """The month's callbacks in the user's supervision scope (empty for anyone else)."""
    prefix = _scope(user)
    if prefix is None:
        return Callback.objects.none()
    orders = _month_orders(prefix, month_start(month))
    return (
        Callback.objects.filter(order__in=orders.values("pk"))
        .select_related("order", "order__account__person", "order__provider", "done_by")
        .order_by("due_on", "pk")
    )


def callback_for_user(*, user: Any, pk: int) -> Callback:
    prefix = _scope(user)
    if prefix is None:
        raise Callback.DoesNotExist
    return Callback.objects.select_related("order__account__person").get(
        pk=pk, order__account__person__hukou_area__startswith=prefix
    )


def may_record_callback(user: Any, callback: Callback) -> bool:
    return in_officer_area(user, callback.order.account.person.hukou_area) and not callback.reached


# --- indicators -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fact:
    """One counted case of an indicator: whose it is and whether it meets the formula."""

    provider_id: int
    hukou_area: str  # "" when the case belongs to no elder (caregivers' training)
    hit: bool


@dataclass(frozen=True)
class IndicatorValue:
    key: str
    name: str
    formula: str
    numerator: int
    denominator: int
    target: Decimal | None
    comparison: str
    unit: str

    @property
    def value(self) -> Decimal | None:
        """Percent to one decimal; ``None`` when there is nothing to count."""
        if not self.denominator:
            return None
        return (Decimal(self.numerator * 100) / self.denominator).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    @property
    def met(self) -> bool | None:
        """Against the exact ratio, not the rounded percent; ``None`` without data or target."""
        if not self.denominator or self.target is None:
            return None
        share, goal = Decimal(self.numerator * 100), self.target * self.denominator
        if self.comparison == "at_most":
            return share <= goal
        if self.comparison == "equal":
            return share == goal
        return share >= goal


@dataclass(frozen=True)
class IndicatorRow:
    code: str  # provider pk or area code
    label: str
    values: list[IndicatorValue]


@dataclass(frozen=True)
class SupervisionReport:
    month: dt.date
    indicators: list[Indicator]
    providers: list[IndicatorRow]
    counties: list[IndicatorRow]
    townships: list[IndicatorRow]
    totals: IndicatorRow
    notes: list[str] = field(default_factory=list)


def _on_time(prefix: str, first: dt.date, today: dt.date) -> Iterable[Fact]:
    try:
        tolerance = dt.timedelta(minutes=visits.rules_on(first).tolerance)
    except visits.NoVisitRules:
        return  # no agreed tolerance to count against: no data

    orders = (
        _month_orders(prefix, first)
        .filter(checkin_at__isnull=False, planned_start__isnull=False)
        .select_related("account__person")
        .prefetch_related("partners")
    )
    for o in orders:
        assert o.planned_start is not None  # noqa: S101 - filtered above
        arrivals = [o.checkin_at, *(p.checkin_at for p in o.partners.all())]
        hit = all(abs(a - o.planned_start) <= tolerance for a in arrivals if a is not None)
        yield Fact(o.provider_id, o.account.person.hukou_area, hit)


def _satisfaction(prefix: str, first: dt.date, today: dt.date) -> Iterable[Fact]:
    orders = _month_orders(prefix, first).values("pk")
    for r in Rating.objects.filter(order__in=orders).values(
        "order__provider_id", "order__account__person__hukou_area", "stars"
    ):
        yield Fact(r["order__provider_id"], r["order__account__person__hukou_area"], r["stars"] >= SATISFIED_STARS)
    for c in Callback.objects.filter(order__in=orders, reached=True, satisfied__isnull=False).values(
        "order__provider_id", "order__account__person__hukou_area", "satisfied"
    ):
        yield Fact(c["order__provider_id"], c["order__account__person__hukou_area"], bool(c["satisfied"]))


def _month_range(first: dt.date) -> tuple[dt.datetime, dt.datetime]:
    zone = timezone.get_current_timezone()
    return (
        dt.datetime.combine(first, dt.time(), tzinfo=zone),
        dt.datetime.combine(next_month(first), dt.time(), tzinfo=zone),
    )


def _complaints(prefix: str, first: dt.date, today: dt.date) -> Iterable[Fact]:
    start, end = _month_range(first)
    complaints = Complaint.objects.filter(
        lodged_at__gte=start, lodged_at__lt=end, order__account__person__hukou_area__startswith=prefix
    ).exclude(status=ComplaintStatus.OPEN, due_on__gte=today)
    for c in complaints.values("order__provider_id", "order__account__person__hukou_area", "resolved_at", "due_on"):
        hit = c["resolved_at"] is not None and _local_date(c["resolved_at"]) <= c["due_on"]
        yield Fact(c["order__provider_id"], c["order__account__person__hukou_area"], hit)


def _callbacks(prefix: str, first: dt.date, today: dt.date) -> Iterable[Fact]:
    orders = _month_orders(prefix, first).filter(status__in=DONE)
    for o in orders.values("provider_id", "account__person__hukou_area", "callback__reached"):
        yield Fact(o["provider_id"], o["account__person__hukou_area"], o["callback__reached"] is True)


def _checkin_compliance(prefix: str, first: dt.date, today: dt.date) -> Iterable[Fact]:
    radius = int(standard.number("checkin_radius_m", on=first))
    orders = _month_orders(prefix, first).filter(status__in=DONE)
    for o in orders.values(
        "provider_id",
        "account__person__hukou_area",
        "checkin_distance_m",
        "checkout_distance_m",
        "checkin_typed",
        "checkout_typed",
        "checkin_at",
        "checkout_at",
        "visit_minutes",
        "minutes",
    ):
        near = all(d is not None and d <= radius for d in (o["checkin_distance_m"], o["checkout_distance_m"]))
        located = not (o["checkin_typed"] or o["checkout_typed"])
        if o["visit_minutes"] is not None:
            long_enough = o["visit_minutes"] >= o["minutes"]
        else:  # checked out before the visit rules counted the duration
            long_enough = (
                o["checkin_at"] is not None
                and o["checkout_at"] is not None
                and o["checkout_at"] - o["checkin_at"] >= dt.timedelta(minutes=o["minutes"])
            )
        yield Fact(o["provider_id"], o["account__person__hukou_area"], near and located and long_enough)


def _first_visits(prefix: str, first: dt.date, today: dt.date) -> Iterable[Fact]:
    accounts = EntitlementAccount.objects.filter(
        opened_on__gte=first, opened_on__lt=next_month(first), person__hukou_area__startswith=prefix
    ).annotate(first_visit=Min("orders__checkin_at", filter=Q(orders__status__in=DONE)))
    for a in accounts.values("provider_id", "person__hukou_area", "first_visit", "first_visit_due"):
        if a["first_visit"] is None and a["first_visit_due"] >= today:
            continue  # not visited yet, but still within the limit
        hit = a["first_visit"] is not None and _local_date(a["first_visit"]) <= a["first_visit_due"]
        yield Fact(a["provider_id"], a["person__hukou_area"], hit)


def _training(prefix: str, first: dt.date, today: dt.date) -> Iterable[Fact]:
    needed = standard.number("annual_training_hours", on=first)
    year_start, end = first.replace(month=1, day=1), next_month(first)
    providers = Provider.objects.prefetch_related("areas")
    in_scope = [p.pk for p in providers if not prefix or serves(p, prefix)]
    caregivers = Caregiver.objects.filter(provider_id__in=in_scope, active=True).annotate(
        hours=Sum(
            "training__hours",
            filter=Q(
                training__kind=TrainingKind.IN_SERVICE,
                training__completed_on__gte=year_start,
                training__completed_on__lt=end,
            ),
        )
    )
    for c in caregivers.values("provider_id", "hours"):
        yield Fact(c["provider_id"], "", (c["hours"] or 0) >= needed)


def _coverage(prefix: str, first: dt.date, today: dt.date) -> Iterable[Fact]:
    """Elders served at least once in the month among those entitled at its end.

    "Entitled" is read as an active account opened by the end of the month: accounts are opened from the
    registry screening for every elder it finds entitled (those in an area no provider serves are not
    counted, as they have no account yet; the proactive list shows them).
    """
    end = next_month(first)
    accounts = EntitlementAccount.objects.filter(
        status=AccountStatus.ACTIVE, opened_on__lt=end, person__hukou_area__startswith=prefix
    ).annotate(
        served=Count(
            "orders",
            filter=Q(
                orders__kind=OrderKind.SUBSIDISED,
                orders__status__in=DONE,
                orders__confirmed_at__isnull=False,
                orders__account_month__month=first,
            ),
        )
    )
    for a in accounts.values("provider_id", "person__hukou_area", "served"):
        yield Fact(a["provider_id"], a["person__hukou_area"], a["served"] > 0)


COUNTERS: dict[str, Callable[[str, dt.date, dt.date], Iterable[Fact]]] = {
    "hc-coverage-rate": _coverage,
    "hc-on-time-rate": _on_time,
    "hc-satisfaction-rate": _satisfaction,
    "hc-complaint-resolution-rate": _complaints,
    "hc-callback-rate": _callbacks,
    "hc-checkin-compliance-rate": _checkin_compliance,
    "hc-first-visit-rate": _first_visits,
    "hc-training-completion-rate": _training,
}


def _tally(facts: Iterable[Fact], key: Callable[[Fact], str | None]) -> dict[str, list[int]]:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for fact in facts:
        group = key(fact)
        if group is None:
            continue
        counts[group][0] += fact.hit
        counts[group][1] += 1
    return counts


def _materialised(
    defined: dict[str, Indicator], first: dt.date, now: dt.datetime, *, prefix: str, level: str
) -> dict[str, dict[str, list[int]]]:
    """Numerator and denominator per indicator key and area code of ``level``, from the engine's table."""
    from fuwu.evaluation.engine import indicators_compute
    from fuwu.evaluation.models import IndicatorValue as Materialised

    last = next_month(first) - dt.timedelta(days=1)
    # IntegrityError: another request stored the same month at the same moment; read what it wrote.
    with contextlib.suppress(IntegrityError):
        indicators_compute(first=first, last=last, standards=[standard.config("standard")], kinds=["month"], now=now)
    rows = Materialised.objects.filter(
        indicator__in=list(defined.values()),
        period_kind="month",
        period_start=first,
        area__level=level,
        area__code__startswith=prefix,
    ).values_list("indicator__key", "area__code", "numerator", "denominator")
    out: dict[str, dict[str, list[int]]] = {k: {} for k in defined}
    for key, code, numerator, denominator in rows:
        out[key][code] = [numerator, denominator]
    return out


def indicators(*, user: Any, month: dt.date, now: dt.datetime | None = None) -> SupervisionReport:
    """The month's indicators in ``user``'s supervision scope (officers: their area; auditors: all)."""
    prefix = _scope(user)
    if prefix is None:
        raise PermissionDenied("only officers and auditors see the supervision indicators")
    first = month_start(month)
    moment = now or local_now()
    today = moment.date()
    defined = {i.key: i for i in standard.version().indicators.filter(key__in=list(COUNTERS))}
    keys = [k for k in COUNTERS if k in defined]
    notes = [_("标准中没有指标 %(key)s，未统计。") % {"key": k} for k in COUNTERS if k not in defined]
    facts = {k: list(COUNTERS[k](prefix, first, today)) for k in keys}

    def values(tallies: dict[str, dict[str, list[int]]], group: str) -> list[IndicatorValue]:
        out = []
        for k in keys:
            numerator, denominator = tallies[k].get(group, [0, 0])
            i = defined[k]
            out.append(IndicatorValue(k, i.name, i.formula, numerator, denominator, i.target, i.comparison, i.unit))
        return out

    by_provider = {k: _tally(f, lambda x: str(x.provider_id)) for k, f in facts.items()}
    everything = {k: _tally(f, lambda x: "all") for k, f in facts.items()}
    # Areas come from the evaluation engine's table (the standard's own definitions), brought up to date
    # for the month first: a no-op when nothing it counts has changed (docs/evaluation.md).
    by_county = _materialised(defined, first, moment, prefix=prefix, level=AreaLevel.COUNTY)
    by_township = _materialised(defined, first, moment, prefix=prefix, level=AreaLevel.TOWNSHIP)

    provider_ids = sorted({g for t in by_provider.values() for g in t}, key=int)
    names = dict(Provider.objects.filter(pk__in=[int(p) for p in provider_ids]).values_list("pk", "name"))
    counties = sorted({g for t in by_county.values() for g in t})
    townships = sorted({g for t in by_township.values() for g in t})
    english = (get_language() or "").startswith("en")
    areas = {
        code: (en if english and en else zh)
        for code, zh, en in Area.objects.filter(code__in=[*counties, *townships]).values_list(
            "code", "name_zh", "name_en"
        )
    }
    return SupervisionReport(
        month=first,
        indicators=[defined[k] for k in keys],
        providers=sorted(
            (IndicatorRow(p, names.get(int(p), p), values(by_provider, p)) for p in provider_ids),
            key=lambda r: r.label,
        ),
        counties=[IndicatorRow(c, areas.get(c, c), values(by_county, c)) for c in counties],
        townships=[IndicatorRow(t, areas.get(t, t), values(by_township, t)) for t in townships],
        totals=IndicatorRow("all", _("合计"), values(everything, "all")),
        notes=notes,
    )
