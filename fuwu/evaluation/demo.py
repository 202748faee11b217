"""A year of demo activity, so every dashboard has something to show: home-care visits, applications and
inspections month by month across the demo county's townships, then the indicators computed from them.

Deterministic: every choice comes from ``random.Random(seed)`` over rows read in a fixed order, and dates are
counted back from the month it runs in. Written in bulk, not through the services: a year of visits through
the booking, planning and door services would take many minutes, and what the dashboards read is the rows.
The rows are the ones those services leave (every model constraint holds; a visit has its check-in,
check-out and confirmation, an inspection its checklist copied from the standard and its score from the
standard's grading), but the audit log records the whole run as one event rather than one per act.
Idempotent: that event names the seed and the number of months; a second run with the same ones finds it
and writes nothing.

Needs the other demos first (``demo_accounts``, ``demo_homecare``, ``demo_compliance``, the registry loaded).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from fuwu.accounts.models import Role, User
from fuwu.applications import standard as application_standard
from fuwu.applications.models import OPEN, Application, ApplicationEvent, EventKind, Status
from fuwu.common.audit import audit
from fuwu.common.models import AuditLog
from fuwu.compliance import checklists, scoring
from fuwu.compliance.models import (
    Answer,
    Inspection,
    InspectionStatus,
    Institution,
    OrderStatus,
    RectificationOrder,
    Result,
)
from fuwu.compliance.services.inspections import _items_from
from fuwu.homecare import standard as homecare_standard
from fuwu.homecare.demo import DEMO_SOURCE
from fuwu.homecare.models import (
    AccountMonth,
    Callback,
    Caregiver,
    Complaint,
    EntitlementAccount,
    Order,
    Provider,
    Rating,
    TrainingKind,
    TrainingRecord,
)
from fuwu.residents.models import Person
from fuwu.standards.selectors import items_in_force

EVENT = "evaluation.demo_activity"
COUNTY = "331002"  # 椒江区, where the demo provider serves and the demo logins work
ELDERS = 48
APPLICATIONS_PER_MONTH = 40
INSPECTIONS_PER_MONTH = 8
PROVIDER_LICENCE = "DEMO-JJ-0001"  # the home-care demo's provider (fuwu.homecare.demo)


@dataclass
class DemoActivity:
    created: bool
    months: list[dt.date] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def months_back(today: dt.date, n: int) -> list[dt.date]:
    first = today.replace(day=1)
    out = []
    for back in range(n - 1, -1, -1):
        index = first.year * 12 + first.month - 1 - back
        out.append(dt.date(index // 12, index % 12 + 1, 1))
    return out


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=timezone.get_current_timezone())


def _note(seed: int, months: int) -> str:
    return f"seed={seed} months={months}"


@transaction.atomic
def demo_activity_ensure(*, months: int = 12, seed: int = 1, today: dt.date | None = None) -> DemoActivity:
    """Write ``months`` months of activity ending with this one, once per (seed, months)."""
    if months < 1 or months > 36:
        raise ValueError("months: give 1 to 36")
    if AuditLog.objects.filter(event=EVENT, note=_note(seed, months)).exists():
        return DemoActivity(created=False)
    today = today or timezone.localdate()
    rng = random.Random(seed)  # noqa: S311 - demo data, reproducible on purpose
    span = months_back(today, months)
    result = DemoActivity(created=True, months=span)
    result.counts.update(_homecare(rng, span, today, seed))
    result.counts.update(_applications(rng, span, today))
    result.counts.update(_inspections(rng, span, today))
    result.counts.update(_entries_and_publication(rng, span, today))
    anchor = User.objects.filter(role=Role.STANDARDS_OFFICE).order_by("pk").first()
    if anchor is not None:  # the audit row needs an object: the office's account stands for the demo
        audit(actor=None, event=EVENT, obj=anchor, after=dict(result.counts), note=_note(seed, months))
    return result


# --- home care -----------------------------------------------------------------------------------------------


def _elders(today: dt.date) -> list[Person]:
    born_by = today.replace(year=today.year - 80)
    return list(
        Person.objects.filter(hukou_area__startswith=COUNTY, birth_date__lte=born_by, homecare_account__isnull=True)
        .exclude(hukou_area="")
        .exclude(source_id=DEMO_SOURCE)  # the home-care demo's elder waits for the officer's screening
        .order_by("hukou_area", "pk")
    )


def _allowance(rng: random.Random, day: dt.date) -> Decimal:
    bands = homecare_standard.parameter("monthly_subsidy", on=day)
    if isinstance(bands, dict):
        values = sorted(Decimal(str(v)) for k, v in bands.items() if k != "disability-addon")
        return rng.choice(values)
    return Decimal(str(bands))


def _homecare(rng: random.Random, span: list[dt.date], today: dt.date, seed: int) -> dict[str, int]:
    provider = Provider.objects.filter(licence_number=PROVIDER_LICENCE).first()
    caregivers = list(Caregiver.objects.filter(provider=provider).order_by("pk")) if provider else []
    booker = User.objects.filter(username="family").first() or User.objects.filter(role=Role.RESIDENT).first()
    officer = User.objects.filter(role=Role.DEPARTMENT_OFFICER, area__code=COUNTY).order_by("pk").first()
    if provider is None or not caregivers or booker is None or officer is None:
        return {"accounts": 0, "orders": 0}
    pool = _elders(today)
    elders = sorted(rng.sample(pool, min(ELDERS, len(pool))), key=lambda p: p.pk)
    projects = [p for p in homecare_standard.projects(on=span[0]).values() if p.kind == "subsidised"]
    if not elders or not projects:
        return {"accounts": 0, "orders": 0}
    first_visit_days = int(homecare_standard.number("first_visit_days", on=span[0]))
    complaint_days = int(homecare_standard.number("complaint_days", on=span[0]))
    accounts = []
    for n, elder in enumerate(elders):
        # Most accounts were open before the year; a quarter open during it (the first visits are counted).
        opened = (
            span[0] - dt.timedelta(days=30)
            if n % 4
            else span[min(len(span) - 1, n % len(span))] + dt.timedelta(days=rng.randrange(0, 20))
        )
        opened = min(opened, today)
        items = sorted(p.key for p in rng.sample(projects, min(3, len(projects))))
        accounts.append(
            EntitlementAccount(
                person=elder,
                provider=provider,
                monthly_allowance=_allowance(rng, opened),
                items=items,
                rule_version="demo-activity",
                opened_on=opened,
                first_visit_due=opened + dt.timedelta(days=first_visit_days + 2),  # working days, roughly
                address="（演示地址）",
            )
        )
    accounts = EntitlementAccount.objects.bulk_create(accounts)
    by_key = {p.key: p for p in projects}
    months: list[AccountMonth] = []
    plans: list[tuple[EntitlementAccount, dt.date, list[Any]]] = []
    for account in accounts:
        for month in span:
            if month < account.opened_on.replace(day=1):
                continue
            last_day = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
            if month == today.replace(day=1):
                last_day = today
            first_day = max(month, account.opened_on)
            if first_day > last_day:
                continue
            visits = [
                (
                    by_key[rng.choice(account.items)],
                    first_day + dt.timedelta(days=rng.randrange((last_day - first_day).days + 1)),
                )
                for _ in range(rng.randint(1, 4))
            ]
            plans.append((account, month, visits))
            months.append(AccountMonth(account=account, month=month, allowance=account.monthly_allowance))
    months = AccountMonth.objects.bulk_create(months)
    month_of = {(m.account_id, m.month): m for m in months}
    orders: list[Order] = []
    extras: list[tuple[int, str, Any]] = []  # (order index, kind, value) for ratings, callbacks, complaints
    key_n = 0
    for account, month, visits in plans:
        account_month = month_of[(account.pk, month)]
        left = account.monthly_allowance
        for project, day in sorted(visits, key=lambda v: v[1]):
            key_n += 1
            caregiver = rng.choice(caregivers)
            planned = _at(day, rng.choice([8, 9, 10, 14, 15]), rng.choice([0, 30]))
            roll = rng.random()
            status = (
                "rated" if roll < 0.55 else "completed" if roll < 0.9 else "cancelled" if roll < 0.96 else "no_show"
            )
            subsidy = min(project.price, left)
            left -= subsidy
            order = Order(
                account=account,
                provider=provider,
                item=project.key,
                kind="subsidised",
                status=status,
                window_start=planned - dt.timedelta(hours=1),
                window_end=planned + dt.timedelta(hours=2),
                minutes=project.minutes,
                staff=1,
                price=project.price,
                subsidy=subsidy if status in ("completed", "rated") else Decimal(0),
                self_pay=project.price - subsidy if status in ("completed", "rated") else Decimal(0),
                account_month=account_month,
                booked_by=booker,
                idempotency_key=f"demo-activity-{seed}-{key_n}",
                channel="phone",
                requested_at=planned - dt.timedelta(days=2),
                respond_by=planned - dt.timedelta(days=1),
                accepted_at=planned - dt.timedelta(days=2, hours=-1),
                caregiver=caregiver,
                planned_start=planned,
                confirmation_code=f"{rng.randrange(10**6):06d}",
            )
            if status in ("completed", "rated"):
                late = rng.random() < 0.12
                offset = rng.randint(45, 90) if late else rng.randint(-10, 20)  # minutes after the planned start
                order.checkin_at = planned + dt.timedelta(minutes=offset)
                order.checkin_distance_m = rng.randint(5, 120)
                typed = rng.random() < 0.06
                order.checkin_typed = typed
                order.checkin_reason = "手机定位失败，手工登记（演示）" if typed else ""
                short = project.minutes > 20 and rng.random() < 0.08
                length = project.minutes - rng.randint(5, 15) if short else project.minutes + rng.randint(0, 15)
                order.checkout_at = order.checkin_at + dt.timedelta(minutes=length)
                order.checkout_distance_m = rng.randint(5, 120)
                order.started_at = order.checkin_at
                order.visit_minutes = length
                order.short_reason = "老人身体不适，提前结束（演示）" if short else ""
                order.payable = project.price
                if status == "rated" or rng.random() < 0.8:
                    order.confirmed_at = order.checkout_at + dt.timedelta(minutes=rng.randint(1, 30))
                    order.confirmed_by = booker
                if status == "rated" and order.confirmed_at is None:
                    order.status = "completed"
                index = len(orders)
                if order.status == "rated":
                    stars = rng.choices([5, 4, 3, 2, 1], weights=[55, 28, 10, 5, 2])[0]
                    extras.append((index, "rating", stars))
                if rng.random() < 0.1:
                    extras.append((index, "callback", rng.random() < 0.9))
                if rng.random() < 0.03:
                    extras.append((index, "complaint", rng.random()))
            elif status in ("cancelled", "no_show"):
                order.ended_at = planned
                order.end_reason = "老人临时外出（演示）"
            orders.append(order)
    orders = Order.objects.bulk_create(orders)
    spent: dict[int, Decimal] = {}
    for o in orders:
        spent[o.account_month_id] = spent.get(o.account_month_id, Decimal(0)) + o.subsidy
    for m in months:
        m.spent = spent.get(m.pk, Decimal(0))
    AccountMonth.objects.bulk_update(months, ["spent"])
    ratings, callbacks, complaints = [], [], []
    for index, kind, value in extras:
        order = orders[index]
        assert order.checkout_at is not None  # noqa: S101 - extras are made for completed visits only
        if kind == "rating":
            ratings.append(
                Rating(
                    order=order,
                    stars=value,
                    comment="",
                    rated_by=booker,
                    rated_at=order.checkout_at + dt.timedelta(hours=2),
                )
            )
        elif kind == "callback":
            day = order.checkout_at.date() + dt.timedelta(days=2)
            callbacks.append(
                Callback(
                    order=order,
                    sampled_on=day,
                    due_on=day + dt.timedelta(days=5),
                    done_at=_at(day + dt.timedelta(days=1), 10),
                    reached=True,
                    satisfied=value,
                    done_by=officer,
                )
            )
        else:
            lodged = order.checkout_at + dt.timedelta(days=1)
            due = lodged.date() + dt.timedelta(days=complaint_days + 2)
            resolved = lodged + dt.timedelta(days=3 if value < 0.6 else complaint_days + 6)
            open_ = resolved.date() > today
            complaints.append(
                Complaint(
                    order=order,
                    text="服务人员迟到（演示）",
                    lodged_by=booker,
                    lodged_at=lodged,
                    due_on=due,
                    status="open" if open_ else ("upheld" if value < 0.3 else "dismissed"),
                    outcome="" if open_ else "已核实处理（演示）",
                    resolved_at=None if open_ else resolved,
                    resolved_by=None if open_ else officer,
                )
            )
    Rating.objects.bulk_create(ratings)
    Callback.objects.bulk_create(callbacks)
    Complaint.objects.bulk_create(complaints)
    training = [
        TrainingRecord(
            caregiver=c,
            kind=TrainingKind.IN_SERVICE,
            completed_on=month + dt.timedelta(days=14),
            hours=Decimal(rng.choice([4, 6, 8])),
            topic="在岗继续培训（演示）",
        )
        for c in caregivers
        for month in span[::3]
        if month + dt.timedelta(days=14) <= today
    ]
    TrainingRecord.objects.bulk_create(training)
    return {
        "accounts": len(accounts),
        "orders": len(orders),
        "ratings": len(ratings),
        "callbacks": len(callbacks),
        "complaints": len(complaints),
    }


# --- applications ------------------------------------------------------------------------------------------------


def _applications(rng: random.Random, span: list[dt.date], today: dt.date) -> dict[str, int]:
    officers = {
        u.department_id: u
        for u in User.objects.filter(role=Role.DEPARTMENT_OFFICER, area__code=COUNTY).order_by("-pk")
        if u.department_id
    }
    items = []
    for item in items_in_force().select_related("version").order_by("key"):
        if not application_standard.applicable(item) or item.data.get("delivery"):
            continue
        department = application_standard.department_for(item)
        if department is not None and department.pk in officers:
            items.append((item, department))
    persons = list(
        Person.objects.filter(hukou_area__startswith=COUNTY)
        .exclude(hukou_area="")
        .order_by("pk")
        .values_list("pk", "hukou_area")
    )
    if not items or not persons:
        return {"applications": 0}
    made: list[Application] = []
    timeline: list[tuple[int, list[tuple[str, dt.datetime, str, str]]]] = []  # kind, at, from, to
    # One open application per person and item (a constraint): count the ones already open as taken.
    taken_open: set[tuple[int, str]] = set(
        Application.objects.filter(status__in=OPEN).values_list("person_id", "item_key")
    )
    for month in span:
        last_day = (
            today
            if month == today.replace(day=1)
            else (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
        )
        for _ in range(APPLICATIONS_PER_MONTH):
            item, department = rng.choice(items)
            person_id, area = rng.choice(persons)
            day = month + dt.timedelta(days=rng.randrange((last_day - month).days + 1))
            submitted = _at(day, rng.randint(8, 16), rng.choice([0, 15, 30, 45]))
            limit = next((s.limit_days for s in application_standard.steps(item)[1:] if s.limit_days), None) or 20
            due = day + dt.timedelta(days=limit * 7 // 5 + 2)  # working days, roughly, on the calendar
            roll = rng.random()
            decided_day = day + dt.timedelta(days=rng.randint(1, (due - day).days + (12 if roll < 0.1 else 0)))
            status = Status.APPROVED if roll < 0.75 else Status.REFUSED
            if decided_day > today:
                if (person_id, item.key) in taken_open:
                    continue
                taken_open.add((person_id, item.key))
                status, decided = Status.IN_PROGRESS, None
            else:
                decided = _at(decided_day, rng.randint(9, 17))
            officer = officers[department.pk]
            made.append(
                Application(
                    item=item,
                    version=item.version,
                    item_key=item.key,
                    person_id=person_id,
                    area_code=area,
                    department=department,
                    submitted_by=officer,
                    capacity="counter",
                    status=status,
                    step=1,
                    due_on=due,
                    eligibility="no_rule",
                    submitted_at=submitted,
                    decided_at=decided,
                )
            )
            events: list[tuple[str, dt.datetime, str, str]] = [
                (EventKind.SUBMITTED, submitted, "", Status.SUBMITTED),
                (EventKind.ACCEPTED, submitted + dt.timedelta(hours=1), Status.SUBMITTED, Status.IN_PROGRESS),
            ]
            if decided is not None:
                kind = EventKind.APPROVED if status == Status.APPROVED else EventKind.REFUSED
                events.append((kind, decided, Status.IN_PROGRESS, status))
            timeline.append((len(made) - 1, events))
    made = Application.objects.bulk_create(made)
    ApplicationEvent.objects.bulk_create(
        ApplicationEvent(
            application=made[index],
            kind=kind,
            at=at,
            actor=made[index].submitted_by,
            from_status=before,
            to_status=after,
            step=1,
            due_on=made[index].due_on,
            reason="（演示）" if kind == EventKind.REFUSED else "",
            details={"demo": "activity"},
        )
        for index, events in timeline
        for kind, at, before, after in events
    )
    return {"applications": len(made)}


# --- inspections ------------------------------------------------------------------------------------------------


def _inspections(rng: random.Random, span: list[dt.date], today: dt.date) -> dict[str, int]:
    from fuwu.standards.models import StandardVersion

    signer = User.objects.filter(role=Role.INSPECTOR).order_by("pk").first()
    if signer is None:
        return {"inspections": 0}
    governed: list[tuple[Institution, StandardVersion]] = []
    versions = checklists.versions_on(today)
    for institution in Institution.objects.filter(active=True).order_by("code"):
        for version in versions:
            if any(k.id == institution.kind for k in checklists.declared_kinds(version)):
                governed.append((institution, version))
    if not governed:
        return {"inspections": 0}
    count = orders = 0
    for month in span:
        for institution, version in rng.sample(governed, min(INSPECTIONS_PER_MONTH, len(governed))):
            planned = month + dt.timedelta(days=rng.randint(4, 24))
            if planned > today:
                continue
            entries = checklists.checklist(version, institution.kind)
            if not entries:
                continue
            missed = rng.random() < 0.1
            inspected = None if missed else planned + dt.timedelta(days=rng.choice([0, 0, 0, -1, 2, 6]))
            if inspected is not None and inspected > today:
                inspected = today
            inspection = Inspection(
                institution=institution,
                standard_id=version.standard_id,
                version=version,
                kind="official",
                status=InspectionStatus.PLANNED,
                planned_on=planned,
            )
            if inspected is None:
                inspection.save()
                count += 1
                continue
            results = [
                rng.choices(
                    [Result.COMPLIANT, Result.PARTLY, Result.NOT, Result.NOT_APPLICABLE], weights=[82, 8, 6, 4]
                )[0]
                for _ in entries
            ]
            outcome = scoring.outcome(
                [scoring.Line(e.clause_number, e.weight, e.critical, r) for e, r in zip(entries, results, strict=True)],
                checklists.grading(version),
            )
            inspection.status = InspectionStatus.SIGNED
            inspection.inspected_on = inspected
            inspection.score = outcome.score
            inspection.passed = outcome.passed
            inspection.critical_failed = bool(outcome.critical_failures)
            inspection.grade_key, inspection.grade_zh, inspection.grade_en = (
                outcome.grade_key,
                outcome.grade_zh,
                outcome.grade_en,
            )
            inspection.stars = outcome.stars
            inspection.signed_by = signer
            inspection.signed_at = _at(inspected, 17)
            inspection.save()
            count += 1
            # The checklist as inspection_start copies it from the standard.
            items = _items_from(inspection, entries)
            Answer.objects.bulk_create(
                Answer(item=item, result=result, answered_by=signer, answered_at=_at(inspected, 11))
                for item, result in zip(items, results, strict=True)
            )
            rectify = []
            for item, result in zip(items, results, strict=True):
                if item.clause_kind != "requirement" or result not in (Result.NOT, Result.PARTLY):
                    continue
                due = inspected + dt.timedelta(days=item.rectification_days * 7 // 5 + 1)
                done = rng.random() < 0.8 and due <= today
                decided = inspected + dt.timedelta(days=rng.randint(3, (due - inspected).days + 8)) if done else None
                closed = decided is not None and decided <= today
                rectify.append(
                    RectificationOrder(
                        inspection=inspection,
                        item=item,
                        institution=institution,
                        status=OrderStatus.VERIFIED if closed else OrderStatus.OPEN,
                        opened_on=inspected,
                        days=item.rectification_days,
                        due_on=due,
                        decided_at=_at(decided, 15) if closed and decided else None,
                        decided_by=signer if closed else None,
                    )
                )
            RectificationOrder.objects.bulk_create(rectify)
            orders += len(rectify)
    return {"inspections": count, "rectifications": orders}


# --- entries by hand and the public page ------------------------------------------------------------------------


def _entries_and_publication(rng: random.Random, span: list[dt.date], today: dt.date) -> dict[str, int]:
    """The county officer enters last quarter's value of each indicator their department may enter by hand; the
    standards office publishes every computed indicator of home care (through the services: audited)."""
    from fuwu.areas.models import Area
    from fuwu.evaluation.engine import Period
    from fuwu.evaluation.manual import can_enter, manual_indicators, manual_value_enter
    from fuwu.evaluation.public import indicator_publish_set
    from fuwu.standards.models import IN_FORCE, StandardVersion

    entered = published = 0
    county = Area.objects.filter(code=COUNTY).first()
    officer = User.objects.filter(username="officer").first()
    quarter = Period.containing("quarter", span[-1])
    last_quarter = Period.containing("quarter", quarter.start - dt.timedelta(days=1))
    label = f"{last_quarter.start.year}年第{(last_quarter.start.month - 1) // 3 + 1}季度"
    versions = list(StandardVersion.objects.filter(status__in=IN_FORCE).select_related("standard").order_by("code"))
    if county is not None and officer is not None:
        for version in versions:
            if not can_enter(officer, version, county):
                continue
            for indicator in manual_indicators(version):
                target = indicator.target if indicator.target is not None else Decimal(90)
                value = max(Decimal(0), target - Decimal(rng.randint(0, 8)))
                manual_value_enter(
                    actor=officer,
                    indicator=indicator,
                    area=county,
                    period=last_quarter,
                    value=value,
                    source_document=f"椒江区{label}统计报表（演示）",
                    source_date=min(today, last_quarter.end + dt.timedelta(days=5)),
                    note="演示数据",
                    now=timezone.now(),
                )
                entered += 1
    office = User.objects.filter(role=Role.STANDARDS_OFFICE).order_by("pk").first()
    if office is not None:
        for version in versions:
            if version.standard.key != homecare_standard.config("standard"):
                continue
            computed = {i["id"] for i in version.document.get("indicators", []) if i.get("computation")}
            for indicator in version.indicators.filter(key__in=computed).order_by("pk"):
                published += indicator_publish_set(actor=office, indicator=indicator, published=True)
    return {"entries": entered, "published": published}
