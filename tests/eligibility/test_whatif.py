"""What-if: a draft that lowers the age threshold and raises the amount, costed before publication."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from fuwu.eligibility.explain import ELIGIBLE, explain
from fuwu.eligibility.ruleset import rules_from_document
from fuwu.eligibility.whatif import what_if
from fuwu.standards.parsing import parse_standard_file, read_yaml
from fuwu.standards.schema import StandardDocument
from tests.conftest import MINI, REPO
from tests.eligibility.population import random_population, write

AS_OF = dt.date(2026, 11, 29)
HOME_CARE = REPO / "standards" / "taizhou" / "taizhou-home-care.yaml"


def draft_file(tmp_path: Path) -> Path:
    text = MINI.read_text(encoding="utf-8")
    text = text.replace('expr: "age >= 80"', 'expr: "age >= 75"').replace(
        '{effective_from: 2024-01-01, value: {"80-89": 60,', '{effective_from: 2024-01-01, value: {"80-89": 70,'
    )
    path = tmp_path / "draft.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_what_if_counts_and_costs_by_county(tmp_path: Path) -> None:
    rows = random_population(4_000, seed=5, as_of=AS_OF, unknown=0)
    population = write(rows, tmp_path / "pop.parquet")
    current = rules_from_document(parse_standard_file(MINI).document)
    draft = rules_from_document(parse_standard_file(draft_file(tmp_path)).document)
    report = what_if(in_force=current, draft=draft, population=population, as_of=AS_OF, work=tmp_path / "w")

    # The same numbers, person by person, through the one-resident path.
    def tally(rules: list) -> tuple[int, Decimal]:  # type: ignore[type-arg]
        people, cost = 0, Decimal(0)
        for row in rows:
            [r] = explain(row, rules=rules, as_of=AS_OF)
            if r.status == ELIGIBLE:
                people += 1
                cost += (r.amount or Decimal(0)) * 12
        return people, cost

    totals = report.totals()
    assert (totals.before_people, totals.before_cost) == tally(current)
    assert (totals.after_people, totals.after_cost) == tally(draft)
    assert totals.people_change > 0
    assert totals.cost_change > 0
    assert {r.county for r in report.rows} <= {"331002", "331081"}  # Taizhou hukou only


@pytest.mark.django_db
def test_the_command_prints_and_writes_excel(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("standards", "load", str(MINI))
    population = write(random_population(500, seed=9, as_of=AS_OF, unknown=0), tmp_path / "pop.parquet")
    xlsx = tmp_path / "whatif.xlsx"
    call_command(
        "whatif",
        "--draft",
        str(draft_file(tmp_path)),
        "--population",
        str(population),
        "--as-of",
        "2026-11-29",
        "--xlsx",
        str(xlsx),
    )
    out = capsys.readouterr().out
    assert "What-if for test-home-visits on 2026-11-29" in out
    sheet = load_workbook(xlsx).active
    assert sheet is not None
    assert sheet["A1"].value == "县（市、区）"
    assert sheet.max_row >= 3


def test_a_shared_allowance_is_costed_once_per_person(tmp_path: Path) -> None:
    """Raising home care's one monthly allowance costs the raise once per entitled elder, not once per project."""
    raise_by = 20
    population = write(random_population(3_000, seed=11, as_of=AS_OF, unknown=0), tmp_path / "pop.parquet")
    data, _ = read_yaml(HOME_CARE.read_text(encoding="utf-8"))
    [subsidy] = [p for p in data["parameters"] if p["id"] == "hc-monthly-subsidy"]
    in_force = subsidy["values"][-1]
    assert in_force["effective_from"] <= AS_OF
    # Every band but the disability add-on, so greatest(band, band) rises by exactly raise_by for everyone.
    raised = {band: v + raise_by if band != "disability-addon" else v for band, v in in_force["value"].items()}
    subsidy["values"].append({"effective_from": dt.date(2026, 1, 1), "value": raised})
    current = rules_from_document(parse_standard_file(HOME_CARE).document)
    draft = rules_from_document(StandardDocument.model_validate(data))

    report = what_if(in_force=current, draft=draft, population=population, as_of=AS_OF, work=tmp_path / "w")

    # Entitled to the allowance (5.1, 5.2), from the population file alone: Taizhou hukou, living in Taizhou, 80 or
    # over, or 60 or over with a low-income status.
    def age(born: dt.date) -> int:
        return AS_OF.year - born.year - ((AS_OF.month, AS_OF.day) < (born.month, born.day))

    entitled = sum(
        1
        for p in pq.read_table(population).to_pylist()
        if p["hukou_area"].startswith("3310")
        and p["residence_area"].startswith("3310")
        and (age(p["birth_date"]) >= 80 or (age(p["birth_date"]) >= 60 and p["low_income_status"] != "none"))
    )
    assert entitled > 100
    allowance = [r for r in report.rows if r.item == "hc-monthly-allowance"]
    assert allowance, "one row per county for the shared allowance"
    assert not [r for r in report.rows if r.item in {"hc-meals", "hc-rehab-care"}]
    assert {r.label for r in allowance} == {"助餐服务等10项共用额度"}
    assert sum(r.after_people for r in allowance) == sum(r.before_people for r in allowance) == entitled
    assert report.totals().cost_change == sum(r.cost_change for r in allowance) == entitled * raise_by * 12
    # The packages are bought by the elders themselves: people are counted, the public cost is nothing.
    packages = [r for r in report.rows if r.item.startswith("hc-package-")]
    assert sum(r.after_people for r in packages) > 0
    assert sum(r.after_cost + r.before_cost for r in packages) == 0
    # And the allowance itself, once a person: hc-rehab-care's group is within hc-meals', at the same amount.
    [meals] = [r for r in current if r.item == "hc-meals"]
    results = [explain(p, rules=[meals], as_of=AS_OF)[0] for p in pq.read_table(population).to_pylist()]
    assert sum(r.before_cost for r in allowance) == sum(r.amount * 12 for r in results if r.amount is not None)
