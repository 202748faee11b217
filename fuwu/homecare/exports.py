"""Printable and downloadable home-care documents: the provider's settlement statement (Excel, PDF)
and the elder's monthly statement (PDF). PDFs go through ``fuwu.guide.pdf`` (WeasyPrint, CJK fonts)."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from fuwu.common.spreadsheets import safe_cell
from fuwu.eligibility.reports import fill
from fuwu.guide.pdf import render_pdf
from fuwu.homecare.selectors import Statement
from fuwu.homecare.settlement import SettlementReport

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONEY = "#,##0.00"
DATE = "yyyy-mm-dd"
HEADER = ["服务日期", "服务对象", "服务项目", "结算价格（元）", "扣减金额（元）", "扣减原因"]
PRICE, DEDUCTION = 4, 5  # 1-based columns of the money in the line table


def settlement_xlsx(report: SettlementReport) -> bytes:
    """One sheet: a header block (provider, month, totals), the lines, and a totals row.

    Dates are dates and money is numbers (two decimals shown), so the sheet can be summed and sorted.
    """
    settlement = report.settlement
    book = Workbook()
    sheet = book.active
    assert isinstance(sheet, Worksheet)  # noqa: S101 - a new workbook always has one sheet
    rows: list[list[Any]] = [[r.day, r.elder, r.project, r.price, r.deduction, r.reason] for r in report.rows]
    rows.append(["合计", f"{len(report.rows)}条", "", report.gross, report.deductions, ""])
    fill(sheet, "结算明细", HEADER, rows)
    summary: list[tuple[str, Any, str]] = [
        ("居家养老上门服务月度结算单", None, ""),
        ("服务机构", settlement.provider.name, ""),
        ("结算月份", f"{settlement.month:%Y-%m}", ""),
        ("状态", str(settlement.get_status_display()), ""),
        ("服务人次", report.visits, "0"),
        ("其中暂缓结算、待核查（次）", report.held, "0"),
        ("结算总额（元）", report.gross, MONEY),
        ("扣减合计（元）", report.deductions, MONEY),
        ("应付净额（元）", report.net, MONEY),
        ("个性化套餐自费收入（元，不在补贴结算内）", report.self_paid, MONEY),
    ]
    if report.partial:
        summary.append((f"仅含本辖区老人的服务；其他辖区的 {report.hidden} 条未列出，不在以上合计内", None, ""))
    top = len(summary) + 1  # a blank row between the header block and the table
    sheet.insert_rows(1, top)
    for i, (label, value, number_format) in enumerate(summary, start=1):
        sheet.cell(row=i, column=1, value=label).font = Font(bold=True)
        if value is not None:
            cell = sheet.cell(row=i, column=2, value=safe_cell(value))  # the provider's name is typed by someone
            if number_format:
                cell.number_format = number_format
    sheet.freeze_panes = f"A{top + 2}"
    first, last = top + 2, top + 1 + len(rows)
    for row in range(first, last + 1):
        sheet.cell(row=row, column=1).number_format = DATE
        for column in (PRICE, DEDUCTION):
            sheet.cell(row=row, column=column).number_format = MONEY
    for cell in sheet[last]:
        cell.font = Font(bold=True)
    sheet.column_dimensions["A"].width = 44
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def settlement_pdf(report: SettlementReport) -> bytes:
    return render_pdf("homecare/reports/settlement_print.html", {"report": report}, base_url=None)


def statement_pdf(statement: Statement, *, elder: str, names: dict[str, str]) -> bytes:
    context = {"statement": statement, "elder": elder, "names": names}
    return render_pdf("homecare/reports/statement_print.html", context, base_url=None)
