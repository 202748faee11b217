"""One rule, every engine, same answer.

The one-resident path (Python) and the batch engines (DuckDB, PostgreSQL,
Spark) must agree on every (person, item, status, amount, units).
"""

from __future__ import annotations

import datetime as dt
import os
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuwu.eligibility import screening
from fuwu.eligibility.explain import NOT_ELIGIBLE, explain
from fuwu.eligibility.ruleset import ItemRule, rules_from_document
from fuwu.standards.parsing import parse_many
from tests.conftest import MINI, REPO
from tests.eligibility.population import random_population, write

AS_OF = dt.date(2026, 11, 29)
Key = tuple[int, str]


def all_rules() -> list[ItemRule]:
    rules: list[ItemRule] = []
    for p in parse_many([REPO / "standards", MINI]):
        rules += rules_from_document(p.document, version=1, content_hash=p.content_hash)
    return rules


RULES = all_rules()


def python_answers(rows: list[dict[str, Any]], rules: list[ItemRule], as_of: dt.date) -> dict[Key, tuple[Any, ...]]:
    households: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        households[row["household_id"]].append(row)
    out: dict[Key, tuple[Any, ...]] = {}
    for row in rows:
        for r in explain(row, rules=rules, as_of=as_of, household=households[row["household_id"]]):
            if r.status != NOT_ELIGIBLE:
                out[(row["person_id"], r.item)] = (r.status, r.amount, r.units)
    return out


def engine_answers(
    engine_name: str, population: Path, out: Path, rules: list[ItemRule], as_of: dt.date
) -> dict[Key, tuple[Any, ...]]:
    plan = screening.Plan(engine=engine_name, as_of=as_of, population=population, out=out, partitions=3, rules=rules)
    engine: screening.Engine
    if engine_name == "duckdb":
        engine = screening.DuckDBEngine(plan, threads=2)
    elif engine_name == "postgres":
        engine = screening.PostgresEngine(plan, dsn=postgres_dsn())
    else:
        engine = screening.SparkEngine(plan, master="local[2]")
    screening.run(plan, engine, fresh=True)
    table = screening.read_results(out).to_pylist()
    return {(r["person_id"], r["item"]): (r["status"], r["amount"], r["units"]) for r in table}


def postgres_dsn() -> str:
    return os.environ.get("FUWU_TEST_POSTGRES", "host=127.0.0.1 port=5432 user=postgres dbname=postgres")


def postgres_available() -> bool:
    try:
        import psycopg

        psycopg.connect(postgres_dsn(), connect_timeout=2).close()
    except Exception:
        return False
    return True


def differences(a: dict[Key, Any], b: dict[Key, Any]) -> list[Any]:
    keys = sorted(set(a) | set(b))
    return [(k, a.get(k), b.get(k)) for k in keys if a.get(k) != b.get(k)][:10]


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict[str, Any]], Path]:
    rows = random_population(10_000, seed=20261129, as_of=AS_OF)
    return rows, write(rows, tmp_path_factory.mktemp("pop") / "population.parquet")


@pytest.fixture(scope="module")
def expected(population: tuple[list[dict[str, Any]], Path]) -> dict[Key, tuple[Any, ...]]:
    return python_answers(population[0], RULES, AS_OF)


def test_the_rules_cover_many_items() -> None:
    assert len(RULES) >= 1


def test_duckdb_agrees_with_python(population: Any, expected: Any, tmp_path: Path) -> None:
    got = engine_answers("duckdb", population[1], tmp_path / "out", RULES, AS_OF)
    assert got == expected, differences(expected, got)
    assert any(v[0] == "unknown" for v in got.values())
    assert any(v[1] is not None for v in got.values())


@pytest.mark.skipif(not postgres_available(), reason="PostgreSQL not reachable")
def test_postgres_agrees_with_python(population: Any, expected: Any, tmp_path: Path) -> None:
    got = engine_answers("postgres", population[1], tmp_path / "out", RULES, AS_OF)
    assert got == expected, differences(expected, got)


def test_spark_agrees_with_python(population: Any, expected: Any, tmp_path: Path) -> None:
    got = engine_answers("spark", population[1], tmp_path / "out", RULES, AS_OF)
    assert got == expected, differences(expected, got)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(0, 2**32 - 1),
    as_of=st.dates(dt.date(2020, 1, 1), dt.date(2030, 12, 31)),
    unknown=st.sampled_from([0.0, 0.1, 0.5]),
)
def test_duckdb_agrees_at_the_boundaries(seed: int, as_of: dt.date, unknown: float, tmp_path: Path) -> None:
    rows = random_population(60, seed=seed, as_of=as_of, unknown=unknown)
    population = write(rows, tmp_path / f"pop-{seed}.parquet")
    got = engine_answers("duckdb", population, tmp_path / f"out-{seed}", RULES, as_of)
    want = python_answers(rows, RULES, as_of)
    assert got == want, differences(want, got)


def test_amounts_are_decimal_fen() -> None:
    rows = random_population(200, seed=7, as_of=AS_OF, unknown=0)
    for status, amount, _ in python_answers(rows, RULES, AS_OF).values():
        if amount is not None:
            assert status == "eligible"
            assert amount == amount.quantize(Decimal("0.01"))
