"""The inbox's Excel export: the officer's scope and the page's filters, names and identity numbers masked,
audited; a bad filter is a clear 400, other roles are refused."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import openpyxl
from django.test import Client

from fuwu.applications import services
from fuwu.applications.export import HEADER
from fuwu.applications.models import Application
from fuwu.applications.overdue import applications_flag_overdue
from fuwu.common.models import AuditLog
from fuwu.residents import crypto
from tests.applications.conftest import VILLAGE_A, VILLAGE_B, World, at
from tests.residents.factories import PersonFactory

URL = "/applications/inbox/export/"


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def sheet(response: Any) -> list[list[Any]]:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    return [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]


def setup(world: World) -> tuple[Application, Application, Application]:
    """Two of 椒江 (one accepted long ago and overdue, one just submitted) and one of 黄岩."""
    first = world.apply(world.officer, person=world.child, now=at(dt.date(2026, 9, 30), 9))
    first = services.application_accept(actor=world.officer, application=first, now=at(dt.date(2026, 9, 30), 10))
    second = world.apply(world.officer, person=world.adult)
    other = PersonFactory(name="黄某某", hukou_area=VILLAGE_B, school_stage="preschool")
    third = world.apply(world.officer_b, person=other)
    applications_flag_overdue(today=dt.date(2026, 11, 20))
    return first, second, third


def test_the_file_is_the_officers_inbox_masked(world: World) -> None:
    first, second, third = setup(world)
    rows = sheet(client_for(world.officer).get(URL))
    assert rows[0] == HEADER
    body = rows[1:]
    assert sorted(r[0] for r in body) == sorted([first.pk, second.pk])  # not 黄岩's
    text = repr(rows)
    for person in (world.child, world.adult):
        number = crypto.decrypt(person.id_number_encrypted, lookup=person.id_number_hash)
        assert number.value not in text
        assert number.masked() in text
        assert person.name not in text
    row = next(r for r in body if r[0] == first.pk)
    assert row[3] == world.child.name[0] + "*"
    assert row[9] == "评议、审核与公示"
    assert row[12] == "是"
    assert row[13] == "已督办"
    assert AuditLog.objects.filter(event="persons.exported", note="applications inbox").get().after["persons"] == 2
    # The other county's officer gets theirs only.
    assert [r[0] for r in sheet(client_for(world.officer_b).get(URL))[1:]] == [third.pk]


def test_the_filters_of_the_page_apply(world: World) -> None:
    first, second, _ = setup(world)
    officer = client_for(world.officer)
    assert [r[0] for r in sheet(officer.get(URL + "?overdue=on"))[1:]] == [first.pk]
    assert [r[0] for r in sheet(officer.get(URL + "?step=0"))[1:]] == [second.pk]
    assert [r[0] for r in sheet(officer.get(URL + "?due_by=2026-12-31"))[1:]] == [first.pk]
    assert sheet(officer.get(URL + "?item=sa-preschool-aid&due_by=2026-01-01")) == [HEADER]


def test_bad_filters_and_other_roles_are_refused(world: World) -> None:
    setup(world)
    bad = client_for(world.officer).get(URL + "?due_by=yesterday&step=-3")
    assert bad.status_code == 400
    assert "日期" in bad.content.decode() or "date" in bad.content.decode().lower()
    for user in (world.parent, world.agent, world.stranger):
        assert client_for(user).get(URL).status_code == 403
    assert Client().get(URL).status_code == 302
    assert not AuditLog.objects.filter(event="persons.exported").exists()


def test_the_inbox_page_shows_the_count_the_flag_and_the_export_link(world: World) -> None:
    _first, _, _ = setup(world)
    page = client_for(world.officer).get("/applications/inbox/?overdue=on")
    html = page.content.decode()
    assert page.status_code == 200
    assert "已超期 1 件" in html
    assert "已督办" in html
    assert URL + "?overdue=on" in html


def test_the_inbox_export_neutralises_formulas(world: World) -> None:
    """A name typed as a formula (masked, it still starts with ``=``) and an area named like one come out as text."""
    from fuwu.areas.models import Area

    Area.objects.filter(code=VILLAGE_A).update(name_zh='=HYPERLINK("http://x")')
    world.child.name = "=cmd|' /C calc'!A0"
    world.child.save()
    world.apply(world.officer, person=world.child)
    [row] = sheet(client_for(world.officer).get(URL))[1:]
    assert row[3] == "'=*"
    assert row[5] == '\'=HYPERLINK("http://x")'


def test_the_inbox_count_is_capped(world: World, monkeypatch: Any) -> None:
    """Past the cap the page says "more than" rather than counting every row on every view."""
    from fuwu.applications import views

    setup(world)
    monkeypatch.setattr(views, "COUNT_CAP", 1)
    html = client_for(world.officer).get("/applications/inbox/").content.decode()
    assert "超过 1 件" in html
    monkeypatch.setattr(views, "COUNT_CAP", 5)
    assert "共 2 件" in client_for(world.officer).get("/applications/inbox/").content.decode()
