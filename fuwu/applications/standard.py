"""What an item's standard says an application needs: its materials checklist, its steps and their limits,
and which department handles it. Read from ``ServiceItem.data`` (the item as its version states it), so every
item whose standard lists steps can be applied for, and none needs code of its own.

Steps: the first is the applicant's own (申请); the ones after it are the department's, each with its
promised limit in working days (``promised_limit_days``, else the statutory ``legal_limit_days``; none: no
limit is stated, and no due date is shown).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fuwu.accounts.models import Department
from fuwu.guide.guides import text
from fuwu.standards.models import ServiceItem

APPLICANT_STEP = 0  # the applicant's own step; the department's start after it


@dataclass(frozen=True)
class Material:
    index: int
    name: str
    form: str
    count: int
    shared_data: bool
    note: str
    clause: str


@dataclass(frozen=True)
class Step:
    index: int
    name: str
    actor: str
    limit_days: int | None
    clause: str


def materials(item: ServiceItem) -> list[Material]:
    return [
        Material(
            index=i,
            name=text(m.get("name")),
            form=str(m.get("form") or "original"),
            count=int(m.get("count") or 1),
            shared_data=bool(m.get("shared_data")),
            note=text(m.get("note")),
            clause=str(m.get("clause") or ""),
        )
        for i, m in enumerate(item.data.get("materials") or [])
    ]


def _limit(step: dict[str, Any]) -> int | None:
    for key in ("promised_limit_days", "legal_limit_days"):
        if step.get(key) is not None:
            return int(step[key])
    return None


def steps(item: ServiceItem) -> list[Step]:
    return [
        Step(
            index=i,
            name=text(s.get("name")),
            actor=text(s.get("actor")),
            limit_days=_limit(s),
            clause=str(s.get("clause") or ""),
        )
        for i, s in enumerate(item.data.get("steps") or [])
    ]


def applicable(item: ServiceItem) -> bool:
    """Whether residents may apply online: the standard lists the steps that handle an application."""
    return bool(item.data.get("steps"))


def first_department_step(item: ServiceItem) -> int:
    """The step accepting an application starts (the applicant's own step when it is the only one)."""
    return min(APPLICANT_STEP + 1, max(len(steps(item)) - 1, APPLICANT_STEP))


def department_for(item: ServiceItem) -> Department | None:
    """The department that handles applications for ``item``: the one named as its lead department.

    A department whose name is the lead department's, or the end of it (a county's 民政局 handles what a
    city-level standard gives to 台州市民政局 — each office sees its own area's applicants); the longest
    such name wins. A lead named with its partners in brackets (``台州市民政局（会同台州市残疾人联合会）``)
    is the department before the brackets: the partners work with it, applications go to it. ``None``: the
    lead department has no office on the platform yet.
    """
    lead = re.sub(r"\s*[（(][^（()）]*[)）]\s*$", "", item.lead_department_zh).strip()
    if not lead:
        return None
    found = [d for d in Department.objects.all() if d.name_zh and lead.endswith(d.name_zh)]
    return max(found, key=lambda d: (d.name_zh == lead, len(d.name_zh)), default=None)
