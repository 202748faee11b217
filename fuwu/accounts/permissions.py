"""Who may do what. One place, so views, the API and the admin agree."""

from __future__ import annotations

from typing import Any

from fuwu.accounts.models import Role

REGISTRY_READERS = {Role.STANDARDS_OFFICE, Role.DEPARTMENT_OFFICER, Role.AUDITOR}
REGISTRY_EDITORS = {Role.STANDARDS_OFFICE}


def has_role(user: Any, roles: set[Role]) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.role in roles)


def can_view_registry(user: Any) -> bool:
    return has_role(user, REGISTRY_READERS)


def can_manage_standards(user: Any) -> bool:
    return has_role(user, REGISTRY_EDITORS)


REGISTRY_SCREENERS = {Role.DEPARTMENT_OFFICER, Role.STANDARDS_OFFICE}


def can_screen_registry(user: Any) -> bool:
    """Run a screening of the whole resident registry (results are read on the area-scoped proactive list)."""
    return has_role(user, REGISTRY_SCREENERS)


INSPECTION_DRAWERS = {Role.DEPARTMENT_OFFICER}
PILOT_MANAGERS = {Role.STANDARDS_OFFICE}


def can_draw_inspections(user: Any) -> bool:
    """Draw institutions and inspectors at random (双随机) for the officer's department and area."""
    return has_role(user, INSPECTION_DRAWERS) and user.department_id is not None and user.area_id is not None


def can_manage_pilots(user: Any) -> bool:
    """Designate pilot areas for a standard and accept them (试点验收)."""
    return has_role(user, PILOT_MANAGERS)
