"""The resident's path through the pages (apply → one-time notice → supply → approve), the guide's button, the
inbox's scope and filters, and refusals shown as messages on the page (never a 500)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation

from fuwu.applications import services
from fuwu.applications.models import Application, MaterialState, Status
from tests.applications.conftest import PRESCHOOL, World, photo


@pytest.fixture(autouse=True)
def _chinese() -> Any:
    with translation.override("zh-hans"):
        yield


def client_for(user: Any) -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    c.force_login(user)
    return c


def test_the_guide_offers_to_apply_where_the_standard_lists_steps(world: World, client: Client) -> None:
    page = client.get(reverse("guide:item_detail", args=[PRESCHOOL])).content.decode()
    assert reverse("applications:apply", args=[PRESCHOOL]) in page
    assert "在线申请" in page


def test_the_residents_path_apply_notice_supply_approve(world: World) -> None:
    parent, officer = client_for(world.parent), client_for(world.officer)
    apply_url = reverse("applications:apply", args=[PRESCHOOL])
    form = parent.get(apply_url)
    assert form.status_code == 200
    page = form.content.decode()
    assert "申请表" in page
    assert "通过数据共享获取" in page
    assert "看起来符合条件" in page  # the eligibility answer with its reasons, before submitting
    answer = parent.post(
        apply_url,
        {"stage": "submit", "person": world.child.pk, "how-0": "upload", "file-0": photo(), "confirm": "on"},
    )
    assert answer.status_code == 302
    application = Application.objects.get()
    assert answer["Location"] == reverse("applications:detail", args=[application.pk])
    assert application.capacity == "family"
    assert application.status == Status.SUBMITTED

    detail = reverse("applications:detail", args=[application.pk])
    inbox = officer.get(reverse("applications:inbox")).content.decode()
    assert world.child.name in inbox
    rev = Application.objects.get().revision
    noticed = officer.post(
        reverse("applications:act", args=[application.pk, "notice"]),
        {"revision": rev, "materials": ["0"], "reason": "申请表缺家长签字"},
    )
    assert noticed.status_code == 302
    mine = parent.get(detail).content.decode()
    assert "待补正" in mine
    assert "需补正" in mine
    assert "申请表缺家长签字" in mine
    rev = Application.objects.get().revision
    supplied = parent.post(
        reverse("applications:supply", args=[application.pk]),
        {"revision": rev, "how-0": "upload", "file-0": photo("签字后.jpg")},
    )
    assert supplied.status_code == 302
    assert Application.objects.get().materials.get(index=0).state == MaterialState.PROVIDED
    for action, data in [("accept", {}), ("advance", {"reason": "评议通过"}), ("approve", {"reason": "同意"})]:
        rev = Application.objects.get().revision
        done = officer.post(reverse("applications:act", args=[application.pk, action]), {"revision": rev, **data})
        assert done.status_code == 302, done.content.decode()[:2000]
    final = parent.get(detail).content.decode()
    assert "已批准" in final
    for kind in ["提交申请", "一次性告知需补正材料", "补正材料", "受理", "办结环节", "批准"]:
        assert kind in final
    # The uploaded file is the applicant's and the officer's to read, nobody else's.
    file_url = reverse("applications:file", args=[application.pk, 0])
    assert parent.get(file_url).status_code == 200
    assert officer.get(file_url).status_code == 200
    assert client_for(world.officer_b).get(file_url).status_code == 404


def test_an_ineligible_looking_applicant_is_warned_and_may_still_apply(world: World) -> None:
    c = client_for(world.resident)
    url = reverse("applications:apply", args=[PRESCHOOL])
    page = c.get(url).content.decode()
    assert "看起来不符合条件" in page
    assert "您仍有权提交申请" in page
    answer = c.post(url, {"stage": "submit", "person": world.adult.pk, "how-0": "counter", "confirm": "on"})
    assert answer.status_code == 302
    assert Application.objects.get().eligibility == "not_eligible"


def test_an_agent_applies_by_identity_number(world: World) -> None:
    from fuwu.residents import crypto

    number = crypto.open_text(crypto.ID_NUMBER, world.child.id_number_encrypted, row=world.child.id_number_hash)
    c = client_for(world.agent)
    url = reverse("applications:apply", args=[PRESCHOOL])
    preview = c.post(url, {"stage": "preview", "id_number": number})
    assert preview.status_code == 200
    assert world.child.name in preview.content.decode()
    done = c.post(url, {"stage": "submit", "id_number": number, "how-0": "counter", "confirm": "on"})
    assert done.status_code == 302
    assert Application.objects.get().capacity == "agent"
    other = client_for(world.agent_b).post(url, {"stage": "preview", "id_number": number})
    assert other.status_code == 200
    assert "没有找到您可以代为申请的这位居民" in other.content.decode()


def test_a_bad_upload_is_a_message_on_the_form_and_stores_nothing(world: World) -> None:
    c = client_for(world.parent)
    answer = c.post(
        reverse("applications:apply", args=[PRESCHOOL]),
        {
            "stage": "submit",
            "person": world.child.pk,
            "how-0": "upload",
            "confirm": "on",
            "file-0": SimpleUploadedFile("申请表.jpg", b"GIF89a not a jpeg"),
        },
    )
    assert answer.status_code == 400
    assert "内容却不是这种格式" in answer.content.decode()
    assert not Application.objects.exists()


def test_a_refusal_without_a_reason_is_shown_not_raised(world: World) -> None:
    application = world.apply()
    answer = client_for(world.officer).post(
        reverse("applications:act", args=[application.pk, "refuse"]),
        {"revision": application.revision, "ground": "criterion:special-difficulty", "reason": ""},
    )
    assert answer.status_code == 400
    assert "请填写不予批准的理由" in answer.content.decode()
    assert Application.objects.get().status == Status.SUBMITTED


def test_a_stale_page_is_told_someone_else_acted(world: World) -> None:
    application = world.apply()
    seen = application.revision
    services.application_accept(actor=world.officer, application=application)
    answer = client_for(world.officer).post(
        reverse("applications:act", args=[application.pk, "close"]), {"revision": seen, "reason": "重复"}
    )
    assert answer.status_code == 400
    assert "刚刚已由他人处理" in answer.content.decode()


@pytest.mark.parametrize("who", ["officer_civil", "officer_b", "stranger", "agent_b"])
def test_nobody_outside_sees_an_application(world: World, who: str) -> None:
    application = world.apply()
    c = client_for(getattr(world, who))
    assert c.get(reverse("applications:detail", args=[application.pk])).status_code == 404
    assert c.post(reverse("applications:act", args=[application.pk, "accept"]), {"revision": 1}).status_code == 404
    if who.startswith("officer"):
        assert world.child.name not in c.get(reverse("applications:inbox")).content.decode()


def test_the_inbox_filters_by_item_step_and_overdue(world: World) -> None:
    late = services.application_accept(
        actor=world.officer,
        application=world.apply(now=services._now(None) - dt.timedelta(days=80)),
        now=services._now(None) - dt.timedelta(days=80),
    )
    fresh = world.apply(world.resident, person=world.adult)
    c = client_for(world.officer)
    url = reverse("applications:inbox")
    everything = c.get(url).content.decode()
    assert world.child.name in everything
    assert world.adult.name in everything
    overdue = c.get(url, {"overdue": "on"}).content.decode()
    assert world.child.name in overdue
    assert world.adult.name not in overdue
    assert "已超期" in overdue
    step1 = c.get(url, {"step": "1"}).content.decode()
    assert world.child.name in step1
    assert world.adult.name not in step1
    # The step is named as the standard names it, not numbered.
    assert "<td>评议、审核与公示</td>" in step1
    assert "<td>1</td>" not in step1
    assert c.get(url, {"item": "no-such-item"}).status_code == 400
    assert late.pk != fresh.pk


def test_the_inbox_is_for_officers_only(world: World) -> None:
    assert client_for(world.parent).get(reverse("applications:inbox")).status_code == 403


def test_my_applications_lists_the_linked_persons(world: World) -> None:
    world.apply()
    page = client_for(world.parent).get(reverse("applications:mine")).content.decode()
    assert "学前教育家庭经济困难幼儿资助" in page
    assert world.child.name in page
    assert world.child.name not in client_for(world.stranger).get(reverse("applications:mine")).content.decode()


def test_each_of_the_officers_forms_labels_its_own_fields(world: World) -> None:
    """The actions share field names (reason, materials): each form's ids are its own, so a label names its field."""
    application = world.apply()
    page = client_for(world.officer).get(reverse("applications:detail", args=[application.pk])).content.decode()
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert 'for="id_notice_materials_0"' in page
    assert 'id="id_notice_materials_0"' in page
