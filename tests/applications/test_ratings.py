"""好差评 of an application's handling and the rectification a 差评 opens: every level, the reasons a 差评 needs,
one rating only, only after the decision and only by the applicant side; the rectification's deadline in working
days across National Day, the department's record, the callback, who may do what, overdue ones flagged."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from fuwu.accounts.models import Role, User
from fuwu.applications import ratings, services
from fuwu.applications.models import Application, Rating, Rectification, RectificationStatus
from fuwu.applications.services import ApplicationError
from fuwu.common.models import AuditLog
from fuwu.common.satisfaction import Level
from tests.applications.conftest import MONDAY, PASSWORD, World, at
from tests.applications.test_transitions import NOW, reach

LATER = at(MONDAY + dt.timedelta(days=2), 15)


def rate(world: World, application: Application, level: int, reasons: Any = (), **kwargs: Any) -> Rating:
    actor = kwargs.pop("actor", world.parent)
    return ratings.rating_give(
        actor=actor, application=application, level=level, reasons=reasons, now=kwargs.pop("now", LATER), **kwargs
    )


REASON = {
    5: ["fast"],
    4: ["courteous"],
    3: ["done_but_slow"],
    2: ["slow"],
    1: ["many_trips", "rude"],
}  # in the list's order, as stored


@pytest.mark.parametrize("level", [5, 4, 3, 2, 1])
def test_every_level_is_kept_and_only_a_poor_one_opens_a_rectification(world: World, level: int) -> None:
    application = reach(world, "approved")
    rating = rate(world, application, level, REASON[level], text="  说两句  ")
    assert (rating.level, rating.reasons, rating.text) == (level, REASON[level], "说两句")
    assert rating.get_level_display() == Level(level).label
    assert AuditLog.objects.filter(event="application.rated", object_id=str(application.pk)).count() == 1
    rectification = Rectification.objects.filter(rating=rating).first()
    assert (rectification is not None) == (level <= 2)
    if rectification is not None:
        assert rectification.department == world.education
        assert rectification.area_code == application.area_code
        assert rectification.status == RectificationStatus.OPEN
        assert AuditLog.objects.filter(event="application.rectification_opened").count() == 1


@pytest.mark.parametrize("level", [5, 4, 3])
def test_reasons_are_optional_for_a_good_or_basic_rating(world: World, level: int) -> None:
    assert rate(world, reach(world, "approved"), level).reasons == []


@pytest.mark.parametrize("level", [2, 1])
def test_a_poor_rating_needs_a_reason_and_nothing_is_written_without_one(world: World, level: int) -> None:
    application = reach(world, "approved")
    with pytest.raises(ApplicationError) as refused:
        rate(world, application, level, [], text="很差")
    assert (refused.value.code, refused.value.field) == ("reasons_required", "reasons")
    assert "至少选择一项原因" in str(refused.value)
    assert not Rating.objects.exists()
    assert not Rectification.objects.exists()


@pytest.mark.parametrize(
    ("level", "reasons", "code", "field"),
    [
        (0, [], "bad_level", "level"),
        (6, [], "bad_level", "level"),
        ("很好", [], "bad_level", "level"),
        (None, [], "bad_level", "level"),
        (5, ["slow"], "bad_reason", "reasons"),  # a 差评's reason under 非常满意
        (2, ["fast"], "bad_reason", "reasons"),
        (1, ["slow", "no-such-reason"], "bad_reason", "reasons"),
    ],
)
def test_bad_input_is_refused_naming_the_field(
    world: World, level: Any, reasons: list[str], code: str, field: str
) -> None:
    application = reach(world, "approved")
    with pytest.raises(ApplicationError) as refused:
        rate(world, application, level, reasons)
    assert (refused.value.code, refused.value.field) == (code, field)
    assert not Rating.objects.exists()


def test_the_words_are_limited(world: World, settings: Any) -> None:
    application = reach(world, "approved")
    limit = settings.FUWU_APPLICATIONS_RATINGS["text_max"]
    with pytest.raises(ApplicationError) as refused:
        rate(world, application, 4, text="好" * (limit + 1))
    assert (refused.value.code, refused.value.field) == ("text_too_long", "text")
    assert str(limit) in str(refused.value)
    assert rate(world, application, 4, text="好" * limit).text == "好" * limit


def test_one_rating_per_application(world: World) -> None:
    application = reach(world, "approved")
    rate(world, application, 2, ["slow"])
    for level, reasons in ((5, []), (1, ["rude"])):
        with pytest.raises(ApplicationError) as refused:
            rate(world, application, level, reasons)
        assert refused.value.code == "already_rated"
    assert Rating.objects.get().level == 2
    assert Rectification.objects.count() == 1


@pytest.mark.parametrize("state", ["submitted", "in_progress", "awaiting_applicant", "withdrawn"])
def test_only_after_the_decision(world: World, state: str) -> None:
    application = reach(world, state)
    with pytest.raises(ApplicationError) as refused:
        rate(world, application, 4)
    assert refused.value.code == "not_decided"
    assert not Rating.objects.exists()


@pytest.mark.parametrize("state", ["approved", "refused", "closed"])
def test_each_decision_may_be_rated(world: World, state: str) -> None:
    assert rate(world, reach(world, state), 3).application.status == state


@pytest.mark.parametrize("who", ["officer", "officer_civil", "officer_b", "stranger", "resident", "agent_b"])
def test_only_the_applicant_side_rates(world: World, who: str) -> None:
    application = reach(world, "approved")
    with pytest.raises(PermissionDenied):
        rate(world, application, 1, ["rude"], actor=getattr(world, who))
    assert not Rating.objects.exists()


def test_the_village_agent_who_applied_may_rate_but_not_the_counter_officer(world: World) -> None:
    by_agent = world.apply(world.agent)
    by_agent = services.application_accept(actor=world.officer, application=by_agent, now=NOW)
    by_agent = services.application_decide(actor=world.officer, application=by_agent, approve=True, reason="", now=NOW)
    assert rate(world, by_agent, 4, actor=world.agent).rated_by == world.agent

    at_counter = world.apply(world.officer, person=world.adult)
    at_counter = services.application_close(actor=world.officer, application=at_counter, reason="申请人要求", now=NOW)
    with pytest.raises(PermissionDenied):
        rate(world, at_counter, 5, actor=world.officer)  # the officer would be rating their own department
    assert rate(world, at_counter, 5, actor=world.resident).level == 5  # the adult rates for themself


# --- rectification ---------------------------------------------------------------------------------------------


def poor(world: World, *, now: Any = LATER) -> Rectification:
    rating = rate(world, reach(world, "approved"), 1, ["slow"], text="拖了很久", now=now)
    return Rectification.objects.get(rating=rating)


def test_the_deadline_is_the_setting_in_working_days_across_national_day(world: World, settings: Any) -> None:
    settings.FUWU_APPLICATIONS_RATINGS = {**settings.FUWU_APPLICATIONS_RATINGS, "rectification_days": 15}
    # Rated on Wed 30 Sep 2026: 1–7 Oct are holidays, Sat 10 Oct is worked (调休). Counted by hand:
    # 8, 9, 10, 12–16, 19–23 Oct are 13 working days; 26 and 27 Oct make 15.
    rectification = poor(world, now=at(dt.date(2026, 9, 30), 16))
    assert (rectification.opened_on, rectification.days) == (dt.date(2026, 9, 30), 15)
    assert rectification.due_on == dt.date(2026, 10, 27)
    assert rectification.calendar_known


def test_a_shorter_setting_ends_on_the_worked_saturday(world: World, settings: Any) -> None:
    settings.FUWU_APPLICATIONS_RATINGS = {**settings.FUWU_APPLICATIONS_RATINGS, "rectification_days": 3}
    rectification = poor(world, now=at(dt.date(2026, 9, 30), 16))
    assert rectification.due_on == dt.date(2026, 10, 10)  # 8, 9 and the 调休 Saturday 10 Oct


def stdoffice() -> User:
    return User.objects.create_user(username="stdoffice", password=PASSWORD, role=Role.STANDARDS_OFFICE)


def auditor() -> User:
    return User.objects.create_user(username="auditor", password=PASSWORD, role=Role.AUDITOR)


def test_the_department_records_then_the_callback_closes_it(world: World) -> None:
    rectification = poor(world)
    with pytest.raises(ApplicationError) as early:
        ratings.rectification_callback(actor=world.officer, rectification=rectification, satisfied=True, note="已回访")
    assert early.value.code == "wrong_state"

    done = ratings.rectification_record(
        actor=world.officer, rectification=rectification, action="已约谈经办人，改正办事指南", now=LATER
    )
    assert (done.status, done.recorded_by, done.action) == ("rectified", world.officer, "已约谈经办人，改正办事指南")
    with pytest.raises(ApplicationError) as twice:
        ratings.rectification_record(actor=world.officer, rectification=rectification, action="再次")
    assert twice.value.code == "wrong_state"

    closed = ratings.rectification_callback(
        actor=world.officer, rectification=rectification, satisfied=True, note="电话回访，申请人表示满意", now=LATER
    )
    assert (closed.status, closed.callback_by, closed.callback_note) == (
        "satisfied",
        world.officer,
        "电话回访，申请人表示满意",
    )
    events = list(
        AuditLog.objects.filter(object_type="applications.rectification", object_id=str(rectification.pk))
        .order_by("pk")
        .values_list("event", flat=True)
    )
    assert events == [
        "application.rectification_opened",
        "application.rectification_recorded",
        "application.rectification_callback",
    ]


def test_the_standards_office_may_call_back_and_record_that_the_applicant_is_still_unsatisfied(world: World) -> None:
    rectification = poor(world)
    office = stdoffice()
    with pytest.raises(PermissionDenied):  # the department puts it right, not the supervisor
        ratings.rectification_record(actor=office, rectification=rectification, action="代为整改")
    ratings.rectification_record(actor=world.officer, rectification=rectification, action="已改正")
    closed = ratings.rectification_callback(actor=office, rectification=rectification, satisfied=False, note="仍嫌太慢")
    assert closed.status == RectificationStatus.UNSATISFIED
    assert not closed.is_open


@pytest.mark.parametrize("who", ["officer_civil", "officer_b", "parent", "agent", "auditor"])
def test_nobody_else_records_or_calls_back(world: World, who: str) -> None:
    rectification = poor(world)
    actor = auditor() if who == "auditor" else getattr(world, who)
    with pytest.raises(PermissionDenied):
        ratings.rectification_record(actor=actor, rectification=rectification, action="整改")
    ratings.rectification_record(actor=world.officer, rectification=rectification, action="整改")
    with pytest.raises(PermissionDenied):
        ratings.rectification_callback(actor=actor, rectification=rectification, satisfied=True, note="好")
    assert Rectification.objects.get().status == RectificationStatus.RECTIFIED


@pytest.mark.parametrize(
    ("step", "words", "code"),
    [("record", "  ", "action_required"), ("record", "措" * 301, "action_too_long"), ("callback", "", "note_required")],
)
def test_the_records_need_words_within_the_limit(world: World, step: str, words: str, code: str) -> None:
    rectification = poor(world)
    if step == "callback":
        ratings.rectification_record(actor=world.officer, rectification=rectification, action="已改正")
        with pytest.raises(ApplicationError) as refused:
            ratings.rectification_callback(actor=world.officer, rectification=rectification, satisfied=True, note=words)
    else:
        with pytest.raises(ApplicationError) as refused:
            ratings.rectification_record(actor=world.officer, rectification=rectification, action=words)
    assert refused.value.code == code
    assert Rectification.objects.get().status == ("rectified" if step == "callback" else "open")


def test_the_lists_are_scoped_and_flag_the_overdue(world: World) -> None:
    overdue = poor(world)  # rated Wed 25 Nov 2026: due 15 working days later, 16 Dec
    assert overdue.due_on == dt.date(2026, 12, 16)
    after = dt.date(2026, 12, 17)
    office, reader = stdoffice(), auditor()
    for user in (world.officer, office, reader):
        listed = list(ratings.rectifications_for_user(user=user, today=after, overdue=True))
        assert listed == [overdue]
        assert ratings.is_overdue(listed[0], today=after)
    assert not ratings.is_overdue(overdue, today=dt.date(2026, 12, 16))  # the due day itself is in time
    for user in (world.officer_b, world.officer_civil, world.parent, world.agent):
        assert not ratings.rectifications_for_user(user=user, today=after).exists()
    # Put right (even late), it is no longer overdue.
    ratings.rectification_record(actor=world.officer, rectification=overdue, action="已改正")
    ratings.rectification_callback(actor=world.officer, rectification=overdue, satisfied=True, note="满意")
    assert not ratings.rectifications_for_user(user=office, today=after, overdue=True).exists()
    assert list(ratings.rectifications_for_user(user=office, today=after)) == [overdue]


@pytest.mark.django_db(transaction=True)
def test_three_ratings_at_once_make_one_and_one_rectification(world: World, file_database: str) -> None:
    from tests.applications.test_uploads_and_races import outcome, together

    application = reach(world, "approved")
    results = together(
        3,
        lambda i: outcome(
            lambda: ratings.rating_give(
                actor=world.parent,
                application=application,
                level=1 + i % 2,
                reasons=["slow"],
                now=LATER,
            )
        ),
    )
    assert sorted(results) == ["already_rated", "already_rated", "ok"]
    assert Rating.objects.filter(application=application).count() == 1
    assert Rectification.objects.filter(application=application).count() == 1
