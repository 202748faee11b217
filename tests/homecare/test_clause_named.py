"""A complaint or a rating may name the clause it concerns: a choice among the titled clauses of the version
governing the order's item, shown by title alone; anything else is refused on the clause field, nothing written;
the officer sets or corrects it when resolving, audited."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from fuwu.common.models import AuditLog
from fuwu.homecare import complaints, services
from fuwu.homecare.models import Complaint, Order, Rating
from fuwu.homecare.services import HomeCareError
from fuwu.standards import clause_choice
from fuwu.standards.models import IN_FORCE, Clause, StandardVersion
from fuwu.standards.parsing import parse_many
from fuwu.standards.services import standards_load
from tests.conftest import REPO
from tests.homecare.conftest import World, at
from tests.homecare.test_views_door import (  # noqa: F401 - booked … confirmed: fixtures, used by name
    DAY,
    as_user,
    booked,
    completed,
    confirmed,
    in_service,
    scheduled,
    text,
)

HOME_CARE = "taizhou-home-care"
FAMILY_DOCTOR = REPO / "standards" / "taizhou" / "taizhou-family-doctor.yaml"


@pytest.fixture(autouse=True)
def another_standard(world: World) -> None:
    """A second standard in force, whose clauses no home-care order may name."""
    standards_load(parsed=parse_many([FAMILY_DOCTOR]), actor=None)


def clause(number: str, standard: str = HOME_CARE) -> Clause:
    return Clause.objects.get(version__standard__key=standard, version__status__in=IN_FORCE, number=number)


def test_the_choice_is_the_governing_versions_titled_clauses_by_title_alone(world: World) -> None:
    version = clause_choice.governing_version("hc-bathing")
    assert version is not None
    assert version.standard.key == HOME_CARE
    values = dict(clause_choice.choices(version))
    assert values[""] == "不确定，不指明条款"
    assert values[str(clause("6.2.2").pk)] == "助浴（十大补贴服务项目）"  # told from A.2 助浴 by its parent
    assert values[str(clause("A.2").pk)] == "助浴（附录A（规范性）居家养老上门服务菜单）"
    assert values[str(clause("9.1").pk)] == "准时"
    assert not any(re.match(r"^[0-9A-Z]+(\.[0-9]+)+", label) for label in values.values())  # never a number
    assert clause_choice.governing_version("no-such-item") is None
    assert clause_choice.choices(None) == [("", "不确定，不指明条款")]


def test_a_clause_of_another_standard_or_version_is_refused_naming_the_field(world: World) -> None:
    version = clause_choice.governing_version("hc-bathing")
    assert clause_choice.resolve(version, "") is None
    assert clause_choice.resolve(version, str(clause("9.1").pk)) == clause("9.1")
    other = clause("8.2", "taizhou-family-doctor")
    with pytest.raises(clause_choice.ClauseChoiceError) as refused:
        clause_choice.resolve(version, str(other.pk))
    assert str(refused.value).startswith("条款：")
    assert "属于另一项标准" in str(refused.value)
    assert other.version.code in str(refused.value)
    for bad in ("99999999", "abc", "１２"):
        with pytest.raises(clause_choice.ClauseChoiceError, match="条款：没有这一条款"):
            clause_choice.resolve(version, bad)
    untitled = Clause.objects.filter(version=version, title_zh="").first()
    if untitled is not None:
        with pytest.raises(clause_choice.ClauseChoiceError, match="有标题的条款"):
            clause_choice.resolve(version, str(untitled.pk))


def test_an_older_version_of_the_same_standard_is_refused(world: World) -> None:
    version = clause_choice.governing_version("hc-bathing")
    assert version is not None
    old = StandardVersion.objects.get(pk=version.pk)  # a copy of it, as an abolished earlier version
    old.pk, old.number, old.status, old.content_hash = None, version.number + 100, "abolished", "x" * 64
    old.save()
    stale = Clause.objects.create(version=old, number="9.1", position=1, depth=1, kind="statement", title_zh="准时")
    with pytest.raises(clause_choice.ClauseChoiceError, match="另一个版本"):
        clause_choice.resolve(version, str(stale.pk))


def test_the_family_names_a_clause_when_complaining_and_rating(client: Client, world: World, confirmed: Order) -> None:  # noqa: F811
    as_user(client, world.family)
    page = text(client.get(reverse("homecare:order", args=[confirmed.pk])))
    punctual = clause("9.1")
    assert f'<option value="{punctual.pk}">准时</option>' in page
    assert "9.1" not in re.sub(r"<option[^>]*>", "", page)  # the option's text is the title alone

    url = reverse("homecare:order_complain", args=[confirmed.pk])
    other = clause("8.2", "taizhou-family-doctor")
    refused = client.post(url, {"text": "护理员迟到一小时", "clause": str(other.pk)})
    assert refused.status_code == 400
    assert "条款：“服务行为”属于另一项标准" in text(refused)
    assert not Complaint.objects.exists()
    assert client.post(url, {"text": "护理员迟到一小时", "clause": str(punctual.pk)}).status_code == 302
    complaint = Complaint.objects.get()
    assert complaint.clause == punctual
    lodged = AuditLog.objects.get(event="homecare.complaint_lodged")
    assert (lodged.after or {})["clause"] == "9.1"

    response = client.post(
        reverse("homecare:order_rate", args=[confirmed.pk]), {"stars": "2", "clause": str(clause("8.8").pk)}
    )
    assert response.status_code == 302
    assert Rating.objects.get(order=confirmed).clause == clause("8.8")


def test_not_naming_a_clause_is_fine(world: World, confirmed: Order) -> None:  # noqa: F811
    complaint = complaints.complaint_lodge(actor=world.family, order=confirmed, text="迟到", now=at(DAY, 12))
    assert complaint.clause is None
    rating = services.order_rate(actor=world.family, order=confirmed, stars=1, now=at(DAY, 12))
    assert rating.clause is None


def test_the_officer_sets_or_corrects_the_clause_when_resolving(
    client: Client,
    world: World,
    confirmed: Order,  # noqa: F811
) -> None:
    complaint = complaints.complaint_lodge(
        actor=world.family, order=confirmed, text="态度不好", clause=str(clause("9.1").pk), now=at(DAY, 12)
    )
    as_user(client, world.officer)
    page = text(client.get(reverse("homecare:complaints")))
    assert "9.1 准时" in page  # the office sees which clause was named
    assert f'<option value="{clause("9.1").pk}" selected>准时</option>' in page
    resolve = reverse("homecare:complaint_resolve", args=[complaint.pk])
    other = clause("4.1", "taizhou-family-doctor")
    client.post(resolve, {"decision": "dismissed", "outcome": "已核实", "clause": str(other.pk)})
    complaint.refresh_from_db()
    assert (complaint.status, complaint.clause) == ("open", clause("9.1"))  # refused: nothing written
    response = client.post(resolve, {"decision": "dismissed", "outcome": "已核实", "clause": str(clause("8.8").pk)})
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert (complaint.status, complaint.clause) == ("dismissed", clause("8.8"))
    resolved = AuditLog.objects.get(event="homecare.complaint_resolved")
    assert ((resolved.before or {})["clause"], (resolved.after or {})["clause"]) == ("9.1", "8.8")

    # Without the field (an older page), the complainant's choice stays; "" clears it.
    second = complaints.complaint_lodge(
        actor=world.family, order=confirmed, text="又迟到", clause=clause("9.1"), now=at(DAY, 13)
    )
    complaints.complaint_resolve(actor=world.officer, complaint=second, upheld=False, outcome="核实")
    assert Complaint.objects.get(pk=second.pk).clause == clause("9.1")
    third = complaints.complaint_lodge(
        actor=world.family, order=confirmed, text="再迟到", clause=clause("9.1"), now=at(DAY, 14)
    )
    complaints.complaint_resolve(actor=world.officer, complaint=third, upheld=False, outcome="核实", clause="")
    assert Complaint.objects.get(pk=third.pk).clause is None
    with pytest.raises(HomeCareError) as bad:
        complaints.complaint_lodge(actor=world.family, order=confirmed, text="x", clause="12abc")
    assert bad.value.code == "bad_clause"
