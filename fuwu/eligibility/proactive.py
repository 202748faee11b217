"""The proactive list (免申即享): people a screening found entitled who do not yet receive the item.

Reads are scoped to the official's area; writes (outreach outcomes) go
through ``outreach_record``, which audits them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, QuerySet
from django.db.models.functions import Substr

from fuwu.accounts.models import Role
from fuwu.accounts.permissions import has_role
from fuwu.areas.selectors import descendant_codes_prefix
from fuwu.common.audit import audit
from fuwu.eligibility.models import (
    OutreachRecord,
    OutreachStatus,
    Receipt,
    ResultStatus,
    RunStatus,
    ScreeningResult,
    ScreeningRun,
)

READERS = {Role.DEPARTMENT_OFFICER, Role.AUDITOR}


class OutreachError(Exception):
    pass


def area_prefix_for(user: Any) -> str | None:
    """The area codes this user may see start with this prefix; None if they may see none."""
    if not has_role(user, READERS):
        return None
    if user.role == Role.AUDITOR and user.area is None:
        return ""
    return descendant_codes_prefix(user.area) if user.area else None


def latest_run() -> ScreeningRun | None:
    return ScreeningRun.objects.filter(status=RunStatus.COMPLETED, draft=False).order_by("-finished_at").first()


def newly_entitled(
    *, run: ScreeningRun, user: Any, item: str | None = None, township: str | None = None
) -> QuerySet[ScreeningResult]:
    prefix = area_prefix_for(user)
    if prefix is None:
        return ScreeningResult.objects.none()
    served = Receipt.objects.filter(person_id=OuterRef("person_id"), item=OuterRef("item"))
    results = ScreeningResult.objects.filter(run=run, status=ResultStatus.ELIGIBLE, hukou_area__startswith=prefix)
    if item:
        results = results.filter(item=item)
    if township:
        results = results.filter(hukou_area__startswith=township)
    return results.exclude(Exists(served)).order_by("hukou_area", "person_id", "item")


@dataclass(frozen=True)
class TownshipCount:
    township: str
    item: str
    people: int


def counts_by_township(*, run: ScreeningRun, user: Any) -> list[TownshipCount]:
    rows = (
        newly_entitled(run=run, user=user)
        .annotate(township=Substr("hukou_area", 1, 9))
        .values("township", "item")
        .annotate(people=Count("id"))
        .order_by("township", "item")
    )
    return [TownshipCount(r["township"], r["item"], r["people"]) for r in rows]


@transaction.atomic
def outreach_record(
    *, run: ScreeningRun, person_id: int, item: str, status: str, note: str, actor: Any
) -> OutreachRecord:
    """Record the outcome of contacting a newly entitled person; only for people in the actor's area."""
    if status not in OutreachStatus.values:
        raise OutreachError(f"status must be one of {', '.join(OutreachStatus.values)}")
    if not has_role(actor, {Role.DEPARTMENT_OFFICER}):
        raise OutreachError("only a department officer records outreach")
    if not newly_entitled(run=run, user=actor, item=item).filter(person_id=person_id).exists():
        raise OutreachError("this person is not on your proactive list for this item")
    record, _ = OutreachRecord.objects.select_for_update().get_or_create(run=run, person_id=person_id, item=item)
    before = {"status": record.status, "note": record.note}
    record.status, record.note, record.updated_by = status, note, actor
    record.save()
    audit(actor=actor, event="outreach.recorded", obj=record, before=before, after={"status": status, "note": note})
    return record
