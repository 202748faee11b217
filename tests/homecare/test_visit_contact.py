"""The elder's phone and emergency contact on the visit page: for the caregivers of the visit, on its day only,
each view audited as a read of the registry's contact details (issue 8's item, closed in issue 9)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from fuwu.accounts.models import User
from fuwu.common.models import AuditLog
from fuwu.homecare.models import Order
from fuwu.homecare.permissions import VISIT_DAY_GRANT, caregiver_on_visit_day
from fuwu.residents import contacts
from fuwu.residents.models import Person
from tests.homecare.conftest import World, at, second_caregiver
from tests.homecare.test_views_door import DAY, Clock
from tests.homecare.test_views_door import booked as booked  # the fixtures the visit needs
from tests.homecare.test_views_door import clock as clock
from tests.homecare.test_views_door import other_caregiver as other_caregiver
from tests.homecare.test_views_door import scheduled as scheduled

pytestmark = pytest.mark.django_db

PHONE, EMERGENCY_PHONE = "13812345678", "13987654321"


@pytest.fixture
def with_contact(world: World) -> Person:
    values = {
        "contact_phone": PHONE,
        "emergency_contact_name": "王芳",
        "emergency_contact_relation": "女儿",
        "emergency_contact_phone": EMERGENCY_PHONE,
    }
    Person.objects.filter(pk=world.elder.pk).update(**contacts.sealed(values, row=world.elder.id_number_hash))
    return world.elder


def visit_page(user: User, order: Order) -> tuple[int, str]:
    client = Client()
    client.force_login(user)
    response = client.get(f"/homecare/visits/{order.pk}/")
    return response.status_code, response.content.decode()


def reveals() -> list[AuditLog]:
    return list(AuditLog.objects.filter(event="person.contact_revealed"))


def test_the_caregivers_of_the_visit_see_the_contact_on_its_day(
    world: World, with_contact: Person, scheduled: Order, clock: Clock
) -> None:
    clock.now = at(DAY, 8)
    status, html = visit_page(world.caregiver_user, scheduled)
    assert status == 200
    assert PHONE in html
    assert EMERGENCY_PHONE in html
    assert "王芳" in html
    [row] = reveals()
    assert (row.actor, row.object_id, row.note) == (world.caregiver_user, str(with_contact.pk), VISIT_DAY_GRANT)
    partner = second_caregiver(world).user
    assert partner is not None
    assert PHONE in visit_page(partner, scheduled)[1]  # the second caregiver goes to the door too
    assert len(reveals()) == 2


def test_not_the_day_before(world: World, with_contact: Person, scheduled: Order, clock: Clock) -> None:
    clock.now = at(DAY - dt.timedelta(days=1), 8)
    status, html = visit_page(world.caregiver_user, scheduled)
    assert status == 200
    assert PHONE not in html
    assert "138****5678" not in html
    assert reveals() == []


def test_not_the_day_after(world: World, with_contact: Person, scheduled: Order, clock: Clock) -> None:
    clock.now = at(DAY + dt.timedelta(days=1), 9)
    assert PHONE not in visit_page(world.caregiver_user, scheduled)[1]
    assert reveals() == []


def test_not_another_caregiver(
    world: World, with_contact: Person, scheduled: Order, clock: Clock, other_caregiver: User
) -> None:
    clock.now = at(DAY, 8)
    status, html = visit_page(other_caregiver, scheduled)
    assert status == 404
    assert PHONE not in html
    assert not caregiver_on_visit_day(other_caregiver, with_contact)
    assert caregiver_on_visit_day(world.caregiver_user, with_contact)
    assert not caregiver_on_visit_day(world.provider_admin, with_contact)
    assert reveals() == []
