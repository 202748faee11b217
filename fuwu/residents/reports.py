"""The import error report as a workbook a clerk can sort, filter and tick off."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Font

from fuwu.common.spreadsheets import safe_row
from fuwu.residents.models import PersonImport

HEADERS = ("行", "列", "问题", "如何修改")


def error_report_xlsx(record: PersonImport) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # noqa: S101 - a new workbook always has one sheet
    sheet.title = "错误报告"
    sheet.append(HEADERS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for error in record.errors:
        # Columns are headed as in the clerk's file: a header like "=cmd|…" must not become a formula here.
        sheet.append(safe_row([error["row"] or "文件", error["column"], error["problem"], error["fix"]]))
    sheet.freeze_panes = "A2"
    for column, width in zip("ABCD", (8, 18, 60, 60), strict=True):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
