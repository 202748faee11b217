"""Who may apply for whom, who may see an application, and which officers handle it.

* a resident, for a person their account is linked to (``FamilyLink``): themself when the link says so
  (relation 本人/self), else as family;
* a village (community) agent (代办员), for residents whose hukou is in their village;
* a department officer at the counter (窗口), for residents of their area, when their department handles the item;
* handling (the inbox and its actions): officers of the application's department whose area covers the
  applicant's hukou area;
* supervising (督办负责人, ``Role.DEPARTMENT_SUPERVISOR``): scoped as the officers are, by department and area;
  they read the department's inbox and its applications (never acting on them), the 差评 rectifications of
  their area, and receive the overdue job's escalations. Everyone else sees nothing (the pages answer 404, as for
  an application that does not exist).
"""

from __future__ import annotations

from typing import Any

from fuwu.accounts.models import Department, Role
from fuwu.accounts.permissions import has_role
from fuwu.applications.models import Application, Capacity
from fuwu.areas.selectors import descendant_codes_prefix
from fuwu.homecare.models import FamilyLink
from fuwu.residents.models import Person
from fuwu.residents.permissions import officer_prefix

SELF_RELATIONS = frozenset({"本人", "self"})


def agent_prefix(user: Any) -> str | None:
    if not has_role(user, {Role.VILLAGE_AGENT}) or user.area is None:
        return None
    return descendant_codes_prefix(user.area)


APPLYING_ROLES = {Role.RESIDENT, Role.VILLAGE_AGENT, Role.DEPARTMENT_OFFICER}


def may_apply_at_all(user: Any) -> bool:
    """Roles that can ever apply for someone (the form is not shown to the others)."""
    return has_role(user, APPLYING_ROLES)


def capacity_for(user: Any, person: Person, *, department: Department | None) -> Capacity | None:
    """In what capacity ``user`` may apply for ``person`` (``None``: they may not)."""
    if has_role(user, {Role.RESIDENT}):
        link = FamilyLink.objects.filter(user=user, person_id=person.pk).first()
        if link is None:
            return None
        return Capacity.SELF if link.relation.strip().lower() in SELF_RELATIONS else Capacity.FAMILY
    prefix = agent_prefix(user)
    if prefix is not None:
        return Capacity.AGENT if person.hukou_area.startswith(prefix) else None
    prefix = officer_prefix(user)
    if prefix is not None and department is not None and user.department_id == department.pk:
        return Capacity.COUNTER if person.hukou_area.startswith(prefix) else None
    return None


def supervisor_prefix(user: Any) -> str | None:
    """The area-code prefix a department supervisor's reading covers; ``None`` for anyone else."""
    if not has_role(user, {Role.DEPARTMENT_SUPERVISOR}) or user.area is None or user.department_id is None:
        return None
    return descendant_codes_prefix(user.area)


def inbox_prefix(user: Any) -> str | None:
    """Whose inbox: a department officer's (to act) or a department supervisor's (to read), by area prefix."""
    prefix = officer_prefix(user)
    return prefix if prefix is not None else supervisor_prefix(user)


def in_scope(user: Any, prefix: str | None, *, department_id: int | None, area_code: str) -> bool:
    """``user`` is of that department and their area (``prefix``, from ``officer_prefix`` or
    ``supervisor_prefix``) covers ``area_code``: an application's or a rectification's."""
    return (
        prefix is not None
        and department_id is not None
        and user.department_id == department_id
        and area_code.startswith(prefix)
    )


def supervises(user: Any, application: Application) -> bool:
    """A supervisor of the application's department whose area covers the applicant's: reads, never acts."""
    return in_scope(
        user, supervisor_prefix(user), department_id=application.department_id, area_code=application.area_code
    )


def handles(user: Any, application: Application) -> bool:
    return in_scope(
        user, officer_prefix(user), department_id=application.department_id, area_code=application.area_code
    )


def is_applicant_side(user: Any, application: Application) -> bool:
    """The person's linked accounts and whoever submitted it: they follow it, supply and withdraw."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    # A pre-filled application (免申即享) is "submitted" by the officer who ran the screening: not theirs to follow.
    if application.submitted_by_id == user.pk and application.capacity != Capacity.SYSTEM:
        return True
    return bool(
        has_role(user, {Role.RESIDENT})
        and FamilyLink.objects.filter(user=user, person_id=application.person_id).exists()
    )


def may_view(user: Any, application: Application) -> bool:
    return is_applicant_side(user, application) or handles(user, application) or supervises(user, application)
