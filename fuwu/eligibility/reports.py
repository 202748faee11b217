"""Excel workbooks built in memory (what-if reports, and home care's settlement through ``fill``).

Cells go through ``fuwu.common.spreadsheets.safe_row``; long lists (the proactive list) are streamed by
``fuwu.common.spreadsheets.stream_xlsx`` instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from fuwu.common.spreadsheets import default_widths, safe_row
from fuwu.eligibility.whatif import Report


def fill(sheet: Worksheet, title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    sheet.title = title
    sheet.append(safe_row(header))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(safe_row(row))
    sheet.freeze_panes = "A2"
    for i, width in enumerate(default_widths(header), start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width


def whatif_workbook(report: Report, county_names: Mapping[str, str]) -> Workbook:
    workbook = Workbook()
    header = [
        "县（市、区）",
        "代码",
        "服务项目",
        "修订前人数",
        "修订后人数",
        "人数变化",
        "修订前年度金额（元）",
        "修订后年度金额（元）",
        "金额变化（元）",
        "修订后已在享受人数",
    ]
    rows = [
        [
            county_names.get(r.county, ""),
            r.county,
            r.label or r.item,
            r.before_people,
            r.after_people,
            r.people_change,
            r.before_cost,
            r.after_cost,
            r.cost_change,
            r.after_receiving,
        ]
        for r in [*report.rows, report.totals()]
    ]
    sheet = workbook.active
    assert isinstance(sheet, Worksheet)  # noqa: S101 - a new workbook always has one sheet
    fill(sheet, "测算结果", header, rows)
    return workbook
