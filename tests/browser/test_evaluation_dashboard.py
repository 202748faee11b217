"""The evaluation dashboard's county map in real Chromium (issue 13): the standards office opens a standard at
city level, the chosen indicator is drawn on the county outlines (served by fuwu, no tiles), a click on a county
opens that county's page, and the Excel and PDF of the page download. axe-core checks each page visited.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from fuwu.areas import outlines
from fuwu.areas.models import Area
from fuwu.evaluation.models import IndicatorValue
from fuwu.standards.models import Indicator
from tests.browser.conftest import axe_serious
from tests.conftest import REPO

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "demo-stdoffice-2026"
KEY = "taizhou-home-care"


@pytest.fixture
def site(live_server: Any, settings: Any, tmp_path: Any) -> str:
    settings.MEDIA_ROOT = tmp_path
    call_command("areas", "load", verbosity=0)
    call_command("standards", "load", str(REPO / "standards" / "taizhou"), verbosity=0)
    call_command("demo_accounts", verbosity=0)
    indicator = Indicator.objects.get(version__standard__key=KEY, version__status="published", key="hc-on-time-rate")
    last = (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    for code, (n, d) in (("331000", (10, 12)), ("331002", (3, 4)), ("331024", (7, 7))):
        IndicatorValue.objects.create(
            indicator=indicator,
            area=Area.objects.get(code=code),
            period_kind="month",
            period_start=last,
            numerator=n,
            denominator=d,
            value=n * 100 / d,
            computed_at=timezone.now(),
        )
    return str(live_server.url)


def test_a_county_on_the_map_opens_its_page(site: str, page: Any) -> None:
    page.goto(site + "/accounts/login/")
    page.get_by_label("用户名").fill("stdoffice")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()

    page.goto(site + f"/evaluation/{KEY}/?indicator=hc-on-time-rate")
    expect(page.get_by_role("heading", level=1)).to_contain_text("台州市")
    county_map = page.locator("#county-map")
    expect(county_map.locator("canvas")).to_be_visible()
    expect(page.locator("main")).to_contain_text("2018-02-09")  # the outlines' source and date
    assert axe_serious(page) == [], page.url

    # Click 仙居县 (331024) where ECharts drew it: the point of its centre, converted by the chart itself.
    centre = outlines.counties()["331024"].centre
    page.wait_for_function("window.echarts.getInstanceByDom(document.getElementById('county-map')) !== undefined")
    page.wait_for_timeout(300)  # the map series' first frame
    x, y = page.evaluate(
        "c => window.echarts.getInstanceByDom(document.getElementById('county-map'))"
        ".convertToPixel({seriesIndex: 0}, c)",
        list(centre),
    )
    county_map.scroll_into_view_if_needed()
    box = county_map.bounding_box()  # in the viewport, where the mouse clicks
    page.mouse.click(box["x"] + x, box["y"] + y)
    expect(page.get_by_role("heading", level=1)).to_contain_text("仙居县")
    expect(page.locator("main")).to_contain_text("7/7")
    assert axe_serious(page) == [], page.url

    xlsx = page.get_by_role("link", name="下载本页指标数值（Excel）").get_attribute("href")
    pdf = page.get_by_role("link", name="打印版（PDF）").get_attribute("href")
    assert page.request.get(site + xlsx).body().startswith(b"PK")
    assert page.request.get(site + pdf).body().startswith(b"%PDF")
