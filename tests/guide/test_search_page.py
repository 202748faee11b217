"""The search page as residents use it: results in their words, and a way on when nothing is found."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client

from fuwu.standards.models import StandardVersion

pytestmark = pytest.mark.django_db


@pytest.fixture
def synonyms(tmp_path: Path, settings: Any) -> None:
    path = tmp_path / "synonyms.yaml"
    path.write_text("synonyms:\n  - say: [看望, 探望]\n    means: [探访]\n", encoding="utf-8")
    settings.FUWU_SEARCH_SYNONYMS = str(path)


def _text(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", html))


def test_results_are_in_residents_words(client: Client, mini_version: StandardVersion, synonyms: None) -> None:
    html = client.get("/search/", {"q": "看望"}).content.decode()
    assert 'href="/items/test-visit/"' in html
    text = _text(html.split('<main id="main"', 1)[1])
    assert "高龄老人上门探访" in text
    assert "服务对象：80周岁及以上老年人" in text
    assert "“看望”→探访" in text  # says which standard term the everyday word was taken for
    # Keys stay in links, out of sight.
    assert "test-visit" not in text
    assert "test-home-visits" not in text


def test_nothing_found_leads_on(client: Client, mini_version: StandardVersion) -> None:
    html = client.get("/search/", {"q": "火星"}).content.decode()
    assert "没有找到与“火星”相关的内容" in html
    assert 'href="/check/"' in html  # the self-check
    assert 'href="tel:12345"' in html  # the government service hotline
    assert 'href="/"' in html

    # Each word finds something, never both together: the close terms are offered as searches.
    html = client.get("/search/", {"q": "高龄 托育"}).content.decode()
    assert "您可以试试这些说法" in html
    assert f'href="/search/?q={quote("高龄老人上门探访")}"' in html


def test_htmx_gets_the_results_alone(client: Client, mini_version: StandardVersion) -> None:
    partial = client.get("/search/", {"q": "高龄"}, HTTP_HX_REQUEST="true").content.decode()
    assert "<h1>" not in partial
    assert 'href="/items/test-visit/"' in partial
    assert client.get("/search/", HTTP_HX_REQUEST="true").content == b""


def test_a_repeated_search_reads_only_which_standards_are_in_force(
    client: Client, mini_version: StandardVersion, django_assert_num_queries: Any
) -> None:
    client.get("/search/", {"q": "上门"}, HTTP_HX_REQUEST="true")
    with django_assert_num_queries(1):
        assert b"/items/test-visit/" in client.get("/search/", {"q": "上门"}, HTTP_HX_REQUEST="true").content


def test_english_results_are_not_the_chinese_ones_cached(client: Client, mini_version: StandardVersion) -> None:
    assert "高龄老人上门探访" in client.get("/search/", {"q": "上门"}).content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = client.get("/search/", {"q": "上门"}).content.decode()
    assert "Home visits for the very old" in html
    assert "Who it is for: Residents aged 80 or over" in html
    assert "高龄老人上门探访" not in html
    assert "Nothing found for “火星”" in client.get("/search/", {"q": "火星"}).content.decode()


def test_overlong_and_odd_queries_are_answered(client: Client, mini_version: StandardVersion) -> None:
    for q in ["x" * 500, "%", "'; DROP TABLE x; --", "８０岁", "\u3000上门\u3000", "<script>"]:
        response = client.get("/search/", {"q": q})
        assert response.status_code == 200, q
        assert "<script>" not in response.content.decode().split('<main id="main"', 1)[1]


def test_api_offers_suggestions_when_nothing_is_found(client: Client, mini_version: StandardVersion) -> None:
    body = client.get("/api/v1/search", {"q": "高龄 托育"}).json()
    assert body["items"] == []
    assert body["suggestions"][0] == "高龄老人上门探访"
    for suggestion in body["suggestions"]:  # each one finds something
        assert client.get("/api/v1/search", {"q": suggestion}).json()["items"], suggestion
    assert client.get("/api/v1/search", {"q": "老人 上门"}).json()["items"][0]["key"] == "test-visit"
