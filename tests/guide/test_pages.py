"""Public pages through the test client: the menu, standards, guides, search, language and display mode."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from pypdf import PdfReader

from fuwu.standards.models import StandardVersion, Status

pytestmark = pytest.mark.django_db


def test_home_shows_the_menu_by_life_area_in_chinese(client: Client, mini_version: StandardVersion) -> None:
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-Hans"' in html
    assert "老有所养" in html
    assert "幼有所育" in html
    assert "文体服务保障" in html
    assert 'href="/items/test-visit/"' in html


def test_chinese_is_the_default_even_for_an_english_browser(client: Client, mini_version: StandardVersion) -> None:
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "基本公共服务清单" in html


def test_english_switch(client: Client, mini_version: StandardVersion) -> None:
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    html = client.get("/").content.decode()
    assert '<html lang="en"' in html
    assert "Home visits for the very old" in html
    assert "Menu of basic public services" in html


def test_large_text_mode_persists(client: Client, mini_version: StandardVersion) -> None:
    assert 'class="large"' not in client.get("/").content.decode()
    response = client.post("/display/", {"mode": "large", "next": "/items/test-visit/"})
    assert response.status_code == 302
    assert response["Location"] == "/items/test-visit/"
    assert response.cookies["fuwu_display"]["max-age"] == 365 * 24 * 3600
    assert 'class="large"' in client.get("/standards/").content.decode()
    client.post("/display/", {"mode": "standard", "next": "/"})
    assert 'class="large"' not in client.get("/").content.decode()


def test_display_mode_refuses_an_open_redirect(client: Client) -> None:
    response = client.post("/display/", {"mode": "large", "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_standard_page_shows_clause_tree_dates_and_status(client: Client, mini_version: StandardVersion) -> None:
    html = client.get("/standards/test-home-visits/").content.decode()
    assert "DB3310/T 999—2021" in html
    assert 'id="clause-5.1"' in html
    assert "服务人员应持有健康证明。" in html
    assert "2021-11-29" in html
    assert "2026-11-29" in html
    assert "现行" in html


def test_guide_page_has_every_section_with_its_clause(client: Client, mini_version: StandardVersion) -> None:
    html = client.get("/items/test-visit/").content.decode()
    for heading in [
        "谁可以享受",
        "能得到什么",
        "需要带的材料",
        "办理流程和时限",
        "在哪里办、怎么办",
        "收费",
        "政策依据",
    ]:
        assert heading in html, heading
    assert "80周岁及以上老年人" in html
    assert "可通过数据共享获取，无需提交" in html
    assert "承诺时限：5 个工作日" in html
    assert "法定时限：10 个工作日" in html
    assert 'href="/standards/test-home-visits/v1/#clause-4"' in html
    # The level's amounts come from the dated parameter in force today (2024 values).
    assert "80至89周岁：每月 60 元" in html


def test_guide_of_an_item_no_longer_in_force_is_gone(client: Client, mini_version: StandardVersion) -> None:
    StandardVersion.objects.update(status=Status.ABOLISHED)
    assert client.get("/items/test-visit/").status_code == 404


def test_guide_prints_as_one_page_pdf_with_embedded_cjk_fonts(client: Client, mini_version: StandardVersion) -> None:
    response = client.get("/items/test-visit/guide.pdf")
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 1
    assert "高龄老人上门探访" in reader.pages[0].extract_text()
    embedded = set()
    for font in reader.pages[0]["/Resources"]["/Font"].values():
        font = font.get_object()
        for descendant in font.get("/DescendantFonts", [font]):
            descriptor = descendant.get_object().get("/FontDescriptor")
            if descriptor and any(k in descriptor.get_object() for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                embedded.add(str(descendant.get_object()["/BaseFont"]))
    assert any("CJK" in name or "Hei" in name or "SC" in name for name in embedded), embedded


def test_search_page_and_htmx_partial(client: Client, mini_version: StandardVersion) -> None:
    html = client.get("/search/", {"q": "高龄"}).content.decode()
    assert "<h1>" in html
    assert 'href="/items/test-visit/"' in html
    partial = client.get("/search/", {"q": "高龄"}, HTTP_HX_REQUEST="true").content.decode()
    assert "<h1>" not in partial
    assert 'href="/items/test-visit/"' in partial
    assert "没有找到" in client.get("/search/", {"q": "火星"}).content.decode()


def test_version_history_and_diff_pages(client: Client, mini_version: StandardVersion) -> None:
    from fuwu.standards.parsing import parse_standard_text
    from fuwu.standards.services import standards_load
    from tests.conftest import MINI

    text = MINI.read_text(encoding="utf-8").replace("服务人员应持有健康证明。", "服务人员应持有有效健康证明。")
    document, lines = parse_standard_text(text, name="v2.yaml")
    from fuwu.standards.parsing import ParsedStandard

    standards_load(parsed=[ParsedStandard(MINI, document, lines)], actor=None)
    html = client.get("/standards/test-home-visits/").content.decode()
    assert "版本历史" in html
    assert "/standards/test-home-visits/diff/1..2/" in html
    old = client.get("/standards/test-home-visits/v1/").content.decode()
    assert "已被修订替代" in old
    assert "查看新版本" in old
    diff = client.get("/standards/test-home-visits/diff/1..2/").content.decode()
    assert "<ins>有效</ins>" in diff


def test_unknown_pages_are_404(client: Client, db: None) -> None:
    assert client.get("/standards/nope/").status_code == 404
    assert client.get("/items/nope/").status_code == 404
    assert client.get("/items/nope/guide.pdf").status_code == 404
