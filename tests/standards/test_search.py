"""Search in residents' words, run on whichever database the suite runs on (SQLite and PostgreSQL in CI)."""

from __future__ import annotations

from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from fuwu.standards.models import StandardVersion, Status
from fuwu.standards.parsing import parse_many
from fuwu.standards.search import SynonymFileError, load_synonyms, parse_synonyms, synonyms_are_valid
from fuwu.standards.selectors import search
from fuwu.standards.services import standard_abolish, standards_load
from tests.conftest import MINI, REPO

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


# --- Words, synonyms, ranking and the index (ADR 12) -------------------------------------------------------

SYNONYMS = """\
ignore: [怎么, 申请]
synonyms:
  - say: [探望, 看望]
    means: [探访]
  - say: [老人]
    means: [老年人]
"""


@pytest.fixture
def synonyms_file(tmp_path: Path, settings: Any) -> Path:
    path = tmp_path / "synonyms.yaml"
    path.write_text(SYNONYMS, encoding="utf-8")
    settings.FUWU_SEARCH_SYNONYMS = str(path)
    return path


def test_everyday_words_find_the_standards_terms(mini_version: StandardVersion, synonyms_file: Path) -> None:
    results = search(query="看望老人")  # one run of characters: cut into 看望 / 老人
    assert [i.key for i in results.items] == ["test-visit"]
    assert ("看望", ("探访",)) in results.understood
    assert [i.key for i in search(query="怎么申请探望").items] == ["test-visit"]  # 怎么, 申请 are ignored
    # A word that finds nothing is searched by the everyday words inside it: 老人家 → 老人.
    assert [i.key for i in search(query="看望老人家").items] == ["test-visit"]


def test_an_age_finds_items_whose_rule_admits_it(mini_version: StandardVersion, synonyms_file: Path) -> None:
    # The item's rule says age >= 80; its texts say 80周岁, never 85 or 九十.
    assert [i.key for i in search(query="85岁").items] == ["test-visit"]
    assert [i.key for i in search(query="九十岁 探望").items] == ["test-visit"]
    assert not search(query="70岁").items
    assert not search(query="七十岁 探望").items


def test_a_changed_synonym_file_is_used_at_once(mini_version: StandardVersion, synonyms_file: Path) -> None:
    assert not search(query="串门").items
    synonyms_file.write_text(SYNONYMS + "  - say: [串门]\n    means: [上门]\n", encoding="utf-8")
    assert [i.key for i in search(query="串门").items] == ["test-visit"]


def test_a_load_or_an_abolition_rebuilds_the_index(
    mini_version: StandardVersion, write_standard: Callable[..., Path]
) -> None:
    assert [i.name_zh for i in search(query="探访").items] == ["高龄老人上门探访"]
    variant = write_standard("高龄老人上门探访", "高龄老人上门关爱")
    standards_load(parsed=parse_many([variant]), actor=None)
    assert [i.name_zh for i in search(query="关爱").items] == ["高龄老人上门关爱"]
    assert [i.name_zh for i in search(query="探访").items] == ["高龄老人上门关爱"]  # never the old name
    standard_abolish(version=StandardVersion.objects.get(status=Status.PUBLISHED), actor=None, note="test")
    assert search(query="关爱").total == 0


def test_nothing_found_offers_close_terms(mini_version: StandardVersion, synonyms_file: Path) -> None:
    results = search(query="高龄 托育")  # each word finds something, never both together
    assert results.total == 0
    assert results.suggestions == ["高龄老人上门探访"]
    assert search(query="看望孩子").suggestions[:1] == ["高龄老人上门探访"]
    assert search(query="火星").suggestions == []


def test_the_index_is_built_once_per_set_of_standards(
    mini_version: StandardVersion, django_assert_num_queries: Any
) -> None:
    search(query="上门")
    with django_assert_num_queries(1):  # which versions are in force; nothing else
        assert search(query="老人 上门").items


# --- The synonym list's own errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (
            "synonyms:\n  - say: [洗澡]\n    means: [助浴]\n  - say: [洗浴, 洗澡]\n    means: [助浴]\n",
            4,
            "already listed on line 2",
        ),
        ("synonyms:\n  - say: [洗澡]\n    mean: [助浴]\n", 3, "unknown field"),
        ("synonyms:\n  - say: 洗澡\n    means: [助浴]\n", 2, "must be a list of words"),
        ("synonyms:\n  - say: [洗 澡]\n    means: [助浴]\n", 2, "no spaces"),
        ("synonyms:\n  - say: [洗澡]\n", 2, "synonyms[0].means: required field is missing"),
        (
            "synonyms:\n  - say: [洗澡]\n    means: [助浴]\n    say: [擦身]\n",
            4,
            "duplicate key (first defined on line 2)",
        ),
        ("ignore: [的, 洗澡]\nsynonyms:\n  - say: [洗澡]\n    means: [助浴]\n", 3, "also in ignore"),
        ("synonyms: [\n", 2, "not valid YAML"),
        ("words:\n  洗澡: 助浴\n", 1, "unknown field"),
    ],
)
def test_a_bad_synonym_entry_is_reported_with_file_and_line(text: str, line: int, message: str) -> None:
    with pytest.raises(SynonymFileError) as caught:
        parse_synonyms(text, name="synonyms.yaml")
    first = str(caught.value.errors[0])
    assert first.startswith(f"synonyms.yaml:{line}: "), first
    assert message in first, first


def test_the_shipped_synonym_list_is_valid_and_says_what_the_standards_say() -> None:
    synonyms = load_synonyms(REPO / "standards" / "search" / "synonyms.yaml")
    assert synonyms.means["洗澡"] == ("助浴",)
    assert "最低生活保障" in synonyms.means["低保"]
    assert "怎么" in synonyms.ignore


def test_validate_checks_the_synonym_list_beside_the_standards(tmp_path: Path) -> None:
    (tmp_path / "search").mkdir()
    (tmp_path / "mini.yaml").write_text(MINI.read_text(encoding="utf-8"), encoding="utf-8")
    bad = tmp_path / "search" / "synonyms.yaml"
    bad.write_text(
        "synonyms:\n  - say: [洗澡]\n    means: [助浴]\n  - say: [洗澡]\n    means: [洗浴]\n", encoding="utf-8"
    )
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("standards", "validate", str(tmp_path), stdout=StringIO(), stderr=err)
    assert f"{bad}:4: synonyms[1].say: '洗澡' is already listed on line 2" in err.getvalue()
    bad.write_text("synonyms:\n  - say: [洗澡]\n    means: [助浴]\n", encoding="utf-8")
    out = StringIO()
    call_command("standards", "validate", str(tmp_path), stdout=out)
    assert "ok  " + str(bad) in out.getvalue()  # and the synonym list is not taken for a standard


def test_a_bad_synonym_list_stops_the_server_at_start_up(tmp_path: Path, settings: Any) -> None:
    bad = tmp_path / "synonyms.yaml"
    bad.write_text("synonyms:\n  - say: [洗澡]\n", encoding="utf-8")
    settings.FUWU_SEARCH_SYNONYMS = str(bad)
    errors = synonyms_are_valid()
    assert [e.id for e in errors] == ["standards.E101"]
    assert f"{bad}:2: synonyms[0].means" in errors[0].msg


def test_search_still_answers_by_words_when_the_synonym_list_is_bad(
    mini_version: StandardVersion, tmp_path: Path, settings: Any
) -> None:
    bad = tmp_path / "synonyms.yaml"
    bad.write_text("synonyms: 1\n", encoding="utf-8")
    settings.FUWU_SEARCH_SYNONYMS = str(bad)
    assert [i.key for i in search(query="上门").items] == ["test-visit"]


def test_a_missing_synonym_list_is_a_warning(tmp_path: Path, settings: Any) -> None:
    settings.FUWU_SEARCH_SYNONYMS = str(tmp_path / "nowhere.yaml")
    assert [e.id for e in synonyms_are_valid()] == ["standards.W101"]


def test_a_standards_number_is_found_whole(mini_version: StandardVersion) -> None:
    assert [v.standard.key for v in search(query="db3310/t 999—2021").standards] == ["test-home-visits"]
