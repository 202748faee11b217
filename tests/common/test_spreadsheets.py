"""Spreadsheets for download: formula neutralising (OWASP "CSV Injection") and the streamed .xlsx and CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from fuwu.common.spreadsheets import column_letter, safe_cell, sheet_name, stream_csv, stream_xlsx


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("=1+1", "'=1+1"),
        ('=HYPERLINK("http://evil.example","点我")', '\'=HYPERLINK("http://evil.example","点我")'),
        ("+86 138", "'+86 138"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=cmd", "'\t=cmd"),
        ("\r=cmd", "'\r=cmd"),
        ("＝HYPERLINK(1)", "'＝HYPERLINK(1)"),  # full-width, as a Chinese input method types it
        ("＋86", "'＋86"),
        ("王*", "王*"),
        ("a=b", "a=b"),
        ("", ""),
        (-5, -5),  # numbers are numbers, not formulas
        (Decimal("-1.50"), Decimal("-1.50")),
        (None, None),
    ],
)
def test_safe_cell(value: Any, safe: Any) -> None:
    assert safe_cell(value) == safe


def test_column_letters_and_sheet_names() -> None:
    assert [column_letter(n) for n in (1, 26, 27, 52, 703)] == ["A", "Z", "AA", "AZ", "AAA"]
    assert sheet_name("a/b:c*d?[e]") == "a b c d  e"
    assert len(sheet_name("名" * 40, 12)) == 31
    assert sheet_name("名单", 2) == "名单 (2)"


def naive(*parts: int) -> dt.datetime:
    return dt.datetime(*parts)  # noqa: DTZ001 - what a spreadsheet holds


def read_xlsx(chunks: Iterator[bytes]) -> Any:
    return load_workbook(io.BytesIO(b"".join(chunks)))


def test_the_workbook_holds_typed_neutralised_cells() -> None:
    when = dt.datetime(2026, 11, 29, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    rows = [
        [1, "王*", "=1+1", Decimal("120.00"), dt.date(2026, 1, 2), when, None, True, " 两端 ", "控制\x01字符", 1.5],
    ]
    header = ["编号", "姓名", "备注", "金额", "日期", "时间", "空", "是否", "空格", "控制", "小数"]
    book = read_xlsx(stream_xlsx("名单", header, rows))
    sheet = book.active
    assert sheet.title == "名单"
    assert sheet.freeze_panes == "A2"
    assert sheet["A1"].font.b
    values = next(sheet.iter_rows(min_row=2, values_only=True))
    # openpyxl reads dates back as naive datetimes (a spreadsheet has no time zone): the local time, 09:30.
    assert values == (1, "王*", "'=1+1", 120, naive(2026, 1, 2), naive(2026, 11, 29, 9, 30), None, True,
                      " 两端 ", "控制字符", 1.5)  # fmt: skip
    assert sheet["D2"].number_format == "0.00"
    assert sheet["E2"].number_format == "yyyy-mm-dd"


def test_the_stream_starts_before_the_rows_end_and_memory_stays_flat() -> None:
    consumed = 0

    def rows() -> Iterator[list[Any]]:
        nonlocal consumed
        for n in range(50_000):
            consumed = n + 1
            yield [n, f"第{n}行", "说明文字" * 5]

    stream = stream_xlsx("名单", ["编号", "内容", "说明"], rows())
    first = next(stream)
    assert first.startswith(b"PK\x03\x04")
    assert consumed < 50_000  # the first chunk left long before the last row was read
    sizes = [len(first), *(len(chunk) for chunk in stream)]
    assert consumed == 50_000
    assert max(sizes) < 1_000_000  # chunks of about 64 KB (deflated), never the whole file


def test_rows_beyond_a_sheet_go_on_in_the_next() -> None:
    rows = [[n] for n in range(5)]
    book = read_xlsx(stream_xlsx("名单", ["编号"], rows, rows_per_sheet=2))
    assert book.sheetnames == ["名单", "名单 (2)", "名单 (3)"]
    assert [[r[0] for r in s.iter_rows(values_only=True)] for s in book.worksheets] == [
        ["编号", 0, 1],
        ["编号", 2, 3],
        ["编号", 4],
    ]


def test_an_empty_list_is_still_a_workbook_with_its_header() -> None:
    data = b"".join(stream_xlsx("名单", ["编号", "姓名"], []))
    assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None
    book = load_workbook(io.BytesIO(data))
    assert list(book.active.iter_rows(values_only=True)) == [("编号", "姓名")]


def test_csv_has_a_bom_and_neutralised_cells() -> None:
    body = b"".join(stream_csv(["编号", "备注"], [[1, "=cmd|' /C calc'!A0"], [2, None]]))
    assert body.startswith("\ufeff".encode())
    assert list(csv.reader(io.StringIO(body.decode("utf-8-sig")))) == [
        ["编号", "备注"],
        ["1", "'=cmd|' /C calc'!A0"],
        ["2", ""],
    ]
