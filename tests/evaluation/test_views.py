"""The dashboard renders for the officials of an area and refuses everyone else."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from fuwu.accounts.models import Role
from fuwu.areas.models import Area
from fuwu.evaluation.engine import indicators_compute
from tests.evaluation.test_engine import DECEMBER, END
from tests.homecare.conftest import World, make_user
from tests.homecare.test_settlement import officer_of
from tests.homecare.test_supervision import Built

PAGE = reverse("evaluation:standard", args=["taizhou-home-care"])


def client_for(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


@pytest.fixture
def computed(world: World, built: Built) -> None:
    indicators_compute(first=DECEMBER[0], last=DECEMBER[1], now=END)


def test_an_officer_sees_their_county_with_cards_charts_and_tables(world: World, computed: None) -> None:
    response = client_for(world.officer).get(PAGE, {"month": "2026-12", "indicator": "hc-on-time-rate"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "椒江区" in html
    assert "75.0%" in html  # on time: 3 of 4
    assert "3/4" in html
    assert "未达标" in html  # the target is 95 %
    assert 'id="trend-chart"' in html
    assert 'id="trend-data"' in html
    assert "echarts-6.1.0.min.js" in html
    # Townships compared, with a way down into each (drill-down), and the table behind the chart.
    assert "海门街道" in html
    assert "白云街道" in html
    assert 'id="children-caption"' in html
    drill = reverse("evaluation:area", args=["taizhou-home-care", "331002001"])
    assert drill in html


def test_drilling_down_to_a_township(world: World, computed: None) -> None:
    url = reverse("evaluation:area", args=["taizhou-home-care", "331002002"])
    html = client_for(world.officer).get(url, {"month": "2026-12", "indicator": "hc-on-time-rate"}).content.decode()
    assert "白云街道" in html
    assert "2/2" in html
    assert "100.0%" in html


def test_the_city_compares_counties_for_an_auditor(world: World, computed: None) -> None:
    auditor = make_user("auditor", Role.AUDITOR, None)
    html = client_for(auditor).get(PAGE, {"month": "2026-12"}).content.decode()
    assert "台州市" in html
    assert "椒江区" in html
    assert "黄岩区" in html  # a county with no data is listed, with none
    assert "无数据" in html


def test_another_area_is_absent_and_others_are_refused(world: World, computed: None) -> None:
    url = reverse("evaluation:area", args=["taizhou-home-care", "331002"])
    assert client_for(officer_of("331003")).get(url).status_code == 404
    for who in (world.family, world.provider_admin, world.caregiver_user):
        assert client_for(who).get(PAGE).status_code == 403
    assert Client().get(PAGE).status_code == 302
    assert client_for(world.officer).get(reverse("evaluation:dashboard")).status_code == 200


def test_a_bad_month_is_explained_not_a_500(world: World, computed: None) -> None:
    response = client_for(world.officer).get(PAGE, {"month": "2026-13"})
    assert response.status_code == 200
    assert "月份应写成" in response.content.decode()


def test_area_names_and_words_follow_the_page_language(world: World, computed: None) -> None:
    Area.objects.filter(code="331002").update(name_en="Jiaojiang District")
    client = client_for(world.officer)
    client.cookies["django_language"] = "en"
    # The locale middleware leaves the language it chose active in this thread: give it back after.
    with translation.override(translation.get_language()):
        html = client.get(PAGE, {"month": "2026-12"}).content.decode()
    assert "Jiaojiang District" in html
    assert "By month (the numbers in the chart)" in html
    assert "海门街道" in html  # a township without an English name keeps its Chinese one


def test_the_index_shows_each_standards_latest_month_with_values_in_the_readers_area(
    world: World, computed: None
) -> None:
    from fuwu.evaluation import selectors
    from fuwu.evaluation.models import IndicatorValue

    root = selectors.root_area(world.officer)
    values = IndicatorValue.objects.filter(
        area=root, period_kind="month", indicator__version__standard__key="taizhou-home-care"
    )
    latest = values.order_by("-period_start").values_list("period_start", flat=True).first()
    assert latest is not None
    dashboard = reverse("evaluation:dashboard")
    assert f"{latest:%Y-%m}" in client_for(world.officer).get(dashboard).content.decode()

    later = values.first()
    assert later is not None
    later.pk, later.period_start = None, dt.date(latest.year + 1, 1, 1)  # one indicator of the standard, later on
    later.save()
    assert f"{later.period_start:%Y-%m}" in client_for(world.officer).get(dashboard).content.decode()
    values.delete()
    assert "尚未计算" in client_for(world.officer).get(dashboard).content.decode()
