"""Who sees the indicators, and of which area.

* department officers: their own area and every area below it (as home-care supervision scopes them);
* the standards office and auditors: every area (the city and below), read-only;
* everyone else: nothing.
"""

from __future__ import annotations

from typing import Any

from fuwu.accounts.models import Role
from fuwu.accounts.permissions import has_role
from fuwu.areas.selectors import descendant_codes_prefix

DASHBOARD_READERS = {Role.DEPARTMENT_OFFICER, Role.STANDARDS_OFFICE, Role.AUDITOR}


def can_view_dashboard(user: Any) -> bool:
    if not has_role(user, DASHBOARD_READERS):
        return False
    # An officer without an area has no area to see.
    return user.role != Role.DEPARTMENT_OFFICER or user.area_id is not None


def dashboard_prefix(user: Any) -> str | None:
    """The area-code prefix ``user`` may see ("" for every area); ``None`` for no access at all."""
    if not can_view_dashboard(user):
        return None
    if user.role == Role.DEPARTMENT_OFFICER:
        return descendant_codes_prefix(user.area)
    return ""


def sees_area(user: Any, code: str) -> bool:
    prefix = dashboard_prefix(user)
    return prefix is not None and code.startswith(prefix)
