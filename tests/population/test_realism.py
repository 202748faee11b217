"""The population looks like Taizhou: census shares, consistent households, plausible groups.

Tolerances are a few standard errors at 200,000 persons, so a change of model shows up while
sampling noise does not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import yaml

from fuwu.population import parameters as P
from fuwu.population.areas import census_weights
from tests.conftest import REPO
from tests.population.conftest import SIZE

Sql = Callable[[str], list[tuple[Any, ...]]]


def share(sql: Sql, where: str) -> float:
    """Share of all persons for whom ``where`` holds."""
    return float(sql(f"SELECT avg(CASE WHEN {where} THEN 1.0 ELSE 0 END) FROM p")[0][0])  # noqa: S608


def rate(sql: Sql, where: str, among: str) -> float:
    """Share of the persons matching ``among`` for whom ``where`` also holds."""
    return share(sql, f"({where}) AND ({among})") / share(sql, among)


def test_county_shares_are_the_census_shares(sql: Sql) -> None:
    weights = census_weights()
    expected = {c.code: w / sum(weights) for c, w in zip(P.COUNTIES, weights, strict=True)}
    measured = dict(sql("SELECT left(hukou_area, 6), count(*) / sum(count(*)) OVER () FROM p GROUP BY 1"))
    assert set(measured) == set(expected)
    for code, value in expected.items():
        assert measured[code] == pytest.approx(value, abs=1 / SIZE), code
    # The figures: 温岭 1.416M and 玉环 0.644M of 6,622,888.
    assert measured["331081"] == pytest.approx(1.416 / 6.622888, abs=0.0005)
    assert measured["331083"] == pytest.approx(0.644 / 6.622888, abs=0.0005)


def test_age_structure_is_the_census_one(sql: Sql) -> None:
    assert share(sql, "age >= 60") == pytest.approx(P.AGED_60_PLUS, abs=0.004)
    assert share(sql, "age >= 80") == pytest.approx(P.AGED_80_PLUS, abs=0.0025)
    assert share(sql, "age < 15") == pytest.approx(P.AGED_0_14, abs=0.004)
    # The mountain counties are older than the coastal ones: 天台 against 玉环.
    assert (
        rate(sql, "age >= 60", "left(hukou_area, 6) = '331023'")
        > rate(sql, "age >= 60", "left(hukou_area, 6) = '331083'") + 0.04
    )


def test_households_have_one_head_and_share_their_hukou(sql: Sql) -> None:
    heads = "SELECT household_id FROM p GROUP BY 1 HAVING count(*) FILTER (WHERE relation = 'head') <> 1"
    assert sql(f"SELECT count(*) FROM ({heads})") == [(0,)]  # noqa: S608
    for shared in ("hukou_area", "hukou_type", "house_grade", "low_income_status"):
        mixed = f"SELECT household_id FROM p GROUP BY 1 HAVING count(DISTINCT {shared}) > 1"  # noqa: S608
        assert sql(f"SELECT count(*) FROM ({mixed})") == [(0,)], shared  # noqa: S608
    # Destitute people live alone; allowance and marginal status belongs to the whole household.
    assert sql(
        "SELECT count(*) FROM p d JOIN p o ON o.household_id = d.household_id AND o.person_id <> d.person_id"
        " WHERE d.low_income_status = 'destitute'"
    ) == [(0,)]
    size = sql("SELECT count(*) / count(DISTINCT household_id) FROM p")[0][0]
    assert 2.4 < size < 3.1


def test_ages_fit_the_relations(sql: Sql) -> None:
    def gap(relation: str) -> tuple[int, int]:
        low, high = sql(
            "SELECT min(o.age - h.age), max(o.age - h.age) FROM p o"  # noqa: S608
            " JOIN p h ON h.household_id = o.household_id AND h.relation = 'head'"
            f" WHERE o.relation = '{relation}'"
        )[0]
        return int(low), int(high)

    assert gap("child")[1] <= -15  # every child at least 15 years younger than the head
    assert gap("parent")[0] >= 15
    assert gap("grandchild")[1] <= -30
    assert gap("grandparent")[0] >= 30
    assert sql("SELECT min(age) FROM p WHERE relation IN ('spouse', 'head')")[0][0] >= 18
    assert sql(
        "SELECT count(*) FROM p s JOIN p h ON h.household_id = s.household_id AND h.relation = 'head'"
        " WHERE s.relation = 'spouse' AND s.sex = h.sex"
    ) == [(0,)]


def test_low_income_shares_and_incomes(sql: Sql) -> None:
    assert share(sql, "low_income_status = 'destitute'") == pytest.approx(P.DESTITUTE_SHARE, abs=0.0003)
    assert share(sql, "low_income_status = 'minimum_allowance'") == pytest.approx(P.MINIMUM_ALLOWANCE_SHARE, abs=0.002)
    assert share(sql, "low_income_status = 'marginal'") == pytest.approx(P.MARGINAL_SHARE, abs=0.0015)
    assert rate(sql, "low_income_status <> 'none'", "age >= 60") > 1.5 * share(sql, "low_income_status <> 'none'")
    per_member = "SELECT any_value(low_income_status) status, sum(income) / count(*) pc FROM p GROUP BY household_id"
    rows = sql(f"SELECT status, min(pc), max(pc) FROM ({per_member}) GROUP BY 1")  # noqa: S608
    by_status = {status: (low, high) for status, low, high in rows}
    line = P.MINIMUM_ALLOWANCE_LINE
    assert by_status["minimum_allowance"][1] < line
    assert line <= by_status["marginal"][0]
    assert by_status["marginal"][1] < P.MARGINAL_FACTOR * line
    assert sql("SELECT max(income) FROM p WHERE low_income_status = 'destitute'")[0][0] < line


def test_allowance_line_is_the_standards() -> None:
    text = (REPO / "standards" / "taizhou" / "taizhou-social-assistance.yaml").read_text(encoding="utf-8")
    parameter = next(p for p in yaml.safe_load(text)["parameters"] if p["id"] == "sr-minimum-allowance-standard")
    latest = max(parameter["values"], key=lambda v: str(v["effective_from"]))
    assert latest["value"] * 12 == P.MINIMUM_ALLOWANCE_LINE


def test_disability_and_veterans(sql: Sql) -> None:
    assert share(sql, "disability_grade > 0") == pytest.approx(P.DISABLED_SHARE, abs=0.002)
    assert sql("SELECT count(*) FROM p WHERE (disability_grade = 0) <> (disability_kind = 'none')") == [(0,)]
    assert {g for (g,) in sql("SELECT DISTINCT disability_grade FROM p")} == {0, 1, 2, 3, 4}
    assert rate(sql, "disability_grade > 0", "age >= 60") > 2 * rate(sql, "disability_grade > 0", "age < 60")
    assert share(sql, "veteran_category <> 'none'") == pytest.approx(P.VETERAN_SHARE, abs=0.002)
    men, age = sql("SELECT avg((sex = 'male')::int), avg(age) FROM p WHERE veteran_category <> 'none'")[0]
    assert men > 0.85
    assert age > 40
    assert sql("SELECT min(age) FROM p WHERE veteran_category <> 'none'")[0][0] >= 18


def test_care_need_rises_with_age(sql: Sql) -> None:
    needing = [rate(sql, "care_need IN ('moderate', 'severe')", f"age // 10 = {d}") for d in (6, 7, 8, 9)]
    assert needing == sorted(needing)
    assert needing[-1] > 3 * needing[0]


def test_school_stages_fit_ages_and_boarding_is_rural(sql: Sql) -> None:
    rows = sql("SELECT school_stage, min(age), max(age) FROM p GROUP BY 1")
    ranges = {stage: (low, high) for stage, low, high in rows}
    assert ranges["primary"] == (6, 12)
    assert ranges["junior_secondary"] == (12, 15)
    assert ranges["nursery"][1] <= 3
    assert ranges["higher"][0] >= 18
    assert sql("SELECT count(*) FROM p WHERE boarding AND school_stage = 'none'") == [(0,)]
    junior = "school_stage = 'junior_secondary' AND hukou_type = "
    assert rate(sql, "boarding", junior + "'rural'") > 2 * rate(sql, "boarding", junior + "'urban'")


def test_family_doctor_groups(sql: Sql) -> None:
    hypertension = [rate(sql, "fd_hypertension", f"age // 10 = {d}") for d in (3, 4, 5, 6, 7)]
    assert hypertension == sorted(hypertension)
    low, high, sexes = sql("SELECT min(age), max(age), count(DISTINCT sex) FROM p WHERE fd_pregnant")[0]
    assert low >= 15
    assert high <= 50
    assert sexes == 1
    assert share(sql, "fd_pregnant") == pytest.approx(P.PREGNANT_SHARE, abs=0.001)
    assert share(sql, "fd_severe_mental") == pytest.approx(P.SEVERE_MENTAL_SHARE, abs=0.001)


def test_rural_houses_and_incomes(sql: Sql) -> None:
    assert sql("SELECT count(*) FROM p WHERE (hukou_type = 'urban') <> (house_grade = 'none')") == [(0,)]
    poor = rate(sql, "house_grade IN ('C', 'D')", "hukou_type = 'rural' AND low_income_status <> 'none'")
    others = rate(sql, "house_grade IN ('C', 'D')", "hukou_type = 'rural' AND low_income_status = 'none'")
    assert others < 0.05
    assert poor > 2 * others
    per_member = (
        "SELECT avg(pc) FROM (SELECT sum(income) / count(*) pc FROM p WHERE hukou_type = '{}' GROUP BY household_id)"
    )
    rural, urban = (sql(per_member.format(h))[0][0] for h in ("rural", "urban"))
    assert 25_000 < rural < urban < 100_000


def test_some_elders_live_alone(sql: Sql) -> None:
    assert 0.05 < rate(sql, "lives_alone", "age >= 60") < 0.3
    # Living alone agrees with where the rest of the household lives.
    assert sql(
        "SELECT count(*) FROM p e JOIN p o ON o.household_id = e.household_id AND o.person_id <> e.person_id"
        " WHERE e.lives_alone AND o.residence_area = e.residence_area"
    ) == [(0,)]


def test_work_fits_age_school_and_the_unemployment_rates(sql: Sql) -> None:
    # Children and pupils are not in work; nobody under 16 is insured for a pension.
    assert sql("SELECT count(*) FROM p WHERE (age < 16 OR school_stage <> 'none') AND employment_status <> 'none'") == [
        (0,)
    ]
    assert sql("SELECT count(*) FROM p WHERE age < 16 AND pension_insurance <> 'none'") == [(0,)]
    assert sql("SELECT count(*) FROM p WHERE school_stage <> 'none' AND pension_insurance <> 'none'") == [(0,)]
    labour = "age BETWEEN 16 AND 59 AND employment_status IN ('employed', 'self_employed', 'flexible', "
    labour += "'unemployed_registered', 'unemployed')"
    registered = rate(sql, "employment_status = 'unemployed_registered'", labour)
    assert registered == pytest.approx(P.REGISTERED_UNEMPLOYED_RATE, abs=0.004)
    # The unemployed are over-represented in low-income households and among the "4050" ages.
    unemployed = "employment_status = 'unemployed_registered'"
    assert rate(sql, unemployed, labour + " AND low_income_status <> 'none'") > 2 * rate(
        sql, unemployed, labour + " AND low_income_status = 'none'"
    )
    # Employees and the retired are in the employees' schemes; almost everyone has medical insurance.
    assert sql(
        "SELECT count(*) FROM p WHERE employment_status IN ('employed', 'retired') AND "
        "(pension_insurance <> 'employee' OR medical_insurance <> 'employee')"
    ) == [(0,)]
    assert share(sql, "medical_insurance = 'none'") < 0.02
    assert rate(sql, "pension_insurance = 'employee'", "age >= 60 AND hukou_type = 'urban'") > 0.7
    assert rate(sql, "pension_insurance = 'resident'", "age >= 60 AND hukou_type = 'rural'") > 0.7


def test_orphans_are_minors_without_a_parent_at_home(sql: Sql) -> None:
    minors = "age < 18"
    assert rate(sql, "orphan_status = 'orphan'", minors) == pytest.approx(P.ORPHAN_SHARE, abs=0.0003)
    assert rate(sql, "orphan_status = 'de_facto_unsupported'", minors) == pytest.approx(
        P.DE_FACTO_UNSUPPORTED_SHARE, abs=0.0004
    )
    assert sql("SELECT count(*) FROM p WHERE orphan_status <> 'none' AND (age >= 18 OR relation = 'child')") == [(0,)]


def test_people_in_street_communities_do_not_live_in_villages(sql: Sql) -> None:
    kinds = yaml.safe_load((REPO / "data" / "areas" / "taizhou.yaml").read_text(encoding="utf-8"))
    streets: set[str] = set()

    def visit(node: dict[str, Any]) -> None:
        if node.get("level") == "township" and node.get("kind") == "街道":
            streets.add(str(node["code"]))
        for child in node.get("children") or []:
            visit(child)

    for root in kinds["areas"]:
        visit(root)
    rows = sql(
        "SELECT left(residence_area, 9), bool_or(lives_in_village), bool_and(lives_in_village) FROM p GROUP BY 1"
    )
    for township, some, every in rows:
        assert (not some) if township in streets else every, township
    assert 0.3 < share(sql, "lives_in_village") < 0.6
