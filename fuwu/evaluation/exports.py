"""A standard's dashboard as a workbook (the indicator values shown) and as a printable PDF.

Both are built from the same ``Dashboard`` as the page, so they carry its filters (area, month, indicator). The
PDF's charts are the review report's static SVG bars (``report.bars_svg``), each with its table beside it.
Neither holds anything about a person: counts and ratios by area only.
"""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from fuwu.common.spreadsheets import safe_row
from fuwu.evaluation.dashboard import Dashboard, value_of
from fuwu.evaluation.report import bars_svg
from fuwu.evaluation.selectors import Card, Point
from fuwu.guide.pdf import render_pdf
from fuwu.standards.models import Indicator

COMPARISON_SIGNS = {"at_least": "≥", "at_most": "≤", "equal": "="}


def target_text(indicator: Indicator) -> str:
    if indicator.target is None:
        return ""
    return f"{COMPARISON_SIGNS.get(indicator.comparison, '≥')}{indicator.target.normalize():f}"


def _header() -> list[str]:
    return [_("地区代码"), _("地区"), _("期间"), _("指标"), _("分子"), _("分母"), _("数值"), _("单位"), _("目标")]


def _row(board: Dashboard, card: Card, code: str, name: str, point: Point | None, period: str) -> list[Any]:
    value = value_of(point)
    return [
        code,
        name,
        period,
        card.indicator.name,
        point.numerator if point else 0,
        point.denominator if point else 0,
        float(value) if value is not None else _("无数据"),
        "%" if card.unit == "percent" else card.unit,
        target_text(card.indicator),
    ]


def dashboard_workbook(board: Dashboard) -> bytes:
    """Three sheets as on the page: every indicator this month, the chosen one's twelve months, the areas below."""
    book = Workbook()
    sheets = book.active
    assert sheets is not None  # noqa: S101 - a new workbook always has one sheet
    sheets.title = _("指标")
    trend = book.create_sheet(_("近12个月"))
    below = book.create_sheet(_("下辖地区"))
    for sheet in (sheets, trend, below):
        sheet.append(_header())
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
    month = f"{board.month:%Y-%m}" if board.month else ""
    here = board.name(board.area)
    for card in board.cards:
        # Area and indicator names are data someone typed: no cell may start a formula.
        sheets.append(safe_row(_row(board, card, board.area.code, here, card.current, month)))
    if board.chosen is not None:
        for point in board.chosen.trend:
            trend.append(safe_row(_row(board, board.chosen, board.area.code, here, point, f"{point.month:%Y-%m}")))
        for child in board.children:
            below.append(
                safe_row(_row(board, board.chosen, child.area.code, board.name(child.area), child.point, month))
            )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _percent_scale(card: Card, values: list[Decimal | None]) -> Decimal:
    if card.unit == "percent":
        return Decimal(100)
    return max([v for v in values if v is not None] + [card.indicator.target or Decimal(0)], default=Decimal(1))


def dashboard_pdf(board: Dashboard) -> bytes:
    """The dashboard printed: the cards as a table, the chosen indicator's trend and the areas below, as SVG."""
    charts: dict[str, Any] = {}
    percent = [c for c in board.cards if c.unit == "percent"]
    if percent:
        charts["cards"] = bars_svg(
            [(c.indicator.name, value_of(c.current), c.indicator.target) for c in percent],
            title=_("指标数值与目标（%）"),
            scale=Decimal(100),
        )
    chosen = board.chosen
    if chosen is not None:
        trend = [(f"{p.month:%Y-%m}", value_of(p), chosen.indicator.target) for p in chosen.trend]
        charts["trend"] = bars_svg(trend, title=_("近12个月"), scale=_percent_scale(chosen, [row[1] for row in trend]))
        if board.children:
            rows = [(board.name(c.area), value_of(c.point), chosen.indicator.target) for c in board.children]
            charts["children"] = bars_svg(
                rows, title=_("下辖地区比较"), scale=_percent_scale(chosen, [row[1] for row in rows])
            )
    context = {
        "board": board,
        "charts": charts,
        "targets": {c.indicator.key: target_text(c.indicator) for c in board.cards},
        "printed_at": timezone.localtime(),
    }
    return render_pdf("evaluation/standard_print.html", context, base_url=None)
