"""Home-care reads, scoped to who is asking. Views and the API read through these, never ``objects.get``.

Each ``*_for_user`` returns only rows the user may see (see ``fuwu.homecare.permissions``); a row outside
that scope is ``DoesNotExist`` to the caller, the same as a row that does not exist (a 404, never a 403
that would confirm it exists).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from fuwu.accounts.models import Role
from fuwu.accounts.permissions import has_role
from fuwu.areas.selectors import code_within
from fuwu.homecare import visits
from fuwu.homecare.models import (
    AccountMonth,
    Caregiver,
    Complaint,
    EntitlementAccount,
    Order,
    OrderStatus,
    Provider,
)
from fuwu.homecare.services import month_start, overdue_q
from fuwu.residents.models import Person
from fuwu.residents.permissions import officer_prefix


def _order_scope(user: Any) -> Q | None:
    """The orders ``user`` may see, as a filter; ``None`` for everything (auditors)."""
    if has_role(user, {Role.AUDITOR}):
        return None
    if has_role(user, {Role.DEPARTMENT_OFFICER}):
        prefix = officer_prefix(user)
        return Q(account__person__hukou_area__startswith=prefix) if prefix else Q(pk__in=[])
    if has_role(user, {Role.PROVIDER_ADMIN}):
        return Q(provider__admins=user)
    if has_role(user, {Role.CAREGIVER}):
        # The visits they lead, and those they join as the second caregiver.
        return Q(caregiver__user=user) | Q(partners__caregiver__user=user)
    if has_role(user, {Role.RESIDENT}):
        return Q(account__person__family_links__user=user)
    return Q(pk__in=[])


def orders_for_user(*, user: Any) -> QuerySet[Order]:
    orders = Order.objects.select_related("account", "account__person", "caregiver", "provider")
    scope = _order_scope(user)
    return (orders if scope is None else orders.filter(scope)).distinct()


def order_for_user(*, user: Any, pk: int) -> Order:
    return orders_for_user(user=user).get(pk=pk)


def elders_for_family(*, user: Any) -> QuerySet[Person]:
    """The elders a family member (or the elder themself) is linked to."""
    if not has_role(user, {Role.RESIDENT}):
        return Person.objects.none()
    return Person.objects.filter(family_links__user=user).select_related("homecare_account").order_by("pk")


def elders_for_booking(*, user: Any) -> QuerySet[Person]:
    """Whom ``user`` may book for: a family member their elders, village and community staff their area's."""
    if has_role(user, {Role.DEPARTMENT_OFFICER}):
        prefix = officer_prefix(user)
        if prefix is None:
            return Person.objects.none()
        return Person.objects.filter(code_within("hukou_area", prefix)).select_related("homecare_account")
    return elders_for_family(user=user)


def accounts_for_user(*, user: Any) -> QuerySet[EntitlementAccount]:
    accounts = EntitlementAccount.objects.select_related("person", "provider", "usual_caregiver")
    if has_role(user, {Role.AUDITOR}):
        return accounts
    if has_role(user, {Role.DEPARTMENT_OFFICER}):
        prefix = officer_prefix(user)
        return accounts.filter(person__hukou_area__startswith=prefix) if prefix else accounts.none()
    if has_role(user, {Role.PROVIDER_ADMIN}):
        return accounts.filter(provider__admins=user)
    if has_role(user, {Role.RESIDENT}):
        return accounts.filter(person__family_links__user=user)
    return accounts.none()


def account_for_user(*, user: Any, pk: int) -> EntitlementAccount:
    return accounts_for_user(user=user).get(pk=pk)


def providers_for_user(*, user: Any) -> QuerySet[Provider]:
    if has_role(user, {Role.AUDITOR, Role.DEPARTMENT_OFFICER}):
        return Provider.objects.all()
    if has_role(user, {Role.PROVIDER_ADMIN}):
        return Provider.objects.filter(admins=user)
    return Provider.objects.none()


def caregiver_for_user(*, user: Any) -> Caregiver | None:
    if not has_role(user, {Role.CAREGIVER}):
        return None
    return Caregiver.objects.filter(user=user).select_related("provider").first()


def _day(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time(), tzinfo=timezone.get_current_timezone())
    return start, start + dt.timedelta(days=1)


def caregiver_route(*, user: Any, day: dt.date) -> list[Order]:
    """The caregiver's visits on ``day`` (those they lead and those they join), in planned order."""
    start, end = _day(day)
    return list(
        orders_for_user(user=user)
        .filter(planned_start__gte=start, planned_start__lt=end)
        .exclude(status=OrderStatus.CANCELLED)
        .prefetch_related("partners__caregiver")
        .order_by("planned_start", "pk")
    )


# Work still to do on a day: for a caregiver, visits to make; for a provider's plan, orders to place or make.
ROUTE_WORK = (OrderStatus.SCHEDULED, OrderStatus.IN_SERVICE)
PLAN_WORK = (OrderStatus.ACCEPTED, OrderStatus.SCHEDULED, OrderStatus.IN_SERVICE)


def _first_day(orders: QuerySet[Order], field: str, today: dt.date) -> dt.date:
    first = orders.filter(**{f"{field}__gte": _day(today)[0]}).order_by(field).values_list(field, flat=True).first()
    return timezone.localtime(first).date() if first is not None else today


def caregiver_work_day(*, user: Any, today: dt.date) -> dt.date:
    """The day a caregiver's route page opens on: today if anything is planned for them today, else the next
    day with a visit still to make, else today."""
    if caregiver_route(user=user, day=today):
        return today
    return _first_day(orders_for_user(user=user).filter(status__in=ROUTE_WORK), "planned_start", today)


def plan_work_day(*, user: Any, provider: Provider, today: dt.date) -> dt.date:
    """The day a provider's plan opens on: the first from today with accepted, scheduled or started orders."""
    orders = orders_for_user(user=user).filter(provider=provider, status__in=PLAN_WORK)
    return _first_day(orders, "window_start", today)


def overdue_orders(*, user: Any, now: dt.datetime) -> QuerySet[Order]:
    return orders_for_user(user=user).filter(overdue_q(now)).order_by("respond_by")


def complaints_for_user(*, user: Any) -> QuerySet[Complaint]:
    orders = orders_for_user(user=user)
    return Complaint.objects.filter(order__in=orders.values("pk")).select_related(
        "order", "order__account__person", "clause"
    )


@dataclass(frozen=True)
class StatementLine:
    order: Order
    subsidy: Decimal  # spent from the allowance (0 if not yet confirmed or decided, cancelled, or given back)
    self_pay: Decimal
    reason: str  # why the visit is not settled in full, or is held (the settlement line's reason)


@dataclass(frozen=True)
class Statement:
    """One elder's month: the allowance, every order in it, and what is spent, held and left."""

    account: EntitlementAccount
    month: dt.date
    allowance: Decimal
    held: Decimal
    spent: Decimal
    self_paid: Decimal
    lines: list[StatementLine]

    @property
    def remaining(self) -> Decimal:
        return self.allowance - self.held - self.spent


def statement(*, account: EntitlementAccount, month: dt.date) -> Statement:
    first = month_start(month)
    row = AccountMonth.objects.filter(account=account, month=first).first()
    orders = list(
        Order.objects.filter(account=account, account_month__month=first)
        .select_related("caregiver")
        .order_by("window_start", "pk")
    )
    lines = []
    for o in orders:
        subsidy, own = visits.spent_parts(o)
        lines.append(StatementLine(order=o, subsidy=subsidy, self_pay=own, reason=visits.settlement_reason(o)))
    if row is None:
        return Statement(account, first, account.monthly_allowance, Decimal(0), Decimal(0), Decimal(0), lines)
    return Statement(account, first, row.allowance, row.held, row.spent, row.self_paid, lines)
