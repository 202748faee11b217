"""The officials' dashboard: per standard, indicator cards, a monthly trend and the areas below compared.

Views only parse the request and read through selectors (scoped to the reader's area); every chart is drawn
by static/evaluation/charts.js from the same numbers the page prints as a table beside it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from fuwu.areas import outlines
from fuwu.areas.selectors import area_names
from fuwu.common.spreadsheets import XLSX_CONTENT_TYPE
from fuwu.evaluation import exports, manual, permissions, public, publicity, selectors
from fuwu.evaluation.dashboard import Dashboard, NotFound, dashboard_for, value_of


def _number(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _guard(request: HttpRequest) -> HttpResponse | None:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not permissions.can_view_dashboard(request.user):
        raise PermissionDenied
    return None


@never_cache
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    if (refused := _guard(request)) is not None:
        return refused
    root = selectors.root_area(request.user)
    versions = selectors.versions_with_computed_indicators()
    latest = selectors.latest_months(versions, root)
    rows = [{"version": v, "latest": latest.get(v.pk)} for v in versions]
    root_name = area_names([root.code]).get(root.code, root.name_zh)
    # Standards whose indicators are all entered by hand (none computed): listed apart, for their entries.
    shown = {v.pk for v in versions}
    by_hand = [v for v in selectors.versions_with_manual_indicators() if v.pk not in shown]
    return render(
        request, "evaluation/dashboard.html", {"root": root, "root_name": root_name, "rows": rows, "by_hand": by_hand}
    )


def _county_map(chosen: selectors.Card | None, children_data: list[dict[str, Any]], codes: list[str]) -> dict[str, Any]:
    """The areas below as a choropleth, when they are counties with an outline (below that: the table only).

    Areas are named on the map by their code (the outlines' ``code`` property); clicking one drills down.
    """
    drawn = outlines.counties()
    if chosen is None or not codes or not all(code in drawn for code in codes):
        return {}
    values = [Decimal(row["value"]) for row in children_data if row["value"] is not None]
    scale = Decimal(100) if chosen.unit == "percent" else max(values, default=Decimal(0))
    return {
        "map_data": [{"name": code, **row} for code, row in zip(codes, children_data, strict=True)],
        "map_max": _number(scale if scale > 0 else Decimal(1)),
        "outlines": outlines.source(),
    }


@never_cache
@require_GET
def standard(request: HttpRequest, key: str, area_code: str | None = None) -> HttpResponse:
    if (refused := _guard(request)) is not None:
        return refused
    board = _board(request, key, area_code)
    month, chosen, names = board.month, board.chosen, board.names
    context: dict[str, Any] = {
        "board": board,
        "version": board.version,
        "area": board.area,
        "crumbs": board.crumbs,
        "month": month,
        "bad_month": board.bad_month,
        "names": names,
        "uncomputed": board.uncomputed,
        "downloads": urlencode(board.filters()),
    }
    if month is not None:
        children_data = [
            {
                "label": board.name(c.area),
                "value": _number(value_of(c.point)),
                "url": (
                    reverse("evaluation:area", args=[key, c.area.code])
                    + f"?month={month:%Y-%m}&indicator={chosen.indicator.key}"
                    if c.has_children and chosen
                    else ""
                ),
            }
            for c in board.children
        ]
        context.update(
            cards=board.cards,
            chosen=chosen,
            children=board.children,
            trend_data=[
                {"label": f"{p.month:%Y-%m}", "value": _number(value_of(p))} for p in (chosen.trend if chosen else [])
            ],
            children_data=children_data,
            **_county_map(chosen, children_data, [c.area.code for c in board.children]),
        )
    context.update(_uses(board))
    # Indicators entered by hand: the latest value for this area, and who may enter or publish (views_data).
    context.update(
        manual_values=manual.latest_values(board.version, board.area, upto=month),
        can_enter=manual.can_enter(request.user, board.version, board.area),
        can_publish=public.can_publish(request.user),
    )
    return render(request, "evaluation/standard.html", context)


def _uses(board: Dashboard) -> dict[str, Any]:
    """The public's use of the standard's items in the page's month (the current one without data), city-wide."""
    first = board.month or timezone.localdate().replace(day=1)
    last = (first + dt.timedelta(days=31)).replace(day=1) - dt.timedelta(days=1)
    items = [(i.key, i.name) for i in board.version.items.order_by("position")]
    uses, total = publicity.item_uses(items, first=first, last=last)
    return {"uses": uses, "uses_total": total, "uses_month": first, "uses_shown_from": publicity.SHOWN_FROM}


def _board(request: HttpRequest, key: str, area_code: str | None) -> Dashboard:
    try:
        return dashboard_for(
            request.user,
            key=key,
            area_code=area_code,
            month=request.GET.get("month"),
            indicator=request.GET.get("indicator"),
        )
    except NotFound as exc:
        # Another area's page is as absent as one that does not exist.
        raise Http404("no such standard or area") from exc


@never_cache
@require_GET
def standard_xlsx(request: HttpRequest, key: str, area_code: str) -> HttpResponse:
    """The indicator values the page shows, with its filters (``?month=&indicator=``), as a workbook."""
    return _download(request, key, area_code, exports.dashboard_workbook, XLSX_CONTENT_TYPE, "attachment", "xlsx")


@never_cache
@require_GET
def standard_pdf(request: HttpRequest, key: str, area_code: str) -> HttpResponse:
    """The page printed: its cards, charts (static SVG) and tables, with the same filters."""
    return _download(request, key, area_code, exports.dashboard_pdf, "application/pdf", "inline", "pdf")


def _download(
    request: HttpRequest,
    key: str,
    area_code: str,
    make: Callable[[Dashboard], bytes],
    content_type: str,
    disposition: str,
    extension: str,
) -> HttpResponse:
    if (refused := _guard(request)) is not None:
        return refused
    board = _board(request, key, area_code)
    month = f"-{board.month:%Y-%m}" if board.month else ""
    name = f"indicators-{board.version.standard.key}-{board.area.code}{month}.{extension}"
    response = HttpResponse(make(board), content_type=content_type)
    response["Content-Disposition"] = f'{disposition}; filename="{name}"'
    return response
