"""Checklists come from the standard's clauses alone: per clause kind, per institution kind, per version in force."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from fuwu.compliance import checklists
from fuwu.compliance.models import InspectionStatus
from fuwu.compliance.services.inspections import inspection_sign
from fuwu.standards.models import StandardVersion
from fuwu.standards.parsing import parse_many
from fuwu.standards.schema import walk_clauses
from fuwu.standards.services import standards_load
from tests.compliance.conftest import FIRE, TAIZHOU, TODAY, VETERANS, World, fill, parsed, started


def version(key: str) -> StandardVersion:
    return StandardVersion.objects.get(standard__key=key, status="published")


def numbers(entries: tuple[checklists.Entry, ...]) -> list[str]:
    return [e.clause_number for e in entries]


def test_kinds_come_from_the_standards_in_force(world: World) -> None:
    kinds = checklists.kinds_in_force()
    assert list(kinds) == [
        "village-fire-safety",
        "micro-fire-station",
        "veterans-service-centre",
        "veterans-station-township",
        "veterans-station-village",
    ]
    assert kinds["micro-fire-station"].name_zh == "村级微型消防站"
    assert kinds["veterans-station-village"].level == "village"
    assert kinds["veterans-service-centre"].standards == (VETERANS,)


@pytest.mark.django_db
def test_a_checklist_has_every_assessed_requirement_and_recommendation_and_nothing_else() -> None:
    standards_load(parsed=parsed(VETERANS), actor=None)
    document = parsed(VETERANS)[0].document
    entries = checklists.checklist(version(VETERANS), "veterans-station-village")
    by_number = {e.clause_number: e for e in entries}
    for clause in walk_clauses(document.clauses):
        a = clause.assessment
        expected = (
            clause.kind in ("requirement", "recommendation")
            and a is not None
            and a.not_assessed is None
            and (not a.applies_to or "veterans-station-village" in a.applies_to)
        )
        assert (clause.number in by_number) == expected, clause.number
    # Per clause kind: a requirement may be critical; a recommendation is on the list but never critical;
    # a statement (3.1), a requirement on the department (9.3) and one for county centres only (5.1) are not.
    assert by_number["5.3"].clause_kind == "requirement"
    assert by_number["5.3"].critical
    assert by_number["5.5"].clause_kind == "recommendation"
    assert not by_number["5.5"].critical
    assert {"3.1", "9.3", "5.1", "5.2", "6.1"}.isdisjoint(by_number)
    assert numbers(entries) == sorted(numbers(entries), key=lambda n: [int(p) for p in n.split(".")])
    assert [e.position for e in entries] == list(range(1, len(entries) + 1))


@pytest.mark.django_db
def test_each_kind_gets_its_own_clauses_with_the_standards_numbers_and_deadlines() -> None:
    standards_load(parsed=parsed(VETERANS, FIRE), actor=None)
    centre = {e.clause_number: e for e in checklists.checklist(version(VETERANS), "veterans-service-centre")}
    assert "5.1" in centre
    assert "5.3" not in centre
    area = centre["5.1"]
    assert (area.method, area.evidence, area.at_least, area.unit_zh) == ("on_site", ("photo", "number"), 100, "平方米")
    assert area.rectification_days == 15  # the grading's default
    fire = {e.clause_number: e for e in checklists.checklist(version(FIRE), "village-fire-safety")}
    assert fire["5.2"].rectification_days == 5  # the clause's own
    assert "4.1" not in fire  # binds the township: not assessed
    # A standard does not give a checklist for a kind it does not govern.
    assert checklists.checklist(version(FIRE), "veterans-service-centre") == ()


def _revise(tmp_path: Path, *, effective_on: str) -> None:
    """Version 2 of the veterans' standard: 5.3 is no longer critical and 5.5 is gone from the checklist."""
    text = (TAIZHOU / f"{VETERANS}.yaml").read_text(encoding="utf-8")
    text = text.replace("  effective_on: 2021-11-29\n", f"  effective_on: {effective_on}\n")
    text = text.replace("  issued_on: 2021-10-29\n", "  issued_on: 2026-06-01\n")
    text = text.replace('number: "DB3310/T 83—2021"', 'number: "DB3310/T 83—2026"')
    start = text.index('      - number: "5.3"')
    block_end = text.index('      - number: "5.4"')
    block = text[start:block_end].replace("          critical: true\n", "")
    text = text[:start] + block + text[block_end:]
    start = text.index('      - number: "5.5"')
    end = text.index("        text:", start)
    text = text[:start] + text[start:end].split("        assessment:")[0] + text[end:]
    path = tmp_path / f"{VETERANS}.yaml"
    path.write_text(text, encoding="utf-8")
    standards_load(parsed=parse_many([path]), actor=None)


def test_a_new_version_gives_new_checklists_and_leaves_finished_inspections_as_they_were(
    world: World, tmp_path: Path
) -> None:
    before = started(world, "hemei")
    fill(before, world.inspectors[0].user)
    inspection_sign(actor=world.inspectors[0].user, inspection=before)
    old = {i.clause_number: i for i in before.items.all()}
    assert old["5.3"].critical
    assert "5.5" in old

    _revise(tmp_path, effective_on="2026-12-01")
    v1, v2 = StandardVersion.objects.filter(standard__key=VETERANS).order_by("number")
    assert (v1.status, v2.status) == ("revised", "published")

    # Before version 2 takes effect the old one is still the one in force; from that day, the new one.
    assert checklists.version_on(standard=v1.standard, day=dt.date(2026, 11, 30)) == v1
    assert checklists.version_on(standard=v1.standard, day=dt.date(2026, 12, 1)) == v2
    assert checklists.version_on(standard=v1.standard, day=dt.date(2021, 11, 28)) is None
    early = started(world, "xingfu", day=dt.date(2026, 11, 30))
    assert early.version == v1
    late = started(world, "haimen", day=dt.date(2026, 12, 2))
    assert late.version == v2
    new = {i.clause_number: i for i in checklists.checklist(v2, "veterans-station-village")}
    assert not new["5.3"].critical
    assert "5.5" not in new

    # The finished inspection is untouched: its items, version, score and grade.
    before.refresh_from_db()
    assert before.status == InspectionStatus.SIGNED
    assert before.version == v1
    assert {i.clause_number: i.critical for i in before.items.all()} == {n: i.critical for n, i in old.items()}


def test_the_checklist_is_read_once_per_version(world: World, django_assert_max_num_queries: object) -> None:
    v = version(VETERANS)
    checklists.checklist(v, "veterans-station-village")
    with django_assert_max_num_queries(0):  # type: ignore[operator]
        checklists.checklist(v, "veterans-station-village")
    assert TODAY.weekday() == 0
