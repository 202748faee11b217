"""The rating form on the application's page and the rectification pages: the path through them, labels, bad
input answered with a message naming the field (never a 500), and who may see what."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse

from fuwu.accounts.models import Role, User
from fuwu.applications import ratings
from fuwu.applications.models import Rating, Rectification
from fuwu.common.models import AuditLog
from tests.applications.conftest import PASSWORD, World
from tests.applications.test_pages import _chinese, client_for  # noqa: F401 - _chinese: the autouse fixture
from tests.applications.test_transitions import reach


def test_the_applicant_rates_from_the_application_page_and_a_poor_rating_reaches_the_department(world: World) -> None:
    application = reach(world, "approved")
    parent = client_for(world.parent)
    detail = reverse("applications:detail", args=[application.pk])
    page = parent.get(detail).content.decode()
    assert "评价这次办理" in page
    for words in ("非常满意", "基本满意", "非常不满意", "超过承诺时限或办理太慢"):
        assert words in page
    assert '<label for="id_level_0">' in page  # each choice has its label

    rate = reverse("applications:rate", args=[application.pk])
    missing = parent.post(rate, {"level": "1", "text": "太慢"})
    assert missing.status_code == 400
    body = missing.content.decode()
    assert "原因（可多选）" in body
    assert "至少选择一项原因" in body
    assert not Rating.objects.exists()

    done = parent.post(rate, {"level": "1", "reasons": ["slow", "not_told_at_once"], "text": "太慢"})
    assert done.status_code == 302
    assert done["Location"] == detail
    page = parent.get(detail).content.decode()
    assert "非常不满意" in page
    assert "超过承诺时限或办理太慢" in page
    assert "缺什么没有一次性告知" in page
    assert "差评整改：" in page
    assert "待整改" in page
    assert 'data-testid="rate"' not in page  # the form is gone: one rating only

    again = parent.post(rate, {"level": "5"})
    assert again.status_code == 400
    assert "只能评价一次" in again.content.decode()
    assert Rating.objects.get().level == 1

    officer = client_for(world.officer)
    listed = officer.get(reverse("applications:rectifications")).content.decode()
    rectification = Rectification.objects.get()
    linked = reverse("applications:rectification", args=[rectification.pk])
    assert linked in officer.get(detail).content.decode()
    assert linked not in page  # the applicant follows it on their own page
    assert reverse("applications:rectification", args=[rectification.pk]) in listed
    page = officer.get(reverse("applications:rectification", args=[rectification.pk])).content.decode()
    assert world.child.name in page  # the department sees whom it concerns
    read = AuditLog.objects.filter(actor=world.officer, event="persons.listed").latest("pk")
    assert (read.note, read.after["person_ids"]) == ("application rectification", [world.child.pk])
    assert "记录整改情况" in page


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({}, "请选择评价等级"),
        ({"level": "9"}, "请选择评价等级"),
        ({"level": "很好"}, "请选择评价等级"),
        ({"level": "5", "reasons": ["no-such"]}, "请从列出的原因中选择"),
        ({"level": "5", "reasons": ["slow"]}, "不对应"),
        ({"level": "4", "text": "长" * 301}, "不能超过300个字"),
    ],
)
def test_bad_ratings_get_a_message_naming_the_field(world: World, data: dict[str, Any], words: str) -> None:
    application = reach(world, "approved")
    response = client_for(world.parent).post(reverse("applications:rate", args=[application.pk]), data)
    assert response.status_code == 400
    assert words in response.content.decode()
    assert not Rating.objects.exists()


def test_rating_an_undecided_application_is_a_message_not_an_error(world: World) -> None:
    application = reach(world, "in_progress")
    page = client_for(world.parent).get(reverse("applications:detail", args=[application.pk])).content.decode()
    assert 'data-testid="rate"' not in page
    response = client_for(world.parent).post(reverse("applications:rate", args=[application.pk]), {"level": "4"})
    assert response.status_code == 400
    assert "办结（批准、不予批准或终止办理）后才能评价" in response.content.decode()


@pytest.mark.parametrize(("who", "status"), [("officer", 403), ("officer_b", 404), ("stranger", 404)])
def test_others_cannot_rate(world: World, who: str, status: int) -> None:
    application = reach(world, "approved")
    response = client_for(getattr(world, who)).post(reverse("applications:rate", args=[application.pk]), {"level": "5"})
    assert response.status_code == status
    assert not Rating.objects.exists()


def _poor(world: World) -> Rectification:
    rating = ratings.rating_give(
        actor=world.parent, application=reach(world, "approved"), level=2, reasons=["rude"], text="态度差"
    )
    return Rectification.objects.get(rating=rating)


def test_the_department_records_and_calls_back_through_the_pages(world: World) -> None:
    rectification = _poor(world)
    officer = client_for(world.officer)
    act = lambda action: reverse("applications:rectification_act", args=[rectification.pk, action])  # noqa: E731
    empty = officer.post(act("record"), {"action": "  "})
    assert empty.status_code == 400
    assert "请写明采取了哪些整改措施" in empty.content.decode()
    early = officer.post(act("callback"), {"outcome": "yes", "note": "已回访"})
    assert early.status_code == 400
    assert "不能记录回访" in early.content.decode()
    assert officer.post(act("record"), {"action": "已约谈窗口人员"}).status_code == 302
    bad = officer.post(act("callback"), {"outcome": "maybe", "note": "已回访"})
    assert bad.status_code == 400
    assert "请选择回访结果" in bad.content.decode()
    assert officer.post(act("callback"), {"outcome": "no", "note": "仍不满意"}).status_code == 302
    page = officer.get(reverse("applications:rectification", args=[rectification.pk])).content.decode()
    assert "回访仍不满意" in page
    assert "已约谈窗口人员" in page
    assert "仍不满意" in page
    assert officer.post(act("escalate"), {}).status_code == 404


def test_the_supervisor_sees_every_department_overdue_flagged_and_names_masked(world: World, monkeypatch: Any) -> None:
    from django.utils import timezone

    rectification = _poor(world)
    office = User.objects.create_user(username="stdoffice", password=PASSWORD, role=Role.STANDARDS_OFFICE)
    client = client_for(office)
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: rectification.due_on + dt.timedelta(days=1))
    listed = client.get(reverse("applications:rectifications") + "?overdue=1").content.decode()
    assert 'data-testid="overdue"' in listed
    assert world.education.name_zh in listed
    page = client.get(reverse("applications:rectification", args=[rectification.pk])).content.decode()
    assert "已超期" in page
    assert world.child.name not in page  # the supervisor oversees the handling, not the person
    assert world.child.name[0] + "*" in page
    assert "记录整改情况" not in page  # the department puts it right
    other_area = client_for(world.officer_b).get(reverse("applications:rectifications")).content.decode()
    assert reverse("applications:rectification", args=[rectification.pk]) not in other_area
    assert "没有差评整改" in other_area
    response = client_for(world.officer_b).get(reverse("applications:rectification", args=[rectification.pk]))
    assert response.status_code == 404


@pytest.mark.parametrize("who", ["parent", "agent"])
def test_residents_and_agents_have_no_rectification_list(world: World, who: str) -> None:
    assert client_for(getattr(world, who)).get(reverse("applications:rectifications")).status_code == 403
