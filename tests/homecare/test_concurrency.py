"""Requests that race: real threads, each with its own database connection, released together by a barrier.

The elder's month must never be overdrawn, a retried booking must never become two, the monthly limit must
hold, and an order must not be cancelled (and its hold released) twice — on SQLite, where transactions
queue for the write lock (``BEGIN IMMEDIATE``), and on PostgreSQL, where they meet on row locks.

pytest-django's SQLite test database lives in memory with a shared cache, where a second writer is told
"database table is locked" at once instead of waiting; the ``shared_db`` fixture copies it to a file for
the duration of the test (``file_database``), so the threads meet SQLite as the site runs it (WAL, ``BEGIN
IMMEDIATE``, a busy timeout).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connections

from fuwu.common.models import AuditLog
from fuwu.homecare import standard
from fuwu.homecare.models import AccountMonth, EntitlementAccount, Order, OrderStatus
from fuwu.homecare.services import HomeCareError, order_accept, order_book, order_cancel
from tests.homecare.conftest import TODAY, World, at

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 8
NOW = at(TODAY, 10)
DECEMBER = dt.date(2026, 12, 1)  # a month of its own, opened by the tests below
# Four projects of which any one fits in the allowance left and no two do (checked in the test).
RIVALS = ("hc-bathing", "hc-cleaning", "hc-medical-escort", "hc-rehab-care")


@pytest.fixture
def shared_db(world: World, file_database: str) -> None:
    """On SQLite, run the test on a file copy of the in-memory test database (tests/conftest.py: file_database)."""


def together(count: int, attempt: Callable[[int], str]) -> list[str]:
    """Run ``attempt(0..count-1)`` in ``count`` threads released at once; each closes its own connections."""
    barrier = threading.Barrier(count)

    def run(i: int) -> str:
        try:
            barrier.wait(timeout=30)
            return attempt(i)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=count) as pool:
        futures = [pool.submit(run, i) for i in range(count)]
        return [f.result(timeout=120) for f in futures]


def outcome(step: Callable[[], object]) -> str:
    try:
        step()
    except HomeCareError as error:
        return error.code
    except PermissionDenied:
        return "permission_denied"
    return "ok"


def december_window(i: int, hours: int = 4) -> tuple[dt.datetime, dt.datetime]:
    day = DECEMBER + dt.timedelta(days=i)
    return at(day, 9), at(day, 9 + hours)


def test_concurrent_bookings_of_the_last_subsidy_exactly_one_succeeds(world: World, shared_db: None) -> None:
    prices = {item: standard.project(item, on=DECEMBER).price for item in RIVALS}
    last = max(prices.values())
    cheapest_two = sorted(prices.values())[:2]
    assert sum(cheapest_two) > last, "any one of the rivals must fit in what is left, and no two"
    # A meal already holds part of the month; what is left is exactly the dearest rival's price.
    meal = standard.project("hc-meals", on=DECEMBER).price
    EntitlementAccount.objects.filter(pk=world.account.pk).update(
        monthly_allowance=meal + last, items=sorted({*world.account.items, *RIVALS})
    )
    start, end = december_window(20)
    first, _ = order_book(
        actor=world.family,
        person=world.elder,
        item="hc-meals",
        window_start=start,
        window_end=end,
        idempotency_key="meal",
        now=NOW,
    )

    def book(i: int) -> str:
        start, end = december_window(i)
        return outcome(
            lambda: order_book(
                actor=world.family if i % 2 else world.officer,
                person=world.elder,
                item=RIVALS[i % len(RIVALS)],
                window_start=start,
                window_end=end,
                idempotency_key=f"rival-{i}",
                now=NOW,
            )
        )

    results = together(THREADS, book)

    assert Counter(results) == {"ok": 1, "insufficient_subsidy": THREADS - 1}, results
    winner = Order.objects.exclude(pk=first.pk).get()
    assert winner.idempotency_key == f"rival-{results.index('ok')}"
    month = AccountMonth.objects.get(account=world.account, month=DECEMBER)
    assert (month.held, month.spent) == (meal + winner.subsidy, 0)
    assert winner.subsidy == prices[winner.item]
    assert AuditLog.objects.filter(event="homecare.order_booked").count() == 2


def test_the_same_key_from_concurrent_retries_books_once(world: World, shared_db: None) -> None:
    start, end = december_window(3)
    created: list[bool] = []
    orders: list[int] = []

    def retry(i: int) -> str:
        order, made = order_book(
            actor=world.family,
            person=world.elder,
            item="hc-bathing",
            window_start=start,
            window_end=end,
            idempotency_key="double-tap",
            now=NOW,
        )
        created.append(made)
        orders.append(order.pk)
        return "ok"

    assert together(THREADS, retry) == ["ok"] * THREADS
    assert Counter(created) == {True: 1, False: THREADS - 1}
    order = Order.objects.get()
    assert set(orders) == {order.pk}
    month = AccountMonth.objects.get(account=world.account, month=DECEMBER)
    assert month.held == order.subsidy == standard.project("hc-bathing", on=DECEMBER).price
    assert AuditLog.objects.filter(event="homecare.order_booked").count() == 1


def test_concurrent_bookings_keep_the_monthly_limit(world: World, shared_db: None) -> None:
    project = standard.project("hc-bathing", on=DECEMBER)
    limit = project.monthly_limit
    assert limit is not None
    assert limit < THREADS
    # Money enough for every thread: only the limit may stop them.
    EntitlementAccount.objects.filter(pk=world.account.pk).update(monthly_allowance=project.price * THREADS)

    def book(i: int) -> str:
        start, end = december_window(i)
        return outcome(
            lambda: order_book(
                actor=world.family,
                person=world.elder,
                item="hc-bathing",
                window_start=start,
                window_end=end,
                idempotency_key=f"bath-{i}",
                now=NOW,
            )
        )

    results = together(THREADS, book)

    assert Counter(results) == {"ok": limit, "monthly_limit": THREADS - limit}, results
    assert Order.objects.filter(item="hc-bathing").count() == limit
    month = AccountMonth.objects.get(account=world.account, month=DECEMBER)
    assert month.held == project.price * limit


def test_an_order_is_cancelled_and_its_hold_released_once(world: World, shared_db: None) -> None:
    start, end = december_window(5)
    order, _ = order_book(
        actor=world.family,
        person=world.elder,
        item="hc-bathing",
        window_start=start,
        window_end=end,
        idempotency_key="cancel-race",
        now=NOW,
    )
    order_accept(actor=world.provider_admin, order=order, now=NOW)
    actors = [world.family, world.officer, world.provider_admin, world.family]

    def cancel(i: int) -> str:
        return outcome(lambda: order_cancel(actor=actors[i], order=order, reason=f"取消 {i}", now=NOW))

    results = together(len(actors), cancel)

    assert Counter(results) == {"ok": 1, "wrong_state": len(actors) - 1}, results
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    month = AccountMonth.objects.get(pk=order.account_month_id)
    assert (month.held, month.spent) == (Decimal(0), Decimal(0))
    assert AuditLog.objects.filter(event="homecare.order_cancelled").count() == 1
