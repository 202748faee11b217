"""Indicators entered by hand (人工填报): who may, the service that records one, and the reads of them.

An indicator whose standard says ``not_computable_reason`` is entered for an area and a period by a
department officer of the department that leads one of the standard's items, for their own area or an area
below it — with the document it comes from, that document's date and a note. The value lives in
``ManualValue``, which the engine never touches; every entry and correction writes an audit row with the
value before and after. The standards office and auditors read them; they do not enter them.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fuwu.accounts.models import Role
from fuwu.accounts.permissions import has_role
from fuwu.areas.models import Area
from fuwu.evaluation.engine import Period
from fuwu.evaluation.models import ManualValue
from fuwu.standards.models import Indicator, StandardVersion

PERIOD_TEXT = {
    "month": re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$"),
    "quarter": re.compile(r"^(\d{4})-[Qq]([1-4])$"),
    "year": re.compile(r"^(\d{4})$"),
}


def is_manual(version: StandardVersion, key: str) -> bool:
    """Whether the indicator ``key`` of ``version`` is one fuwu does not compute (so it is entered by hand)."""
    for data in version.document.get("indicators", []):
        if data.get("id") == key:
            return not data.get("computation")
    return False


def manual_indicators(version: StandardVersion) -> list[Indicator]:
    keys = [i["id"] for i in version.document.get("indicators", []) if not i.get("computation")]
    return list(version.indicators.filter(key__in=keys).order_by("pk"))


def leading_departments(version: StandardVersion) -> set[int]:
    """The departments on the platform that lead one of the standard's items."""
    from fuwu.applications.standard import department_for

    found = set()
    for item in version.items.all():
        department = department_for(item)
        if department is not None:
            found.add(department.pk)
    return found


def can_enter(user: Any, version: StandardVersion, area: Area | None = None) -> bool:
    """A department officer of a department leading the standard's items, for their area or one below it."""
    if not has_role(user, {Role.DEPARTMENT_OFFICER}) or user.area_id is None or user.department_id is None:
        return False
    if user.department_id not in leading_departments(version):
        return False
    if area is None:
        return True
    node: Area | None = area
    while node is not None:
        if node.pk == user.area_id:
            return True
        node = node.parent
    return False


def parse_period(kind: str, text: str) -> Period:
    """``2026-10`` (month), ``2026-Q4`` (quarter) or ``2026`` (year) → the period; ValidationError otherwise."""
    pattern = PERIOD_TEXT.get(kind)
    if pattern is None:
        raise ValidationError({"period_kind": _("统计周期应为月、季度或年。")})
    match = pattern.match(text.strip())
    examples = {"month": "2026-10", "quarter": "2026-Q4", "year": "2026"}
    if match is None:
        raise ValidationError({"period": _("统计期应写成 %(example)s 这样的格式。") % {"example": examples[kind]}})
    year = int(match.group(1))
    if not 2000 <= year <= 2199:
        raise ValidationError({"period": _("统计期的年份应在 2000 至 2199 年之间。")})
    if kind == "month":
        day = dt.date(year, int(match.group(2)), 1)
    elif kind == "quarter":
        day = dt.date(year, (int(match.group(2)) - 1) * 3 + 1, 1)
    else:
        day = dt.date(year, 1, 1)
    return Period.containing(kind, day)


def period_label(kind: str, start: dt.date) -> str:
    if kind == "month":
        return f"{start:%Y-%m}"
    if kind == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return str(start.year)


def _snapshot(row: ManualValue) -> dict[str, Any]:
    return {
        "value": str(row.value),
        "numerator": row.numerator,
        "denominator": row.denominator,
        "source_document": row.source_document,
        "source_date": row.source_date.isoformat(),
        "note": row.note,
        "entered_by": row.entered_by_id,
        "entered_at": row.entered_at.isoformat(),
    }


@transaction.atomic
def manual_value_enter(
    *,
    actor: Any,
    indicator: Indicator,
    area: Area,
    period: Period,
    value: Decimal,
    source_document: str,
    source_date: dt.date,
    note: str = "",
    numerator: int | None = None,
    denominator: int | None = None,
    now: dt.datetime | None = None,
) -> ManualValue:
    """Record (or correct) the hand-entered value of ``indicator`` for ``area`` and ``period``; audited.

    Raises PermissionDenied for someone not authorised for the standard and area, ValidationError (by field)
    for a computed indicator, a period not yet ended, a document dated in the future, or a numerator and
    denominator that do not make a share.
    """
    from django.core.exceptions import PermissionDenied

    from fuwu.common.audit import audit

    now = now or timezone.now()
    today = timezone.localtime(now).date()
    version = indicator.version
    if not can_enter(actor, version, area):
        raise PermissionDenied("only an officer of a department leading this standard, for their own area")
    if not is_manual(version, indicator.key):
        raise ValidationError({"indicator": _("这个指标由系统根据业务数据自动计算，不能人工填报。")})
    errors: dict[str, str] = {}
    if period.start > today:
        errors["period"] = _("统计期还没有开始，不能填报。")
    if source_date > today:
        errors["source_date"] = _("来源文件的日期不能晚于今天。")
    if not source_document.strip():
        errors["source_document"] = _("请写明数值来自哪份文件（如统计报表的名称和文号）。")
    if (numerator is None) != (denominator is None):
        errors["denominator"] = _("分子和分母要么都填，要么都不填。")
    elif denominator is not None and (denominator <= 0 or not 0 <= (numerator or 0) <= denominator):
        errors["denominator"] = _("分母应大于 0，分子应在 0 和分母之间。")
    if value < 0 or abs(value) >= Decimal("1e10"):
        errors["value"] = _("数值应为不小于 0 的数。")
    if errors:
        raise ValidationError(errors)
    existing = ManualValue.objects.select_for_update().filter(
        indicator=indicator, area=area, period_kind=period.kind, period_start=period.start
    )
    before = _snapshot(existing[0]) if existing else None
    row, _created = ManualValue.objects.update_or_create(
        indicator=indicator,
        area=area,
        period_kind=period.kind,
        period_start=period.start,
        defaults={
            "value": value,
            "numerator": numerator,
            "denominator": denominator,
            "source_document": source_document.strip(),
            "source_date": source_date,
            "note": note.strip(),
            "entered_by": actor,
            "entered_at": now,
        },
    )
    row.refresh_from_db()
    audit(
        actor=actor,
        event="evaluation.manual_value_corrected" if before else "evaluation.manual_value_entered",
        obj=row,
        before=before,
        after=_snapshot(row),
        note=f"{version.standard.key}/{indicator.key} {area.code} {period_label(period.kind, period.start)}",
    )
    return row


@dataclass(frozen=True)
class ManualShown:
    indicator: Indicator
    reason: str
    latest: ManualValue | None

    @property
    def period(self) -> str:
        return period_label(self.latest.period_kind, self.latest.period_start) if self.latest else ""


def latest_values(version: StandardVersion, area: Area, *, upto: dt.date | None = None) -> dict[int, ManualValue]:
    """Per indicator of ``version``: its latest hand-entered value for ``area`` (periods starting by ``upto``)."""
    rows = ManualValue.objects.filter(indicator__version=version, area=area).select_related("entered_by")
    if upto is not None:
        rows = rows.filter(period_start__lte=upto)
    out: dict[int, ManualValue] = {}
    for row in rows.order_by("indicator_id", "-period_start", "period_kind"):
        out.setdefault(row.indicator_id, row)
    return out


def history(indicator: Indicator, area: Area) -> list[ManualValue]:
    return list(
        ManualValue.objects.filter(indicator=indicator, area=area)
        .select_related("entered_by")
        .order_by("-period_start", "period_kind")[:24]
    )
