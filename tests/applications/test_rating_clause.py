"""A rating of an application's handling may name the clause of the application's version it concerns (picked by
title); the department sets or corrects it when recording the rectification; another standard's clause is refused
on the clause field with nothing written."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import yaml
from django.urls import reverse

from fuwu.applications import ratings
from fuwu.applications.models import Rating, Rectification
from fuwu.applications.services import ApplicationError
from fuwu.common.models import AuditLog
from fuwu.evaluation import review
from fuwu.standards.models import Clause, StandardVersion
from fuwu.standards.parsing import parse_many
from fuwu.standards.services import standards_load
from tests.applications.conftest import World
from tests.applications.test_pages import _chinese, client_for  # noqa: F401 - _chinese: the autouse fixture
from tests.applications.test_transitions import reach
from tests.conftest import REPO

STUDENT_AID = "taizhou-student-aid"


@pytest.fixture(autouse=True)
def another_standard(world: World) -> None:
    standards_load(parsed=parse_many([REPO / "standards" / "taizhou" / "taizhou-home-care.yaml"]), actor=None)


def clause(number: str, standard: str = STUDENT_AID) -> Clause:
    return Clause.objects.get(version__standard__key=standard, number=number)


def test_the_applicant_names_a_clause_by_its_title(world: World) -> None:
    application = reach(world, "approved")
    parent = client_for(world.parent)
    page = parent.get(reverse("applications:detail", args=[application.pk])).content.decode()
    complaints_clause = clause("8.2")
    assert f'<option value="{complaints_clause.pk}">咨询与投诉</option>' in page
    assert not re.search(r"<option[^>]*>\s*[0-9]+(\.[0-9]+)+", page)  # titles, never numbers

    rate = reverse("applications:rate", args=[application.pk])
    foreign = clause("9.1", "taizhou-home-care")
    refused = parent.post(rate, {"level": "1", "reasons": ["slow"], "clause": str(foreign.pk)})
    assert refused.status_code == 400
    body = refused.content.decode()
    assert "条款：“准时”属于另一项标准" in body
    assert not Rating.objects.exists()
    assert not Rectification.objects.exists()

    done = parent.post(rate, {"level": "1", "reasons": ["slow"], "clause": str(clause("5.3").pk)})
    assert done.status_code == 302
    rating = Rating.objects.get()
    assert rating.clause == clause("5.3")
    assert (AuditLog.objects.get(event="application.rated").after or {})["clause"] == "5.3"


def test_the_department_sets_or_corrects_it_when_recording(world: World) -> None:
    rating = ratings.rating_give(
        actor=world.parent, application=reach(world, "approved"), level=2, reasons=["rude"], text="态度差"
    )
    assert rating.clause is None
    rectification = Rectification.objects.get(rating=rating)
    officer = client_for(world.officer)
    page = officer.get(reverse("applications:rectification", args=[rectification.pk])).content.decode()
    assert "未指明（评估时按服务项目对应的条款统计）" in page
    act = reverse("applications:rectification_act", args=[rectification.pk, "record"])
    bad = officer.post(act, {"action": "已约谈窗口人员", "clause": str(clause("9.1", "taizhou-home-care").pk)})
    assert bad.status_code == 400
    assert "条款：“准时”属于另一项标准" in bad.content.decode()
    assert Rectification.objects.get(pk=rectification.pk).status == "open"  # nothing written
    assert officer.post(act, {"action": "已约谈窗口人员", "clause": str(clause("4.2").pk)}).status_code == 302
    assert Rating.objects.get(pk=rating.pk).clause == clause("4.2")
    recorded = AuditLog.objects.get(event="application.rectification_recorded")
    assert ((recorded.before or {})["clause"], (recorded.after or {})["clause"]) == (None, "4.2")
    page = officer.get(reverse("applications:rectification", args=[rectification.pk])).content.decode()
    assert "4.2 人员" in page


def test_without_the_field_the_raters_choice_stays(world: World) -> None:
    rating = ratings.rating_give(
        actor=world.parent,
        application=reach(world, "approved"),
        level=1,
        reasons=["slow"],
        clause=str(clause("5.3").pk),
    )
    rectification = Rectification.objects.get(rating=rating)
    ratings.rectification_record(actor=world.officer, rectification=rectification, action="已整改")
    assert Rating.objects.get(pk=rating.pk).clause == clause("5.3")
    with pytest.raises(ApplicationError) as refused:
        ratings.named_clause(rectification.application, "not-a-clause")
    assert (refused.value.code, refused.value.field) == ("bad_clause", "clause")


def test_the_review_counts_a_named_poor_rating_at_its_clause_and_the_rest_at_the_items(world: World) -> None:
    document = yaml.safe_load((REPO / "standards" / "taizhou" / "taizhou-student-aid.yaml").read_text("utf-8"))
    (item,) = [i for i in document["items"] if i["id"] == "sa-preschool-aid"]
    item_clause = str(item["content"]["clause"])  # read from the file, not the registry
    rated = dt.datetime(2026, 11, 25, 15, tzinfo=dt.UTC)
    refused, closed = reach(world, "refused"), reach(world, "closed")
    ratings.rating_give(
        actor=world.parent, application=refused, level=1, reasons=["slow"], clause=clause("5.3"), now=rated
    )
    ratings.rating_give(actor=world.parent, application=closed, level=2, reasons=["rude"], now=rated)
    version = StandardVersion.objects.get(standard__key=STUDENT_AID, status__in=["published"])
    report = review.evaluation_report(version, today=dt.date(2027, 1, 15))
    clauses = {c["number"]: c for c in report["clauses"]}
    assert (clauses["5.3"]["poor_ratings"], clauses["5.3"]["poor_ratings_named"]) == (1, 1)
    assert (clauses[item_clause]["poor_ratings"], clauses[item_clause]["poor_ratings_named"]) == (1, 0)
    assert report["voice"]["handling"] == {"count": 2, "poor": 2}
