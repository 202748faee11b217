"""Who may act on home-care accounts and orders. One place, so pages, the API and tests agree.

* the elder and their family (``FamilyLink``): book, cancel, confirm, rate and complain, for that elder;
* village and community staff (department officers): everything an elder may do, for elders whose
  hukou is in their area, plus opening accounts, resolving complaints, callbacks and settlement;
* provider administrators: accept or decline their provider's orders, plan the day, mark absences;
* caregivers: the visits assigned to them (check in and out, record, confirm with the elder's code), and
  those they join as the second caregiver (check in);
* auditors: read everything, change nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q

from fuwu.accounts.models import Role
from fuwu.accounts.permissions import has_role
from fuwu.homecare.models import FamilyLink, Order, OrderStatus, Provider
from fuwu.residents.models import Person
from fuwu.residents.permissions import in_officer_area


def is_family(user: Any, person: Person) -> bool:
    return bool(has_role(user, {Role.RESIDENT}) and FamilyLink.objects.filter(user=user, person_id=person.pk).exists())


def is_officer_for(user: Any, person: Person) -> bool:
    return in_officer_area(user, person.hukou_area)


def can_book_for(user: Any, person: Person) -> bool:
    return is_family(user, person) or is_officer_for(user, person)


def manages(user: Any, provider: Provider) -> bool:
    return bool(has_role(user, {Role.PROVIDER_ADMIN}) and provider.admins.filter(pk=user.pk).exists())


def is_assigned_caregiver(user: Any, order: Order) -> bool:
    caregiver = order.caregiver
    return bool(has_role(user, {Role.CAREGIVER}) and caregiver is not None and caregiver.user_id == user.pk)


def is_partner(user: Any, order: Order) -> bool:
    """A caregiver planned as a second caregiver on the visit (items that need two staff)."""
    return bool(has_role(user, {Role.CAREGIVER}) and order.partners.filter(caregiver__user=user).exists())


def can_open_accounts(user: Any) -> bool:
    return has_role(user, {Role.DEPARTMENT_OFFICER}) and getattr(user, "area", None) is not None


def can_supervise(user: Any) -> bool:
    """Officers (their area) and auditors (everywhere, read-only) see supervision and settlement."""
    return has_role(user, {Role.DEPARTMENT_OFFICER, Role.AUDITOR})


# The registry's contact grant (``fuwu.residents.permissions.register_contact_grant``) home care holds.
VISIT_DAY_GRANT = "homecare.visit_day"
# A visit still to make, under way, or just made (the code not yet read): the caregiver may need to call.
_AT_THE_DOOR = (OrderStatus.SCHEDULED, OrderStatus.IN_SERVICE, OrderStatus.COMPLETED)


def caregiver_on_visit_day(user: Any, person: Any) -> bool:
    """A caregiver planned on a visit to ``person`` today (leading it or as the second caregiver).

    Vouches for them to see the elder's phone and emergency contact (in full, each view audited), that day only.
    """
    if not has_role(user, {Role.CAREGIVER}):
        return False
    from fuwu.homecare.services import local_now  # services imports this module

    start = local_now().replace(hour=0, minute=0, second=0, microsecond=0)
    end = start + dt.timedelta(days=1)
    return (
        Order.objects.filter(
            account__person_id=person.pk,
            status__in=_AT_THE_DOOR,
            planned_start__gte=start,
            planned_start__lt=end,
        )
        .filter(Q(caregiver__user=user) | Q(partners__caregiver__user=user))
        .exists()
    )
