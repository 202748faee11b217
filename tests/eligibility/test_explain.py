"""The one-resident path on the test standard: statuses, levels, explanations, ages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from fuwu.eligibility.derived import full_years, per_capita, person_facts
from fuwu.eligibility.explain import ELIGIBLE, NOT_ELIGIBLE, UNKNOWN, explain
from fuwu.eligibility.ruleset import ItemRule, rules_from_document
from fuwu.standards.parsing import parse_standard_file
from tests.conftest import MINI, REPO

RULES = rules_from_document(parse_standard_file(MINI).document)
TAIZHOU = "331002001901"


def answer(as_of: dt.date = dt.date(2026, 11, 29), **facts: object):  # type: ignore[no-untyped-def]
    [result] = explain(facts, rules=RULES, as_of=as_of)  # type: ignore[arg-type]
    return result


def test_eligible_with_amount_from_the_parameter_in_force() -> None:
    result = answer(birth_date=dt.date(1930, 1, 1), hukou_area=TAIZHOU)
    assert result.status == ELIGIBLE
    assert result.amount == Decimal("120.00")  # 90–99 band, 2024 value
    assert [c.passed for c in result.criteria] == [True, True]
    # Before 2024 the older value applies.
    assert answer(dt.date(2023, 6, 1), birth_date=dt.date(1930, 1, 1), hukou_area=TAIZHOU).amount == Decimal("100.00")


def test_not_eligible_names_the_failing_criterion_and_its_clause() -> None:
    result = answer(birth_date=dt.date(1960, 1, 1), hukou_area=TAIZHOU)
    assert result.status == NOT_ELIGIBLE
    assert result.amount is None
    failing = [c for c in result.criteria if c.passed is False]
    assert [(c.name, c.clause) for c in failing] == [("aged-80-plus", "4")]


def test_unknown_lists_the_missing_facts() -> None:
    result = answer(hukou_area=TAIZHOU)
    assert result.status == UNKNOWN
    assert result.missing == ("birth_date",)
    # A false criterion decides even when another is unknown.
    assert answer(birth_date=dt.date(1960, 1, 1)).status == NOT_ELIGIBLE


@pytest.mark.parametrize(
    ("birth", "as_of", "age"),
    [
        (dt.date(1946, 11, 29), dt.date(2026, 11, 29), 80),  # birthday today
        (dt.date(1946, 11, 30), dt.date(2026, 11, 29), 79),  # birthday tomorrow
        (dt.date(1944, 2, 29), dt.date(2024, 2, 29), 80),  # leap birthday in a leap year
        (dt.date(1944, 2, 29), dt.date(2025, 2, 28), 80),  # not yet: counts from 1 March
        (dt.date(1944, 2, 29), dt.date(2025, 3, 1), 81),
        (dt.date(1944, 2, 29), dt.date(2024, 2, 28), 79),
    ],
)
def test_age_in_full_years(birth: dt.date, as_of: dt.date, age: int) -> None:
    assert full_years(birth, as_of) == age


def test_eightieth_birthday_boundary() -> None:
    assert answer(birth_date=dt.date(1946, 11, 29), hukou_area=TAIZHOU).status == ELIGIBLE
    assert answer(birth_date=dt.date(1946, 11, 30), hukou_area=TAIZHOU).status == NOT_ELIGIBLE


def test_per_capita_rounds_half_up_to_the_fen() -> None:
    assert per_capita(Decimal("1000.01"), 2) == Decimal("500.01")
    assert per_capita(Decimal("10"), 3) == Decimal("3.33")
    assert per_capita(Decimal("0.05"), 10) == Decimal("0.01")


def test_residence_city_and_county_come_from_the_residence_area() -> None:
    facts = person_facts({"hukou_area": "330102001001", "residence_area": TAIZHOU}, as_of=dt.date(2026, 11, 29))
    assert (facts["residence_county"], facts["residence_city"]) == ("331002", "3310")
    assert (facts["hukou_county"], facts["hukou_city"]) == ("330102", "3301")
    unknown = person_facts({}, as_of=dt.date(2026, 11, 29))
    assert unknown["residence_city"] is None


def test_an_unknown_residence_names_the_residence_area() -> None:
    home_care = REPO / "standards" / "taizhou" / "taizhou-home-care.yaml"
    rules: list[ItemRule] = [
        r for r in rules_from_document(parse_standard_file(home_care).document) if r.item == "hc-package-health"
    ]
    [result] = explain({"birth_date": dt.date(1950, 1, 1)}, rules=rules, as_of=dt.date(2026, 11, 29))
    assert result.status == UNKNOWN
    assert result.missing == ("residence_area",)
