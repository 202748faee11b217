"""Searching as a resident types, in real Chromium: everyday words, then a search that finds nothing.

axe-core checks each state of the page for serious or critical accessibility violations.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command

from tests.browser.conftest import axe_serious
from tests.conftest import REPO

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def site(live_server: Any) -> str:
    call_command("standards", "load", str(REPO / "standards"))
    return str(live_server.url)


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
