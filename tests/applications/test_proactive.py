"""免申即享: a screening run's candidates in one township get pre-filled applications awaiting the person's
confirmation (or, where the standard says so, approved grants); idempotent, skip rules counted, scoped to the
item's lead department and the officer's area, audited; the person confirms or declines."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client

from fuwu.applications import proactive
from fuwu.applications.models import (
    Application,
    ApplicationEvent,
    Capacity,
    EventKind,
    Grant,
    Prefill,
    Provision,
    Status,
)
from fuwu.applications.services import (
    ApplicationError,
    MaterialInput,
    application_accept,
    application_decide,
    application_submit,
)
from fuwu.applications.standard import department_for
from fuwu.common.models import AuditLog
from fuwu.eligibility.models import Candidate, ScreeningRun
from fuwu.jobs.models import Job
from fuwu.jobs.worker import run_queue
from fuwu.notices.models import Notice
from fuwu.residents.models import Person
from fuwu.standards.models import ServiceItem
from fuwu.standards.parsing import StandardFileError, parse_standard_text
from tests.applications.conftest import MONDAY, PRESCHOOL, STUDENT_AID, World, at, photo
from tests.applications.test_grants import _run_with_candidates, standard_value
from tests.residents.factories import PersonFactory

TOWNSHIP = "331002001"  # 海门街道, the child's
TOWNSHIP_B = "331003001"  # 黄岩街道


def screening(*people: Person, item: str = "sa-preschool-aid", extra_ids: tuple[int, ...] = ()) -> ScreeningRun:
    """A completed registry run whose candidates for ``item`` are ``people`` (and numbers the registry lacks)."""
    run = _run_with_candidates(*people, item=item)
    for number in extra_ids:
        Candidate.objects.create(
            run=run, person_id=number, hukou_area=people[0].hukou_area, item=item, rule_version="t"
        )
    return run


def marked(world: World, mode: str) -> ServiceItem:
    """The item as a standard marking it ``mode`` would state it (the real file marks preschool aid ``grant``)."""
    data = dict(world.item.data)
    data["proactive"] = {**data["proactive"], "without_application": mode}
    ServiceItem.objects.filter(pk=world.item.pk).update(data=data)
    world.item.refresh_from_db()
    return world.item


def needy_child(**extra: Any) -> Person:
    facts: dict[str, Any] = {
        "name": "王小树",
        "birth_date": dt.date(2022, 5, 1),
        "hukou_area": "331002001901",
        "school_stage": "preschool",
        "low_income_status": "minimum_allowance",
    }
    return PersonFactory(**(facts | extra))


def create(world: World, run: ScreeningRun, *, officer: Any = None, day: dt.date = MONDAY) -> proactive.Result:
    return proactive.prefill_create(
        actor=officer or world.officer, run=run, item=world.item, township=TOWNSHIP, now=at(day, 9)
    )


# --- the standard's mark ---------------------------------------------------------------------------------------


def test_the_real_standard_marks_preschool_aid_grant_as_our_modelling(world: World) -> None:
    assert proactive.offered(world.item) == "grant"
    mark = world.item.data["proactive"]
    assert mark["modeled"] is True
    assert "建模" in mark["note"]["zh"]
    assert "modelling" in mark["note"]["en"]


def test_grant_on_an_item_without_a_level_is_refused_at_the_marks_line() -> None:
    text = STUDENT_AID.read_text(encoding="utf-8")
    start = text.index("  - id: sa-high-school-fee-waiver\n")
    line = "    proactive: {outreach: true, modeled: true}\n"
    at_ = text.index(line, start)
    bad = (
        text[:at_]
        + "    proactive: {outreach: true, modeled: true, without_application: grant}\n"
        + text[at_ + len(line) :]
    )
    with pytest.raises(StandardFileError) as caught:
        parse_standard_text(bad, name="student-aid.yaml")
    (error,) = caught.value.errors
    assert error.line == bad[:at_].count("\n") + 1
    assert "without_application" in error.field
    assert "no level" in error.message
    assert "confirm" in error.message
    # 'confirm' asks for no level: the same item may be marked so.
    confirm = bad.replace("without_application: grant}", "without_application: confirm}")
    parse_standard_text(confirm, name="student-aid.yaml")


# --- grant: approved at once, with the grant an ordinary approval gives ----------------------------------------


def test_grant_creates_exactly_the_grant_the_ordinary_approval_would(world: World) -> None:
    twin = needy_child()
    ordinary = application_submit(
        actor=world.officer,
        item=world.item,
        person=twin,
        materials={0: MaterialInput(Provision.COUNTER)},
        now=at(MONDAY, 8),
    )
    application_accept(actor=world.officer, application=ordinary, now=at(MONDAY, 8, 30))
    application_decide(actor=world.officer, application=ordinary, approve=True, reason="", now=at(MONDAY, 9))
    expected = Grant.objects.get(application=ordinary)

    result = create(world, screening(world.child))
    assert result.created == 1
    application = Application.objects.get(pk=result.application_ids[0])
    grant = Grant.objects.get(application=application)
    fields = ("amount", "units", "unit", "period", "shared", "start_on", "end_on", "department_id", "area_code")
    assert {f: getattr(grant, f) for f in fields} == {f: getattr(expected, f) for f in fields}
    assert grant.amount == standard_value(STUDENT_AID, "sa-preschool-aid-amount", MONDAY)
    assert grant.person == world.child
    assert (application.status, application.capacity, application.submitted_by) == (
        Status.APPROVED,
        Capacity.SYSTEM,
        world.officer,
    )
    # Nothing is asked of the person: data sharing's material is provided, the form is not required.
    assert dict(application.materials.values_list("index", "provision")) == {
        0: Provision.NOT_REQUIRED,
        1: Provision.SHARED,
    }
    # The parent is told (masked name); the officer who ran it is not an "applicant".
    (notice,) = Notice.objects.filter(subject=f"applications.application:{application.pk}")
    assert notice.recipient == world.parent
    assert notice.kind == "granted"
    assert notice.params["person"] == "林*"


def test_grant_skips_whoever_the_rule_no_longer_finds_eligible(world: World) -> None:
    grown = needy_child(school_stage="primary")  # the registry changed since the run
    result = create(world, screening(world.child, grown))
    assert result.created == 1
    assert result.skipped == {"not_eligible": 1}
    assert not Application.objects.filter(person=grown).exists()
    assert not Grant.objects.filter(person=grown).exists()


# --- idempotency and skips ----------------------------------------------------------------------------------


def test_a_second_call_creates_nothing_new(world: World) -> None:
    marked(world, "confirm")
    run = screening(world.child)
    assert create(world, run).created == 1
    again = create(world, run)
    assert (again.created, again.skipped) == (0, {"created": 1})
    assert Application.objects.filter(person=world.child).count() == 1
    assert Prefill.objects.count() == 1
    # A later run finds the pending one and leaves it.
    later = create(world, screening(world.child))
    assert (later.created, later.skipped) == (0, {"pending": 1})


def test_skip_rules_are_counted(world: World) -> None:
    marked(world, "confirm")
    applied, declined, fresh = needy_child(), needy_child(), needy_child()
    application_submit(
        actor=world.officer, item=world.item, person=applied, materials={0: MaterialInput(Provision.COUNTER)}
    )
    first = create(world, screening(declined))
    pending = Application.objects.get(pk=first.application_ids[0])
    # ``declined`` has no linked account: the village agent declines for them.
    proactive.application_decline(actor=world.agent, application=pending, reason="家里已由幼儿园办理")

    run = screening(applied, declined, fresh, world.child, extra_ids=(987654321,))
    plan = proactive.prefill_plan(user=world.officer, run=run, item=world.item, township=TOWNSHIP)
    assert sorted(p.pk for p in plan.persons) == sorted([fresh.pk, world.child.pk])
    assert plan.skipped == {"pending": 1, "declined": 1, "not_in_registry": 1}
    result = create(world, run)
    assert result.created == 2
    assert result.skipped == plan.skipped


def test_the_plan_leaves_out_other_townships(world: World) -> None:
    marked(world, "confirm")
    elsewhere = needy_child(hukou_area="331002002901")
    result = create(world, screening(world.child, elsewhere))
    assert result.created == 1
    assert not Application.objects.filter(person=elsewhere).exists()


# --- permissions ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["officer_civil", "officer_b", "parent", "agent"])
def test_only_the_lead_departments_officers_of_the_area_may_run_it(world: World, who: str) -> None:
    marked(world, "confirm")
    with pytest.raises(PermissionDenied):
        create(world, screening(world.child), officer=getattr(world, who))
    assert not Application.objects.exists()


def test_an_item_not_marked_is_not_offered(world: World) -> None:
    ServiceItem.objects.filter(pk=world.item.pk).update(data={**world.item.data, "proactive": {"outreach": True}})
    world.item.refresh_from_db()
    with pytest.raises(ApplicationError) as caught:
        create(world, screening(world.child))
    assert caught.value.code == "not_offered"


# --- confirm and decline -------------------------------------------------------------------------------------


def prefilled(world: World) -> Application:
    marked(world, "confirm")
    result = create(world, screening(world.child))
    return Application.objects.get(pk=result.application_ids[0])


def test_the_prefilled_application_waits_with_the_registrys_facts(world: World) -> None:
    application = prefilled(world)
    assert application.status == Status.AWAITING_CONFIRMATION
    assert application.eligibility == "eligible"
    assert application.eligibility_reasons  # the criteria, as the registry answers them
    assert dict(application.materials.values_list("index", "provision")) == {1: Provision.SHARED}
    assert application.due_on is None
    (notice,) = Notice.objects.filter(subject=f"applications.application:{application.pk}")
    assert (notice.recipient, notice.kind, notice.params["person"]) == (world.parent, "prefilled", "林*")
    # Audited with the officer and the run.
    run = Prefill.objects.get(application=application).run
    row = AuditLog.objects.get(event="application.prefilled", object_id=str(application.pk))
    assert row.actor == world.officer
    assert row.after["run"] == run.pk
    assert row.after["township"] == TOWNSHIP
    summary = AuditLog.objects.get(event="application.prefill_run")
    assert summary.actor == world.officer
    assert summary.after["created"] == 1
    assert summary.after["item"] == "sa-preschool-aid"


@pytest.mark.parametrize("who", ["parent", "agent"])
def test_the_family_or_the_village_agent_confirms_and_the_clock_starts_then(world: World, who: str) -> None:
    application = prefilled(world)
    actor = getattr(world, who)
    later = MONDAY + dt.timedelta(days=2)
    done = proactive.application_confirm(
        actor=actor, application=application, materials={0: MaterialInput(Provision.UPLOAD, photo())}, now=at(later, 9)
    )
    assert done.status == Status.SUBMITTED
    assert done.submitted_by == actor
    assert done.capacity == (Capacity.FAMILY if who == "parent" else Capacity.AGENT)
    assert done.submitted_at == at(later, 9)
    rows = {r.index: r for r in done.materials.all()}
    assert rows[0].provision == Provision.UPLOAD
    assert rows[0].file
    assert rows[1].provision == Provision.SHARED
    event = ApplicationEvent.objects.get(application=done, kind=EventKind.CONFIRMED)
    assert event.actor == actor
    assert AuditLog.objects.filter(event="application.confirmed", object_id=str(done.pk), actor=actor).exists()
    # The ordinary flow from here: accepted, its step's clock from the acceptance.
    accepted = application_accept(actor=world.officer, application=done, now=at(later, 10))
    assert accepted.status == Status.IN_PROGRESS
    assert accepted.due_on is not None


@pytest.mark.parametrize("who", ["stranger", "agent_b", "officer", "officer_b"])
def test_others_may_not_confirm_or_decline(world: World, who: str) -> None:
    application = prefilled(world)
    actor = getattr(world, who)
    with pytest.raises(PermissionDenied):
        proactive.application_confirm(
            actor=actor, application=application, materials={0: MaterialInput(Provision.COUNTER)}
        )
    with pytest.raises(PermissionDenied):
        proactive.application_decline(actor=actor, application=application, reason="不要")
    application.refresh_from_db()
    assert application.status == Status.AWAITING_CONFIRMATION


def test_decline_closes_it_with_the_reason_and_later_runs_leave_the_person_alone(world: World) -> None:
    application = prefilled(world)
    with pytest.raises(ApplicationError) as caught:
        proactive.application_decline(actor=world.parent, application=application, reason="  ")
    assert caught.value.code == "reason_required"
    done = proactive.application_decline(actor=world.parent, application=application, reason="孩子已转学")
    assert done.status == Status.CLOSED
    assert ApplicationEvent.objects.get(application=done, kind=EventKind.DECLINED).reason == "孩子已转学"
    with pytest.raises(ApplicationError) as twice:
        proactive.application_confirm(
            actor=world.parent, application=done, materials={0: MaterialInput(Provision.COUNTER)}
        )
    assert twice.value.code == "wrong_state"
    assert create(world, screening(world.child)).skipped == {"declined": 1}
    # The ordinary way stays open.
    world.apply()


def test_an_ordinary_application_is_refused_while_one_waits_for_confirmation(world: World) -> None:
    prefilled(world)
    with pytest.raises(ApplicationError) as caught:
        world.apply()
    assert caught.value.code == "duplicate"


# --- through the pages --------------------------------------------------------------------------------------


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_officers_button_and_the_residents_confirmation(world: World) -> None:
    marked(world, "confirm")
    run = screening(world.child, needy_child())
    officer = client_for(world.officer)
    listing = officer.get(f"/proactive/{run.pk}/{TOWNSHIP}/sa-preschool-aid/").content.decode()
    url = f"/applications/prefill/{run.pk}/{TOWNSHIP}/sa-preschool-aid/"
    assert f'href="{url}"' in listing
    page = officer.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="create">2 人' in html
    assert 'data-testid="skip">0 人' in html
    assert not Application.objects.exists()  # the page only counts

    response = officer.post(url)
    job = Job.objects.get(kind="applications.prefill")
    assert response.url == f"/jobs/{job.pk}/"  # type: ignore[attr-defined]
    assert run_queue() == 1
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    assert Application.objects.filter(status=Status.AWAITING_CONFIRMATION).count() == 2
    panel = officer.get(f"/jobs/{job.pk}/panel/").content.decode()
    assert "已生成 2 件" in panel
    again = officer.get(url).content.decode()
    assert 'data-testid="create">0 人' in again
    assert "本次筛查已为其生成：2" in again

    # Other departments and areas are refused; the button is not shown to them.
    assert client_for(world.officer_civil).get(url).status_code == 403
    assert client_for(world.officer_b).get(url).status_code == 403
    assert client_for(world.parent).get(url).status_code == 403

    parent = client_for(world.parent)
    application = Application.objects.get(person=world.child)
    mine = parent.get("/applications/").content.decode()
    assert f"/applications/{application.pk}/confirm/" in mine
    assert "系统已预填，待您确认" in mine
    assert "to-confirm" in parent.get(f"/applications/{application.pk}/").content.decode()
    form = parent.get(f"/applications/{application.pk}/confirm/")
    assert form.status_code == 200
    assert "通过数据共享获取，无需提交" in form.content.decode()
    assert client_for(world.stranger).get(f"/applications/{application.pk}/confirm/").status_code == 404
    assert client_for(world.officer).get(f"/applications/{application.pk}/confirm/").status_code == 404

    missing = parent.post(f"/applications/{application.pk}/confirm/", {"revision": application.revision})
    assert missing.status_code == 400
    done = parent.post(
        f"/applications/{application.pk}/confirm/",
        {"revision": application.revision, "how-0": "counter", "confirm": "on"},
    )
    assert done.url == f"/applications/{application.pk}/"  # type: ignore[attr-defined]
    application.refresh_from_db()
    assert (application.status, application.submitted_by) == (Status.SUBMITTED, world.parent)
    assert "待受理" in parent.get(f"/applications/{application.pk}/").content.decode()


def test_the_resident_declines_through_the_page(world: World) -> None:
    application = prefilled(world)
    parent = client_for(world.parent)
    empty = parent.post(f"/applications/{application.pk}/decline/", {"revision": application.revision})
    assert empty.status_code == 400
    assert "请写明谢绝的原因" in empty.content.decode()
    done = parent.post(
        f"/applications/{application.pk}/decline/", {"revision": application.revision, "reason": "暂不需要"}
    )
    assert done.status_code == 302
    application.refresh_from_db()
    assert application.status == Status.CLOSED


def test_an_officer_may_not_run_another_countys_township(world: World) -> None:
    marked(world, "confirm")
    with pytest.raises(PermissionDenied):
        proactive.prefill_create(
            actor=world.officer, run=screening(world.child), item=world.item, township=TOWNSHIP_B, now=at(MONDAY)
        )


@pytest.mark.parametrize(
    ("lead", "handled_by"),
    [
        ("台州市民政局（会同台州市残疾人联合会）", "民政局"),  # partners in brackets work with the lead
        ("台州市民政局 (会同台州市残疾人联合会)", "民政局"),
        ("台州市民政局", "民政局"),
        ("台州市残疾人联合会", None),  # no such office on the platform: nobody is guessed
        ("（会同民政局）", None),  # only partners named: no lead
    ],
)
def test_the_lead_department_before_its_partners_in_brackets_handles_applications(
    world: World, lead: str, handled_by: str | None
) -> None:
    item = ServiceItem.objects.get(key=PRESCHOOL)
    item.lead_department_zh = lead
    department = department_for(item)
    assert (department.name_zh if department else None) == handled_by
