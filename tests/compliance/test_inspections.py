"""Inspections through their services: who may act, answers, evidence, signing, publishing, re-inspection."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from fuwu.common.models import AuditLog
from fuwu.common.uploads import Location
from fuwu.compliance.models import (
    Answer,
    Inspection,
    InspectionKind,
    InspectionStatus,
    OrderStatus,
    RectificationOrder,
    Standing,
)
from fuwu.compliance.services import ComplianceError
from fuwu.compliance.services.inspections import (
    answer_give,
    evidence_add,
    inspection_publish,
    inspection_sign,
    inspection_start,
    reinspection_open,
    self_assessment_start,
)
from fuwu.compliance.services.rectification import order_accept, order_answer, order_evidence_add, order_reinspect
from tests.compliance.conftest import FIRE, TODAY, VETERANS, World, fill, photo, planned, started


def item(inspection: Inspection, clause: str):  # type: ignore[no-untyped-def]
    return inspection.items.get(clause_number=clause)


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=timezone.get_current_timezone())


def test_only_the_drawn_inspectors_start_and_the_checklist_is_copied(world: World) -> None:
    inspection = planned(world, "hemei")
    for name in ("inspector2", "officer", "station_admin", "resident"):
        with pytest.raises(PermissionDenied):
            inspection_start(actor=world.user(name), inspection=inspection, today=TODAY)
    inspection_start(actor=world.user("inspector1"), inspection=inspection, today=TODAY)
    inspection.refresh_from_db()
    assert inspection.status == InspectionStatus.IN_PROGRESS
    assert inspection.inspected_on == TODAY
    assert inspection.items.filter(clause_number="5.3", critical=True).exists()
    with pytest.raises(ComplianceError) as caught:
        inspection_start(actor=world.user("inspector1"), inspection=inspection, today=TODAY)
    assert caught.value.code == "wrong_state"


def test_an_answer_needs_a_note_when_it_fails_and_the_number_the_clause_asks_for(world: World) -> None:
    inspection = started(world, "centre")
    inspector = world.user("inspector0")
    with pytest.raises(ComplianceError) as caught:
        answer_give(actor=inspector, item=item(inspection, "4.2"), result="not")
    assert caught.value.code == "note_required"
    hall = item(inspection, "5.1")
    with pytest.raises(ComplianceError) as caught:
        answer_give(actor=inspector, item=hall, result="compliant")
    assert caught.value.code == "number_required"
    with pytest.raises(ComplianceError) as caught:
        answer_give(actor=inspector, item=hall, result="compliant", number=Decimal(80))
    assert caught.value.code == "number_contradicts"
    assert "服务大厅使用面积为 80平方米，低于标准要求的 100平方米" in str(caught.value)
    answer, applied = answer_give(actor=inspector, item=hall, result="partly", note="大厅偏小", number=Decimal(80))
    assert applied
    assert (answer.result, answer.number) == ("partly", Decimal(80))
    with pytest.raises(ComplianceError) as caught:
        answer_give(actor=inspector, item=hall, result="maybe")
    assert caught.value.code == "bad_result"


def test_a_late_retry_of_an_older_answer_does_not_overwrite_a_newer_one(world: World) -> None:
    inspection = started(world, "hemei")
    inspector = world.user("inspector0")
    sign_board = item(inspection, "4.2")
    newer = at(TODAY, 11)
    answer_give(actor=inspector, item=sign_board, result="not", note="没有标牌", client_time=newer)
    kept, applied = answer_give(actor=inspector, item=sign_board, result="compliant", client_time=at(TODAY, 10))
    assert not applied
    assert kept.result == "not"
    assert Answer.objects.get(item=sign_board).result == "not"
    _, applied = answer_give(actor=inspector, item=sign_board, result="compliant", client_time=at(TODAY, 12))
    assert applied
    assert Answer.objects.get(item=sign_board).result == "compliant"


def test_a_photo_is_stored_clean_stamped_and_located_from_the_browser(world: World) -> None:
    inspection = started(world, "hemei")
    here = Location(Decimal("28.675100"), Decimal("121.430200"), Decimal(8))
    evidence = evidence_add(actor=world.user("inspector1"), item=item(inspection, "5.3"), upload=photo(), at=here)
    assert (evidence.latitude, evidence.longitude, evidence.accuracy_m) == (here.latitude, here.longitude, 8)
    assert evidence.kind == "jpeg"
    with evidence.file.open("rb") as handle, Image.open(handle) as image:
        assert dict(image.getexif()) == {}
        assert image.getpixel((1, image.height - 2)) == (0, 0, 0) or image.height < 20  # the caption band
    with pytest.raises(ComplianceError) as caught:
        evidence_add(
            actor=world.user("inspector1"),
            item=item(inspection, "5.3"),
            upload=SimpleUploadedFile("photo.jpg", b"MZ\x90\x00not a photo"),
        )
    assert caught.value.code == "renamed"
    pdf = SimpleUploadedFile("scan.pdf", b"%PDF-1.4\n%%EOF\n")
    with pytest.raises(ComplianceError) as caught:
        evidence_add(actor=world.user("inspector1"), item=item(inspection, "5.3"), upload=pdf)
    assert caught.value.code in ("renamed", "wrong_type")  # 5.3 asks for a photo, not a file
    assert evidence_add(actor=world.user("inspector1"), item=item(inspection, "6.3"), upload=pdf).kind == "pdf"


def test_signing_needs_every_answer_and_its_evidence(world: World) -> None:
    inspection = started(world, "hemei")
    inspector = world.user("inspector0")
    fill(inspection, inspector, photos=False)
    with pytest.raises(ComplianceError) as caught:
        inspection_sign(actor=inspector, inspection=inspection)
    assert caught.value.code == "evidence_missing"
    assert "4.2" in str(caught.value)
    Answer.objects.filter(item__inspection=inspection, item__clause_number="7.2").delete()
    with pytest.raises(ComplianceError) as caught:
        inspection_sign(actor=inspector, inspection=inspection)
    assert caught.value.code == "unanswered"
    assert "第 7.2 条" in str(caught.value)


def test_a_critical_failure_fails_the_inspection_and_failed_requirements_open_orders(world: World) -> None:
    inspection = started(world, "hemei")
    inspector = world.user("inspector0")
    fill(inspection, inspector, results={"5.3": "not", "5.5": "not", "7.2": "partly"})
    signed = inspection_sign(actor=inspector, inspection=inspection, summary="整体较好", now=at(TODAY))
    assert signed.status == InspectionStatus.SIGNED
    assert signed.passed is False
    assert signed.critical_failed
    assert signed.score is not None
    assert signed.score > 60
    assert (signed.signed_by, signed.signed_at) == (inspector, at(TODAY))
    orders = {o.item.clause_number: o for o in RectificationOrder.objects.filter(inspection=signed)}
    # 5.5 is a recommendation: advice, not an order.
    assert set(orders) == {"5.3", "7.2"}
    assert orders["5.3"].due_on == dt.date(2026, 12, 14)  # 15 working days from Monday 23 November
    assert orders["5.3"].calendar_known


def test_a_pass_is_graded_in_stars(world: World) -> None:
    inspection = started(world, "hemei")
    fill(inspection, world.user("inspector0"))
    signed = inspection_sign(actor=world.user("inspector0"), inspection=inspection)
    assert (signed.score, signed.passed, signed.grade_key, signed.stars) == (Decimal("100.0"), True, "five-star", 5)
    assert not signed.orders.exists()


def test_publishing_is_an_officers_and_sets_the_standing(world: World) -> None:
    inspection = started(world, "hemei")
    fill(inspection, world.user("inspector0"))
    inspection_sign(actor=world.user("inspector0"), inspection=inspection)
    for name in ("inspector0", "station_admin", "hy_officer", "auditor"):
        with pytest.raises(PermissionDenied):
            inspection_publish(actor=world.user(name), inspection=inspection)
    inspection_publish(actor=world.user("officer"), inspection=inspection)
    standing = Standing.objects.get(institution=world.institutions["hemei"])
    assert (standing.inspection, standing.passed, standing.grade_key) == (inspection, True, "five-star")


def test_a_self_assessment_is_the_institutions_own_and_never_published(world: World) -> None:
    hemei = world.institutions["hemei"]
    veterans = world.standards[VETERANS]
    with pytest.raises(PermissionDenied):
        self_assessment_start(actor=world.user("centre_admin"), institution=hemei, standard=veterans, today=TODAY)
    own = self_assessment_start(actor=world.user("station_admin"), institution=hemei, standard=veterans, today=TODAY)
    assert own.kind == InspectionKind.SELF
    assert self_assessment_start(actor=world.user("station_admin"), institution=hemei, standard=veterans) == own
    with pytest.raises(PermissionDenied):
        answer_give(actor=world.user("inspector0"), item=item(own, "4.2"), result="compliant")
    fill(own, world.user("station_admin"), results={"4.2": "not"})
    signed = inspection_sign(actor=world.user("station_admin"), inspection=own)
    assert not signed.orders.exists()  # the institution's own findings are not the department's orders
    with pytest.raises(ComplianceError) as caught:
        inspection_publish(actor=world.user("officer"), inspection=signed)
    assert caught.value.code == "self_assessment"


def test_a_fire_station_has_the_fire_standards_checklist(world: World) -> None:
    inspection = started(world, "fire_hemei", standard=FIRE)
    clauses = set(inspection.items.values_list("clause_number", flat=True))
    assert {"5.3", "5.3.1", "9.1"} <= clauses
    assert "5.1" not in clauses  # the village's water supply, not the station's


def test_rectification_then_a_re_inspection_that_passes(world: World) -> None:
    inspector, admin = world.user("inspector0"), world.user("station_admin")
    original = started(world, "hemei")
    fill(original, inspector, results={"4.2": "not", "7.2": "partly"})
    inspection_sign(actor=inspector, inspection=original, now=at(TODAY))
    inspection_publish(actor=world.user("officer"), inspection=original)
    sign, advice = (RectificationOrder.objects.get(inspection=original, item__clause_number=n) for n in ("4.2", "7.2"))
    with pytest.raises(ComplianceError) as caught:
        order_answer(actor=admin, order=sign, response="已挂牌")
    assert caught.value.code == "evidence_missing"
    order_evidence_add(actor=admin, order=sign, upload=photo("new-sign.jpg"))
    order_answer(actor=admin, order=sign, response="已按统一样式挂牌")
    order_evidence_add(actor=admin, order=advice, upload=photo())
    order_answer(actor=admin, order=advice, response="已组织政策培训")
    with pytest.raises(PermissionDenied):
        order_accept(actor=world.user("inspector3"), order=advice)
    order_accept(actor=inspector, order=advice, note="培训记录齐全")
    order_reinspect(actor=inspector, order=sign, note="现场核实标牌")

    again = reinspection_open(actor=inspector, original=original, today=TODAY + dt.timedelta(days=7))
    assert again.kind == InspectionKind.REINSPECTION
    assert again.version == original.version
    carried = dict(Answer.objects.filter(item__inspection=again).values_list("item__clause_number", "carried"))
    assert "4.2" not in carried  # to be checked on site
    assert carried["7.2"].startswith("整改材料已验收")
    assert carried["5.3"] == "沿用原检查结果"
    answer_give(actor=inspector, item=item(again, "4.2"), result="compliant")
    evidence_add(actor=inspector, item=item(again, "4.2"), upload=photo())
    signed = inspection_sign(actor=inspector, inspection=again)
    assert (signed.passed, signed.score, signed.grade_key) == (True, Decimal("100.0"), "five-star")
    sign.refresh_from_db()
    advice.refresh_from_db()
    assert (sign.status, sign.closed_by) == (OrderStatus.VERIFIED, signed)
    assert advice.status == OrderStatus.ACCEPTED
    inspection_publish(actor=world.user("officer"), inspection=signed)
    assert Standing.objects.get(institution=world.institutions["hemei"]).inspection == signed
    assert AuditLog.objects.filter(event="compliance.order_reinspected", object_id=str(sign.pk)).exists()


def test_a_re_inspection_that_fails_again_opens_a_new_order(world: World) -> None:
    inspector = world.user("inspector0")
    original = started(world, "hemei")
    fill(original, inspector, results={"4.2": "not"})
    inspection_sign(actor=inspector, inspection=original, now=at(TODAY))
    again = reinspection_open(actor=inspector, original=original, today=TODAY)
    answer_give(actor=inspector, item=item(again, "4.2"), result="not", note="仍未挂牌")
    evidence_add(actor=inspector, item=item(again, "4.2"), upload=photo())
    inspection_sign(actor=inspector, inspection=again, now=at(TODAY + dt.timedelta(days=1)))
    old = RectificationOrder.objects.get(inspection=original)
    new = RectificationOrder.objects.get(inspection=again)
    assert old.status == OrderStatus.FAILED
    assert new.previous == old
    assert new.status == OrderStatus.OPEN
    with pytest.raises(ComplianceError) as caught:
        reinspection_open(actor=inspector, original=original)
    assert caught.value.code == "nothing_to_reinspect"
