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
    """The HTML of one results section, the sections within it included."""
    match = re.search(rf'<section[^>]*data-testid="{testid}"', html)
    assert match, testid
    depth = 0
    for tag in re.finditer(r"<section\b|</section>", html[match.start() :]):
        depth += 1 if tag.group(0) == "<section" else -1
        if depth == 0:
            return html[match.start() : match.start() + tag.end()]
    raise AssertionError(f"section {testid} is not closed")


def form(data: dict[str, Any] | None = None) -> SelfCheckForm:
    return SelfCheckForm(data, today=TODAY)


# --- the questions ------------------------------------------------------------------


def labelled(html: str) -> None:
    """Every input, select and radio has a label pointing at it."""
    ids = set(re.findall(r'<(?:input|select)[^>]*\bid="([^"]+)"', html))
    labels = set(re.findall(r'<label[^>]*for="([^"]+)"', html))
    assert ids - labels == set()


def asked(html: str) -> set[str]:
    """The questions on a page, by field name."""
    return set(re.findall(r'id="q-([a-z_]+)"', html))


def test_the_first_page_asks_only_the_basics_each_with_a_label(client: Client, areas: None) -> None:
    response = client.get("/check/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>我能享受什么</h1>" in html
    assert 'href="/check/"' in html  # the navigation link
    labelled(html)
    assert asked(html) == {"birth_date", "age", "hukou_county", "hukou_township", "residence"}
    for legend in ["户籍所在地", "出生日期或年龄（填一项即可）", "现在住在哪里？"]:
        assert f"<legend>{legend}</legend>" in html, legend
    # The townships come from the Area table, grouped by county until a county is chosen.
    assert '<optgroup label="椒江区">' in html
    assert '<option value="331002001">海门街道</option>' in html
    # "Not sure" is the starting answer everywhere.
    assert re.search(r'name="residence" value="" id="[^"]+" checked', html)
    assert '<button type="submit" name="next" value="1" class="big">下一步</button>' in html


def test_knowing_nothing_every_question_is_asked_next(client: Client, areas: None, real_standards: None) -> None:
    html = client.post("/check/", {"step": "1", "next": "1"}).content.decode()
    labelled(html)
    assert 'data-testid="step-2"' in html
    for legend in ["性别", "家庭人数和收入", "残疾证等级", "有没有下面这些情况？（可以多选）", "现在的工作情况"]:
        assert f"<legend>{legend}</legend>" in html, legend
    assert {"sex", "school_stage", "employment_status", "pension_insurance", "orphan_status"} <= asked(html)
    assert re.search(r'name="low_income_status" value="" id="[^"]+" checked', html)


def test_an_82_year_old_is_not_asked_about_school_or_work_but_a_child_is(client: Client, real_standards: None) -> None:
    basics = {"step": "1", "next": "1", "hukou_county": "331002", "residence": "same"}
    elder = asked(client.post("/check/", {**basics, "age": "82"}).content.decode())
    # Derived from the rules: every school item also asks for an age under 18 or 35, and work ones for working age.
    assert not {"school_stage", "boarding", "orphan_status", "employment_status", "sex"} & elder
    assert {"care_need", "low_income_status", "lives_in_village", "pension_insurance", "veteran_category"} <= elder
    assert {"age", "hukou_county", "residence"} <= elder  # the basics stay, to be corrected
    child = asked(client.post("/check/", {**basics, "age": "10"}).content.decode())
    assert {"school_stage", "boarding", "orphan_status"} <= child
    assert not {"care_need", "pension_insurance", "employment_status"} & child
    # Answers already given stay on the page even if they no longer matter.
    again = asked(client.post("/check/", {**basics, "age": "82", "school_stage": "none", "edit": "1"}).content.decode())
    assert "school_stage" in again


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
            "lives_in_village": "yes",
            "employment_status": "unemployed_registered",
            "household_zero_employment": "no",
            "pension_insurance": "resident",
            "medical_insurance": "resident",
            "orphan_status": "none",
        }
    )
    assert f.is_valid(), f.errors
    assert f.facts() == {
        "lives_in_village": True,
        "employment_status": "unemployed_registered",
        "household_zero_employment": False,
        "pension_insurance": "resident",
        "medical_insurance": "resident",
        "orphan_status": "none",
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

ELDER = {
    "age": "82",
    "hukou_county": "331002",
    "residence": "same",
    "lives_in_village": "no",
    "low_income_status": "minimum_allowance",
    "care_need": "moderate",
    "household_size": "1",
    "household_income": "6000",
}


def test_an_82_year_old_on_minimum_allowance_sees_one_shared_allowance(client: Client, real_standards: None) -> None:
    html = client.post("/check/", ELDER).content.decode()
    eligible = section(html, "eligible")
    # One allowance (350 minimum-allowance category + 150 for a moderate care need), said once, with the ten
    # projects it covers — not ten cards each saying the whole amount.
    assert eligible.count("每月 500 元") == 1
    card = re.search(
        r'<li data-testid="card">(?:(?!</li>\s*<li data-testid="card">).)*?每月 500 元.*?</div>', eligible, re.S
    )
    assert card, eligible[:3000]
    assert "居家养老上门服务月度补贴额度" in card.group(0)
    assert "一份额度，以下 10 项服务共用" in card.group(0)
    covered = re.findall(r'<li><a href="/items/(hc-[a-z-]+)/">', card.group(0))
    assert len(covered) == 10
    assert {"hc-meals", "hc-rehab-care"} <= set(covered)
    assert '<h3><a href="/items/hc-bathing/">' not in eligible


def test_a_local_item_and_the_national_item_it_implements_are_one_entry(client: Client, real_standards: None) -> None:
    html = client.post("/check/", ELDER).content.decode()
    # The minimum allowance once: the Taizhou item, saying which national item it carries out.
    assert html.count(">最低生活保障</a>") == 1
    assert '<a href="/items/sr-minimum-living-allowance/">最低生活保障</a>' in section(html, "eligible")
    assert "落实国家基本公共服务标准“最低生活保障”" in html
    assert '<a href="/items/gb-minimum-living-allowance/">查看国家标准的规定</a>' in html
    # Registered in Hangzhou: the Taizhou item does not apply, so the national one is shown on its own.
    outsider = client.post("/check/", {**ELDER, "hukou_county": "outside", "residence": "outside"}).content.decode()
    assert '<a href="/items/gb-minimum-living-allowance/">最低生活保障</a>' in section(outsider, "eligible")
    assert "不符合：台州市户籍" in section(outsider, "not-matching")


def test_self_paid_packages_are_marked_and_kept_apart_from_benefits(client: Client, real_standards: None) -> None:
    html = client.post("/check/", ELDER).content.decode()
    money = section(html, "group-money")
    bought = section(html, "group-self_paid")
    assert "健康守护套餐" not in money
    assert '<a href="/items/hc-package-health/">健康守护套餐</a>' in bought
    assert '<span class="tag self-paid">自费</span>' in bought
    assert "价格：</strong>自费购买，价格每月 100 元" in bought
    assert html.index('data-testid="group-money"') < html.index('data-testid="group-services"')
    assert html.index('data-testid="group-services"') < html.index('data-testid="group-self_paid"')


def test_explanations_are_in_residents_words_and_name_their_standard(client: Client, real_standards: None) -> None:
    for answers in (ELDER, {"age": "30", "hukou_county": "331002", "residence": "same"}, {}):
        html = client.post("/check/", answers).content.decode()
        for raw in ("区划代码", "3310开头", "事实词表", "词表", "未建模", "即为真", "expr", "NULL"):
            assert raw not in html, raw
    html = client.post("/check/", ELDER).content.decode()
    assert "依据《居家养老上门服务规范》第 5.2 条" in html
    assert 'href="/standards/taizhou-home-care/v1/#clause-5.2"' in html


def test_results_are_grouped_by_what_matters_most(client: Client, real_standards: None) -> None:
    html = client.post("/check/", ELDER).content.decode()
    money = section(html, "group-money")
    # Help with money first; for an elder, the elderly area leads within it.
    areas = re.findall(r'<span class="tag">([^<]+)</span>', money)
    assert areas[0] == "老有所养", areas
    # Items for every resident are folded away after the rest.
    assert html.index('data-testid="group-money"') < html.index('data-testid="for-everyone"')
    assert "建立居民健康档案" not in money


def test_only_questions_that_can_change_the_answer_are_named_as_missing(client: Client, real_standards: None) -> None:
    unknown = section(client.post("/check/", ELDER).content.decode(), "unknown")
    assert "农村房屋安全等级" in unknown
    for irrelevant in ("在读学段", "寄宿", "性别", "孤儿"):
        assert irrelevant not in unknown, irrelevant


def test_a_birth_date_not_given_leaves_items_for_everyone_unknown(client: Client, real_standards: None) -> None:
    html = client.post("/check/", {"hukou_county": "331002", "residence": "same"}).content.decode()
    assert "公共图书馆免费开放服务" in section(html, "unknown")
    assert "公共图书馆免费开放服务" not in section(html, "not-matching")
    assert "建立居民健康档案" not in section(html, "not-matching")


def test_the_result_can_be_printed_whole(client: Client, real_standards: None) -> None:
    html = client.post("/check/", ELDER).content.decode()
    assert '<button type="submit" name="print" value="1" data-testid="printable">打印或保存结果</button>' in html
    assert "@media print" in html
    printable = client.post("/check/", {**ELDER, "print": "1"}).content.decode()
    assert "这是便于打印的版本" in printable
    assert "<details" in printable
    assert not re.search(r"<details(?![^>]*\bopen\b)", printable)  # every folded list is open
    assert printable.count("每月 500 元") == 1


def test_the_level_and_the_clause_of_each_criterion(client: Client, mini: StandardVersion) -> None:
    html = client.post("/check/", {"birth_date": "1944-03-15", "hukou_county": "331002"}).content.decode()
    eligible = section(html, "eligible")
    assert '<a href="/items/test-visit/">高龄老人上门探访</a>' in eligible
    assert "每月 60 元" in eligible  # the 80–89 band of the parameter in force (2024 value)
    assert "年满80周岁" in eligible
    assert "台州市户籍" in eligible
    assert 'href="/standards/test-home-visits/v1/#clause-4">依据《测试上门探访服务规范》第 4 条</a>' in eligible


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
    assert "Clause 4 of Test home visit service specification" in results
    unknown = client.post("/check/", {"hukou_county": "331002"}).content.decode()
    assert "Date of birth" in section(unknown, "unknown")
