"""The institution registry: Excel import with row errors, one-by-one registration, home-care providers linked."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from openpyxl import Workbook

from fuwu.areas.models import Area
from fuwu.common.models import AuditLog
from fuwu.compliance.models import ImportOutcome, Institution
from fuwu.compliance.services import ComplianceError
from fuwu.compliance.services.institutions import (
    institution_create,
    institutions_import,
    institutions_link_homecare_providers,
)
from fuwu.homecare.models import Provider
from tests.compliance.conftest import World

HEADER = ["序号", "机构名称", "机构类型", "登记编号", "所在地区代码", "地址", "纬度", "经度", "联系人", "联系电话"]
GOOD = [
    [
        1,
        "白云社区退役军人服务站",
        "村（社区）退役军人服务站",
        "VV-BY",
        "331002002901",
        "白云社区1号",
        28.66,
        121.42,
        "张站长",
        "0576-1234567",
    ],
    [2, "幸福社区微型消防站", "micro-fire-station", "MF-XF", "331002001902", "幸福社区2号", None, None, "", ""],
]


def workbook(*rows: list[Any], header: list[str] = HEADER) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def problems(report: Any) -> list[tuple[int, str, str]]:
    return [(p.row, p.column, p.problem) for p in report.problems]


def test_a_clean_list_is_imported_and_a_second_import_updates(world: World) -> None:
    report = institutions_import(actor=world.user("officer"), data=workbook(*GOOD), filename="机构.xlsx")
    assert report.problems == []
    assert (report.record.outcome, report.record.created, report.record.updated) == (ImportOutcome.IMPORTED, 2, 0)
    station = Institution.objects.get(code="VV-BY")
    assert (station.kind, station.area.code, str(station.latitude)) == (
        "veterans-station-village",
        "331002002901",
        "28.660000",
    )
    renamed = [list(GOOD[0]), GOOD[1]]
    renamed[0][1] = "白云社区退役军人服务站（新址）"
    again = institutions_import(actor=world.user("officer"), data=workbook(*renamed), filename="机构.xlsx")
    assert (again.record.created, again.record.updated) == (0, 2)
    assert Institution.objects.get(code="VV-BY").name.endswith("（新址）")
    assert AuditLog.objects.filter(event="compliance.institutions_imported").count() == 2


BAD_ROWS = [
    # kind unknown
    [1, "某机构", "养老院", "X-1", "331002001901", "地址", None, None, None, None],
    # village station in a township
    [2, "海门服务站", "veterans-station-village", "X-2", "331002001", "地址", None, None, None, None],
    # no such area, no address
    [3, "无名站", "micro-fire-station", "X-3", "331099001901", "", None, None, None, None],
    # latitude and longitude swapped
    [4, "颠倒站", "micro-fire-station", "X-4", "331002001901", "地址", 121.42, 28.66, None, None],
    # a phone that is not one
    [5, "电话站", "micro-fire-station", "X-5", "331002001901", "地址", None, None, None, "call me"],
    # outside the officer's county
    [6, "黄岩站", "micro-fire-station", "X-6", "331003001901", "地址", None, None, None, None],
    # the same code twice
    [7, "重复站", "micro-fire-station", "X-7", "331002001901", "地址", None, None, None, None],
    [8, "重复站二", "micro-fire-station", "X-7", "331002001902", "地址", None, None, None, None],
]


def test_each_bad_row_names_its_row_column_and_fix_and_nothing_is_written(world: World) -> None:
    report = institutions_import(actor=world.user("officer"), data=workbook(*BAD_ROWS, GOOD[1]), filename="x.xlsx")
    assert report.record.outcome == ImportOutcome.REJECTED
    assert not Institution.objects.filter(code__startswith="X-").exists()
    assert not Institution.objects.filter(code="MF-XF").exists()  # the good row waits for the bad ones
    found = problems(report)
    assert (2, "机构类型", "“养老院”不是现行标准中的机构类型") in found
    assert any(r == 3 and c == "所在地区代码" and "应设在村（社区）" in p for r, c, p in found)
    assert (4, "所在地区代码", "没有代码为 331099001901 的地区") in found
    assert (4, "地址", "为空") in found
    assert any(r == 5 and c == "纬度" and "可能把纬度和经度填反了" in p for r, c, p in found)
    assert any(r == 6 and c == "联系电话" for r, c, _ in found)
    assert (7, "所在地区代码", "331003001901 不在您的辖区内") in found
    assert (9, "登记编号", "与第 8 行重复") in found
    kinds_fix = next(p.fix for p in report.problems if p.row == 2)
    assert "村级微型消防站" in kinds_fix  # the fix lists the kinds that are valid
    assert report.record.rejected == 7  # rows 2-7 and 9; row 8 is the first of the pair


def test_valid_only_imports_the_good_rows_and_reports_the_rest(world: World) -> None:
    report = institutions_import(
        actor=world.user("officer"), data=workbook(BAD_ROWS[0], GOOD[1]), filename="x.xlsx", valid_only=True
    )
    assert report.record.outcome == ImportOutcome.PARTIAL
    assert (report.record.created, report.record.rejected) == (1, 1)
    assert Institution.objects.filter(code="MF-XF").exists()


@pytest.mark.parametrize(
    ("data", "filename", "problem"),
    [
        (b"\xd0\xcf\x11\xe0 old excel", "list.xls", "这是旧版 .xls 工作簿"),
        (b"not a workbook", "list.xlsx", "文件名是 .xlsx，但内容不是工作簿"),
        ("机构名称,机构类型\n".encode("gbk"), "list.csv", "文件不是 UTF-8 文本（可能是 GBK 编码的 CSV）"),
        (workbook(header=["机构名称", "机构类型", "颜色"]), "x.xlsx", "不认识的列“颜色”"),
        (workbook(header=["机构名称", "机构类型", "登记编号", "所在地区代码"]), "x.xlsx", "缺少“地址”列"),
        (workbook(), "x.xlsx", "表头下面没有机构"),
    ],
)
def test_a_file_that_cannot_be_read_says_why(world: World, data: bytes, filename: str, problem: str) -> None:
    report = institutions_import(actor=world.user("officer"), data=data, filename=filename)
    assert report.record.outcome == ImportOutcome.REJECTED
    assert problem in [p.problem for p in report.problems]


def test_a_csv_in_utf8_is_read_too(world: World) -> None:
    text = ",".join(HEADER) + "\n" + ",".join("" if v is None else str(v) for v in GOOD[1]) + "\n"
    report = institutions_import(actor=world.user("officer"), data=text.encode("utf-8-sig"), filename="x.csv")
    assert report.record.created == 1


def test_only_an_officer_imports_or_registers(world: World) -> None:
    for name in ("stdoffice", "auditor", "inspector0", "centre_admin", "resident"):
        with pytest.raises(PermissionDenied):
            institutions_import(actor=world.user(name), data=workbook(*GOOD), filename="x.xlsx")
    made = institution_create(
        actor=world.user("officer"),
        values={
            "name": "新站",
            "kind": "micro-fire-station",
            "code": "MF-NEW",
            "area": "331002002901",
            "address": "新村1号",
        },
    )
    assert made.kind == "micro-fire-station"
    with pytest.raises(ComplianceError) as caught:
        institution_create(
            actor=world.user("officer"),
            values={
                "name": "新站",
                "kind": "micro-fire-station",
                "code": "MF-NEW",
                "area": "331002002901",
                "address": "新村1号",
            },
        )
    assert caught.value.code == "duplicate_code"


@pytest.mark.django_db
def test_home_care_providers_become_institutions_once(world: World) -> None:
    from fuwu.standards.services import standards_load
    from tests.compliance.conftest import parsed

    standards_load(parsed=parsed("taizhou-home-care"), actor=None)
    county = Area.objects.get(code="331002")
    provider = Provider.objects.create(
        name="椒江安康居家养老服务中心",
        licence_number="JJ-2021-001",
        licence_valid_until="2028-12-31",
        address="椒江区海门街道",
        contact_name="王主任",
        contact_phone="0576-0000000",
    )
    provider.areas.add(county)
    provider.admins.add(world.user("centre_admin"))
    township_only = Provider.objects.create(
        name="只服务街道的机构",
        licence_number="JJ-2021-002",
        licence_valid_until="2028-12-31",
        address="海门街道",
        contact_name="李",
        contact_phone="0576-1",
    )
    township_only.areas.add(world.areas["331002001"])
    links = {link.provider: link for link in institutions_link_homecare_providers()}
    linked, skipped = links[provider], links[township_only]
    assert linked.institution is not None
    institution = linked.institution
    assert (institution.kind, institution.code, institution.area, institution.homecare_provider) == (
        "home-care-provider",
        "JJ-2021-001",
        county,
        provider,
    )
    assert list(institution.admins.all()) == [world.user("centre_admin")]
    assert skipped.institution is None
    assert "服务区域中没有县级行政区" in skipped.problem
    assert institutions_link_homecare_providers() == [skipped.__class__(township_only, None, skipped.problem)]
    assert provider.institution == institution  # the reverse link home care will use
