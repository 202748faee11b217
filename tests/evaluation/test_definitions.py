"""Indicator computations are checked when a standard is read, with the file and line of the mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from fuwu.evaluation.catalog import VIEWS
from fuwu.standards.parsing import StandardFileError, parse_standard_text

HOME_CARE = Path(__file__).parents[2] / "standards" / "taizhou" / "taizhou-home-care.yaml"
TEXT = HOME_CARE.read_text(encoding="utf-8")
CALLBACK = "      denominator: done\n      numerator: called_back\n"


def errors_for(old: str, new: str) -> list[str]:
    assert old in TEXT
    text = TEXT.replace(old, new, 1)
    with pytest.raises(StandardFileError) as caught:
        parse_standard_text(text, name="hc.yaml")
    return [str(e) for e in caught.value.errors]


def line_of(needle: str, text: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def test_the_home_care_standard_defines_every_indicator() -> None:
    document, _ = parse_standard_text(TEXT, name="hc.yaml")
    assert all(i.computation is not None for i in document.indicators)
    assert {i.computation.view for i in document.indicators if i.computation} <= set(VIEWS)


@pytest.mark.parametrize(
    ("numerator", "message"),
    [
        ("called_bak", "unknown column of homecare_visits 'called_bak'; see docs/evaluation.md"),
        ("status = 'complete'", "'complete' is not a value of status"),
        ("(SELECT 1) = 1", "SUBQUERY is not allowed"),
        ("done; DROP TABLE x", "exactly one expression"),
        ("checkin_distance_m <= param('no-such')", "parameter 'no-such' is not declared"),
    ],
)
def test_a_bad_expression_names_file_line_and_token(numerator: str, message: str) -> None:
    (error,) = errors_for(CALLBACK, f'      denominator: done\n      numerator: "{numerator}"\n')
    line = line_of(CALLBACK, TEXT) + 1
    assert error.startswith(f"hc.yaml:{line}: indicators[5].computation.numerator: indicator 'hc-callback-rate'")
    assert message in error


def test_an_unknown_view_is_named_with_the_published_ones() -> None:
    (error,) = errors_for("view: homecare_responses", "view: homecare_ratings")
    assert "indicators[2].computation.view" in error
    assert "no data view 'homecare_ratings'; published views: applications, applications_decided" in error
    assert "homecare_caregivers" in error


def test_computation_and_reason_are_exclusive_and_fields_are_checked() -> None:
    reason = "    not_computable_reason: {zh: 无数据, en: No data}\n    computation:\n      view: homecare_responses"
    (error,) = errors_for("    computation:\n      view: homecare_responses", reason)
    assert "either computation or not_computable_reason" in error
    (error,) = errors_for(
        "      period: month\n      area_level: township", "      period: week\n      area_level: township"
    )
    assert "indicators[3].computation.period" in error
    assert "'week' is not allowed" in error


def test_every_indicator_in_the_standards_is_computed_or_says_why() -> None:
    from fuwu.standards.parsing import parse_many

    missing = [
        f"{p.path.name}: {i.id}"
        for p in parse_many([HOME_CARE.parent.parent])
        for i in p.document.indicators
        if i.computation is None and i.not_computable_reason is None
    ]
    assert missing == []
