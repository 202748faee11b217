"""The self-check in real Chromium, by keyboard only: an 82-year-old in Jiaojiang finds what she may get.

axe-core checks each page visited (the questions, the errors, the results, the guide, large-text mode)
for serious or critical accessibility violations.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from fuwu.areas.services import areas_load
from tests.browser.conftest import axe_serious
from tests.conftest import REPO

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def site(live_server: Any) -> str:
    areas_load(path=REPO / "data" / "areas" / "taizhou.yaml", villages_per_township=0)
    call_command("standards", "load", str(REPO / "standards"))
    return str(live_server.url)


def focused(page: Any) -> str:
    return str(page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()"))


def test_an_elder_checks_by_keyboard_and_reaches_the_guide(site: str, page: Any) -> None:
    page.goto(site + "/")
    page.get_by_role("link", name="我能享受什么").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_by_role("heading", level=1).inner_text() == "我能享受什么"
    # The first page asks only the basics.
    assert page.get_by_label("正在上什么学？").count() == 0
    assert axe_serious(page) == []

    # A mistake first: a birth date that is not a date. The error sits by the field and in a summary.
    page.get_by_label("出生日期", exact=True).focus()
    page.keyboard.type("1944-13-01")
    page.get_by_role("button", name="下一步").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_by_role("alert").get_by_role("link").first.inner_text().startswith("出生日期：")
    birth = page.get_by_label("出生日期", exact=True)
    assert birth.get_attribute("aria-invalid") == "true"
    assert "1944-03-15" in page.locator("#id_birth_date_error").inner_text()
    assert axe_serious(page) == []

    # Clear it and give the age instead; Tab moves on to the age.
    birth.focus()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.press("Tab")
    assert focused(page) == "id_age"
    page.keyboard.type("82")

    # The county by arrow key; htmx narrows the townships to that county's, and Tab reaches them.
    page.get_by_label("户籍所在县（市、区）").focus()
    page.keyboard.press("ArrowDown")
    assert page.get_by_label("户籍所在县（市、区）").input_value() == "331002"
    expect(page.locator("#id_hukou_township optgroup")).to_have_count(0)  # no eval under the CSP
    page.keyboard.press("Tab")
    assert focused(page) == "id_hukou_township"
    page.keyboard.press("ArrowDown")
    assert page.get_by_label("户籍所在乡镇（街道）").input_value() == "331002001"

    # A radio group: Space chooses the focused answer.
    page.get_by_role("radio", name="住在户籍所在地").focus()
    page.keyboard.press("Space")
    assert page.get_by_role("radio", name="住在户籍所在地").is_checked()
    page.get_by_role("button", name="下一步").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")

    # The next questions are only those that can change her answers: nothing about school.
    assert page.get_by_test_id("step-2").is_visible()
    assert page.get_by_label("正在上什么学？").count() == 0
    assert page.get_by_role("radio", name="孤儿").count() == 0
    for answer in ("低保对象", "中度失能", "住在城镇的社区"):
        page.get_by_role("radio", name=answer).focus()
        page.keyboard.press("Space")
    assert axe_serious(page) == []
    page.get_by_role("button", name="查看结果").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_by_role("heading", level=1).inner_text() == "您可能可以享受的服务"
    eligible = page.get_by_test_id("eligible")
    # One home-care allowance, with the ten projects it covers — not ten cards of 500 yuan each.
    assert eligible.get_by_text("每月 500 元").count() == 1
    allowance = eligible.get_by_test_id("card").filter(has_text="每月 500 元")
    assert allowance.get_by_role("heading").inner_text().startswith("居家养老上门服务月度补贴额度")
    assert allowance.get_by_role("link", name="助餐服务").is_visible()
    assert allowance.get_by_role("link", name="助浴服务").is_visible()
    # The minimum allowance once, as the Taizhou item carrying out the national one; packages marked self-paid.
    assert eligible.get_by_role("link", name="最低生活保障", exact=True).count() == 1
    assert eligible.get_by_text("落实国家基本公共服务标准“最低生活保障”").is_visible()
    assert page.get_by_test_id("group-self_paid").get_by_text("自费", exact=True).first.is_visible()
    assert axe_serious(page) == []

    # The list of items that do not match opens by keyboard.
    summary = page.locator("[data-testid=not-matching] summary")
    summary.focus()
    page.keyboard.press("Enter")
    assert page.locator("[data-testid=not-matching] details").get_attribute("open") is not None
    assert axe_serious(page) == []

    # A printable version with everything unfolded.
    page.get_by_test_id("printable").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_by_text("这是便于打印的版本").is_visible()
    assert page.evaluate("[...document.querySelectorAll('details')].every((d) => d.open)")
    page.emulate_media(media="print")
    assert not page.locator("header.site").is_visible()
    page.emulate_media(media="screen")
    assert axe_serious(page) == []

    # Follow a covered project to its guide.
    page.get_by_test_id("eligible").get_by_test_id("card").filter(has_text="每月 500 元").get_by_role(
        "link", name="助餐服务"
    ).focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_url("**/items/hc-meals/")
    assert page.get_by_role("heading", level=1).inner_text() == "助餐服务"
    assert page.get_by_role("heading", name="谁可以享受").is_visible()
    assert axe_serious(page) == []

    # Back to the questions in large-text mode.
    page.goto(site + "/check/")
    page.get_by_role("button", name="大字模式").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_url("**/check/")
    assert page.locator("html").get_attribute("class") == "large"
    assert axe_serious(page) == []
