"""The department supervisor (督办负责人): role × department × area. Scoped as officers are; reads the department's
inbox and applications of the area and their 差评 rectifications, acts on none; escalations of overdue steps are
addressed to them, and to the handling officers where the department has no supervisor for the area."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from fuwu.accounts.models import Department, Role, User
from fuwu.applications import ratings, services
from fuwu.applications.models import Application, Rectification, RectificationStatus, Status
from fuwu.areas.models import Area
from fuwu.notices import messages
from fuwu.notices.models import Notice
from tests.applications.conftest import PASSWORD, World
from tests.applications.test_overdue import DUE, accepted, run
from tests.applications.test_ratings import poor

API_ONE = "/api/v1/applications/{}"


def supervisor(name: str, department: Department, county: str) -> User:
    return User.objects.create_user(
        username=name,
        password=PASSWORD,
        role=Role.DEPARTMENT_SUPERVISOR,
        area=Area.objects.get(code=county),
        department=department,
    )


@pytest.fixture
def sups(world: World) -> dict[str, User]:
    """Education's supervisor of 椒江 (the application's), of 黄岩 (another area), civil affairs' of 椒江."""
    return {
        "here": supervisor("sup-education-jj", world.education, "331002"),
        "other_area": supervisor("sup-education-hy", world.education, "331003"),
        "other_department": supervisor("sup-civil-jj", world.civil, "331002"),
    }


def client_for(user: User) -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    c.force_login(user)
    return c


def test_a_supervisor_needs_a_department_and_an_area(world: World) -> None:
    county = Area.objects.get(code="331002")
    for i, extra in enumerate(({"area": county}, {"department": world.education})):
        with pytest.raises(IntegrityError), transaction.atomic():
            User.objects.create_user(username=f"s-{i}", role=Role.DEPARTMENT_SUPERVISOR, **extra)


@pytest.mark.parametrize(("who", "sees"), [("here", True), ("other_area", False), ("other_department", False)])
def test_the_supervisor_reads_the_departments_applications_of_the_area(
    world: World, sups: dict[str, User], who: str, sees: bool
) -> None:
    application = world.apply()
    c = client_for(sups[who])
    detail = c.get(reverse("applications:detail", args=[application.pk]))
    assert detail.status_code == (200 if sees else 404)
    inbox = c.get(reverse("applications:inbox"))
    assert inbox.status_code == 200
    assert (world.child.name in inbox.content.decode()) is sees
    assert "督办负责人只读" in inbox.content.decode()
    assert "按当前筛选导出 Excel" not in inbox.content.decode()
    assert c.get(reverse("applications:inbox_export")).status_code == 403
    api = c.get(API_ONE.format(application.pk))
    assert api.status_code == (200 if sees else 404)
    listed = c.get("/api/v1/applications").json()
    assert [a["id"] for a in listed["items"]] == ([application.pk] if sees else [])
    file = c.get(reverse("applications:file", args=[application.pk, 0]))
    assert file.status_code == (200 if sees else 404)


def test_the_supervisor_acts_on_nothing(world: World, sups: dict[str, User]) -> None:
    application = world.apply()
    boss = sups["here"]
    c = client_for(boss)
    page = c.get(reverse("applications:detail", args=[application.pk])).content.decode()
    assert reverse("applications:act", args=[application.pk, "accept"]) not in page  # no action forms
    assert reverse("applications:supply", args=[application.pk]) not in page
    assert c.post(reverse("applications:act", args=[application.pk, "accept"]), {"revision": 1}).status_code == 403
    with pytest.raises(PermissionDenied):
        services.application_accept(actor=boss, application=application)
    with pytest.raises(PermissionDenied):
        services.application_withdraw(actor=boss, application=application, reason="不要了")
    with pytest.raises(PermissionDenied):
        services.application_submit(actor=boss, item=world.item, person=world.adult, materials={})
    assert Application.objects.get(pk=application.pk).status == Status.SUBMITTED
    # Nor does the registry open to them.
    assert c.get("/residents/").status_code == 403
    assert c.get(reverse("residents:detail", args=[world.child.pk])).status_code in (403, 404)


def test_the_supervisor_reads_the_rectifications_of_the_area(world: World, sups: dict[str, User]) -> None:
    rectification = poor(world)
    after = rectification.due_on + dt.timedelta(days=1)
    here = sups["here"]
    assert list(ratings.rectifications_for_user(user=here, today=after, overdue=True)) == [rectification]
    for other in (sups["other_area"], sups["other_department"]):
        assert not ratings.rectifications_for_user(user=other, today=after).exists()
        assert client_for(other).get(reverse("applications:rectification", args=[rectification.pk])).status_code == 404
    c = client_for(here)
    assert c.get(reverse("applications:rectifications")).status_code == 200
    page = c.get(reverse("applications:rectification", args=[rectification.pk]))
    assert page.status_code == 200
    assert world.child.name not in page.content.decode()  # overseeing the handling: the name masked
    with pytest.raises(PermissionDenied):
        ratings.rectification_record(actor=here, rectification=rectification, action="整改")
    ratings.rectification_record(actor=world.officer, rectification=rectification, action="已改正")
    with pytest.raises(PermissionDenied):
        ratings.rectification_callback(actor=here, rectification=rectification, satisfied=True, note="好")
    assert Rectification.objects.get().status == RectificationStatus.RECTIFIED


def _escalation_notices() -> list[tuple[str, str, int]]:
    rows = Notice.objects.filter(subject__startswith="applications.escalations:").select_related("recipient")
    return sorted((n.recipient.username, n.kind, int(n.params["count"])) for n in rows)


def test_escalations_go_to_the_supervisor_of_the_area(world: World, sups: dict[str, User]) -> None:
    accepted(world)
    accepted(world)
    day = DUE + dt.timedelta(days=3)
    first = run(day)
    assert (first["escalated"], first["notified_supervisors"], first["notified_officers"]) == (2, 1, 0)
    # One notice for the run, with the count; not the officers, not another area's or department's supervisor.
    assert _escalation_notices() == [("sup-education-jj", "escalated", 2)]
    notice = Notice.objects.get(subject__startswith="applications.escalations:")
    assert notice.link == reverse("applications:inbox") + "?overdue=on"
    words = messages.render(notice.kind, notice.audience, notice.params, language="zh-hans")
    assert "2 件" in words
    assert "教育局" in words
    assert "超期督办" in words
    # A re-run escalates nothing and tells nobody again.
    assert run(day)["escalated"] == 0
    assert len(_escalation_notices()) == 1
    # The supervisor sees them in the inbox's overdue filter, flagged 已督办.
    inbox = client_for(sups["here"]).get(reverse("applications:inbox"), {"overdue": "on"}).content.decode()
    assert "已督办" in inbox


def test_without_a_supervisor_the_handling_officers_are_told_and_the_notice_says_so(world: World) -> None:
    supervisor("sup-education-hy", world.education, "331003")  # another area's: not this application's
    accepted(world)
    result = run(DUE + dt.timedelta(days=3))
    assert (result["notified_supervisors"], result["notified_officers"]) == (0, 1)
    assert _escalation_notices() == [("officer", "escalated_to_officers", 1)]
    notice = Notice.objects.get(subject__startswith="applications.escalations:")
    assert "未设督办负责人" in messages.render(notice.kind, notice.audience, notice.params, language="zh-hans")
    english = messages.render(notice.kind, notice.audience, notice.params, language="en")
    assert "no supervisor" in english


def test_an_inactive_supervisor_is_no_supervisor(world: World, sups: dict[str, User], settings: Any) -> None:
    User.objects.filter(pk=sups["here"].pk).update(is_active=False)
    accepted(world)
    run(DUE + dt.timedelta(days=3))
    assert _escalation_notices() == [("officer", "escalated_to_officers", 1)]
