"""Who may see which residents, and how much of them.

Kept beside the registry rather than in ``fuwu.accounts.permissions`` because
the rule needs the person's area; the role sets mirror that module's style.

* department officers: residents whose hukou area is within their own area,
  with full names; the full identity number only on an explicit, audited reveal;
* auditors: every resident, names and numbers masked, never revealed;
* everyone else: none here (later issues give caregivers, providers and
  residents their own narrowly scoped views).
"""

from __future__ import annotations

from typing import Any

from fuwu.accounts.models import Role
from fuwu.accounts.permissions import has_role
from fuwu.areas.selectors import descendant_codes_prefix

REGISTRY_READERS = {Role.DEPARTMENT_OFFICER, Role.AUDITOR}
REGISTRY_IMPORTERS = {Role.DEPARTMENT_OFFICER}


def can_list_persons(user: Any) -> bool:
    return has_role(user, REGISTRY_READERS)


def can_import_persons(user: Any) -> bool:
    return has_role(user, REGISTRY_IMPORTERS) and officer_prefix(user) is not None


def officer_prefix(user: Any) -> str | None:
    """The area-code prefix an officer's access covers; ``None`` for anyone who is not a scoped officer."""
    if not has_role(user, {Role.DEPARTMENT_OFFICER}) or user.area is None:
        return None
    return descendant_codes_prefix(user.area)


def in_officer_area(user: Any, hukou_area: str) -> bool:
    prefix = officer_prefix(user)
    return prefix is not None and hukou_area.startswith(prefix)


def sees_identity(user: Any, hukou_area: str) -> bool:
    """Full name, and the right to reveal the full number: officers, for residents of their area."""
    return in_officer_area(user, hukou_area)
