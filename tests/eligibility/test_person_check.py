"""A registered person's eligibility through the API must not rebuild the birth date the mask hides.

The attack (issue 9): the masked identity number hides exactly the eight birth-date digits; an answer about
age, asked on chosen ``as_of`` dates, finds the birthday in about fifteen calls, as the auditor (who may never
reveal a number) or as an officer, with only "eligibility checked" in the audit log.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pytest
from django.test import Client

from fuwu.accounts.models import Department, Role, User
from fuwu.areas.models import Area, AreaLevel
from fuwu.common.models import AuditLog
from fuwu.residents.models import Person
from fuwu.standards.models import StandardVersion
from tests.residents.factories import PersonFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 29)
URL = "/api/v1/eligibility"


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *args, **kwargs: TODAY)


@pytest.fixture
def users(db: None) -> dict[str, User]:
    city = Area.objects.create(code="331000", name_zh="台州市", level=AreaLevel.CITY)
    county = Area.objects.create(code="331002", name_zh="椒江区", level=AreaLevel.COUNTY, parent=city)
    department = Department.objects.create(code="civil-affairs", name_zh="民政局")
    return {
        "officer": User.objects.create_user(
            "officer", password="x-long-password-1", role=Role.DEPARTMENT_OFFICER, department=department, area=county
        ),
        "auditor": User.objects.create_user("auditor", password="x-long-password-1", role=Role.AUDITOR),
    }


def ask(client: Client, person: Person, status: int = 200, **body: Any) -> Any:
    payload = {"person_id": person.pk, "items": ["test-visit"], **body}
    response = client.post(URL, payload, content_type="application/json")
    assert response.status_code == status, response.content
    return response.json()


def criterion(answer: Any, name: str = "aged-80-plus") -> Any:
    [result] = answer["results"]
    return next(c for c in result["criteria"] if c["name"] == name), result


def test_the_auditor_may_not_choose_the_date(
    client: Client, users: dict[str, User], mini_version: StandardVersion
) -> None:
    person = PersonFactory(birth_date=dt.date(1946, 7, 14))
    client.force_login(users["auditor"])
    refused = ask(client, person, 422, as_of="2026-07-14")
    assert refused["detail"].startswith("as_of:")
    assert "today" in refused["detail"]
    ask(client, person, as_of=TODAY.isoformat())  # today, said outright, is today
    ask(client, person)


def test_the_auditor_learns_nothing_the_birth_year_does_not_say(
    client: Client, users: dict[str, User], mini_version: StandardVersion
) -> None:
    """Two people born in the same year, one 80 by today, one not: the auditor cannot tell them apart."""
    turned = PersonFactory(birth_date=dt.date(1946, 1, 1))  # 80 on TODAY
    not_yet = PersonFactory(birth_date=dt.date(1946, 12, 31))  # 79 on TODAY
    client.force_login(users["officer"])
    assert criterion(ask(client, turned))[1]["status"] == "eligible"
    assert criterion(ask(client, not_yet))[1]["status"] == "not_eligible"
    client.force_login(users["auditor"])
    answers = [ask(client, turned), ask(client, not_yet)]
    for answer in answers:
        age, result = criterion(answer)
        assert age["passed"] is None
        assert age["missing"] == ["birth_date"]
        assert result["status"] == "unknown"
        assert result["amount"] is None
        # What does not depend on the birthday is still answered.
        assert criterion(answer, "taizhou-hukou")[0]["passed"] is True
    assert answers[0]["results"] == answers[1]["results"]
    # Far from the boundary, the year is enough, and the answer is given.
    old = PersonFactory(birth_date=dt.date(1930, 6, 1))
    assert criterion(ask(client, old))[1]["status"] == "eligible"


def test_every_check_is_audited_as_a_read_with_its_date(
    client: Client, users: dict[str, User], mini_version: StandardVersion
) -> None:
    person = PersonFactory(birth_date=dt.date(1946, 7, 14))
    client.force_login(users["officer"])
    ask(client, person, as_of="2026-07-14")
    viewed = AuditLog.objects.get(event="person.viewed", object_id=str(person.pk))
    assert (viewed.actor, viewed.after) == (users["officer"], {"as_of": "2026-07-14"})
    checked = AuditLog.objects.get(event="person.eligibility_checked", object_id=str(person.pk))
    assert checked.after == {"as_of": "2026-07-14", "items": ["test-visit"], "birth_year_only": False}


def test_a_search_on_as_of_raises_the_alarm_and_then_is_refused(
    client: Client,
    users: dict[str, User],
    mini_version: StandardVersion,
    settings: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings.FUWU_PERSON_CHECKS_PER_HOUR = 5
    person = PersonFactory(birth_date=dt.date(1946, 7, 14))
    client.force_login(users["officer"])
    with caplog.at_level(logging.WARNING, logger="fuwu.eligibility.people"):
        for day in ("2026-01-01", "2026-07-01"):
            ask(client, person, as_of=day)
        assert not AuditLog.objects.filter(event="person.eligibility_sweep").exists()
        ask(client, person, as_of="2026-10-01")  # a third date for the same person: a search
        alarm = AuditLog.objects.get(event="person.eligibility_sweep")
        assert (alarm.actor, alarm.object_id, alarm.after["reason"]) == (users["officer"], str(person.pk), "dates")
        assert "possible sweep" in caplog.text
        ask(client, person, as_of="2026-07-15")
        ask(client, person, as_of="2026-07-08")
        refused = ask(client, person, 429, as_of="2026-07-12")
    assert refused["detail"].startswith("person_id: too many")
    assert AuditLog.objects.filter(event="person.eligibility_sweep", after__reason="limit").count() == 1
    # The refusal answered nothing and is not counted as a check.
    assert AuditLog.objects.filter(event="person.eligibility_checked").count() == 5
    # The limit is per person: another resident can still be checked.
    ask(client, PersonFactory(birth_date=dt.date(1950, 1, 1)))


def test_a_user_sweeping_many_persons_is_limited_too(
    client: Client, users: dict[str, User], mini_version: StandardVersion, settings: Any
) -> None:
    settings.FUWU_USER_PERSON_CHECKS_PER_HOUR = 3
    client.force_login(users["auditor"])
    people = [PersonFactory(birth_date=dt.date(1946, 7, 14)) for _ in range(4)]
    for person in people[:3]:
        ask(client, person)
    assert ask(client, people[3], 429)["detail"].startswith("person_id: too many")
