"""Chinese search, run on whichever database the suite runs on (SQLite and PostgreSQL in CI)."""

from __future__ import annotations

import pytest

from fuwu.standards.models import StandardVersion, Status
from fuwu.standards.selectors import search

pytestmark = pytest.mark.django_db


def test_substring_search_finds_chinese_words_inside_longer_text(mini_version: StandardVersion) -> None:
    results = search(query="上门")
    assert [v.standard.key for v in results.standards] == ["test-home-visits"]  # in the title 测试上门探访服务规范
    assert [i.key for i in results.items] == ["test-visit"]  # in the name 高龄老人上门探访


def test_search_finds_clauses(mini_version: StandardVersion) -> None:
    results = search(query="健康证明")
    assert [c.number for c in results.clauses] == ["5.1"]


def test_all_terms_must_match(mini_version: StandardVersion) -> None:
    assert search(query="高龄 探访").items
    assert not search(query="高龄 托育").items


def test_english_search_is_case_insensitive(mini_version: StandardVersion) -> None:
    assert [i.key for i in search(query="HOME VISITS").items] == ["test-visit"]


def test_search_ignores_versions_not_in_force(mini_version: StandardVersion) -> None:
    StandardVersion.objects.update(status=Status.DRAFT)
    assert search(query="上门").total == 0


def test_empty_and_unmatched_queries(mini_version: StandardVersion) -> None:
    assert search(query="   ").total == 0
    assert search(query="不存在的词").total == 0
    # LIKE wildcards in the query are matched literally, not as patterns.
    assert search(query="%").total == 0
