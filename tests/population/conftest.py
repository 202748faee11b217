from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
from django.conf import settings

from fuwu.population.generate import generate
from fuwu.population.parameters import DEFAULT_AS_OF

AREAS = Path(settings.AREAS_DIR) / "taizhou.yaml"
SIZE = 200_000


def make(path: Path, *, size: int, seed: int) -> Path:
    generate(size=size, seed=seed, out=path, areas_path=AREAS)
    return path


@pytest.fixture(scope="session")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One 200,000-person file shared by the tests that only read it (generating takes a few seconds)."""
    return make(tmp_path_factory.mktemp("population") / "pop.parquet", size=SIZE, seed=7)


@pytest.fixture(scope="session")
def sql(population: Path) -> Any:
    """Run SQL over the population as view ``p``, with ``age`` in full years on the default as-of date."""
    con = duckdb.connect()
    # Full years (周岁) as facts.py defines them: one more on each birthday.
    age = (
        f"date_diff('year', birth_date, DATE '{DEFAULT_AS_OF}')"
        f" - CASE WHEN strftime(birth_date, '%m%d') > '{DEFAULT_AS_OF:%m%d}' THEN 1 ELSE 0 END"
    )
    con.execute(f"CREATE VIEW p AS SELECT *, {age} AS age FROM read_parquet('{population}')")  # noqa: S608

    def run(query: str) -> list[tuple[Any, ...]]:
        return con.execute(query).fetchall()

    return run
