"""The proactive list: entitled but not yet served, per township, scoped to the officer's area."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from fuwu.accounts.models import Department, Role, User
from fuwu.areas.models import Area, AreaLevel
from fuwu.common.models import AuditLog
from fuwu.eligibility import proactive
from fuwu.eligibility.models import OutreachRecord, Receipt, ScreeningResult, ScreeningRun

pytestmark = pytest.mark.django_db
JIAOJIANG_VILLAGE = "331002001901"
WENLING_VILLAGE = "331081100901"


@pytest.fixture
def run() -> ScreeningRun:
    city = Area.objects.create(code="331000", name_zh="台州市", level=AreaLevel.CITY)
    for county, township, village, name in [
        ("331002", "331002001", JIAOJIANG_VILLAGE, "海门"),
        ("331081", "331081100", WENLING_VILLAGE, "泽国"),
    ]:
        c = Area.objects.create(code=county, name_zh=county, level=AreaLevel.COUNTY, parent=city)
        t = Area.objects.create(code=township, name_zh=name, level=AreaLevel.TOWNSHIP, parent=c)
        Area.objects.create(code=village, name_zh=f"{name}村", level=AreaLevel.VILLAGE, parent=t)
    run = ScreeningRun.objects.create(
        engine="duckdb",
        as_of=dt.date(2026, 11, 29),
        population="p",
        output="o",
        rules_digest="d",
        status="completed",
        finished_at=timezone.now(),
    )
    for person_id, area in [(1, JIAOJIANG_VILLAGE), (2, JIAOJIANG_VILLAGE), (3, WENLING_VILLAGE)]:
        ScreeningResult.objects.create(
            run=run,
            person_id=person_id,
            hukou_area=area,
            item="hc-bathing",
            rule_version="v",
            status="eligible",
            amount=Decimal("120.00"),
        )
    ScreeningResult.objects.create(
        run=run, person_id=4, hukou_area=JIAOJIANG_VILLAGE, item="hc-bathing", rule_version="v", status="unknown"
    )
    Receipt.objects.create(person_id=2, item="hc-bathing")  # already served
    return run


def officer(code: str = "331002") -> User:
    department = Department.objects.get_or_create(code="civil-affairs", defaults={"name_zh": "民政局"})[0]
    return User.objects.create_user(
        f"officer-{code}",
        password="x-long-password-1",
        role=Role.DEPARTMENT_OFFICER,
        department=department,
        area=Area.objects.get(code=code),
    )


def test_newly_entitled_excludes_the_served_the_unknown_and_other_areas(run: ScreeningRun) -> None:
    people = proactive.newly_entitled(run=run, user=officer())
    assert [r.person_id for r in people] == [1]
    assert proactive.counts_by_township(run=run, user=officer("331081")) == [
        proactive.TownshipCount("331081100", "hc-bathing", 1)
    ]


@pytest.mark.parametrize("role", [Role.RESIDENT, Role.CAREGIVER, Role.PROVIDER_ADMIN, Role.STANDARDS_OFFICE])
def test_other_roles_see_nobody(run: ScreeningRun, role: Role) -> None:
    user = User.objects.create_user(f"u-{role}", password="x-long-password-1", role=role)
    assert not proactive.newly_entitled(run=run, user=user).exists()
    client = Client()
    client.force_login(user)
    assert client.get("/proactive/").status_code == 403


def test_the_officer_records_outreach_and_it_is_audited(run: ScreeningRun) -> None:
    user = officer()
    client = Client()
    client.force_login(user)
    html = client.get("/proactive/").content.decode()
    assert "海门" in html
    assert f"/proactive/{run.pk}/331002001/hc-bathing/" in html
    page = client.get(f"/proactive/{run.pk}/331002001/hc-bathing/").content.decode()
    assert "海门村" in page
    client.post(
        f"/proactive/{run.pk}/331002001/hc-bathing/record/",
        {"person_id": 1, "status": "contacted", "note": "电话已通知"},
    )
    record = OutreachRecord.objects.get()
    assert (record.status, record.note, record.updated_by) == ("contacted", "电话已通知", user)
    assert AuditLog.objects.filter(event="outreach.recorded", actor=user).exists()
    # Someone outside the officer's area cannot be recorded.
    response = client.post(
        f"/proactive/{run.pk}/331081100/hc-bathing/record/", {"person_id": 3, "status": "contacted"}, follow=True
    )
    assert "not on your proactive list" in response.content.decode()
    assert OutreachRecord.objects.count() == 1


def test_excel_export(run: ScreeningRun) -> None:
    client = Client()
    client.force_login(officer())
    response = client.get(f"/proactive/{run.pk}/export.xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    import io

    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "人员编号"
    assert [r[0] for r in rows[1:]] == [1]
    assert rows[1][1] == "海门村"


def test_receipts_import_removes_the_served_from_the_list(run: ScreeningRun, tmp_path: Any) -> None:
    from django.core.management import call_command
    from django.core.management.base import CommandError

    from fuwu.standards.parsing import parse_many
    from fuwu.standards.services import standards_load
    from tests.conftest import MINI

    standards_load(parsed=parse_many([MINI]), actor=None)
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "人员编号,服务项目代码,起始日期\n1,test-visit,2026-01-01\nx,test-visit,\n3,nope,\n", encoding="utf-8"
    )
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("eligibility", "receipts", str(bad))
    assert not Receipt.objects.filter(item="test-visit").exists()
    good = tmp_path / "good.csv"
    good.write_text("person_id,item,since\n1,test-visit,2026-01-01\n", encoding="utf-8")
    call_command("eligibility", "receipts", str(good))
    call_command("eligibility", "receipts", str(good))  # idempotent
    assert Receipt.objects.get(person_id=1, item="test-visit").since == dt.date(2026, 1, 1)
