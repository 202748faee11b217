"""The resident self-check through the test client: questions, validation, answers → facts, results, English."""

from __future__ import annotations

import datetime as dt
import logging
import re
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from fuwu.areas.services import areas_load
from fuwu.eligibility.forms import OUTSIDE_CODE, SelfCheckForm
from fuwu.standards.models import StandardVersion
from tests.conftest import REPO

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 30)


@pytest.fixture
def areas(db: None) -> None:
    areas_load(path=REPO / "data" / "areas" / "taizhou.yaml", villages_per_township=0)


@pytest.fixture
def mini(areas: None, mini_version: StandardVersion) -> StandardVersion:
    return mini_version


@pytest.fixture
def real_standards(areas: None) -> None:
    call_command("standards", "load", str(REPO / "standards"))


def section(html: str, testid: str) -> str:
    """The HTML of one results section."""
    match = re.search(rf'<section[^>]*data-testid="{testid}".*?</section>', html, re.S)
    assert match, testid
    return match.group(0)


def form(data: dict[str, Any] | None = None) -> SelfCheckForm:
    return SelfCheckForm(data, today=TODAY)


# --- the questions ------------------------------------------------------------------


def test_the_page_asks_plain_questions_each_with_a_label(client: Client, areas: None) -> None:
    response = client.get("/check/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>我能享受什么</h1>" in html
    assert 'href="/check/"' in html  # the navigation link
    # Every input, select and radio has a label pointing at it.
    ids = set(re.findall(r'<(?:input|select)[^>]*\bid="([^"]+)"', html))
    labelled = set(re.findall(r'<label[^>]*for="([^"]+)"', html))
    assert ids - labelled == set()
    # Choice groups are fieldsets with legends; so are related pairs of questions.
    for legend in [
        "性别",
        "户籍所在地",
        "出生日期或年龄（填一项即可）",
        "家庭人数和收入",
        "残疾证等级",
        "有没有下面这些情况？（可以多选）",
    ]:
        assert f"<legend>{legend}</legend>" in html, legend
    # The townships come from the Area table, grouped by county until a county is chosen.
    assert '<optgroup label="椒江区">' in html
    assert '<option value="331002001">海门街道</option>' in html
    # "Not sure" is the starting answer everywhere.
    assert re.search(r'name="low_income_status" value="" id="[^"]+" checked', html)


def test_choosing_a_county_narrows_the_townships(client: Client, areas: None) -> None:
    html = client.get("/check/townships/", {"hukou_county": "331002"}).content.decode()
    assert 'id="q-hukou_township"' in html
    assert "<optgroup" not in html
    assert "海门街道" in html
    assert "东城街道" not in html  # 黄岩区
    outside = client.get("/check/townships/", {"hukou_county": "outside"}).content.decode()
    assert outside.count("<option") == 1


def test_large_text_mode_applies(client: Client, areas: None) -> None:
    client.post("/display/", {"mode": "large", "next": "/check/"})
    assert 'class="large"' in client.get("/check/").content.decode()


# --- validation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"birth_date": "1944-13-01"}, "birth_date", "请按“年-月-日”填写出生日期，例如 1944-03-15。"),
        ({"birth_date": "八十二"}, "birth_date", "请按“年-月-日”填写出生日期，例如 1944-03-15。"),
        ({"birth_date": "2026-12-01"}, "birth_date", "出生日期不能晚于今天，请检查年份。"),
        ({"birth_date": "1850-01-01"}, "birth_date", "出生日期太早了，请检查年份。"),
        ({"age": "-1"}, "age", "年龄不能小于 0 岁。"),
        ({"age": "82.5"}, "age", "年龄请填一个整数，例如 82。"),
        (
            {"birth_date": "1944-03-15", "age": "80"},
            "age",
            "按出生日期算，今天是 82 周岁，和填的年龄不一致。只填一项也可以。",
        ),
        ({"household_income": "-100"}, "household_income", "收入不能是负数。"),
        ({"household_income": "三万"}, "household_income", "收入请只填数字，例如 36000。"),
        ({"household_size": "0"}, "household_size", "人数至少是 1（本人）。"),
        ({"fd_groups": ["fd_diabetes", "none"]}, "fd_groups", "选了“以上都没有”，就不能再选其他情况。"),
        (
            {"hukou_county": "331003", "hukou_township": "331002001"},
            "hukou_township",
            "请选择所选县（市、区）内的乡镇（街道），或者不选。",
        ),
    ],
)
def test_bad_answers_get_clear_errors(areas: None, data: dict[str, Any], field: str, message: str) -> None:
    f = form(data)
    assert not f.is_valid()
    assert f.errors[field] == [message]


@pytest.mark.parametrize("written", ["1944-03-15", "1944/3/15", "1944.03.15", "1944年3月15日", "19440315"])
def test_birth_dates_in_the_usual_ways(areas: None, written: str) -> None:
    f = form({"birth_date": written})
    assert f.is_valid(), f.errors
    assert f.facts()["birth_date"] == dt.date(1944, 3, 15)


def test_errors_sit_next_to_their_fields_and_are_summarised(client: Client, areas: None) -> None:
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    html = client.post("/check/", {"birth_date": tomorrow.isoformat(), "household_income": "-5"}).content.decode()
    assert "有些回答需要修改" in html
    assert 'href="#q-birth_date"' in html
    assert '<ul class="errorlist" id="id_birth_date_error"><li>出生日期不能晚于今天，请检查年份。</li></ul>' in html
    assert re.search(r'<input[^>]*aria-invalid="true"[^>]*aria-describedby="[^"]*id_birth_date_error"', html)
    assert '<ul class="errorlist" id="id_household_income_error"><li>收入不能是负数。</li></ul>' in html
    # A radio group's errors describe its fieldset.
    html = client.post("/check/", {"fd_groups": ["fd_diabetes", "none"]}).content.decode()
    assert '<fieldset aria-describedby="id_fd_groups_helptext id_fd_groups_error">' in html


# --- answers → facts ----------------------------------------------------------------


def test_nothing_answered_gives_no_facts(areas: None) -> None:
    f = form({})
    assert f.is_valid()
    assert f.facts() == {}


def test_answers_become_facts(areas: None) -> None:
    f = form(
        {
            "age": "82",
            "sex": "female",
            "hukou_county": "331002",
            "hukou_township": "331002001",
            "hukou_type": "rural",
            "residence": "same",
            "household_size": "3",
            "household_income": "10000",
            "lives_alone": "no",
            "low_income_status": "marginal",
            "disability_grade": "0",
            "care_need": "mild",
            "fd_groups": ["fd_hypertension"],
            "veteran_category": "none",
            "school_stage": "none",
            "house_grade": "C",
        }
    )
    assert f.is_valid(), f.errors
    assert f.facts() == {
        "birth_date": dt.date(1944, 11, 30),  # 82 today
        "sex": "female",
        "hukou_area": "331002001000",
        "hukou_type": "rural",
        "residence_area": "331002001000",
        "household_size": 3,
        "household_income_per_capita": Decimal("3333.33"),
        "lives_alone": False,
        "low_income_status": "marginal",
        "disability_grade": 0,
        "disability_kind": "none",
        "care_need": "mild",
        "fd_hypertension": True,
        "fd_diabetes": False,
        "fd_pregnant": False,
        "fd_severe_mental": False,
        "veteran_category": "none",
        "school_stage": "none",
        "boarding": False,
        "house_grade": "C",
    }


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"hukou_county": "331082"}, {"hukou_area": "331082000000"}),
        ({"hukou_township": "331002001"}, {"hukou_area": "331002001000"}),
        (
            {"hukou_county": "outside", "residence": "same"},
            {"hukou_area": OUTSIDE_CODE, "residence_area": OUTSIDE_CODE},
        ),
        ({"residence": "taizhou"}, {"residence_area": "331000000000"}),
        ({"residence": "same"}, {}),  # the hukou place is not known, so neither is home
        ({"household_size": "2"}, {"household_size": 2}),  # no income: per-capita income stays unknown
        (
            {"fd_groups": ["none"]},
            dict.fromkeys(["fd_hypertension", "fd_diabetes", "fd_pregnant", "fd_severe_mental"], False),
        ),
        ({"disability_grade": "2", "disability_kind": "visual"}, {"disability_grade": 2, "disability_kind": "visual"}),
        ({"disability_grade": "2"}, {"disability_grade": 2}),
        ({"school_stage": "primary", "boarding": "yes"}, {"school_stage": "primary", "boarding": True}),
        ({"age": "0"}, {"birth_date": TODAY}),
    ],
)
def test_partial_answers(areas: None, data: dict[str, Any], expected: dict[str, Any]) -> None:
    f = form(data)
    assert f.is_valid(), f.errors
    assert f.facts() == expected


def test_age_on_29_february(areas: None) -> None:
    f = SelfCheckForm({"age": "1"}, today=dt.date(2028, 2, 29))
    assert f.is_valid()
    assert f.facts()["birth_date"] == dt.date(2027, 2, 28)


# --- results --------------------------------------------------------------------------


def test_an_82_year_old_taizhou_elder_sees_elderly_items_with_their_guides(
    client: Client, real_standards: None
) -> None:
    response = client.post("/check/", {"age": "82", "hukou_county": "331002", "residence": "same"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>您可能可以享受的服务</h1>" in html
    eligible = section(html, "eligible")
    elderly = re.findall(r'<h3><a href="(/items/[^"]+/)">([^<]+)</a> <span class="tag">老有所养</span></h3>', eligible)
    assert elderly, eligible[:2000]
    assert ("/items/hc-meals/", "助餐服务") in elderly
    # Why: each criterion in words with the clause it comes from.
    assert "✓ 符合" in eligible
    assert 'href="/standards/taizhou-home-care/v1/#clause-5.2"' in eligible
    # Eligible items come before the ones needing more information.
    assert (
        html.index('data-testid="eligible"')
        < html.index('data-testid="unknown"')
        < html.index('data-testid="not-matching"')
    )
    # Items for working-age people do not match, and are tucked away in a collapsed list.
    not_matching = section(html, "not-matching")
    assert "<details>" in not_matching
    assert "职业技能培训" in not_matching
    for href, _name in elderly[:3]:
        assert client.get(href).status_code == 200


def test_the_level_and_the_clause_of_each_criterion(client: Client, mini: StandardVersion) -> None:
    html = client.post("/check/", {"birth_date": "1944-03-15", "hukou_county": "331002"}).content.decode()
    eligible = section(html, "eligible")
    assert '<a href="/items/test-visit/">高龄老人上门探访</a>' in eligible
    assert "每月 60 元" in eligible  # the 80–89 band of the parameter in force (2024 value)
    assert "年满80周岁" in eligible
    assert "台州市户籍" in eligible
    assert 'href="/standards/test-home-visits/v1/#clause-4"' in eligible


def test_not_sure_answers_give_the_unknown_section_naming_the_missing_fact(
    client: Client, mini: StandardVersion
) -> None:
    html = client.post("/check/", {"hukou_county": "331002"}).content.decode()
    assert "可以享受（0 项）" in html
    unknown = section(html, "unknown")
    assert "可能可以享受，需要补充信息（1 项）" in unknown
    assert "需要补充：</strong>出生日期" in unknown
    assert '<a href="/items/test-visit/">高龄老人上门探访</a> — 年满80周岁' in unknown
    # Not Taizhou: the item does not match, whatever the age.
    html = client.post("/check/", {"hukou_county": "outside"}).content.decode()
    assert "另有 1 项服务不符合条件" in section(html, "not-matching")
    assert "不符合：台州市户籍" in html


def test_a_younger_resident_does_not_match(client: Client, mini: StandardVersion) -> None:
    html = client.post("/check/", {"age": "60", "hukou_county": "331002"}).content.decode()
    assert "不符合：年满80周岁" in section(html, "not-matching")


def test_nothing_is_kept_logged_or_cached(client: Client, mini: StandardVersion, caplog: Any) -> None:
    with caplog.at_level(logging.DEBUG):
        response = client.post("/check/", {"birth_date": "1944-03-15", "hukou_county": "331002"})
    assert "1944-03-15" not in caplog.text
    assert "no-store" in response["Cache-Control"]
    assert response.wsgi_request.sensitive_post_parameters == "__ALL__"  # type: ignore[attr-defined]
    assert not client.session.keys()
    # "修改回答" brings the answers back from hidden fields, not from storage.
    html = response.content.decode()
    assert '<input type="hidden" name="birth_date" value="1944-03-15">' in html
    edit = client.post("/check/", {"birth_date": "1944-03-15", "hukou_county": "331002", "edit": "1"})
    edited = edit.content.decode()
    assert "<h1>我能享受什么</h1>" in edited
    assert 'value="1944-03-15"' in edited
    assert '<option value="331002" selected>椒江区</option>' in edited


def test_english_switch(client: Client, mini: StandardVersion) -> None:
    client.post("/i18n/setlang/", {"language": "en", "next": "/check/"})
    html = client.get("/check/").content.decode()
    assert '<html lang="en"' in html
    assert "<h1>What am I entitled to?</h1>" in html
    assert "Date of birth" in html
    assert '<option value="331002">Jiaojiang District</option>' in html
    results = client.post("/check/", {"age": "82", "hukou_county": "331002"}).content.decode()
    assert "Services you may be entitled to" in results
    assert "Home visits for the very old" in results
    assert "Aged 80 or over" in results
    assert "60 yuan a month" in results
    unknown = client.post("/check/", {"hukou_county": "331002"}).content.decode()
    assert "Date of birth" in section(unknown, "unknown")
