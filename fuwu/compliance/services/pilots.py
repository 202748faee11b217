"""Pilots (试点): the standards office designates a township, street or village to pilot a standard, then accepts it.

Acceptance (验收) reads the department's inspections of the area's institutions — those of the kinds the
standard governs, in the area or below it — made since the pilot began: every institution inspected, the share
passing and the average score at least the thresholds the standard's ``grading.acceptance`` set when the pilot
was designated (copied, so a later version of the standard does not move the target of a pilot under way).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from fuwu.accounts.permissions import can_manage_pilots
from fuwu.areas.models import Area, AreaLevel
from fuwu.areas.selectors import descendant_codes_prefix
from fuwu.common.audit import audit
from fuwu.compliance import checklists
from fuwu.compliance.models import DONE, Inspection, InspectionKind, Institution, Pilot, PilotStatus
from fuwu.compliance.services import ComplianceError, local_now
from fuwu.standards.models import Standard

ONE_DECIMAL = Decimal("0.1")


@transaction.atomic
def pilot_designate(
    *, actor: Any, standard: Standard, area: Area, start_on: dt.date, accept_by: dt.date, now: dt.datetime | None = None
) -> Pilot:
    if not can_manage_pilots(actor):
        raise PermissionDenied("only the standards office designates pilots")
    if area.level not in (AreaLevel.TOWNSHIP, AreaLevel.VILLAGE):
        raise ComplianceError(_("试点应设在乡镇（街道）或村（社区）。"), code="bad_area")
    if accept_by < start_on:
        raise ComplianceError(_("验收日期不能早于试点开始日期。"), code="bad_period")
    version = checklists.version_on(standard=standard, day=start_on)
    if version is None:
        raise ComplianceError(_("试点开始时这项标准没有现行版本。"), code="no_standard_in_force")
    acceptance = checklists.grading(version).acceptance
    if acceptance is None:
        raise ComplianceError(
            _("%(standard)s 没有规定试点验收的分数线（grading.acceptance），请先在标准中写明。")
            % {"standard": version.code},
            code="no_acceptance_thresholds",
        )
    try:
        with transaction.atomic():
            pilot = Pilot.objects.create(
                standard=standard,
                area=area,
                start_on=start_on,
                accept_by=accept_by,
                min_average_score=acceptance.min_average_score,
                min_passing_percent=acceptance.min_passing_percent,
                designated_by=actor,
                designated_at=now or local_now(),
            )
    except IntegrityError:
        raise ComplianceError(
            _("%(area)s 已经是这项标准的试点。") % {"area": area.name_zh}, code="already_designated"
        ) from None
    audit(
        actor=actor,
        event="compliance.pilot_designated",
        obj=pilot,
        after={"standard": standard.key, "area": area.code, "accept_by": accept_by.isoformat()},
    )
    return pilot


@dataclass(frozen=True)
class Finding:
    institution: int
    name: str
    inspection: int | None
    inspected_on: str | None
    score: str | None
    passed: bool | None


@dataclass(frozen=True)
class Findings:
    lines: list[Finding]
    average: Decimal | None
    passing_percent: Decimal | None

    @property
    def all_inspected(self) -> bool:
        return all(line.inspection is not None for line in self.lines)


def pilot_findings(pilot: Pilot, *, today: dt.date) -> Findings:
    """The latest department inspection since the pilot began of each institution the pilot covers."""
    version = checklists.version_on(standard=pilot.standard_id, day=today)
    kinds = [k.id for k in checklists.declared_kinds(version)] if version else []
    institutions = list(
        Institution.objects.filter(
            active=True, kind__in=kinds, area__code__startswith=descendant_codes_prefix(pilot.area)
        ).order_by("area__code", "name")
    )
    latest: dict[int, Inspection] = {}
    for inspection in Inspection.objects.filter(
        institution__in=institutions,
        standard_id=pilot.standard_id,
        kind__in=[InspectionKind.OFFICIAL, InspectionKind.REINSPECTION],
        status__in=DONE,
        inspected_on__gte=pilot.start_on,
    ).order_by("inspected_on", "signed_at", "pk"):
        latest[inspection.institution_id] = inspection
    lines = []
    for institution in institutions:
        found = latest.get(institution.pk)
        lines.append(
            Finding(
                institution.pk,
                institution.name,
                found.pk if found else None,
                found.inspected_on.isoformat() if found and found.inspected_on else None,
                str(found.score) if found else None,
                found.passed if found else None,
            )
        )
    scored = [Decimal(line.score) for line in lines if line.score is not None]
    average = (sum(scored, Decimal(0)) / len(scored)).quantize(ONE_DECIMAL, ROUND_HALF_UP) if scored else None
    passing = (
        (Decimal(100) * sum(1 for line in lines if line.passed) / len(lines)).quantize(ONE_DECIMAL, ROUND_HALF_UP)
        if lines
        else None
    )
    return Findings(lines, average, passing)


@transaction.atomic
def pilot_decide(*, actor: Any, pilot: Pilot, today: dt.date | None = None, now: dt.datetime | None = None) -> Pilot:
    """designated | not_accepted → accepted or not_accepted, from the area's inspections, with the reasons kept."""
    if not can_manage_pilots(actor):
        raise PermissionDenied("only the standards office accepts pilots")
    pilot = Pilot.objects.select_for_update().select_related("area", "standard").get(pk=pilot.pk)
    if pilot.status == PilotStatus.ACCEPTED:
        raise ComplianceError(_("这个试点已经通过验收。"), code="wrong_state")
    findings = pilot_findings(pilot, today=today or local_now().date())
    if not findings.lines:
        raise ComplianceError(
            _("%(area)s 没有这项标准所管的机构，无法验收；请先登记机构。") % {"area": pilot.area.name_zh},
            code="no_institutions",
        )
    reasons = []
    if not findings.all_inspected:
        missing = [line.name for line in findings.lines if line.inspection is None]
        reasons.append(
            _("%(n)s 个机构试点以来未经检查：%(names)s") % {"n": len(missing), "names": _("、").join(missing)}
        )
    if findings.average is None or findings.average < pilot.min_average_score:
        reasons.append(
            _("平均分 %(average)s，低于 %(min)s 分")
            % {"average": findings.average if findings.average is not None else "—", "min": pilot.min_average_score}
        )
    if findings.passing_percent is None or findings.passing_percent < pilot.min_passing_percent:
        reasons.append(
            _("合格机构占 %(share)s%%，低于 %(min)s%%")
            % {"share": findings.passing_percent, "min": pilot.min_passing_percent}
        )
    before = pilot.status
    pilot.status = PilotStatus.NOT_ACCEPTED if reasons else PilotStatus.ACCEPTED
    pilot.decided_by, pilot.decided_at = actor, now or local_now()
    pilot.result = {
        "average": str(findings.average) if findings.average is not None else None,
        "passing_percent": str(findings.passing_percent) if findings.passing_percent is not None else None,
        "reasons": reasons,
        "institutions": [line.__dict__ for line in findings.lines],
    }
    pilot.save(update_fields=["status", "decided_by", "decided_at", "result"])
    audit(
        actor=actor,
        event="compliance.pilot_decided",
        obj=pilot,
        before={"status": before},
        after={"status": pilot.status, "average": pilot.result["average"], "reasons": reasons},
    )
    return pilot
