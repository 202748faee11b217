"""Home-care writes: booking, and every step of an order's life (accounts: ``accounts``; complaints: ``complaints``).

Each function is keyword-only, runs in one transaction, checks who may act and from which state, and
writes its audit row. Refusals raise :class:`HomeCareError` with a message meant for the person who
acted (what is wrong and what to do), or ``PermissionDenied``.
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from fuwu.common.audit import audit
from fuwu.eligibility.services import receipt_record
from fuwu.homecare import permissions, standard, visits, workdays
from fuwu.homecare.models import (
    AccountMonth,
    AccountStatus,
    CalendarDay,
    Caregiver,
    EntitlementAccount,
    Order,
    OrderKind,
    OrderStatus,
    Rating,
    ServicePhoto,
    TrainingKind,
    VisitPartner,
)
from fuwu.residents.models import Person

CANCELLABLE = (OrderStatus.REQUESTED, OrderStatus.ACCEPTED, OrderStatus.SCHEDULED)
# Orders that still hold (or spent) part of the month's allowance and count towards the monthly limit.
LIVE = (
    OrderStatus.REQUESTED,
    OrderStatus.ACCEPTED,
    OrderStatus.SCHEDULED,
    OrderStatus.IN_SERVICE,
    OrderStatus.COMPLETED,
    OrderStatus.RATED,
)


class HomeCareError(Exception):
    """A refused request; ``code`` is stable for the API, the message is for people."""

    def __init__(self, message: str, *, code: str = "refused") -> None:
        super().__init__(message)
        self.code = code


def local_now() -> dt.datetime:
    return timezone.localtime()


def calendar_overrides() -> dict[dt.date, bool]:
    return dict(CalendarDay.objects.values_list("date", "is_workday"))


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine; good to a few metres at these distances)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(a))


def _state(order: Order) -> dict[str, Any]:
    return {"status": order.status, "caregiver": order.caregiver_id}


def locked(order: Order) -> Order:
    # Lock the order row only: PostgreSQL refuses FOR UPDATE on the nullable side of the caregiver join.
    return (
        Order.objects.select_for_update(of=("self",))
        .select_related("account", "account__person", "caregiver")
        .get(pk=order.pk)
    )


def _require(order: Order, *allowed: str, action: str) -> None:
    if order.status not in allowed:
        shown = ", ".join(str(OrderStatus(s).label) for s in allowed)
        raise HomeCareError(
            _("工单当前状态为“%(status)s”，不能%(action)s；只有%(allowed)s状态的工单可以%(action)s。")
            % {"status": order.get_status_display(), "action": action, "allowed": shown},
            code="wrong_state",
        )


# --- caregivers ------------------------------------------------------------------------------------


def caregiver_blockers(caregiver: Caregiver, *, on: dt.date) -> list[str]:
    """Why ``caregiver`` may not be sent on visits on ``on`` (empty when they may), in the active language.

    Whoever stores the reasons (the day's plan) asks for them in the site's language.
    """
    problems = []
    if not caregiver.active:
        problems.append(_("护理员已停用"))
    if caregiver.health_certificate_expires < on:
        problems.append(_("健康证明已于%(date)s过期") % {"date": f"{caregiver.health_certificate_expires:%Y-%m-%d}"})
    needed = standard.number("pre_job_training_hours", on=on)
    done = sum(
        (t.hours for t in caregiver.training.all() if t.kind == TrainingKind.PRE_JOB and t.completed_on <= on),
        Decimal(0),
    )
    if done < needed:
        problems.append(_("岗前培训%(done)s学时，不足标准要求的%(needed)s学时") % {"done": done, "needed": needed})
    return problems


def caregiver_may_serve(caregiver: Caregiver, *, item: str, on: dt.date) -> list[str]:
    problems = caregiver_blockers(caregiver, on=on)
    missing = [q for q in standard.project(item, on=on).qualifications if q not in caregiver.qualifications]
    if missing:
        names = standard.qualification_names()
        problems.append(
            _("缺少资格：%(qualifications)s") % {"qualifications": _("、").join(names.get(q, q) for q in missing)}
        )
    return problems


# --- accounts ------------------------------------------------------------------------------------


def account_month(*, account: EntitlementAccount, month: dt.date) -> AccountMonth:
    """The account's month, opened with the current allowance the first time it is needed."""
    row, _created = AccountMonth.objects.get_or_create(
        account=account, month=month_start(month), defaults={"allowance": account.monthly_allowance}
    )
    return row


# --- booking -------------------------------------------------------------------------------------


def _same_request(order: Order, person: Person, item: str, start: dt.datetime, end: dt.datetime) -> bool:
    return (order.account.person_id, order.item, order.window_start, order.window_end) == (person.pk, item, start, end)


def order_book(
    *,
    actor: Any,
    person: Person,
    item: str,
    window_start: dt.datetime,
    window_end: dt.datetime,
    idempotency_key: str,
    channel: str = "web",
    now: dt.datetime | None = None,
) -> tuple[Order, bool]:
    """Book a project for an elder in a time window. Returns ``(order, created)``.

    The same ``idempotency_key`` from the same user returns the first order instead of booking twice
    (and is refused if it came with a different request). The subsidy is held at once, by a single
    conditional UPDATE that the database refuses to let overdraw the month.
    """
    key = idempotency_key.strip()
    if not key or len(key) > 64:
        raise HomeCareError(_("缺少幂等键（Idempotency-Key），或长度超过64个字符。"), code="bad_idempotency_key")
    existing = Order.objects.filter(booked_by=actor, idempotency_key=key).select_related("account").first()
    if existing is not None:
        return _replay(existing, person, item, window_start, window_end), False
    try:
        with transaction.atomic():
            return _book(
                actor, person, item, window_start, window_end, key, channel, timezone.localtime(now or local_now())
            ), True
    except IntegrityError:
        # The same key raced in from a retry that committed first: answer with that order.
        existing = Order.objects.filter(booked_by=actor, idempotency_key=key).select_related("account").first()
        if existing is None:
            raise
        return _replay(existing, person, item, window_start, window_end), False


def _replay(existing: Order, person: Person, item: str, start: dt.datetime, end: dt.datetime) -> Order:
    if not _same_request(existing, person, item, start, end):
        raise HomeCareError(
            _("这个幂等键已用于另一笔预约；重试时请发送与第一次完全相同的内容，新的预约请使用新的键。"),
            code="idempotency_key_reused",
        )
    return existing


def _book(
    actor: Any,
    person: Person,
    item: str,
    start: dt.datetime,
    end: dt.datetime,
    key: str,
    channel: str,
    now: dt.datetime,
) -> Order:
    if not permissions.can_book_for(actor, person):
        raise PermissionDenied("only the elder's family or an officer of their area may book for them")
    account = EntitlementAccount.objects.filter(person=person, status=AccountStatus.ACTIVE).first()
    if account is None:
        raise HomeCareError(
            _("该老人尚未开通居家养老上门服务账户；请先由村（社区）工作人员根据筛查结果开通。"), code="no_account"
        )
    start, end = timezone.localtime(start), timezone.localtime(end)
    if end <= start:
        raise HomeCareError(_("服务时段的结束时间必须晚于开始时间。"), code="bad_window")
    if start < now:
        raise HomeCareError(_("服务时段已经过去，请选择今后的时间。"), code="bad_window")
    try:
        project = standard.project(item, on=start.date())
    except standard.StandardNotLoaded:
        raise HomeCareError(
            _("“%(item)s”不是居家养老上门服务的可预约项目。") % {"item": item}, code="unknown_item"
        ) from None
    if (end - start) < dt.timedelta(minutes=project.minutes):
        raise HomeCareError(
            _("%(project)s每次不少于%(minutes)s分钟，所选时段太短。")
            % {"project": project.name, "minutes": project.minutes},
            code="bad_window",
        )
    if project.kind == OrderKind.SUBSIDISED and item not in account.items:
        raise HomeCareError(
            _("根据筛查结果，该老人不享受“%(project)s”补贴项目。") % {"project": project.name}, code="not_entitled"
        )
    # Bookings for one elder's month queue here: without the lock, concurrent requests each count the
    # month's orders before the others' are committed, and all pass the monthly limit.
    month = AccountMonth.objects.select_for_update().get(pk=account_month(account=account, month=start.date()).pk)
    if project.monthly_limit is not None:
        booked = Order.objects.filter(account_month=month, item=item, status__in=LIVE).count()
        if booked >= project.monthly_limit:
            raise HomeCareError(
                _("%(project)s每月不超过%(limit)s次，本月已预约%(booked)s次。")
                % {"project": project.name, "limit": project.monthly_limit, "booked": booked},
                code="monthly_limit",
            )
    subsidy = project.price if project.kind == OrderKind.SUBSIDISED else Decimal(0)
    order = Order.objects.create(
        account=account,
        provider=account.provider,
        item=item,
        kind=project.kind,
        window_start=start,
        window_end=end,
        minutes=project.minutes,
        staff=project.staff,
        price=project.price,
        subsidy=subsidy,
        self_pay=project.price - subsidy,
        account_month=month,
        booked_by=actor,
        idempotency_key=key,
        channel=channel,
        requested_at=now,
        respond_by=workdays.add_working_hours(
            now, int(standard.number("response_hours", on=now.date())), overrides=calendar_overrides()
        ),
        confirmation_code=f"{secrets.randbelow(10_000):04d}",
    )
    if subsidy:
        held = AccountMonth.objects.filter(pk=month.pk, held__lte=F("allowance") - F("spent") - subsidy).update(
            held=F("held") + subsidy
        )
        if not held:
            month.refresh_from_db()
            raise HomeCareError(
                _("本月补贴余额%(balance)s元，不足以支付%(project)s（%(price)s元）。")
                % {
                    "balance": month.allowance - month.held - month.spent,
                    "project": project.name,
                    "price": project.price,
                },
                code="insufficient_subsidy",
            )
    audit(
        actor=actor,
        event="homecare.order_booked",
        obj=order,
        after={"item": item, "window_start": start.isoformat(), "subsidy": str(subsidy), "channel": channel},
    )
    return order


def _release(order: Order) -> None:
    if order.subsidy and order.confirmed_at is None and not order.subsidy_refunded:
        AccountMonth.objects.filter(pk=order.account_month_id).update(held=F("held") - order.subsidy)


# --- provider ------------------------------------------------------------------------------------


@transaction.atomic
def order_accept(*, actor: Any, order: Order, now: dt.datetime | None = None) -> Order:
    order = locked(order)
    if not permissions.manages(actor, order.provider):
        raise PermissionDenied("only the order's provider may accept it")
    _require(order, OrderStatus.REQUESTED, action=pgettext("order action", "受理"))
    before = _state(order)
    order.status, order.accepted_at = OrderStatus.ACCEPTED, now or local_now()
    order.save(update_fields=["status", "accepted_at"])
    audit(actor=actor, event="homecare.order_accepted", obj=order, before=before, after=_state(order))
    return order


@transaction.atomic
def order_decline(*, actor: Any, order: Order, reason: str, now: dt.datetime | None = None) -> Order:
    order = locked(order)
    if not permissions.manages(actor, order.provider):
        raise PermissionDenied("only the order's provider may decline it")
    _require(order, OrderStatus.REQUESTED, action=pgettext("order action", "拒绝受理"))
    return _end(actor, order, OrderStatus.CANCELLED, reason, "homecare.order_declined", now)


@transaction.atomic
def order_cancel(*, actor: Any, order: Order, reason: str, now: dt.datetime | None = None) -> Order:
    order = locked(order)
    person = order.account.person
    if not (permissions.can_book_for(actor, person) or permissions.manages(actor, order.provider)):
        raise PermissionDenied("only the elder's family, their officer or the provider may cancel")
    _require(order, *CANCELLABLE, action=pgettext("order action", "取消"))
    return _end(actor, order, OrderStatus.CANCELLED, reason, "homecare.order_cancelled", now)


def _end(actor: Any, order: Order, status: str, reason: str, event: str, now: dt.datetime | None) -> Order:
    if not reason.strip():
        raise HomeCareError(_("请填写原因。"), code="reason_required")
    before = _state(order)
    _release(order)
    order.status, order.ended_at, order.end_reason = status, now or local_now(), reason.strip()[:300]
    order.save(update_fields=["status", "ended_at", "end_reason"])
    audit(actor=actor, event=event, obj=order, before=before, after=_state(order), note=reason)
    return order


@transaction.atomic
def order_schedule(
    *, actor: Any, order: Order, caregiver: Caregiver, planned_start: dt.datetime, note: str = ""
) -> Order:
    """Give an accepted (or re-plan a scheduled) order to a caregiver who may make the visit."""
    order = locked(order)
    if actor is not None and not permissions.manages(actor, order.provider):
        raise PermissionDenied("only the order's provider may schedule it")
    _require(order, OrderStatus.ACCEPTED, OrderStatus.SCHEDULED, action=pgettext("order action", "派单"))
    if caregiver.provider_id != order.provider_id:
        raise HomeCareError(_("只能派给本机构的护理员。"), code="wrong_provider")
    problems = caregiver_may_serve(caregiver, item=order.item, on=timezone.localtime(planned_start).date())
    if problems:
        raise HomeCareError(
            _("%(caregiver)s不能承担这次服务：%(problems)s。")
            % {"caregiver": caregiver.name, "problems": _("；").join(problems)},
            code="caregiver_blocked",
        )
    before = _state(order)
    order.status, order.caregiver, order.planned_start, order.dispatch_note = (
        OrderStatus.SCHEDULED,
        caregiver,
        planned_start,
        note[:300],
    )
    order.save(update_fields=["status", "caregiver", "planned_start", "dispatch_note"])
    # A new time or lead needs its partners found again (order_partner_assign); who already came stays.
    order.partners.filter(checkin_at__isnull=True).delete()
    audit(actor=actor, event="homecare.order_scheduled", obj=order, before=before, after=_state(order))
    return order


@transaction.atomic
def order_partner_assign(*, actor: Any, order: Order, caregiver: Caregiver) -> VisitPartner:
    """Add a second caregiver to a scheduled visit whose item needs more than one (``delivery.staff``)."""
    order = locked(order)
    if actor is not None and not permissions.manages(actor, order.provider):
        raise PermissionDenied("only the order's provider may add a caregiver to the visit")
    _require(order, OrderStatus.SCHEDULED, action=pgettext("order action", "安排搭档"))
    if caregiver.provider_id != order.provider_id:
        raise HomeCareError(_("只能派给本机构的护理员。"), code="wrong_provider")
    partners = list(order.partners.all())
    if caregiver.pk == order.caregiver_id or any(p.caregiver_id == caregiver.pk for p in partners):
        raise HomeCareError(
            _("%(caregiver)s已经在这次服务中。") % {"caregiver": caregiver.name}, code="already_on_visit"
        )
    if 1 + len(partners) >= order.staff:
        raise HomeCareError(
            _("这项服务需要 %(staff)s 名护理员，已经安排够了。") % {"staff": order.staff}, code="crew_complete"
        )
    assert order.planned_start is not None  # noqa: S101 - scheduled (a constraint)
    problems = caregiver_may_serve(caregiver, item=order.item, on=timezone.localtime(order.planned_start).date())
    if problems:
        raise HomeCareError(
            _("%(caregiver)s不能承担这次服务：%(problems)s。")
            % {"caregiver": caregiver.name, "problems": _("；").join(problems)},
            code="caregiver_blocked",
        )
    partner = VisitPartner.objects.create(order=order, caregiver=caregiver)
    audit(actor=actor, event="homecare.partner_assigned", obj=order, after={"partner": caregiver.pk})
    return partner


@transaction.atomic
def order_unschedule(*, actor: Any, order: Order, reason: str) -> Order:
    """Back to accepted (no caregiver), e.g. when a re-plan after an absence cannot place the visit."""
    order = locked(order)
    if actor is not None and not permissions.manages(actor, order.provider):
        raise PermissionDenied("only the order's provider may take it back from the caregiver")
    _require(order, OrderStatus.SCHEDULED, action=pgettext("order action", "退回待派"))
    if order.partners.filter(checkin_at__isnull=False).exists():
        raise HomeCareError(_("已经有护理员到场签到，不能退回待派。"), code="wrong_state")
    before = _state(order)
    order.status, order.caregiver, order.planned_start, order.dispatch_note = (
        OrderStatus.ACCEPTED,
        None,
        None,
        reason[:300],
    )
    order.save(update_fields=["status", "caregiver", "planned_start", "dispatch_note"])
    order.partners.all().delete()
    audit(actor=actor, event="homecare.order_unscheduled", obj=order, before=before, after=_state(order), note=reason)
    return order


# --- at the door ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Position:
    """Where a caregiver stands. ``typed``: entered by hand rather than taken from the phone's location."""

    latitude: Decimal
    longitude: Decimal
    typed: bool = False
    accuracy_m: int | None = None


def _distance_from_home(order: Order, at: Position) -> int:
    account = order.account
    if account.latitude is None or account.longitude is None:
        raise HomeCareError(
            _("该老人的住址尚未定位，无法核对签到位置；请联系服务机构补录住址。"), code="no_home_location"
        )
    return round(distance_m(float(at.latitude), float(at.longitude), float(account.latitude), float(account.longitude)))


def _require_valid(at: Position) -> None:
    # Finite first: ordering a Decimal NaN raises InvalidOperation instead of answering False.
    finite = at.latitude.is_finite() and at.longitude.is_finite()
    if not (finite and -90 <= at.latitude <= 90 and -180 <= at.longitude <= 180):
        raise HomeCareError(_("定位数据无效：纬度应在 -90～90，经度应在 -180～180 之间。"), code="bad_location")


@dataclass(frozen=True)
class Located:
    """A check-in or check-out position as the rules see it."""

    metres: int
    radius: int
    far: bool
    typed: bool
    reason: str


def _location_check(order: Order, at: Position, reason: str, *, on: dt.date) -> Located:
    _require_valid(at)
    meters = _distance_from_home(order, at)
    radius = int(standard.number("checkin_radius_m", on=on))
    far = meters > radius
    why = reason.strip()[:300]
    if far and not why:
        raise HomeCareError(
            _("当前位置距老人住址约%(meters)s米，超过%(radius)s米；请填写原因后再提交（将标记供核查）。")
            % {"meters": meters, "radius": radius},
            code="reason_required",
        )
    if at.typed and not why:
        raise HomeCareError(
            _(
                "经纬度是手动填写的，不是手机定位；请在“原因”中写明为什么没有用手机定位（例如“手机定位失败”），"
                "这次服务将标记待核查。"
            ),
            code="reason_required",
        )
    return Located(meters, radius, far, at.typed, why if (far or at.typed) else "")


def _rules(on: dt.date) -> standard.VisitRules:
    try:
        return visits.rules_on(on)
    except visits.NoVisitRules:
        raise HomeCareError(
            _("服务标准没有规定签到、签退的规则，暂时不能签到；请联系服务机构。"), code="no_visit_rules"
        ) from None


def _at_the_door(order: Order, at: Position, reason: str, now: dt.datetime, who: str) -> tuple[Located, list[Any]]:
    """A check-in by ``who``: inside the standard's window, where, and what it flags."""
    rules = _rules(now.date())
    refusal = visits.checkin_refusal(order, now, rules)
    if refusal:
        raise HomeCareError(refusal, code="outside_checkin_window")
    where = _location_check(order, at, reason, on=now.date())
    late = visits.punctuality_flag(order, now, rules, who=who)
    flags = [late] if late else []
    flags += visits.location_flags(
        step="checkin", who=who, metres=where.metres, radius=where.radius, far=where.far, typed=where.typed
    )
    return where, flags


def _propose(order: Order, caregiver: Caregiver, at: Position, where: Located, now: dt.datetime) -> None:
    visits.location_propose(
        order=order,
        caregiver=caregiver,
        latitude=at.latitude,
        longitude=at.longitude,
        accuracy_m=at.accuracy_m,
        metres=where.metres,
        reason=where.reason,
        now=now,
    )


def _caregiver_only(actor: Any, order: Order) -> None:
    if not permissions.is_assigned_caregiver(actor, order):
        raise PermissionDenied("only the caregiver assigned to this visit may do this")


def _crew_complete(order: Order) -> bool:
    """The lead and every partner the visit needs have checked in."""
    partners = list(order.partners.all())
    present = (order.checkin_at is not None) + sum(p.checkin_at is not None for p in partners)
    return order.checkin_at is not None and present >= order.staff


@transaction.atomic
def order_check_in(
    *, actor: Any, order: Order, at: Position, reason: str = "", now: dt.datetime | None = None
) -> Order:
    """The lead caregiver arrives. The visit starts now if nobody else is needed or all partners are in."""
    order = locked(order)
    _caregiver_only(actor, order)
    _require(order, OrderStatus.SCHEDULED, action=pgettext("order action", "签到"))
    now = timezone.localtime(now or local_now())
    assert order.caregiver is not None  # noqa: S101 - a scheduled order has a caregiver (a constraint)
    where, flags = _at_the_door(order, at, reason, now, order.caregiver.name)
    before = _state(order)
    order.status, order.checkin_at = OrderStatus.IN_SERVICE, now
    order.checkin_latitude, order.checkin_longitude = at.latitude, at.longitude
    order.checkin_distance_m, order.checkin_flagged, order.checkin_reason = where.metres, where.far, where.reason
    order.checkin_typed = where.typed
    order.flags = [*order.flags, *flags]
    if _crew_complete(order):
        order.started_at = now
    order.save()
    if not at.typed:
        _propose(order, order.caregiver, at, where, now)
    audit(
        actor=actor,
        event="homecare.order_checked_in",
        obj=order,
        before=before,
        after={
            **_state(order),
            "distance_m": where.metres,
            "flagged": where.far,
            "typed": where.typed,
            "flags": [f["flag"] for f in flags],
        },
        note=where.reason,
    )
    return order


@transaction.atomic
def order_partner_check_in(
    *, actor: Any, order: Order, at: Position, reason: str = "", now: dt.datetime | None = None
) -> VisitPartner:
    """A second caregiver arrives (before or after the lead); the visit starts when the last one needed is in."""
    order = locked(order)
    if not permissions.is_partner(actor, order):
        raise PermissionDenied("only a caregiver planned as this visit's partner may check in as one")
    partner = (
        VisitPartner.objects.select_for_update().select_related("caregiver").get(order=order, caregiver__user=actor)
    )
    _require(order, OrderStatus.SCHEDULED, OrderStatus.IN_SERVICE, action=pgettext("order action", "签到"))
    if partner.checkin_at is not None:
        raise HomeCareError(_("您已经签到过了。"), code="wrong_state")
    now = timezone.localtime(now or local_now())
    where, flags = _at_the_door(order, at, reason, now, partner.caregiver.name)
    partner.checkin_at = now
    partner.checkin_latitude, partner.checkin_longitude = at.latitude, at.longitude
    partner.checkin_distance_m, partner.checkin_flagged, partner.checkin_reason = where.metres, where.far, where.reason
    partner.checkin_typed = where.typed
    partner.save()
    order.flags = [*order.flags, *flags]
    if order.started_at is None and _crew_complete(order):
        order.started_at = now
    order.save(update_fields=["flags", "started_at"])
    if not at.typed:
        _propose(order, partner.caregiver, at, where, now)
    audit(
        actor=actor,
        event="homecare.partner_checked_in",
        obj=order,
        after={
            "caregiver": partner.caregiver_id,
            "distance_m": where.metres,
            "flagged": where.far,
            "typed": where.typed,
            "flags": [f["flag"] for f in flags],
        },
        note=where.reason,
    )
    return partner


@transaction.atomic
def order_check_out(
    *,
    actor: Any,
    order: Order,
    at: Position,
    tasks_done: Iterable[str],
    notes: str = "",
    reason: str = "",
    short_reason: str = "",
    now: dt.datetime | None = None,
) -> Order:
    """The lead caregiver leaves: the duration, the flags, and what the visit is worth under the standard's rules.

    Leaving before the item's minimum duration needs ``short_reason``; the visit is then short. A visit that
    needed more staff than checked in counts from the lead's arrival and is flagged staff_missing.
    """
    order = locked(order)
    _caregiver_only(actor, order)
    _require(order, OrderStatus.IN_SERVICE, action=pgettext("order action", "签退"))
    tasks = [t.strip()[:200] for t in tasks_done if t.strip()]
    if not tasks:
        raise HomeCareError(_("请至少填写一项已完成的服务内容。"), code="record_required")
    now = timezone.localtime(now or local_now())
    assert order.checkin_at is not None  # noqa: S101 - in service: checked in
    assert order.caregiver is not None  # noqa: S101 - in service: a caregiver (a constraint)
    if now < order.checkin_at:
        raise HomeCareError(_("签退时间不能早于签到时间，请核对手机的时间。"), code="bad_time")
    rules = _rules(now.date())
    where = _location_check(order, at, reason, on=now.date())
    flags = visits.location_flags(
        step="checkout",
        who=order.caregiver.name,
        metres=where.metres,
        radius=where.radius,
        far=where.far,
        typed=where.typed,
    )
    present = 1 + order.partners.filter(checkin_at__isnull=False).count()
    if present < order.staff:
        flags.append({"flag": "staff_missing", "needed": order.staff, "present": present})
    started = order.started_at or order.checkin_at
    served = visits.minutes_between(started, now)
    why_short = short_reason.strip()[:300]
    if served < order.minutes:
        if not why_short:
            how = visits.settlement_of([{"flag": "short"}], rules)
            raise HomeCareError(
                _("服务从 %(start)s 开始，到现在 %(served)s 分钟，少于这个项目至少 %(minutes)s 分钟的要求。")
                % {"start": f"{timezone.localtime(started):%H:%M}", "served": served, "minutes": order.minutes}
                + _("如确需提前结束，请填写“提前结束的原因”；")
                + visits.consequence(how),
                code="short_reason_required",
            )
        flags.append({"flag": "short", "minutes": served, "needed": order.minutes})
    else:
        why_short = ""
    before = _state(order)
    order.status, order.checkout_at = OrderStatus.COMPLETED, now
    order.checkout_latitude, order.checkout_longitude = at.latitude, at.longitude
    order.checkout_distance_m, order.checkout_flagged, order.checkout_reason = where.metres, where.far, where.reason
    order.checkout_typed = where.typed
    order.tasks_done, order.notes = tasks, notes.strip()
    order.started_at, order.visit_minutes, order.short_reason = started, served, why_short
    order.flags = [*order.flags, *flags]
    order.review, order.payable = visits.outcome(order, rules)
    order.save()
    audit(
        actor=actor,
        event="homecare.order_checked_out",
        obj=order,
        before=before,
        after={
            **_state(order),
            "distance_m": where.metres,
            "flagged": where.far,
            "typed": where.typed,
            "minutes": served,
            "flags": [f["flag"] for f in order.flags],
            "review": order.review,
            "payable": None if order.payable is None else str(order.payable),
        },
        note=" ".join(filter(None, [where.reason, why_short])),
    )
    return order


def _sniff(head: bytes) -> str | None:
    for content_type, magic in settings.FUWU_PHOTO_TYPES.items():
        if head.startswith(magic) and (content_type != "image/webp" or head[8:12] == b"WEBP"):
            return str(content_type)
    return None


@transaction.atomic
def photo_add(*, actor: Any, order: Order, upload: UploadedFile) -> ServicePhoto:
    """A photo of the service record: JPEG, PNG or WebP by content (not by name), within the size limit."""
    order = locked(order)
    _caregiver_only(actor, order)
    _require(order, OrderStatus.IN_SERVICE, OrderStatus.COMPLETED, action=pgettext("order action", "上传照片"))
    if order.confirmed_at is not None:
        raise HomeCareError(_("服务已经确认，不能再添加照片。"), code="wrong_state")
    limit = settings.FUWU_PHOTO_MAX_COUNT
    if order.photos.count() >= limit:
        raise HomeCareError(_("每次服务最多上传%(limit)s张照片。") % {"limit": limit}, code="too_many_photos")
    size = upload.size or 0
    max_bytes = settings.FUWU_PHOTO_MAX_BYTES
    if size == 0:
        raise HomeCareError(_("照片文件是空的，请重新拍摄。"), code="bad_photo")
    if size > max_bytes:
        raise HomeCareError(
            _("照片 %(name)s 为%(size)s MB，超过%(limit)s MB 的上限；请压缩后再上传。")
            % {"name": upload.name, "size": f"{size / 1024 / 1024:.1f}", "limit": max_bytes // 1024 // 1024},
            code="bad_photo",
        )
    upload.seek(0)
    content_type = _sniff(upload.read(16))
    upload.seek(0)
    if content_type is None:
        raise HomeCareError(_("%(name)s 不是 JPEG、PNG 或 WebP 图片。") % {"name": upload.name}, code="bad_photo")
    photo = ServicePhoto.objects.create(order=order, image=upload, content_type=content_type, size=size)
    audit(actor=actor, event="homecare.photo_added", obj=order, after={"photo": photo.pk, "type": content_type})
    return photo


@transaction.atomic
def order_no_show(
    *, actor: Any, order: Order, reason: str, at: Position | None = None, now: dt.datetime | None = None
) -> Order:
    """The visit did not happen (elder not at home, or the caregiver could not come); nothing is paid."""
    order = locked(order)
    if not (permissions.is_assigned_caregiver(actor, order) or permissions.manages(actor, order.provider)):
        raise PermissionDenied("only the assigned caregiver or the provider may record a no-show")
    _require(order, OrderStatus.SCHEDULED, action=pgettext("order action", "登记未上门服务"))
    if at is not None:
        _require_valid(at)
        order.checkin_latitude, order.checkin_longitude = at.latitude, at.longitude
        order.checkin_distance_m = _distance_from_home(order, at)
        # _end saves only its own fields: keep where the caregiver stood.
        order.save(update_fields=["checkin_latitude", "checkin_longitude", "checkin_distance_m"])
    return _end(actor, order, OrderStatus.NO_SHOW, reason, "homecare.order_no_show", now)


def order_confirm(*, actor: Any, order: Order, code: str = "", now: dt.datetime | None = None) -> Order:
    """The elder or family confirms the visit took place; only then is the subsidy spent.

    At the door the caregiver enters the code the elder or family reads from their own order page;
    family members and officers confirm from their own accounts without it. After
    ``FUWU_CONFIRMATION_ATTEMPTS`` wrong codes the caregiver can no longer confirm that order (four
    digits are guessable); the family or the officer still can. Each wrong code is counted even though
    the request is refused, so the count is written in its own transaction before the refusal.
    """
    with transaction.atomic():
        order = locked(order)
        if permissions.is_assigned_caregiver(actor, order) and not _code_matches(order, code):
            Order.objects.filter(pk=order.pk).update(confirmation_failures=F("confirmation_failures") + 1)
            left = settings.FUWU_CONFIRMATION_ATTEMPTS - order.confirmation_failures - 1
        else:
            return _confirm(actor, order, now)
    # Only a wrong code gets here, after its transaction has counted it.
    if left > 0:
        raise HomeCareError(
            _("确认码不正确，请老人或家属再读一遍订单页上的4位确认码（还可以再试%(left)s次）。") % {"left": left},
            code="bad_code",
        )
    raise HomeCareError(
        _("确认码错误次数太多，护理员不能再确认这次服务；请老人家属在自己的订单页确认，或联系村（社区）工作人员。"),
        code="code_locked",
    )


def _code_matches(order: Order, code: str) -> bool:
    if order.confirmation_failures >= settings.FUWU_CONFIRMATION_ATTEMPTS:
        return False
    # NFKC reads the full-width digits Chinese keyboards type as the code's own; bytes, because
    # compare_digest raises on any other non-ASCII text instead of answering "no".
    typed = unicodedata.normalize("NFKC", code).strip().encode()
    return secrets.compare_digest(typed, order.confirmation_code.encode())


def _confirm(actor: Any, order: Order, now: dt.datetime | None) -> Order:
    person = order.account.person
    if not (permissions.is_assigned_caregiver(actor, order) or permissions.can_book_for(actor, person)):
        raise PermissionDenied("only the elder's family, their officer or the caregiver with the code may confirm")
    _require(order, OrderStatus.COMPLETED, action=pgettext("order action", "确认"))
    if order.confirmed_at is not None:
        raise HomeCareError(_("这次服务已经确认过了。"), code="wrong_state")
    order.confirmed_at, order.confirmed_by = now or local_now(), actor
    order.save(update_fields=["confirmed_at", "confirmed_by"])
    # What the visit is worth under the standard's rules is spent now; a visit held for the officer's review
    # keeps its hold until the review decides (reviews.visit_review spends it then). An upheld complaint
    # before confirmation already gave the hold back; then nothing is spent.
    spent, self_paid = visits.spend(order)
    # Served now: the proactive list (entitled but not yet served) leaves the elder off for this project.
    receipt_record(
        person_id=person.pk, item=order.item, since=timezone.localtime(order.confirmed_at).date(), source="homecare"
    )
    audit(
        actor=actor,
        event="homecare.order_confirmed",
        obj=order,
        after={
            "spent": str(spent),
            "self_paid": str(self_paid),
            "refunded": order.subsidy_refunded,
            "review": order.review,
        },
    )
    return order


@transaction.atomic
def order_rate(*, actor: Any, order: Order, stars: int, comment: str = "", now: dt.datetime | None = None) -> Rating:
    order = locked(order)
    if not permissions.is_family(actor, order.account.person):
        raise PermissionDenied("only the elder or their family may rate a visit")
    _require(order, OrderStatus.COMPLETED, action=pgettext("order action", "评价"))
    if order.confirmed_at is None:
        raise HomeCareError(_("请先确认服务已完成，再评价。"), code="not_confirmed")
    if not 1 <= stars <= 5:
        raise HomeCareError(_("评分应为1～5星。"), code="bad_rating")
    rating = Rating.objects.create(
        order=order, stars=stars, comment=comment.strip(), rated_by=actor, rated_at=now or local_now()
    )
    order.status = OrderStatus.RATED
    order.save(update_fields=["status"])
    audit(actor=actor, event="homecare.order_rated", obj=order, after={"stars": stars, "status": order.status})
    return rating


# --- overdue -------------------------------------------------------------------------------------


def overdue_q(now: dt.datetime) -> Q:
    """Orders past a limit: not answered in the response time, or not started by the end of their window."""
    return Q(status=OrderStatus.REQUESTED, respond_by__lt=now) | Q(
        status__in=[OrderStatus.ACCEPTED, OrderStatus.SCHEDULED], window_end__lt=now
    )


@transaction.atomic
def orders_flag_overdue(*, now: dt.datetime | None = None) -> int:
    """Mark newly overdue orders so the provider's and the officer's lists show them; returns how many."""
    now = now or local_now()
    flagged = 0
    for order in Order.objects.select_for_update().filter(overdue_q(now), overdue_flagged_at__isnull=True):
        order.overdue_flagged_at = now
        order.save(update_fields=["overdue_flagged_at"])
        audit(actor=None, event="homecare.order_overdue", obj=order, after={"status": order.status})
        flagged += 1
    return flagged
