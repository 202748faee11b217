"""A provider's day, planned: the accepted and scheduled orders given to caregivers by the dispatch solver.

``fuwu.homecare.dispatch`` knows nothing of the database; this module turns a provider's orders and
caregivers into its inputs and writes its answer back through ``order_schedule`` / ``order_unschedule``
so every assignment passes the same checks (qualifications, certificate, training) and is audited.
A visit that needs two caregivers gets its second one through ``order_partner_assign`` at the same time
(``dispatch`` pairs them after solving; see ``docs/dispatch.md``).

An order's window is when the whole visit must happen, so the solver's start window is the order's
window shortened by the visit length. Orders already under way or done are left alone. A re-plan after
an absence (``caregiver_absent``) plans the day's remaining orders again from the moment it is asked
for, with everyone else starting from their last finished visit (or home), and prefers to keep each
order with the caregiver it was promised to.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from fuwu.common.audit import audit
from fuwu.homecare import dispatch, permissions, standard
from fuwu.homecare.models import Caregiver, CaregiverAbsence, DispatchRun, Order, OrderStatus, Provider
from fuwu.homecare.services import (
    HomeCareError,
    caregiver_blockers,
    local_now,
    order_partner_assign,
    order_schedule,
    order_unschedule,
)

PLANNABLE = (OrderStatus.ACCEPTED, OrderStatus.SCHEDULED)


def _minutes(moment: dt.datetime, day: dt.date) -> int:
    local = timezone.localtime(moment)
    midnight = dt.datetime.combine(day, dt.time(), tzinfo=local.tzinfo)
    return int((local - midnight).total_seconds() // 60)


def _at(day: dt.date, minutes: float) -> dt.datetime:
    midnight = dt.datetime.combine(day, dt.time(), tzinfo=timezone.get_current_timezone())
    return midnight + dt.timedelta(minutes=round(minutes))


def _day_orders(provider: Provider, day: dt.date) -> list[Order]:
    start = _at(day, 0)
    return list(
        Order.objects.filter(provider=provider, window_start__gte=start, window_start__lt=start + dt.timedelta(days=1))
        .select_related("account", "caregiver")
        .prefetch_related("partners")
        .order_by("window_start", "id")
    )


@transaction.atomic
def dispatch_day(
    *,
    actor: Any,
    provider: Provider,
    day: dt.date,
    now: dt.datetime | None = None,
    reason: str = "",
    time_limit_s: float = 5.0,
    solver: dispatch.SolverName = "pyvrp",
) -> DispatchRun:
    """Plan (or re-plan) ``provider``'s visits on ``day``; returns the run with what was left out and why."""
    if actor is not None and not permissions.manages(actor, provider):
        raise PermissionDenied("only the provider's administrators may plan its day")
    now = now or local_now()
    from_minute = max(0, _minutes(now, day)) if timezone.localtime(now).date() == day else 0
    if timezone.localtime(now).date() > day:
        raise HomeCareError(_("不能为已经过去的日期派单。"), code="day_passed")
    orders = _day_orders(provider, day)
    # A second caregiver already at the door keeps the visit where it is, as a lead's check-in would.
    todo = [o for o in orders if o.status in PLANNABLE and not any(p.checkin_at for p in o.partners.all())]
    absent = set(
        CaregiverAbsence.objects.filter(caregiver__provider=provider, day=day).values_list("caregiver", flat=True)
    )
    caregivers, excluded = _caregivers(provider, day, absent, orders, from_minute)
    visits, unassigned = _visits(todo, from_minute)
    plan = dispatch.plan(
        visits,
        list(caregivers.values()),
        travel=dispatch.HaversineTravel(),
        time_limit_s=time_limit_s,
        solver=solver,
    )
    by_id = {o.pk: o for o in todo}
    assigned = 0
    team = {c.pk: c for c in Caregiver.objects.filter(pk__in=[int(r.caregiver_id) for r in plan.routes])}
    # Leads first (scheduling clears an order's old partners), then each visit's partners.
    for role in ("lead", "partner"):
        for route in plan.routes:
            for stop in route.stops:
                if stop.role != role:
                    continue
                order, caregiver = by_id[int(stop.visit_id)], team[int(route.caregiver_id)]
                if role == "lead":
                    order_schedule(actor=actor, order=order, caregiver=caregiver, planned_start=_at(day, stop.start))
                    assigned += 1
                else:
                    order_partner_assign(actor=actor, order=order, caregiver=caregiver)
    names = {str(c.pk): c.name for c in provider.caregivers.all()}
    for left in plan.unassigned:
        unassigned.append((int(left.visit_id), in_words(left.reason, names)))
    for order_id, why in unassigned:
        order = by_id[order_id]
        if order.status == OrderStatus.SCHEDULED:
            order_unschedule(actor=actor, order=order, reason=why)
        else:
            Order.objects.filter(pk=order_id).update(dispatch_note=why[:300])
    run = DispatchRun.objects.create(
        provider=provider,
        day=day,
        solver=plan.solver_used,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        reason=reason[:200],
        visits=len(todo),
        assigned=assigned,
        travel_minutes=Decimal(str(round(plan.total_travel_minutes, 1))),
        unassigned=[{"order": oid, "reason": why} for oid, why in unassigned],
        excluded_caregivers=[
            *excluded,
            *({"caregiver": int(cid), "reason": why} for cid, why in plan.excluded_caregivers),
        ],
    )
    audit(
        actor=actor,
        event="homecare.day_planned",
        obj=run,
        after={"day": str(day), "visits": len(todo), "assigned": assigned, "solver": plan.solver_used},
        note=reason,
    )
    return run


def _caregivers(
    provider: Provider, day: dt.date, absent: set[int], orders: list[Order], from_minute: int
) -> tuple[dict[int, dispatch.Caregiver], list[dict[str, Any]]]:
    """The solver's caregivers, each from where they are at ``from_minute``; and who is out, and why."""
    names = standard.qualification_names()
    available: dict[int, dispatch.Caregiver] = {}
    excluded: list[dict[str, Any]] = []
    for carer in provider.caregivers.filter(active=True).prefetch_related("training"):
        if carer.pk in absent:
            excluded.append({"caregiver": carer.pk, "reason": "当日请假"})
            continue
        # Stored in the run: in the site's language, whoever asked for the plan.
        with translation.override(settings.LANGUAGE_CODE):
            blockers = caregiver_blockers(carer, on=day)
        if blockers:
            excluded.append({"caregiver": carer.pk, "reason": "；".join(blockers)})
            continue
        home = (float(carer.home_latitude), float(carer.home_longitude))
        start, end = _minutes_of(carer.shift_start), _minutes_of(carer.shift_end)
        # Already busy today: free only after their last visit that is under way or done. They still
        # start from home in the solver's model, which overstates the first leg a little.
        free = max(start, from_minute)
        for o in orders:
            arrived = _arrival(o, carer.pk)
            if arrived is None:
                continue
            finished = _minutes(o.checkout_at, day) if o.checkout_at else _minutes(arrived, day) + o.minutes
            free = max(free, finished)
        if free >= end:
            excluded.append({"caregiver": carer.pk, "reason": "当日工作时间已过"})
            continue
        available[carer.pk] = dispatch.Caregiver(
            id=str(carer.pk),
            home=home,
            shift_start=free,
            shift_end=end,
            skills=frozenset(q for q in carer.qualifications if q in names),
        )
    return available, excluded


def _arrival(order: Order, caregiver_id: int) -> dt.datetime | None:
    """When ``caregiver_id`` checked in at ``order`` (as its lead or a partner), if they did."""
    if order.caregiver_id == caregiver_id:
        return order.checkin_at
    return next((p.checkin_at for p in order.partners.all() if p.caregiver_id == caregiver_id), None)


# The solver's reasons (fuwu.homecare.dispatch, plain English with caregiver ids and skill ids) as the provider
# reads them: stored with the plan in the site's language, like the reasons planned here ("老人住址尚未定位").
_REASONS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), words)
    for p, words in (
        (
            r"^its window (?P<w>\S+) had passed when the plan was re-made at (?P<t>\S+)$",
            "可上门时段 {w} 在重新派单时（{t}）已经过去",
        ),
        (
            r"^needs (?P<n>\d+) caregivers together: only (?P<ids>.+) can make it at (?P<w>\S+)$",
            "这项服务需要 {n} 名护理员一起做，{w} 只有{ids}能上门",
        ),
        (
            r"^needs (?P<n>\d+) caregivers together: no other .+ can join the lead at (?P<w>\S+) or later in its "
            r"window$",
            "这项服务需要 {n} 名护理员一起做，{w} 及以后的可上门时段内找不到第二名有空的护理员",
        ),
        (r"^no caregiver is on the roster$", "本机构没有在岗的护理员"),
        (r"^no caregiver has (?P<skills>.+)$", "没有护理员具备{skills}"),
        (r"^no single caregiver has all of (?P<skills>.+)$", "没有一名护理员同时具备{skills}"),
        (r"^caregiver certificate expired: .+$", "具备资格的护理员健康证明都已过期"),
        (r"^every .+ is absent$", "具备资格的护理员当天都请假"),
        (r"^every .+ is unavailable: .+$", "具备资格的护理员当天都不能上门（健康证明过期或请假）"),
        (r"^no .+ works at (?P<w>\S+)$", "可上门时段 {w} 没有具备资格的护理员当班"),
        (
            r"^capacity of the day exhausted: every .+ on shift at (?P<w>\S+) .+ is busy with visits under way$",
            "{w} 当班的护理员都在服务中",
        ),
        (r"^capacity of the day exhausted: .+ around (?P<w>\S+)$", "能做这项服务的护理员当天在 {w} 前后都已排满"),
        (
            r"^no .+'s shift can reach this elder within the time window (?P<w>\S+) and get home in time$",
            "护理员在可上门时段 {w} 内赶不到老人家，或赶到后不能按时下班",
        ),
    )
]


def in_words(reason: str, names: dict[str, str]) -> str:
    """A reason of the solver's in the site's language, with caregivers' and qualifications' names."""
    for pattern, words in _REASONS:
        found = pattern.match(reason)
        if found is None:
            continue
        values = found.groupdict()
        if "ids" in values:
            values["ids"] = "、".join(names.get(i.strip(), i.strip()) for i in values["ids"].split(","))
        if "skills" in values:
            with translation.override(settings.LANGUAGE_CODE):
                titles = standard.qualification_names()
            values["skills"] = "、".join(titles.get(q, q) for q in re.findall(r"'([^']+)'", values["skills"]))
        return words.format(**values)
    return reason


def _minutes_of(t: dt.time) -> int:
    return t.hour * 60 + t.minute


def _visits(orders: list[Order], from_minute: int) -> tuple[list[dispatch.Visit], list[tuple[int, str]]]:
    visits: list[dispatch.Visit] = []
    unassigned: list[tuple[int, str]] = []
    for order in orders:
        account = order.account
        if account.latitude is None or account.longitude is None:
            unassigned.append((order.pk, "老人住址尚未定位"))
            continue
        day = timezone.localtime(order.window_start).date()
        earliest = max(_minutes(order.window_start, day), from_minute)
        latest = _minutes(order.window_end, day) - order.minutes
        if latest < earliest:
            unassigned.append((order.pk, "剩余时段已不足以完成服务"))
            continue
        project = standard.project(order.item, on=day)
        visits.append(
            dispatch.Visit(
                id=str(order.pk),
                elder_id=str(account.pk),
                location=(float(account.latitude), float(account.longitude)),
                window_start=earliest,
                window_end=latest,
                duration=order.minutes,
                required_skills=frozenset(project.qualifications),
                usual_caregiver=str(order.caregiver_id or account.usual_caregiver_id or "") or None,
                staff=order.staff,
            )
        )
    return visits, unassigned


@transaction.atomic
def caregiver_absent(
    *, actor: Any, caregiver: Caregiver, day: dt.date, reason: str, now: dt.datetime | None = None
) -> DispatchRun:
    """Record that ``caregiver`` is away on ``day`` and re-plan the provider's remaining visits without them."""
    if actor is not None and not permissions.manages(actor, caregiver.provider):
        raise PermissionDenied("only the provider's administrators may record an absence")
    if not reason.strip():
        raise HomeCareError(_("请填写请假原因。"), code="reason_required")
    now = now or local_now()
    absence, created = CaregiverAbsence.objects.get_or_create(
        caregiver=caregiver,
        day=day,
        defaults={"reported_at": now, "reason": reason.strip()[:200], "reported_by": actor},
    )
    if created:
        audit(actor=actor, event="homecare.caregiver_absent", obj=caregiver, after={"day": str(day)}, note=reason)
    return dispatch_day(
        actor=actor, provider=caregiver.provider, day=day, now=now, reason=f"{caregiver.name}请假：{absence.reason}"
    )
