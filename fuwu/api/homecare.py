"""Home care through the JSON API: the bookable projects, booking, following and cancelling orders, statements.

Mounted at ``/api/v1/homecare``. Everything but the project list needs a logged-in user: the API has no
tokens, so it reuses the Django session (the ``sessionid`` cookie) and, on every POST, Django's CSRF check
(send the ``csrftoken`` cookie's value in an ``X-CSRFToken`` header). Without a session the answer is 401.

Errors: ``{"detail": ...}`` as in the rest of the API; a refusal by the home-care services adds a stable
``code`` (``detail`` is then the Chinese message for the person: what is wrong and what to do). Statuses:

* 400 — the ``Idempotency-Key`` header is missing or too long, or the body is not strict JSON (``NaN`` is not);
* 413 — the body is larger than the API accepts (``FUWU_API_MAX_BODY``, 64 KiB);
* 404 — the person, order or account does not exist *or* is outside what the caller may see (the same
  answer for both, so the API never confirms that someone exists);
* 403 — the caller may see the row but not act on it (an auditor booking, a caregiver cancelling);
* 409 — the request conflicts with what is already there: ``idempotency_key_reused``,
  ``insufficient_subsidy``, ``monthly_limit``, ``wrong_state``;
* 422 — the request cannot be met as asked: ``not_entitled``, ``no_account``, ``unknown_item``,
  ``bad_window``, ``reason_required`` … A body or query that does not parse at all (a datetime without a
  UTC offset, a missing field) is 422 ``invalid``: ``detail`` names each field and its problem, ``errors``
  lists them (``fuwu.api.refusals``, the same on every operation).

An order's ``visit`` says what happened at the door under the standard's visit rules: the second caregivers of
a visit for two, when it started and how long it lasted, each irregularity (``flags``, with the words the pages
show), the officer's ``review`` of a held visit, and what the visit is worth (``payable``); a statement line's
``reason`` says why a visit is not paid in full.

Identity numbers are never in a response. An order's confirmation code (read to the caregiver at the door)
is shown only to the elder's family (``FamilyLink``); auditors see elders' names masked.

Every answer that shows elders is audited as a read, as the pages are (``persons.listed``, note
``… (api)``): an order list with any order, an order, a statement, and a booking's retry that answers with the
order already booked. A new booking and a cancellation are audited as the writes they are.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, P, Query, Router, Schema, Status
from ninja.params import HeaderEx
from ninja.security import django_auth

from fuwu.accounts.models import Role
from fuwu.accounts.permissions import has_role
from fuwu.api import schemas as s
from fuwu.common.audit import audit_persons_read
from fuwu.common.params import Day, Id, Offset, ParamError, parse_month
from fuwu.homecare import selectors, services, standard, visits
from fuwu.homecare.models import EntitlementAccount, Order, OrderStatus
from fuwu.homecare.services import HomeCareError
from fuwu.residents.masking import mask_name
from fuwu.residents.models import Person
from fuwu.residents.selectors import persons_for_user

router = Router(tags=["homecare"], auth=django_auth)


# What happened at the door, added to the shared order schema here (home care's own part of the API).
class VisitFlagOut(Schema):
    flag: str = Field(description="short, early, late, out_of_range, typed_location or staff_missing")
    text: str = Field(description="The flag in plain words, in the request's language.")


class VisitOut(Schema):
    partners: list[str] = Field(description="The second caregivers of a visit that needs more than one.")
    started_at: dt.datetime | None = Field(description="When every caregiver the visit needs had checked in.")
    visit_minutes: int | None = Field(description="The duration from the start to the check-out, in minutes.")
    flags: list[VisitFlagOut]
    review: str = Field(description='"" (none needed), pending, full, reduced or refused: the officer\'s review.')
    payable: str | None = Field(description="What the visit is worth under the standard's rules; null until known.")


class HomeCareOrderOut(s.OrderOut):
    visit: VisitOut


class HomeCareOrderPageOut(s.OrderPageOut):
    items: list[HomeCareOrderOut]  # type: ignore[assignment]  # a narrower item type, for output only


class HomeCareStatementLineOut(s.StatementLineOut):
    reason: str = Field(description="Why the visit is not paid in full, or is held for review (empty otherwise).")


class HomeCareStatementOut(s.StatementOut):
    lines: list[HomeCareStatementLineOut]  # type: ignore[assignment]  # a narrower line type, for output only


# A refusal's status by its code; any other code is 422 (the request cannot be met as asked).
CONFLICT = frozenset({"idempotency_key_reused", "insufficient_subsidy", "monthly_limit", "wrong_state"})
BAD_REQUEST = frozenset({"bad_idempotency_key"})

# Without a session: 401. On a POST, 403 also answers a failed CSRF check, and 400 and 413 a body that is
# not strict JSON or too large (fuwu.api.guards).
UNAUTHORIZED = {401: s.ErrorOut}
GUARDED = {413: s.ErrorOut}


def _refused(exc: HomeCareError) -> Status[dict[str, str]]:
    status = 409 if exc.code in CONFLICT else 400 if exc.code in BAD_REQUEST else 422
    return Status(status, {"detail": str(exc), "code": exc.code})


def _not_found(detail: str) -> Status[dict[str, str]]:
    return Status(404, {"detail": detail})


@dataclass(frozen=True)
class _Viewer:
    """What the caller may see of the orders it is allowed to read."""

    family_of: frozenset[int]  # the persons whose confirmation codes the caller may see
    masks_names: bool

    @classmethod
    def of(cls, user: Any) -> _Viewer:
        return cls(
            family_of=frozenset(selectors.elders_for_family(user=user).values_list("pk", flat=True)),
            masks_names=has_role(user, {Role.AUDITOR}),
        )


def _money(value: Any) -> str:
    """Yuan to the fen, always two places (a just-created order holds ``Decimal("80")``, a loaded one ``80.00``)."""
    return f"{Decimal(value):.2f}"


def _local(moment: dt.datetime | None) -> dt.datetime | None:
    return timezone.localtime(moment) if moment is not None else None


def _order(o: Order, viewer: _Viewer) -> dict[str, Any]:
    person = o.account.person
    return {
        "id": o.pk,
        "person_id": person.pk,
        "elder_name": mask_name(person.name) if viewer.masks_names else person.name,
        "item": o.item,
        "kind": o.kind,
        "status": o.status,
        "status_label": str(OrderStatus(o.status).label),
        "window_start": _local(o.window_start),
        "window_end": _local(o.window_end),
        "minutes": o.minutes,
        "staff": o.staff,
        "price": _money(o.price),
        "subsidy": _money(o.subsidy),
        "self_pay": _money(o.self_pay),
        "provider": {"id": o.provider_id, "name": o.provider.name},
        "caregiver": o.caregiver.name if o.caregiver else None,
        "planned_start": _local(o.planned_start),
        "channel": o.channel,
        "requested_at": _local(o.requested_at),
        "respond_by": _local(o.respond_by),
        "accepted_at": _local(o.accepted_at),
        "checkin_at": _local(o.checkin_at),
        "checkout_at": _local(o.checkout_at),
        "confirmed_at": _local(o.confirmed_at),
        "ended_at": _local(o.ended_at),
        "end_reason": o.end_reason,
        "overdue_flagged_at": _local(o.overdue_flagged_at),
        "confirmation_code": o.confirmation_code if person.pk in viewer.family_of else None,
        "visit": {
            "partners": [p.caregiver.name for p in o.partners.all()],
            "started_at": _local(o.started_at),
            "visit_minutes": o.visit_minutes,
            "flags": [{"flag": f.get("flag", ""), "text": visits.flag_text(f)} for f in o.flags],
            "review": o.review,
            "payable": None if o.payable is None else _money(o.payable),
        },
    }


def _visible_person(user: Any, person_id: int) -> Person:
    """The person if ``user`` may see them at all; ``Person.DoesNotExist`` otherwise (and if there is none).

    Family see the elders they are linked to, officers the residents of their area, auditors everyone,
    provider administrators their provider's elders and caregivers the elders they visit. Whether the
    caller may also *book* for the person is the booking service's question.
    """
    visible = (
        Q(pk__in=selectors.elders_for_family(user=user).values("pk"))
        | Q(pk__in=persons_for_user(user=user).values("pk"))
        | Q(pk__in=selectors.accounts_for_user(user=user).values("person_id"))
        | Q(pk__in=selectors.orders_for_user(user=user).values("account__person_id"))
    )
    return Person.objects.filter(visible).get(pk=person_id)


@router.get("/projects", response={200: list[s.ProjectOut], 404: s.ErrorOut}, auth=None)
def list_projects(request: HttpRequest, on: Day | None = None) -> Any:
    """The home-care standard's bookable projects on ``on`` (default today): subsidised projects and packages.

    Prices are yuan as decimal strings; ``monthly_limit`` is at most how many a month (null: no limit);
    ``qualifications`` are the standard's ids of what the caregiver must hold. No login needed.
    """
    day = on or timezone.localdate()
    try:
        projects = standard.projects(on=day)
    except standard.StandardNotLoaded as exc:
        return _not_found(f"no home-care standard in force on {day}: {exc}")
    return [
        {
            "key": p.key,
            "name": {"zh": p.name_zh, "en": p.name_en},
            "kind": p.kind,
            "price": _money(p.price),
            "minutes": p.minutes,
            "staff": p.staff,
            "monthly_limit": p.monthly_limit,
            "qualifications": list(p.qualifications),
        }
        for p in projects.values()
    ]


@router.post(
    "/orders",
    response={
        200: HomeCareOrderOut,
        201: HomeCareOrderOut,
        400: s.HomeCareErrorOut,
        **UNAUTHORIZED,
        403: s.ErrorOut,
        404: s.ErrorOut,
        409: s.HomeCareErrorOut,
        **GUARDED,
        422: s.HomeCareErrorOut,
    },
)
def book(
    request: HttpRequest,
    body: s.BookingIn,
    idempotency_key: HeaderEx[str | None, P(alias="Idempotency-Key")] = None,
) -> Any:
    """Book a project for an elder in a time window (session login and CSRF token required).

    The ``Idempotency-Key`` header (required, at most 64 characters; a fresh random value per booking) makes a
    retry safe: the first booking answers 201, a retry with the same key and the same body answers 200 with
    the same order, and the same key with a different body is refused (409 ``idempotency_key_reused``).
    Booking holds the subsidy at once: 409 ``insufficient_subsidy`` if the month's allowance cannot cover it,
    409 ``monthly_limit`` past the standard's monthly number; 422 ``not_entitled`` for a subsidised project the
    elder's screening did not grant, 422 ``no_account`` before the elder's account is opened. A person the
    caller cannot see is 404; one the caller can see but not book for (auditors, providers) is 403.
    """
    if idempotency_key is None or not idempotency_key.strip():
        return Status(
            400,
            {
                "detail": "缺少请求头 Idempotency-Key；每笔新预约请生成一个新的随机值，重试时沿用同一个值。",
                "code": "idempotency_key_required",
            },
        )
    try:
        person = _visible_person(request.user, body.person_id)
    except Person.DoesNotExist:
        return _not_found(f"person_id: no resident {body.person_id} within your access")
    try:
        order, created = services.order_book(
            actor=request.user,
            person=person,
            item=body.item,
            window_start=body.window_start,
            window_end=body.window_end,
            idempotency_key=idempotency_key,
            channel="api",
        )
    except HomeCareError as exc:
        return _refused(exc)
    except PermissionDenied as exc:
        return Status(403, {"detail": str(exc)})
    if not created:  # a retry shows the order already booked, and writes nothing else
        audit_persons_read(actor=request.user, purpose="home-care order (api)", persons=[person.pk], obj=order)
    return Status(201 if created else 200, _order(order, _Viewer.of(request.user)))


class OrderFilter(Schema):
    status: OrderStatus | None = None
    person_id: Id | None = None
    limit: int = Field(50, ge=1, le=200)
    offset: Offset = 0


@router.get("/orders", response={200: HomeCareOrderPageOut, **UNAUTHORIZED})
def list_orders(request: HttpRequest, filters: Query[OrderFilter]) -> Any:
    """The orders the caller may see, newest window first, ``limit`` (at most 200) from ``offset``.

    Family: their elders' orders; officers: their area's; provider administrators: their provider's;
    caregivers: the visits assigned to them; auditors: all.
    """
    orders = selectors.orders_for_user(user=request.user).prefetch_related("partners__caregiver")
    if filters.status:
        orders = orders.filter(status=filters.status)
    if filters.person_id is not None:
        orders = orders.filter(account__person_id=filters.person_id)
    page = list(orders[filters.offset : filters.offset + filters.limit])
    viewer = _Viewer.of(request.user)
    if page:
        audit_persons_read(
            actor=request.user, purpose="home-care orders (api)", persons=[o.account.person_id for o in page]
        )
    return {
        "count": orders.count(),
        "limit": filters.limit,
        "offset": filters.offset,
        "items": [_order(o, viewer) for o in page],
    }


@router.get("/orders/{order_id}", response={200: HomeCareOrderOut, **UNAUTHORIZED, 404: s.ErrorOut})
def get_order(request: HttpRequest, order_id: Id) -> Any:
    """One order, if the caller may see it (404 otherwise, whether or not it exists)."""
    try:
        order = selectors.order_for_user(user=request.user, pk=order_id)
    except Order.DoesNotExist:
        return _not_found(f"no order {order_id} within your access")
    audit_persons_read(
        actor=request.user, purpose="home-care order (api)", persons=[order.account.person_id], obj=order
    )
    return _order(order, _Viewer.of(request.user))


@router.post(
    "/orders/{order_id}/cancel",
    response={
        200: HomeCareOrderOut,
        400: s.HomeCareErrorOut,
        **UNAUTHORIZED,
        403: s.ErrorOut,
        404: s.ErrorOut,
        409: s.HomeCareErrorOut,
        **GUARDED,
        422: s.HomeCareErrorOut,
    },
)
def cancel_order(request: HttpRequest, order_id: Id, body: s.CancelIn) -> Any:
    """Cancel a requested, accepted or scheduled order, with the reason; the held subsidy is released.

    The elder's family, their officer or the provider may cancel (session login and CSRF token required).
    409 ``wrong_state`` once the visit has started or ended; 422 ``reason_required`` without a reason.
    """
    try:
        order = selectors.order_for_user(user=request.user, pk=order_id)
    except Order.DoesNotExist:
        return _not_found(f"no order {order_id} within your access")
    try:
        order = services.order_cancel(actor=request.user, order=order, reason=body.reason)
    except HomeCareError as exc:
        return _refused(exc)
    except PermissionDenied as exc:
        return Status(403, {"detail": str(exc)})
    return _order(order, _Viewer.of(request.user))


@router.get(
    "/accounts/{person_id}/statement",
    response={200: HomeCareStatementOut, **UNAUTHORIZED, 404: s.ErrorOut, 422: s.HomeCareErrorOut},
)
def statement(request: HttpRequest, person_id: Id, month: str | None = None) -> Any:
    """An elder's month (``month=YYYY-MM``, default this month): allowance, held, spent, left, and every order.

    A line's ``subsidy`` and ``self_pay`` count once the visit is confirmed and its worth is known (0 before,
    0 while held for the officer's review, and 0 subsidy after an upheld complaint gave it back); a short visit
    counts its share of the price, and ``reason`` says why. Family, the elder's officer, their provider and
    auditors may read it.
    """
    if month is None:
        first = timezone.localdate().replace(day=1)
    else:
        try:
            first = parse_month(month)
        except ParamError as exc:
            return Status(422, {"detail": str(exc), "code": "bad_month"})
    try:
        account = selectors.accounts_for_user(user=request.user).get(person_id=person_id)
    except EntitlementAccount.DoesNotExist:
        return _not_found(f"no home-care account for person {person_id} within your access")
    result = selectors.statement(account=account, month=first)
    audit_persons_read(
        actor=request.user,
        purpose=f"home-care statement {first:%Y-%m} (api)",
        persons=[account.person_id],
        obj=account,
    )
    return {
        "person_id": account.person_id,
        "month": f"{result.month:%Y-%m}",
        "allowance": _money(result.allowance),
        "held": _money(result.held),
        "spent": _money(result.spent),
        "self_paid": _money(result.self_paid),
        "remaining": _money(result.remaining),
        "lines": [
            {
                "order": line.order.pk,
                "item": line.order.item,
                "status": line.order.status,
                "window_start": _local(line.order.window_start),
                "price": _money(line.order.price),
                "subsidy": _money(line.subsidy),
                "self_pay": _money(line.self_pay),
                "reason": line.reason,
            }
            for line in result.lines
        ],
    }
