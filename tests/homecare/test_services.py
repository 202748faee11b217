"""Every step of an order's life through the services: from which states, by whom, what it writes, what it costs.

The state and actor matrices run each transition against an order in every state and as every kind of
user; the tests after them take one rule at a time (the caregiver checks, the check-in radius, photos,
confirmation, rating, complaints, the elder's money, idempotent retries, overdue orders).
"""

from __future__ import annotations

import datetime as dt
import itertools
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from fuwu.accounts.models import Role, User
from fuwu.areas.models import Area
from fuwu.common.models import AuditLog
from fuwu.homecare import standard
from fuwu.homecare.accounts import account_set_home
from fuwu.homecare.complaints import complaint_lodge, complaint_resolve
from fuwu.homecare.door import Position, order_check_in, order_check_out, order_no_show, photo_add
from fuwu.homecare.models import (
    AccountMonth,
    AccountStatus,
    Caregiver,
    Complaint,
    ComplaintStatus,
    EntitlementAccount,
    Order,
    OrderKind,
    OrderStatus,
    Provider,
    ServicePhoto,
    TrainingRecord,
)
from fuwu.homecare.services import (
    HomeCareError,
    order_accept,
    order_book,
    order_cancel,
    order_confirm,
    order_decline,
    order_rate,
    order_schedule,
    order_unschedule,
    orders_flag_overdue,
)
from tests.common.test_uploads import jpeg as real_jpeg
from tests.homecare.conftest import ELDER_HOME, TODAY, VILLAGE, World, at, make_user, with_partner
from tests.residents.factories import PersonFactory

DAY = TODAY + dt.timedelta(days=2)  # the Wednesday of an ordinary week
NOW = at(TODAY, 10)
HOME = Position(*ELDER_HOME)
METRES_PER_DEGREE = 111_195  # of latitude, on the sphere the services measure with
_keys = itertools.count()


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    """Uploaded photos go to the test's own directory, never to var/."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def book(
    world: World,
    *,
    item: str = "hc-meals",
    day: dt.date = DAY,
    hour: int = 9,
    hours: int = 3,
    actor: User | None = None,
    key: str | None = None,
    now: dt.datetime = NOW,
) -> Order:
    order, created = order_book(
        actor=actor or world.family,
        person=world.elder,
        item=item,
        window_start=at(day, hour),
        window_end=at(day, hour + hours),
        idempotency_key=key or f"key-{next(_keys)}",
        now=now,
    )
    assert created
    return order


def png(width: int = 1, height: int = 1) -> bytes:
    """A real PNG (greyscale, all black), built by hand so the tests need no imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def photo(name: str = "record.png", content: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png() if content is None else content, content_type="image/png")


def reload(order: Order) -> Order:
    return Order.objects.get(pk=order.pk)


def month_of(order: Order) -> AccountMonth:
    return AccountMonth.objects.get(pk=order.account_month_id)


def money(row: AccountMonth) -> tuple[object, object, object]:
    """Held, spent, self-paid, fresh from the database."""
    row.refresh_from_db()
    return row.held, row.spent, row.self_paid


def audited(event: str, obj: Order | Complaint | EntitlementAccount, actor: User | None) -> bool:
    return AuditLog.objects.filter(
        event=event, object_type=obj._meta.label_lower, object_id=str(obj.pk), actor=actor
    ).exists()


def history_of(order: Order) -> list[str]:
    return list(
        AuditLog.objects.filter(object_type="homecare.order", object_id=str(order.pk)).values_list("event", flat=True)
    )


# --- orders in every state -----------------------------------------------------------------------

# "confirmed" is a completed order the elder has confirmed (the status stays completed until rated).
STATES = (
    "requested",
    "accepted",
    "scheduled",
    "in_service",
    "completed",
    "confirmed",
    "rated",
    "cancelled",
    "no_show",
)


def order_in(world: World, state: str, *, item: str = "hc-meals", day: dt.date = DAY, hour: int = 9) -> Order:
    """An order of ``item`` taken to ``state`` through the services, as the people it belongs to."""
    assert state in STATES
    order = book(world, item=item, day=day, hour=hour)
    if state == "cancelled":
        order_cancel(actor=world.family, order=order, reason="家里临时有事", now=NOW)
    if state in ("requested", "cancelled"):
        return reload(order)
    order_accept(actor=world.provider_admin, order=order, now=NOW)
    if state == "accepted":
        return reload(order)
    order_schedule(actor=world.provider_admin, order=order, caregiver=world.caregiver, planned_start=at(day, hour))
    if state == "no_show":
        order_no_show(actor=world.caregiver_user, order=order, reason="老人不在家", now=at(day, hour, 10))
    if state in ("scheduled", "no_show"):
        return reload(order)
    if order.staff > 1:
        with_partner(world, order, arrive=at(day, hour, 5))
    order_check_in(actor=world.caregiver_user, order=order, at=HOME, now=at(day, hour, 5))
    if state == "in_service":
        return reload(order)
    leave = at(day, hour, 5) + dt.timedelta(minutes=order.minutes + 5)
    order_check_out(actor=world.caregiver_user, order=order, at=HOME, tasks_done=["送餐上门"], now=leave)
    if state == "completed":
        return reload(order)
    order_confirm(actor=world.family, order=order, now=at(day, hour, 26))
    if state == "rated":
        order_rate(actor=world.family, order=order, stars=5, now=at(day, hour + 1))
    return reload(order)


@dataclass(frozen=True)
class Move:
    """One transition: the states it starts from, who may make it, the audit event it writes."""

    name: str
    states: tuple[str, ...]
    actors: tuple[str, ...]  # names of World users (and of the extra users below) allowed to make it
    event: str
    run: Callable[[World, Order, User], Any]


def _confirm(w: World, o: Order, u: User) -> Any:
    code = o.confirmation_code if u == w.caregiver_user else ""
    return order_confirm(actor=u, order=o, code=code, now=o.window_start + dt.timedelta(minutes=30))


MOVES = [
    Move("accept", ("requested",), ("provider_admin",), "homecare.order_accepted",
         lambda w, o, u: order_accept(actor=u, order=o, now=NOW)),
    Move("decline", ("requested",), ("provider_admin",), "homecare.order_declined",
         lambda w, o, u: order_decline(actor=u, order=o, reason="当天人手不足", now=NOW)),
    Move("cancel", ("requested", "accepted", "scheduled"), ("family", "officer", "provider_admin"),
         "homecare.order_cancelled", lambda w, o, u: order_cancel(actor=u, order=o, reason="老人住院", now=NOW)),
    Move("schedule", ("accepted", "scheduled"), ("provider_admin",), "homecare.order_scheduled",
         lambda w, o, u: order_schedule(actor=u, order=o, caregiver=w.caregiver, planned_start=o.window_start)),
    Move("unschedule", ("scheduled",), ("provider_admin",), "homecare.order_unscheduled",
         lambda w, o, u: order_unschedule(actor=u, order=o, reason="护理员调整")),
    Move("check_in", ("scheduled",), ("caregiver_user",), "homecare.order_checked_in",
         lambda w, o, u: order_check_in(actor=u, order=o, at=HOME, now=o.window_start)),
    Move("check_out", ("in_service",), ("caregiver_user",), "homecare.order_checked_out",
         lambda w, o, u: order_check_out(actor=u, order=o, at=HOME, tasks_done=["送餐"],
                                         now=o.window_start + dt.timedelta(minutes=30))),
    Move("photo_add", ("in_service", "completed"), ("caregiver_user",), "homecare.photo_added",
         lambda w, o, u: photo_add(actor=u, order=o, upload=photo())),
    Move("no_show", ("scheduled",), ("provider_admin", "caregiver_user"), "homecare.order_no_show",
         lambda w, o, u: order_no_show(actor=u, order=o, reason="敲门无人应答", now=o.window_start)),
    Move("confirm", ("completed",), ("family", "officer", "caregiver_user"), "homecare.order_confirmed", _confirm),
    Move("rate", ("confirmed",), ("family",), "homecare.order_rated",
         lambda w, o, u: order_rate(actor=u, order=o, stars=4, now=o.window_end)),
    Move("complaint_lodge",
         ("accepted", "scheduled", "in_service", "completed", "confirmed", "rated", "no_show"),
         ("family", "officer"), "homecare.complaint_lodged",
         lambda w, o, u: complaint_lodge(actor=u, order=o, text="护理员迟到一小时", now=o.window_end)),
]  # fmt: skip
# Refusals from a state that is not a wrong state but a missing step.
OTHER_REFUSALS = {("rate", "completed"): "not_confirmed"}
# Before dispatch (or after a cancellation) no caregiver is assigned, so a caregiver's step is not theirs to take.
UNASSIGNED = ("requested", "accepted", "cancelled")


def expected_refusal(move: Move, state: str) -> str:
    if move.actors == ("caregiver_user",) and state in UNASSIGNED:
        return "permission_denied"
    return OTHER_REFUSALS.get((move.name, state), "wrong_state")


@dataclass
class Others:
    """Users the world does not have: an officer of another county, a caregiver not on the visit,
    an administrator of another provider."""

    other_officer: User
    other_caregiver_user: User
    other_provider_admin: User


@pytest.fixture
def others(world: World) -> Others:
    elsewhere = Area.objects.get(code="331003")
    other_caregiver_user = make_user("caregiver2", Role.CAREGIVER, world.caregiver_user.area)
    Caregiver.objects.create(
        provider=world.provider,
        user=other_caregiver_user,
        name="赵护理员",
        qualifications=list(world.caregiver.qualifications),
        health_certificate_expires=world.caregiver.health_certificate_expires,
        home_latitude=world.caregiver.home_latitude,
        home_longitude=world.caregiver.home_longitude,
        shift_start=world.caregiver.shift_start,
        shift_end=world.caregiver.shift_end,
    )
    other_provider = Provider.objects.create(
        name="黄岩夕阳红居家养老服务社",
        licence_number="HY-2022-002",
        licence_valid_until=dt.date(2028, 12, 31),
        address="黄岩区",
        contact_name="陈主任",
        contact_phone="0576-1111111",
    )
    other_provider.areas.add(elsewhere)
    other_provider_admin = make_user("provider2", Role.PROVIDER_ADMIN, elsewhere)
    other_provider.admins.add(other_provider_admin)
    return Others(
        other_officer=make_user("officer2", Role.DEPARTMENT_OFFICER, elsewhere, department=world.officer.department),
        other_caregiver_user=other_caregiver_user,
        other_provider_admin=other_provider_admin,
    )


ALL_ACTORS = (
    "family",
    "officer",
    "provider_admin",
    "caregiver_user",
    "stranger",
    "other_officer",
    "other_caregiver_user",
    "other_provider_admin",
)


def user(world: World, others: Others, name: str) -> User:
    return getattr(others, name) if hasattr(others, name) else world.user(name)


def snapshot(order: Order) -> tuple[Any, ...]:
    """Everything a refused step must leave as it was: the order, its history, and the elder's month."""
    o = Order.objects.select_related("account_month").get(pk=order.pk)
    month = o.account_month
    return (
        o.status,
        o.caregiver_id,
        o.planned_start,
        o.checkin_at,
        o.checkout_at,
        o.confirmed_at,
        o.subsidy_refunded,
        (month.held, month.spent, month.self_paid),
        o.complaints.count(),
        o.photos.count(),
        history_of(o),
    )


def attempt(move: Move, world: World, order: Order, actor: User) -> str:
    """What happens when ``actor`` tries ``move`` on ``order``; undone afterwards, so one order serves many tries.

    "ok" only if the step was audited; a refusal's code (or "permission_denied") only if it changed nothing.
    """
    before = snapshot(order)
    with transaction.atomic():
        try:
            result = move.run(world, order, actor)
        except HomeCareError as error:
            verdict = error.code
        except PermissionDenied:
            verdict = "permission_denied"
        else:
            obj = result if isinstance(result, Complaint) else order
            verdict = "ok" if audited(move.event, obj, actor) else "ok, but not audited"
        if verdict != "ok" and snapshot(order) != before:
            verdict += ", but the order changed"
        transaction.set_rollback(True)
    return verdict


def test_each_transition_only_from_its_states(world: World) -> None:
    orders = {state: order_in(world, state, hour=8 + i) for i, state in enumerate(STATES)}
    found = {
        move.name: {state: attempt(move, world, order, world.user(move.actors[0])) for state, order in orders.items()}
        for move in MOVES
    }
    assert found == {
        move.name: {state: "ok" if state in move.states else expected_refusal(move, state) for state in STATES}
        for move in MOVES
    }


def test_each_transition_only_by_its_actors(world: World, others: Others) -> None:
    orders = {state: order_in(world, state, hour=8 + i) for i, state in enumerate(STATES)}
    found = {
        move.name: {
            name: attempt(move, world, orders[move.states[0]], user(world, others, name)) for name in ALL_ACTORS
        }
        for move in MOVES
    }
    assert found == {
        move.name: {name: "ok" if name in move.actors else "permission_denied" for name in ALL_ACTORS} for move in MOVES
    }


# --- where the elder lives ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("latitude", "longitude"),
    [("90.5", "121.42"), ("28.656", "-180.5"), ("NaN", "121.42"), ("28.656", "-Infinity")],
)
def test_a_home_must_be_a_place_on_earth(world: World, latitude: str, longitude: str) -> None:
    with pytest.raises(HomeCareError) as refused:
        account_set_home(
            actor=world.provider_admin,
            account=world.account,
            address="海门街道新址",
            latitude=Decimal(latitude),
            longitude=Decimal(longitude),
        )
    assert refused.value.code == "bad_location"
    world.account.refresh_from_db()
    assert (world.account.latitude, world.account.longitude) == ELDER_HOME


@pytest.mark.parametrize("name", ["officer", "provider_admin"])
def test_the_officer_or_the_provider_sets_the_home(world: World, others: Others, name: str) -> None:
    for outsider in ("family", "caregiver_user", "stranger", "other_officer", "other_provider_admin"):
        with pytest.raises(PermissionDenied):
            account_set_home(
                actor=user(world, others, outsider),
                account=world.account,
                address="别处",
                latitude=Decimal("28.7"),
                longitude=Decimal("121.4"),
            )
    account_set_home(
        actor=world.user(name),
        account=world.account,
        address=" 海门街道新址 ",
        latitude=Decimal("28.7"),
        longitude=Decimal("121.4"),
        source="map",
    )
    account = EntitlementAccount.objects.get(pk=world.account.pk)
    assert (account.address, account.latitude, account.longitude) == ("海门街道新址", Decimal("28.7"), Decimal("121.4"))
    assert audited("homecare.account_home_set", account, world.user(name))


# --- booking ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["family", "officer"])
def test_the_family_or_the_officer_may_book(world: World, name: str) -> None:
    actor = world.user(name)
    order = book(world, item="hc-bathing", actor=actor)
    assert (order.status, order.booked_by, order.item, order.kind) == (
        OrderStatus.REQUESTED,
        actor,
        "hc-bathing",
        OrderKind.SUBSIDISED,
    )
    assert order.minutes == standard.project("hc-bathing", on=DAY).minutes
    assert audited("homecare.order_booked", order, actor)


@pytest.mark.parametrize("name", ["provider_admin", "caregiver_user", "stranger", "other_officer"])
def test_nobody_else_may_book(world: World, others: Others, name: str) -> None:
    with pytest.raises(PermissionDenied):
        book(world, actor=user(world, others, name))
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("hours", "now", "code"),
    [
        (3, at(DAY, 9), None),  # booked for right now
        (0, NOW, "bad_window"),  # ends when it starts
        (-1, NOW, "bad_window"),  # ends before it starts
        (3, at(DAY, 9, 1), "bad_window"),  # the window has begun
        (3, at(DAY + dt.timedelta(days=1), 8), "bad_window"),  # the window is over
    ],
)
def test_windows_in_the_past_or_the_wrong_way_round_are_refused(
    world: World, hours: int, now: dt.datetime, code: str | None
) -> None:
    if code is None:
        book(world, item="hc-bathing", hour=9, hours=hours, now=now)
    else:
        with pytest.raises(HomeCareError) as refused:
            book(world, item="hc-bathing", hour=9, hours=hours, now=now)
        assert refused.value.code == code
    assert Order.objects.count() == (code is None)


def test_a_window_shorter_than_the_visit_is_refused(world: World) -> None:
    minutes = standard.project("hc-cleaning", on=DAY).minutes
    start = at(DAY, 9)
    request: dict[str, Any] = {
        "actor": world.family,
        "person": world.elder,
        "item": "hc-cleaning",
        "window_start": start,
        "idempotency_key": "short",
        "now": NOW,
    }
    with pytest.raises(HomeCareError) as refused:
        order_book(**request, window_end=start + dt.timedelta(minutes=minutes - 1))
    assert refused.value.code == "bad_window"
    order_book(**request, window_end=start + dt.timedelta(minutes=minutes))


def test_a_project_the_elder_is_not_entitled_to_is_refused(world: World) -> None:
    assert "hc-rehab-care" not in world.account.items
    assert standard.project("hc-rehab-care", on=DAY).kind == OrderKind.SUBSIDISED
    with pytest.raises(HomeCareError) as refused:
        book(world, item="hc-rehab-care")
    assert refused.value.code == "not_entitled"
    assert not Order.objects.exists()


def test_an_unknown_project_is_refused(world: World) -> None:
    with pytest.raises(HomeCareError) as refused:
        book(world, item="hc-space-travel")
    assert refused.value.code == "unknown_item"


@pytest.mark.parametrize("closed", [False, True], ids=["no account", "closed account"])
def test_an_elder_without_an_open_account_cannot_book(world: World, closed: bool) -> None:
    if closed:
        EntitlementAccount.objects.filter(pk=world.account.pk).update(status=AccountStatus.CLOSED)
        person = world.elder
    else:
        person = PersonFactory.create(birth_date=dt.date(1940, 1, 1), hukou_area=VILLAGE)
    with pytest.raises(HomeCareError) as refused:
        order_book(
            actor=world.officer,
            person=person,
            item="hc-meals",
            window_start=at(DAY, 9),
            window_end=at(DAY, 12),
            idempotency_key="no-account",
            now=NOW,
        )
    assert refused.value.code == "no_account"


def test_the_monthly_limit_comes_from_the_standard(world: World) -> None:
    project = standard.project("hc-bathing", on=DAY)
    limit = project.monthly_limit
    assert limit is not None
    assert limit >= 1
    # Enough allowance that only the limit can stop the bookings.
    EntitlementAccount.objects.filter(pk=world.account.pk).update(monthly_allowance=project.price * (limit + 2))
    orders = [book(world, item="hc-bathing", day=DAY + dt.timedelta(days=i % 3), hour=8) for i in range(limit)]
    with pytest.raises(HomeCareError) as refused:
        book(world, item="hc-bathing", day=DAY + dt.timedelta(days=1), hour=14)
    assert refused.value.code == "monthly_limit"
    assert Order.objects.filter(item="hc-bathing").count() == limit
    # A cancelled visit frees its place; next month is a new count.
    order_cancel(actor=world.family, order=orders[0], reason="改期", now=NOW)
    book(world, item="hc-bathing", day=DAY + dt.timedelta(days=1), hour=14)
    book(world, item="hc-bathing", day=dt.date(2026, 12, 2), hour=9)


# --- money ---------------------------------------------------------------------------------------


def test_booking_holds_and_cancelling_releases_the_subsidy(world: World) -> None:
    price = standard.project("hc-bathing", on=DAY).price
    order = book(world, item="hc-bathing")
    assert (order.price, order.subsidy, order.self_pay) == (price, price, Decimal(0))
    month = month_of(order)
    assert month.allowance == world.account.monthly_allowance
    assert money(month) == (price, 0, 0)
    order_cancel(actor=world.family, order=order, reason="不需要了", now=NOW)
    assert money(month) == (0, 0, 0)


def test_declining_releases_the_subsidy(world: World) -> None:
    order = book(world, item="hc-bathing")
    with pytest.raises(HomeCareError) as refused:
        order_decline(actor=world.provider_admin, order=order, reason="  ", now=NOW)
    assert refused.value.code == "reason_required"
    assert money(month_of(order))[0] == order.subsidy
    order_decline(actor=world.provider_admin, order=order, reason="当天人手不足", now=NOW)
    order = reload(order)
    assert (order.status, order.end_reason) == (OrderStatus.CANCELLED, "当天人手不足")
    assert money(month_of(order)) == (0, 0, 0)


def test_cancelling_needs_a_reason(world: World) -> None:
    order = book(world)
    with pytest.raises(HomeCareError) as refused:
        order_cancel(actor=world.family, order=order, reason="", now=NOW)
    assert refused.value.code == "reason_required"
    assert reload(order).status == OrderStatus.REQUESTED


def test_a_no_show_releases_the_subsidy_and_keeps_where_the_caregiver_was(world: World) -> None:
    order = order_in(world, "scheduled", item="hc-bathing")
    assert money(month_of(order)) == (order.subsidy, 0, 0)
    near = Position(ELDER_HOME[0] + Decimal("0.000900"), ELDER_HOME[1])  # about 100 m north
    order_no_show(actor=world.caregiver_user, order=order, reason="敲门无人应答", at=near, now=at(DAY, 9, 10))
    order = reload(order)
    assert order.status == OrderStatus.NO_SHOW
    assert money(month_of(order)) == (0, 0, 0)
    assert (order.checkin_latitude, order.checkin_longitude) == (near.latitude, near.longitude)
    assert order.checkin_distance_m == 100


def test_confirmation_spends_the_subsidy(world: World) -> None:
    order = order_in(world, "completed", item="hc-bathing")
    month = month_of(order)
    assert money(month) == (order.subsidy, 0, 0)
    order_confirm(actor=world.family, order=order, now=at(DAY, 12))
    assert money(month) == (0, order.subsidy, 0)
    assert month.allowance - month.held - month.spent == world.account.monthly_allowance - order.subsidy


def test_a_package_is_paid_by_the_elder(world: World) -> None:
    key = next(k for k, p in standard.projects(on=DAY).items() if p.kind == OrderKind.PACKAGE)
    assert key.startswith("hc-package-")
    assert key not in world.account.items
    price = standard.project(key, on=DAY).price
    order = book(world, item=key)
    assert (order.kind, order.price, order.subsidy, order.self_pay) == (OrderKind.PACKAGE, price, 0, price)
    month = month_of(order)
    assert money(month) == (0, 0, 0)
    order_accept(actor=world.provider_admin, order=order, now=NOW)
    order_schedule(actor=world.provider_admin, order=order, caregiver=world.caregiver, planned_start=at(DAY, 9))
    order_check_in(actor=world.caregiver_user, order=order, at=HOME, now=at(DAY, 9))
    order_check_out(actor=world.caregiver_user, order=order, at=HOME, tasks_done=["健康监测"], now=at(DAY, 10))
    order_confirm(actor=world.family, order=order, now=at(DAY, 10, 5))
    assert money(month) == (0, 0, price)


def test_the_last_yuan_cannot_be_held_twice(world: World) -> None:
    price = standard.project("hc-bathing", on=DAY).price
    EntitlementAccount.objects.filter(pk=world.account.pk).update(monthly_allowance=price + price / 2)
    first = book(world, item="hc-bathing")
    with pytest.raises(HomeCareError) as refused:
        book(world, item="hc-bathing", hour=14)
    assert refused.value.code == "insufficient_subsidy"
    assert Order.objects.count() == 1
    assert money(month_of(first)) == (price, 0, 0)


# --- idempotent retries --------------------------------------------------------------------------


def test_a_retry_with_the_same_key_returns_the_first_order(world: World) -> None:
    request: dict[str, Any] = {
        "person": world.elder,
        "item": "hc-bathing",
        "window_start": at(DAY, 9),
        "window_end": at(DAY, 12),
        "idempotency_key": "tap-once",
        "now": NOW,
    }
    first, created = order_book(actor=world.family, **request)
    again, created_again = order_book(actor=world.family, **{**request, "idempotency_key": " tap-once "})
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert Order.objects.count() == 1
    assert money(month_of(first)) == (first.subsidy, 0, 0)
    assert AuditLog.objects.filter(event="homecare.order_booked").count() == 1


@pytest.mark.parametrize(
    "change",
    [{"item": "hc-cleaning"}, {"window_end": at(DAY, 13)}, {"window_start": at(DAY, 8)}],
    ids=["item", "end", "start"],
)
def test_the_same_key_with_another_request_is_refused(world: World, change: dict[str, Any]) -> None:
    request: dict[str, Any] = {
        "person": world.elder,
        "item": "hc-bathing",
        "window_start": at(DAY, 9),
        "window_end": at(DAY, 12),
        "idempotency_key": "tap-once",
        "now": NOW,
    }
    order_book(actor=world.family, **request)
    with pytest.raises(HomeCareError) as refused:
        order_book(actor=world.family, **{**request, **change})
    assert refused.value.code == "idempotency_key_reused"
    assert Order.objects.count() == 1


def test_different_users_may_use_the_same_key(world: World) -> None:
    one = book(world, item="hc-bathing", actor=world.family, key="same")
    two = book(world, item="hc-bathing", actor=world.officer, key="same")
    assert one.pk != two.pk
    assert money(month_of(one))[0] == one.subsidy + two.subsidy


@pytest.mark.parametrize("key", ["", "   ", "k" * 65])
def test_a_missing_or_overlong_key_is_refused(world: World, key: str) -> None:
    with pytest.raises(HomeCareError) as refused:
        order_book(
            actor=world.family,
            person=world.elder,
            item="hc-meals",
            window_start=at(DAY, 9),
            window_end=at(DAY, 12),
            idempotency_key=key,
            now=NOW,
        )
    assert refused.value.code == "bad_idempotency_key"
    assert not Order.objects.exists()


def test_a_refused_booking_leaves_nothing_behind(world: World) -> None:
    with pytest.raises(HomeCareError):
        book(world, item="hc-rehab-care", key="retry-me")
    # The key was not spent on the refusal: the corrected request goes through under it.
    order = book(world, item="hc-bathing", key="retry-me")
    assert Order.objects.get().pk == order.pk


# --- scheduling: who may be sent ------------------------------------------------------------------


def _carer(world: World, **fields: Any) -> Caregiver:
    values = {
        "provider": world.provider,
        "name": "周护理员",
        "qualifications": ["care-worker"],
        "health_certificate_expires": dt.date(2027, 6, 30),
        "home_latitude": Decimal("28.650000"),
        "home_longitude": Decimal("121.410000"),
        "shift_start": dt.time(8),
        "shift_end": dt.time(17),
        **fields,
    }
    carer = Caregiver.objects.create(**values)
    if values["provider"] == world.provider:
        hours = standard.number("pre_job_training_hours", on=DAY)
        TrainingRecord.objects.create(
            caregiver=carer, kind="pre_job", completed_on=dt.date(2025, 1, 1), hours=hours, topic="岗前培训"
        )
    return carer


def _schedule(world: World, order: Order, carer: Caregiver) -> str:
    try:
        order_schedule(actor=world.provider_admin, order=order, caregiver=carer, planned_start=at(DAY, 9))
    except HomeCareError as error:
        assert reload(order).status == OrderStatus.ACCEPTED
        return error.code
    assert reload(order).caregiver_id == carer.pk
    return "ok"


def test_a_caregiver_of_another_provider_cannot_be_sent(world: World, others: Others) -> None:
    provider = Provider.objects.exclude(pk=world.provider.pk).get()
    carer = _carer(world, provider=provider)
    assert _schedule(world, order_in(world, "accepted"), carer) == "wrong_provider"


def test_a_caregiver_whose_certificate_has_expired_cannot_be_assigned(world: World) -> None:
    expired = _carer(world, health_certificate_expires=DAY - dt.timedelta(days=1))
    last_day = _carer(world, name="吴护理员", health_certificate_expires=DAY)
    order = order_in(world, "accepted", item="hc-bathing")
    with pytest.raises(HomeCareError) as refused:
        order_schedule(actor=world.provider_admin, order=order, caregiver=expired, planned_start=at(DAY, 9))
    assert refused.value.code == "caregiver_blocked"
    assert "健康证明" in str(refused.value)
    assert _schedule(world, order, last_day) == "ok"  # valid through the day it expires


def test_pre_job_training_below_the_standard_blocks_a_caregiver(world: World) -> None:
    needed = standard.number("pre_job_training_hours", on=DAY)
    carer = _carer(world)
    carer.training.all().delete()
    TrainingRecord.objects.create(
        caregiver=carer, kind="pre_job", completed_on=dt.date(2025, 1, 1), hours=needed - 1, topic="岗前培训"
    )
    # In-service training and training finished after the visit do not count towards it.
    TrainingRecord.objects.create(
        caregiver=carer, kind="in_service", completed_on=dt.date(2025, 6, 1), hours=Decimal(8), topic="在岗培训"
    )
    late = TrainingRecord.objects.create(
        caregiver=carer, kind="pre_job", completed_on=DAY + dt.timedelta(days=1), hours=Decimal(1), topic="补课"
    )
    order = order_in(world, "accepted", item="hc-bathing")
    assert _schedule(world, order, carer) == "caregiver_blocked"
    late.completed_on = DAY
    late.save()
    assert _schedule(world, order, carer) == "ok"


def test_a_caregiver_without_the_items_qualification_cannot_be_sent(world: World) -> None:
    needed = standard.project("hc-rehab-care", on=DAY).qualifications
    assert needed, "the standard names who may give rehabilitation care"
    EntitlementAccount.objects.filter(pk=world.account.pk).update(items=[*world.account.items, "hc-rehab-care"])
    carer = _carer(world, qualifications=[q for q in world.caregiver.qualifications if q not in needed])
    bare = _carer(world, name="郑护理员", qualifications=[])
    order = order_in(world, "accepted", item="hc-rehab-care")
    with pytest.raises(HomeCareError) as refused:
        order_schedule(actor=world.provider_admin, order=order, caregiver=carer, planned_start=at(DAY, 9))
    assert refused.value.code == "caregiver_blocked"
    assert standard.qualification_names()[needed[0]] in str(refused.value)
    assert _schedule(world, order, bare) == "caregiver_blocked"
    assert _schedule(world, order, world.caregiver) == "ok"
    # An item that needs no qualification may go to anyone trained and certified.
    assert not standard.project("hc-meals", on=DAY).qualifications
    assert _schedule(world, order_in(world, "accepted", hour=14), bare) == "ok"


def test_an_inactive_caregiver_cannot_be_sent(world: World) -> None:
    carer = _carer(world, active=False)
    assert _schedule(world, order_in(world, "accepted"), carer) == "caregiver_blocked"


def test_unscheduling_returns_the_order_to_accepted(world: World) -> None:
    order = order_in(world, "scheduled")
    order_unschedule(actor=world.provider_admin, order=order, reason="护理员调整")
    order = reload(order)
    assert (order.status, order.caregiver, order.planned_start, order.dispatch_note) == (
        OrderStatus.ACCEPTED,
        None,
        None,
        "护理员调整",
    )


# --- at the door: where the caregiver is ------------------------------------------------------------

DOOR_STEPS = ("check_in", "check_out")


def north_of_home(metres: float) -> Position:
    return Position(ELDER_HOME[0] + Decimal(str(round(metres / METRES_PER_DEGREE, 6))), ELDER_HOME[1])


def at_the_door(
    world: World, step: str, where: Position, reason: str = "", *, order: Order | None = None
) -> tuple[Order, str]:
    """``step`` taken at ``where`` on ``order`` (by default a new one ready for it): the order, "ok" or the code."""
    order = order or order_in(world, "scheduled" if step == "check_in" else "in_service")
    try:
        if step == "check_in":
            order_check_in(actor=world.caregiver_user, order=order, at=where, reason=reason, now=at(DAY, 9, 5))
        else:
            order_check_out(
                actor=world.caregiver_user,
                order=order,
                at=where,
                tasks_done=["送餐"],
                reason=reason,
                now=at(DAY, 9, 40),
            )
    except HomeCareError as error:
        assert reload(order).status == order.status
        return order, error.code
    return reload(order), "ok"


@pytest.mark.parametrize("step", DOOR_STEPS)
@pytest.mark.parametrize("side", [-1, +1], ids=["inside", "outside"])
def test_one_metre_either_side_of_the_radius(world: World, step: str, side: int) -> None:
    radius = int(standard.number("checkin_radius_m", on=DAY))
    where = north_of_home(radius + side)
    _, without_reason = at_the_door(world, step, where)
    assert without_reason == ("ok" if side < 0 else "reason_required")
    done, code = at_the_door(world, step, where, reason="小区封路，在门口签到")
    assert code == "ok"
    prefix = "checkin" if step == "check_in" else "checkout"
    assert getattr(done, f"{prefix}_distance_m") == radius + side
    assert getattr(done, f"{prefix}_flagged") is (side > 0)
    assert getattr(done, f"{prefix}_reason") == ("小区封路，在门口签到" if side > 0 else "")
    assert (getattr(done, f"{prefix}_latitude"), getattr(done, f"{prefix}_longitude")) == (
        where.latitude,
        where.longitude,
    )
    event = "homecare.order_checked_in" if step == "check_in" else "homecare.order_checked_out"
    row = AuditLog.objects.get(event=event, object_id=str(done.pk))
    assert row.after is not None
    assert (row.after["distance_m"], row.after["flagged"]) == (radius + side, side > 0)


@pytest.mark.parametrize(
    "where",
    [
        Position(Decimal("91"), Decimal("121.42")),
        Position(Decimal("-90.5"), Decimal("121.42")),
        Position(Decimal("28.656"), Decimal("180.1")),
        Position(Decimal("28.656"), Decimal("-181")),
        Position(Decimal("NaN"), Decimal("121.42")),
        Position(Decimal("28.656"), Decimal("Infinity")),
    ],
    ids=["lat>90", "lat<-90", "lon>180", "lon<-180", "lat NaN", "lon infinite"],
)
@pytest.mark.parametrize("step", DOOR_STEPS)
def test_invalid_coordinates_are_refused(world: World, where: Position, step: str) -> None:
    assert at_the_door(world, step, where, reason="定位")[1] == "bad_location"


@pytest.mark.parametrize("step", DOOR_STEPS)
def test_an_elder_without_a_home_location_cannot_be_checked_in(world: World, step: str) -> None:
    order = order_in(world, "scheduled" if step == "check_in" else "in_service")
    EntitlementAccount.objects.filter(pk=world.account.pk).update(latitude=None, longitude=None)
    assert at_the_door(world, step, HOME, reason="定位", order=order)[1] == "no_home_location"


def test_a_check_out_needs_a_record_of_what_was_done(world: World) -> None:
    order = order_in(world, "in_service")
    with pytest.raises(HomeCareError) as refused:
        order_check_out(actor=world.caregiver_user, order=order, at=HOME, tasks_done=["", "  "], now=at(DAY, 10))
    assert refused.value.code == "record_required"
    done = order_check_out(
        actor=world.caregiver_user, order=order, at=HOME, tasks_done=[" 送餐 ", "", "协助进食"], now=at(DAY, 10)
    )
    assert reload(done).tasks_done == ["送餐", "协助进食"]


# --- photos ------------------------------------------------------------------------------------------


def test_a_real_png_is_kept_in_media(world: World, media_root: Path) -> None:
    order = order_in(world, "in_service")
    kept = photo_add(actor=world.caregiver_user, order=order, upload=photo("IMG_0001.png"))
    stored = Path(kept.image.path)
    assert (kept.content_type, kept.size) == ("image/png", stored.stat().st_size)
    assert stored.is_relative_to(media_root)
    assert stored.read_bytes().startswith(b"\x89PNG")  # decoded and written again


def test_a_jpeg_is_recognised_by_its_content(world: World) -> None:
    order = order_in(world, "completed")
    kept = photo_add(actor=world.caregiver_user, order=order, upload=photo("record.png", real_jpeg()))
    assert kept.content_type == "image/jpeg"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("record.jpg", "服务记录：已送餐。".encode()),  # a text file by any other name
        ("record.png", b""),
        ("record.webp", b"RIFF\x10\x00\x00\x00WAVEfmt "),  # RIFF, but a sound
        ("record.png", b"GIF89a" + b"\x00" * 32),
    ],
    ids=["text named .jpg", "empty", "RIFF not WebP", "GIF"],
)
def test_a_file_that_is_not_a_photo_is_refused(world: World, name: str, content: bytes) -> None:
    order = order_in(world, "in_service")
    with pytest.raises(HomeCareError) as refused:
        photo_add(actor=world.caregiver_user, order=order, upload=photo(name, content))
    assert refused.value.code == "bad_photo"
    assert not ServicePhoto.objects.exists()


def test_a_photo_over_the_size_limit_is_refused(world: World, settings: Any) -> None:
    settings.FUWU_PHOTO_MAX_BYTES = len(png()) + 10
    order = order_in(world, "in_service")
    photo_add(actor=world.caregiver_user, order=order, upload=photo(content=png() + b"\x00" * 10))
    with pytest.raises(HomeCareError) as refused:
        photo_add(actor=world.caregiver_user, order=order, upload=photo(content=png() + b"\x00" * 11))
    assert refused.value.code == "bad_photo"
    assert ServicePhoto.objects.count() == 1


def test_no_more_photos_than_the_limit(world: World, settings: Any) -> None:
    order = order_in(world, "in_service")
    for _ in range(settings.FUWU_PHOTO_MAX_COUNT):
        photo_add(actor=world.caregiver_user, order=order, upload=photo())
    with pytest.raises(HomeCareError) as refused:
        photo_add(actor=world.caregiver_user, order=order, upload=photo())
    assert refused.value.code == "too_many_photos"
    assert ServicePhoto.objects.count() == settings.FUWU_PHOTO_MAX_COUNT


def test_no_photos_after_confirmation(world: World) -> None:
    order = order_in(world, "completed")
    photo_add(actor=world.caregiver_user, order=order, upload=photo())
    order_confirm(actor=world.family, order=order, now=at(DAY, 12))
    with pytest.raises(HomeCareError) as refused:
        photo_add(actor=world.caregiver_user, order=order, upload=photo())
    assert refused.value.code == "wrong_state"
    assert ServicePhoto.objects.count() == 1


# --- confirmation and rating ------------------------------------------------------------------------


def test_the_family_confirms_without_a_code(world: World) -> None:
    order = order_in(world, "completed")
    order_confirm(actor=world.family, order=order, now=at(DAY, 12))
    order = reload(order)
    assert (order.confirmed_at, order.confirmed_by) == (at(DAY, 12), world.family)
    with pytest.raises(HomeCareError) as refused:
        order_confirm(actor=world.family, order=order, now=at(DAY, 13))
    assert refused.value.code == "wrong_state"
    assert money(month_of(order))[1] == order.subsidy  # spent once


@pytest.mark.parametrize("wrong", ["", "0000x", "12345"])
def test_the_caregiver_needs_the_elders_code(world: World, wrong: str) -> None:
    order = order_in(world, "completed")
    assert len(order.confirmation_code) == 4
    assert order.confirmation_code.isdigit()
    with pytest.raises(HomeCareError) as refused:
        order_confirm(actor=world.caregiver_user, order=order, code=wrong, now=at(DAY, 12))
    assert refused.value.code == "bad_code"
    assert reload(order).confirmed_at is None
    assert money(month_of(order)) == (order.subsidy, 0, 0)
    order_confirm(actor=world.caregiver_user, order=order, code=f" {order.confirmation_code} ", now=at(DAY, 12))
    assert reload(order).confirmed_by == world.caregiver_user


@pytest.mark.parametrize("typed", ["确认码", "一二三四", "12 34"], ids=["words", "numerals", "space"])
def test_a_code_typed_in_chinese_is_wrong_not_an_error(world: World, typed: str) -> None:
    order = order_in(world, "completed")
    with pytest.raises(HomeCareError) as refused:
        order_confirm(actor=world.caregiver_user, order=order, code=typed, now=at(DAY, 12))
    assert refused.value.code == "bad_code"


def test_the_code_may_be_typed_in_full_width_digits(world: World) -> None:
    # What a Chinese keyboard often types: "１２３４" is the code "1234".
    order = order_in(world, "completed")
    full_width = "".join(chr(ord(c) - ord("0") + ord("０")) for c in order.confirmation_code)
    order_confirm(actor=world.caregiver_user, order=order, code=full_width, now=at(DAY, 12))
    assert reload(order).confirmed_by == world.caregiver_user


def test_a_stranger_cannot_confirm(world: World) -> None:
    order = order_in(world, "completed")
    with pytest.raises(PermissionDenied):
        order_confirm(actor=world.stranger, order=order, code=order.confirmation_code, now=at(DAY, 12))
    assert reload(order).confirmed_at is None


def test_rating_waits_for_confirmation_and_takes_one_to_five_stars(world: World) -> None:
    order = order_in(world, "completed")
    with pytest.raises(HomeCareError) as refused:
        order_rate(actor=world.family, order=order, stars=5, now=at(DAY, 12))
    assert refused.value.code == "not_confirmed"
    order_confirm(actor=world.family, order=order, now=at(DAY, 12))
    for stars in (0, 6, -1):
        with pytest.raises(HomeCareError) as refused:
            order_rate(actor=world.family, order=order, stars=stars, now=at(DAY, 12))
        assert refused.value.code == "bad_rating"
    assert reload(order).status == OrderStatus.COMPLETED
    rating = order_rate(actor=world.family, order=order, stars=1, comment=" 太晚了 ", now=at(DAY, 13))
    assert (rating.stars, rating.comment, reload(order).status) == (1, "太晚了", OrderStatus.RATED)
    with pytest.raises(HomeCareError) as refused:
        order_rate(actor=world.family, order=order, stars=5, now=at(DAY, 14))
    assert refused.value.code == "wrong_state"


# --- complaints -------------------------------------------------------------------------------------


def test_an_upheld_complaint_gives_the_subsidy_back(world: World) -> None:
    order = order_in(world, "confirmed", item="hc-bathing")
    month = month_of(order)
    assert money(month) == (0, order.subsidy, 0)
    complaint = complaint_lodge(actor=world.family, order=order, text="洗浴只做了二十分钟", now=at(DAY, 14))
    assert complaint.status == ComplaintStatus.OPEN
    complaint_resolve(actor=world.officer, complaint=complaint, upheld=True, outcome="属实，退还补贴", now=at(DAY, 16))
    complaint.refresh_from_db()
    assert (complaint.status, complaint.resolved_by, complaint.outcome) == (
        ComplaintStatus.UPHELD,
        world.officer,
        "属实，退还补贴",
    )
    assert reload(order).subsidy_refunded
    assert money(month) == (0, 0, 0)
    assert audited("homecare.complaint_resolved", complaint, world.officer)
    # A second complaint upheld on the same visit does not refund it again.
    second = complaint_lodge(actor=world.family, order=order, text="又想起一件事", now=at(DAY, 17))
    complaint_resolve(actor=world.officer, complaint=second, upheld=True, outcome="属实", now=at(DAY, 18))
    assert money(month) == (0, 0, 0)


def test_a_dismissed_complaint_keeps_the_money_where_it_was(world: World) -> None:
    order = order_in(world, "confirmed", item="hc-bathing")
    complaint = complaint_lodge(actor=world.officer, order=order, text="家属反映服务态度差", now=at(DAY, 14))
    complaint_resolve(actor=world.officer, complaint=complaint, upheld=False, outcome="经回访不属实", now=at(DAY, 16))
    assert Complaint.objects.get().status == ComplaintStatus.DISMISSED
    assert not reload(order).subsidy_refunded
    assert money(month_of(order)) == (0, order.subsidy, 0)


def test_a_complaint_is_resolved_once(world: World) -> None:
    order = order_in(world, "confirmed", item="hc-bathing")
    complaint = complaint_lodge(actor=world.family, order=order, text="迟到", now=at(DAY, 14))
    with pytest.raises(HomeCareError) as refused:
        complaint_resolve(actor=world.officer, complaint=complaint, upheld=True, outcome=" ", now=at(DAY, 15))
    assert refused.value.code == "outcome_required"
    complaint_resolve(actor=world.officer, complaint=complaint, upheld=False, outcome="不属实", now=at(DAY, 15))
    with pytest.raises(HomeCareError) as refused:
        complaint_resolve(actor=world.officer, complaint=complaint, upheld=True, outcome="复查属实", now=at(DAY, 16))
    assert refused.value.code == "wrong_state"
    assert Complaint.objects.get().status == ComplaintStatus.DISMISSED
    assert money(month_of(order)) == (0, order.subsidy, 0)


@pytest.mark.parametrize(
    "name", ["family", "provider_admin", "caregiver_user", "stranger", "other_officer", "other_provider_admin"]
)
def test_only_the_officer_of_the_area_resolves_a_complaint(world: World, others: Others, name: str) -> None:
    order = order_in(world, "confirmed", item="hc-bathing")
    complaint = complaint_lodge(actor=world.family, order=order, text="迟到", now=at(DAY, 14))
    with pytest.raises(PermissionDenied):
        complaint_resolve(
            actor=user(world, others, name), complaint=complaint, upheld=True, outcome="属实", now=at(DAY, 15)
        )
    assert Complaint.objects.get().status == ComplaintStatus.OPEN
    assert not reload(order).subsidy_refunded


def test_a_complaint_needs_words(world: World) -> None:
    order = order_in(world, "confirmed")
    with pytest.raises(HomeCareError) as refused:
        complaint_lodge(actor=world.family, order=order, text="  ", now=at(DAY, 14))
    assert refused.value.code == "text_required"
    assert not Complaint.objects.exists()


# --- overdue ------------------------------------------------------------------------------------------


def test_overdue_orders_are_flagged_once(world: World) -> None:
    late_answer = book(world, now=NOW)  # not answered in time
    answered = order_in(world, "accepted", day=DAY, hour=8)  # not started by the end of its window
    waiting = book(world, day=DAY + dt.timedelta(days=3), now=at(DAY, 11))  # answer due tomorrow
    in_window = order_in(world, "accepted", day=DAY + dt.timedelta(days=3), hour=9)
    done = order_in(world, "completed", day=DAY, hour=8)
    cancelled = order_in(world, "cancelled", day=DAY, hour=8)
    late_scheduled = order_in(world, "scheduled", day=DAY, hour=8)
    now = at(DAY, 12)
    assert late_answer.respond_by < now < waiting.respond_by
    assert answered.window_end < now < in_window.window_end

    assert orders_flag_overdue(now=now) == 3
    flagged = set(Order.objects.filter(overdue_flagged_at=now).values_list("pk", flat=True))
    assert flagged == {late_answer.pk, answered.pk, late_scheduled.pk}
    assert {o.pk for o in (waiting, in_window, done, cancelled)}.isdisjoint(flagged)
    rows = AuditLog.objects.filter(event="homecare.order_overdue")
    assert sorted(int(r.object_id) for r in rows) == sorted(flagged)
    assert {r.actor_label for r in rows} == {"system"}

    assert orders_flag_overdue(now=now + dt.timedelta(hours=1)) == 0
    assert Order.objects.filter(overdue_flagged_at=now).count() == 3
    assert rows.count() == 3
