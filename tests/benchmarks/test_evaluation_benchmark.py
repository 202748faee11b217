"""The evaluation benchmark builds what it says and times the real engine and pages (no timing asserted here)."""

from __future__ import annotations

import pytest

from benchmarks.evaluation import ROOT, build, dashboard, materialise
from fuwu.applications.models import Application
from fuwu.evaluation.models import IndicatorValue
from fuwu.homecare.models import EntitlementAccount, Order
from fuwu.residents.models import Person

STANDARDS = [
    ROOT / "standards" / "taizhou" / f"taizhou-{name}.yaml"
    for name in ("home-care", "social-assistance", "medical-assistance")
]


@pytest.mark.django_db
def test_the_benchmark_builds_the_city_and_times_the_engine_and_the_dashboard() -> None:
    built = build(0.0002, seed=2, standards=STANDARDS)
    assert built["persons"] == Person.objects.count() == 1320
    assert Order.objects.count() == built["orders"] == 200  # 1M × 0.0002, exactly
    # The accounts are taken village by village in turn: as many villages as accounts (fewer than villages).
    villages = EntitlementAccount.objects.values("person__hukou_area").distinct().count()
    assert villages == built["accounts"] < built["villages"]
    assert Application.objects.count() == built["applications"] == 40
    steps = materialise(built, python=True)
    first, rerun, after, reference = steps[1:]
    assert 0 < first["values_written"] <= IndicatorValue.objects.count()
    assert rerun["periods_computed"] == 0
    assert 0 < after["periods_computed"] < first["periods_computed"]
    # The reference path finds every value as the set-based path stored it.
    assert reference["periods_computed"] == first["periods_computed"]
    assert (reference["values_written"], reference["values_deleted"]) == (0, 0)
    pages = dashboard(built["office"], 2)
    assert len(pages) == 4
