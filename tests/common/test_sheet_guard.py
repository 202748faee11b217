"""The upload guard every spreadsheet reader goes through (fuwu.common.sheet_guard)."""

from __future__ import annotations

import pytest
from django.core import checks

from fuwu.common import sheet_guard
from fuwu.common.clerk_sheets import SheetError, read_table
from fuwu.common.sheet_guard import SheetRefused, check_upload
from tests.common import hostile_sheets


def test_openpyxl_parses_with_defusedxml_and_start_up_checks_it(monkeypatch: pytest.MonkeyPatch) -> None:
    assert sheet_guard.defused()
    ids = [m.id for m in checks.run_checks(tags=[checks.Tags.security])]
    assert "common.E002" not in ids
    monkeypatch.setattr("openpyxl.DEFUSEDXML", False)
    assert "common.E002" in [m.id for m in checks.run_checks(tags=[checks.Tags.security])]
    with pytest.raises(SheetRefused, match="安全的 XML"):
        read_table(hostile_sheets.workbook([["a"], ["b"]]), "ok.xlsx")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (hostile_sheets.zip_bomb, "解压后过大"),
        (hostile_sheets.xxe, "文档类型定义"),
        (hostile_sheets.billion_laughs, "文档类型定义"),
    ],
)
def test_hostile_workbooks_are_refused_from_the_archive_alone(make: object, message: str) -> None:
    data = make()  # type: ignore[operator]
    with pytest.raises(SheetRefused, match=message):
        check_upload(data)
    with pytest.raises(SheetError, match=message):  # the clerk's-list reader (institutions, receipts)
        read_table(data, "x.xlsx")


def test_even_a_dtd_the_archive_check_missed_is_refused_by_the_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sheet_guard, "_check_prolog", lambda archive, member: None)
    with pytest.raises(SheetRefused, match="文档类型定义"):
        read_table(hostile_sheets.billion_laughs(), "x.xlsx")


def test_limits_on_parts_total_and_members(monkeypatch: pytest.MonkeyPatch) -> None:
    data = hostile_sheets.workbook([["姓名"], ["王"]])
    assert read_table(data, "ok.xlsx").rows == [(2, ["王"])]
    for limits in (
        sheet_guard.Limits(part_bytes=100),
        sheet_guard.Limits(total_bytes=1000),
    ):
        monkeypatch.setattr(sheet_guard, "LIMITS", limits)
        with pytest.raises(SheetRefused, match="解压后过大"):
            check_upload(data)
    monkeypatch.setattr(sheet_guard, "LIMITS", sheet_guard.Limits(members=3))
    with pytest.raises(SheetRefused, match="部件过多"):
        check_upload(data)


def test_rows_and_columns_are_capped_and_blank_rows_do_not_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sheet_guard, "LIMITS", sheet_guard.Limits(rows=2, columns=3))
    assert len(read_table(b"h\n1\n\n\n\n2\n", "a.csv").rows) == 2
    with pytest.raises(SheetRefused, match="超过 2 行"):
        read_table(b"h\n1\n2\n3\n", "a.csv")
    with pytest.raises(SheetRefused, match="超过 3 列"):
        read_table(hostile_sheets.workbook([["a", "b", "c", "d"]]), "a.xlsx")
    # Empty columns beyond the cap are dropped, not refused.
    assert read_table(b"a,b,c,,,,\n1,2,3,,,,\n", "a.csv").header == ["a", "b", "c"]


def test_not_a_workbook_is_a_message() -> None:
    with pytest.raises(SheetRefused, match="不是可以读取的"):
        read_table(b"PK\x03\x04 not really a zip", "x.xlsx")
