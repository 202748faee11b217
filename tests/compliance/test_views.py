"""The pages through the test client: who sees what (a matrix), the field page's saving, uploads, the office's
draw and import, and the public seeing only what is published."""

from __future__ import annotations

import html
import io
import json
import re
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import load_workbook
from pypdf import PdfReader

from fuwu.accounts.models import Role
from fuwu.compliance.models import (
    Answer,
    Draw,
    Evidence,
    Inspection,
    InspectionStatus,
    Institution,
    RectificationOrder,
)
from fuwu.compliance.services.draws import draw_make, draw_publish
from fuwu.compliance.services.inspections import inspection_publish, inspection_sign
from tests.common.test_uploads import jpeg
from tests.compliance.conftest import TODAY, World, fill, started
from tests.compliance.test_institutions import GOOD, workbook


def client_for(world: World, name: str | None) -> Client:
    client = Client()
    if name is not None:
        client.force_login(world.user(name))
    return client


@pytest.fixture
def scene(world: World) -> dict[str, Any]:
    """A published result with an order (和美), a signed unpublished one (海门), one in progress (幸福), a draw."""
    published = started(world, "hemei")
    fill(published, world.user("inspector0"), results={"4.2": "not"})
    inspection_sign(actor=world.user("inspector0"), inspection=published)
    inspection_publish(actor=world.user("officer"), inspection=published)
    unpublished = started(world, "haimen")
    fill(unpublished, world.user("inspector0"))
    inspection_sign(actor=world.user("inspector0"), inspection=unpublished)
    in_progress = started(world, "xingfu", pair=(2, 3))
    draw = draw_make(
        actor=world.user("officer"),
        area=world.areas["331002"],
        period_start=TODAY,
        period_end=TODAY,
        ratios={"micro-fire-station": Decimal(1)},
        seed="99",
    )
    return {
        "published": published,
        "unpublished": unpublished,
        "in_progress": in_progress,
        "order": RectificationOrder.objects.get(inspection=published),
        "draw": draw,
        "hemei": world.institutions["hemei"],
    }


def url(template: str, scene: dict[str, Any]) -> str:
    return template.format(**{k: v.pk for k, v in scene.items()})


# (path, roles that get 200; everyone else 302 to login when signed out, 403 or 404 when signed in)
MATRIX = [
    ("/compliance/", "all"),
    ("/compliance/institutions/{hemei}/", "all"),
    ("/compliance/results/", "all"),
    ("/compliance/results/{published}/", "all"),
    ("/compliance/coverage/", "all"),
    # Office pages for every officer (each sees their own area's rows), the standards office and auditors.
    ("/compliance/office/", {"officer", "hy_officer", "stdoffice", "auditor"}),
    ("/compliance/office/institutions/", {"officer", "hy_officer", "stdoffice", "auditor"}),
    ("/compliance/office/institutions/import/", {"officer", "hy_officer"}),
    ("/compliance/office/draws/new/", {"officer", "hy_officer"}),
    # 椒江's draw: not 黄岩's officer's.
    ("/compliance/office/draws/{draw}/", {"officer", "stdoffice", "auditor"}),
    ("/compliance/office/rectifications/", {"officer", "hy_officer", "stdoffice", "auditor"}),
    ("/compliance/office/pilots/", {"officer", "hy_officer", "stdoffice", "auditor"}),
    ("/compliance/field/", {"inspector0", "inspector2"}),
    ("/compliance/mine/", {"station_admin", "centre_admin"}),
    # The published inspection: its inspectors, the institution, the officer of the area and the city's readers.
    ("/compliance/inspections/{published}/", {"inspector0", "station_admin", "officer", "stdoffice", "auditor"}),
    # One in progress: its own inspectors and the area's overseers only; the institution waits for the signature.
    ("/compliance/inspections/{in_progress}/", {"inspector2", "officer", "stdoffice", "auditor"}),
    ("/compliance/rectifications/{order}/", {"inspector0", "station_admin", "officer", "stdoffice", "auditor"}),
]
PEOPLE = [
    None,
    "resident",
    "officer",
    "hy_officer",
    "stdoffice",
    "auditor",
    "inspector0",
    "inspector2",
    "station_admin",
    "centre_admin",
]


@pytest.mark.parametrize(("path", "allowed"), MATRIX)
def test_who_sees_which_page(world: World, scene: dict[str, Any], path: str, allowed: Any) -> None:
    for person in PEOPLE:
        response = client_for(world, person).get(url(path, scene))
        if allowed == "all" or person in allowed:
            assert response.status_code == 200, (person, path)
        elif person is None:
            assert response.status_code == 302, (person, path)
            assert "/accounts/login/" in response["Location"]
        else:
            assert response.status_code in (403, 404), (person, path, response.status_code)


def test_the_public_sees_only_what_is_published(world: World, scene: dict[str, Any]) -> None:
    anon = Client()
    assert anon.get(f"/compliance/results/{scene['unpublished'].pk}/").status_code == 404
    assert anon.get(f"/compliance/inspections/{scene['unpublished'].pk}/record.pdf").status_code == 404
    assert anon.get(f"/compliance/draws/{scene['draw'].pk}/").status_code == 404  # drawn, not yet published
    page = anon.get(f"/compliance/institutions/{world.institutions['haimen'].pk}/").content.decode()
    assert "这个机构还没有公开的检查结果" in page  # signed, but not published
    page = anon.get(f"/compliance/institutions/{scene['hemei'].pk}/").content.decode()
    assert "五星级" in page  # 96.1: one sign missing, not a critical clause
    assert "另有 1 项问题正在整改" in page
    draw_publish(actor=world.user("officer"), draw=scene["draw"])
    public = anon.get(f"/compliance/draws/{scene['draw'].pk}/").content.decode()
    assert "99" in public
    assert "sha256-rank-v1" in public


def test_an_institution_sees_only_itself(world: World, scene: dict[str, Any]) -> None:
    centre = client_for(world, "centre_admin")
    assert centre.get(f"/compliance/inspections/{scene['published'].pk}/").status_code == 404
    assert centre.get(f"/compliance/rectifications/{scene['order'].pk}/").status_code == 404
    mine = centre.get("/compliance/mine/").content.decode()
    assert "椒江区退役军人服务中心" in mine
    assert "和美社区退役军人服务站" not in mine


def test_an_inspector_sees_and_answers_only_their_assignments(world: World, scene: dict[str, Any]) -> None:
    other = client_for(world, "inspector0")
    item = scene["in_progress"].items.first()
    response = other.post(
        f"/compliance/inspections/{scene['in_progress'].pk}/items/{item.pk}/answer/", {"result": "compliant"}
    )
    assert response.status_code == 404
    assert not Answer.objects.filter(item=item).exists()


def test_the_field_page_saves_each_answer_and_says_so_in_json(world: World, scene: dict[str, Any]) -> None:
    inspection = scene["in_progress"]
    client = client_for(world, "inspector2")
    page = client.get(f"/compliance/inspections/{inspection.pk}/").content.decode()
    assert "data-answer" in page
    item = inspection.items.get(clause_number="4.2")
    answer_url = f"/compliance/inspections/{inspection.pk}/items/{item.pk}/answer/"
    reply = client.post(
        answer_url,
        {"result": "not", "note": "没有标牌", "client_time": "2026-11-23T10:00:00+08:00"},
        headers={"X-Requested-With": "fetch"},
    )
    assert reply.status_code == 200
    body = reply.json()
    assert (body["ok"], body["applied"], body["answered"]) == (True, True, 1)
    # A replay of an older answer from the phone's queue changes nothing.
    stale = client.post(
        answer_url,
        {"result": "compliant", "client_time": "2026-11-23T09:00:00+08:00"},
        headers={"X-Requested-With": "fetch"},
    )
    assert stale.json()["applied"] is False
    assert Answer.objects.get(item=item).result == "not"
    refused = client.post(answer_url, {"result": "partly"}, headers={"X-Requested-With": "fetch"})
    assert refused.status_code == 400
    assert refused.json()["code"] == "note_required"
    # Without the script: a redirect back to the clause, with the message.
    plain = client.post(answer_url, {"result": "compliant"}, follow=True)
    assert plain.redirect_chain[-1][0].endswith(f"#item-{item.pk}")
    assert "已保存" in plain.content.decode()


def test_a_photo_sent_with_the_phones_position(world: World, scene: dict[str, Any]) -> None:
    inspection = scene["in_progress"]
    client = client_for(world, "inspector2")
    item = inspection.items.get(clause_number="5.3")
    target = f"/compliance/inspections/{inspection.pk}/items/{item.pk}/evidence/"
    page = client.post(
        target,
        {
            "file": SimpleUploadedFile("IMG.jpg", jpeg()),
            "latitude": "28.6751",
            "longitude": "121.4302",
            "accuracy": "9",
        },
        follow=True,
    ).content.decode()
    assert "已上传（含拍摄位置）" in page
    evidence = Evidence.objects.get(item=item)
    assert (str(evidence.latitude), evidence.accuracy_m) == ("28.675100", 9)
    assert client.get(f"/compliance/evidence/{evidence.pk}/")["Content-Type"] == "image/jpeg"
    assert client_for(world, "inspector0").get(f"/compliance/evidence/{evidence.pk}/").status_code == 404
    renamed = client.post(target, {"file": SimpleUploadedFile("IMG2.jpg", b"%PDF-1.4 not a photo %%EOF")}, follow=True)
    assert "内容却不是这种格式" in renamed.content.decode()
    bad_place = client.post(
        target, {"file": SimpleUploadedFile("IMG3.jpg", jpeg()), "latitude": "91", "longitude": "1"}, follow=True
    )
    assert "位置数据无效" in bad_place.content.decode()
    assert Evidence.objects.filter(item=item).count() == 1


def test_signing_from_the_page_and_the_record_in_chinese(world: World, scene: dict[str, Any]) -> None:
    inspection = scene["in_progress"]
    client = client_for(world, "inspector2")
    refused = client.post(f"/compliance/inspections/{inspection.pk}/sign/", follow=True).content.decode()
    assert "还有 " in refused
    fill(inspection, world.user("inspector2"))
    signed = client.post(f"/compliance/inspections/{inspection.pk}/sign/", {"summary": "站点运转正常"}, follow=True)
    assert "检查记录已签署" in signed.content.decode()
    inspection.refresh_from_db()
    assert inspection.status == InspectionStatus.SIGNED
    pdf = client.get(f"/compliance/inspections/{inspection.pk}/record.pdf")
    assert pdf["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "检查记录" in text
    assert "幸福社区退役军人服务站" in text
    assert "五星级" in text
    fonts = {str(f) for page in PdfReader(io.BytesIO(pdf.content)).pages for f in page["/Resources"]["/Font"].values()}
    assert fonts  # embedded fonts


def test_the_officer_draws_publishes_and_cannot_redraw_without_a_reason(world: World) -> None:
    client = client_for(world, "officer")
    form = client.get("/compliance/office/draws/new/").content.decode()
    assert "村级微型消防站 抽查比例（%）" in form
    made = client.post(
        "/compliance/office/draws/new/",
        {"period_start": "2027-01-01", "period_end": "2027-01-31", "ratio_micro-fire-station": "100", "seed": "7"},
    )
    draw = Draw.objects.get(period_start="2027-01-01")
    assert made["Location"] == f"/compliance/office/draws/{draw.pk}/"
    assert client.get(f"/compliance/office/draws/{draw.pk}/?verify=1").content.decode().count("复核通过") == 1
    again = client.post(
        "/compliance/office/draws/new/",
        {"period_start": "2027-01-01", "period_end": "2027-01-31", "ratio_micro-fire-station": "100"},
    ).content.decode()
    assert "抽取结果不能悄悄重来" in again
    client.post(f"/compliance/office/draws/{draw.pk}/publish/")
    client.post(f"/compliance/office/draws/{draw.pk}/redraw/", {"reason": ""})
    draw.refresh_from_db()
    assert draw.status == "published"
    client.post(f"/compliance/office/draws/{draw.pk}/redraw/", {"reason": "检查人员库有误"})
    draw.refresh_from_db()
    assert draw.status == "superseded"
    public = Client().get(f"/compliance/draws/{draw.pk}/").content.decode()
    assert "这次抽取已作废" in public
    assert "检查人员库有误" in public


def test_the_import_page_reports_row_errors_and_offers_them_as_excel(world: World) -> None:
    client = client_for(world, "officer")
    bad = [1, "某机构", "养老院", "X-1", "331002001901", "地址", None, None, None, None]
    page = client.post(
        "/compliance/office/institutions/import/",
        {"file": SimpleUploadedFile("机构.xlsx", workbook(bad, GOOD[1]))},
    ).content.decode()
    assert "没有导入任何数据" in page
    assert "不是现行标准中的机构类型" in page
    link = re.search(r'href="(/compliance/office/imports/\d+/errors.xlsx)"', page)
    assert link is not None
    sheet = load_workbook(
        io.BytesIO(
            client.get(link.group(1)).getvalue()
            if hasattr(client.get(link.group(1)), "getvalue")
            else b"".join(client.get(link.group(1)).streaming_content)
        )
    ).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("行", "列", "问题", "如何修改")
    assert rows[1][0] == 2
    assert not Institution.objects.filter(code="MF-XF").exists()
    # Someone else's import report is not theirs to download.
    assert client_for(world, "hy_officer").get(link.group(1)).status_code == 404


def test_coverage_downloads_as_a_workbook_and_the_map_is_the_repositorys_own(
    world: World, scene: dict[str, Any]
) -> None:
    anon = Client()
    response = anon.get("/compliance/coverage.xlsx")
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert book.sheetnames[0] == "汇总"
    assert "taizhou-veterans-service-centre" in book.sheetnames
    geojson = json.loads(b"".join(anon.get("/compliance/map/counties.geojson").streaming_content))
    assert geojson["source"]["dated"] == "2018-02-09"
    page = anon.get("/compliance/coverage/?standard=taizhou-veterans-service-centre").content.decode()
    assert "echarts-china-cities-pypkg 0.0.9" in page
    assert "2018-02-09" in page
    assert "http://" not in page.split("<footer")[0].replace('xmlns="http://', "")
    assert "https://" not in page.split("<footer")[0]


def _text(page: str) -> str:
    body = page.split("<main", 1)[1].split("</main>", 1)[0]
    body = re.sub(r"<script.*?</script>", " ", body, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


@pytest.mark.parametrize("path", ["/compliance/", "/compliance/results/", "/compliance/coverage/"])
def test_public_pages_show_no_internal_keys(world: World, scene: dict[str, Any], path: str) -> None:
    draw_publish(actor=world.user("officer"), draw=scene["draw"])
    text = _text(Client().get(path).content.decode())
    for key in ("veterans-station-village", "micro-fire-station", "official", "published", "compliant", "sha256"):
        assert key not in text, (path, key)


def test_english_pages_speak_english(world: World, scene: dict[str, Any]) -> None:
    client = Client()
    client.cookies["django_language"] = "en"
    text = _text(client.get("/compliance/").content.decode())
    assert "Find service institutions" in text
    assert "Village veterans' service station" in text


def test_role_constants_cover_the_new_roles() -> None:
    assert {Role.INSTITUTION_ADMIN, Role.INSPECTOR} <= set(Role)
    assert Inspection.objects.model is Inspection
