"""Reads of applications, scoped to the reader: nobody gets a row they may not see."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from fuwu.applications import permissions, standard
from fuwu.applications.models import OPEN, Application, MaterialState
from fuwu.applications.overdue import overdue_q
from fuwu.homecare.models import FamilyLink
from fuwu.standards.models import IN_FORCE, ServiceItem


def application_for_user(*, user: Any, pk: int) -> Application:
    """One application the user may see; 404 as for one that does not exist otherwise."""
    found = (
        Application.objects.select_related("item", "version", "person", "department", "submitted_by")
        .filter(pk=pk)
        .first()
    )
    if found is None or not permissions.may_view(user, found):
        raise Http404("no such application")
    return found


def applications_of_user(*, user: Any) -> QuerySet[Application]:
    """ "My applications": for the persons linked to the account, and those the user submitted for others."""
    linked = FamilyLink.objects.filter(user=user).values("person_id")
    return (
        Application.objects.filter(Q(person_id__in=linked) | Q(submitted_by=user))
        .select_related("item", "person")
        .order_by("-submitted_at", "-id")
    )


def applications_visible(*, user: Any) -> QuerySet[Application]:
    """What the API lists: the user's own ("my applications") and, for an officer or a supervisor, their
    department × area."""
    linked = FamilyLink.objects.filter(user=user).values("person_id")
    seen = Q(person_id__in=linked) | Q(submitted_by=user)
    prefix = permissions.inbox_prefix(user)
    if prefix is not None and user.department_id is not None:
        seen |= Q(department_id=user.department_id, area_code__startswith=prefix)
    return (
        Application.objects.filter(seen).select_related("item", "person", "department").order_by("-submitted_at", "-id")
    )


@dataclass(frozen=True)
class InboxFilters:
    item: str = ""
    step: int | None = None
    overdue: bool = False
    open_only: bool = True
    due_by: dt.date | None = None  # due on or before this day


def inbox_for(*, user: Any, filters: InboxFilters, today: dt.date) -> QuerySet[Application]:
    """The department's applications of the officer's (or supervisor's) area, soonest due first (none for anyone
    else)."""
    prefix = permissions.inbox_prefix(user)
    if prefix is None or user.department_id is None:
        return Application.objects.none()
    rows = Application.objects.filter(department_id=user.department_id, area_code__startswith=prefix)
    if filters.open_only:
        rows = rows.filter(status__in=OPEN)
    if filters.item:
        rows = rows.filter(item_key=filters.item)
    if filters.step is not None:
        rows = rows.filter(step=filters.step)
    if filters.due_by is not None:
        rows = rows.filter(due_on__lte=filters.due_by)
    if filters.overdue:
        rows = rows.filter(overdue_q(today))
    # An item's standard data is not shown in the list: not decoding it 50 times a page.
    return (
        rows.select_related("item", "person", "overdue")
        .defer("item__data", "eligibility_reasons")
        .order_by("due_on", "submitted_at", "id")
    )


def inbox_overdue_count(*, user: Any, today: dt.date) -> int:
    """How many of the officer's applications are overdue now (the clock running, past the due date)."""
    return inbox_for(user=user, filters=InboxFilters(overdue=True), today=today).order_by().count()


def inbox_items(*, user: Any) -> list[tuple[str, str]]:
    """The items the officer's department handles, for the inbox's filter.

    Read from the standards (the items in force whose lead department routes to this department), not from
    the applications: the inbox may hold 200,000 of them, and a DISTINCT over them would cost every page view.
    """
    prefix = permissions.inbox_prefix(user)
    if prefix is None or user.department is None or not user.department.name_zh:
        return []
    candidates = (
        ServiceItem.objects.filter(version__status__in=IN_FORCE, lead_department_zh__endswith=user.department.name_zh)
        .select_related("version")
        .defer("version__document")
    )
    found = {
        (i.key, i.name_zh)
        for i in candidates
        if standard.applicable(i) and getattr(standard.department_for(i), "pk", None) == user.department_id
    }
    return sorted(found)


@dataclass(frozen=True)
class MaterialRow:
    material: standard.Material
    state: str
    state_label: str
    provision_label: str
    has_file: bool
    promised_by: dt.date | None


def material_rows(application: Application) -> list[MaterialRow]:
    rows = {r.index: r for r in application.materials.all()}
    out = []
    for m in standard.materials(application.item):
        r = rows.get(m.index)
        out.append(
            MaterialRow(
                material=m,
                state=r.state if r else "",
                state_label=r.get_state_display() if r else "",
                provision_label=r.get_provision_display() if r else "",
                has_file=bool(r and r.file),
                promised_by=r.promised_by if r else None,
            )
        )
    return out


def missing_rows(application: Application) -> list[MaterialRow]:
    return [r for r in material_rows(application) if r.state in (MaterialState.MISSING, MaterialState.PROMISED)]
