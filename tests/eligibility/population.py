"""A small random population for engine tests: every fact, boundary dates, and some unknowns.

Unlike the realistic generator (``fuwu population generate``), this one aims at
the corners where engines could disagree: birthdays on the as-of date and on
29 February, amounts that round at half a fen, and facts left unknown.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from fuwu.eligibility.facts import BASE_FACTS, FactType

ARROW = {
    FactType.BOOLEAN: pa.bool_(),
    FactType.INTEGER: pa.int32(),
    FactType.DECIMAL: pa.decimal128(12, 2),
    FactType.DATE: pa.date32(),
    FactType.TEXT: pa.string(),
    FactType.AREA: pa.string(),
}
SCHEMA = pa.schema(
    [("person_id", pa.int64()), ("household_id", pa.string())]
    + [(f.name, ARROW[f.type]) for f in BASE_FACTS if f.name != "household_id"]
)
AREAS = ["331002001901", "331002001902", "331081100901", "330102001901"]  # three in Taizhou, one in Hangzhou


def _birth(rng: random.Random, as_of: dt.date) -> dt.date:
    corner = rng.random()
    if corner < 0.1:  # a birthday today, at a threshold age
        age = rng.choice([3, 6, 16, 60, 65, 70, 80, 90, 100])
        return as_of.replace(year=as_of.year - age)
    if corner < 0.15:
        return dt.date(rng.choice([1936, 1940, 1944, 1948, 2020]), 2, 29)
    return as_of - dt.timedelta(days=rng.randint(0, 105 * 365))


def person(rng: random.Random, person_id: int, household_id: str, as_of: dt.date, unknown: float) -> dict[str, Any]:
    row: dict[str, Any] = {"person_id": person_id, "household_id": household_id}
    for fact in BASE_FACTS:
        if fact.name == "household_id":
            continue
        if rng.random() < unknown:
            row[fact.name] = None
            continue
        if fact.type == FactType.DATE:
            row[fact.name] = _birth(rng, as_of)
        elif fact.type == FactType.BOOLEAN:
            row[fact.name] = rng.random() < 0.2
        elif fact.type == FactType.INTEGER:
            row[fact.name] = rng.choice([0, 0, 0, 1, 2, 3, 4])
        elif fact.type == FactType.DECIMAL:
            row[fact.name] = Decimal(rng.randint(0, 12_000_000)) / 100
        elif fact.type == FactType.AREA:
            row[fact.name] = rng.choice(AREAS)
        else:
            # "none" more often than not, as in life.
            row[fact.name] = "none" if "none" in fact.allowed and rng.random() < 0.5 else rng.choice(fact.allowed)
    return row


def random_population(n: int, *, seed: int, as_of: dt.date, unknown: float = 0.03) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    household = 0
    while len(rows) < n:
        household += 1
        for _ in range(min(rng.choice([1, 1, 2, 2, 3, 4, 5]), n - len(rows))):
            rows.append(person(rng, len(rows) + 1, f"H{household:07d}", as_of, unknown))
    return rows


def write(rows: list[dict[str, Any]], path: Path) -> Path:
    pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), path)
    return path
