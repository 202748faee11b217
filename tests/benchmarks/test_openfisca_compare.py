"""fuwu's DuckDB screening and a hand-written OpenFisca model agree person by person, and a wrong model is caught."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from benchmarks.openfisca_compare import (
    ITEMS,
    Perturbation,
    build_system,
    compare,
    fuwu_rules,
    generate,
    run_fuwu,
    run_openfisca,
)

PERSONS = 5_000
AS_OF = dt.date(2026, 11, 29)
RULES = fuwu_rules()


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pop") / "population.parquet"
    generate(PERSONS, 20261129, AS_OF, path)
    return path


def side_by_side(population: Path, out: Path, as_of: dt.date, perturb: Perturbation | None = None) -> dict[str, Any]:
    run_fuwu(population, out / "fuwu", as_of=as_of, rules=RULES, partitions=4, threads=2)
    run = run_openfisca(population, as_of=as_of, system=build_system(as_of=as_of, perturb=perturb))
    pq.write_table(run.results, out / "openfisca.parquet")
    return compare(out / "fuwu", out / "openfisca.parquet", persons=PERSONS, items=ITEMS)


def test_both_sides_model_the_same_items() -> None:
    assert len(ITEMS) >= 10
    assert sorted(ITEMS) == sorted(r.item for r in RULES)


@pytest.mark.parametrize("as_of", [AS_OF, dt.date(2026, 6, 30), dt.date(2025, 3, 1)])
def test_openfisca_agrees_with_fuwu(population: Path, tmp_path: Path, as_of: dt.date) -> None:
    result = side_by_side(population, tmp_path, as_of)
    assert result["differences"] == 0, result["examples"]
    assert result["fuwu_rows"] == result["openfisca_rows"]
    # Not vacuous: every item has people on its list.
    assert all(count > 0 for count in result["eligible_by_item"].values()), result["eligible_by_item"]


def test_the_parameter_in_force_is_the_one_used(population: Path, tmp_path: Path) -> None:
    # The old-age allowance for 80-89 rose from 60 to 70 yuan on 2026-07-01.
    amounts = {}
    for day in (dt.date(2026, 6, 30), dt.date(2026, 7, 1)):
        table = run_openfisca(population, as_of=day, system=build_system(as_of=day)).results.to_pylist()
        amounts[day] = {r["amount_fen"] for r in table if r["item"] == "old-age-allowance"}
    assert 6000 in amounts[dt.date(2026, 6, 30)]
    assert 7000 not in amounts[dt.date(2026, 6, 30)]
    assert 7000 in amounts[dt.date(2026, 7, 1)]


@pytest.mark.parametrize(
    ("perturb", "item"),
    [
        (("old_age_allowance.80-89", 1.0), "old-age-allowance"),
        (("minimum_allowance_line", 0.01), "minimum-allowance-topup"),
    ],
)
def test_a_perturbed_parameter_is_reported(population: Path, tmp_path: Path, perturb: Perturbation, item: str) -> None:
    result = side_by_side(population, tmp_path, AS_OF, perturb)
    assert result["differences"] > 0
    assert set(result["differences_by_item"]) == {item}
    example = result["examples"][0]
    assert example["item"] == item
    assert example["openfisca_amount_fen"] - example["fuwu_amount_fen"] == round(perturb[1] * 100)
