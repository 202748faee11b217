"""双随机: reproducible from the seed, stratified by kind and county, conflicts kept out, never redrawn silently."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from fuwu.common.models import AuditLog
from fuwu.compliance import draw as drawing
from fuwu.compliance.draw import Frame, PoolMember, draw, quota, rank
from fuwu.compliance.models import Conflict, Draw, DrawStatus, Inspection, InspectionStatus
from fuwu.compliance.services import ComplianceError
from fuwu.compliance.services.draws import draw_make, draw_publish, draw_redo, draw_verify, parse_ratios
from fuwu.compliance.services.inspections import inspection_start
from tests.compliance.conftest import TODAY, World

PERIOD = (dt.date(2026, 12, 1), dt.date(2026, 12, 31))


def frame(**changes: object) -> Frame:
    base = {
        "strata": {
            "station|331002": list(range(1, 21)),
            "station|331003": list(range(21, 31)),
            "centre|331002": [31],
        },
        "ratios": {"station": Decimal("0.2"), "centre": Decimal(1)},
        "pool": [PoolMember(i, "3310", None) for i in range(100, 106)],
        "conflicts": frozenset(),
    }
    base.update(changes)
    return Frame(**base)  # type: ignore[arg-type]


def test_the_same_seed_gives_the_same_picks_and_another_seed_others() -> None:
    first, _ = draw(frame(), "12345")
    again, _ = draw(Frame.from_json(frame().as_json()), "12345")
    assert first == again
    other, _ = draw(frame(), "54321")
    assert [p.institution for p in other] != [p.institution for p in first]


def test_each_stratum_gives_its_quota() -> None:
    picks, shortages = draw(frame(), "7")
    assert shortages == []
    per_stratum: dict[str, int] = {}
    for p in picks:
        per_stratum[p.stratum] = per_stratum.get(p.stratum, 0) + 1
    # ceil(20% of 20) = 4, ceil(20% of 10) = 2, the one centre always.
    assert per_stratum == {"station|331002": 4, "station|331003": 2, "centre|331002": 1}
    assert quota(Decimal("0.15"), 10) == 2
    assert quota(Decimal(0), 10) == 0
    assert quota(Decimal(1), 3) == 3


def test_a_pick_is_checkable_by_hand_with_sha256() -> None:
    picks, _ = draw(frame(), "2026")
    stratum = sorted(range(21, 31), key=lambda i: hashlib.sha256(f"2026|station|331003|{i}".encode()).hexdigest())
    assert sorted(p.institution for p in picks if p.stratum == "station|331003") == sorted(stratum[:2])
    assert rank("2026", "station|331003", 21) == hashlib.sha256(b"2026|station|331003|21").hexdigest()


def test_inspectors_are_a_pair_never_from_the_institution_or_conflicted() -> None:
    pool = [
        PoolMember(100, "3310", 5),
        PoolMember(101, "3310", None),
        PoolMember(102, "331002", None),
        PoolMember(103, "331003", None),
    ]
    conflicts = frozenset({(101, 7)})
    picks, shortages = draw(
        frame(strata={"station|331002": [5, 7]}, ratios={"station": Decimal(1)}, pool=pool, conflicts=conflicts), "1"
    )
    by = {p.institution: p.inspectors for p in picks}
    assert 100 not in by[5]  # works there
    assert 101 not in by[7]  # declared conflicted
    assert 103 not in by[5]
    assert 103 not in by[7]
    assert by[5][0] != by[5][1]
    assert shortages == []


def test_too_few_eligible_inspectors_is_a_shortage_not_a_lone_inspector() -> None:
    pool = [PoolMember(100, "3310", None), PoolMember(101, "3310", None)]
    picks, shortages = draw(
        frame(
            strata={"station|331002": [5]}, ratios={"station": Decimal(1)}, pool=pool, conflicts=frozenset({(101, 5)})
        ),
        "1",
    )
    assert picks == []
    assert shortages == [drawing.Shortage(5, "station|331002", 1)]


# --- the service -----------------------------------------------------------------------------------------------


def make(world: World, **options: object) -> Draw:
    ratios = options.pop("ratios", {"veterans-station-village": Decimal(1), "veterans-station-township": Decimal(1)})
    return draw_make(
        actor=world.user("officer"),
        area=world.areas["331002"],
        period_start=PERIOD[0],
        period_end=PERIOD[1],
        ratios=ratios,
        **options,  # type: ignore[arg-type]
    )


def test_a_draw_records_its_frame_and_seed_and_plans_the_inspections(world: World) -> None:
    made = make(world, seed="20261201")
    assert made.seed == "20261201"
    assert made.method == "sha256-rank-v1"
    assert made.status == DrawStatus.DRAWN
    # Only the officer's county (椒江), the kinds asked for: two township and two village stations.
    assert set(made.frame["strata"]) == {"veterans-station-township|331002", "veterans-station-village|331002"}
    picks = list(made.picks.select_related("institution"))
    assert {p.institution.code for p in picks} == {"VS-HM", "VS-BY", "VV-HM", "VV-XF"}
    inspections = Inspection.objects.filter(pick__draw=made)
    assert inspections.count() == 4
    for inspection in inspections:
        assert inspection.status == InspectionStatus.PLANNED
        assert inspection.standard.key == "taizhou-veterans-service-centre"
        assert inspection.inspectors.count() == 2
    assert draw_verify(made)
    log = AuditLog.objects.get(event="compliance.draw_made")
    assert log.after["seed"] == "20261201"
    assert log.after["frame_sha256"] == made.frame_sha256


def test_a_draw_redone_from_its_record_gives_the_same_picks_and_a_tampered_record_does_not(world: World) -> None:
    made = make(world)
    assert made.seed.isdigit()
    assert draw_verify(made)
    pick = made.picks.first()
    assert pick is not None
    # Someone swaps in an inspector the draw did not pick.
    pick.second_inspector = next(
        i for i in world.inspectors if i.pk not in (pick.first_inspector_id, pick.second_inspector_id)
    )
    pick.save()
    assert not draw_verify(made)
    made.frame["pool"] = made.frame["pool"][:2]
    assert not draw_verify(made)


def test_conflicts_and_employers_are_respected(world: World) -> None:
    station = world.institutions["hemei"]
    for inspector in world.inspectors[:2]:
        Conflict.objects.create(inspector=inspector, institution=station, reason="亲属在该站工作")
    world.inspectors[2].employer = station
    world.inspectors[2].save()
    with pytest.raises(ComplianceError) as caught:
        make(world, ratios={"veterans-station-village": Decimal(1)})
    assert caught.value.code == "pool_too_small"
    assert "和美社区退役军人服务站（可派 1 人）" in str(caught.value)
    assert not Draw.objects.exists()


def test_the_ratio_applies_per_county_and_kind(world: World) -> None:
    made = make(world, ratios={"veterans-station-township": Decimal("0.5")}, seed="1")
    assert made.picks.count() == 1  # ceil(0.5 × 2)


def test_a_second_draw_for_the_period_is_refused_and_the_database_agrees(world: World) -> None:
    first = make(world)
    with pytest.raises(ComplianceError) as caught:
        make(world)
    assert caught.value.code == "already_drawn"
    with pytest.raises(IntegrityError), transaction.atomic():
        Draw.objects.create(
            department=first.department,
            area=first.area,
            period_start=first.period_start,
            period_end=first.period_end,
            ratios={},
            seed="1",
            method="x",
            frame={},
            frame_sha256="",
            created_at=first.created_at,
        )


def test_a_redraw_needs_a_reason_keeps_the_old_draw_and_uses_a_new_seed(world: World) -> None:
    first = draw_publish(actor=world.user("officer"), draw=make(world, seed="111"))
    with pytest.raises(ComplianceError) as caught:
        draw_redo(actor=world.user("officer"), draw=first, reason="  ")
    assert caught.value.code == "reason_required"
    with pytest.raises(ComplianceError) as caught:
        draw_redo(actor=world.user("officer"), draw=first, reason="名单有误", seed="111")
    assert caught.value.code == "same_seed"
    second = draw_redo(actor=world.user("officer"), draw=first, reason="检查人员名单有误")
    first.refresh_from_db()
    assert first.status == DrawStatus.SUPERSEDED
    assert second.supersedes == first
    assert second.reason == "检查人员名单有误"
    assert second.seed != first.seed
    assert set(Inspection.objects.filter(pick__draw=first).values_list("status", flat=True)) == {"cancelled"}
    assert Inspection.objects.filter(pick__draw=second, status="planned").count() == 4
    events = list(AuditLog.objects.filter(event__startswith="compliance.draw").values_list("event", flat=True))
    assert set(events) >= {"compliance.draw_made", "compliance.draw_published", "compliance.draw_superseded"}
    assert draw_verify(first)
    assert draw_verify(second)


def test_no_redraw_once_an_inspection_has_started(world: World) -> None:
    made = make(world)
    inspection = Inspection.objects.filter(pick__draw=made).first()
    assert inspection is not None
    inspection_start(actor=inspection.inspectors.first(), inspection=inspection, today=TODAY)
    with pytest.raises(ComplianceError) as caught:
        draw_redo(actor=world.user("officer"), draw=made, reason="重来")
    assert caught.value.code == "inspections_started"


def test_only_an_officer_of_the_department_and_area_draws(world: World) -> None:
    for name in ("stdoffice", "auditor", "inspector0", "centre_admin", "resident"):
        with pytest.raises(PermissionDenied):
            draw_make(
                actor=world.user(name),
                area=world.areas["331002"],
                period_start=PERIOD[0],
                period_end=PERIOD[1],
                ratios={"veterans-station-village": Decimal(1)},
            )
    with pytest.raises(PermissionDenied):
        draw_make(
            actor=world.user("hy_officer"),
            area=world.areas["331002"],
            period_start=PERIOD[0],
            period_end=PERIOD[1],
            ratios={"veterans-station-village": Decimal(1)},
        )
    made = make(world)
    with pytest.raises(PermissionDenied):
        draw_publish(actor=world.user("fire_officer"), draw=made)


def test_ratios_from_the_form(world: World) -> None:
    from fuwu.compliance.checklists import kinds_in_force

    kinds = kinds_in_force()
    assert parse_ratios({"micro-fire-station": "20", "veterans-service-centre": ""}, kinds) == {
        "micro-fire-station": Decimal("0.2")
    }
    for bad in ({"micro-fire-station": "120"}, {"micro-fire-station": "abc"}, {"x": "10"}, {}):
        with pytest.raises(ComplianceError):
            parse_ratios(bad, kinds)


def test_a_seed_is_digits(world: World) -> None:
    with pytest.raises(ComplianceError) as caught:
        make(world, seed="12ab")
    assert caught.value.code == "bad_seed"
