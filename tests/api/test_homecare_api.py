"""Home care through the JSON API: every response is checked against the OpenAPI document the API serves."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from openapi_spec_validator import validate as validate_spec

from fuwu.accounts.models import Role, User
from fuwu.areas.models import Area
from fuwu.homecare.door import Position, order_check_in, order_check_out
from fuwu.homecare.models import AccountMonth, Order, OrderStatus
from fuwu.homecare.services import order_accept, order_book, order_confirm, order_schedule
from fuwu.residents import crypto
from fuwu.residents.masking import mask_name
from tests.api.contract import call
from tests.homecare.conftest import ELDER_HOME, VILLAGE, World, at, make_user, second_caregiver, with_partner
from tests.homecare.conftest import world as world  # the home-care world of tests/homecare, shared
from tests.residents.factories import PersonFactory

pytestmark = pytest.mark.django_db

PROJECTS = "/api/v1/homecare/projects"
ORDERS = "/api/v1/homecare/orders"
ORDER = "/api/v1/homecare/orders/{order_id}"
CANCEL = "/api/v1/homecare/orders/{order_id}/cancel"
STATEMENT = "/api/v1/homecare/accounts/{person_id}/statement"


@pytest.fixture
def openapi(client: Client) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def visit_day() -> dt.date:
    # A week ahead of the real clock: booking refuses past windows and the API takes no "now".
    return timezone.localdate() + dt.timedelta(days=7)


def booking(world: World, *, item: str = "hc-bathing", start: int = 9, end: int = 12, **extra: Any) -> dict[str, Any]:
    day = visit_day()
    return {
        "person_id": world.elder.pk,
        "item": item,
        "window_start": at(day, start).isoformat(),
        "window_end": at(day, end).isoformat(),
        **extra,
    }


def book(client: Client, openapi: dict[str, Any], body: dict[str, Any], key: str, status: int = 201) -> Any:
    return call(client, openapi, ORDERS, status, body=body, headers={"Idempotency-Key": key})


def booked(world: World, key: str = "svc-1", *, start: int = 9, end: int = 12) -> Order:
    """An order the family booked through the service (not the API)."""
    day = visit_day()
    order, _ = order_book(
        actor=world.family,
        person=world.elder,
        item="hc-bathing",
        window_start=at(day, start),
        window_end=at(day, end),
        idempotency_key=key,
    )
    return order


def month(world: World) -> AccountMonth:
    return AccountMonth.objects.get(account=world.account, month=visit_day().replace(day=1))


def other_officer() -> User:
    officer = User.objects.get(username="officer")
    return make_user(
        "officer-huangyan", Role.DEPARTMENT_OFFICER, Area.objects.get(code="331003"), department=officer.department
    )


def test_the_document_describes_home_care_with_session_auth(openapi: dict[str, Any]) -> None:
    validate_spec(openapi)
    assert {PROJECTS, ORDERS, ORDER, CANCEL, STATEMENT} <= set(openapi["paths"])
    assert openapi["components"]["securitySchemes"]["SessionAuth"]["in"] == "cookie"
    assert "security" not in openapi["paths"][PROJECTS]["get"]
    assert openapi["paths"][ORDERS]["post"]["security"] == [{"SessionAuth": []}]
    header = [p for p in openapi["paths"][ORDERS]["post"]["parameters"] if p["in"] == "header"]
    assert [p["name"] for p in header] == ["Idempotency-Key"]


# --- projects --------------------------------------------------------------------------------------


def test_projects_are_public_and_come_from_the_standard(client: Client, openapi: dict[str, Any], world: World) -> None:
    projects = {p["key"]: p for p in call(client, openapi, PROJECTS, 200)}
    bathing = projects["hc-bathing"]
    assert bathing == {
        "key": "hc-bathing",
        "name": {"zh": "助浴服务", "en": "Bathing assistance"},
        "kind": "subsidised",
        "price": "80.00",
        "minutes": 60,
        "staff": 2,
        "monthly_limit": 2,
        "qualifications": ["care-worker"],
    }
    assert {p["kind"] for p in projects.values()} == {"subsidised", "package"}
    dated = call(client, openapi, PROJECTS, 200, path=f"{PROJECTS}?on={visit_day()}")
    assert [p["key"] for p in dated] == list(projects)


def test_projects_before_the_standard_is_in_force_is_404(client: Client, openapi: dict[str, Any], world: World) -> None:
    assert "1990-01-01" in call(client, openapi, PROJECTS, 404, path=f"{PROJECTS}?on=1990-01-01")["detail"]


# --- booking ---------------------------------------------------------------------------------------


def test_booking_answers_201_then_200_for_a_retry_with_one_order(
    client: Client, openapi: dict[str, Any], world: World
) -> None:
    client.force_login(world.family)
    first = book(client, openapi, booking(world), "key-1")
    assert first["status"] == "requested"
    assert first["channel"] == "api"
    assert (first["price"], first["subsidy"], first["self_pay"]) == ("80.00", "80.00", "0.00")
    assert first["person_id"] == world.elder.pk
    assert first["window_start"].endswith("+08:00")
    retry = book(client, openapi, booking(world), "key-1", 200)
    assert retry == first
    order = Order.objects.get()
    assert order.pk == first["id"]
    assert first["confirmation_code"] == order.confirmation_code  # the family sees it
    assert month(world).held == Decimal("80")


def test_the_same_key_with_another_body_is_409(client: Client, openapi: dict[str, Any], world: World) -> None:
    client.force_login(world.family)
    book(client, openapi, booking(world), "key-1")
    refused = book(client, openapi, booking(world, item="hc-cleaning", end=14), "key-1", 409)
    assert refused["code"] == "idempotency_key_reused"
    assert "幂等键" in refused["detail"]
    assert Order.objects.count() == 1


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "idempotency_key_required"),
        ({"Idempotency-Key": "   "}, "idempotency_key_required"),
        ({"Idempotency-Key": "k" * 65}, "bad_idempotency_key"),
    ],
)
def test_booking_needs_a_usable_idempotency_key(
    client: Client, openapi: dict[str, Any], world: World, headers: dict[str, str], code: str
) -> None:
    client.force_login(world.family)
    assert call(client, openapi, ORDERS, 400, body=booking(world), headers=headers)["code"] == code
    assert not Order.objects.exists()


def test_a_person_outside_the_callers_scope_is_404(client: Client, openapi: dict[str, Any], world: World) -> None:
    neighbour = PersonFactory(birth_date=dt.date(1940, 1, 1), hukou_area=VILLAGE)  # same village, not linked
    cases = [
        (world.stranger, booking(world)),  # a resident of another county
        (other_officer(), booking(world)),  # an officer of another county
        (world.family, booking(world, person_id=neighbour.pk)),  # the service would refuse: PermissionDenied
        (world.family, booking(world, person_id=neighbour.pk + 1000)),  # nobody
    ]
    for n, (user, body) in enumerate(cases):
        client.force_login(user)
        assert call(client, openapi, ORDERS, 404, body=body, headers={"Idempotency-Key": f"k{n}"})["detail"] == (
            f"person_id: no resident {body['person_id']} within your access"
        )
    assert not Order.objects.exists()


@pytest.mark.parametrize("who", ["provider_admin", "auditor"])
def test_a_person_the_caller_sees_but_may_not_book_for_is_403(
    client: Client, openapi: dict[str, Any], world: World, who: str
) -> None:
    user = make_user("auditor", Role.AUDITOR, None) if who == "auditor" else world.user(who)
    client.force_login(user)
    assert "book" in book(client, openapi, booking(world), "key-1", 403)["detail"]
    assert not Order.objects.exists()


def test_insufficient_subsidy_is_409_and_holds_nothing(client: Client, openapi: dict[str, Any], world: World) -> None:
    client.force_login(world.family)
    book(client, openapi, booking(world, start=8, end=10), "bath-1")
    book(client, openapi, booking(world, start=10, end=12), "bath-2")
    refused = book(client, openapi, booking(world, item="hc-cleaning", start=13, end=16), "clean-1", 409)
    assert refused["code"] == "insufficient_subsidy"
    assert "40.00" in refused["detail"]  # what is left, so the family knows what they can still book
    assert month(world).held == Decimal("160")
    assert Order.objects.count() == 2
    again = book(client, openapi, booking(world, start=14, end=17), "bath-3", 409)  # and the standard's limit
    assert again["code"] == "monthly_limit"


def test_refusals_the_request_cannot_meet_are_422(client: Client, openapi: dict[str, Any], world: World) -> None:
    projects = call(client, openapi, PROJECTS, 200)
    not_granted = next(p["key"] for p in projects if p["kind"] == "subsidised" and p["key"] not in world.account.items)
    client.force_login(world.family)
    assert book(client, openapi, booking(world, item=not_granted), "k1", 422)["code"] == "not_entitled"
    assert book(client, openapi, booking(world, item="hc-nothing"), "k2", 422)["code"] == "unknown_item"
    assert book(client, openapi, booking(world, start=12, end=9), "k3", 422)["code"] == "bad_window"
    client.force_login(world.officer)
    no_account = PersonFactory(birth_date=dt.date(1940, 1, 1), hukou_area=VILLAGE)
    assert book(client, openapi, booking(world, person_id=no_account.pk), "k4", 422)["code"] == "no_account"
    # A window without a UTC offset does not parse: django-ninja's own 422.
    naive = booking(world, window_start=f"{visit_day()}T09:00:00", window_end=f"{visit_day()}T12:00:00")
    client.force_login(world.family)
    response = client.post(ORDERS, naive, content_type="application/json", headers={"Idempotency-Key": "k5"})
    assert response.status_code == 422
    assert not Order.objects.exists()


def test_anonymous_callers_are_401(client: Client, openapi: dict[str, Any], world: World) -> None:
    order = booked(world)
    assert book(client, openapi, booking(world), "key-1", 401) == {"detail": "Unauthorized"}
    call(client, openapi, ORDERS, 401)
    call(client, openapi, ORDER, 401, path=f"{ORDERS}/{order.pk}")
    call(client, openapi, CANCEL, 401, path=f"{ORDERS}/{order.pk}/cancel", body={"reason": "不需要了"})
    call(client, openapi, STATEMENT, 401, path=f"/api/v1/homecare/accounts/{world.elder.pk}/statement")
    assert Order.objects.get() == order
    assert order.status == OrderStatus.REQUESTED


def test_booking_from_a_session_needs_the_csrf_token(openapi: dict[str, Any], world: World) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(world.family)
    refused = call(browser, openapi, ORDERS, 403, body=booking(world), headers={"Idempotency-Key": "key-1"})
    assert "CSRF" in refused["detail"]
    assert not Order.objects.exists()
    token = "a" * 32
    browser.cookies["csrftoken"] = token
    call(browser, openapi, ORDERS, 201, body=booking(world), headers={"Idempotency-Key": "key-1", "X-CSRFToken": token})


# --- following orders ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "sees", "sees_code"),
    [
        ("family", True, True),
        ("officer", True, False),
        ("provider_admin", True, False),
        ("auditor", True, False),
        ("caregiver_user", False, False),  # not yet assigned to them
        ("stranger", False, False),
        ("other_officer", False, False),
    ],
)
def test_orders_are_scoped_and_the_code_is_the_familys(
    client: Client, openapi: dict[str, Any], world: World, who: str, sees: bool, sees_code: bool
) -> None:
    order = booked(world)
    if who == "auditor":
        user = make_user("auditor", Role.AUDITOR, None)
    elif who == "other_officer":
        user = other_officer()
    else:
        user = world.user(who)
    client.force_login(user)
    page = call(client, openapi, ORDERS, 200)
    assert [o["id"] for o in page["items"]] == ([order.pk] if sees else [])
    assert page["count"] == (1 if sees else 0)
    if not sees:
        call(client, openapi, ORDER, 404, path=f"{ORDERS}/{order.pk}")
        return
    detail = call(client, openapi, ORDER, 200, path=f"{ORDERS}/{order.pk}")
    assert detail == page["items"][0]
    assert detail["confirmation_code"] == (order.confirmation_code if sees_code else None)
    name = world.elder.name
    assert detail["elder_name"] == (mask_name(name) if who == "auditor" else name)


def test_the_assigned_caregiver_sees_the_visit_without_the_code(
    client: Client, openapi: dict[str, Any], world: World
) -> None:
    order = booked(world)
    order_accept(actor=world.provider_admin, order=order)
    order_schedule(actor=world.provider_admin, order=order, caregiver=world.caregiver, planned_start=order.window_start)
    client.force_login(world.caregiver_user)
    detail = call(client, openapi, ORDER, 200, path=f"{ORDERS}/{order.pk}")
    assert (detail["status"], detail["caregiver"], detail["confirmation_code"]) == ("scheduled", "李护理员", None)
    assert detail["status_label"] == "已派单"


def test_no_response_carries_an_identity_number(client: Client, openapi: dict[str, Any], world: World) -> None:
    elder = world.elder
    number = crypto.decrypt(elder.id_number_encrypted, lookup=elder.id_number_hash).value
    for user in (world.family, world.officer):
        client.force_login(user)
        order = book(client, openapi, booking(world), f"key-{user.pk}")
        texts = [
            client.get(ORDERS).content,
            client.get(f"{ORDERS}/{order['id']}").content,
            client.get(f"/api/v1/homecare/accounts/{elder.pk}/statement").content,
        ]
        for text in texts:
            assert number.encode() not in text
            assert number[:6].encode() + b"*" not in text  # nor its masked form
            assert b"id_number" not in text


def test_the_list_pages_and_filters(client: Client, openapi: dict[str, Any], world: World) -> None:
    orders = [booked(world, f"k{n}", start=8 + 2 * n, end=10 + 2 * n) for n in range(2)]
    client.force_login(world.officer)
    first = call(client, openapi, ORDERS, 200, path=f"{ORDERS}?limit=1")
    assert (first["count"], first["limit"], first["offset"]) == (2, 1, 0)
    assert [o["id"] for o in first["items"]] == [orders[1].pk]  # the latest window first
    rest = call(client, openapi, ORDERS, 200, path=f"{ORDERS}?limit=1&offset=1")
    assert [o["id"] for o in rest["items"]] == [orders[0].pk]
    assert call(client, openapi, ORDERS, 200, path=f"{ORDERS}?status=cancelled")["count"] == 0
    assert call(client, openapi, ORDERS, 200, path=f"{ORDERS}?person_id={world.elder.pk}")["count"] == 2
    assert call(client, openapi, ORDERS, 200, path=f"{ORDERS}?person_id={world.elder.pk + 1}")["count"] == 0
    assert client.get(f"{ORDERS}?limit=0").status_code == 422
    assert client.get(f"{ORDERS}?limit=201").status_code == 422
    assert client.get(f"{ORDERS}?status=lost").status_code == 422


# --- cancelling ------------------------------------------------------------------------------------


def test_the_family_cancels_and_the_hold_is_released(client: Client, openapi: dict[str, Any], world: World) -> None:
    order = booked(world)
    assert month(world).held == Decimal("80")
    client.force_login(world.family)
    path = f"{ORDERS}/{order.pk}/cancel"
    cancelled = call(client, openapi, CANCEL, 200, path=path, body={"reason": "老人住院"})
    assert (cancelled["status"], cancelled["end_reason"]) == ("cancelled", "老人住院")
    assert cancelled["ended_at"] is not None
    assert month(world).held == Decimal("0")
    again = call(client, openapi, CANCEL, 409, path=path, body={"reason": "再取消一次"})
    assert again["code"] == "wrong_state"


def test_cancelling_needs_a_reason(client: Client, openapi: dict[str, Any], world: World) -> None:
    order = booked(world)
    client.force_login(world.family)
    refused = call(client, openapi, CANCEL, 422, path=f"{ORDERS}/{order.pk}/cancel", body={"reason": "  "})
    assert refused["code"] == "reason_required"
    order.refresh_from_db()
    assert order.status == OrderStatus.REQUESTED


def test_who_may_cancel(client: Client, openapi: dict[str, Any], world: World) -> None:
    order = booked(world)
    order_accept(actor=world.provider_admin, order=order)
    order_schedule(actor=world.provider_admin, order=order, caregiver=world.caregiver, planned_start=order.window_start)
    path = f"{ORDERS}/{order.pk}/cancel"
    client.force_login(world.stranger)
    call(client, openapi, CANCEL, 404, path=path, body={"reason": "x"})
    call(client, openapi, CANCEL, 404, path=f"{ORDERS}/{order.pk + 1}/cancel", body={"reason": "x"})
    client.force_login(world.caregiver_user)  # sees the visit, may not cancel it
    assert "cancel" in call(client, openapi, CANCEL, 403, path=path, body={"reason": "x"})["detail"]
    order.refresh_from_db()
    assert order.status == OrderStatus.SCHEDULED
    client.force_login(world.provider_admin)
    assert call(client, openapi, CANCEL, 200, path=path, body={"reason": "护理员不足"})["status"] == "cancelled"


# --- statement -------------------------------------------------------------------------------------


def test_the_statement_of_a_month(client: Client, openapi: dict[str, Any], world: World) -> None:
    order = booked(world)
    client.force_login(world.family)
    path = f"/api/v1/homecare/accounts/{world.elder.pk}/statement?month={visit_day():%Y-%m}"
    result = call(client, openapi, STATEMENT, 200, path=path)
    assert result == {
        "person_id": world.elder.pk,
        "month": f"{visit_day():%Y-%m}",
        "allowance": "200.00",
        "held": "80.00",
        "spent": "0.00",
        "self_paid": "0.00",
        "remaining": "120.00",
        "lines": [
            {
                "order": order.pk,
                "item": "hc-bathing",
                "status": "requested",
                "window_start": result["lines"][0]["window_start"],
                "price": "80.00",
                "subsidy": "0.00",  # spent only when the visit is confirmed
                "self_pay": "0.00",
                "reason": "",
            }
        ],
    }
    assert dt.datetime.fromisoformat(result["lines"][0]["window_start"]) == order.window_start
    # A month with nothing booked: the allowance, untouched.
    empty = call(client, openapi, STATEMENT, 200, path=path.replace(f"{visit_day():%Y-%m}", "2027-01"))
    assert (empty["allowance"], empty["remaining"], empty["lines"]) == ("200.00", "200.00", [])
    call(client, openapi, STATEMENT, 200, path=path.split("?")[0])  # this month


def test_the_statement_is_scoped(client: Client, openapi: dict[str, Any], world: World) -> None:
    path = f"/api/v1/homecare/accounts/{world.elder.pk}/statement"
    for user in (world.officer, world.provider_admin):
        client.force_login(user)
        assert call(client, openapi, STATEMENT, 200, path=path)["person_id"] == world.elder.pk
    for user in (world.stranger, world.caregiver_user, other_officer()):
        client.force_login(user)
        call(client, openapi, STATEMENT, 404, path=path)
    client.force_login(world.officer)
    no_account = PersonFactory(birth_date=dt.date(1940, 1, 1), hukou_area=VILLAGE)
    call(client, openapi, STATEMENT, 404, path=f"/api/v1/homecare/accounts/{no_account.pk}/statement")
    for bad in ("2026-13", "2026-1", "soon"):
        assert call(client, openapi, STATEMENT, 422, path=f"{path}?month={bad}")["code"] == "bad_month"


def test_a_short_visit_through_the_api_shows_its_flags_worth_and_reason(
    client: Client, openapi: dict[str, Any], world: World
) -> None:
    day = visit_day()
    order, _ = order_book(
        actor=world.family,
        person=world.elder,
        item="hc-cleaning",
        window_start=at(day, 9),
        window_end=at(day, 12),
        idempotency_key="short-1",
    )
    order_accept(actor=world.provider_admin, order=order)
    order_schedule(actor=world.provider_admin, order=order, caregiver=world.caregiver, planned_start=at(day, 9))
    home = Position(*ELDER_HOME)
    order_check_in(actor=world.caregiver_user, order=order, at=home, now=at(day, 9))
    order_check_out(
        actor=world.caregiver_user, order=order, at=home, tasks_done=["打扫"], short_reason="停电", now=at(day, 9, 30)
    )
    order_confirm(actor=world.family, order=order, now=at(day, 9, 35))
    client.force_login(world.family)
    detail = call(client, openapi, ORDER, 200, path=f"{ORDERS}/{order.pk}")
    assert detail["visit"] == {
        "partners": [],
        "started_at": at(day, 9).isoformat(),
        "visit_minutes": 30,
        "flags": [{"flag": "short", "text": "实际服务 30 分钟，少于约定的至少 120 分钟"}],
        "review": "",
        "payable": "20.00",
    }
    statement = call(
        client, openapi, STATEMENT, 200, path=f"/api/v1/homecare/accounts/{world.elder.pk}/statement?month={day:%Y-%m}"
    )
    (line,) = statement["lines"]
    assert (line["price"], line["subsidy"], statement["spent"]) == ("80.00", "20.00", "20.00")
    assert line["reason"] == "实际服务 30 分钟，少于约定的至少 120 分钟，按实际服务时长比例结算"


def test_the_second_caregiver_sees_the_visit_they_join(client: Client, openapi: dict[str, Any], world: World) -> None:
    order = booked(world)
    order_accept(actor=world.provider_admin, order=order)
    order_schedule(actor=world.provider_admin, order=order, caregiver=world.caregiver, planned_start=order.window_start)
    with_partner(world, order, arrive=None)
    partner = second_caregiver(world)
    assert partner.user is not None
    client.force_login(partner.user)
    detail = call(client, openapi, ORDER, 200, path=f"{ORDERS}/{order.pk}")
    assert (detail["caregiver"], detail["visit"]["partners"], detail["confirmation_code"]) == (
        "李护理员",
        ["王护理员"],
        None,
    )
