"""Monthly settlement, its statement (Excel, PDF) and the reconciliation to the fen, on a realistic month."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from fuwu.accounts.models import Department, Role, User
from fuwu.areas.models import Area
from fuwu.common.models import AuditLog
from fuwu.homecare.complaints import complaint_lodge, complaint_resolve
from fuwu.homecare.door import Position, order_check_in, order_check_out, order_no_show
from fuwu.homecare.exports import settlement_pdf, settlement_xlsx
from fuwu.homecare.models import (
    AccountMonth,
    EntitlementAccount,
    Order,
    OrderStatus,
    Settlement,
    SettlementLine,
    SettlementStatus,
)
from fuwu.homecare.services import (
    HomeCareError,
    order_accept,
    order_book,
    order_cancel,
    order_confirm,
    order_rate,
    order_schedule,
)
from fuwu.homecare.settlement import (
    NO_SHOW_REASON,
    UPHELD_REASON,
    reconcile,
    settlement_confirm,
    settlement_generate,
    settlement_report,
)
from fuwu.residents.models import Person
from tests.homecare.conftest import ELDER_HOME, TODAY, VILLAGE, World, at, make_user, open_account, with_partner
from tests.residents.factories import PersonFactory

MONTH = dt.date(2026, 12, 1)
BOOKED = at(TODAY, 8)
AFTER = at(dt.date(2027, 1, 5), 10)  # the month is over: settle it


def book(
    world: World, person: Person, item: str, day: dt.date, hour: int, key: str, now: dt.datetime = BOOKED
) -> Order:
    order, created = order_book(
        actor=world.officer,
        person=person,
        item=item,
        window_start=at(day, hour),
        window_end=at(day, hour + 3),
        idempotency_key=key,
        now=min(now, at(day, 0)),
    )
    assert created
    return order


def schedule(world: World, order: Order, day: dt.date, hour: int) -> Order:
    order_accept(actor=world.provider_admin, order=order, now=BOOKED)
    return order_schedule(
        actor=world.provider_admin, order=order, caregiver=world.caregiver, planned_start=at(day, hour)
    )


def home_of(order: Order) -> Position:
    account = EntitlementAccount.objects.get(pk=order.account_id)
    assert account.latitude is not None
    assert account.longitude is not None
    return Position(account.latitude, account.longitude)


def visit(
    world: World,
    order: Order,
    *,
    confirm: bool = True,
    late: int = 0,
    stay: int | None = None,
    leave_from: Position | None = None,
) -> Order:
    """Check in ``late`` minutes after the agreed time (the window's start; with the second caregiver when
    the project needs two), stay (the project's minutes and 5), check out (at home, or at ``leave_from`` with
    a reason; early with a reason), confirm."""
    local = timezone.localtime(order.window_start)
    schedule(world, order, local.date(), local.hour)
    start = order.window_start + dt.timedelta(minutes=late)
    if order.staff > 1:
        with_partner(world, order, arrive=start)
    order_check_in(actor=world.caregiver_user, order=order, at=home_of(order), now=start)
    end = start + dt.timedelta(minutes=order.minutes + 5 if stay is None else stay)
    order_check_out(
        actor=world.caregiver_user,
        order=order,
        at=leave_from or home_of(order),
        tasks_done=["完成"],
        reason="老人要求到楼下签退" if leave_from else "",
        short_reason="老人要求提前结束" if stay is not None and stay < order.minutes else "",
        now=end,
    )
    if confirm:
        order_confirm(actor=world.officer, order=order, now=end + dt.timedelta(minutes=1))
    order.refresh_from_db()
    return order


def elder(world: World, name: str, items: list[str], hukou_area: str = VILLAGE) -> Person:
    person = PersonFactory(name=name, birth_date=dt.date(1940, 1, 1), hukou_area=hukou_area, low_income_status="none")
    account = open_account(world.officer, person, amount=Decimal("200.00"), items=items)
    account.latitude, account.longitude, account.address = *ELDER_HOME, "海门街道"
    account.save()
    return person


@dataclass
class Month:
    a_bath: Order  # confirmed, rated
    a_clean: Order  # confirmed, complaint upheld: refunded
    a_meal_cancelled: Order
    a_meal_no_show: Order
    a_package: Order  # confirmed: self-paid
    b_bath: Order  # confirmed
    b_clean: Order  # completed, not yet confirmed
    b_meal_held: Order  # accepted, not visited
    c_meals: list[Order]  # confirmed
    elder_b: Person
    elder_c: Person


def build_month(world: World) -> Month:
    """December 2026 for three elders of the same provider, through the services."""
    a = world.elder
    b = elder(world, "张三丰", ["hc-bathing", "hc-cleaning", "hc-meals"])
    c = elder(world, "欧阳修文", ["hc-meals"])
    d = lambda n: dt.date(2026, 12, n)  # noqa: E731 - a short date helper

    a_bath = visit(world, book(world, a, "hc-bathing", d(3), 9, "a-bath"))
    order_rate(actor=world.family, order=a_bath, stars=5, now=at(d(3), 18))
    a_clean = visit(world, book(world, a, "hc-cleaning", d(8), 9, "a-clean"))
    complaint = complaint_lodge(actor=world.family, order=a_clean, text="打扫不干净", now=at(d(8), 15))
    complaint_resolve(actor=world.officer, complaint=complaint, upheld=True, outcome="核实属实", now=at(d(9), 10))
    a_meal_cancelled = book(world, a, "hc-meals", d(10), 11, "a-meal-1")
    order_cancel(actor=world.family, order=a_meal_cancelled, reason="住院", now=at(d(9), 12))
    a_meal_no_show = book(world, a, "hc-meals", d(11), 11, "a-meal-2")
    schedule(world, a_meal_no_show, d(11), 11)
    order_no_show(actor=world.provider_admin, order=a_meal_no_show, reason="老人不在家", now=at(d(11), 12))
    a_package = visit(world, book(world, a, "hc-package-care", d(12), 9, "a-package"))

    b_bath = visit(world, book(world, b, "hc-bathing", d(4), 13, "b-bath"))
    b_clean = visit(world, book(world, b, "hc-cleaning", d(15), 9, "b-clean"), confirm=False)
    b_meal_held = book(world, b, "hc-meals", d(16), 11, "b-meal")
    order_accept(actor=world.provider_admin, order=b_meal_held, now=BOOKED)

    c_meals = [visit(world, book(world, c, "hc-meals", d(n), 11, f"c-meal-{n}")) for n in (17, 18, 21)]
    for order in (a_bath, a_clean, a_meal_cancelled, a_meal_no_show, b_meal_held):
        order.refresh_from_db()
    return Month(
        a_bath, a_clean, a_meal_cancelled, a_meal_no_show, a_package, b_bath, b_clean, b_meal_held, c_meals, b, c
    )


@pytest.fixture
def month(world: World) -> Month:
    return build_month(world)


def test_the_month_through_the_services_is_what_the_tests_assume(world: World, month: Month) -> None:
    assert month.a_clean.subsidy_refunded
    assert month.a_meal_no_show.status == OrderStatus.NO_SHOW
    assert month.b_clean.status == OrderStatus.COMPLETED
    assert month.b_clean.confirmed_at is None
    assert month.a_package.kind == "package"
    assert month.a_package.self_pay == Decimal("260")
    spent = dict(AccountMonth.objects.filter(month=MONTH).values_list("account__person_id", "spent"))
    assert spent == {world.elder.pk: Decimal("80.00"), month.elder_b.pk: Decimal("80.00"), month.elder_c.pk: 36}


def test_settlement_lines_and_totals(world: World, month: Month) -> None:
    settlement = settlement_generate(actor=world.officer, provider=world.provider, month=MONTH, now=AFTER)
    lines = {line.order_id: line for line in settlement.lines.all()}
    expected = {
        month.a_bath.pk: (Decimal("80.00"), Decimal("0.00"), ""),
        month.a_clean.pk: (Decimal("80.00"), Decimal("80.00"), UPHELD_REASON),
        month.a_meal_no_show.pk: (Decimal("0.00"), Decimal("0.00"), NO_SHOW_REASON),
        month.b_bath.pk: (Decimal("80.00"), Decimal("0.00"), ""),
        **{o.pk: (Decimal("12.00"), Decimal("0.00"), "") for o in month.c_meals},
    }
    assert {pk: (line.price, line.deduction, line.reason) for pk, line in lines.items()} == expected
    # Left out: the package (paid by the elder), the unconfirmed visit, the cancelled and the pending booking.
    for left_out in (month.a_package, month.b_clean, month.a_meal_cancelled, month.b_meal_held):
        assert left_out.pk not in lines
    assert (settlement.visits, settlement.gross, settlement.deductions, settlement.net) == (
        6,
        Decimal("276.00"),
        Decimal("80.00"),
        Decimal("196.00"),
    )
    assert settlement.elders_spent == Decimal("196.00")
    assert settlement.status == SettlementStatus.DRAFT
    report = settlement_report(settlement)
    assert (report.self_paid, report.self_paid_orders) == (Decimal("260.00"), 1)
    assert AuditLog.objects.filter(event="homecare.settlement_generated", object_id=str(settlement.pk)).exists()


def test_regenerating_a_draft_replaces_its_lines(world: World, month: Month) -> None:
    first = settlement_generate(actor=world.officer, provider=world.provider, month=MONTH, now=AFTER)
    order_confirm(actor=world.officer, order=month.b_clean, now=AFTER)
    again = settlement_generate(actor=world.officer, provider=world.provider, month=MONTH, now=AFTER)
    assert again.pk == first.pk
    assert SettlementLine.objects.filter(settlement=again).count() == 8
    assert SettlementLine.objects.filter(order=month.b_clean).get().price == Decimal("80.00")
    assert (again.gross, again.net) == (Decimal("356.00"), Decimal("276.00"))


def test_a_confirmed_settlement_cannot_change(world: World, month: Month) -> None:
    settlement = settlement_generate(actor=world.officer, provider=world.provider, month=MONTH, now=AFTER)
    settlement = settlement_confirm(actor=world.officer, settlement=settlement, now=AFTER)
    assert settlement.status == SettlementStatus.CONFIRMED
    order_confirm(actor=world.officer, order=month.b_clean, now=AFTER)
    with pytest.raises(HomeCareError) as refused:
        settlement_generate(actor=world.officer, provider=world.provider, month=MONTH, now=AFTER)
    assert refused.value.code == "settlement_confirmed"
    assert "已经确认" in str(refused.value)
    settlement.refresh_from_db()
    assert settlement.lines.count() == 7
    assert settlement.net == Decimal("196.00")
    with pytest.raises(HomeCareError):
        settlement_confirm(actor=world.officer, settlement=settlement, now=AFTER)


def test_confirming_waits_for_the_end_of_the_month(world: World, month: Month) -> None:
    settlement = settlement_generate(actor=world.officer, provider=world.provider, month=MONTH, now=at(MONTH, 12))
    with pytest.raises(HomeCareError) as refused:
        settlement_confirm(actor=world.officer, settlement=settlement, now=at(dt.date(2026, 12, 31), 23))
    assert refused.value.code == "month_not_over"


def test_a_stale_draft_must_be_regenerated_before_confirming(world: World, month: Month) -> None:
    settlement = settlement_generate(actor=world.officer, provider=world.provider, month=MONTH, now=AFTER)
    order_confirm(actor=world.officer, order=month.b_clean, now=AFTER)
    with pytest.raises(HomeCareError) as refused:
        settlement_confirm(actor=world.officer, settlement=settlement, now=AFTER)
    assert refused.value.code == "settlement_stale"
    settlement = settlement_generate(actor=world.officer, provider=world.provider, month=MONTH, now=AFTER)
    assert settlement_confirm(actor=world.officer, settlement=settlement, now=AFTER).status == "confirmed"


def test_a_month_not_yet_begun_is_refused(world: World) -> None:
    with pytest.raises(HomeCareError) as refused:
        settlement_generate(actor=world.officer, provider=world.provider, month=MONTH, now=at(TODAY, 9))
    assert refused.value.code == "future_month"
    assert not Settlement.objects.exists()


def officer_of(code: str) -> User:
    department = Department.objects.get(code="civil-affairs")
    return make_user(f"officer-{code}", Role.DEPARTMENT_OFFICER, Area.objects.get(code=code), department=department)


def actor_for(world: World, who: str) -> User:
    """A world user by name, or an auditor, or an officer of the other county (黄岩区)."""
    if who == "auditor":
        return make_user("auditor", Role.AUDITOR, None)
    if who == "other_officer":
        return officer_of("331003")
    return world.user(who)


@pytest.mark.parametrize("who", ["stranger", "family", "provider_admin", "caregiver_user", "auditor", "other_officer"])
def test_only_an_officer_of_a_served_area_settles(world: World, month: Month, who: str) -> None:
    actor = actor_for(world, who)
    with pytest.raises(PermissionDenied):
        settlement_generate(actor=actor, provider=world.provider, month=MONTH, now=AFTER)
    settlement = settlement_generate(actor=world.officer, provider=world.provider, month=MONTH, now=AFTER)
    with pytest.raises(PermissionDenied):
        settlement_confirm(actor=actor, settlement=settlement, now=AFTER)
    settlement.refresh_from_db()
    assert settlement.status == SettlementStatus.DRAFT


def test_a_city_officer_settles_a_county_provider(world: World, month: Month) -> None:
    city_officer = officer_of("331000")
    settlement = settlement_generate(actor=city_officer, provider=world.provider, month=MONTH, now=AFTER)
    assert settlement.net == Decimal("196.00")


# --- reconciliation --------------------------------------------------------------------------------


def test_reconciliation_matches_to_the_fen(world: World, month: Month) -> None:
    settlement_generate(actor=world.officer, provider=world.provider, month=MONTH, now=AFTER)
    result = reconcile(month=MONTH)
    assert result.ok, result
    assert result.ledger_spent == result.settled_net == result.orders_spent == Decimal("196.00")
    assert result.difference == Decimal("0.00")
    (provider,) = result.providers
    assert (provider.orders_spent, provider.settled_net, provider.ledger.spent) == (Decimal("196.00"),) * 3
    assert provider.orders == []


def test_a_corrupted_ledger_shows_as_a_one_fen_difference(world: World, month: Month) -> None:
    settlement_generate(actor=world.officer, provider=world.provider, month=MONTH, now=AFTER)
    AccountMonth.objects.filter(account__person=month.elder_b, month=MONTH).update(spent=F("spent") + Decimal("0.01"))
    result = reconcile(month=MONTH)
    assert not result.ok
    assert result.difference == Decimal("0.01")
    (wrong,) = result.ledger_differences
    assert wrong.account_id == month.elder_b.homecare_account.pk
    assert (wrong.ledger_spent, wrong.orders_spent, wrong.difference) == (
        Decimal("80.01"),
        Decimal("80.00"),
        Decimal("0.01"),
    )
    assert [o.order_id for o in wrong.orders] == [month.b_bath.pk]
    # The provider's orders still agree with its settlement: the fault is in the elder's ledger.
    (provider,) = result.providers
    assert provider.difference == Decimal("0.00")
    assert provider.orders == []
    assert provider.ledger_difference == Decimal("0.01")
    assert not provider.ok


def test_a_visit_confirmed_after_the_settlement_is_named(world: World, month: Month) -> None:
    settlement_generate(actor=world.officer, provider=world.provider, month=MONTH, now=AFTER)
    order_confirm(actor=world.officer, order=month.b_clean, now=AFTER)
    result = reconcile(month=MONTH)
    (provider,) = result.providers
    assert provider.difference == Decimal("80.00")
    assert [(o.order_id, o.spent, o.settled) for o in provider.orders] == [
        (month.b_clean.pk, Decimal("80.00"), Decimal("0.00"))
    ]
    assert result.difference == Decimal("80.00")
    assert result.ledger_differences == []


def test_a_month_without_settlements_is_unreconciled(world: World, month: Month) -> None:
    result = reconcile(month=MONTH)
    assert result.difference == Decimal("196.00")
    assert result.providers[0].settlement is None
    assert len(result.providers[0].orders) == 5


# --- the statement: Excel and PDF ----------------------------------------------------------------


def test_excel_statement_opens_and_adds_up(world: World, month: Month) -> None:
    settlement = settlement_generate(actor=world.officer, provider=world.provider, month=MONTH, now=AFTER)
    book = load_workbook(io.BytesIO(settlement_xlsx(settlement_report(settlement))))
    sheet = book.active
    assert sheet is not None
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    head = {row[0]: row[1] for row in values[:10] if row[0]}
    assert head["服务机构"] == world.provider.name
    assert head["结算月份"] == "2026-12"
    assert head["应付净额（元）"] == Decimal("196.00") or head["应付净额（元）"] == 196
    header_at = next(i for i, row in enumerate(values) if row[0] == "服务日期")
    lines = values[header_at + 1 : -1]
    totals = values[-1]
    assert len(lines) == 7
    assert totals[0] == "合计"
    assert sum(Decimal(str(r[3])) for r in lines) == Decimal(str(totals[3])) == Decimal("276")
    assert sum(Decimal(str(r[4])) for r in lines) == Decimal(str(totals[4])) == Decimal("80")
    assert all(isinstance(r[3], int | float) and isinstance(r[4], int | float) for r in lines)
    assert all(isinstance(r[0], dt.datetime) for r in lines)
    first_line = sheet.cell(row=header_at + 2, column=4)
    assert first_line.number_format == "#,##0.00"
    elders = {r[1] for r in lines}
    assert elders == {world.elder.name[0] + "*", "张*", "欧阳*"}
    assert {r[5] for r in lines} == {UPHELD_REASON, NO_SHOW_REASON, None}
    cells = " ".join(str(v) for row in values for v in row if v is not None)
    assert "张三丰" not in cells
    assert world.elder.name not in cells


def test_pdf_statement_names_the_provider(world: World, month: Month) -> None:
    settlement = settlement_generate(actor=world.officer, provider=world.provider, month=MONTH, now=AFTER)
    pdf = settlement_pdf(settlement_report(settlement))
    assert pdf.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert world.provider.name in text
    assert "196.00" in text
    assert "张*" in text
    assert "张三丰" not in text
