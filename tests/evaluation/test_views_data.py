"""The screening, applications and compliance views, and the indicators written over them, against fixtures
whose counts are worked out by hand here (never by the code under test)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from fuwu.applications.models import Application
from fuwu.compliance.models import Answer, ChecklistItem, Inspection, RectificationOrder, Standing
from fuwu.eligibility.models import Candidate, RunStatus, ScreeningCount, ScreeningRun
from fuwu.evaluation.datasets import PRODUCERS
from fuwu.evaluation.engine import indicators_compute
from fuwu.evaluation.models import IndicatorValue
from fuwu.standards.models import ServiceItem, StandardVersion
from fuwu.standards.parsing import parse_many
from fuwu.standards.services import standards_load
from tests.compliance.conftest import World, institution
from tests.compliance.conftest import world as compliance_world  # noqa: F401 - a fixture, used by name
from tests.residents.factories import PersonFactory

ROOT = Path(__file__).resolve().parents[2] / "standards" / "taizhou"
MONTH = dt.date(2026, 10, 1)
NOW = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
A1, A2, B1 = "331002001901", "331002001902", "331003001901"


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=timezone.get_current_timezone())


@pytest.fixture
def world(compliance_world: World) -> World:  # noqa: F811 - the compliance world, with two more standards
    standards_load(
        parsed=parse_many([ROOT / "taizhou-social-assistance.yaml", ROOT / "taizhou-medical-assistance.yaml"]),
        actor=None,
    )
    return compliance_world


def values(key: str, kind: str = "month", start: dt.date = MONTH) -> dict[str, tuple[int, int]]:
    rows = IndicatorValue.objects.filter(indicator__key=key, period_kind=kind, period_start=start)
    return {v.area.code: (v.numerator, v.denominator) for v in rows.select_related("area")}


def compute(first: dt.date = MONTH, last: dt.date = dt.date(2026, 10, 31)) -> dict[str, Any]:
    return indicators_compute(first=first, last=last, now=NOW).as_dict()


# --- applications -------------------------------------------------------------------------------------------


def _application(world: World, item: str, area: str, *, submitted: dt.date, due: dt.date | None, **kw: Any) -> None:
    service_item = ServiceItem.objects.filter(key=item).select_related("version").first()
    assert service_item is not None
    Application.objects.create(
        item=service_item,
        version=service_item.version,
        item_key=item,
        person=PersonFactory(hukou_area=area),
        area_code=area,
        submitted_by=world.users["officer"],
        capacity="counter",
        submitted_at=at(submitted),
        due_on=due,
        **kw,
    )


def test_application_on_time_rates(world: World) -> None:
    allowance, cost = "sr-minimum-living-allowance", "ma-cost-assistance"
    oct5, oct20 = dt.date(2026, 10, 5), dt.date(2026, 10, 20)
    # Allowance, decided in October: A1 on time, A1 late, A2 on time; B1 refused at the counter (no clock: on time).
    _application(world, allowance, A1, submitted=dt.date(2026, 9, 1), due=oct20, status="approved", decided_at=at(oct5))
    _application(world, allowance, A1, submitted=dt.date(2026, 9, 2), due=oct5, status="approved", decided_at=at(oct20))
    _application(world, allowance, A2, submitted=oct5, due=oct20, status="refused", decided_at=at(oct20))
    _application(world, allowance, B1, submitted=oct5, due=None, status="refused", decided_at=at(oct5))
    # Not decided, or decided in another month, or another item: not in the allowance's count.
    _application(world, allowance, A1, submitted=oct5, due=oct20, status="in_progress")
    _application(
        world, allowance, A1, submitted=oct5, due=oct20, status="approved", decided_at=at(dt.date(2026, 11, 2))
    )
    _application(world, allowance, A2, submitted=oct5, due=oct20, status="withdrawn", decided_at=at(oct5))
    _application(world, cost, A2, submitted=oct5, due=oct5, status="approved", decided_at=at(oct20))
    _application(world, cost, B1, submitted=oct5, due=oct20, status="approved", decided_at=at(oct20))

    rows = PRODUCERS["applications"](MONTH, dt.date(2026, 11, 1), dt.date(2026, 11, 20))
    assert len(rows) == 7  # submitted in October
    overdue = [r for r in rows if r["overdue"]]
    assert len(overdue) == 1
    assert overdue[0]["status"] == "in_progress"

    compute()
    on_time = values("sr-allowance-on-time-rate")
    assert on_time["331000"] == (3, 4)
    assert on_time["331002"] == (2, 3)
    assert on_time["331002001"] == (2, 3)
    assert on_time[A1] == (1, 2)
    assert on_time[A2] == (1, 1)
    assert on_time["331003"] == (1, 1)
    medical = values("ma-on-time-rate")
    assert medical["331000"] == (1, 2)
    assert medical[A2] == (0, 1)
    # The quarter holds October's four and the one decided (late) on 2 November.
    assert values("sr-allowance-on-time-rate", "quarter", dt.date(2026, 10, 1))["331000"] == (3, 5)


# --- screening ------------------------------------------------------------------------------------------------


def _run(as_of: dt.date, *, draft: bool = False, screened: int = 100, **kw: Any) -> ScreeningRun:
    return ScreeningRun.objects.create(
        engine="duckdb",
        as_of=as_of,
        population="registry",
        output="/nonexistent",
        rules_digest="t",
        status=RunStatus.COMPLETED,
        finished_at=at(as_of),
        draft=draft,
        screened=screened,
        **kw,
    )


def test_screening_coverage_from_the_latest_run(world: World) -> None:
    living, nursing, premium = (
        "sr-disability-living-subsidy",
        "sr-severe-disability-nursing-subsidy",
        "ma-premium-subsidy",
    )
    old = _run(dt.date(2026, 10, 3))
    ScreeningCount.objects.create(run=old, township="331002001", item=living, eligible=50, unknown=1)
    run = _run(dt.date(2026, 10, 25), screened=1234)
    _run(dt.date(2026, 10, 28), draft=True)  # a what-if run is never the state of the city
    counts = [
        ("331002001", living, 10, 2),
        ("331002001", nursing, 4, 0),
        ("331002002", living, 5, 1),
        ("331003001", premium, 8, 3),
    ]
    for township, item, eligible, unknown in counts:
        ScreeningCount.objects.create(run=run, township=township, item=item, eligible=eligible, unknown=unknown)
    candidates = [(A1, living), (A1, living), (A2, living), (A1, nursing), ("331002002901", living), (B1, premium)]
    for n, (area, item) in enumerate(candidates):
        Candidate.objects.create(run=run, person_id=n + 1, hukou_area=area, item=item, rule_version="x@1")

    rows = PRODUCERS["screening_results"](MONTH, dt.date(2026, 11, 1), dt.date(2026, 11, 20))
    assert {"area": None, "item": None, "answer": "screened", "served": None, "persons": 1234} in rows
    assert sum(r["persons"] for r in rows if r["answer"] == "eligible") == 27

    compute()
    disability = values("sr-disability-subsidy-coverage")
    # 海门街道: living 10 − 3 waiting, nursing 4 − 1 waiting; 白云街道: 5 − 1 waiting.
    assert disability["331002001"] == (7 + 3, 14)
    assert disability["331002002"] == (4, 5)
    assert disability["331002"] == (14, 19)
    assert disability["331000"] == (14, 19)
    assert A1 not in disability  # counts are kept by township: no village values
    assert values("ma-premium-subsidy-coverage")["331000"] == (7, 8)
    # No run in September: nothing to show, not zero.
    compute(dt.date(2026, 9, 1), dt.date(2026, 9, 30))
    assert values("sr-disability-subsidy-coverage", "month", dt.date(2026, 9, 1)) == {}


def test_a_purged_run_says_nothing_about_who_is_served(world: World) -> None:
    run = _run(dt.date(2026, 10, 25), purged_at=NOW)
    ScreeningCount.objects.create(run=run, township="331002001", item="ma-premium-subsidy", eligible=9, unknown=0)
    rows = PRODUCERS["screening_results"](MONTH, dt.date(2026, 11, 1), dt.date(2026, 11, 20))
    assert [r["served"] for r in rows if r["answer"] == "eligible"] == [None]
    compute()
    assert values("ma-premium-subsidy-coverage") == {}


# --- compliance -------------------------------------------------------------------------------------------------


def _inspection(world: World, name: str, standard: str, day: dt.date, results: dict[str, str], **kw: Any) -> Inspection:
    version = StandardVersion.objects.get(standard__key=standard)
    inspection = Inspection.objects.create(
        institution=world.institutions[name],
        standard=version.standard,
        version=version,
        kind=kw.pop("kind", "official"),
        status="signed",
        planned_on=kw.pop("planned_on", day),
        inspected_on=day,
        score=Decimal(80),
        passed=all(r in ("compliant", "na") for r in results.values()),
        signed_at=at(day),
        signed_by=world.users["officer"],
        **kw,
    )
    for position, (clause, result) in enumerate(results.items()):
        item = ChecklistItem.objects.create(
            inspection=inspection,
            position=position,
            clause_number=clause,
            clause_kind="requirement",
            text_zh="条款",
            method="observe",
            weight=1,
            rectification_days=10,
        )
        Answer.objects.create(item=item, result=result, answered_at=at(day))
    return inspection


def test_fire_water_source_from_clause_results(world: World) -> None:
    from fuwu.areas.models import Area

    fire = "taizhou-rural-fire-safety"
    for code in (A1, A2, B1):
        world.institutions[code] = institution(
            f"{code}村", "village-fire-safety", Area.objects.get(code=code), f"VF-{code}"
        )
    day = dt.date(2026, 6, 10)
    _inspection(world, A1, fire, day, {"5.1": "compliant", "5.2": "not"})
    _inspection(world, A2, fire, day, {"5.1": "partly"})
    _inspection(world, B1, fire, day, {"5.1": "compliant"})
    _inspection(world, B1, fire, dt.date(2026, 7, 1), {"5.1": "not"}, kind="self")  # self-assessment: not counted
    _inspection(world, "fire_hemei", fire, day, {"5.1": "not"})  # a micro station, not a village's own work

    compute(dt.date(2026, 1, 1), dt.date(2026, 10, 31))
    water = values("rf-water-source-compliance", "year", dt.date(2026, 1, 1))
    assert water["331000"] == (2, 3)
    assert water["331002"] == (1, 2)
    assert water[A2] == (0, 1)
    # June's inspections are June's values; the year holds them (and July's self-assessment is left out).
    assert values("rf-water-source-compliance", "month", dt.date(2026, 6, 1))["331000"] == (2, 3)
    assert "331000" not in values("rf-water-source-compliance", "month", dt.date(2026, 7, 1))

    rows = PRODUCERS["compliance_inspections"](dt.date(2026, 6, 1), dt.date(2026, 7, 1), dt.date(2026, 11, 20))
    # June: A1 fails 5.2, A2 partly meets 5.1, the micro station fails 5.1, B1 passes (its self-check is July).
    assert sorted(r["failed_clauses"] for r in rows) == [0, 1, 1, 1]


def test_station_coverage_and_rectifications(world: World) -> None:
    veterans = "taizhou-veterans-service-centre"
    # Villages with a village station: 和美社区 and 幸福社区 of 4 villages.
    compute(dt.date(2026, 1, 1), dt.date(2026, 10, 31))
    coverage = values("vc-station-coverage", "year", dt.date(2026, 1, 1))
    assert coverage["331000"] == (2, 4)
    assert coverage["331002001"] == (2, 2)
    assert coverage["331003"] == (0, 1)

    inspection = _inspection(world, "hemei", veterans, dt.date(2026, 10, 9), {"4.1": "not", "4.2": "partly"})
    Standing.objects.create(
        institution=world.institutions["hemei"],
        standard=inspection.standard,
        inspection=inspection,
        inspected_on=inspection.inspected_on,
        score=Decimal(80),
        passed=False,
    )
    items = list(inspection.items.order_by("position"))
    RectificationOrder.objects.create(
        inspection=inspection,
        item=items[0],
        institution=inspection.institution,
        status="verified",
        opened_on=dt.date(2026, 10, 9),
        days=10,
        due_on=dt.date(2026, 10, 23),
        decided_at=at(dt.date(2026, 10, 20)),
    )
    RectificationOrder.objects.create(
        inspection=inspection,
        item=items[1],
        institution=inspection.institution,
        status="open",
        opened_on=dt.date(2026, 10, 9),
        days=10,
        due_on=dt.date(2026, 10, 23),
    )
    rows = PRODUCERS["compliance_rectifications"](MONTH, dt.date(2026, 11, 1), dt.date(2026, 11, 20))
    assert sorted((r["on_time"], r["overdue"], r["closed"]) for r in rows) == [
        (False, True, False),
        (True, False, True),
    ]
    coverage_rows = PRODUCERS["compliance_coverage"](MONTH, dt.date(2026, 11, 1), dt.date(2026, 11, 20))
    hemei = next(r for r in coverage_rows if r["area"] == A1 and r["standard"] == veterans)
    assert hemei["institutions"] == 1
    assert hemei["covered"] is False


def test_a_column_of_another_view_is_refused(world: World) -> None:
    from fuwu.eligibility.rules import RuleError
    from fuwu.evaluation.definitions import definition_of
    from fuwu.standards.schema import IndicatorComputation

    computation = IndicatorComputation.model_validate(
        {"view": "applications", "numerator": "answer = 'eligible'", "period": "month", "area_level": "village"}
    )
    with pytest.raises(RuleError):
        definition_of("x", computation, parameters={}, unit="percent")
