"""Data quality, as DHIS2 shows it: which areas reported what in a month, and whether on time.

For each data source an indicator is computed from, a *check* lists the units expected to report in a month
(a township, an inspection, a county's hand-entered indicator), whether each reported, and whether on
time. Each unit belongs to an area; an area's completeness is reported ÷ expected over the units in it and
below it, its timeliness reported on time ÷ expected. What "reported" means per source is written beside
each check (and in docs/evaluation.md, "Data quality"):

* home-care visits — expected: every township with an active home-care account opened before the month's
  end; reported: a service order of the township's elders draws on the month's allowance; on time: every
  completed order of the month was confirmed by the elder or family within ``TIMELY_DAYS`` of the month's
  end (what settlement waits for);
* screening — expected: every township in the area list; reported: the month's latest completed screening
  run counted people in it; timeliness does not apply (a run is the city's, not a township's, to make);
* inspections — expected: every official inspection planned for a day in the month; reported: signed or
  published; on time: inspected on or before the planned day;
* indicators entered by hand — expected: every county × every indicator entered by hand of a standard whose
  lead department is on the platform, for the month's year; reported: a value entered for the county (any
  period in that year); on time: entered within ``TIMELY_DAYS`` of its period's end.

``TIMELY_DAYS`` is the platform's reporting deadline (``settings.FUWU_EVALUATION_TIMELY_DAYS``, 10 by
default), as a DHIS2 data set's "days after period end to qualify for timely submission"; it is not a
standard's rule.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fuwu.areas.models import Area, AreaLevel
from fuwu.evaluation.engine import AreaTree, Period

Unit = tuple[str | None, bool, bool | None]  # the unit's area code, reported, on time (None: does not apply)


def timely_days() -> int:
    return int(getattr(settings, "FUWU_EVALUATION_TIMELY_DAYS", 10))


def _deadline(end: dt.date) -> dt.datetime:
    """The last moment a report for a period ending (exclusive) on ``end`` is on time."""
    day = end + dt.timedelta(days=timely_days())
    return dt.datetime.combine(day, dt.time(), tzinfo=timezone.get_current_timezone())


def _townships() -> list[str]:
    return list(Area.objects.filter(level=AreaLevel.TOWNSHIP).order_by("code").values_list("code", flat=True))


def homecare_units(period: Period, now: dt.datetime) -> list[Unit]:
    from fuwu.homecare.models import AccountStatus, EntitlementAccount, Order
    from fuwu.homecare.settlement import DONE

    expected = {
        area[:9]
        for area in EntitlementAccount.objects.filter(
            status=AccountStatus.ACTIVE, opened_on__lt=period.end
        ).values_list("person__hukou_area", flat=True)
        if area
    }
    deadline = _deadline(period.end)
    closed = now >= deadline
    # Per township: orders; completed but confirmed after the deadline; completed and not (yet) confirmed.
    per_township: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    orders = (
        Order.objects.filter(account_month__month__gte=period.start, account_month__month__lt=period.end)
        .values("account__person__hukou_area")
        .annotate(
            n=Count("pk"),
            late=Count("pk", filter=Q(status__in=DONE, confirmed_at__gte=deadline)),
            unconfirmed=Count("pk", filter=Q(status__in=DONE, confirmed_at__isnull=True)),
        )
        .order_by()
    )
    for row in orders:
        code = (row["account__person__hukou_area"] or "")[:9]
        per_township[code][0] += row["n"]
        per_township[code][1] += row["late"]
        per_township[code][2] += row["unconfirmed"]
    units: list[Unit] = []
    for code in sorted(expected):
        n, late, unconfirmed = per_township.get(code, (0, 0, 0))
        # Before the deadline an unconfirmed visit is not late yet; after it, it is.
        units.append((code, n > 0, n > 0 and late == 0 and not (closed and unconfirmed)))
    return units


def screening_units(period: Period, now: dt.datetime) -> list[Unit]:
    from fuwu.eligibility.models import RunStatus, ScreeningCount, ScreeningRun

    run = (
        ScreeningRun.objects.filter(
            status=RunStatus.COMPLETED, draft=False, as_of__gte=period.start, as_of__lt=period.end
        )
        .order_by("-as_of", "-finished_at", "-pk")
        .first()
    )
    counted = set()
    if run is not None:
        counted = set(
            ScreeningCount.objects.filter(run=run)
            .filter(Q(eligible__gt=0) | Q(unknown__gt=0))
            .values_list("township", flat=True)
        )
    return [(code, code in counted, None) for code in _townships()]


def inspection_units(period: Period, now: dt.datetime) -> list[Unit]:
    from fuwu.compliance.models import DONE, Inspection, InspectionKind, InspectionStatus

    planned = (
        Inspection.objects.filter(kind=InspectionKind.OFFICIAL, planned_on__gte=period.start, planned_on__lt=period.end)
        .exclude(status=InspectionStatus.CANCELLED)
        .order_by("pk")
        .values_list("institution__area__code", "status", "planned_on", "inspected_on")
    )
    units: list[Unit] = []
    for code, status, planned_on, inspected_on in planned:
        done = status in DONE
        timely = done and inspected_on is not None and planned_on is not None and inspected_on <= planned_on
        units.append((code, done, timely))
    return units


def manual_units(period: Period, now: dt.datetime) -> list[Unit]:
    from fuwu.evaluation.manual import leading_departments, manual_indicators
    from fuwu.evaluation.models import ManualValue
    from fuwu.standards.models import IN_FORCE, StandardVersion

    year = Period.containing("year", period.start)
    counties = list(Area.objects.filter(level=AreaLevel.COUNTY).order_by("code").values_list("pk", "code"))
    if not counties:
        return []
    prefix = dict(counties)
    units: list[Unit] = []
    for version in StandardVersion.objects.filter(status__in=IN_FORCE).order_by("code"):
        if not leading_departments(version):
            continue
        for indicator in manual_indicators(version):
            entered: dict[str, bool] = {}
            for area_code, start, kind, at in ManualValue.objects.filter(
                indicator=indicator, period_start__gte=year.start, period_start__lt=year.end
            ).values_list("area__code", "period_start", "period_kind", "entered_at"):
                county = next((c for c in prefix.values() if area_code.startswith(c)), None)
                if county is None:
                    continue
                timely = at < _deadline(Period.containing(kind, start).end)
                entered[county] = entered.get(county, False) or timely
            for code in prefix.values():
                units.append((code, code in entered, entered.get(code, False)))
    return units


@dataclass(frozen=True)
class Check:
    key: str
    name: object  # a lazy translation
    reported: object
    timely: object
    units: Callable[[Period, dt.datetime], list[Unit]]


CHECKS = (
    Check(
        "homecare_visits",
        _("居家养老服务工单"),
        _("有享受补贴老人的乡镇（街道），当月有服务工单即为已上报"),
        _("当月已完成的服务在月末后规定天数内都经老人或家属确认"),
        homecare_units,
    ),
    Check(
        "screening_results",
        _("户籍筛查结果"),
        _("每个乡镇（街道），当月最近一次筛查统计到该地人员即为已上报"),
        _("不适用：筛查由全市统一运行"),
        screening_units,
    ),
    Check(
        "compliance_inspections",
        _("标准实施检查"),
        _("计划在当月进行的部门检查，已签署或已公开即为已完成"),
        _("在计划日期当天或之前完成检查"),
        inspection_units,
    ),
    Check(
        "manual_entries",
        _("人工填报指标"),
        _("每个县（市、区）对每项需人工填报的指标，当年有填报即为已上报"),
        _("在统计期结束后规定天数内填报"),
        manual_units,
    ),
)


@dataclass(frozen=True)
class Share:
    expected: int
    reported: int
    on_time: int | None

    @staticmethod
    def _percent(n: int | None, d: int) -> Decimal | None:
        if n is None or not d:
            return None
        return (Decimal(100) * n / d).quantize(Decimal("0.1"), ROUND_HALF_UP)

    @property
    def completeness(self) -> Decimal | None:
        return self._percent(self.reported, self.expected)

    @property
    def timeliness(self) -> Decimal | None:
        return self._percent(self.on_time, self.expected)


@dataclass(frozen=True)
class QualityRow:
    check: Check
    total: Share
    children: list[tuple[Area, Share]]


def quality(area: Area, month: dt.date, *, now: dt.datetime | None = None) -> list[QualityRow]:
    """Each check for ``area`` (all its units) and each area directly below it, in ``month``."""
    now = now or timezone.now()
    period = Period.containing("month", month)
    tree = AreaTree()
    children = list(Area.objects.filter(parent=area).order_by("code"))
    wanted = {area.pk, *(c.pk for c in children)}
    out = []
    for check in CHECKS:
        counts: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
        applies = True
        for code, reported, on_time in check.units(period, now):
            if on_time is None:
                applies = False
            for pk, _level in tree.chain(code):
                if pk in wanted:
                    counts[pk][0] += 1
                    counts[pk][1] += reported
                    counts[pk][2] += bool(on_time)

        shares = {pk: Share(e, r, t if applies else None) for pk, (e, r, t) in counts.items()}
        empty = Share(0, 0, 0 if applies else None)
        out.append(QualityRow(check, shares.get(area.pk, empty), [(c, shares.get(c.pk, empty)) for c in children]))
    return out


def last_computed() -> dt.datetime | None:
    from fuwu.evaluation.models import IndicatorPeriod

    latest: dt.datetime | None = IndicatorPeriod.objects.aggregate(m=Max("computed_at"))["m"]
    return latest
