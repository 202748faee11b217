"""The set-based path (one GROUP BY per view and period kind, in the database) against the row-by-row path.

The row-by-row path (``path="python"``: each view's producer, the rule language's Python evaluator) is the
reference: over the same fixtures, both must store every ``IndicatorValue`` the same, and each view's query
must return the producer's rows, column by column. Run on SQLite and on PostgreSQL (``DATABASE_URL``).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from fuwu.applications.models import Application
from fuwu.compliance.models import RectificationOrder
from fuwu.evaluation.datasets import PRODUCERS, QUERIES
from fuwu.evaluation.engine import indicators_compute, periods_between
from fuwu.evaluation.models import IndicatorPeriod, IndicatorValue
from fuwu.homecare.models import Caregiver, Order, TrainingRecord, VisitPartner
from fuwu.standards.models import StandardVersion
from tests.compliance.conftest import institution
from tests.compliance.conftest import world as compliance_world  # noqa: F401 - a fixture, used by name
from tests.evaluation.test_views_data import A1, A2, B1, _application, _inspection, at
from tests.evaluation.test_views_data import world as data_world  # noqa: F401 - a fixture, used by name
from tests.homecare.conftest import World, second_caregiver
from tests.homecare.test_settlement import AFTER, build_month
from tests.homecare.test_supervision import END, Built

Stored = dict[tuple[str, str, str, dt.date], tuple[int, int, Decimal | None]]
FIRST, LAST = dt.date(2026, 9, 1), dt.date(2026, 12, 31)


def stored() -> Stored:
    rows = IndicatorValue.objects.select_related("indicator", "area")
    return {
        (v.indicator.key, v.area.code, v.period_kind, v.period_start): (v.numerator, v.denominator, v.value)
        for v in rows
    }


def both_paths(now: dt.datetime, first: dt.date = FIRST, last: dt.date = LAST) -> tuple[Stored, Stored]:
    reference = indicators_compute(first=first, last=last, now=now, path="python")
    assert reference.periods_computed > 0
    python = stored()
    # From the reference's table: the digest of a period counted in the database differs (counts, not rows), so
    # it is recomputed (a view read row by row on both paths is unchanged) — and nothing may be written or deleted.
    switched = indicators_compute(first=first, last=last, now=now, path="sql")
    assert switched.periods_computed > 0
    assert switched.periods_computed + switched.periods_unchanged == reference.periods_computed
    assert (switched.values_written, switched.values_deleted) == (0, 0)
    assert switched.rows_without_area == reference.rows_without_area
    # And from nothing.
    IndicatorValue.objects.all().delete()
    IndicatorPeriod.objects.all().delete()
    fresh = indicators_compute(first=first, last=last, now=now, path="sql")
    assert fresh.values_written == len(python)
    return python, stored()


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, (Decimal, float)) and not isinstance(value, bool):
        return Decimal(str(value)).quantize(Decimal("0.000001"))
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value).quantize(Decimal("0.000001"))
    return value


def assert_rows_agree(now: dt.datetime, first: dt.date = FIRST, last: dt.date = LAST) -> int:
    """Each view with a query returns the producer's rows, for every month of the range; how many rows."""
    today = timezone.localtime(now).date()
    seen = 0
    for view, query in QUERIES.items():
        for period in periods_between("month", first, last):
            expected = Counter(
                tuple(sorted((k, _plain(v)) for k, v in row.items()))
                for row in PRODUCERS[view](period.start, period.end, today)
            )
            got: Counter[tuple[tuple[str, Any], ...]] = Counter()
            for part in query(period.start, period.end, today, "month"):
                for row in part:
                    assert _plain(row.pop("v_period")) == period.start, view
                    got[tuple(sorted((k.removeprefix("v_"), _plain(v)) for k, v in row.items()))] += 1
            assert got == expected, (view, period)
            seen += sum(expected.values())
    return seen


def _partner(order: Order, caregiver: Caregiver, minutes: int) -> None:
    """A second caregiver on ``order`` who checked in ``minutes`` after the plan (typed by hand)."""
    assert order.planned_start is not None
    VisitPartner.objects.create(
        order=order,
        caregiver=caregiver,
        checkin_at=order.planned_start + dt.timedelta(minutes=minutes, seconds=1),
        checkin_typed=True,
        checkin_reason="定位失败",
    )


def test_home_care_month_agrees(world: World, built: Built) -> None:
    # A partner who came later than the lead widens the visit's arrival gap past the tolerance.
    order = Order.objects.filter(planned_start__isnull=False, checkin_at__isnull=False).order_by("pk").first()
    assert order is not None
    _partner(order, world.caregiver, 45)
    # A check-in typed by hand (not located), on a visit that otherwise meets the check-in rules.
    Order.objects.filter(pk=order.pk).update(checkin_typed=True, checkin_reason="定位失败")
    assert assert_rows_agree(END) > 10
    python, sql = both_paths(END)
    assert python
    assert sql == python
    assert {key for key, *_ in python} >= {"hc-on-time-rate", "hc-coverage-rate", "hc-first-visit-rate"}


def test_the_settlement_month_agrees(world: World) -> None:
    # Cancellations, a no-show, an upheld complaint, a refund (tests/homecare/test_settlement.py).
    build_month(world)
    assert assert_rows_agree(AFTER) > 5
    python, sql = both_paths(AFTER)
    assert sql == python


def test_a_parameter_changed_within_the_range_agrees(world: World, built: Built) -> None:
    # The arrival tolerance tightened from 1 December: December counts with 1 minute, the quarter (bound on its
    # first day, 1 October) with the old value — one query, two pairs of sums.
    version = StandardVersion.objects.get(standard__key="taizhou-home-care")
    document = version.document
    for parameter in document["parameters"]:
        if parameter["id"] == "hc-arrival-tolerance-minutes":
            parameter["values"].append({"effective_from": "2026-12-01", "value": 1})
    StandardVersion.objects.filter(pk=version.pk).update(document=document)
    python, sql = both_paths(END)
    assert sql == python
    month = python[("hc-on-time-rate", "331002", "month", dt.date(2026, 12, 1))]
    quarter = python[("hc-on-time-rate", "331002", "quarter", dt.date(2026, 10, 1))]
    assert month[1] == quarter[1]
    assert month[0] < quarter[0]


def test_applications_agree(data_world: Any) -> None:  # noqa: F811 - the fixture imported above
    world = data_world
    allowance, cost = "sr-minimum-living-allowance", "ma-cost-assistance"
    zone = timezone.get_current_timezone()

    def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone)

    oct5, oct20, oct31 = dt.date(2026, 10, 5), dt.date(2026, 10, 20), dt.date(2026, 10, 31)
    nov1 = dt.date(2026, 11, 1)
    cases: list[tuple[str, str, dt.date, dt.date | None, dict[str, Any]]] = [
        (allowance, A1, oct5, oct20, {"status": "approved", "decided_at": local(oct20, 9)}),
        (allowance, A1, oct5, oct5, {"status": "approved", "decided_at": local(oct20, 9)}),
        # Decided late on the last evening of October (local time), and just after midnight on 1 November: the
        # months are the local days', not UTC's.
        (allowance, A2, oct5, oct31, {"status": "refused", "decided_at": local(oct31, 23, 30)}),
        (allowance, A2, oct5, oct31, {"status": "approved", "decided_at": local(nov1, 0, 30)}),
        (allowance, B1, oct5, None, {"status": "refused", "decided_at": local(oct5, 10)}),
        (allowance, A1, oct5, oct20, {"status": "in_progress"}),
        (allowance, A1, oct5, dt.date(2026, 12, 20), {"status": "submitted"}),
        (allowance, A2, oct5, oct20, {"status": "withdrawn", "decided_at": local(oct5, 11)}),
        (cost, A2, oct5, oct5, {"status": "approved", "decided_at": local(oct20, 9)}),
        (cost, B1, oct5, oct20, {"status": "approved", "decided_at": local(oct20, 9)}),
        (cost, "", oct5, oct20, {"status": "approved", "decided_at": local(oct20, 9)}),  # no known area: the city
    ]
    for item, area, submitted, due, extra in cases:
        _application(world, item, area or A1, submitted=submitted, due=due, **extra)
        if not area:
            Application.objects.filter(pk=Application.objects.order_by("-pk").values("pk")[:1]).update(area_code="")
    now = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
    assert assert_rows_agree(now, dt.date(2026, 10, 1), dt.date(2026, 11, 19)) >= len(cases)
    python, sql = both_paths(now, dt.date(2026, 10, 1), dt.date(2026, 11, 19))
    assert sql == python
    # A2: decided at 23:30 on 31 October (its due day: on time) and at 00:30 on 1 November (a day late).
    assert python[("sr-allowance-on-time-rate", A2, "month", dt.date(2026, 10, 1))][:2] == (1, 1)
    assert python[("sr-allowance-on-time-rate", A2, "month", dt.date(2026, 11, 1))][:2] == (0, 1)
    # Cost assistance: A2 late, B1 on time, the one with no area on time (counted at the city only).
    assert python[("ma-on-time-rate", "331000", "month", dt.date(2026, 10, 1))][:2] == (2, 3)
    assert python[("ma-on-time-rate", "331002", "month", dt.date(2026, 10, 1))][:2] == (0, 1)


def test_caregivers_training_agrees(world: World, built: Built) -> None:
    # In-service hours counted from 1 January of the period's year to its end: one caregiver reaches the hours
    # in November, another never (pre-job training and last year's do not count), a third has none at all (0,
    # not unknown); an inactive one is left out.
    partner = second_caregiver(world)

    def hired(name: str) -> Caregiver:
        return Caregiver.objects.create(
            provider=world.provider,
            name=name,
            health_certificate_expires=world.caregiver.health_certificate_expires,
            home_latitude=world.caregiver.home_latitude,
            home_longitude=world.caregiver.home_longitude,
            shift_start=world.caregiver.shift_start,
            shift_end=world.caregiver.shift_end,
        )

    idle, novice = hired("赵护理员"), hired("钱护理员")
    in_post = [world.caregiver.pk, partner.pk, novice.pk]
    Caregiver.objects.exclude(pk__in=in_post).update(active=False)  # idle, and the built world's
    for caregiver, kind, day, hours in [
        (world.caregiver, "in_service", dt.date(2026, 3, 2), 30),
        (world.caregiver, "in_service", dt.date(2026, 11, 30), 50),
        (world.caregiver, "in_service", dt.date(2027, 1, 5), 10),
        (partner, "pre_job", dt.date(2026, 10, 1), 90),
        (partner, "in_service", dt.date(2025, 12, 31), 90),
        (partner, "in_service", dt.date(2026, 9, 1), 20),
        (novice, "pre_job", dt.date(2026, 9, 1), 40),
        (idle, "in_service", dt.date(2026, 9, 1), 90),
    ]:
        TrainingRecord.objects.create(
            caregiver=caregiver, kind=kind, completed_on=day, hours=Decimal(hours), topic="在岗培训"
        )
    today = timezone.localtime(END).date()
    for start, end, expected in [
        (dt.date(2026, 10, 1), dt.date(2026, 11, 1), [0, 20, 30]),
        (dt.date(2026, 11, 1), dt.date(2026, 12, 1), [0, 20, 80]),
    ]:
        (part,) = QUERIES["homecare_caregivers"](start, end, today, "month")
        assert sorted(int(r["v_training_hours"]) for r in part) == expected
    assert assert_rows_agree(END) > 2
    python, sql = both_paths(END)
    assert sql == python
    november = [v for (key, _, kind, start), v in python.items() if key == "hc-training-completion-rate"
                and (kind, start) == ("month", dt.date(2026, 11, 1))]  # fmt: skip
    assert [d for _, d, _ in november] == [3]  # three caregivers in post, at the city


def test_compliance_inspections_clauses_and_rectifications_agree(data_world: Any) -> None:  # noqa: F811
    from fuwu.areas.models import Area

    world = data_world
    fire, veterans = "taizhou-rural-fire-safety", "taizhou-veterans-service-centre"
    for code in (A1, A2, B1):
        world.institutions[code] = institution(
            f"{code}村", "village-fire-safety", Area.objects.get(code=code), f"VF-{code}"
        )
    june, july = dt.date(2026, 6, 10), dt.date(2026, 7, 1)
    _inspection(world, A1, fire, june, {"5.1": "compliant", "5.2": "not"})
    _inspection(world, A2, fire, june, {"5.1": "partly", "5.2": "na"}, planned_on=dt.date(2026, 6, 5))  # late
    _inspection(world, B1, fire, june, {"5.1": "compliant"}, planned_on=None)  # no plan: on_schedule unknown
    _inspection(world, B1, fire, july, {"5.1": "not"}, kind="self")
    _inspection(world, "fire_hemei", fire, june, {"5.1": "not"})
    # Planned only (dated by its plan), in progress, and cancelled (not a row).
    planned = _inspection(world, "hemei", veterans, july, {}, planned_on=dt.date(2026, 7, 20))
    type(planned).objects.filter(pk=planned.pk).update(
        status="planned", inspected_on=None, score=None, passed=None, signed_at=None, signed_by=None, version=None
    )
    cancelled = _inspection(world, "xingfu", veterans, july, {}, planned_on=dt.date(2026, 7, 21))
    type(cancelled).objects.filter(pk=cancelled.pk).update(
        status="cancelled", inspected_on=None, score=None, passed=None, signed_at=None, signed_by=None, version=None
    )
    inspection = _inspection(
        world, "hemei", veterans, dt.date(2026, 10, 9), {"4.1": "not", "4.2": "partly", "4.3": "not"}
    )
    items = list(inspection.items.order_by("position"))
    for item, status, due, decided in [
        (items[0], "verified", dt.date(2026, 10, 23), at(dt.date(2026, 10, 20))),
        # Decided at 23:00 local on its due day: on time (a UTC date would be the day before either way).
        (items[1], "accepted", dt.date(2026, 10, 23), at(dt.date(2026, 10, 23), 23)),
        (items[2], "open", dt.date(2026, 10, 23), None),
    ]:
        RectificationOrder.objects.create(
            inspection=inspection,
            item=item,
            institution=inspection.institution,
            status=status,
            opened_on=dt.date(2026, 10, 9),
            days=10,
            due_on=due,
            decided_at=decided,
        )
    now = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
    assert assert_rows_agree(now, dt.date(2026, 6, 1), dt.date(2026, 10, 31)) >= 10
    python, sql = both_paths(now, dt.date(2026, 1, 1), dt.date(2026, 10, 31))
    assert sql == python
    # A1 fails 5.2, A2 partly meets 5.1, the micro station is not a village's; B1 passes (its self-check is July).
    assert python[("rf-water-source-compliance", "331000", "month", dt.date(2026, 6, 1))][:2] == (2, 3)


@pytest.mark.parametrize("path", ["bogus"])
def test_an_unknown_path_is_refused(path: str) -> None:
    with pytest.raises(ValueError, match="sql, python"):
        indicators_compute(first=FIRST, last=LAST, path=path)


def test_the_command_runs_either_path(world: World, built: Built) -> None:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("indicators", "compute", "--from", "2026-12", "--to", "2026-12", "--path", "python", stdout=out)
    python = stored()
    call_command("indicators", "compute", "--from", "2026-12", "--to", "2026-12", stdout=out)
    assert python
    assert stored() == python
    assert "0 value(s) written" in out.getvalue().splitlines()[-1]
