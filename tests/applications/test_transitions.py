"""Every transition by state and by actor: allowed where the lifecycle says, refused (with a stable code, or
PermissionDenied for the wrong person) everywhere else; each one on the timeline and in the audit log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from fuwu.applications import services
from fuwu.applications.models import Application, ApplicationEvent, Capacity, MaterialState, Provision, Status
from fuwu.applications.services import ApplicationError, MaterialInput
from fuwu.common.models import AuditLog
from tests.applications.conftest import MONDAY, World, at, photo

GROUND = "criterion:special-difficulty"
NOW = at(MONDAY, 11)


def reach(world: World, state: str) -> Application:
    a = world.apply()
    o = world.officer
    if state == "submitted":
        return a
    if state == "in_progress":
        return services.application_accept(actor=o, application=a, now=NOW)
    if state == "awaiting_applicant":
        return services.application_notice(actor=o, application=a, missing=[0], reason="申请表未签字", now=NOW)
    if state == "approved":
        a = services.application_accept(actor=o, application=a, now=NOW)
        return services.application_decide(actor=o, application=a, approve=True, reason="", now=NOW)
    if state == "refused":
        return services.application_decide(
            actor=o, application=a, approve=False, reason="不是困难家庭", ground=GROUND, now=NOW
        )
    if state == "withdrawn":
        return services.application_withdraw(actor=world.parent, application=a, now=NOW)
    if state == "closed":
        return services.application_close(actor=o, application=a, reason="申请人要求", now=NOW)
    raise AssertionError(state)


ACTIONS: dict[str, tuple[str, Callable[[World, Application], Any]]] = {
    "accept": ("officer", lambda w, a: services.application_accept(actor=w.officer, application=a, now=NOW)),
    "promise": (
        "officer",
        lambda w, a: services.application_accept_with_promise(
            actor=w.officer, application=a, promised=[0], days=5, reason="先行受理", now=NOW
        ),
    ),
    "notice": (
        "officer",
        lambda w, a: services.application_notice(actor=w.officer, application=a, missing=[0], reason="缺", now=NOW),
    ),
    "supply": (
        "parent",
        lambda w, a: services.application_supply(
            actor=w.parent, application=a, materials={0: MaterialInput(Provision.UPLOAD, photo())}, now=NOW
        ),
    ),
    "advance": ("officer", lambda w, a: services.application_advance(actor=w.officer, application=a, now=NOW)),
    "approve": (
        "officer",
        lambda w, a: services.application_decide(actor=w.officer, application=a, approve=True, reason="", now=NOW),
    ),
    "refuse": (
        "officer",
        lambda w, a: services.application_decide(
            actor=w.officer, application=a, approve=False, reason="不符合", ground=GROUND, now=NOW
        ),
    ),
    "transfer": (
        "officer",
        lambda w, a: services.application_transfer(
            actor=w.officer, application=a, department=w.civil, reason="属民政", now=NOW
        ),
    ),
    "withdraw": ("parent", lambda w, a: services.application_withdraw(actor=w.parent, application=a, now=NOW)),
    "close": (
        "officer",
        lambda w, a: services.application_close(actor=w.officer, application=a, reason="逾期未补正", now=NOW),
    ),
}
OPEN = {"submitted", "in_progress", "awaiting_applicant"}
ALLOWED = {
    "accept": {"submitted"},
    "promise": {"submitted"},
    "notice": {"submitted", "in_progress"},
    "supply": {"awaiting_applicant"},
    "advance": {"in_progress"},
    "approve": {"in_progress"},
    "refuse": {"submitted", "in_progress"},
    "transfer": OPEN,
    "withdraw": OPEN,
    "close": OPEN,
}
STATES = ["submitted", "in_progress", "awaiting_applicant", "approved", "refused", "withdrawn", "closed"]


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("action", list(ACTIONS))
def test_each_action_from_each_state(world: World, action: str, state: str) -> None:
    application = reach(world, state)
    events = ApplicationEvent.objects.filter(application=application).count()
    _, act = ACTIONS[action]
    if state in ALLOWED[action]:
        after = act(world, application)
        assert ApplicationEvent.objects.filter(application=application).count() == events + 1
        assert AuditLog.objects.filter(object_type="applications.application", object_id=str(after.pk)).count() == (
            events + 1
        )
        assert after.revision == application.revision + 1
    else:
        with pytest.raises(ApplicationError) as refused:
            act(world, application)
        assert refused.value.code in {"wrong_state", "nothing_to_supply"}
        assert str(refused.value)
        assert ApplicationEvent.objects.filter(application=application).count() == events
        assert Application.objects.get(pk=application.pk).status == state


OFFICER_ACTIONS = [a for a, (who, _) in ACTIONS.items() if who == "officer"]


@pytest.mark.parametrize("intruder", ["officer_civil", "officer_b", "parent", "agent", "stranger"])
@pytest.mark.parametrize("action", OFFICER_ACTIONS)
def test_department_actions_need_the_department_and_area(world: World, action: str, intruder: str) -> None:
    application = reach(world, "in_progress" if action in {"advance", "approve"} else "submitted")
    _, act = ACTIONS[action]
    as_intruder = World(**{**world.__dict__, "officer": getattr(world, intruder)})
    with pytest.raises(PermissionDenied):
        act(as_intruder, application)
    assert Application.objects.get(pk=application.pk).revision == application.revision


@pytest.mark.parametrize("intruder", ["officer", "officer_b", "stranger", "agent_b"])
@pytest.mark.parametrize("action", ["supply", "withdraw"])
def test_applicant_actions_need_the_applicants_side(world: World, action: str, intruder: str) -> None:
    application = reach(world, "awaiting_applicant")
    _, act = ACTIONS[action]
    with pytest.raises(PermissionDenied):
        act(World(**{**world.__dict__, "parent": getattr(world, intruder)}), application)


@pytest.mark.parametrize(
    ("who", "person", "capacity"),
    [
        ("parent", "child", Capacity.FAMILY),
        ("resident", "adult", Capacity.SELF),
        ("agent", "child", Capacity.AGENT),
        ("officer", "child", Capacity.COUNTER),
    ],
)
def test_who_may_apply_and_in_what_capacity(world: World, who: str, person: str, capacity: str) -> None:
    application = world.apply(getattr(world, who), person=getattr(world, person))
    assert application.capacity == capacity
    assert application.submitted_by == getattr(world, who)
    assert application.department == world.education
    assert application.status == Status.SUBMITTED
    assert application.materials.get(index=1).provision == Provision.SHARED  # 户口簿: data sharing, nothing asked


@pytest.mark.parametrize(
    ("who", "person"),
    [
        ("stranger", "child"),
        ("parent", "adult"),
        ("agent_b", "child"),
        ("officer_b", "child"),
        ("officer_civil", "child"),
    ],
)
def test_nobody_else_may_apply(world: World, who: str, person: str) -> None:
    with pytest.raises(PermissionDenied):
        world.apply(getattr(world, who), person=getattr(world, person))
    assert not Application.objects.exists()


def test_one_open_application_per_person_and_item(world: World) -> None:
    world.apply()
    with pytest.raises(ApplicationError) as refused:
        world.apply(world.agent)
    assert refused.value.code == "duplicate"


def test_the_eligibility_answer_is_kept_with_its_reasons_and_an_ineligible_person_may_still_apply(world: World) -> None:
    eligible = world.apply()
    assert eligible.eligibility == "eligible"
    assert {r["name"] for r in eligible.eligibility_reasons} == {"preschool", "child", "special-difficulty"}
    ineligible = world.apply(world.resident, person=world.adult)  # an adult, not at a kindergarten
    assert ineligible.eligibility == "not_eligible"
    assert [r["name"] for r in ineligible.eligibility_reasons if r["passed"] is False]
    assert ineligible.status == Status.SUBMITTED


def test_a_refusal_must_cite_a_ground_of_the_item(world: World) -> None:
    application = world.apply()
    for ground in ["", "criterion:no-such", "clause:99.9"]:
        with pytest.raises(ApplicationError) as refused:
            services.application_decide(
                actor=world.officer, application=application, approve=False, reason="不符合", ground=ground, now=NOW
            )
        assert refused.value.code == "ground_required"
    with pytest.raises(ApplicationError) as no_reason:
        services.application_decide(
            actor=world.officer, application=application, approve=False, reason=" ", ground=GROUND, now=NOW
        )
    assert no_reason.value.code == "reason_required"
    done = services.application_decide(
        actor=world.officer, application=application, approve=False, reason="非困难家庭", ground=GROUND, now=NOW
    )
    event = done.events.get(kind="refused")
    assert (event.clause, event.reason, event.details["ground"]) == ("3.2", "非困难家庭", GROUND)


def test_one_notice_lists_everything_and_only_once(world: World) -> None:
    application = services.application_notice(
        actor=world.officer, application=world.apply(), missing=[0], reason="申请表未签字", now=NOW
    )
    assert application.materials.get(index=0).state == MaterialState.MISSING
    application = services.application_supply(
        actor=world.parent, application=application, materials={0: MaterialInput(Provision.COUNTER)}, now=NOW
    )
    assert application.status == Status.SUBMITTED
    with pytest.raises(ApplicationError) as again:
        services.application_notice(actor=world.officer, application=application, missing=[0], reason="再缺", now=NOW)
    assert again.value.code == "notice_already_sent"


def test_a_shared_material_cannot_be_asked_for(world: World) -> None:
    with pytest.raises(ApplicationError) as refused:
        services.application_notice(
            actor=world.officer, application=world.apply(), missing=[1], reason="户口簿", now=NOW
        )
    assert refused.value.code == "no_materials"


def test_steps_advance_to_the_last_then_only_a_decision(world: World) -> None:
    application = services.application_accept(actor=world.officer, application=world.apply(), now=NOW)
    assert application.step == 1
    application = services.application_advance(actor=world.officer, application=application, now=NOW)
    assert application.step == 2
    with pytest.raises(ApplicationError) as last:
        services.application_advance(actor=world.officer, application=application, now=NOW)
    assert last.value.code == "last_step"


def test_a_transferred_application_leaves_the_first_departments_hands(world: World) -> None:
    application = services.application_transfer(
        actor=world.officer, application=world.apply(), department=world.civil, reason="属民政", now=NOW
    )
    with pytest.raises(PermissionDenied):
        services.application_accept(actor=world.officer, application=application, now=NOW)
    assert services.application_accept(actor=world.officer_civil, application=application, now=NOW).status == (
        Status.IN_PROGRESS
    )


def test_a_stale_page_is_told_someone_else_acted(world: World) -> None:
    application = world.apply()
    seen = application.revision
    services.application_transfer(
        actor=world.officer, application=application, department=world.civil, reason="属民政", now=NOW
    )
    with pytest.raises(ApplicationError) as stale:
        services.application_close(
            actor=world.officer_civil, application=application, reason="重复", revision=seen, now=NOW
        )
    assert stale.value.code == "stale"
    assert "刷新" in str(stale.value)
