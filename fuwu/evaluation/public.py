"""The public page of a standard's indicators: the ones the standards office chooses to publish.

The office sets a publish flag per indicator (``IndicatorPublication``, audited). The public page shows a
published indicator's values for the city and each county only — never a township or village — and only
where its denominator reaches ``MIN_DENOMINATOR`` (``settings.FUWU_EVALUATION_PUBLIC_MIN_DENOMINATOR``, 20
by default): small counts say little and come close to naming people. A value entered by hand is shown with
its source, at county level or above. The page is cached like the guide's pages (ADR 22), keyed by the
standard's state and by a stamp of the data it shows (the last computation, entry and publication).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone

from fuwu.accounts.permissions import can_manage_standards
from fuwu.areas.models import Area, AreaLevel
from fuwu.evaluation.manual import is_manual, period_label
from fuwu.evaluation.models import IndicatorPeriod, IndicatorPublication, IndicatorValue, ManualValue
from fuwu.standards.models import Indicator, StandardVersion

TREND_MONTHS = 12


def min_denominator() -> int:
    return int(getattr(settings, "FUWU_EVALUATION_PUBLIC_MIN_DENOMINATOR", 20))


def can_publish(user: Any) -> bool:
    """Choosing what is published is the standards office's."""
    return can_manage_standards(user)


@transaction.atomic
def indicator_publish_set(*, actor: Any, indicator: Indicator, published: bool, now: dt.datetime | None = None) -> bool:
    """Publish or withdraw ``indicator`` from its standard's public page; True when that changed something."""
    from django.core.exceptions import PermissionDenied

    from fuwu.common.audit import audit

    if not can_publish(actor):
        raise PermissionDenied("only the standards office chooses what is published")
    now = now or timezone.now()
    row = IndicatorPublication.objects.select_for_update().filter(indicator=indicator).first()
    if (row.published if row is not None else False) == published:  # never published is not published
        return False
    before = {"published": row.published} if row else None
    row, _created = IndicatorPublication.objects.update_or_create(
        indicator=indicator, defaults={"published": published, "set_by": actor, "set_at": now}
    )
    audit(
        actor=actor,
        event="evaluation.indicator_published" if published else "evaluation.indicator_withdrawn",
        obj=row,
        before=before,
        after={"published": published},
        note=f"{indicator.version.standard.key}/{indicator.key}",
    )
    return True


def published_keys(version: StandardVersion) -> set[str]:
    return set(
        IndicatorPublication.objects.filter(indicator__version=version, published=True).values_list(
            "indicator__key", flat=True
        )
    )


def data_stamp(version: StandardVersion) -> tuple[Any, ...]:
    """What the public page's data depends on, besides the standard itself: changes whenever that data does."""
    computed = IndicatorPeriod.objects.filter(indicator__version=version).aggregate(m=Max("computed_at"))["m"]
    entered = ManualValue.objects.filter(indicator__version=version).aggregate(m=Max("entered_at"), n=Count("pk"))
    chosen = IndicatorPublication.objects.filter(indicator__version=version).aggregate(
        m=Max("set_at"), n=Count("pk", filter=None)
    )
    return (computed, entered["m"], entered["n"], chosen["m"], chosen["n"], timezone.localdate())


@dataclass(frozen=True)
class PublicValue:
    area: Area
    value: Decimal | None  # None: not enough data
    numerator: int | None
    denominator: int | None
    period: str
    source: str  # a hand-entered value's document and date; empty for a computed one


@dataclass(frozen=True)
class PublicIndicator:
    indicator: Indicator
    unit: str
    manual: bool
    city: PublicValue | None
    counties: list[PublicValue]
    trend: list[tuple[str, Decimal | None]]


def _enough(denominator: int) -> bool:
    return denominator >= min_denominator()


def _computed(indicator: Indicator, areas: list[Area]) -> tuple[list[PublicValue], list[tuple[str, Decimal | None]]]:
    month = IndicatorValue.objects.filter(indicator=indicator, period_kind="month", area__in=areas).aggregate(
        m=Max("period_start")
    )["m"]
    kind = "month"
    if month is None:  # a yearly indicator (its period is the year)
        kind = "year"
        month = IndicatorValue.objects.filter(indicator=indicator, period_kind="year", area__in=areas).aggregate(
            m=Max("period_start")
        )["m"]
    if month is None:
        return [], []
    rows = {
        v.area_id: v
        for v in IndicatorValue.objects.filter(
            indicator=indicator, period_kind=kind, period_start=month, area__in=areas
        )
    }
    values = []
    for area in areas:
        v = rows.get(area.pk)
        if v is None:
            continue
        ok = _enough(v.denominator)
        values.append(
            PublicValue(
                area,
                v.value if ok else None,
                v.numerator if ok else None,
                v.denominator if ok else None,
                period_label(kind, month),
                "",
            )
        )
    city = next((a for a in areas if a.level == AreaLevel.CITY), None)
    trend: list[tuple[str, Decimal | None]] = []
    if city is not None and kind == "month":
        first = (
            dt.date(month.year - 1, month.month, 1)
            if month.month == 12
            else dt.date(month.year - 1, month.month + 1, 1)
        )
        for v in IndicatorValue.objects.filter(
            indicator=indicator, area=city, period_kind="month", period_start__gte=first, period_start__lte=month
        ).order_by("period_start"):
            trend.append((f"{v.period_start:%Y-%m}", v.value if _enough(v.denominator) else None))
    return values, trend


def _manual(indicator: Indicator, areas: list[Area]) -> list[PublicValue]:
    latest: dict[int, ManualValue] = {}
    for row in ManualValue.objects.filter(indicator=indicator, area__in=areas).order_by("-period_start", "period_kind"):
        latest.setdefault(row.area_id, row)
    out = []
    for area in areas:
        found = latest.get(area.pk)
        if found is None:
            continue
        row = found
        ok = row.denominator is None or _enough(row.denominator)
        out.append(
            PublicValue(
                area,
                row.value if ok else None,
                row.numerator if ok else None,
                row.denominator if ok else None,
                period_label(row.period_kind, row.period_start),
                f"{row.source_document}（{row.source_date:%Y-%m-%d}）",
            )
        )
    return out


def public_indicators(version: StandardVersion) -> list[PublicIndicator]:
    """The published indicators of ``version``, at the city and each county, with enough data."""
    keys = published_keys(version)
    if not keys:
        return []
    areas = list(Area.objects.filter(level__in=[AreaLevel.CITY, AreaLevel.COUNTY]).order_by("code"))
    documented = {i["id"]: i for i in version.document.get("indicators", [])}
    out = []
    for indicator in version.indicators.filter(key__in=keys).order_by("pk"):
        manual = is_manual(version, indicator.key)
        trend: list[tuple[str, Decimal | None]]
        if manual:
            values, trend = _manual(indicator, areas), []
        else:
            values, trend = _computed(indicator, areas)
        city = next((v for v in values if v.area.level == AreaLevel.CITY), None)
        counties = [v for v in values if v.area.level == AreaLevel.COUNTY]
        unit = documented.get(indicator.key, {}).get("unit") or ""
        out.append(PublicIndicator(indicator, unit, manual, city, counties, trend))
    return out
