"""The dashboard's county map, its Excel and its printable PDF."""

from __future__ import annotations

import io
import json
import re
from decimal import Decimal
from typing import Any

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from openpyxl import load_workbook

from fuwu.accounts.models import Role
from fuwu.areas.models import Area
from fuwu.common.spreadsheets import XLSX_CONTENT_TYPE
from fuwu.evaluation.dashboard import dashboard_for
from fuwu.evaluation.engine import indicators_compute
from tests.evaluation.test_engine import DECEMBER
from tests.evaluation.test_views import PAGE, client_for
from tests.homecare.conftest import World, make_user
from tests.homecare.test_settlement import officer_of
from tests.homecare.test_supervision import END, Built


@pytest.fixture
def computed(world: World, built: Built) -> None:
    indicators_compute(first=DECEMBER[0], last=DECEMBER[1], now=END)


def _json(html: str, node: str) -> object:
    found = re.search(rf'<script id="{node}" type="application/json">(.*?)</script>', html, re.S)
    assert found, node
    return json.loads(found.group(1))


def test_the_city_page_draws_counties_on_the_outlines_and_drills_down(world: World, computed: None) -> None:
    auditor = make_user("auditor", Role.AUDITOR, None)
    html = client_for(auditor).get(PAGE, {"month": "2026-12", "indicator": "hc-on-time-rate"}).content.decode()
    assert 'id="county-map"' in html
    assert reverse("compliance:counties_geojson") in html  # the app's own outlines, no tiles
    assert "compliance/maps.js" in html
    assert "2018-02-09" in html  # the outlines' source and date are said where they are drawn
    rows = _json(html, "map-data")
    assert isinstance(rows, list)
    by_code = {r["name"]: r for r in rows}
    assert Decimal(by_code["331002"]["value"]) == 75  # on time: 3 of 4
    assert by_code["331002"]["url"].startswith(reverse("evaluation:area", args=["taizhou-home-care", "331002"]))
    assert by_code["331003"]["value"] is None  # no data: drawn grey, said as such in the table
    assert 'id="children-caption"' in html  # the table behind the map stays


def test_below_the_counties_the_table_has_no_map(world: World, computed: None) -> None:
    html = client_for(world.officer).get(PAGE, {"month": "2026-12"}).content.decode()
    assert 'id="children-caption"' in html
    assert 'id="county-map"' not in html
    assert "compliance/maps.js" not in html


def _workbook(content: bytes) -> Any:
    return load_workbook(io.BytesIO(content), read_only=True)


def test_the_excel_lists_the_values_shown_with_the_pages_filters(world: World, computed: None) -> None:
    url = reverse("evaluation:standard_xlsx", args=["taizhou-home-care", "331002"])
    response = client_for(world.officer).get(url, {"month": "2026-12", "indicator": "hc-on-time-rate"})
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX_CONTENT_TYPE
    assert "indicators-taizhou-home-care-331002-2026-12.xlsx" in response["Content-Disposition"]
    book = _workbook(response.content)
    this_month, trend, below = (list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets)
    assert this_month[0] == ("地区代码", "地区", "期间", "指标", "分子", "分母", "数值", "单位", "目标")
    on_time = next(r for r in this_month if r[3] == "按时服务率")
    assert on_time[:3] == ("331002", "椒江区", "2026-12")
    assert (on_time[4], on_time[5], on_time[6], on_time[7], on_time[8]) == (3, 4, 75, "%", "≥95")
    assert len(trend) == 1 + 12  # the chosen indicator's twelve months, as the page's trend
    assert trend[-1][2] == "2026-12"
    assert {r[1] for r in below[1:]} >= {"海门街道", "白云街道"}  # the townships compared on the page


def test_the_excel_and_pdf_keep_to_the_readers_area(world: World, computed: None) -> None:
    officer = client_for(officer_of("331003"))
    for name in ("evaluation:standard_xlsx", "evaluation:standard_pdf"):
        assert officer.get(reverse(name, args=["taizhou-home-care", "331002"])).status_code == 404
        assert client_for(world.family).get(reverse(name, args=["taizhou-home-care", "331002"])).status_code == 403


def test_the_excel_neutralises_a_name_typed_as_a_formula(world: World, computed: None) -> None:
    Area.objects.filter(code="331002001").update(name_zh='=HYPERLINK("http://x")')
    url = reverse("evaluation:standard_xlsx", args=["taizhou-home-care", "331002"])
    response = client_for(world.officer).get(url, {"month": "2026-12", "indicator": "hc-on-time-rate"})
    below = list(_workbook(response.content).worksheets[2].iter_rows(values_only=True))
    assert '\'=HYPERLINK("http://x")' in {r[1] for r in below}


def test_the_printable_pdf_has_the_charts_and_tables(world: World, computed: None) -> None:
    url = reverse("evaluation:standard_pdf", args=["taizhou-home-care", "331002"])
    response = client_for(world.officer).get(url, {"month": "2026-12", "indicator": "hc-on-time-rate"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    board = dashboard_for(world.officer, key="taizhou-home-care", area_code="331002", month="2026-12", indicator=None)
    html = render_to_string(
        "evaluation/standard_print.html",
        {"board": board, "charts": {"trend": "<svg/>"}, "targets": {}, "printed_at": None, "font_size": 10},
    )
    assert "海门街道" in html
    assert "75.0%" in html


def test_the_pages_link_to_their_downloads_with_the_same_filters(world: World, computed: None) -> None:
    html = client_for(world.officer).get(PAGE, {"month": "2026-12", "indicator": "hc-on-time-rate"}).content.decode()
    xlsx = reverse("evaluation:standard_xlsx", args=["taizhou-home-care", "331002"])
    assert f"{xlsx}?month=2026-12&amp;indicator=hc-on-time-rate" in html
    assert reverse("evaluation:standard_pdf", args=["taizhou-home-care", "331002"]) in html
