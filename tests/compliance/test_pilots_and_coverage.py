"""Pilots accepted against the standard's thresholds; coverage rolled up village → township → county → city."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from fuwu.compliance.coverage import map_value, rollup, standards_with_kinds
from fuwu.compliance.models import PilotStatus
from fuwu.compliance.services import ComplianceError
from fuwu.compliance.services.inspections import inspection_publish, inspection_sign
from fuwu.compliance.services.pilots import pilot_decide, pilot_designate
from tests.compliance.conftest import TODAY, VETERANS, World, fill, started


def passed_and_published(world: World, name: str, results: dict[str, str] | None = None) -> None:
    inspection = started(world, name)
    fill(inspection, world.user("inspector0"), results=results)
    inspection_sign(actor=world.user("inspector0"), inspection=inspection)
    inspection_publish(actor=world.user("officer"), inspection=inspection)


def test_a_pilot_takes_the_standards_thresholds_and_only_the_standards_office_designates(world: World) -> None:
    veterans, haimen = world.standards[VETERANS], world.areas["331002001"]
    with pytest.raises(PermissionDenied):
        pilot_designate(
            actor=world.user("officer"),
            standard=veterans,
            area=haimen,
            start_on=TODAY,
            accept_by=TODAY + dt.timedelta(days=30),
        )
    with pytest.raises(ComplianceError) as caught:
        pilot_designate(
            actor=world.user("stdoffice"),
            standard=veterans,
            area=world.areas["331002"],
            start_on=TODAY,
            accept_by=TODAY,
        )
    assert caught.value.code == "bad_area"
    pilot = pilot_designate(
        actor=world.user("stdoffice"),
        standard=veterans,
        area=haimen,
        start_on=TODAY,
        accept_by=TODAY + dt.timedelta(days=30),
    )
    assert (pilot.min_average_score, pilot.min_passing_percent) == (Decimal(80), Decimal(100))
    with pytest.raises(ComplianceError) as caught:
        pilot_designate(actor=world.user("stdoffice"), standard=veterans, area=haimen, start_on=TODAY, accept_by=TODAY)
    assert caught.value.code == "already_designated"


def test_a_pilot_is_accepted_only_when_every_institution_passes_well_enough(world: World) -> None:
    stdoffice = world.user("stdoffice")
    pilot = pilot_designate(
        actor=stdoffice,
        standard=world.standards[VETERANS],
        area=world.areas["331002001"],
        start_on=TODAY,
        accept_by=TODAY + dt.timedelta(days=60),
    )
    # 海门街道: its township station and two village stations.
    passed_and_published(world, "haimen")
    passed_and_published(world, "hemei")
    not_yet = pilot_decide(actor=stdoffice, pilot=pilot, today=TODAY)
    assert not_yet.status == PilotStatus.NOT_ACCEPTED
    assert any("幸福社区退役军人服务站" in r for r in not_yet.result["reasons"])
    passed_and_published(world, "xingfu", results={"5.3": "not"})  # a critical failure
    still = pilot_decide(actor=stdoffice, pilot=pilot, today=TODAY)
    assert still.status == PilotStatus.NOT_ACCEPTED
    assert any("合格机构占" in r for r in still.result["reasons"])
    assert len(still.result["institutions"]) == 3


def test_a_pilot_with_every_institution_passing_is_accepted(world: World) -> None:
    stdoffice = world.user("stdoffice")
    pilot = pilot_designate(
        actor=stdoffice,
        standard=world.standards[VETERANS],
        area=world.areas["331002001901"],
        start_on=TODAY,
        accept_by=TODAY + dt.timedelta(days=60),
    )
    passed_and_published(world, "hemei")
    accepted = pilot_decide(actor=stdoffice, pilot=pilot, today=TODAY)
    assert accepted.status == PilotStatus.ACCEPTED
    assert accepted.result["average"] == "100.0"
    with pytest.raises(ComplianceError):
        pilot_decide(actor=stdoffice, pilot=pilot, today=TODAY)


def test_coverage_rolls_up_from_villages_to_the_city(world: World) -> None:
    passed_and_published(world, "hemei")
    passed_and_published(world, "xingfu", results={"5.3": "not"})
    passed_and_published(world, "haimen")
    passed_and_published(world, "centre")
    pilot_designate(
        actor=world.user("stdoffice"),
        standard=world.standards[VETERANS],
        area=world.areas["331002001901"],
        start_on=TODAY,
        accept_by=TODAY,
    )
    [fire, veterans] = rollup(standards_with_kinds())
    assert veterans.key == VETERANS
    assert (veterans.townships_measured, veterans.villages_measured) == (True, True)
    rows = {r.code: r for r in veterans.rows}
    assert rows["331002001901"].covered is True  # 和美: its station passed
    assert rows["331002001901"].pilot == "designated"
    assert rows["331002001902"].covered is False  # 幸福: its station failed
    assert rows["331002002901"].covered is False  # no station at all
    assert rows["331002001"].covered is False  # 海门街道: one of its stations failed
    assert rows["331002002"].covered is False  # 白云街道: its station is not inspected
    jj = rows["331002"]
    assert (jj.institutions, jj.passing) == (5, 3)  # the centre, two township and two village stations
    assert (jj.townships.covered, jj.townships.total) == (0, 2)  # type: ignore[union-attr]
    assert (jj.villages.covered, jj.villages.total) == (1, 3)  # type: ignore[union-attr]
    city = veterans.city
    assert city is not None
    assert (city.villages.covered, city.villages.total) == (1, 4)  # type: ignore[union-attr]
    assert city.villages.percent == Decimal("25.0")  # type: ignore[union-attr]
    assert map_value(jj) == Decimal("33.3")
    # Fire safety governs village kinds only: townships are measured through their villages.
    assert fire.townships_measured
    assert fire.villages_measured
    assert {r.code: r for r in fire.rows}["331002001901"].covered is False  # station not yet inspected
