"""Scoring and grading an inspection by its standard's own method (``grading`` in the standard's file).

The score is the weighted share of the applicable clauses met, out of 100: a clause met earns its weight, one
partly met earns ``partial_credit`` of it, one not met earns nothing, and a clause that does not apply leaves
the sum. A critical clause that is not fully met fails the inspection whatever the score; otherwise it passes
at ``pass_score`` and takes the highest of the standard's grades whose ``min_score`` it reaches.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from fuwu.compliance.models import Result
from fuwu.standards.schema import Grading

ONE_DECIMAL = Decimal("0.1")


@dataclass(frozen=True)
class Line:
    clause_number: str
    weight: int
    critical: bool
    result: str  # a Result value


@dataclass(frozen=True)
class Outcome:
    score: Decimal | None  # None when no clause applied
    passed: bool
    critical_failures: tuple[str, ...]  # clause numbers
    grade_key: str = ""
    grade_zh: str = ""
    grade_en: str = ""
    stars: int | None = None


def credit(result: str, grading: Grading) -> Decimal:
    return {Result.COMPLIANT: Decimal(1), Result.PARTLY: grading.partial_credit}.get(Result(result), Decimal(0))


def outcome(lines: Iterable[Line], grading: Grading) -> Outcome:
    applicable = [line for line in lines if line.result != Result.NOT_APPLICABLE]
    total = sum(line.weight for line in applicable)
    critical = tuple(
        line.clause_number for line in applicable if line.critical and line.result in (Result.NOT, Result.PARTLY)
    )
    if total == 0:
        return Outcome(score=None, passed=False, critical_failures=critical)
    earned = sum((line.weight * credit(line.result, grading) for line in applicable), Decimal(0))
    score = (Decimal(100) * earned / total).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)
    passed = score >= grading.pass_score and not critical
    if not passed:
        return Outcome(score=score, passed=False, critical_failures=critical)
    for grade in grading.grades:
        if score >= grade.min_score:
            return Outcome(score, True, critical, grade.id, grade.name.zh, grade.name.en or "", grade.stars)
    return Outcome(score=score, passed=True, critical_failures=critical)


def grade_label(*, passed: bool | None, grade_zh: str, grade_en: str) -> str:
    """What a result is called on a page: the standard's grade, else pass or fail, in the page's language."""
    if passed is None:
        return _("尚无结果")
    if passed and grade_zh:
        return grade_en if grade_en and (get_language() or "zh-hans").startswith("en") else grade_zh
    return _("合格") if passed else _("不合格")
