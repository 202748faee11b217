"""Account writes: demo accounts for every role."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from fuwu.accounts.models import Department, Role, User
from fuwu.areas.models import Area
from fuwu.common.audit import audit


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: Role
    area_code: str | None = None
    department: str | None = None


# Demo only: these passwords are printed by `make demo` and must never exist in production.
DEMO_ACCOUNTS = [
    DemoAccount("resident", "demo-resident-2026", Role.RESIDENT, "331002"),
    DemoAccount("family", "demo-family-2026", Role.RESIDENT, "331002"),
    DemoAccount("caregiver", "demo-caregiver-2026", Role.CAREGIVER, "331002"),
    DemoAccount("caregiver2", "demo-caregiver2-2026", Role.CAREGIVER, "331002"),
    DemoAccount("provider", "demo-provider-2026", Role.PROVIDER_ADMIN, "331002"),
    DemoAccount("officer", "demo-officer-2026", Role.DEPARTMENT_OFFICER, "331002", "civil-affairs"),
    DemoAccount("supervisor", "demo-supervisor-2026", Role.DEPARTMENT_SUPERVISOR, "331002", "civil-affairs"),
    DemoAccount("stdoffice", "demo-stdoffice-2026", Role.STANDARDS_OFFICE, "331000"),
    DemoAccount("auditor", "demo-auditor-2026", Role.AUDITOR, "331000"),
    DemoAccount("institution", "demo-institution-2026", Role.INSTITUTION_ADMIN, "331002"),
    DemoAccount("inspector", "demo-inspector-2026", Role.INSPECTOR, "331002", "civil-affairs"),
    DemoAccount("inspector2", "demo-inspector2-2026", Role.INSPECTOR, "331002", "civil-affairs"),
    # A village agent (代办员); the demo's street (海门街道) stands for the village, which the areas table lacks.
    DemoAccount("agent", "demo-agent-2026", Role.VILLAGE_AGENT, "331002001"),
]
DEMO_DEPARTMENTS = {"civil-affairs": ("台州市民政局", "Taizhou Civil Affairs Bureau")}


@transaction.atomic
def demo_accounts_ensure() -> list[DemoAccount]:
    """Create or reset the demo accounts; running it twice changes nothing more."""
    for code, (zh, en) in DEMO_DEPARTMENTS.items():
        Department.objects.update_or_create(code=code, defaults={"name_zh": zh, "name_en": en})
    for account in DEMO_ACCOUNTS:
        user, created = User.objects.get_or_create(username=account.username)
        user.role = account.role
        user.area = Area.objects.filter(code=account.area_code).first() if account.area_code else None
        user.department = Department.objects.get(code=account.department) if account.department else None
        # The standards office drafts and publishes in the Django admin.
        user.is_staff = account.role == Role.STANDARDS_OFFICE
        user.set_password(account.password)
        user.save()
        if created:
            audit(actor=None, event="account.demo_created", obj=user, after={"role": account.role})
    return DEMO_ACCOUNTS
