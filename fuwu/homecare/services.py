"""Home-care writes: booking, and every step of an order's life (at the door: ``door``; accounts: ``accounts``;
complaints: ``complaints``; the officer's review of held visits: ``reviews``).

Each function is keyword-only, runs in one transaction, checks who may act and from which state, and
writes its audit row. Refusals raise :class:`HomeCareError` with a message meant for the person who
acted (what is wrong and what to do), or ``PermissionDenied``.
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
import unicodedata
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from fuwu.common import workdays
from fuwu.common.audit import audit
from fuwu.eligibility.services import receipt_record
from fuwu.homecare import permissions, standard, visits
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


def order_state(order: Order) -> dict[str, Any]:
    """What an audit row records of an order before and after a step."""
    return {"status": order.status, "caregiver": order.caregiver_id}


def locked(order: Order) -> Order:
    # Lock the order row only: PostgreSQL refuses FOR UPDATE on the nullable side of the caregiver join.
    return (
        Order.objects.select_for_update(of=("self",))
        .select_related("account", "account__person", "caregiver")
        .get(pk=order.pk)
    )


def require_state(order: Order, *allowed: str, action: str) -> None:
    """Refuse ``action`` unless the order is in one of the ``allowed`` states (a stable ``wrong_state`` code)."""
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
    require_state(order, OrderStatus.REQUESTED, action=pgettext("order action", "受理"))
    before = order_state(order)
    order.status, order.accepted_at = OrderStatus.ACCEPTED, now or local_now()
    order.save(update_fields=["status", "accepted_at"])
    audit(actor=actor, event="homecare.order_accepted", obj=order, before=before, after=order_state(order))
    return order


@transaction.atomic
def order_decline(*, actor: Any, order: Order, reason: str, now: dt.datetime | None = None) -> Order:
    order = locked(order)
    if not permissions.manages(actor, order.provider):
        raise PermissionDenied("only the order's provider may decline it")
    require_state(order, OrderStatus.REQUESTED, action=pgettext("order action", "拒绝受理"))
    return end_with_reason(actor, order, OrderStatus.CANCELLED, reason, "homecare.order_declined", now)


@transaction.atomic
def order_cancel(*, actor: Any, order: Order, reason: str, now: dt.datetime | None = None) -> Order:
    order = locked(order)
    person = order.account.person
    if not (permissions.can_book_for(actor, person) or permissions.manages(actor, order.provider)):
        raise PermissionDenied("only the elder's family, their officer or the provider may cancel")
    require_state(order, *CANCELLABLE, action=pgettext("order action", "取消"))
    return end_with_reason(actor, order, OrderStatus.CANCELLED, reason, "homecare.order_cancelled", now)


def end_with_reason(actor: Any, order: Order, status: str, reason: str, event: str, now: dt.datetime | None) -> Order:
    if not reason.strip():
        raise HomeCareError(_("请填写原因。"), code="reason_required")
    before = order_state(order)
    _release(order)
    order.status, order.ended_at, order.end_reason = status, now or local_now(), reason.strip()[:300]
    order.save(update_fields=["status", "ended_at", "end_reason"])
    audit(actor=actor, event=event, obj=order, before=before, after=order_state(order), note=reason)
    return order


def _require_sendable(order: Order, caregiver: Caregiver, *, on: dt.date) -> None:
    """Refuse a caregiver of another provider, or one who may not make this visit on ``on``."""
    if caregiver.provider_id != order.provider_id:
        raise HomeCareError(_("只能派给本机构的护理员。"), code="wrong_provider")
    problems = caregiver_may_serve(caregiver, item=order.item, on=on)
    if problems:
        raise HomeCareError(
            _("%(caregiver)s不能承担这次服务：%(problems)s。")
            % {"caregiver": caregiver.name, "problems": _("；").join(problems)},
            code="caregiver_blocked",
        )


@transaction.atomic
def order_schedule(
    *, actor: Any, order: Order, caregiver: Caregiver, planned_start: dt.datetime, note: str = ""
) -> Order:
    """Give an accepted (or re-plan a scheduled) order to a caregiver who may make the visit."""
    order = locked(order)
    if actor is not None and not permissions.manages(actor, order.provider):
        raise PermissionDenied("only the order's provider may schedule it")
    require_state(order, OrderStatus.ACCEPTED, OrderStatus.SCHEDULED, action=pgettext("order action", "派单"))
    _require_sendable(order, caregiver, on=timezone.localtime(planned_start).date())
    before = order_state(order)
    order.status, order.caregiver, order.planned_start, order.dispatch_note = (
        OrderStatus.SCHEDULED,
        caregiver,
        planned_start,
        note[:300],
    )
    order.save(update_fields=["status", "caregiver", "planned_start", "dispatch_note"])
    # A new time or lead needs its partners found again (order_partner_assign); who already came stays.
    order.partners.filter(checkin_at__isnull=True).delete()
    audit(actor=actor, event="homecare.order_scheduled", obj=order, before=before, after=order_state(order))
    return order


@transaction.atomic
def order_partner_assign(*, actor: Any, order: Order, caregiver: Caregiver) -> VisitPartner:
    """Add a second caregiver to a scheduled visit whose item needs more than one (``delivery.staff``)."""
    order = locked(order)
    if actor is not None and not permissions.manages(actor, order.provider):
        raise PermissionDenied("only the order's provider may add a caregiver to the visit")
    require_state(order, OrderStatus.SCHEDULED, action=pgettext("order action", "安排搭档"))
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
    _require_sendable(order, caregiver, on=timezone.localtime(order.planned_start).date())
    partner = VisitPartner.objects.create(order=order, caregiver=caregiver)
    audit(actor=actor, event="homecare.partner_assigned", obj=order, after={"partner": caregiver.pk})
    return partner


@transaction.atomic
def order_unschedule(*, actor: Any, order: Order, reason: str) -> Order:
    """Back to accepted (no caregiver), e.g. when a re-plan after an absence cannot place the visit."""
    order = locked(order)
    if actor is not None and not permissions.manages(actor, order.provider):
        raise PermissionDenied("only the order's provider may take it back from the caregiver")
    require_state(order, OrderStatus.SCHEDULED, action=pgettext("order action", "退回待派"))
    if order.partners.filter(checkin_at__isnull=False).exists():
        raise HomeCareError(_("已经有护理员到场签到，不能退回待派。"), code="wrong_state")
    before = order_state(order)
    order.status, order.caregiver, order.planned_start, order.dispatch_note = (
        OrderStatus.ACCEPTED,
        None,
        None,
        reason[:300],
    )
    order.save(update_fields=["status", "caregiver", "planned_start", "dispatch_note"])
    order.partners.all().delete()
    audit(
        actor=actor, event="homecare.order_unscheduled", obj=order, before=before, after=order_state(order), note=reason
    )
    return order


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
    require_state(order, OrderStatus.COMPLETED, action=pgettext("order action", "确认"))
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
def order_rate(
    *, actor: Any, order: Order, stars: int, comment: str = "", clause: object = None, now: dt.datetime | None = None
) -> Rating:
    """The family's rating of a confirmed visit; ``clause`` optionally names the clause a 差评 concerns."""
    from fuwu.homecare.complaints import named_clause

    order = locked(order)
    if not permissions.is_family(actor, order.account.person):
        raise PermissionDenied("only the elder or their family may rate a visit")
    require_state(order, OrderStatus.COMPLETED, action=pgettext("order action", "评价"))
    if order.confirmed_at is None:
        raise HomeCareError(_("请先确认服务已完成，再评价。"), code="not_confirmed")
    if not 1 <= stars <= 5:
        raise HomeCareError(_("评分应为1～5星。"), code="bad_rating")
    named = named_clause(order, clause)
    rating = Rating.objects.create(
        order=order, stars=stars, comment=comment.strip(), rated_by=actor, rated_at=now or local_now(), clause=named
    )
    order.status = OrderStatus.RATED
    order.save(update_fields=["status"])
    after = {"stars": stars, "status": order.status, "clause": named.number if named else None}
    audit(actor=actor, event="homecare.order_rated", obj=order, after=after)
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
