"""Reads of the materialised indicators, scoped to the reader's area (permissions.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Max
from django.utils.translation import get_language

from fuwu.areas.models import Area, AreaLevel
from fuwu.evaluation import permissions
from fuwu.evaluation.models import IndicatorValue
from fuwu.standards.models import IN_FORCE, Indicator, StandardVersion

TREND_MONTHS = 12


def _text(value: dict[str, str] | None) -> str:
    if not value:
        return ""
    english = (get_language() or "").startswith("en")
    return (value.get("en") if english else None) or value.get("zh", "")


def root_area(user: Any) -> Area:
    """The widest area ``user`` may see: an officer's own, the city for the others."""
    prefix = permissions.dashboard_prefix(user)
    if prefix is None:
        raise PermissionDenied("only officers, the standards office and auditors see the indicators")
    if user.role != "department_officer" or prefix == "":
        city = Area.objects.filter(level=AreaLevel.CITY).order_by("code").first()
        if city is None:
            raise Area.DoesNotExist("no city in the area list; run fuwu areas load")
        return city
    return Area.objects.get(pk=user.area_id)


def area_for_user(user: Any, code: str | None) -> Area:
    """The area ``code`` if ``user`` may see it (their root area when no code is given)."""
    root = root_area(user)
    if not code or code == root.code:
        return root
    area = Area.objects.select_related("parent").get(code=code)
    chain: list[int] = []
    node: Area | None = area
    while node is not None:
        chain.append(node.pk)
        node = node.parent
    if root.pk not in chain:
        raise PermissionDenied("this area is outside yours")
    return area


def breadcrumbs(area: Area, root: Area) -> list[Area]:
    """From ``root`` down to ``area`` (for the drill-down's way back up)."""
    out: list[Area] = []
    node: Area | None = area
    while node is not None:
        out.append(node)
        if node.pk == root.pk:
            break
        node = node.parent
    return list(reversed(out))


def _versions_in_force(*, computed: bool) -> list[StandardVersion]:
    """The versions in force with at least one indicator computed (``computed``) or entered by hand (not).

    Reads only each document's indicator list (a JSON key, not the whole document with its clauses and items),
    and the versions themselves without their documents: the index lists titles and codes."""
    chosen = [
        pk
        for pk, indicators in StandardVersion.objects.filter(status__in=IN_FORCE).values_list(
            "pk", "document__indicators"
        )
        if any(bool(i.get("computation")) is computed for i in indicators or [])
    ]
    return list(
        StandardVersion.objects.filter(pk__in=chosen).select_related("standard").defer("document").order_by("code")
    )


def versions_with_computed_indicators() -> list[StandardVersion]:
    return _versions_in_force(computed=True)


def versions_with_manual_indicators() -> list[StandardVersion]:
    """Versions in force with an indicator entered by hand (no computation)."""
    return _versions_in_force(computed=False)


def version_for(standard_key: str) -> StandardVersion:
    version = (
        StandardVersion.objects.filter(standard__key=standard_key, status__in=IN_FORCE)
        .select_related("standard")
        .first()
    )
    if version is None:
        raise StandardVersion.DoesNotExist(standard_key)
    return version


@dataclass(frozen=True)
class Point:
    month: dt.date
    numerator: int
    denominator: int
    value: Decimal | None


@dataclass(frozen=True)
class Card:
    indicator: Indicator
    unit: str
    current: Point | None
    previous: Point | None
    trend: list[Point]

    @property
    def met(self) -> bool | None:
        """Against the exact ratio, as the supervision report judges it; ``None`` without data or target."""
        point, target = self.current, self.indicator.target
        if point is None or not point.denominator or target is None:
            return None
        share = Decimal(point.numerator) * (100 if self.unit == "percent" else 1)
        goal = target * point.denominator
        if self.indicator.comparison == "at_most":
            return share <= goal
        if self.indicator.comparison == "equal":
            return share == goal
        return share >= goal

    @property
    def direction(self) -> str:
        """``up``, ``down`` or ``flat`` against the month before; ``""`` when either has no value."""
        if self.current is None or self.previous is None:
            return ""
        now, before = self.current.value, self.previous.value
        if now is None or before is None:
            return ""
        return "up" if now > before else "down" if now < before else "flat"


@dataclass(frozen=True)
class Uncomputed:
    key: str
    name: str
    reason: str
    indicator_id: int | None = None


@dataclass(frozen=True)
class ChildValue:
    area: Area
    point: Point | None
    has_children: bool


def _month_back(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 - n
    return dt.date(index // 12, index % 12 + 1, 1)


def _points(indicators: list[Indicator], area: Area, first: dt.date, last: dt.date) -> dict[int, dict[dt.date, Point]]:
    """Each indicator's monthly points at ``area`` in ``[first, last]``: one query for all of them."""
    rows = IndicatorValue.objects.filter(
        indicator__in=indicators, area=area, period_kind="month", period_start__gte=first, period_start__lte=last
    ).values_list("indicator_id", "period_start", "numerator", "denominator", "value")
    out: dict[int, dict[dt.date, Point]] = {i.pk: {} for i in indicators}
    for indicator_id, start, n, d, v in rows:
        out[indicator_id][start] = Point(start, n, d, v)
    return out


def latest_months(versions: list[StandardVersion], area: Area) -> dict[int, dt.date]:
    """Each version's latest month with a value at ``area`` (versions with none are absent).

    One query, grouped by indicator, so each indicator's rows are read from the unique index (indicator, area,
    period kind, period start) rather than the month rows of every indicator joined to their version.
    """
    version_of = dict(Indicator.objects.filter(version__in=versions).values_list("pk", "version_id"))
    latest: dict[int, dt.date] = {}
    rows = (
        IndicatorValue.objects.filter(indicator_id__in=list(version_of), area=area, period_kind="month")
        .values("indicator_id")
        .annotate(last=Max("period_start"))
        .values_list("indicator_id", "last")
    )
    for indicator_id, last in rows:
        version = version_of[indicator_id]
        if version not in latest or last > latest[version]:
            latest[version] = last
    return latest


def latest_month(version: StandardVersion, area: Area) -> dt.date | None:
    return latest_months([version], area).get(version.pk)


def cards(version: StandardVersion, area: Area, month: dt.date) -> tuple[list[Card], list[Uncomputed]]:
    """One card per computed indicator (value, previous month, 12 months' trend); the rest with their reason."""
    documented = {i["id"]: i for i in version.document.get("indicators", [])}
    out, uncomputed = [], []
    first = _month_back(month, TREND_MONTHS - 1)
    indicators = list(version.indicators.order_by("pk"))
    computed = [i for i in indicators if documented.get(i.key, {}).get("computation")]
    by_indicator = _points(computed, area, first, month) if computed else {}
    for indicator in indicators:
        data = documented.get(indicator.key, {})
        if not data.get("computation"):
            reason = _text(data.get("not_computable_reason"))
            uncomputed.append(Uncomputed(indicator.key, indicator.name, reason, indicator.pk))
            continue
        points = by_indicator[indicator.pk]
        trend = [
            points.get(_month_back(month, n)) or Point(_month_back(month, n), 0, 0, None)
            for n in range(TREND_MONTHS - 1, -1, -1)
        ]
        out.append(Card(indicator, data.get("unit") or "", points.get(month), points.get(_month_back(month, 1)), trend))
    return out, uncomputed


def children_values(indicator: Indicator, area: Area, month: dt.date) -> list[ChildValue]:
    """The indicator in each area directly below ``area`` for the month (for comparing and drilling down)."""
    children = list(Area.objects.filter(parent=area).order_by("code"))
    values = {
        v.area_id: Point(month, v.numerator, v.denominator, v.value)
        for v in IndicatorValue.objects.filter(
            indicator=indicator, area__in=children, period_kind="month", period_start=month
        )
    }
    with_children = set(Area.objects.filter(parent__in=children).values_list("parent_id", flat=True).distinct())
    return [ChildValue(c, values.get(c.pk), c.pk in with_children) for c in children]
