"""Scoring by the standard's own method: weights, partial credit, not-applicable, critical failures, grades."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from fuwu.compliance.scoring import Line, grade_label, outcome
from fuwu.standards.schema import Grading

STARS = Grading.model_validate(
    {
        "pass_score": 60,
        "grades": [
            {"id": "five-star", "name": {"zh": "五星级", "en": "Five stars"}, "min_score": 95, "stars": 5},
            {"id": "three-star", "name": {"zh": "三星级"}, "min_score": 80, "stars": 3},
        ],
    }
)


def line(n: str, weight: int, result: str, critical: bool = False) -> Line:
    return Line(n, weight, critical, result)


def test_the_score_is_the_weighted_share_met() -> None:
    result = outcome([line("1", 3, "compliant"), line("2", 1, "not")], STARS)
    assert result.score == Decimal("75.0")
    assert result.passed
    assert (result.grade_key, result.stars) == ("", None)  # a pass below every grade


def test_partly_met_earns_the_partial_credit_and_not_applicable_leaves_the_sum() -> None:
    lines = [line("1", 2, "partly"), line("2", 2, "compliant"), line("3", 50, "na")]
    assert outcome(lines, STARS).score == Decimal("75.0")
    stingy = Grading.model_validate({"partial_credit": "0.25"})
    assert outcome(lines, stingy).score == Decimal("62.5")


def test_grades_are_the_highest_reached() -> None:
    five = outcome([line(str(n), 1, "compliant") for n in range(19)] + [line("x", 1, "partly")], STARS)
    assert five.score == Decimal("97.5")
    assert (five.grade_key, five.grade_zh, five.grade_en, five.stars) == ("five-star", "五星级", "Five stars", 5)
    three = outcome([line("1", 4, "compliant"), line("2", 1, "not")], STARS)
    assert (three.score, three.grade_key, three.grade_en) == (Decimal("80.0"), "three-star", "")


def test_a_critical_failure_fails_the_whole_whatever_the_score() -> None:
    lines = [line(str(n), 10, "compliant") for n in range(20)] + [line("5.3", 1, "partly", critical=True)]
    result = outcome(lines, STARS)
    assert result.score == Decimal("99.8")
    assert not result.passed
    assert result.critical_failures == ("5.3",)
    assert result.grade_key == ""
    # A critical clause that does not apply fails nothing.
    assert outcome([line("1", 1, "compliant"), line("5.3", 1, "na", critical=True)], STARS).passed


def test_below_the_pass_score_fails() -> None:
    result = outcome([line("1", 1, "compliant"), line("2", 1, "not")], STARS)
    assert (result.score, result.passed) == (Decimal("50.0"), False)


def test_nothing_applicable_has_no_score() -> None:
    result = outcome([line("1", 1, "na")], STARS)
    assert (result.score, result.passed) == (None, False)


def test_labels_in_the_pages_language() -> None:
    assert grade_label(passed=True, grade_zh="五星级", grade_en="Five stars") == "五星级"
    assert grade_label(passed=True, grade_zh="", grade_en="") == "合格"
    assert grade_label(passed=False, grade_zh="", grade_en="") == "不合格"
    assert grade_label(passed=None, grade_zh="", grade_en="") == "尚无结果"


@given(
    st.lists(
        st.tuples(st.integers(1, 100), st.sampled_from(["compliant", "partly", "not", "na"]), st.booleans()),
        min_size=1,
        max_size=40,
    )
)
def test_scores_stay_between_0_and_100_and_more_met_never_scores_less(
    answers: list[tuple[int, str, bool]],
) -> None:
    lines = [line(str(i), w, r, c) for i, (w, r, c) in enumerate(answers)]
    result = outcome(lines, STARS)
    if result.score is None:
        assert all(r == "na" for _, r, _ in answers)
        return
    assert Decimal(0) <= result.score <= Decimal(100)
    better = outcome(
        [Line(x.clause_number, x.weight, x.critical, "compliant" if x.result == "not" else x.result) for x in lines],
        STARS,
    )
    assert better.score is not None
    assert better.score >= result.score
    if result.passed:
        assert not result.critical_failures
