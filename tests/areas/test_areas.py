from __future__ import annotations

from pathlib import Path

import pytest

from fuwu.areas.models import Area, AreaLevel
from fuwu.areas.services import AreaFileError, areas_load
from fuwu.residents.models import Person
from tests.conftest import REPO

pytestmark = pytest.mark.django_db
TAIZHOU = REPO / "data" / "areas" / "taizhou.yaml"


def test_taizhou_loads_with_nine_counties_and_generated_villages() -> None:
    result = areas_load(path=TAIZHOU, villages_per_township=2)
    city = Area.objects.get(code="331000")
    counties = Area.objects.filter(parent=city)
    assert sorted(c.code for c in counties) == [
        "331002",
        "331003",
        "331004",
        "331022",
        "331023",
        "331024",
        "331081",
        "331082",
        "331083",
    ]
    townships = Area.objects.filter(level=AreaLevel.TOWNSHIP)
    assert townships.count() >= 100
    villages = Area.objects.filter(level=AreaLevel.VILLAGE)
    assert villages.count() == 2 * townships.count() == result.generated
    assert not villages.filter(generated=False).exists()
    assert all(v.code.startswith(v.parent.code) and len(v.code) == 12 for v in villages.select_related("parent"))


def test_loading_twice_changes_nothing() -> None:
    areas_load(path=TAIZHOU)
    before = list(Area.objects.order_by("code").values())
    again = areas_load(path=TAIZHOU)
    assert (again.created, again.generated) == (0, 0)
    assert list(Area.objects.order_by("code").values()) == before


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("areas:\n  - {code: '33100', name: {zh: 台州}, level: city, kind: 市}\n", "should be 6 digits"),
        ("areas:\n  - {code: '331000', name: {zh: 台州}, level: planet, kind: 市}\n", "level 'planet'"),
        ("areas:\n  - {code: '331000', name: {zh: 台州}, level: city}\n", "missing field 'kind'"),
        (
            "areas:\n  - code: '331000'\n    name: {zh: 台州}\n    level: city\n    kind: 市\n    children:\n"
            "      - {code: '332002', name: {zh: 外地}, level: county, kind: 区}\n",
            "does not start with its parent's prefix 3310",
        ),
        ("areas: [\n", "not valid YAML"),
    ],
)
def test_bad_area_files_load_nothing(tmp_path: Path, yaml_text: str, message: str) -> None:
    path = tmp_path / "areas.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    with pytest.raises(AreaFileError, match=message):
        areas_load(path=path)
    assert not Area.objects.exists()


CODES = ["331083001001", "331083999999", "331084000001", "331082999999", "331090000000", "339999999999"]


@pytest.mark.parametrize(
    "prefix", ["331083", "3310839", "331082", "33108", "3310", "3399", "339999999999", "331083001001", "9", ""]
)
def test_code_within_is_exactly_startswith(prefix: str) -> None:
    """The range beside ``startswith`` (for an index to seek to) never leaves a code out: prefixes ending in
    nines carry into the digit before (``3399`` → up to ``3400``), all nines have no upper bound."""
    from fuwu.areas.selectors import code_within
    from tests.residents.factories import PersonFactory

    for code in CODES:
        PersonFactory(hukou_area=code)
    found = sorted(Person.objects.filter(code_within("hukou_area", prefix)).values_list("hukou_area", flat=True))
    assert found == sorted(c for c in CODES if c.startswith(prefix))


def test_code_within_bounds_a_digit_prefix_by_the_next_one() -> None:
    from fuwu.areas.selectors import code_within

    def where(prefix: str) -> str:
        return str(Person.objects.filter(code_within("hukou_area", prefix)).query).replace("'", "").replace('"', "")

    assert "hukou_area >= 331083 AND residents_person.hukou_area < 331084" in where("331083")
    assert "hukou_area < 3400" in where("3399")
    assert "<" not in where("99")
    assert "hukou_area >= 99" in where("99")
