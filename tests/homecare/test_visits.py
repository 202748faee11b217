"""The standard's visit rules bind, through the services: the window for checking in, the flags, and the money.

Each "seen" of issue 8 is a test here that failed before the rules bound: a bath booked for 09:00–12:00 the next
day was checked in 31 hours early, checked out in the same minute, offered for confirmation and paid 80 yuan.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from openpyxl import load_workbook
from pypdf import PdfReader

from fuwu.accounts.models import Role
from fuwu.common.models import AuditLog
from fuwu.homecare import visits
from fuwu.homecare.accounts import account_set_home, location_proposal_accept, location_proposal_dismiss
from fuwu.homecare.complaints import complaint_lodge, complaint_resolve
from fuwu.homecare.door import Position, order_check_in, order_check_out, order_partner_check_in
from fuwu.homecare.exports import settlement_pdf, settlement_xlsx
from fuwu.homecare.models import (
    AccountMonth,
    EntitlementAccount,
    LocationProposal,
    LocationSource,
    Order,
    OrderStatus,
    ProposalStatus,
    ReviewStatus,
)
from fuwu.homecare.reviews import visit_review
from fuwu.homecare.services import (
    HomeCareError,
    order_accept,
    order_book,
    order_confirm,
    order_partner_assign,
    order_schedule,
)
from fuwu.homecare.settlement import reconcile, settlement_confirm, settlement_generate, settlement_report
from tests.homecare.conftest import ELDER_HOME, TODAY, World, at, make_user, second_caregiver, with_partner

DAY = TODAY + dt.timedelta(days=1)  # "the next day"
HOME = Position(*ELDER_HOME)
TYPED = Position(*ELDER_HOME, typed=True)
AFTER_THE_MONTH = at(dt.date(2026, 12, 2), 10)


def booked(world: World, item: str = "hc-bathing", *, hour: int = 9, key: str = "visit-1") -> Order:
    order, _ = order_book(
        actor=world.family,
        person=world.elder,
        item=item,
        window_start=at(DAY, hour),
        window_end=at(DAY, hour + 3),
        idempotency_key=key,
        now=at(TODAY, 8),
    )
    order_accept(actor=world.provider_admin, order=order, now=at(TODAY, 9))
    return order_schedule(
        actor=world.provider_admin, order=order, caregiver=world.caregiver, planned_start=at(DAY, hour)
    )


def month_of(order: Order) -> tuple[Decimal, Decimal]:
    month = AccountMonth.objects.get(pk=order.account_month_id)
    return month.held, month.spent


# --- when a caregiver may check in ------------------------------------------------------------------


def test_a_check_in_31_hours_early_is_refused(world: World) -> None:
    # Seen: a bath booked for 09:00–12:00 the next day was checked in 31 hours early, and it was accepted.
    order = booked(world)
    with_partner(world, order, arrive=None)
    with pytest.raises(HomeCareError) as refused:
        order_check_in(actor=world.caregiver_user, order=order, at=HOME, now=at(DAY, 9) - dt.timedelta(hours=31))
    assert refused.value.code == "outside_checkin_window"
    assert "08:00 至 10:00" in str(refused.value)
    order.refresh_from_db()
    assert (order.status, order.checkin_at) == (OrderStatus.SCHEDULED, None)


@pytest.mark.parametrize(
    ("minutes", "accepted"),
    [(-61, False), (-60, True), (60, True), (61, False)],
    ids=["an hour and a minute early", "an hour early", "an hour late", "an hour and a minute late"],
)
def test_the_check_in_window_comes_from_the_standard(world: World, minutes: int, accepted: bool) -> None:
    rules = visits.rules_on(DAY)
    assert (rules.open_before, rules.close_after, rules.tolerance) == (60, 60, 15)
    order = booked(world, "hc-cleaning")
    when = at(DAY, 9) + dt.timedelta(minutes=minutes)
    if accepted:
        order_check_in(actor=world.caregiver_user, order=order, at=HOME, now=when)
        order.refresh_from_db()
        assert order.flags == [{"flag": "early" if minutes < 0 else "late", "minutes": 60, "who": "李护理员"}]
    else:
        with pytest.raises(HomeCareError) as refused:
            order_check_in(actor=world.caregiver_user, order=order, at=HOME, now=when)
        assert refused.value.code == "outside_checkin_window"
        assert ("请到时再签到" if minutes < 0 else "重新约定上门时间") in str(refused.value)


@pytest.mark.parametrize("minutes", [-15, 0, 15])
def test_within_the_tolerance_is_on_time(world: World, minutes: int) -> None:
    order = booked(world, "hc-cleaning")
    order_check_in(actor=world.caregiver_user, order=order, at=HOME, now=at(DAY, 9) + dt.timedelta(minutes=minutes))
    order.refresh_from_db()
    assert order.flags == []
    assert order.started_at == order.checkin_at


# --- short visits ---------------------------------------------------------------------------------


def test_checking_out_in_the_same_minute_needs_a_reason_and_is_paid_for_what_was_served(world: World) -> None:
    # Seen: checked out in the same minute as the check-in; accepted, and paid 80 yuan in full.
    order = booked(world)
    with_partner(world, order, arrive=at(DAY, 9))
    order_check_in(actor=world.caregiver_user, order=order, at=HOME, now=at(DAY, 9))
    with pytest.raises(HomeCareError) as refused:
        order_check_out(actor=world.caregiver_user, order=order, at=HOME, tasks_done=["洗浴"], now=at(DAY, 9))
    assert refused.value.code == "short_reason_required"
    assert "0 分钟" in str(refused.value)
    assert "至少 60 分钟" in str(refused.value)
    assert "按实际服务时长占约定时长的比例结算" in str(refused.value)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.IN_SERVICE

    done = order_check_out(
        actor=world.caregiver_user,
        order=order,
        at=HOME,
        tasks_done=["洗浴"],
        short_reason="老人不愿洗",
        now=at(DAY, 9),
    )
    assert (done.status, done.visit_minutes, done.short_reason) == (OrderStatus.COMPLETED, 0, "老人不愿洗")
    assert done.flags == [{"flag": "short", "minutes": 0, "needed": 60}]
    assert (done.review, done.payable) == (ReviewStatus.NONE, Decimal("0.00"))
    order_confirm(actor=world.family, order=done, now=at(DAY, 9, 5))
    assert month_of(done) == (Decimal("0.00"), Decimal("0.00"))


@pytest.mark.parametrize(
    ("item", "served", "payable"),
    [
        ("hc-cleaning", 45, "30.00"),
        ("hc-bathing", 37, "49.33"),
        ("hc-cleaning", 119, "79.33"),
        ("hc-cleaning", 120, "80.00"),
    ],
)
def test_a_short_visit_is_paid_pro_rata_to_the_fen(world: World, item: str, served: int, payable: str) -> None:
    order = booked(world, item)
    if order.staff > 1:
        with_partner(world, order, arrive=at(DAY, 9))
    order_check_in(actor=world.caregiver_user, order=order, at=HOME, now=at(DAY, 9))
    done = order_check_out(
        actor=world.caregiver_user,
        order=order,
        at=HOME,
        tasks_done=["打扫"],
        short_reason="老人要去医院",
        now=at(DAY, 9) + dt.timedelta(minutes=served, seconds=59),  # a part-minute does not count
    )
    assert done.visit_minutes == served
    assert done.payable == Decimal(payable)
    assert bool(done.flags) is (served < done.minutes)
    assert done.short_reason == ("老人要去医院" if served < done.minutes else "")
    order_confirm(actor=world.family, order=done, now=at(DAY, 12))
    assert month_of(done) == (Decimal("0.00"), Decimal(payable))


def test_the_settlement_deducts_a_short_visit_with_its_reason_and_still_reconciles(world: World) -> None:
    order = booked(world, "hc-cleaning")
    order_check_in(actor=world.caregiver_user, order=order, at=HOME, now=at(DAY, 9, 2))
    order_check_out(
        actor=world.caregiver_user,
        order=order,
        at=HOME,
        tasks_done=["打扫客厅"],
        short_reason="老人身体不适",
        now=at(DAY, 9, 47),
    )
    order_confirm(actor=world.family, order=order, now=at(DAY, 10))
    settlement = settlement_generate(actor=world.officer, provider=world.provider, month=DAY, now=AFTER_THE_MONTH)
    (line,) = settlement.lines.all()
    assert (line.price, line.deduction) == (Decimal("80.00"), Decimal("50.00"))
    assert "实际服务 45 分钟，少于约定的至少 120 分钟" in line.reason
    assert "按实际服务时长比例结算" in line.reason
    assert (settlement.gross, settlement.deductions, settlement.net) == (
        Decimal("80.00"),
        Decimal("50.00"),
        Decimal("30.00"),
    )
    assert settlement.elders_spent == Decimal("30.00")
    assert reconcile(month=DAY).ok
    settlement_confirm(actor=world.officer, settlement=settlement, now=AFTER_THE_MONTH)


# --- held for the officer's review ------------------------------------------------------------------


def late_visit(world: World) -> Order:
    """A cleaning the caregiver came to 40 minutes late, then served in full, and the family confirmed."""
    order = booked(world, "hc-cleaning")
    order_check_in(actor=world.caregiver_user, order=order, at=HOME, now=at(DAY, 9, 40))
    order_check_out(actor=world.caregiver_user, order=order, at=HOME, tasks_done=["打扫"], now=at(DAY, 11, 45))
    order_confirm(actor=world.family, order=order, now=at(DAY, 11, 50))
    order.refresh_from_db()
    return order


def test_a_late_visit_is_held_until_the_officer_decides(world: World) -> None:
    order = late_visit(world)
    assert order.flags == [{"flag": "late", "minutes": 40, "who": "李护理员"}]
    assert (order.review, order.payable) == (ReviewStatus.PENDING, None)
    assert month_of(order) == (Decimal("80.00"), Decimal("0.00"))  # confirmed, but nothing spent yet

    held = settlement_generate(actor=world.officer, provider=world.provider, month=DAY, now=AFTER_THE_MONTH)
    (line,) = held.lines.all()
    assert (line.price, line.deduction) == (Decimal("80.00"), Decimal("80.00"))
    assert line.reason == "待核查，暂不结算：李护理员签到比约定时间晚 40 分钟"
    assert reconcile(month=DAY).ok
    with pytest.raises(HomeCareError) as refused:
        settlement_confirm(actor=world.officer, settlement=held, now=AFTER_THE_MONTH)
    assert refused.value.code == "reviews_pending"

    visit_review(
        actor=world.officer, order=order, decision="reduced", amount=Decimal("50"), note="回访老人，迟到影响午饭"
    )
    order.refresh_from_db()
    assert (order.review, order.payable, order.reviewed_by) == (ReviewStatus.REDUCED, Decimal("50.00"), world.officer)
    assert month_of(order) == (Decimal("0.00"), Decimal("50.00"))
    row = AuditLog.objects.get(event="homecare.visit_reviewed", object_id=str(order.pk))
    assert (row.actor, row.note) == (world.officer, "回访老人，迟到影响午饭")
    assert row.after is not None
    assert (row.after["review"], row.after["spent"]) == ("reduced", "50.00")

    again = settlement_generate(actor=world.officer, provider=world.provider, month=DAY, now=AFTER_THE_MONTH)
    (line,) = again.lines.all()
    assert (line.deduction, again.net) == (Decimal("30.00"), Decimal("50.00"))
    assert line.reason == "核查后减额结算（回访老人，迟到影响午饭）：李护理员签到比约定时间晚 40 分钟"
    assert reconcile(month=DAY).ok
    settlement_confirm(actor=world.officer, settlement=again, now=AFTER_THE_MONTH)


@pytest.mark.parametrize(("decision", "spent"), [("full", "80.00"), ("refused", "0.00")])
def test_the_officer_approves_in_full_or_refuses(world: World, decision: str, spent: str) -> None:
    order = late_visit(world)
    visit_review(actor=world.officer, order=order, decision=decision, note="电话核实")
    assert month_of(order) == (Decimal("0.00"), Decimal(spent))


def test_a_review_before_the_confirmation_is_spent_when_the_family_confirms(world: World) -> None:
    order = booked(world, "hc-cleaning")
    order_check_in(actor=world.caregiver_user, order=order, at=HOME, now=at(DAY, 8, 30))
    order_check_out(actor=world.caregiver_user, order=order, at=HOME, tasks_done=["打扫"], now=at(DAY, 10, 40))
    visit_review(actor=world.officer, order=order, decision="full", note="老人要求提前来")
    assert month_of(order) == (Decimal("80.00"), Decimal("0.00"))
    order_confirm(actor=world.family, order=order, now=at(DAY, 11))
    assert month_of(order) == (Decimal("0.00"), Decimal("80.00"))


@pytest.mark.parametrize(
    ("decision", "amount", "note", "code"),
    [
        ("reduced", None, "核实", "bad_amount"),
        ("reduced", Decimal("80"), "核实", "bad_amount"),
        ("reduced", Decimal("0"), "核实", "bad_amount"),
        ("reduced", Decimal("10.005"), "核实", "bad_amount"),
        ("full", None, "  ", "note_required"),
        ("approve", None, "核实", "bad_decision"),
    ],
)
def test_a_review_needs_a_decision_an_amount_and_a_note(
    world: World, decision: str, amount: Decimal | None, note: str, code: str
) -> None:
    order = late_visit(world)
    with pytest.raises(HomeCareError) as refused:
        visit_review(actor=world.officer, order=order, decision=decision, amount=amount, note=note)
    assert refused.value.code == code
    order.refresh_from_db()
    assert order.review == ReviewStatus.PENDING


@pytest.mark.parametrize("who", ["family", "provider_admin", "caregiver_user", "stranger"])
def test_only_the_elders_officer_reviews(world: World, who: str) -> None:
    order = late_visit(world)
    with pytest.raises(PermissionDenied):
        visit_review(actor=world.user(who), order=order, decision="full", note="核实")


def test_a_visit_is_reviewed_once(world: World) -> None:
    order = late_visit(world)
    visit_review(actor=world.officer, order=order, decision="full", note="核实")
    with pytest.raises(HomeCareError) as refused:
        visit_review(actor=world.officer, order=order, decision="refused", note="再查")
    assert refused.value.code == "wrong_state"


def test_an_upheld_complaint_gives_back_what_a_short_visit_spent(world: World) -> None:
    order = booked(world, "hc-cleaning")
    order_check_in(actor=world.caregiver_user, order=order, at=HOME, now=at(DAY, 9))
    order_check_out(
        actor=world.caregiver_user, order=order, at=HOME, tasks_done=["打扫"], short_reason="停电", now=at(DAY, 10)
    )
    order_confirm(actor=world.family, order=order, now=at(DAY, 10, 5))
    assert month_of(order) == (Decimal("0.00"), Decimal("40.00"))
    complaint = complaint_lodge(actor=world.family, order=order, text="只打扫了一半", now=at(DAY, 12))
    complaint_resolve(actor=world.officer, complaint=complaint, upheld=True, outcome="属实", now=at(DAY, 15))
    assert month_of(order) == (Decimal("0.00"), Decimal("0.00"))


def test_an_upheld_complaint_on_a_held_visit_releases_the_hold(world: World) -> None:
    order = late_visit(world)
    complaint = complaint_lodge(actor=world.family, order=order, text="迟到", now=at(DAY, 12))
    complaint_resolve(actor=world.officer, complaint=complaint, upheld=True, outcome="属实", now=at(DAY, 15))
    assert month_of(order) == (Decimal("0.00"), Decimal("0.00"))
    # The review that follows decides nothing more about money: the complaint gave it all back.
    visit_review(actor=world.officer, order=order, decision="full", note="投诉已退回")
    assert month_of(order) == (Decimal("0.00"), Decimal("0.00"))


# --- where the caregiver is -------------------------------------------------------------------------


def test_typed_coordinates_need_a_reason_and_hold_the_visit(world: World) -> None:
    order = booked(world, "hc-cleaning")
    with pytest.raises(HomeCareError) as refused:
        order_check_in(actor=world.caregiver_user, order=order, at=TYPED, now=at(DAY, 9))
    assert refused.value.code == "reason_required"
    assert "手动填写" in str(refused.value)
    order_check_in(actor=world.caregiver_user, order=order, at=TYPED, reason="手机定位失败", now=at(DAY, 9))
    order.refresh_from_db()
    assert (order.checkin_typed, order.checkin_flagged, order.checkin_reason) == (True, False, "手机定位失败")
    assert order.flags == [{"flag": "typed_location", "step": "checkin", "who": "李护理员"}]
    done = order_check_out(actor=world.caregiver_user, order=order, at=HOME, tasks_done=["打扫"], now=at(DAY, 11, 5))
    assert (done.review, done.payable) == (ReviewStatus.PENDING, None)
    assert visits.flags_text(done) == ["李护理员签到的位置是手动填写的，不是手机定位"]


def test_a_check_out_far_from_home_is_held(world: World) -> None:
    order = booked(world, "hc-cleaning")
    order_check_in(actor=world.caregiver_user, order=order, at=HOME, now=at(DAY, 9))
    away = Position(ELDER_HOME[0] + Decimal("0.01"), ELDER_HOME[1])
    done = order_check_out(
        actor=world.caregiver_user, order=order, at=away, tasks_done=["打扫"], reason="在楼下签退", now=at(DAY, 11, 5)
    )
    assert done.flags == [
        {"flag": "out_of_range", "step": "checkout", "metres": 1112, "radius": 500, "who": "李护理员"}
    ]
    assert done.review == ReviewStatus.PENDING


# --- two caregivers -----------------------------------------------------------------------------------


def test_a_bath_starts_when_both_caregivers_are_in(world: World) -> None:
    order = booked(world)
    partner = second_caregiver(world)
    assert partner.user is not None
    order_partner_assign(actor=world.provider_admin, order=order, caregiver=partner)
    order_partner_check_in(actor=partner.user, order=order, at=HOME, now=at(DAY, 8, 58))
    order.refresh_from_db()
    assert (order.status, order.started_at) == (OrderStatus.SCHEDULED, None)  # waiting for the lead
    order_check_in(actor=world.caregiver_user, order=order, at=HOME, now=at(DAY, 9, 3))
    order.refresh_from_db()
    assert (order.status, order.started_at) == (OrderStatus.IN_SERVICE, at(DAY, 9, 3))
    done = order_check_out(actor=world.caregiver_user, order=order, at=HOME, tasks_done=["洗浴"], now=at(DAY, 10, 5))
    assert (done.visit_minutes, done.flags, done.payable) == (62, [], Decimal("80.00"))
    assert AuditLog.objects.filter(event="homecare.partner_checked_in", object_id=str(order.pk)).exists()


def test_a_bath_with_one_caregiver_is_held_and_timed_from_the_lead(world: World) -> None:
    order = booked(world)
    with_partner(world, order, arrive=None)
    order_check_in(actor=world.caregiver_user, order=order, at=HOME, now=at(DAY, 9))
    order.refresh_from_db()
    assert order.started_at is None
    done = order_check_out(actor=world.caregiver_user, order=order, at=HOME, tasks_done=["洗浴"], now=at(DAY, 10, 5))
    assert done.flags == [{"flag": "staff_missing", "needed": 2, "present": 1}]
    assert (done.started_at, done.visit_minutes) == (at(DAY, 9), 65)
    assert (done.review, done.payable) == (ReviewStatus.PENDING, None)
    assert visits.flags_text(done) == ["这项服务需要 2 名护理员，只有 1 名签到"]


def test_a_late_partner_flags_the_bath_late_and_starts_it(world: World) -> None:
    order = booked(world)
    with_partner(world, order, arrive=None)
    partner = second_caregiver(world)
    assert partner.user is not None
    order_check_in(actor=world.caregiver_user, order=order, at=HOME, now=at(DAY, 9))
    order_partner_check_in(actor=partner.user, order=order, at=HOME, now=at(DAY, 9, 30))
    order.refresh_from_db()
    assert order.started_at == at(DAY, 9, 30)
    assert order.flags == [{"flag": "late", "minutes": 30, "who": "王护理员"}]
    with pytest.raises(HomeCareError) as refused:
        order_partner_check_in(actor=partner.user, order=order, at=HOME, now=at(DAY, 9, 31))
    assert refused.value.code == "wrong_state"


def test_only_the_planned_partner_checks_in_as_one(world: World) -> None:
    order = booked(world)
    with_partner(world, order, arrive=None)
    someone = make_user("caregiver9", Role.CAREGIVER, world.caregiver_user.area)
    for outsider in (world.caregiver_user, someone, world.provider_admin, world.family):
        with pytest.raises(PermissionDenied):
            order_partner_check_in(actor=outsider, order=order, at=HOME, now=at(DAY, 9))


def test_partners_are_qualified_of_the_provider_and_only_as_many_as_needed(world: World) -> None:
    order = booked(world)
    with pytest.raises(HomeCareError) as refused:
        order_partner_assign(actor=world.provider_admin, order=order, caregiver=world.caregiver)
    assert refused.value.code == "already_on_visit"
    partner = second_caregiver(world)
    partner.qualifications = []
    partner.save()
    with pytest.raises(HomeCareError) as refused:
        order_partner_assign(actor=world.provider_admin, order=order, caregiver=partner)
    assert refused.value.code == "caregiver_blocked"
    partner.qualifications = list(world.caregiver.qualifications)
    partner.save()
    order_partner_assign(actor=world.provider_admin, order=order, caregiver=partner)
    third = make_user("caregiver3", Role.CAREGIVER, world.caregiver_user.area)
    partner.pk, partner.user, partner.name = None, third, "第三人"
    partner.save()
    with pytest.raises(HomeCareError) as refused:
        order_partner_assign(actor=world.provider_admin, order=order, caregiver=partner)
    assert refused.value.code == "crew_complete"
    with pytest.raises(PermissionDenied):
        order_partner_assign(actor=world.officer, order=order, caregiver=partner)


def test_a_new_plan_takes_away_the_partners_who_have_not_come(world: World) -> None:
    order = booked(world)
    with_partner(world, order, arrive=None)
    order_schedule(actor=world.provider_admin, order=order, caregiver=world.caregiver, planned_start=at(DAY, 10))
    assert not order.partners.exists()


# --- the home's position -------------------------------------------------------------------------------


def test_a_located_check_in_proposes_the_home_and_the_officer_takes_it(world: World) -> None:
    order = booked(world, "hc-cleaning")
    here = Position(ELDER_HOME[0] + Decimal("0.001"), ELDER_HOME[1], accuracy_m=15)
    order_check_in(actor=world.caregiver_user, order=order, at=here, now=at(DAY, 9))
    proposal = LocationProposal.objects.get()
    assert (proposal.latitude, proposal.accuracy_m, proposal.distance_m, proposal.status) == (
        here.latitude,
        15,
        111,
        ProposalStatus.PENDING,
    )
    with pytest.raises(PermissionDenied):
        location_proposal_accept(actor=world.provider_admin, proposal=proposal)
    location_proposal_accept(actor=world.officer, proposal=proposal)
    account = EntitlementAccount.objects.get(pk=world.account.pk)
    assert (account.latitude, account.longitude, account.location_source) == (
        here.latitude,
        here.longitude,
        LocationSource.CHECKIN,
    )
    assert "李护理员" in account.location_note
    with pytest.raises(HomeCareError) as refused:
        location_proposal_dismiss(actor=world.officer, proposal=proposal)
    assert refused.value.code == "wrong_state"


def test_typed_check_ins_propose_nothing_and_a_dismissal_keeps_the_home(world: World) -> None:
    first = booked(world, "hc-cleaning")
    order_check_in(actor=world.caregiver_user, order=first, at=TYPED, reason="定位失败", now=at(DAY, 9))
    assert not LocationProposal.objects.exists()
    second = booked(world, "hc-meals", hour=13, key="visit-2")
    order_check_in(actor=world.caregiver_user, order=second, at=HOME, now=at(DAY, 13))
    proposal = LocationProposal.objects.get()
    location_proposal_dismiss(actor=world.officer, proposal=proposal)
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decided_by) == (ProposalStatus.DISMISSED, world.officer)
    assert EntitlementAccount.objects.get(pk=world.account.pk).latitude == ELDER_HOME[0]


def test_typed_home_coordinates_need_the_officers_note(world: World) -> None:
    with pytest.raises(HomeCareError) as refused:
        account_set_home(
            actor=world.officer,
            account=world.account,
            address="海门街道",
            latitude=Decimal("28.66"),
            longitude=Decimal("121.43"),
        )
    assert refused.value.code == "note_required"
    account_set_home(
        actor=world.officer,
        account=world.account,
        address="海门街道",
        latitude=Decimal("28.66"),
        longitude=Decimal("121.43"),
        note="手机地图应用长按读取",
    )
    account = EntitlementAccount.objects.get(pk=world.account.pk)
    assert (account.location_source, account.location_note) == (LocationSource.TYPED, "手机地图应用长按读取")
    with pytest.raises(HomeCareError) as refused:
        account_set_home(
            actor=world.officer,
            account=world.account,
            address="海门街道",
            latitude=Decimal("28.66"),
            longitude=Decimal("121.43"),
            source=LocationSource.CHECKIN,
        )
    assert refused.value.code == "bad_source"


def test_the_excel_and_pdf_settlement_carry_the_deductions_and_their_reasons(world: World) -> None:
    short = booked(world, "hc-cleaning")
    order_check_in(actor=world.caregiver_user, order=short, at=HOME, now=at(DAY, 9))
    order_check_out(
        actor=world.caregiver_user, order=short, at=HOME, tasks_done=["打扫"], short_reason="停电", now=at(DAY, 10)
    )
    order_confirm(actor=world.family, order=short, now=at(DAY, 10, 5))
    late = booked(world, "hc-meals", hour=13, key="visit-2")
    order_check_in(actor=world.caregiver_user, order=late, at=HOME, now=at(DAY, 13, 30))
    order_check_out(actor=world.caregiver_user, order=late, at=HOME, tasks_done=["送餐"], now=at(DAY, 13, 50))
    order_confirm(actor=world.family, order=late, now=at(DAY, 13, 55))
    settlement = settlement_generate(actor=world.officer, provider=world.provider, month=DAY, now=AFTER_THE_MONTH)
    report = settlement_report(settlement)
    assert report.held == 1
    sheet = load_workbook(io.BytesIO(settlement_xlsx(report))).active
    assert sheet is not None
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    head = {row[0]: row[1] for row in values[:12] if row[0]}
    assert head["其中暂缓结算、待核查（次）"] == 1
    header_at = next(i for i, row in enumerate(values) if row[0] == "服务日期")
    lines = {row[2]: row for row in values[header_at + 1 : -1]}
    assert (lines["助洁服务"][3], lines["助洁服务"][4]) == (80, 40)
    assert lines["助洁服务"][5] == "实际服务 60 分钟，少于约定的至少 120 分钟，按实际服务时长比例结算"
    assert (lines["助餐服务"][3], lines["助餐服务"][4]) == (12, 12)
    assert lines["助餐服务"][5] == "待核查，暂不结算：李护理员签到比约定时间晚 30 分钟"
    assert (values[-1][3], values[-1][4]) == (92, 52)
    pages = PdfReader(io.BytesIO(settlement_pdf(report))).pages
    text = "".join(page.extract_text() for page in pages).replace("\n", "")  # cells wrap their lines
    assert "实际服务 60 分钟，少于约定的至少 120 分钟，按实际服务时长比例结算" in text
    assert "待核查，暂不结算" in text
    assert "40.00" in text
