"""Importing resident lists: CSV and XLSX, the error report, all-or-nothing vs --valid-only, idempotence."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from openpyxl import Workbook, load_workbook

from fuwu.accounts.models import Role, User
from fuwu.common.models import AuditLog
from fuwu.jobs.kinds import Progress
from fuwu.jobs.models import Job
from fuwu.jobs.worker import run_queue
from fuwu.residents import crypto, idnumber
from fuwu.residents.models import Household, Person, PersonImport
from fuwu.residents.services import ImportReport, persons_import
from tests.residents.factories import IN_AREA_VILLAGE, OUT_OF_AREA_VILLAGE, PersonFactory

pytestmark = pytest.mark.django_db

HEADER = [
    "序号",
    "姓名",
    "身份证号",
    "户号",
    "户籍所在地（村、社区）",
    "性别",
    "出生日期",
    "与户主关系",
    "低收入类别",
    "残疾等级",
    "个人年收入",
    "独居",
]
HH1, HH2 = f"{IN_AREA_VILLAGE}000001", f"{IN_AREA_VILLAGE}000002"


def num(born: dt.date, sequence: int, county: str = "331002") -> str:
    return idnumber.make(county, born, sequence).value


GRANDPA = num(dt.date(1940, 2, 3), 11)
GRANDMA = num(dt.date(1942, 6, 7), 22)
SON = num(dt.date(1968, 9, 10), 33)
LODGER = num(dt.date(1955, 1, 1), 45)

EXCEL_DATE = dt.datetime(1940, 2, 3)  # noqa: DTZ001 - openpyxl reads date cells as naive datetimes
GOOD = [
    [1, "王大山", GRANDPA, HH1, IN_AREA_VILLAGE, "男", "1940-02-03", "户主", "低保", "0", "12000.50", "否"],
    [2, "陈秀英", GRANDMA, HH1, IN_AREA_VILLAGE, "女", "1942/06/07", "配偶", "低保", "二级", "", "否"],
    [3, "王建国", SON, HH1, IN_AREA_VILLAGE, "", "", "子", "none", "", "56000", ""],
    [4, "李根生", LODGER, HH2, IN_AREA_VILLAGE, "male", "19550101", "head", "无", "4", "8000", "是"],
]


def write_csv(path: Path, rows: list[list[Any]], *, header: list[str] = HEADER, bom: bool = True) -> Path:
    out = io.StringIO()
    csv.writer(out).writerows([header, *rows])
    path.write_bytes(out.getvalue().encode("utf-8-sig" if bom else "utf-8"))
    return path


def write_xlsx(path: Path, rows: list[list[Any]], *, header: list[str] = HEADER) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def messages(report: ImportReport) -> list[str]:
    return [str(e) for e in report.errors]


def number_of(person: Person) -> str:
    return crypto.decrypt(person.id_number_encrypted, lookup=person.id_number_hash).value


@pytest.mark.parametrize("bom", [True, False])
def test_csv_happy_path(tmp_path: Path, areas: object, bom: bool) -> None:
    report = persons_import(path=write_csv(tmp_path / "list.csv", GOOD, bom=bom), actor=None, valid_only=False)
    assert report.errors == []
    assert (report.record.outcome, report.record.created, report.record.rows) == ("imported", 4, 4)
    son = Person.objects.get(name="王建国")
    assert number_of(son) == SON
    # Left empty, sex and date of birth come from the number.
    assert (son.sex, son.birth_date) == ("male", dt.date(1968, 9, 10))
    assert (son.relation, son.low_income_status, son.income, son.lives_alone) == ("child", "none", Decimal(56000), None)
    grandma = Person.objects.get(name="陈秀英")
    assert (grandma.disability_grade, grandma.income, grandma.lives_alone) == (2, None, False)
    grandpa = Person.objects.get(name="王大山")
    assert (grandpa.relation, grandpa.low_income_status, grandpa.income) == (
        "head",
        "minimum_allowance",
        Decimal("12000.50"),
    )
    assert grandpa.disability_grade == 0
    assert grandpa.source_import == report.record
    assert Household.objects.get(household_id=HH1).members.count() == 3
    assert Person.objects.get(name="李根生").lives_alone is True
    # Columns the file does not have stay unknown.
    assert grandpa.care_need is None
    assert grandpa.hukou_type is None
    assert AuditLog.objects.filter(event="persons.imported", object_id=str(report.record.pk)).count() == 1


def test_xlsx_happy_path_with_english_headers_and_typed_cells(tmp_path: Path, areas: object) -> None:
    header = [
        "name",
        "id_number",
        "household_id",
        "hukou_area",
        "birth_date",
        "disability_grade",
        "income",
        "fd_diabetes",
    ]
    rows = [
        # Excel gives dates as datetimes, numbers as int/float, booleans as bool; codes typed as numbers too.
        ["王大山", GRANDPA, HH1, int(IN_AREA_VILLAGE), EXCEL_DATE, 1, 12000.5, True],
        ["陈秀英", GRANDMA, HH1, IN_AREA_VILLAGE, None, 3.0, 0, False],
    ]
    report = persons_import(path=write_xlsx(tmp_path / "list.xlsx", rows, header=header), actor=None, valid_only=False)
    assert report.errors == []
    assert report.record.created == 2
    grandpa = Person.objects.get(name="王大山")
    assert (grandpa.disability_grade, grandpa.income, grandpa.fd_diabetes) == (1, Decimal("12000.50"), True)
    assert number_of(grandpa) == GRANDPA
    assert Person.objects.get(name="陈秀英").household_id == HH1


BAD_ROWS: list[tuple[list[Any], str]] = [
    # (row, the one message it must give); each row is otherwise valid. Row numbers start at 2.
    (
        ["张一", GRANDPA[:-1] + "1", HH1, IN_AREA_VILLAGE, "", "", "", "", "", "", ""],
        "身份证号: the check character is 1 but should be 4; a digit was mistyped; compare it with the ID card",
    ),
    (
        ["张二", GRANDPA[:-2], HH1, IN_AREA_VILLAGE, "", "", "", "", "", "", ""],
        "身份证号: an identity number has 18 characters (or 15 for the old kind); this has 16",
    ),
    (
        ["张三", num(dt.date(1950, 1, 1), 13), HH1, IN_AREA_VILLAGE, "", "1950-01-02", "", "", "", "", ""],
        "出生日期: 1950-01-02 but the identity number says 1950-01-01; correct whichever is wrong",
    ),
    (
        ["张四", num(dt.date(1950, 1, 1), 15), HH1, IN_AREA_VILLAGE, "女", "", "", "", "", "", ""],
        "性别: female but the identity number's 17th digit 5 is odd, which means male",
    ),
    (
        ["张五", num(dt.date(1950, 1, 1), 17, county="331099"), HH1, IN_AREA_VILLAGE, "", "", "", "", "", "", ""],
        "身份证号: area code 331099 starts like this city's codes but is not one of its counties",
    ),
    (
        ["张六", num(dt.date(1950, 1, 1), 19), HH1, "3310020019", "", "", "", "", "", "", ""],
        "户籍所在地（村、社区）: '3310020019' is not a 12-digit code",
    ),
    (
        ["张七", num(dt.date(1950, 1, 1), 21), HH1, "331099001901", "", "", "", "", "", "", ""],
        "户籍所在地（村、社区）: 331099001901 is not in any of this city's counties",
    ),
    (
        ["张八", num(dt.date(1950, 1, 1), 23), HH1, IN_AREA_VILLAGE, "", "", "姑姑", "", "", "", ""],
        "与户主关系: '姑姑' is not one of the allowed values; "
        "write one of: 户主、配偶、子女、父母、孙子女、祖父母、兄弟姐妹、其他",
    ),
    (
        ["张九", num(dt.date(1950, 1, 1), 25), HH1, IN_AREA_VILLAGE, "", "", "", "", "5", "", ""],
        "残疾等级: 5 is out of range; "
        "write a whole number from 0 to 4 (0 when the person holds no disability certificate)",
    ),
    (
        ["张十", num(dt.date(1950, 1, 1), 27), HH1, IN_AREA_VILLAGE, "", "", "", "", "", "-5", ""],
        "个人年收入: -5 is out of range",
    ),
    (
        ["张十一", num(dt.date(1950, 1, 1), 29), HH1, IN_AREA_VILLAGE, "", "", "", "", "", "100.005", ""],
        "个人年收入: 100.005 has more than two decimal places",
    ),
    (
        ["张十二", num(dt.date(1950, 1, 1), 31), HH1, IN_AREA_VILLAGE, "", "", "", "", "", "", "也许"],
        "独居: '也许' is not yes or no; write 是 or 否 (or leave it empty if unknown)",
    ),
    (
        ["", num(dt.date(1950, 1, 1), 33), HH1, IN_AREA_VILLAGE, "", "", "", "", "", "", ""],
        "姓名: empty; write the name as on the ID card",
    ),
    (
        ["张十四", num(dt.date(1950, 1, 1), 35), "", IN_AREA_VILLAGE, "", "", "", "", "", "", ""],
        "户号: empty; write the household number (户号) from the hukou booklet",
    ),
    (
        ["张十五", num(dt.date(1950, 1, 1), 37), HH1, IN_AREA_VILLAGE, "", "1950-13-01", "", "", "", "", ""],
        "出生日期: '1950-13-01' is not a date",
    ),
    (
        ["张十六", "", HH1, IN_AREA_VILLAGE, "", "", "", "", "", "", ""],
        "身份证号: empty; write the 18-character identity number",
    ),
]
BAD_HEADER = [
    "姓名",
    "身份证号",
    "户号",
    "户籍所在地",
    "性别",
    "出生日期",
    "与户主关系",
    "低收入类别",
    "残疾等级",
    "个人年收入",
    "独居",
]


@pytest.mark.parametrize(
    ("row", "message"), BAD_ROWS, ids=[m.split(":")[0] + str(i) for i, (_, m) in enumerate(BAD_ROWS)]
)
def test_each_kind_of_bad_row_is_reported_with_row_column_and_fix(
    tmp_path: Path, areas: object, row: list[Any], message: str
) -> None:
    header = [h if h != "户籍所在地" else "户籍所在地（村、社区）" for h in BAD_HEADER]
    good = ["好人", num(dt.date(1960, 1, 1), 101), HH1, IN_AREA_VILLAGE, "", "", "", "", "", "", ""]
    report = persons_import(
        path=write_csv(tmp_path / "bad.csv", [good, row], header=header), actor=None, valid_only=False
    )
    assert len(report.errors) == 1, messages(report)
    assert messages(report)[0].startswith(f"row 3, {message}"), messages(report)
    assert report.errors[0].fix
    # Nothing was written, not even the good row; the attempt is recorded.
    assert Person.objects.count() == 0
    assert Household.objects.count() == 0
    assert report.record.outcome == "rejected"
    assert report.record.rejected == 1
    assert AuditLog.objects.filter(event="persons.import_rejected").count() == 1


def test_long_numbers_excel_stored_as_numbers_are_refused(tmp_path: Path, areas: object) -> None:
    # 18 digits in a number cell: Excel keeps only 15, so the rest is already lost.
    rows = [["王大山", int(GRANDPA), int(HH1), IN_AREA_VILLAGE]]
    report = persons_import(
        path=write_xlsx(tmp_path / "n.xlsx", rows, header=["姓名", "身份证号", "户号", "户籍地"]),
        actor=None,
        valid_only=False,
    )
    lost = "the number is stored as a number, and Excel keeps only 15 digits, so the last ones are lost"
    assert messages(report) == [
        f"row 2, 户号: {lost}; format the column as Text (文本) and type the 户号 again",
        f"row 2, 身份证号: {lost}; format the column as Text (文本) and type the number again",
    ]


ONCE = "each resident appears once; delete the duplicate or correct the number"


def test_duplicates_household_conflicts_and_two_heads(tmp_path: Path, areas: object) -> None:
    rows = [
        ["王大山", GRANDPA, HH1, IN_AREA_VILLAGE, "", "", "户主", "", "", "", ""],
        ["陈秀英", GRANDMA, HH1, IN_AREA_VILLAGE, "", "", "户主", "", "", "", ""],
        ["王大山", GRANDPA, HH2, IN_AREA_VILLAGE, "", "", "户主", "", "", "", ""],
        ["王建国", SON, HH1, "331002001902", "", "", "子", "", "", "", ""],
    ]
    report = persons_import(path=write_csv(tmp_path / "d.csv", rows, header=BAD_HEADER), actor=None, valid_only=False)
    assert messages(report) == [
        f"row 2, 身份证号: the same number as row 4; {ONCE}",
        "row 3, 与户主关系: row 2 is already the head (户主) of household 331002001901000001; "
        "a household has one head; correct the relation",
        f"row 4, 身份证号: the same number as row 2; {ONCE}",
        "row 5, 户籍所在地: row 2 puts household 331002001901000001 in 331002001901, this row in 331002001902; "
        "members of one household share its hukou address; correct one of them",
    ]


def test_conflicts_with_the_registry(tmp_path: Path, areas: object) -> None:
    PersonFactory(name="王大山", number=idnumber.parse(GRANDPA), birth_date=dt.date(1940, 2, 3))
    rows = [
        ["王小山", GRANDPA, HH1, IN_AREA_VILLAGE, "", "", "", "", "", "", ""],  # same number, other name
        ["李根生", LODGER, "331003001901000009", "331003001901", "", "", "户主", "", "", "", ""],
    ]
    Household.objects.create(household_id="331003001901000009", hukou_area="331003001902")
    report = persons_import(path=write_csv(tmp_path / "r.csv", rows, header=BAD_HEADER), actor=None, valid_only=False)
    assert messages(report) == [
        "row 2, 姓名: this identity number is already registered under another name; "
        "check the number and the name against the ID card",
        "row 3, 户籍所在地: household 331003001901000009 is registered in 331003001902, not 331003001901; "
        "check the 户号 and the hukou area; a household's move is not made by import",
    ]


def test_file_level_problems(tmp_path: Path, areas: object) -> None:
    report = persons_import(
        path=write_csv(tmp_path / "h.csv", [["x", "y"]], header=["姓名", "出生日朝"]), actor=None, valid_only=True
    )
    assert messages(report) == [
        "row 1, 出生日朝: unknown column '出生日朝'; rename it to one of the documented headers, or delete the column",
        "row 1, 户号: the column 户号 (household_id) is missing; add a column headed 户号",
        "row 1, 户籍所在地（村、社区）: the column 户籍所在地（村、社区） (hukou_area) is missing; "
        "add a column headed 户籍所在地（村、社区）",
        "row 1, 身份证号: the column 身份证号 (id_number) is missing; add a column headed 身份证号",
    ]
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("姓名,身份证号,户号,户籍地\n王大山,1,2,3\n".encode("gbk"))
    assert "not UTF-8" in messages(persons_import(path=gbk, actor=None, valid_only=True))[0]
    xls = tmp_path / "old.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 100)
    assert "old .xls" in messages(persons_import(path=xls, actor=None, valid_only=True))[0]
    assert Person.objects.count() == 0


def test_valid_only_imports_the_good_rows_and_reports_the_rest(tmp_path: Path, areas: object) -> None:
    bad = [
        "张一",
        GRANDMA[:-1] + ("1" if GRANDMA[-1] != "1" else "2"),
        HH1,
        IN_AREA_VILLAGE,
        "",
        "",
        "配偶",
        "",
        "",
        "",
        "",
    ]
    rows = [GOOD[0][1:], bad, GOOD[2][1:], GOOD[3][1:]]
    path = write_csv(tmp_path / "v.csv", rows, header=HEADER[1:])
    report = persons_import(path=path, actor=None, valid_only=True)
    assert [e.row for e in report.errors] == [3]
    assert (report.record.outcome, report.record.created, report.record.rejected) == ("partial", 3, 1)
    assert set(Person.objects.values_list("name", flat=True)) == {"王大山", "王建国", "李根生"}
    with pytest.raises(CommandError, match="1 problem"):
        call_command("residents", "import", str(path), "--valid-only")


def test_import_is_idempotent_and_updates_in_place(tmp_path: Path, areas: object) -> None:
    path = write_csv(tmp_path / "list.csv", GOOD)
    persons_import(path=path, actor=None, valid_only=False)
    again = persons_import(path=path, actor=None, valid_only=False)
    assert (again.record.created, again.record.updated, again.record.unchanged) == (0, 0, 4)
    assert Person.objects.count() == 4
    changed = [list(r) for r in GOOD]
    changed[0][8] = "特困"  # grandpa's low-income status
    changed[3][9] = ""  # the lodger's grade becomes unknown: an empty cell replaces the value
    report = persons_import(path=write_csv(tmp_path / "list2.csv", changed), actor=None, valid_only=False)
    assert (report.record.created, report.record.updated, report.record.unchanged) == (0, 2, 2)
    assert Person.objects.get(name="王大山").low_income_status == "destitute"
    assert Person.objects.get(name="李根生").disability_grade is None
    # A file without a column leaves that fact alone.
    narrow = write_csv(
        tmp_path / "narrow.csv",
        [["王大山", GRANDPA, HH1, IN_AREA_VILLAGE]],
        header=["姓名", "身份证号", "户号", "户籍地"],
    )
    assert persons_import(path=narrow, actor=None, valid_only=False).record.unchanged == 1
    assert Person.objects.get(name="王大山").low_income_status == "destitute"


def test_the_head_can_be_handed_over_within_one_file(tmp_path: Path, areas: object) -> None:
    persons_import(path=write_csv(tmp_path / "a.csv", GOOD), actor=None, valid_only=False)
    handover = [list(r) for r in GOOD[:3]]
    handover[0][7], handover[2][7] = "父母", "户主"
    report = persons_import(path=write_csv(tmp_path / "b.csv", handover), actor=None, valid_only=False)
    assert report.errors == []
    assert Person.objects.get(relation="head", household_id=HH1).name == "王建国"
    # Without the old head's row the new head is refused: a household has one.
    steal = [["陈秀英", GRANDMA, HH1, IN_AREA_VILLAGE, "", "", "户主", "", "", "", ""]]
    report = persons_import(path=write_csv(tmp_path / "c.csv", steal, header=BAD_HEADER), actor=None, valid_only=True)
    assert messages(report) == [
        "row 2, 与户主关系: household 331002001901000001 already has a head (户主) in the registry; "
        "correct the relation, or include the current head's row with their new relation"
    ]


def test_legacy_numbers_and_moved_people_are_flagged_not_refused(tmp_path: Path, areas: object) -> None:
    legacy = "331002500101011"  # 15 digits: 1950-01-01, sequence 101
    moved = num(dt.date(1970, 3, 3), 51, county="331003")  # first registered in 黄岩, now in 椒江
    rows = [["老张", legacy, HH1, IN_AREA_VILLAGE], ["小李", moved, HH2, IN_AREA_VILLAGE]]
    path = write_csv(tmp_path / "f.csv", rows, header=["姓名", "身份证号", "户号", "户籍地"])
    assert persons_import(path=path, actor=None, valid_only=False).errors == []
    old = Person.objects.get(name="老张")
    assert old.id_from_15_digits
    assert not old.id_area_differs
    assert number_of(old) == idnumber.parse(legacy).value
    assert Person.objects.get(id_number_hash=crypto.lookup_hash(idnumber.parse(legacy))) == old
    assert Person.objects.get(name="小李").id_area_differs


def test_an_officer_imports_only_their_area(tmp_path: Path, make_user: Callable[..., User]) -> None:
    officer = make_user(Role.DEPARTMENT_OFFICER, "331002")
    PersonFactory(
        name="黄岩人", number=idnumber.parse(LODGER), birth_date=dt.date(1955, 1, 1), hukou_area=OUT_OF_AREA_VILLAGE
    )
    rows = [
        ["外区人", SON, "331003001901000001", OUT_OF_AREA_VILLAGE],
        ["黄岩人", LODGER, HH2, IN_AREA_VILLAGE],
    ]
    path = write_csv(tmp_path / "o.csv", rows, header=["姓名", "身份证号", "户号", "户籍地"])
    report = persons_import(path=path, actor=officer, valid_only=True)
    assert messages(report) == [
        "row 2, 户籍地: 331003001901 is outside your area (331002…); "
        "you can import residents of your own area only; check the code or leave this row to that area",
        "row 3, 身份证号: this resident is registered in another area; "
        "a move between areas is not made by import; ask the registry office",
    ]
    assert report.record.actor == officer


def test_the_command_prints_the_report_and_fails_on_rejected_rows(
    tmp_path: Path, areas: object, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write_csv(tmp_path / "good.csv", GOOD)
    call_command("residents", "import", str(good))
    assert "4 rows: 4 created, 0 updated, 0 unchanged." in capsys.readouterr().out
    bad = write_csv(tmp_path / "bad.csv", [[*GOOD[0][:2], GRANDPA[:-1] + "9", *GOOD[0][3:]]])
    with pytest.raises(CommandError, match="1 problem"):
        call_command("residents", "import", str(bad))
    captured = capsys.readouterr()
    assert "row 2, 身份证号: the check character is 9 but should be 4" in captured.err
    assert "nothing was imported" in captured.out


def upload(client: Client, path: Path, **extra: str) -> Job:
    """Upload through the page: it only queues the import and sends the officer to the job's page."""
    with path.open("rb") as handle:
        response = client.post("/residents/import/", {"file": handle, **extra})
    job = Job.objects.latest("pk")
    assert response.status_code == 302
    assert response.url == f"/jobs/{job.pk}/"  # type: ignore[attr-defined]
    return job


def test_upload_is_imported_in_the_background_then_shows_the_report_and_offers_it_as_excel(
    client: Client, tmp_path: Path, make_user: Callable[..., User]
) -> None:
    officer = make_user(Role.DEPARTMENT_OFFICER)
    client.force_login(officer)
    assert client.get("/residents/import/").status_code == 200
    rows = [GOOD[0], [*GOOD[1][:2], GRANDMA[:-1] + "0", *GOOD[1][3:]]]
    job = upload(client, write_csv(tmp_path / "up.csv", rows))
    assert not PersonImport.objects.exists()  # nothing read yet: the request only stored the file
    stored = bytes(job.files.get().content)
    assert GRANDMA[:-1].encode() not in stored  # the waiting upload is sealed, not clear identity numbers
    assert "排队中" in client.get(f"/jobs/{job.pk}/").content.decode()

    assert run_queue() == 1
    job.refresh_from_db()
    assert job.status == "succeeded"
    assert not job.files.exists()  # the upload is gone with the job's outcome
    panel = client.get(f"/jobs/{job.pk}/").content.decode()
    record = PersonImport.objects.get()
    assert "没有导入任何数据" in panel
    assert f'href="/residents/import/{record.pk}/"' in panel
    html = client.get(f"/residents/import/{record.pk}/").content.decode()
    assert "没有导入任何数据" in html
    assert "the check character is 0 but should be" in html
    assert record.actor == officer
    assert Person.objects.count() == 0
    download = client.get(f"/residents/import/{record.pk}/errors.xlsx")
    assert download.status_code == 200
    sheet = load_workbook(io.BytesIO(download.content)).active
    assert sheet is not None
    assert [c.value for c in sheet[1]] == ["行", "列", "问题", "如何修改"]
    assert [c.value for c in sheet[2]][:2] == [3, "身份证号"]
    # The report and the job are the importer's: another officer gets nothing.
    client.force_login(make_user(Role.DEPARTMENT_OFFICER, "331002", username="other"))
    assert client.get(f"/residents/import/{record.pk}/errors.xlsx").status_code == 404
    assert client.get(f"/residents/import/{record.pk}/").status_code == 404
    assert client.get(f"/jobs/{job.pk}/").status_code == 404
    client.force_login(officer)
    job = upload(client, write_csv(tmp_path / "up2.csv", GOOD), valid_only="on")
    run_queue()
    assert "新增 4 人" in client.get(f"/jobs/{job.pk}/").content.decode()
    assert Person.objects.count() == 4


def test_a_large_list_reports_progress_while_it_is_checked(
    client: Client, tmp_path: Path, make_user: Callable[..., User], monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    settings.FUWU_JOBS = {**settings.FUWU_JOBS, "progress_every": 0}
    client.force_login(make_user(Role.DEPARTMENT_OFFICER))
    # 1,200 residents, each the head of a household of their own.
    blank = ["", "", "户主", "无", "", "", ""]
    rows = [
        [
            i,
            "张秀英",
            num(dt.date(1950, 1, 1) + dt.timedelta(days=i), 22),
            f"{IN_AREA_VILLAGE}{i:06d}",
            IN_AREA_VILLAGE,
            *blank,
        ]
        for i in range(1200)
    ]
    job = upload(client, write_csv(tmp_path / "big.csv", rows))
    seen: list[tuple[int, int | None, str]] = []
    original = Progress.__call__

    def record(self: Any, done: int, total: int | None = None, message: str = "") -> None:
        original(self, done, total, message)
        stored = Job.objects.get(pk=self.job.pk)
        seen.append((stored.done, stored.total, stored.message))

    monkeypatch.setattr(Progress, "__call__", record)
    run_queue()
    job.refresh_from_db()
    assert job.status == "succeeded", job.error_text()
    assert (500, 1200, "逐行检查") in seen
    assert (1000, 1200, "逐行检查") in seen
    assert seen[-1] == (1200, 1200, "对照居民档案检查并写入")
    assert Person.objects.count() == 1200


@pytest.mark.parametrize(
    "role", [Role.AUDITOR, Role.STANDARDS_OFFICE, Role.RESIDENT, Role.CAREGIVER, Role.PROVIDER_ADMIN]
)
def test_only_officers_import(client: Client, make_user: Callable[..., User], role: Role, tmp_path: Path) -> None:
    client.force_login(make_user(role))
    assert client.get("/residents/import/").status_code == 403
    with write_csv(tmp_path / "x.csv", GOOD).open("rb") as handle:
        assert client.post("/residents/import/", {"file": handle}).status_code == 403
    assert Person.objects.count() == 0


def test_special_and_full_width_digits_are_row_errors_and_a_former_county_code_is_accepted(
    tmp_path: Path, areas: object
) -> None:
    superscript = GRANDPA[:5] + "²" + GRANDPA[6:]
    full_width = GRANDMA.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    yuhuan_before_2017 = num(dt.date(1950, 4, 5), 17, county="331021")
    rows = [
        [1, "王大山", superscript, HH1, IN_AREA_VILLAGE, "", "", "户主", "", "", "", ""],
        [2, "陈秀英", full_width, HH1, IN_AREA_VILLAGE, "", "", "配偶", "", "", "", ""],
        [3, "林玉兰", yuhuan_before_2017, HH2, IN_AREA_VILLAGE, "", "", "户主", "", "", "", ""],
    ]
    report = persons_import(path=write_csv(tmp_path / "digits.csv", rows), actor=None, valid_only=True)
    assert [(e.row, e.column) for e in report.errors] == [(2, "身份证号"), (3, "身份证号")]
    assert report.errors[0].problem.startswith("character 6 is '²'")
    assert report.errors[1].problem == "the number is typed in full-width characters (such as １ or Ｘ)"
    assert "half-width (半角)" in report.errors[1].fix
    assert report.record.created == 1
    assert number_of(Person.objects.get(name="林玉兰")) == yuhuan_before_2017
