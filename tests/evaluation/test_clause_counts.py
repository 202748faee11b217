"""The review's counts by clause: a complaint or a 差评 counts against the clause it names (of this standard), else
against its item's clause, and the report says how many were named; failed inspection clauses are listed under
implementation. Every expected figure is counted by hand from ``test_review``'s fixture (its comments) and the
names given here."""

from __future__ import annotations

from typing import Any

import pytest
from django.template.loader import render_to_string

from fuwu.evaluation import review
from fuwu.evaluation.report import charts
from fuwu.homecare.models import Complaint, Rating
from fuwu.standards.models import IN_FORCE, Clause, StandardVersion
from fuwu.standards.parsing import parse_many
from fuwu.standards.services import standards_load
from tests.conftest import REPO
from tests.evaluation.test_review import (  # noqa: F401 - evidence, office, version: fixtures, used by name
    TODAY,
    evidence,
    item_clause,
    office,
    version,
)

pytestmark = pytest.mark.django_db


def clause_of(of: StandardVersion, number: str) -> Clause:
    return Clause.objects.get(version=of, number=number)


def test_named_clauses_count_where_they_point_the_rest_by_item(
    version: StandardVersion,  # noqa: F811 - the fixture
    evidence: dict[str, Any],  # noqa: F811 - the fixture
) -> None:
    standards_load(parsed=parse_many([REPO / "standards" / "taizhou" / "taizhou-family-doctor.yaml"]), actor=None)
    foreign = Clause.objects.get(
        version__standard__key="taizhou-family-doctor", version__status__in=IN_FORCE, number="8.2"
    )
    meals, cleaning = evidence["meals"], item_clause("hc-cleaning")
    # The fixture: complaints — cleaning 1, meals 3; ratings — bathing 5★, cleaning 2★ (the only 差评).
    meal_complaints = list(Complaint.objects.filter(order__item="hc-meals").order_by("pk"))
    assert len(meal_complaints) == 3
    Complaint.objects.filter(pk=meal_complaints[0].pk).update(clause=clause_of(version, "9.1"))  # named: 准时
    # Named, but another standard's clause (data from before a correction): counted by its item, not lost.
    Complaint.objects.filter(pk=meal_complaints[1].pk).update(clause=foreign)
    Rating.objects.filter(order__item="hc-cleaning").update(clause=clause_of(version, "8.8"))  # 差评 on 行为规范

    report = review.evaluation_report(version, today=TODAY)
    clauses = {c["number"]: c for c in report["clauses"]}
    traced = {n: tuple(clauses[n][k] for k in review.TRACED) for n in clauses}
    # (complaints, of which named, 差评, of which named)
    assert traced[meals] == (2, 0, 0, 0)  # 3 on meals − 1 named elsewhere (the foreign one stays)
    assert traced["9.1"] == (1, 1, 0, 0)
    assert traced[cleaning] == (1, 0, 0, 0)  # its 差评 went to 8.8
    assert traced["8.8"] == (0, 0, 1, 1)
    assert "8.2" not in clauses  # the family doctor's clause is no clause of this report
    # Nothing lost or counted twice: the totals are the voice section's.
    assert sum(c["complaints"] for c in report["clauses"]) == report["voice"]["complaints"]["count"] == 4
    assert sum(c["poor_ratings"] for c in report["clauses"]) == report["voice"]["ratings"]["poor"] == 1
    assert report["voice"]["handling"] == {"count": 0, "poor": 0}

    # Failed inspection clauses under implementation: 4.1.2 failed in 2 of the 3 inspections of the period.
    failed = report["implementation"]["failed_clauses"]
    assert [(f["number"], f["failed"], f["judged"], f["failure_percent"]) for f in failed] == [("4.1.2", 2, 3, "66.7")]
    judged = clause_of(version, "4.1.2")
    assert failed[0]["title"] == (judged.title or judged.text[:30])  # untitled: the start of its text

    html = render_to_string("evaluation/review/_report_body.html", {"report": report, "charts": charts(report)})
    assert "指明 1" in html
    assert "4.1.2 " + failed[0]["title"] + "：2/3 次检查不符合" in html
    assert "括号内为其件数" in html
