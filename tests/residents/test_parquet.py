"""Loading the synthetic population from Parquet: the contract's columns and types, a batch per transaction."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fuwu.common.models import AuditLog
from fuwu.eligibility.facts import BASE_FACTS, FactType
from fuwu.residents import crypto, idnumber
from fuwu.residents.loading import PARQUET_COLUMNS, LoadError
from fuwu.residents.loading import persons_load as persons_load_parquet
from fuwu.residents.models import Household, Person, PersonImport

pytestmark = pytest.mark.django_db

# The Arrow types `fuwu population generate` writes (decimal income, a narrow grade, date32 birth dates).
ARROW = {
    FactType.BOOLEAN: pa.bool_(),
    FactType.INTEGER: pa.int8(),
    FactType.DECIMAL: pa.decimal128(12, 2),
    FactType.DATE: pa.date32(),
    FactType.TEXT: pa.string(),
    FactType.AREA: pa.string(),
}
SCHEMA = pa.schema(
    [("person_id", pa.int64()), ("household_id", pa.string()), ("name", pa.string()), ("id_number", pa.string())]
    + [(f.name, ARROW[f.type]) for f in BASE_FACTS if f.name != "household_id"]
)


def person(
    n: int, *, household: int | None = None, head: bool = True, village: str = "331002001901", **over: Any
) -> dict[str, Any]:
    born = dt.date(1940, 1, 1) + dt.timedelta(days=97 * n)
    number = idnumber.make(village[:6], born, 2 * (n % 490) + 1)
    row: dict[str, Any] = {
        "person_id": n,
        "household_id": f"{village}{(household if household is not None else n):06d}",
        "name": f"居民{n}",
        "id_number": number.value,
        "birth_date": born,
        "sex": "male",
        "hukou_area": village,
        "hukou_type": "rural",
        "residence_area": village,
        "relation": "head" if head else "child",
        "lives_alone": False,
        "disability_kind": "none",
        "disability_grade": 0,
        "care_need": None,
        "low_income_status": "none",
        "veteran_category": "none",
        "school_stage": "none",
        "boarding": False,
        "fd_hypertension": n % 3 == 0,
        "fd_diabetes": False,
        "fd_pregnant": False,
        "fd_severe_mental": False,
        "house_grade": "B",
        "income": Decimal("12345.67"),
    }
    row.update(over)
    return row


def write(path: Path, rows: list[dict[str, Any]], schema: pa.Schema = SCHEMA) -> Path:
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    return path


def test_contract_columns_are_the_generators() -> None:
    assert SCHEMA.names == [
        "person_id",
        "household_id",
        "name",
        "id_number",
        *[f.name for f in BASE_FACTS if f.name != "household_id"],
    ]
    assert set(PARQUET_COLUMNS) == set(SCHEMA.names)


INDEX_WORK = re.compile(r"\bINDEX\b|pg_indexes|maintenance_work_mem|SET CONSTRAINTS|SAVEPOINT")


def test_load_in_batches(tmp_path: Path, areas: object) -> None:
    rows = [person(n, household=n // 2, head=n % 2 == 0) for n in range(1, 12)]
    rows[3]["care_need"] = "mild"
    with CaptureQueriesContext(connection) as queries:
        report = persons_load_parquet(path=write(tmp_path / "p.parquet", rows), actor=None, batch_size=4)
    assert (report.record.rows, report.record.created, report.record.outcome) == (11, 11, "imported")
    # A handful of queries per batch of 4 (with its checkpoint), never one per person. On PostgreSQL a first
    # load also puts aside and rebuilds the secondary indexes: a fixed number of statements per index
    # (tests/residents/test_deferred_indexes.py), left out of this count.
    per_batch = [q for q in queries.captured_queries if not INDEX_WORK.search(q["sql"])]
    assert len(per_batch) < 3 * 16
    loaded = Person.objects.get(source_id="4")
    assert crypto.decrypt(loaded.id_number_encrypted, lookup=loaded.id_number_hash).value == rows[3]["id_number"]
    assert (loaded.care_need, loaded.income, loaded.birth_date, loaded.disability_grade) == (
        "mild",
        Decimal("12345.67"),
        rows[3]["birth_date"],
        0,
    )
    assert Household.objects.count() == 6
    assert Person.objects.filter(relation="head").count() == 5  # household 0 has only a child
    assert AuditLog.objects.filter(event="persons.loaded").count() == 1
    # Again: the same people, updated in place, nothing added.
    again = persons_load_parquet(path=tmp_path / "p.parquet", actor=None, batch_size=4)
    assert (again.record.created, again.record.unchanged) == (0, 11)
    assert Person.objects.count() == 11


def test_limit(tmp_path: Path, areas: object, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "p.parquet", [person(n) for n in range(1, 8)])
    call_command("residents", "load-parquet", str(path), "--limit", "5")
    assert Person.objects.count() == 5
    assert "5 persons: 5 created" in capsys.readouterr().out


def test_a_bad_row_loads_nothing_and_is_reported(tmp_path: Path, areas: object) -> None:
    rows = [person(n) for n in range(1, 10)]
    rows[6]["id_number"] = rows[6]["id_number"][:-1] + ("0" if rows[6]["id_number"][-1] != "0" else "1")
    rows[7]["sex"] = "female"
    rows[8]["id_number"] = rows[1]["id_number"]  # a duplicate of a row in an earlier batch
    rows[8]["birth_date"] = rows[1]["birth_date"]
    with pytest.raises(LoadError) as info:
        persons_load_parquet(path=write(tmp_path / "p.parquet", rows), actor=None, batch_size=3)
    text = [str(e) for e in info.value.errors]
    assert text[0].startswith("row 7, id_number: the check character is")
    assert text[1].startswith("row 8, sex: female but the identity number's 17th digit")
    assert text[2] == (
        "row 9, id_number: the same number as an earlier row (person_id 2); "
        "each resident appears once; delete the duplicate or correct the number"
    )
    # A batch per transaction: the two whole batches before the problem's batch stay, nothing from it on.
    assert Person.objects.count() == 6
    record = PersonImport.objects.get()
    assert (record.outcome, record.rows, record.rows_done, record.created, record.rejected) == ("partial", 9, 9, 6, 3)
    assert info.value.record == record
    assert [e["row"] for e in record.errors] == [7, 8, 9]


def test_two_heads_across_batches_are_caught(tmp_path: Path, areas: object) -> None:
    rows = [person(1, household=1), person(2, household=2), person(3, household=1)]
    with pytest.raises(LoadError, match="already has a head"):
        persons_load_parquet(path=write(tmp_path / "p.parquet", rows), actor=None, batch_size=2)


def test_a_missing_column_is_named(tmp_path: Path, areas: object) -> None:
    schema = pa.schema([f for f in SCHEMA if f.name != "house_grade"])
    rows = [{k: v for k, v in person(1).items() if k != "house_grade"}]
    with pytest.raises(LoadError, match="file, house_grade: the column is missing"):
        persons_load_parquet(path=write(tmp_path / "p.parquet", rows, schema), actor=None)
    with pytest.raises(CommandError, match="nothing was loaded"):
        call_command("residents", "load-parquet", str(tmp_path / "p.parquet"))


def test_a_population_over_another_is_refused(tmp_path: Path, areas: object) -> None:
    persons_load_parquet(path=write(tmp_path / "a.parquet", [person(1)]), actor=None)
    other = person(2)
    other["person_id"] = 1  # a new seed reuses person_id 1 for someone else
    with pytest.raises(LoadError, match="person_id 1 already belongs to another resident"):
        persons_load_parquet(path=write(tmp_path / "b.parquet", [other]), actor=None)
