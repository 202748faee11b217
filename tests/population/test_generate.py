"""The file's contract: reproducible, the facts vocabulary's columns and values, valid identifiers."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fuwu.areas.models import Area, AreaLevel
from fuwu.areas.services import GENERATED_FROM, areas_load
from fuwu.eligibility import facts
from fuwu.population.areas import county_sizes, read_townships
from fuwu.residents import idnumber
from tests.population.conftest import AREAS, make

Sql = Callable[[str], list[tuple[Any, ...]]]

# What each kind of fact must be in Arrow. Written out here, not imported, so that a fact added to
# facts.py without a column (or with the wrong type) in the generator fails this test.
ARROW_FOR = {
    facts.FactType.BOOLEAN: pa.bool_(),
    facts.FactType.DECIMAL: pa.decimal128(12, 2),
    facts.FactType.DATE: pa.date32(),
    facts.FactType.TEXT: pa.string(),
    facts.FactType.AREA: pa.string(),
}


def test_same_seed_same_bytes_other_seed_other_people(tmp_path: Path) -> None:
    first = make(tmp_path / "a.parquet", size=20_000, seed=3)
    second = make(tmp_path / "b.parquet", size=20_000, seed=3)
    other = make(tmp_path / "c.parquet", size=20_000, seed=4)
    assert first.read_bytes() == second.read_bytes()
    assert pq.read_table(first).equals(pq.read_table(second))
    a, c = pq.read_table(first), pq.read_table(other)
    assert a.num_rows == c.num_rows == 20_000
    assert not a.column("id_number").equals(c.column("id_number"))
    assert not a.column("name").equals(c.column("name"))


def test_columns_and_types_follow_the_facts_vocabulary(population: Path) -> None:
    schema = pq.read_schema(population)
    expected = ["person_id", "household_id", "name", "id_number"]
    expected += [f.name for f in facts.BASE_FACTS if f.name != "household_id"]
    assert schema.names == expected
    assert schema.field("person_id").type == pa.int64()
    for name in ("household_id", "name", "id_number"):
        assert schema.field(name).type == pa.string()
    for fact in facts.BASE_FACTS:
        actual = schema.field(fact.name).type
        if fact.type == facts.FactType.INTEGER:
            assert pa.types.is_integer(actual), fact.name
        else:
            assert actual == ARROW_FOR[fact.type], fact.name
    assert schema.field("disability_grade").type == pa.int8()


def test_values_come_from_the_vocabularies_and_null_means_unknown(population: Path, sql: Sql) -> None:
    table = pq.read_table(population)
    for fact in facts.BASE_FACTS:
        column = table.column(fact.name)
        if fact.allowed:
            values = set(column.drop_null().unique().to_pylist())
            assert values <= set(fact.allowed), (fact.name, values - set(fact.allowed))
        # facts.py: "does not apply" is an explicit value; null is only for what is unknown.
        if fact.name != "care_need":
            assert column.null_count == 0, fact.name
    assert table.column("person_id").to_pylist() == list(range(1, table.num_rows + 1))
    # Only people never assessed have an unknown care need: every elder has been.
    assert sql("SELECT count(*) FROM p WHERE care_need IS NULL AND age >= 60") == [(0,)]
    assert sql("SELECT count(*) FROM p WHERE care_need IS NULL")[0][0] > 0.7 * table.num_rows


def test_areas_are_generated_village_codes(population: Path, sql: Sql) -> None:
    villages = {
        f"{township}{GENERATED_FROM + n:03d}"
        for townships in read_townships(AREAS).values()
        for township, _ in townships
        for n in range(2)
    }
    hukou = {row[0] for row in sql("SELECT DISTINCT hukou_area FROM p")}
    residence = {row[0] for row in sql("SELECT DISTINCT residence_area FROM p")}
    assert hukou <= villages
    assert residence <= villages
    assert len(hukou) > 0.9 * len(villages)  # people live all over the city


@pytest.mark.django_db
def test_every_area_exists_once_the_demo_areas_are_loaded(tmp_path: Path) -> None:
    areas_load(path=AREAS, villages_per_township=2)  # what `make demo` does
    table = pq.read_table(make(tmp_path / "p.parquet", size=5_000, seed=1), columns=["hukou_area", "residence_area"])
    codes = set(table.column("hukou_area").to_pylist()) | set(table.column("residence_area").to_pylist())
    known = set(Area.objects.filter(level=AreaLevel.VILLAGE, code__in=codes).values_list("code", flat=True))
    assert codes == known


def test_identity_numbers_are_valid_unique_and_agree_with_the_row(population: Path) -> None:
    table = pq.read_table(population, columns=["id_number", "birth_date", "sex", "hukou_area"])
    ids = table.column("id_number").to_pylist()
    births = table.column("birth_date").to_pylist()
    sexes = table.column("sex").to_pylist()
    areas = table.column("hukou_area").to_pylist()
    assert len(set(ids)) == len(ids)
    for value, birth, sex, area in zip(ids, births, sexes, areas, strict=True):
        parsed = idnumber.parse(value)
        assert (parsed.birth_date, parsed.sex, parsed.area_code) == (birth, sex, area[:6]), value
    # The vectorised digits are exactly what idnumber.make builds.
    for i in random.Random(0).sample(range(len(ids)), 2_000):
        assert idnumber.make(areas[i][:6], births[i], int(ids[i][14:17])).value == ids[i]


def test_household_ids_name_the_hukou_village(sql: Sql) -> None:
    assert sql("SELECT count(*) FROM p WHERE NOT starts_with(household_id, hukou_area)") == [(0,)]
    assert sql("SELECT count(*) FROM p WHERE length(household_id) <> 18") == [(0,)]


def test_names_are_chinese_surname_and_given_name(sql: Sql) -> None:
    lengths = dict(sql("SELECT length(name), count(*) FROM p GROUP BY 1"))
    assert set(lengths) <= {2, 3}
    assert lengths[3] > lengths[2]  # two-character given names are the more common
    # Children of a male head carry his surname.
    mismatched, children = sql(
        "SELECT count(*) FILTER (WHERE left(c.name, 1) <> left(h.name, 1)), count(*) FROM p c"
        " JOIN p h ON h.household_id = c.household_id AND h.relation = 'head'"
        " WHERE c.relation = 'child' AND h.sex = 'male'"
    )[0]
    assert mismatched == 0
    assert children > 10_000


@pytest.mark.parametrize("size", [1, 2, 8, 9, 10, 999, 200_001, 6_622_888])
def test_county_sizes_add_up_to_the_size(size: int) -> None:
    sizes = county_sizes(size)
    assert sum(sizes) == size
    assert min(sizes) >= 0


def test_a_tiny_population_is_still_whole_households(tmp_path: Path) -> None:
    table = pq.read_table(make(tmp_path / "tiny.parquet", size=7, seed=1))
    assert table.num_rows == 7
    assert "head" in table.column("relation").to_pylist()


def test_as_of_moves_the_birth_dates(tmp_path: Path) -> None:
    from fuwu.population.generate import generate

    path = tmp_path / "then.parquet"
    generate(size=2_000, seed=1, out=path, areas_path=AREAS, as_of=dt.date(2021, 1, 1))
    births = pq.read_table(path, columns=["birth_date"]).column("birth_date").to_pylist()
    assert max(births) <= dt.date(2021, 1, 1)
    assert pq.read_metadata(path).metadata[b"fuwu.population"].startswith(b'{"as_of": "2021-01-01"')
