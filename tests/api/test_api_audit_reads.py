"""The JSON API's answers that show elders leave a "persons read" audit row naming them, as the pages do (issue 9):
the order list, an order, a statement and a booking's retry; an answer that shows no one leaves none."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from fuwu.accounts.models import User
from fuwu.common.models import AuditLog
from fuwu.homecare.models import Order
from fuwu.homecare.services import order_book
from fuwu.residents.models import Person
from tests.homecare.conftest import VILLAGE, World, at, open_account
from tests.homecare.conftest import world as world  # the home-care world of tests/homecare, shared
from tests.residents.factories import PersonFactory

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/homecare/orders"
STATEMENT = "/api/v1/homecare/accounts/{person_id}/statement"


def book_for(actor: User, person: Person, key: str) -> Order:
    day = timezone.localdate() + dt.timedelta(days=7)
    order, _ = order_book(
        actor=actor,
        person=person,
        item="hc-bathing",
        window_start=at(day, 9),
        window_end=at(day, 12),
        idempotency_key=key,
    )
    return order


def second_elder(world: World) -> Person:
    """Another elder of the officer's area, with an account and an order, whom the family is not linked to."""
    elder = PersonFactory(birth_date=dt.date(1940, 1, 1), hukou_area=VILLAGE, low_income_status="none")
    open_account(world.officer, elder, amount=Decimal("200.00"), items=["hc-bathing"])
    book_for(world.officer, elder, "other-elder")
    return elder


def reads(user: User) -> list[AuditLog]:
    return list(AuditLog.objects.filter(actor=user, event="persons.listed").order_by("pk"))


def test_the_officers_order_list_names_every_elder_shown(client: Client, world: World) -> None:
    book_for(world.family, world.elder, "k1")
    book_for(world.family, world.elder, "k2")
    other = second_elder(world)
    client.force_login(world.officer)
    before = reads(world.officer)
    response = client.get(ORDERS)
    assert response.status_code == 200
    assert response.json()["count"] == 3
    new = reads(world.officer)[len(before) :]
    assert len(new) == 1  # one row per answer, not one per order
    row = new[0]
    assert row.note == "home-care orders (api)"
    assert row.object_type == "residents.person"
    assert row.after == {"persons": 2, "person_ids": sorted([world.elder.pk, other.pk])}


def test_the_familys_order_list_names_their_elder_only(client: Client, world: World) -> None:
    book_for(world.family, world.elder, "k1")
    second_elder(world)
    client.force_login(world.family)
    response = client.get(ORDERS)
    assert [o["person_id"] for o in response.json()["items"]] == [world.elder.pk]
    [row] = reads(world.family)
    assert (row.note, row.after) == ("home-care orders (api)", {"persons": 1, "person_ids": [world.elder.pk]})


def test_a_page_is_audited_for_the_elders_it_shows_not_the_whole_list(client: Client, world: World) -> None:
    book_for(world.family, world.elder, "k1")
    other = second_elder(world)  # booked after, the same window: shown first (newest window, then newest)
    client.force_login(world.officer)
    before = len(reads(world.officer))
    items = client.get(f"{ORDERS}?limit=1").json()["items"]
    [row] = reads(world.officer)[before:]
    assert row.after == {"persons": 1, "person_ids": [items[0]["person_id"]]}
    assert items[0]["person_id"] in {world.elder.pk, other.pk}


@pytest.mark.parametrize(
    ("query", "any_order"),
    [("", False), ("?status=cancelled", True), ("?offset=50", True), ("?person_id=999999", True)],
)
def test_an_empty_list_writes_no_row(client: Client, world: World, query: str, any_order: bool) -> None:
    if any_order:
        book_for(world.family, world.elder, "k1")
    client.force_login(world.family)
    response = client.get(ORDERS + query)
    assert response.status_code == 200
    assert response.json()["items"] == []
    assert reads(world.family) == []


def test_a_stranger_sees_no_orders_and_no_row_is_written(client: Client, world: World) -> None:
    order = book_for(world.family, world.elder, "k1")
    client.force_login(world.stranger)
    assert client.get(ORDERS).json()["items"] == []
    assert client.get(f"{ORDERS}/{order.pk}").status_code == 404
    assert client.get(STATEMENT.format(person_id=world.elder.pk)).status_code == 404
    assert reads(world.stranger) == []


@pytest.mark.parametrize("who", ["officer", "family"])
def test_an_order_names_its_elder(client: Client, world: World, who: str) -> None:
    order = book_for(world.family, world.elder, "k1")
    user = world.user(who)
    client.force_login(user)
    before = len(reads(user))
    assert client.get(f"{ORDERS}/{order.pk}").status_code == 200
    [row] = reads(user)[before:]
    assert (row.note, row.object_type, row.object_id) == ("home-care order (api)", "homecare.order", str(order.pk))
    assert row.after == {"persons": 1, "person_ids": [world.elder.pk]}


@pytest.mark.parametrize("who", ["officer", "family"])
def test_a_statement_names_its_elder(client: Client, world: World, who: str) -> None:
    book_for(world.family, world.elder, "k1")
    user = world.user(who)
    client.force_login(user)
    before = len(reads(user))
    response = client.get(STATEMENT.format(person_id=world.elder.pk) + "?month=2026-12")
    assert response.status_code == 200
    [row] = reads(user)[before:]
    assert row.note == "home-care statement 2026-12 (api)"
    assert (row.object_type, row.object_id) == ("homecare.entitlementaccount", str(world.account.pk))
    assert row.after == {"persons": 1, "person_ids": [world.elder.pk]}


def test_a_refused_statement_writes_no_row(client: Client, world: World) -> None:
    client.force_login(world.family)
    assert client.get(STATEMENT.format(person_id=world.elder.pk) + "?month=2026-13").status_code == 422
    assert reads(world.family) == []


def test_a_bookings_retry_is_audited_as_a_read_the_booking_as_a_write(client: Client, world: World) -> None:
    day = timezone.localdate() + dt.timedelta(days=7)
    body = {
        "person_id": world.elder.pk,
        "item": "hc-bathing",
        "window_start": at(day, 9).isoformat(),
        "window_end": at(day, 12).isoformat(),
    }
    client.force_login(world.family)
    headers = {"Idempotency-Key": "retry-1"}
    first = client.post(ORDERS, body, content_type="application/json", headers=headers)
    assert first.status_code == 201
    assert reads(world.family) == []
    assert AuditLog.objects.filter(actor=world.family, event="homecare.order_booked").count() == 1
    again = client.post(ORDERS, body, content_type="application/json", headers=headers)
    assert again.status_code == 200
    [row] = reads(world.family)
    assert (row.object_type, row.object_id) == ("homecare.order", str(first.json()["id"]))
    assert row.after == {"persons": 1, "person_ids": [world.elder.pk]}
