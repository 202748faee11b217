"""The schema and the loader's error messages: every kind of bad file names file, line, field and fix."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from fuwu.standards.parsing import StandardFileError, parse_many, parse_standard_file
from tests.conftest import MINI


def errors_of(path: Path) -> list[str]:
    with pytest.raises(StandardFileError) as caught:
        parse_many([path])
    return [str(e) for e in caught.value.errors]


def test_the_fixture_is_valid() -> None:
    parsed = parse_standard_file(MINI)
    assert parsed.document.id == "test-home-visits"
    assert [i.id for i in parsed.document.items] == ["test-visit"]


def test_content_hash_ignores_comments_and_key_order(write_standard: Callable[..., Path]) -> None:
    original = parse_standard_file(MINI)
    reordered = write_standard(
        "schema_version: 1\nid: test-home-visits\n", "# a comment\nid: test-home-visits\nschema_version: 1\n"
    )
    assert parse_standard_file(reordered).content_hash == original.content_hash


@pytest.mark.parametrize(
    ("old", "new", "anchor", "field", "hint"),
    [
        # Unknown field (a typo) is refused, not ignored.
        (
            "  review_period_years: 5\n",
            "  review_period_years: 5\n  reviw: 1\n",
            "reviw:",
            "meta.reviw",
            "unknown field",
        ),
        # Missing required field.
        (
            "  issuing_body: {zh: 测试市场监督管理局, en: Test market regulation bureau}\n",
            "",
            "meta:",
            "meta.issuing_body",
            "required field is missing",
        ),
        # Invalid enum value lists what is valid.
        ("life_area: elderly", "life_area: old-age", "life_area: old-age", "items[0].life_area", "'elderly'"),
        ("subject: staffing", "subject: people", "subject: people", "clauses[2].children[0].subject", "'staffing'"),
        # Review period beyond the five years the law allows.
        (
            "review_period_years: 5",
            "review_period_years: 6",
            "review_period_years: 6",
            "meta.review_period_years",
            "less than or equal to 5",
        ),
        # Dates in the wrong order.
        ("effective_on: 2021-11-29", "effective_on: 2021-01-01", "meta:", "meta", "before issued_on"),
        # Clause numbering under the wrong parent.
        ('      - number: "5.2"', '      - number: "6.2"', '  - number: "5"', "clauses[2]", "not numbered under '5'"),
        # A reference to a clause that does not exist.
        (
            'content: {text: {zh: 每月上门探访。, en: A monthly home visit.}, clause: "4"}',
            'content: {text: {zh: 每月上门探访。, en: A monthly home visit.}, clause: "9.9"}',
            "schema_version",
            "",
            "clause references not found in this standard's clauses: 9.9",
        ),
        # A promise longer than the law allows.
        (
            "promised_limit_days: 5, legal_limit_days: 10",
            "promised_limit_days: 15, legal_limit_days: 10",
            "promised_limit_days: 15",
            "items[0].steps[1]",
            "exceeds legal_limit_days",
        ),
        # A level that uses an undeclared parameter.
        (
            "parameter: test-allowance",
            "parameter: no-such-parameter",
            "schema_version",
            "",
            "declared parameters: test-allowance",
        ),
        # Rules: an unknown fact, a forbidden construct, a typo in a category, an undeclared parameter.
        (
            '{expr: "age >= 80"',
            '{expr: "agee >= 80"',
            "agee >= 80",
            "items[0].target_group.rule.criteria.aged-80-plus.expr",
            "item test-visit, criterion aged-80-plus: unknown fact 'agee'",
        ),
        (
            '{expr: "age >= 80"',
            '{expr: "age >= (SELECT 80)"',
            "SELECT 80",
            "items[0].target_group.rule.criteria.aged-80-plus.expr",
            "SUBQUERY is not allowed in a rule",
        ),
        (
            "{expr: \"hukou_city = '3310'\"",
            "{expr: \"low_income_status = 'destitue'\"",
            "destitue",
            "items[0].target_group.rule.criteria.taizhou-hukou.expr",
            "'destitue' is not a value of low_income_status",
        ),
        (
            "param('test-allowance', '100+')",
            "param('no-such', '100+')",
            "amount: >-",
            "items[0].target_group.rule.level.amount",
            "parameter 'no-such' is not declared in this standard",
        ),
        (
            '{expr: "age >= 80"',
            "{expr: \"lower(sex) = 'male'\"",
            "lower(sex)",
            "items[0].target_group.rule.criteria.aged-80-plus.expr",
            "LOWER is not allowed in a rule",
        ),
        # A bad standard number.
        (
            "number: DB3310/T 999—2021",
            "number: DB3310/T 999",
            "number: DB3310/T 999",
            "meta.number",
            "ends with its year",
        ),
        # A subject on a plain statement.
        (
            "    title: {zh: 服务流程, en: Process}\n",
            "    title: {zh: 服务流程, en: Process}\n    subject: process\n",
            "schema_version",
            "",
            "has a subject but is a statement",
        ),
        # Parameter values out of date order.
        (
            "effective_from: 2024-01-01",
            "effective_from: 2020-01-01",
            "    values:",
            "parameters[0].values",
            "strictly increasing",
        ),
    ],
)
def test_bad_files_give_clear_errors(
    write_standard: Callable[..., Path], old: str, new: str, anchor: str, field: str, hint: str
) -> None:
    path = write_standard(old, new)
    # The error must point at the line where the problem is (for whole-document checks, the document's start).
    lines = path.read_text(encoding="utf-8").splitlines()
    line = next(n for n, text in enumerate(lines, start=1) if anchor in text and not text.startswith("#"))
    errors = errors_of(path)
    assert any(hint in e for e in errors), errors
    matching = next(e for e in errors if hint in e)
    assert matching.startswith(f"{path}:{line}: "), matching
    if field:
        assert f": {field}: " in matching, matching


def test_duplicate_keys_are_refused(write_standard: Callable[..., Path]) -> None:
    path = write_standard("  scope: local\n", "  scope: local\n  scope: national\n")
    assert errors_of(path) == [f"{path}:8: meta.scope: duplicate key (first defined on line 7); keep one"]


def test_broken_yaml_names_the_line(write_standard: Callable[..., Path]) -> None:
    path = write_standard("  scope: local\n", "  scope: [local\n")
    [error] = errors_of(path)
    assert error.startswith(f"{path}:")
    assert "not valid YAML" in error


def test_non_utf8_and_missing_files(tmp_path: Path) -> None:
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("id: caf\xe9\n".encode("latin-1"))
    assert "save the file as UTF-8" in errors_of(latin)[0]
    assert "cannot read the file" in errors_of(tmp_path / "missing.yaml")[0]


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n", encoding="utf-8")
    assert "mapping at the top level" in errors_of(path)[0]


def test_item_ids_are_unique_across_files(write_standard: Callable[..., Path]) -> None:
    first = write_standard(name="a.yaml")
    second = write_standard("id: test-home-visits", "id: another-standard", name="b.yaml")
    with pytest.raises(StandardFileError) as caught:
        parse_many([first, second])
    assert any("item id 'test-visit' is also used in" in str(e) for e in caught.value.errors)


def test_errors_from_several_files_are_all_reported(write_standard: Callable[..., Path]) -> None:
    a = write_standard("life_area: elderly", "life_area: x", name="a.yaml")
    b = write_standard("scope: local", "scope: planet", name="b.yaml")
    with pytest.raises(StandardFileError) as caught:
        parse_many([a, b])
    files = {e.file for e in caught.value.errors}
    assert files == {str(a), str(b)}
