"""The proactive list, through the officer's pages: what is worth a call, by township; each person as an
officer needs them (masked name, age, village, masked phone, status, link); filters; outcomes; the export."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.http import StreamingHttpResponse
from django.test import Client
from openpyxl import load_workbook

from fuwu.accounts.models import Department, Role, User
from fuwu.areas.models import Area, AreaLevel
from fuwu.common.models import AuditLog
from fuwu.eligibility import proactive
from fuwu.eligibility.models import Candidate, OutreachRecord, Receipt, ScreeningRun
from fuwu.residents.models import Person
from fuwu.standards.parsing import StandardFileError, parse_many
from fuwu.standards.services import standards_load
from tests.conftest import REPO
from tests.eligibility.stores import Answer, stored_run
from tests.residents.factories import PersonFactory

pytestmark = pytest.mark.django_db
HAIMEN, HAIMEN_EAST, BAIYUN, ZEGUO = "331002001901", "331002001902", "331002002901", "331081100901"
AS_OF = dt.date(2026, 11, 29)

# The mini standard with three items: one worth a call, one for everyone, one whose standard does not say.
OTHER_ITEMS = """  - id: test-radio
    name: {zh: 收听广播, en: Radio}
    life_area: culture-sports
    proactive: {outreach: false, modeled: true}
    target_group: {text: {zh: 城乡居民, en: Everyone}}
    content: {text: {zh: 免费广播节目, en: Free radio channels}}
  - id: test-national
    name: {zh: 国家探访项目, en: National visits}
    life_area: elderly
    proactive: {outreach: true}
    target_group: {text: {zh: 老年人, en: Older people}}
    content: {text: {zh: 探访, en: Visits}}
  - id: test-quiet
    name: {zh: 未注明项目, en: Undeclared item}
    life_area: culture-sports
    target_group: {text: {zh: 城乡居民, en: Everyone}}
    content: {text: {zh: 说明, en: Text}}
indicators:
"""


@pytest.fixture
def standard(write_standard: Callable[..., Path]) -> None:
    marks = "    life_area: elderly\n    proactive: {outreach: true}\n    national_item: test-national\n"
    path = write_standard("    life_area: elderly\n", marks)
    text = path.read_text(encoding="utf-8").replace("indicators:\n", OTHER_ITEMS, 1)
    path.write_text(text, encoding="utf-8")
    standards_load(parsed=parse_many([path]), actor=None)


@pytest.fixture
def areas(db: None) -> None:
    city = Area.objects.create(code="331000", name_zh="台州市", level=AreaLevel.CITY)
    for county, county_name, township, township_name, villages in [
        ("331002", "椒江区", "331002001", "海门街道", [(HAIMEN, "海门村"), (HAIMEN_EAST, "海门东村")]),
        ("331002", "椒江区", "331002002", "白云街道", [(BAIYUN, "白云社区")]),
        ("331081", "温岭市", "331081100", "泽国镇", [(ZEGUO, "泽国村")]),
    ]:
        c = Area.objects.get_or_create(
            code=county, defaults={"name_zh": county_name, "level": AreaLevel.COUNTY, "parent": city}
        )[0]
        t = Area.objects.create(code=township, name_zh=township_name, level=AreaLevel.TOWNSHIP, parent=c)
        for code, name in villages:
            Area.objects.create(code=code, name_zh=name, level=AreaLevel.VILLAGE, parent=t)


@pytest.fixture
def people(areas: None) -> dict[str, Person]:
    return {
        "wang": PersonFactory(
            name="王秀英",
            birth_date=dt.date(1944, 3, 1),
            female=True,
            hukou_area=HAIMEN,
            phone="13812345678",
            emergency_name="李建国",
            emergency_relation="儿子",
            emergency_phone="13998765432",
        ),
        "chen": PersonFactory(name="陈阿毛", birth_date=dt.date(1950, 12, 1), hukou_area=HAIMEN_EAST),
        "zhao": PersonFactory(name="赵大海", birth_date=dt.date(1939, 1, 1), hukou_area=BAIYUN, phone="0576-88123456"),
        "lin": PersonFactory(name="林小梅", birth_date=dt.date(1941, 7, 7), hukou_area=ZEGUO, phone="13600000000"),
        "served": PersonFactory(name="周已享", birth_date=dt.date(1940, 1, 1), hukou_area=HAIMEN),
    }


def result(person_id: int, area: str, item: str, status: str = "eligible") -> Answer:
    amount = Decimal("120.00") if status == "eligible" and item == "test-visit" else None
    return (person_id, area, item, status, amount)


def completed_run(answers: list[Answer], out: Path, population: str = "registry") -> ScreeningRun:
    """A run over these answers, stored as every run is: candidates, counts and changes from its files."""
    return stored_run(out, answers, population=population, as_of=AS_OF)


@pytest.fixture
def run(standard: None, people: dict[str, Person], tmp_path: Path) -> ScreeningRun:
    answers = []
    for key in ("wang", "chen", "zhao", "lin", "served"):
        p = people[key]
        answers += [result(p.pk, p.hukou_area, item) for item in ("test-visit", "test-radio", "test-quiet")]
    answers.append(result(people["wang"].pk, HAIMEN, "test-national"))  # implemented by test-visit: called about that
    answers.append(result(999_999, HAIMEN, "test-visit", status="unknown"))
    Receipt.objects.create(person_id=people["served"].pk, item="test-visit")
    return completed_run(answers, tmp_path / "run")


def officer(code: str = "331002", username: str = "") -> User:
    department = Department.objects.get_or_create(code="civil-affairs", defaults={"name_zh": "民政局"})[0]
    return User.objects.create_user(
        username or f"officer-{code}",
        password="x-long-password-1",
        role=Role.DEPARTMENT_OFFICER,
        department=department,
        area=Area.objects.get(code=code),
    )


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def listed(user: User) -> list[AuditLog]:
    return list(AuditLog.objects.filter(event="persons.listed", actor=user))


# --- Seen: "rows show a bare person number — no name, age, village, phone or link" ------------------------------


def test_rows_show_the_masked_name_age_village_phone_status_and_a_link(
    run: ScreeningRun, people: dict[str, Person]
) -> None:
    user = officer()
    page = client_for(user).get(f"/proactive/{run.pk}/331002001/test-visit/").content.decode()
    wang = people["wang"]
    assert "王*" in page
    assert "王秀英" not in page
    assert "82 岁" in page  # born 1944-03-01, screened as of 2026-11-29
    assert "海门村" in page
    assert "海门街道" in page
    assert "138****5678" in page
    assert "13812345678" not in page
    assert "李*（儿子）" in page
    assert "139****5432" in page
    assert f'href="/residents/{wang.pk}/"' in page
    assert "待联系" in page
    assert "陈*" in page
    assert "未登记电话" in page
    assert "周*" not in page  # already served
    assert "赵*" not in page
    assert "林*" not in page
    # The page is a read of the persons it shows.
    [read] = listed(user)
    assert read.after["persons"] == 2
    assert read.after["person_ids"] == sorted([wang.pk, people["chen"].pk])
    assert read.object_id == str(run.pk)


def test_the_person_link_opens_the_record_and_the_phone_is_revealed_from_the_row(
    run: ScreeningRun, people: dict[str, Person]
) -> None:
    client = client_for(officer())
    wang = people["wang"]
    page = client.get(f"/proactive/{run.pk}/331002001/test-visit/").content.decode()
    assert f'hx-post="/residents/{wang.pk}/contact/"' in page
    assert client.get(f"/residents/{wang.pk}/").status_code == 200
    fragment = client.post(f"/residents/{wang.pk}/contact/", HTTP_HX_REQUEST="true").content.decode()
    assert 'href="tel:13812345678"' in fragment
    assert AuditLog.objects.filter(event="person.contact_revealed", object_id=str(wang.pk)).count() == 1


def test_an_auditor_reads_the_list_masked_and_records_nothing(run: ScreeningRun, people: dict[str, Person]) -> None:
    auditor = User.objects.create_user("auditor", password="x-long-password-1", role=Role.AUDITOR)
    client = client_for(auditor)
    page = client.get(f"/proactive/{run.pk}/331002001/test-visit/").content.decode()
    assert "王*" in page
    assert "138****5678" in page
    assert "显示号码" not in page
    assert "/record/" not in page  # no outcome forms
    assert f'href="/residents/{people["wang"].pk}/"' in page
    assert listed(auditor)[0].after["persons"] == 2


@pytest.mark.parametrize("role", [Role.RESIDENT, Role.CAREGIVER, Role.PROVIDER_ADMIN, Role.STANDARDS_OFFICE])
def test_other_roles_see_nobody(run: ScreeningRun, role: Role) -> None:
    user = User.objects.create_user(f"u-{role}", password="x-long-password-1", role=role)
    assert not proactive.newly_entitled(run=run, user=user).exists()
    client = client_for(user)
    for url in ("/proactive/", f"/proactive/{run.pk}/list/", f"/proactive/{run.pk}/export.xlsx"):
        assert client.get(url).status_code == 403
    assert not AuditLog.objects.filter(event__startswith="persons.").exists()


# --- Seen: "one unfiltered table of ~700 rows led by universal items" -------------------------------------------


def test_the_overview_leads_with_items_worth_a_call_by_township_with_counts(
    run: ScreeningRun, people: dict[str, Person]
) -> None:
    page = client_for(officer()).get("/proactive/").content.decode()
    worth, _, others = page.partition('<details class="others">')
    # Townships in the officer's county, each with the items worth a call and how many wait.
    assert "海门街道" in worth
    assert "白云街道" in worth
    assert "泽国镇" not in worth
    assert "共 2 人次，待联系 2 人次" in worth  # 海门: 王 and 陈 (周 is served)
    assert f"/proactive/{run.pk}/331002001/test-visit/" in worth
    assert f"/proactive/{run.pk}/331002001/test-visit/?status=pending" in worth
    assert worth.index("海门街道") < worth.index("白云街道")
    # Universal items only after, as one total each; the undeclared item is marked as such.
    assert "收听广播" not in worth.split("<h2>")[-1]
    assert "收听广播" in others
    assert "标准未注明" in others
    assert "国家探访项目" not in worth.split("<h2>")[-1]
    assert "由本地项目实施：高龄老人上门探访" in others
    # Counted from the run's counts (4 entitled to the radio in the county), not listed person by person.
    assert '<td class="num">4</td>' in others
    assert f"/proactive/{run.pk}/list/?item=test-radio" not in others
    assert "标准要求逐一联系的项目共 3 人次，其中 3 人次待联系" in worth  # not 11: radio and the rest are apart
    assert worth.count("<tr>") < 10


def test_filters_by_item_township_and_status(run: ScreeningRun, people: dict[str, Person]) -> None:
    client = client_for(officer())
    base = f"/proactive/{run.pk}/list/"
    everything_worth_a_call = client.get(base).content.decode()
    assert "共 3 人次" in everything_worth_a_call  # 王, 陈, 赵 for the visit; radio and quiet left out
    assert "收听广播" not in everything_worth_a_call.split("<tbody>")[1]
    # Items not worth a call have no candidates: the run's files keep them, the database does not.
    radio = client.get(base, {"item": "test-radio"}).content.decode()
    assert "共 0 人次" in radio
    assert Candidate.objects.filter(run=run).count() == 4  # 王, 陈, 赵, 林 for the visit (周 is served)
    everything = client.get(base, {"item": proactive.ALL_ITEMS}).content.decode()
    assert "共 3 人次" in everything
    baiyun = client.get(base, {"township": "331002002"}).content.decode()
    assert "赵*" in baiyun
    assert "王*" not in baiyun
    assert "0576-****3456" in baiyun
    OutreachRecord.objects.create(run=run, person_id=people["wang"].pk, item="test-visit", status="contacted")
    contacted = client.get(base, {"status": "contacted"}).content.decode()
    assert "共 1 人次" in contacted
    assert "王*" in contacted
    pending = client.get(base, {"status": "pending"}).content.decode()
    assert "共 2 人次" in pending
    assert "王*" not in pending
    # Malformed filters widen the list instead of failing.
    assert client.get(base, {"status": "nonsense", "township": "x' OR 1"}).status_code == 200
    # The counts on the overview agree.
    overview = client.get(f"/proactive/{run.pk}/").content.decode()
    assert "共 2 人次，待联系 1 人次" in overview


def test_filters_refresh_the_results_in_place_with_htmx(run: ScreeningRun) -> None:
    client = client_for(officer())
    page = client.get(f"/proactive/{run.pk}/list/").content.decode()
    assert 'hx-get="/proactive/' in page
    assert 'hx-target="#outreach-results"' in page
    assert '<label for="f-item">' in page
    assert '<label for="f-township">' in page
    assert '<label for="f-status">' in page
    partial = client.get(f"/proactive/{run.pk}/list/", {"township": "331002002"}, HTTP_HX_REQUEST="true")
    html = partial.content.decode()
    assert "<html" not in html
    assert "<table" in html
    assert "赵*" in html
    assert "王*" not in html
    assert "township=331002002" in html  # the export links follow the filters


def test_long_lists_are_paged(run: ScreeningRun, people: dict[str, Person], monkeypatch: Any) -> None:
    monkeypatch.setattr(proactive, "PAGE_SIZE", 2)
    client = client_for(officer())
    first = client.get(f"/proactive/{run.pk}/list/").content.decode()
    assert "第 1 页，共 2 页" in first
    assert "page=2" in first
    second = client.get(f"/proactive/{run.pk}/list/", {"page": "2"}).content.decode()
    assert "赵*" in second
    assert "王*" not in second
    assert [r.after["persons"] for r in AuditLog.objects.filter(event="persons.listed").order_by("id")] == [2, 1]


# --- Outcomes ---------------------------------------------------------------------------------------------------


def test_the_officer_records_outcomes_from_the_row_and_they_are_audited(
    run: ScreeningRun, people: dict[str, Person]
) -> None:
    user = officer()
    client = client_for(user)
    wang = people["wang"]
    url = f"/proactive/{run.pk}/record/"
    back = f"/proactive/{run.pk}/list/?status=pending"
    response = client.post(
        url, {"person_id": wang.pk, "item": "test-visit", "status": "contacted", "note": "电话已通知", "next": back}
    )
    assert response.status_code == 302
    assert response["Location"] == back
    record = OutreachRecord.objects.get()
    assert (record.status, record.note, record.updated_by) == ("contacted", "电话已通知", user)
    assert AuditLog.objects.filter(event="outreach.recorded", actor=user).count() == 1
    # With htmx the saved row comes back in place.
    row = client.post(
        url, {"person_id": wang.pk, "item": "test-visit", "status": "applied", "note": ""}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert row.startswith("<tr") or row.lstrip().startswith("<tr")
    assert "已保存" in row
    assert '<option value="applied" selected>' in row
    assert AuditLog.objects.filter(event="outreach.recorded", actor=user).count() == 2
    # Someone outside the officer's area cannot be recorded; nor can an unsafe "next" redirect away.
    response = client.post(
        url,
        {"person_id": people["lin"].pk, "item": "test-visit", "status": "contacted", "next": "https://evil.example/"},
        follow=True,
    )
    assert "此人不在您的主动服务名单上" in response.content.decode()
    assert response.redirect_chain[0][0] == f"/proactive/{run.pk}/list/"
    assert OutreachRecord.objects.count() == 1


# --- Seen: "Excel export slow (4.7 s idle, 39 s under load)" ----------------------------------------------------


def _body(response: Any) -> bytes:
    assert isinstance(response, StreamingHttpResponse)
    return b"".join(response.streaming_content)


def test_the_export_streams_and_holds_the_rows_as_the_page_shows_them(
    run: ScreeningRun, people: dict[str, Person], monkeypatch: Any
) -> None:
    monkeypatch.setattr(proactive, "EXPORT_CHUNK", 1)  # every result its own chunk: the boundaries hold
    user = officer()
    OutreachRecord.objects.create(
        run=run, person_id=people["wang"].pk, item="test-visit", status="contacted", note='=HYPERLINK("http://x")'
    )
    response = client_for(user).get(f"/proactive/{run.pk}/export.xlsx")
    assert response.streaming  # sent as it is written: the first bytes leave before the last row is read
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    first = next(iter(response.streaming_content))
    assert first.startswith(b"PK")
    body = first + b"".join(response.streaming_content)
    sheet = load_workbook(io.BytesIO(body)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:7] == ("人员编号", "姓名", "年龄", "乡镇（街道）", "村（社区）", "村（社区）代码", "联系电话")
    by_person = {r[0]: r for r in rows[1:]}
    assert set(by_person) == {people["wang"].pk, people["chen"].pk, people["zhao"].pk}
    wang = by_person[people["wang"].pk]
    assert wang[1:7] == ("王*", 82, "海门街道", "海门村", HAIMEN, "138****5678")
    assert wang[7:11] == ("高龄老人上门探访", "test-visit", 120, "已联系")
    assert wang[11] == '\'=HYPERLINK("http://x")'  # a formula typed as a note stays text
    assert by_person[people["zhao"].pk][6] == "0576-****3456"
    [exported] = AuditLog.objects.filter(event="persons.exported", actor=user)
    assert (exported.after["persons"], exported.after["results"]) == (3, 3)


def test_the_export_follows_the_filters_and_offers_csv(run: ScreeningRun, people: dict[str, Person]) -> None:
    client = client_for(officer())
    body = _body(client.get(f"/proactive/{run.pk}/export.csv", {"township": "331002002"}))
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][0] == "人员编号"
    assert [r[0] for r in rows[1:]] == [str(people["zhao"].pk)]
    assert rows[1][6] == "0576-****3456"
    visit = _body(client.get(f"/proactive/{run.pk}/export.xlsx", {"item": "test-visit"}))
    sheet = load_workbook(io.BytesIO(visit)).active
    assert sheet is not None
    assert {r[8] for r in list(sheet.iter_rows(values_only=True))[1:]} == {"test-visit"}


# --- A generated population's run: its ids are the registry's source_id ----------------------------------------


def test_a_population_run_finds_its_people_in_the_registry_by_source_id(
    standard: None, areas: None, tmp_path: Path
) -> None:
    loaded = PersonFactory(name="孙悟空", hukou_area=HAIMEN, source_id="4711", phone="13912345678")
    answers = [result(4711, HAIMEN, "test-visit"), result(4712, HAIMEN, "test-visit")]  # 4712: not in the registry
    run = completed_run(answers, tmp_path / "run", "var/demo-population.parquet")
    page = client_for(officer()).get(f"/proactive/{run.pk}/331002001/test-visit/").content.decode()
    assert "孙*" in page
    assert "139****5678" in page
    assert f'href="/residents/{loaded.pk}/"' in page
    assert "<td>4712</td>" in page
    assert "未在居民档案中" in page


# --- The standard says which items are worth a call -------------------------------------------------------------


def test_every_item_in_the_standards_says_whether_it_is_worth_a_call() -> None:
    parsed = parse_many([REPO / "standards"])
    items = {item.id: item for p in parsed for item in p.document.items}
    undeclared = sorted(k for k, item in items.items() if item.proactive is None)
    assert undeclared == []
    for universal in (
        "gb-radio-listening",
        "gb-television-watching",
        "gb-reading",
        "gb-health-records",
        "pc-library-free-services",
        "sv-free-low-fee-opening",
        "hc-package-care",  # self-paid
    ):
        mark = items[universal].proactive
        assert mark is not None, universal
        assert mark.outreach is False, universal
    for worth in ("gb-minimum-living-allowance", "sr-minimum-living-allowance", "hc-bathing", "pt-elderly-free-ride"):
        mark = items[worth].proactive
        assert mark is not None, worth
        assert mark.outreach is True, worth


def test_a_bad_outreach_mark_is_a_file_line_error(write_standard: Callable[..., Path]) -> None:
    path = write_standard("    life_area: elderly\n", "    life_area: elderly\n    proactive: {outreach: perhaps}\n")
    line = path.read_text(encoding="utf-8").splitlines().index("    proactive: {outreach: perhaps}") + 1
    with pytest.raises(StandardFileError) as caught:
        parse_many([path])
    [error] = [str(e) for e in caught.value.errors]
    assert error.startswith(f"{path}:{line}: items[0].proactive.outreach: ")
    path = write_standard(
        "    life_area: elderly\n", "    life_area: elderly\n    proactive: {outreach: true, call: 1}\n"
    )
    with pytest.raises(StandardFileError, match=r"proactive\.call"):
        parse_many([path])


# --- Receipts -----------------------------------------------------------------------------------------------------


def test_receipts_import_removes_the_served_from_the_list(run: ScreeningRun, tmp_path: Any) -> None:
    from django.core.management import call_command
    from django.core.management.base import CommandError

    bad = tmp_path / "bad.csv"
    bad.write_text(
        "人员编号,服务项目代码,起始日期\n1,test-visit,2026-01-01\nx,test-visit,\n3,nope,\n", encoding="utf-8"
    )
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("eligibility", "receipts", str(bad))
    assert not Receipt.objects.filter(person_id=1).exists()
    person = Candidate.objects.filter(run=run, item="test-visit", hukou_area=BAIYUN).get().person_id
    good = tmp_path / "good.csv"
    good.write_text(f"person_id,item,since\n{person},test-visit,2026-01-01\n", encoding="utf-8")
    call_command("eligibility", "receipts", str(good))
    call_command("eligibility", "receipts", str(good))  # idempotent
    assert Receipt.objects.get(person_id=person, item="test-visit").since == dt.date(2026, 1, 1)
    assert person not in [r.person_id for r in proactive.newly_entitled(run=run, user=officer(), item="test-visit")]
