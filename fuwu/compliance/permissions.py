"""Who may see and do what in compliance. One place, so pages, services and tests agree.

* the public: institutions (name, kind, address, latest published grade), published draws and published results;
* institution administrators: their own institutions — self-assessments, the department's results about them,
  rectification orders and the evidence they send;
* inspectors: the inspections they were drawn (or assigned) to, and the orders those inspections opened;
* department officers: everything in their area (institutions, draws, inspections, orders), and the draw;
* the standards office: pilots and their acceptance, and everything read-only across the city;
* auditors: read everything, change nothing.
"""

from __future__ import annotations

from typing import Any

from fuwu.accounts.models import Role
from fuwu.accounts.permissions import has_role
from fuwu.areas.selectors import descendant_codes_prefix
from fuwu.compliance.models import Inspection, InspectionKind, Institution, RectificationOrder


def area_prefix(user: Any) -> str | None:
    """The area-code prefix an officer acts in; ``""`` (everywhere) for the standards office and auditors."""
    if has_role(user, {Role.STANDARDS_OFFICE, Role.AUDITOR}):
        return ""
    if has_role(user, {Role.DEPARTMENT_OFFICER}) and user.area is not None:
        return descendant_codes_prefix(user.area)
    return None


def covers(user: Any, area_code: str) -> bool:
    prefix = area_prefix(user)
    return prefix is not None and area_code.startswith(prefix)


def is_officer_for(user: Any, institution: Institution) -> bool:
    """A department officer whose area holds the institution (acts on it)."""
    return has_role(user, {Role.DEPARTMENT_OFFICER}) and covers(user, institution.area.code)


# A home-care provider's administrators run its institution too (the provider is an institution: ADR 7).
INSTITUTION_ROLES = {Role.INSTITUTION_ADMIN, Role.PROVIDER_ADMIN}


def is_institution_admin(user: Any, institution: Institution) -> bool:
    return bool(has_role(user, INSTITUTION_ROLES) and institution.admins.filter(pk=user.pk).exists())


def is_assigned(user: Any, inspection: Inspection) -> bool:
    return bool(has_role(user, {Role.INSPECTOR}) and inspection.inspectors.filter(pk=user.pk).exists())


def may_fill(user: Any, inspection: Inspection) -> bool:
    """Who answers a checklist: the institution for its self-assessment, the drawn inspectors otherwise."""
    if inspection.kind == InspectionKind.SELF:
        return is_institution_admin(user, inspection.institution)
    return is_assigned(user, inspection)


def may_view(user: Any, inspection: Inspection) -> bool:
    """Everything of an inspection (notes, photos, the record): those it concerns and those who oversee it."""
    institution = inspection.institution
    if is_institution_admin(user, institution):
        return inspection.kind == InspectionKind.SELF or inspection.status in ("signed", "published")
    return is_assigned(user, inspection) or covers(user, institution.area.code)


def may_decide(user: Any, order: RectificationOrder) -> bool:
    """Accept, return or send for re-inspection: the inspectors who found it, or an officer of the area."""
    return is_assigned(user, order.inspection) or is_officer_for(user, order.institution)


def may_view_order(user: Any, order: RectificationOrder) -> bool:
    return (
        is_institution_admin(user, order.institution)
        or may_decide(user, order)
        or covers(user, order.institution.area.code)
    )
