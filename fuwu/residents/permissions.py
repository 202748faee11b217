"""Who may see which residents, and how much of them.

Kept beside the registry rather than in ``fuwu.accounts.permissions`` because
the rule needs the person's area; the role sets mirror that module's style.

* department officers: residents whose hukou area is within their own area,
  with full names; the full identity number and contact details only on an
  explicit, audited reveal;
* auditors: every resident, names, numbers and contact details masked, never revealed;
* users another app vouches for, through a registered contact grant: the
  contact details of the residents the grant's check allows (masked, or in full
  on an audited reveal), nothing else of the registry;
* everyone else: none here (later issues give caregivers, providers and
  residents their own narrowly scoped views).
"""

from __future__ import annotations

from collections.abc import Callable
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


def sees_person(user: Any, hukou_area: str) -> bool:
    """The one-row form of ``selectors.persons_for_user``: officers their area, auditors everyone."""
    if not can_list_persons(user):
        return False
    prefix = officer_prefix(user)
    return prefix is None or hukou_area.startswith(prefix)


# --- Contact details for other apps ----------------------------------------------------------------------------

ContactGrant = Callable[[Any, Any], bool]  # (user, person) → may this user see this person's contact now?
_CONTACT_GRANTS: dict[str, ContactGrant] = {}


def register_contact_grant(name: str, check: ContactGrant) -> None:
    """Let another app vouch for users who need a resident's contact (from its ``AppConfig.ready``).

    ``name`` is recorded on every reveal made under the grant, e.g. ``"homecare.visit_day"`` for the
    caregiver assigned to the elder's visit today; ``check(user, person)`` says whether it applies.
    """
    if name in _CONTACT_GRANTS and _CONTACT_GRANTS[name] is not check:
        raise ValueError(f"contact grant {name!r} is already registered")
    _CONTACT_GRANTS[name] = check


def _granted(user: Any, person: Any, grant: str) -> bool:
    check = _CONTACT_GRANTS.get(grant) if grant else None
    return bool(getattr(user, "is_authenticated", False) and check is not None and check(user, person))


def may_see_contact(user: Any, person: Any, *, grant: str = "") -> bool:
    """Masked contact details: whoever may see the person, or holds the grant."""
    return sees_person(user, person.hukou_area) or _granted(user, person, grant)


def may_reveal_contact(user: Any, person: Any, *, grant: str = "") -> bool:
    """The full contact details: an officer of the resident's area, or a user the grant vouches for."""
    return sees_identity(user, person.hukou_area) or _granted(user, person, grant)
