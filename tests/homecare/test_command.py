"""``fuwu homecare flag-overdue|plan|open-accounts``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from fuwu.homecare.models import EntitlementAccount, Order, OrderStatus
from fuwu.homecare.services import order_accept, order_book
from tests.homecare.conftest import TODAY, VILLAGE, World, at, open_account, registry_run, second_caregiver
from tests.residents.factories import PersonFactory


def run(*args: Any) -> str:
    out = StringIO()
    call_command("homecare", *[str(a) for a in args], stdout=out)
    return out.getvalue()


# --- flag-overdue ----------------------------------------------------------------------------------


def test_flag_overdue_as_of_a_moment(world: World) -> None:
    order, _ = order_book(
        actor=world.family,
        person=world.elder,
        item="hc-bathing",
        window_start=at(TODAY + dt.timedelta(days=2), 9),
        window_end=at(TODAY + dt.timedelta(days=2), 12),
        idempotency_key="bath-1",
        now=at(TODAY, 10),
    )
    before = timezone.localtime(order.respond_by) - dt.timedelta(minutes=1)
    assert run("flag-overdue", "--now", before.isoformat()) == "0 order(s) newly flagged overdue\n"
    # A naive moment is read in Asia/Shanghai.
    after = timezone.localtime(order.respond_by + dt.timedelta(minutes=1)).replace(tzinfo=None)
    assert run("flag-overdue", "--now", after.isoformat()) == "1 order(s) newly flagged overdue\n"
    order.refresh_from_db()
    assert order.overdue_flagged_at == timezone.make_aware(after)
    assert run("flag-overdue", "--now", after.isoformat()) == "0 order(s) newly flagged overdue\n"


def test_flag_overdue_refuses_a_bad_moment(world: World) -> None:
    with pytest.raises(CommandError, match="'yesterday' is not an ISO date-time"):
        run("flag-overdue", "--now", "yesterday")


# --- plan ------------------------------------------------------------------------------------------


def test_plan_a_day_prints_who_was_left_out_and_why(world: World) -> None:
    day = timezone.localdate() + dt.timedelta(days=2)  # dispatch_day plans from the real clock
    bath, _ = order_book(
        actor=world.family,
        person=world.elder,
        item="hc-bathing",
        window_start=at(day, 9),
        window_end=at(day, 12),
        idempotency_key="bath-1",
    )
    unlocated = PersonFactory(birth_date=dt.date(1940, 1, 1), hukou_area=VILLAGE, care_need="moderate")
    open_account(world.officer, unlocated, amount=Decimal("200.00"), items=["hc-cleaning"])
    cleaning, _ = order_book(
        actor=world.officer,
        person=unlocated,
        item="hc-cleaning",
        window_start=at(day, 13),
        window_end=at(day, 16),
        idempotency_key="clean-1",
    )
    for order in (bath, cleaning):
        order_accept(actor=world.provider_admin, order=order)
    partner = second_caregiver(world)  # the bath needs two
    output = run("plan", "--provider", world.provider.pk, "--day", day, "--time-limit", "1")
    assert f"{world.provider.name} {day}: 1 of 2 visit(s) assigned" in output
    assert f"order {cleaning.pk} unassigned: 老人住址尚未定位" in output
    bath.refresh_from_db()
    assert bath.status == OrderStatus.SCHEDULED
    assert {bath.caregiver, *(p.caregiver for p in bath.partners.all())} == {world.caregiver, partner}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--provider", 999, "--day", "2099-01-05"], r"--provider 999: no such provider; active providers: \d+ 椒江"),
        (["--provider", "{provider}", "--day", "2026-02-30"], "'2026-02-30' is not a date"),
        (["--provider", "{provider}", "--day", "2099-01-05", "--time-limit", "0"], "'0' is not a positive number"),
        (["--provider", "{provider}", "--day", "2020-01-06"], "不能为已经过去的日期派单"),
    ],
    ids=["unknown-provider", "bad-day", "bad-time-limit", "past-day"],
)
def test_plan_refuses_bad_arguments(world: World, args: list[Any], message: str) -> None:
    args = [str(world.provider.pk) if a == "{provider}" else a for a in args]
    with pytest.raises(CommandError, match=message):
        run("plan", *args)
    assert not Order.objects.exists()


# --- open-accounts ---------------------------------------------------------------------------------


def test_open_accounts_from_a_run_as_an_officer(world: World) -> None:
    here = PersonFactory(birth_date=dt.date(1940, 1, 1), hukou_area=VILLAGE)
    elsewhere = PersonFactory(birth_date=dt.date(1940, 1, 1), hukou_area="331003001901")
    screening = registry_run(here, elsewhere, world.elder)
    output = run("open-accounts", "--run", screening.pk, "--officer", "officer")
    assert output.splitlines() == [
        f"run {screening.pk}: 1 opened, 1 updated, 0 unchanged, 1 skipped",
        "  skipped 1: 不在本人辖区",
    ]
    account = EntitlementAccount.objects.get(person=here)
    assert (account.monthly_allowance, account.items) == (Decimal("300.00"), ["hc-meals"])
    world.account.refresh_from_db()
    assert world.account.items == ["hc-meals"]
    assert not EntitlementAccount.objects.filter(person=elsewhere).exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--run", 999, "--officer", "officer"], "--run 999: no such screening run; screen the registry first"),
        (["--run", "{run}", "--officer", "nobody"], "--officer 'nobody': no such user"),
        (["--run", "{run}", "--officer", "family"], "--officer 'family' may not open accounts"),
        (["--run", "{run}", "--officer", "provider"], "--officer 'provider' may not open accounts"),
    ],
    ids=["unknown-run", "unknown-user", "resident", "provider-admin"],
)
def test_open_accounts_refuses_bad_arguments(world: World, args: list[Any], message: str) -> None:
    here = PersonFactory(birth_date=dt.date(1940, 1, 1), hukou_area=VILLAGE)
    screening = registry_run(here)
    args = [str(screening.pk) if a == "{run}" else a for a in args]
    with pytest.raises(CommandError, match=message):
        run("open-accounts", *args)
    assert not EntitlementAccount.objects.filter(person=here).exists()


def test_open_accounts_refuses_a_run_of_a_synthetic_population(world: World) -> None:
    screening = registry_run(PersonFactory(hukou_area=VILLAGE), population="population.parquet")
    with pytest.raises(CommandError, match="只有对户籍登记人员的筛查才能开通服务账户"):
        run("open-accounts", "--run", screening.pk, "--officer", "officer")
