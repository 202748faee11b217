"""Coverage as a workbook: a summary sheet, then one sheet per standard with every area, city to village."""

from __future__ import annotations

import io
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from fuwu.areas.models import AreaLevel
from fuwu.common.spreadsheets import safe_row
from fuwu.compliance.coverage import Row, Share, StandardCoverage
from fuwu.compliance.models import PilotStatus


def _share(share: Share | None) -> list[object]:
    if share is None:
        return ["—", "—", "—"]
    percent = share.percent
    return [share.covered, share.total, float(percent) if percent is not None else "—"]


def _covered(row: Row) -> str:
    if row.covered is None:
        return "—"
    return _("是") if row.covered else _("否")


def _append(sheet: Any, values: list[Any]) -> None:
    # Titles and area names are data someone typed: no cell may start a formula.
    sheet.append(safe_row(values))


def coverage_workbook(results: list[StandardCoverage]) -> bytes:
    book = Workbook()
    summary = book.active
    assert summary is not None  # noqa: S101 - a new workbook always has one sheet
    summary.title = _("汇总")
    _append(
        summary,
        [
            _("标准编号"),
            _("标准名称"),
            _("机构数"),
            _("合格机构数"),
            _("已覆盖乡镇（街道）"),
            _("乡镇（街道）总数"),
            _("乡镇覆盖率（%）"),
            _("已覆盖村（社区）"),
            _("村（社区）总数"),
            _("村覆盖率（%）"),
        ],
    )
    levels = dict(AreaLevel.choices)
    pilots = dict(PilotStatus.choices)
    for result in results:
        city = result.city
        if city is not None:
            _append(
                summary,
                [
                    result.code,
                    result.title,
                    city.institutions,
                    city.passing,
                    *_share(city.townships),
                    *_share(city.villages),
                ],
            )
        sheet = book.create_sheet(result.key[:31])
        _append(sheet, [result.code, result.title])
        _append(
            sheet,
            [
                _("地区代码"),
                _("地区"),
                _("层级"),
                _("机构数"),
                _("合格机构数"),
                _("本地区已覆盖"),
                _("已覆盖乡镇（街道）"),
                _("乡镇（街道）总数"),
                _("乡镇覆盖率（%）"),
                _("已覆盖村（社区）"),
                _("村（社区）总数"),
                _("村覆盖率（%）"),
                _("试点"),
            ],
        )
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        for row in result.rows:
            _append(
                sheet,
                [
                    row.code,
                    row.name,
                    str(levels.get(row.level, row.level)),
                    row.institutions,
                    row.passing,
                    _covered(row),
                    *_share(row.townships),
                    *_share(row.villages),
                    str(pilots.get(row.pilot, "")),
                ],
            )
        sheet.freeze_panes = "A3"
        sheet.column_dimensions["B"].width = 18
    for cell in summary[1]:
        cell.font = Font(bold=True)
    summary.column_dimensions["B"].width = 40
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
