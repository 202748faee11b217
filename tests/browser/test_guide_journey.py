"""A resident's journey in real Chromium: home → menu → home-care guide → large text → PDF.

axe-core checks every page visited for serious or critical accessibility violations.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command
from pypdf import PdfReader

from tests.browser.conftest import axe_serious
from tests.conftest import REPO

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def site(live_server: Any) -> str:
    call_command("standards", "load", str(REPO / "standards"))
    return str(live_server.url)


def test_home_to_home_care_guide_in_large_text_then_pdf(site: str, page: Any) -> None:
    page.goto(site + "/")
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    assert page.get_by_role("heading", level=1).inner_text() == "基本公共服务清单"
    assert axe_serious(page) == []

    # The menu: the elderly-care area lists the home-care projects.
    elderly = page.get_by_role("region", name="老有所养")
    elderly.get_by_role("link", name="助浴服务").click()
    page.wait_for_url("**/items/hc-bathing/")
    assert "居家养老上门服务规范" in page.locator(".source-line").inner_text()
    for heading in ["谁可以享受", "能得到什么", "需要带的材料", "办理流程和时限", "在哪里办、怎么办"]:
        assert page.get_by_role("heading", name=heading).is_visible()
    assert axe_serious(page) == []

    # Large-text, high-contrast mode, by keyboard, and it persists on the next page.
    base_size = page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    page.get_by_role("button", name="大字模式").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_url("**/items/hc-bathing/")
    assert page.locator("html").get_attribute("class") == "large"
    large_size = page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    assert large_size >= base_size * 1.3
    assert axe_serious(page) == []
    page.get_by_role("link", name="标准", exact=True).click()
    assert page.locator("html").get_attribute("class") == "large"
    assert axe_serious(page) == []
    page.go_back()

    # The printable guide: one A4 page, with the Chinese text and its fonts embedded.
    href = page.get_by_role("link", name="打印办事指南（PDF）").get_attribute("href")
    response = page.request.get(site + href)
    assert response.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.body()))
    assert len(reader.pages) == 1
    assert "助浴" in reader.pages[0].extract_text()


def test_search_as_you_type(site: str, page: Any) -> None:
    page.goto(site + "/search/")
    page.get_by_label("关键词").fill("上门")
    page.locator("#results a", has_text="居家养老上门服务规范").first.wait_for()
    assert "q=%E4%B8%8A%E9%97%A8" in page.url  # htmx pushed the query into the address bar
    assert axe_serious(page) == []
    page.get_by_label("关键词").fill("高龄")
    page.locator("#results a", has_text="老年人福利补贴").first.wait_for()


def test_everyday_words_then_nothing_found(site: str, page: Any) -> None:
    page.goto(site + "/search/")
    box = page.get_by_label("关键词")
    box.fill("老人 洗澡")
    first = page.locator("#results ul.results li a").first
    first.wait_for()
    assert first.inner_text() == "助浴服务"
    assert "“洗澡”→助浴" in page.locator("#results").inner_text()
    assert axe_serious(page) == []

    box.fill("80岁 补贴")
    page.locator("#results a", has_text="老年人福利补贴").first.wait_for()
    assert page.locator("#results ul.results li a").first.inner_text() == "老年人福利补贴"

    box.fill("火星上的服务")
    page.get_by_role("heading", name="没有找到与“火星上的服务”相关的内容").wait_for()
    assert page.get_by_role("link", name="看看您可以享受哪些服务").get_attribute("href") == "/check/"
    assert page.get_by_role("link", name="12345").get_attribute("href") == "tel:12345"
    assert axe_serious(page) == []
    page.get_by_role("link", name="看看您可以享受哪些服务").click()
    page.wait_for_url("**/check/")
