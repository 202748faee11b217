"""The engine against a month counted by hand, and its promises: idempotent, incremental, roll-ups are sums."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from fuwu.accounts.models import Role
from fuwu.areas.models import Area
from fuwu.evaluation.engine import Period, indicators_compute, periods_between
from fuwu.evaluation.models import IndicatorPeriod, IndicatorValue
from fuwu.homecare.models import Order
from fuwu.homecare.supervision import indicators
from tests.homecare.conftest import World, at, make_user
from tests.homecare.test_settlement import AFTER, MONTH, build_month, visit
from tests.homecare.test_supervision import END, Built, booked

DECEMBER = (dt.date(2026, 12, 1), dt.date(2026, 12, 31))


def compute(now: dt.datetime = END) -> dict[str, int]:
    return indicators_compute(first=DECEMBER[0], last=DECEMBER[1], now=now).as_dict()


def month_values(area: str) -> dict[str, tuple[int, int, Decimal | None]]:
    rows = IndicatorValue.objects.filter(area__code=area, period_kind="month", period_start=MONTH)
    return {v.indicator.key: (v.numerator, v.denominator, v.value) for v in rows.select_related("indicator")}


def test_periods() -> None:
    assert Period.containing("quarter", dt.date(2026, 11, 30)) == Period(
        "quarter", dt.date(2026, 10, 1), dt.date(2027, 1, 1)
    )
    assert [p.start.month for p in periods_between("month", dt.date(2026, 11, 15), dt.date(2027, 1, 1))] == [11, 12, 1]
    with pytest.raises(ValueError, match="month, quarter or year"):
        Period.containing("week", dt.date(2026, 1, 1))


def test_each_indicator_against_the_hand_counted_month(world: World, built: Built) -> None:
    compute()
    # The numbers counted by hand in tests/homecare/test_supervision.py, for the county (all of the month's data).
    assert month_values("331002") == {
        "hc-on-time-rate": (3, 4, Decimal("75.0000")),
        "hc-satisfaction-rate": (2, 4, Decimal("50.0000")),
        "hc-callback-rate": (2, 4, Decimal("50.0000")),
        "hc-checkin-compliance-rate": (2, 4, Decimal("50.0000")),
        "hc-complaint-resolution-rate": (1, 3, Decimal("33.3333")),
        "hc-first-visit-rate": (1, 3, Decimal("33.3333")),
        "hc-coverage-rate": (2, 4, Decimal("50.0000")),
    }
    # Staff belong to no hukou area: training is meaningful for the city only (area_level: city).
    city = month_values("331000")
    assert city["hc-training-completion-rate"] == (1, 4, Decimal("25.0000"))
    assert city["hc-on-time-rate"] == (3, 4, Decimal("75.0000"))
    first, second = month_values("331002001"), month_values("331002002")
    assert first["hc-on-time-rate"][:2] == (1, 2)
    assert second["hc-on-time-rate"][:2] == (2, 2)
    assert first["hc-first-visit-rate"][:2] == (1, 2)
    assert first["hc-coverage-rate"][:2] == (1, 3)
    assert second["hc-coverage-rate"][:2] == (1, 1)
    assert "hc-training-completion-rate" not in first
    # Complaints are meaningful down to townships only; visits down to villages.
    assert "hc-complaint-resolution-rate" not in month_values("331002001901")
    assert month_values("331002001901")["hc-on-time-rate"][:2] == (1, 2)


def test_the_engine_agrees_with_the_supervision_report(world: World, built: Built) -> None:
    compute()
    report = indicators(user=world.officer, month=MONTH, now=END)
    for row in [*report.counties, *report.townships]:
        stored = month_values(row.code)
        for v in row.values:
            if v.denominator:
                assert stored[v.key][:2] == (v.numerator, v.denominator), (row.code, v.key)
            else:
                assert v.key not in stored, (row.code, v.key)


def test_the_engine_agrees_on_the_settlement_month_too(world: World) -> None:
    # Another month built through the services: cancellations, a no-show, an upheld complaint, a refund.
    build_month(world)
    compute(now=AFTER)
    for user in (world.officer, make_user("auditor", Role.AUDITOR, None)):
        report = indicators(user=user, month=MONTH, now=AFTER)
        assert report.counties
        for row in [*report.counties, *report.townships]:
            stored = month_values(row.code)
            for v in row.values:
                assert stored.get(v.key, (0, 0, None))[:2] == (v.numerator, v.denominator), (row.code, v.key)


def test_roll_ups_are_the_sums_of_children(world: World, built: Built) -> None:
    compute()
    values = list(IndicatorValue.objects.select_related("area", "indicator"))
    assert values
    by_key = {(v.indicator_id, v.period_kind, v.period_start, v.area_id): v for v in values}
    checked = 0
    for parent in Area.objects.all():
        for (indicator, kind, start, area), v in by_key.items():
            if area != parent.pk:
                continue
            children = [
                by_key[(indicator, kind, start, c.pk)]
                for c in parent.children.all()
                if (indicator, kind, start, c.pk) in by_key
            ]
            if not children:
                continue
            assert v.numerator == sum(c.numerator for c in children)
            assert v.denominator == sum(c.denominator for c in children)
            checked += 1
    assert checked > 10
    # A quarter holds its months' events: December's visits are the fourth quarter's.
    quarter = IndicatorValue.objects.get(
        indicator__key="hc-on-time-rate", area__code="331002", period_kind="quarter", period_start=dt.date(2026, 10, 1)
    )
    assert (quarter.numerator, quarter.denominator) == (3, 4)


def test_a_rerun_changes_nothing(world: World, built: Built) -> None:
    first = compute()
    assert first["periods_computed"] > 0
    assert first["values_written"] > 0
    before = list(IndicatorValue.objects.order_by("pk").values())
    second = compute(now=END + dt.timedelta(minutes=5))
    assert second["periods_computed"] == 0
    assert second["periods_unchanged"] == first["periods_computed"]
    assert list(IndicatorValue.objects.order_by("pk").values()) == before
    # Even when forced to recompute (digests forgotten), the same numbers are not written again.
    IndicatorPeriod.objects.all().delete()
    third = compute(now=END + dt.timedelta(minutes=10))
    assert third["periods_computed"] == first["periods_computed"]
    assert third["values_written"] == 0
    assert list(IndicatorValue.objects.order_by("pk").values()) == before


def test_new_data_recomputes_only_its_periods(world: World, built: Built) -> None:
    indicators_compute(first=dt.date(2026, 11, 1), last=DECEMBER[1], now=END)
    november = dict(
        IndicatorValue.objects.filter(period_start=dt.date(2026, 11, 1), period_kind="month").values_list(
            "pk", "computed_at"
        )
    )
    later = END + dt.timedelta(hours=1)
    # One more visit in December, 20 minutes late (not on time): only December, its quarter and its year move.
    visit(world, booked(world, world.elder, "hc-meals", dt.date(2026, 12, 14), 11), late=20)
    summary = indicators_compute(first=dt.date(2026, 11, 1), last=DECEMBER[1], now=later).as_dict()
    assert summary["periods_computed"] > 0
    recomputed = set(
        IndicatorPeriod.objects.filter(computed_at=later).values_list("period_kind", "period_start").distinct()
    )
    assert recomputed <= {
        ("month", dt.date(2026, 12, 1)),
        ("quarter", dt.date(2026, 10, 1)),
        ("year", dt.date(2026, 1, 1)),
    }
    assert (
        dict(
            IndicatorValue.objects.filter(period_start=dt.date(2026, 11, 1), period_kind="month").values_list(
                "pk", "computed_at"
            )
        )
        == november
    )
    assert month_values("331002")["hc-on-time-rate"][:2] == (3, 5)
    assert Order.objects.filter(account_month__month=MONTH).count() > 4


def test_nothing_is_computed_for_the_future(world: World, built: Built) -> None:
    summary = indicators_compute(first=dt.date(2027, 1, 1), last=dt.date(2027, 3, 31), now=at(dt.date(2026, 12, 31), 9))
    assert summary.periods_computed == 0


def test_a_stored_definition_that_no_longer_reads_is_skipped_not_fatal(world: World, built: Built) -> None:
    from fuwu.standards.models import StandardVersion

    version = StandardVersion.objects.get(standard__key="taizhou-home-care")
    document = version.document
    document["indicators"][0]["computation"]["view"] = "withdrawn_view"
    StandardVersion.objects.filter(pk=version.pk).update(document=document)
    summary = compute()
    assert summary["skipped"] == [f"taizhou-home-care/{document['indicators'][0]['id']}"]
    assert summary["indicators"] == 7
