"""The words of the rules, as residents read them: no internal terms, and modelled readings marked."""

from __future__ import annotations

import re

import pytest

from fuwu.standards.parsing import parse_many
from fuwu.standards.schema import walk_clauses
from tests.conftest import REPO

PARSED = parse_many([REPO / "standards"])
INTERNAL = re.compile(
    r"区划代码|3310|事实词表|词表|未建模|建模|即为真|判断）|vocabulary|area code|modell?ed|\bexpr\b|NULL|TRUE|FALSE"
)


def criteria() -> list[object]:
    out = []
    for parsed in PARSED:
        for item in parsed.document.items:
            rule = item.target_group.rule
            for name, criterion in rule.criteria.items() if rule else ():
                assert criterion.text is not None, f"{item.id}/{name} has no text for residents"
                out.append(
                    pytest.param(item.id, name, criterion.text.zh, criterion.text.en or "", id=f"{item.id}/{name}")
                )
    return out


@pytest.mark.parametrize(("item", "name", "zh", "en"), criteria())
def test_every_criterion_speaks_to_residents(item: str, name: str, zh: str, en: str) -> None:
    assert not INTERNAL.findall(zh), (item, name, zh)
    assert not INTERNAL.findall(en), (item, name, en)
    assert en, f"{item}/{name} has no English"


def test_home_care_clause_5_2_5_is_marked_modelled() -> None:
    # The press report says every resident aged 80 or over; "户籍" (registered in Taizhou) is fuwu's reading.
    [home_care] = [p.document for p in PARSED if p.document.id == "taizhou-home-care"]
    [clause] = [c for c in walk_clauses(home_care.clauses) if c.number == "5.2.5"]
    assert clause.text is not None
    assert "户籍" in clause.text.zh
    assert clause.modeled
