"""Reading a clerk's list (.xlsx or CSV UTF-8) as rows, and writing an error report they can work through.

Generic: the caller maps headers to its own columns and checks the cells. The resident import reads its
lists with its own reader (``fuwu.residents.sources``), which predates this; both follow the same rules
(content decides the format; the row number is the one the clerk sees, header = 1; blank rows are skipped).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from fuwu.common import sheet_guard
from fuwu.common.sheet_guard import OLE_MAGIC, ZIP_MAGIC
from fuwu.common.sheet_guard import SheetRefused as SheetError
from fuwu.common.spreadsheets import safe_row

__all__ = ["SheetError", "Table", "errors_workbook", "read_table"]


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[tuple[int, list[Any]]]  # (row number as the clerk sees it, cells)


def _table(rows: Iterable[tuple[int, Sequence[Any]]]) -> Table:
    """From the guard's numbered rows that hold anything: the header must be row 1."""
    iterator = iter(rows)
    first = next(iterator, None)
    if first is None or first[0] != 1:
        raise SheetError(_("第 1 行没有表头"), _("把表头写在第 1 行，每行一条记录"))
    body = [(n, list(cells)) for n, cells in iterator]
    return Table(["" if c is None else str(c).strip() for c in first[1]], body)


def read_table(data: bytes, filename: str) -> Table:
    """Read by content: the magic bytes decide between .xlsx and CSV, through the upload guard
    (``fuwu.common.sheet_guard``: size, zip bomb, DTD, row and column caps). Raises SheetError."""
    if data.startswith(ZIP_MAGIC):
        return _table(sheet_guard.xlsx_rows(data))
    if data.startswith(OLE_MAGIC) or filename.lower().endswith(".xls"):
        raise SheetError(_("这是旧版 .xls 工作簿"), _("用 Excel 另存为 .xlsx 或 CSV UTF-8"))
    if filename.lower().endswith(".xlsx"):
        raise SheetError(_("文件名是 .xlsx，但内容不是工作簿"), _("用 Excel 打开后另存为 .xlsx"))
    sheet_guard.check_size(data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SheetError(
            _("文件不是 UTF-8 文本（可能是 GBK 编码的 CSV）"),
            _("在 Excel 中另存为“CSV UTF-8（逗号分隔）”，或上传 .xlsx"),
        ) from exc
    return _table(sheet_guard.csv_rows(text))


def errors_workbook(errors: Iterable[dict[str, Any]], *, title: str) -> bytes:
    """A workbook of ``{"row", "column", "problem", "fix"}`` problems, row 0 meaning the file as a whole."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # noqa: S101 - a new workbook always has one sheet
    sheet.title = title[:31]
    sheet.append([_("行"), _("列"), _("问题"), _("如何修改")])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for error in errors:
        # The problem may quote the clerk's own cell, which could be a formula.
        sheet.append(safe_row([error["row"] or _("文件"), error["column"], error["problem"], error["fix"]]))
    sheet.freeze_panes = "A2"
    for column, width in zip("ABCD", (8, 18, 60, 60), strict=True):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
