"""Every page that shows residents leaves an audit row with how many (and which) it showed:
the registry list and search, a record's household members, home care's account pages."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from fuwu.accounts.models import Role, User
from fuwu.common.models import AuditLog
from fuwu.residents.models import Person
from tests.residents.factories import HouseholdFactory, PersonFactory
from tests.residents.test_access import number_of, people  # noqa: F401 - people is a fixture

pytestmark = pytest.mark.django_db


def listed(user: User) -> list[AuditLog]:
    return list(AuditLog.objects.filter(actor=user, event="persons.listed").order_by("pk"))


def test_the_registry_list_and_search_are_audited_with_whom_they_showed(
    make_user: Callable[..., User],
    people: dict[str, Person],  # noqa: F811 - the fixture
) -> None:
    officer = make_user(Role.DEPARTMENT_OFFICER)
    client = Client()
    client.force_login(officer)
    assert client.get("/residents/").status_code == 200
    [browse] = listed(officer)
    assert browse.note == "registry list"
    assert browse.after == {"persons": 1, "person_ids": [people["in"].pk], "page": 1}

    number = number_of(people["in"])
    assert client.post("/residents/", {"q": number}).status_code == 200
    search = listed(officer)[-1]
    assert search.note == "registry search"
    assert search.after["persons"] == 1
    assert search.after["search"] == "id_number"
    assert number not in str(search.after)  # the query itself is never stored

    client.post("/residents/", {"q": "没有这个人"})
    assert listed(officer)[-1].after == {"persons": 0, "search": "name", "total": 0}

    auditor = make_user(Role.AUDITOR, "331000")
    client.force_login(auditor)
    client.get("/residents/")
    assert listed(auditor)[-1].after["persons"] == 2  # the auditor sees everyone, masked: both are recorded


def test_a_record_page_audits_the_household_members_it_shows(make_user: Callable[..., User]) -> None:
    household = HouseholdFactory()
    head = PersonFactory(household=household, household_id=household.household_id, name="王大山")
    spouse = PersonFactory(household=household, household_id=household.household_id, relation="spouse", female=True)
    officer = make_user(Role.DEPARTMENT_OFFICER)
    client = Client()
    client.force_login(officer)
    assert client.get(f"/residents/{head.pk}/").status_code == 200
    [members] = listed(officer)
    assert (members.note, members.after) == ("household members", {"persons": 1, "person_ids": [spouse.pk]})
