"""Callback sampling and recording, and the standard's indicators on a month built to known numbers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import translation

from fuwu.accounts.models import Role
from fuwu.areas.models import Area, AreaLevel
from fuwu.common.models import AuditLog
from fuwu.homecare.complaints import complaint_lodge, complaint_resolve
from fuwu.homecare.door import Position
from fuwu.homecare.models import (
    CalendarDay,
    Callback,
    Caregiver,
    EntitlementAccount,
    Order,
    OrderStatus,
    TrainingRecord,
)
from fuwu.homecare.services import HomeCareError, order_rate
from fuwu.homecare.supervision import callback_record, callbacks_sample, indicators
from fuwu.residents.models import Person
from tests.homecare.conftest import ELDER_HOME, World, at, make_user
from tests.homecare.test_settlement import MONTH, Month, actor_for, book, build_month, elder, officer_of, visit

END = at(dt.date(2026, 12, 31), 18)


@pytest.fixture
def month(world: World) -> Month:
    return build_month(world)


def completed_in_month() -> set[int]:
    return set(
        Order.objects.filter(
            account_month__month=MONTH, status__in=[OrderStatus.COMPLETED, OrderStatus.RATED]
        ).values_list("pk", flat=True)
    )


# --- sampling ------------------------------------------------------------------------------------


def test_sampling_reaches_the_standards_share(world: World, month: Month) -> None:
    done = completed_in_month()
    assert len(done) == 8
    made = callbacks_sample(actor=world.officer, month=MONTH, now=END)
    assert len(made) == 1  # 10 % of 8, rounded up
    assert {c.order_id for c in made} <= done
    assert callbacks_sample(actor=world.officer, month=MONTH, now=END) == []  # the share is already met
    more = callbacks_sample(actor=world.officer, month=MONTH, share=Decimal(50), now=END)
    assert len(more) == 3  # topped up to 4, none sampled twice
    assert len({c.order_id for c in [*made, *more]}) == 4
    assert AuditLog.objects.filter(event="homecare.callback_sampled").count() == 4


def test_the_same_seed_draws_the_same_visits(world: World, month: Month) -> None:
    draws = []
    for _ in range(2):
        made = callbacks_sample(actor=world.officer, month=MONTH, share=Decimal(50), seed=2026, now=END)
        draws.append(sorted(c.order_id for c in made))
        Callback.objects.all().delete()
    assert draws[0] == draws[1]
    assert len(draws[0]) == 4
    others = set()
    for seed in range(1, 8):
        Callback.objects.all().delete()
        made = callbacks_sample(actor=world.officer, month=MONTH, share=Decimal(50), seed=seed, now=END)
        others.add(tuple(sorted(c.order_id for c in made)))
    assert len(others) > 1  # the seed does choose


@pytest.mark.parametrize("who", ["auditor", "provider_admin", "family", "caregiver_user"])
def test_only_officers_sample(world: World, month: Month, who: str) -> None:
    actor = actor_for(world, who)
    with pytest.raises(PermissionDenied):
        callbacks_sample(actor=actor, month=MONTH, now=END)
    assert not Callback.objects.exists()


def test_sampling_refuses_a_share_over_100_and_stays_in_the_officers_area(world: World, month: Month) -> None:
    with pytest.raises(HomeCareError) as refused:
        callbacks_sample(actor=world.officer, month=MONTH, share=Decimal(150), now=END)
    assert refused.value.code == "bad_share"
    assert callbacks_sample(actor=officer_of("331003"), month=MONTH, share=Decimal(100), now=END) == []


def test_callback_due_date_counts_working_days_across_the_national_day_holiday(world: World) -> None:
    # Wednesday 30 September 2026; 1-7 October are the holiday, Saturday 10 October is worked (调休).
    day = dt.date(2026, 9, 30)
    order = visit(world, booked(world, world.elder, "hc-bathing", day))
    (callback,) = callbacks_sample(actor=world.officer, month=day, share=Decimal(100), now=at(day, 18))
    assert callback.order_id == order.pk
    assert callback.due_on == dt.date(2026, 10, 13)
    # The office's holiday notice (a CalendarDay) moves it on by a day.
    Callback.objects.all().delete()
    CalendarDay.objects.create(date=dt.date(2026, 10, 13), is_workday=False, name="test")
    (callback,) = callbacks_sample(actor=world.officer, month=day, share=Decimal(100), now=at(day, 18))
    assert callback.due_on == dt.date(2026, 10, 14)


def test_a_visit_sampled_late_still_gets_the_full_time(world: World) -> None:
    visit(world, booked(world, world.elder, "hc-bathing", dt.date(2026, 9, 14)))
    (callback,) = callbacks_sample(
        actor=world.officer, month=dt.date(2026, 9, 1), share=Decimal(100), now=at(dt.date(2026, 9, 30), 9)
    )
    assert callback.sampled_on == dt.date(2026, 9, 30)
    assert callback.due_on == dt.date(2026, 10, 13)


def booked(world: World, person: Person, item: str, day: dt.date, hour: int = 9) -> Order:
    return book(world, person, item, day, hour, f"{person.pk}-{item}-{day}-{hour}")


# --- recording -----------------------------------------------------------------------------------


def test_recording_a_callback(world: World, month: Month) -> None:
    (callback,) = callbacks_sample(actor=world.officer, month=MONTH, share=Decimal(10), seed=1, now=END)
    with pytest.raises(HomeCareError) as refused:
        callback_record(actor=world.officer, callback=callback, reached=True, satisfied=None, note="", now=END)
    assert refused.value.code == "satisfaction_required"
    with pytest.raises(HomeCareError) as refused:
        callback_record(actor=world.officer, callback=callback, reached=False, satisfied=None, note=" ", now=END)
    assert refused.value.code == "note_required"
    callback = callback_record(
        actor=world.officer, callback=callback, reached=False, satisfied=True, note="无人接听", now=END
    )
    assert (callback.reached, callback.satisfied, callback.done_at) == (False, None, END)
    callback = callback_record(actor=world.officer, callback=callback, reached=True, satisfied=True, note="", now=END)
    assert (callback.reached, callback.satisfied) == (True, True)
    with pytest.raises(HomeCareError) as refused:
        callback_record(actor=world.officer, callback=callback, reached=True, satisfied=False, note="", now=END)
    assert refused.value.code == "wrong_state"
    assert AuditLog.objects.filter(event="homecare.callback_recorded").count() == 2


@pytest.mark.parametrize("who", ["auditor", "other_officer", "provider_admin", "family"])
def test_only_the_elders_officer_records(world: World, month: Month, who: str) -> None:
    (callback,) = callbacks_sample(actor=world.officer, month=MONTH, now=END)
    actor = actor_for(world, who)
    with pytest.raises(PermissionDenied):
        callback_record(actor=actor, callback=callback, reached=True, satisfied=True, now=END)
    callback.refresh_from_db()
    assert callback.done_at is None


# --- indicators ----------------------------------------------------------------------------------


@dataclass
class Built:
    second_township: str


def build_indicator_month(world: World) -> Built:
    """December 2026 with known counts (see each indicator's test for its numerator and denominator)."""
    county = Area.objects.get(code="331002")
    township = Area.objects.create(code="331002002", name_zh="白云街道", level=AreaLevel.TOWNSHIP, parent=county)
    Area.objects.create(code="331002002901", name_zh="社区902", level=AreaLevel.VILLAGE, parent=township)
    d = lambda n: dt.date(2026, 12, n)  # noqa: E731 - a short date helper
    a = world.elder
    b = elder(world, "王大明", ["hc-meals"], hukou_area="331002002901")

    o1 = visit(world, booked(world, a, "hc-bathing", d(3)), late=10)
    order_rate(actor=world.family, order=o1, stars=5, now=at(d(3), 18))
    away = Position(ELDER_HOME[0] + Decimal("0.01"), ELDER_HOME[1])
    o2 = visit(world, booked(world, a, "hc-cleaning", d(8)), late=40, leave_from=away)  # late, left from afar
    order_rate(actor=world.family, order=o2, stars=2, now=at(d(8), 18))
    o3 = visit(world, booked(world, b, "hc-meals", d(10), 11), stay=5)  # too short
    o4 = visit(world, booked(world, b, "hc-meals", d(11), 11), confirm=False)

    callbacks = {c.order_id: c for c in callbacks_sample(actor=world.officer, month=MONTH, share=Decimal(100), now=END)}
    assert set(callbacks) == {o1.pk, o2.pk, o3.pk, o4.pk}
    callback_record(actor=world.officer, callback=callbacks[o1.pk], reached=True, satisfied=True, now=END)
    callback_record(actor=world.officer, callback=callbacks[o3.pk], reached=True, satisfied=False, now=END)
    callback_record(actor=world.officer, callback=callbacks[o4.pk], reached=False, satisfied=None, note="关机", now=END)

    in_time = complaint_lodge(actor=world.family, order=o2, text="迟到", now=at(d(8), 19))
    complaint_resolve(actor=world.officer, complaint=in_time, upheld=False, outcome="已说明", now=at(d(9), 9))
    late = complaint_lodge(actor=world.officer, order=o3, text="时间太短", now=at(d(10), 15))
    complaint_resolve(actor=world.officer, complaint=late, upheld=False, outcome="已说明", now=at(d(28), 9))
    complaint_lodge(actor=world.officer, order=o4, text="未确认", now=at(d(11), 15))  # open, overdue by 31st
    complaint_lodge(actor=world.officer, order=o4, text="再次投诉", now=at(d(30), 15))  # open, not yet due

    # First visits: A opened 1 Dec and visited by the 3rd (in time); B due the 2nd, visited the 10th (late);
    # C due the 4th, never visited (late); D opened on the 28th, not yet due (left out).
    EntitlementAccount.objects.filter(person=a).update(opened_on=d(1), first_visit_due=d(3))
    EntitlementAccount.objects.filter(person=b).update(opened_on=d(1), first_visit_due=d(2))
    c = elder(world, "赵小红", ["hc-meals"])
    EntitlementAccount.objects.filter(person=c).update(opened_on=d(2), first_visit_due=d(4))
    e = elder(world, "钱多多", ["hc-meals"])
    EntitlementAccount.objects.filter(person=e).update(opened_on=d(28), first_visit_due=dt.date(2027, 1, 4))

    # Training in 2026: the fixture's caregiver (and o1's second one) has only pre-job hours (no); one has 24 (yes);
    # one has 20 this year and 10 last year (no); an inactive one is not counted.
    def caregiver(name: str, active: bool = True) -> Caregiver:
        return Caregiver.objects.create(
            provider=world.provider,
            name=name,
            health_certificate_expires=dt.date(2027, 6, 30),
            home_latitude=ELDER_HOME[0],
            home_longitude=ELDER_HOME[1],
            shift_start=dt.time(8),
            shift_end=dt.time(17),
            active=active,
        )

    def trained(who: Caregiver, on: dt.date, hours: int) -> None:
        TrainingRecord.objects.create(caregiver=who, kind="in_service", completed_on=on, hours=hours, topic="继续培训")

    trained(caregiver("周护理员"), dt.date(2026, 5, 1), 24)
    third = caregiver("吴护理员")
    trained(third, dt.date(2026, 3, 1), 20)
    trained(third, dt.date(2025, 11, 1), 10)
    trained(caregiver("郑护理员", active=False), dt.date(2026, 3, 1), 30)
    return Built(second_township="331002002")


@pytest.fixture
def built(world: World) -> Built:
    return build_indicator_month(world)


def values(row: object) -> dict[str, tuple[int, int, Decimal | None, bool | None]]:
    return {v.key: (v.numerator, v.denominator, v.value, v.met) for v in row.values}  # type: ignore[attr-defined]


def test_each_indicator_on_the_constructed_month(world: World, built: Built) -> None:
    report = indicators(user=world.officer, month=MONTH, now=END)
    (provider,) = report.providers
    assert provider.label == world.provider.name
    got = values(provider)
    assert got["hc-on-time-rate"] == (3, 4, Decimal("75.0"), False)  # o2 came 40 min after the agreed time
    assert got["hc-satisfaction-rate"] == (2, 4, Decimal("50.0"), False)  # 5★, 2★; satisfied, unsatisfied
    assert got["hc-callback-rate"] == (2, 4, Decimal("50.0"), True)  # o4's call did not get through
    assert got["hc-checkin-compliance-rate"] == (2, 4, Decimal("50.0"), False)  # o2 left from afar, o3 too short
    assert got["hc-complaint-resolution-rate"] == (1, 3, Decimal("33.3"), False)
    assert got["hc-first-visit-rate"] == (1, 3, Decimal("33.3"), False)
    # The bath's second caregiver, like the fixture's, has pre-job hours only.
    assert got["hc-training-completion-rate"] == (1, 4, Decimal("25.0"), False)
    # A and B had confirmed subsidised visits; C and E (opened the 28th) had none.
    assert got["hc-coverage-rate"] == (2, 4, Decimal("50.0"), False)
    by_key = {i.key: i for i in report.indicators}
    assert by_key["hc-on-time-rate"].target == Decimal(95)
    assert by_key["hc-callback-rate"].target == Decimal(10)
    assert values(report.totals) == got


def test_indicators_by_county_and_township(world: World, built: Built) -> None:
    report = indicators(user=world.officer, month=MONTH, now=END)
    assert [(r.code, r.label) for r in report.counties] == [("331002", "椒江区")]
    assert [(r.code, r.label) for r in report.townships] == [("331002001", "海门街道"), ("331002002", "白云街道")]
    first, second = (values(r) for r in report.townships)
    assert first["hc-on-time-rate"][:2] == (1, 2)
    assert second["hc-on-time-rate"][:2] == (2, 2)
    assert first["hc-checkin-compliance-rate"][:2] == (1, 2)
    assert second["hc-checkin-compliance-rate"][:2] == (1, 2)
    assert second["hc-satisfaction-rate"][:2] == (0, 1)
    assert first["hc-first-visit-rate"][:2] == (1, 2)  # A in time, C never visited
    assert second["hc-first-visit-rate"][:2] == (0, 1)
    assert first["hc-coverage-rate"][:2] == (1, 3)  # A served; C and E not
    assert second["hc-coverage-rate"][:2] == (1, 1)  # B served
    # Caregivers belong to no hukou area: training is counted per provider only.
    assert first["hc-training-completion-rate"] == (0, 0, None, None)
    county = values(report.counties[0])
    assert county["hc-on-time-rate"][:2] == (3, 4)


def test_indicators_are_scoped_and_refused(world: World, built: Built) -> None:
    auditor = make_user("auditor", Role.AUDITOR, None)
    assert values(indicators(user=auditor, month=MONTH, now=END).totals) == values(
        indicators(user=world.officer, month=MONTH, now=END).totals
    )
    elsewhere = indicators(user=officer_of("331003"), month=MONTH, now=END)
    assert elsewhere.providers == []
    assert elsewhere.townships == []
    assert all(v.denominator == 0 for v in elsewhere.totals.values)
    for who in (world.provider_admin, world.family, world.caregiver_user):
        with pytest.raises(PermissionDenied):
            indicators(user=who, month=MONTH, now=END)


def test_area_names_follow_the_page_language(world: World, built: Built) -> None:
    Area.objects.filter(code="331002").update(name_en="Jiaojiang District")
    with translation.override("en"):
        report = indicators(user=world.officer, month=MONTH, now=END)
    assert [r.label for r in report.counties] == ["Jiaojiang District"]
    # A township without an English name keeps its Chinese one rather than showing nothing.
    assert report.townships[0].label == "海门街道"
    assert [r.label for r in indicators(user=world.officer, month=MONTH, now=END).counties] == ["椒江区"]
