"""The applications API: submit (Idempotency-Key), list, read and act, by role and scope; refusals mapped to
their HTTP status with a stable code; every answer valid against the OpenAPI document."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from openapi_spec_validator import validate as validate_spec

from fuwu.accounts.models import User
from fuwu.applications.models import Application, ApplicationEvent, Capacity, Status
from fuwu.common.models import AuditLog
from fuwu.residents import crypto
from fuwu.residents.models import Person
from tests.api import contract
from tests.applications.conftest import PRESCHOOL, World

APPS = "/api/v1/applications"
ONE = "/api/v1/applications/{application_id}"
ACT = "/api/v1/applications/{application_id}/{action}"


@pytest.fixture
def openapi(world: World) -> dict[str, Any]:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def as_user(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def call(
    client: Client,
    openapi: dict[str, Any],
    template: str,
    status: int,
    *,
    path: str | None = None,
    body: dict[str, Any] | None = None,
    key: str | None = None,
) -> Any:
    """``tests.api.contract.call``, with ``key`` as the Idempotency-Key header."""
    headers = {"Idempotency-Key": key} if key is not None else None
    return contract.call(client, openapi, template, status, path=path, body=body, headers=headers)


def number(person: Person) -> str:
    return crypto.decrypt(person.id_number_encrypted, lookup=person.id_number_hash).value


def body_for(world: World, **extra: Any) -> dict[str, Any]:
    return {"item": PRESCHOOL, "person_id": world.child.pk, "materials": [{"index": 0, "provision": "counter"}]} | extra


def submitted(world: World, openapi: dict[str, Any], key: str = "k-1") -> dict[str, Any]:
    return call(as_user(world.parent), openapi, APPS, 201, body=body_for(world), key=key)


def act(
    client: Client, openapi: dict[str, Any], app: dict[str, Any], action: str, status: int = 200, **body: Any
) -> Any:
    path = ACT.format(application_id=app["id"], action=action)
    return call(client, openapi, ACT, status, path=path, body={"revision": app["revision"], **body})


# --- the document --------------------------------------------------------------------------------------------


def test_the_document_has_the_applications_paths_and_stays_valid(openapi: dict[str, Any]) -> None:
    validate_spec(openapi)
    assert {APPS, ONE, ACT} <= set(openapi["paths"])
    assert {"get", "post"} <= set(openapi["paths"][APPS])
    submit = openapi["paths"][APPS]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in submit["parameters"])
    assert {"200", "201", "400", "401", "404", "409", "422"} <= set(submit["responses"])
    actions = next(p for p in openapi["paths"][ACT]["post"]["parameters"] if p["name"] == "action")
    assert set(actions["schema"]["enum"]) == {
        "accept", "promise", "notice", "supply", "advance", "approve", "refuse", "transfer", "withdraw", "close"
    }  # fmt: skip


# --- submit and idempotency ----------------------------------------------------------------------------------


def test_family_submits_and_a_retry_gets_the_same_application(world: World, openapi: dict[str, Any]) -> None:
    first = submitted(world, openapi)
    assert first["capacity"] == Capacity.FAMILY
    assert first["status"] == Status.SUBMITTED
    assert first["submitted_by_you"] is True
    assert [m["provision"] for m in first["materials"]] == ["counter", "shared"]
    assert "id_number" not in str(first)
    assert number(world.child) not in str(first)
    # The same key and body: 200, the same application, nothing more written.
    again = call(as_user(world.parent), openapi, APPS, 200, body=body_for(world), key="k-1")
    assert again["id"] == first["id"]
    assert Application.objects.count() == 1
    assert ApplicationEvent.objects.filter(kind="submitted").count() == 1
    # ... and after the officer accepted it, the retry shows it as it is now.
    act(as_user(world.officer), openapi, first, "accept")
    later = call(as_user(world.parent), openapi, APPS, 200, body=body_for(world), key="k-1")
    assert later["id"] == first["id"]
    assert later["status"] == Status.IN_PROGRESS


def test_the_same_key_with_another_body_is_refused(world: World, openapi: dict[str, Any]) -> None:
    submitted(world, openapi)
    other = body_for(world, person_id=world.adult.pk)
    refused = call(as_user(world.parent), openapi, APPS, 409, body=other, key="k-1")
    assert refused["code"] == "idempotency_key_reused"
    assert "Idempotency-Key" in refused["detail"]
    assert Application.objects.count() == 1
    # Another key for the same person and item: the open application is there already.
    dup = call(as_user(world.parent), openapi, APPS, 409, body=body_for(world), key="k-2")
    assert dup["code"] == "duplicate"
    assert Application.objects.count() == 1


def test_the_key_is_per_user(world: World, openapi: dict[str, Any]) -> None:
    submitted(world, openapi, key="same")
    mine = call(
        as_user(world.resident),
        openapi,
        APPS,
        201,
        body=body_for(world, person_id=world.adult.pk),
        key="same",
    )
    assert mine["capacity"] == Capacity.SELF
    assert Application.objects.count() == 2


@pytest.mark.parametrize(
    ("key", "code"),
    [(None, "idempotency_key_required"), ("  ", "idempotency_key_required"), ("x" * 65, "bad_idempotency_key")],
)
def test_a_missing_or_long_key_is_400(world: World, openapi: dict[str, Any], key: str | None, code: str) -> None:
    refused = call(as_user(world.parent), openapi, APPS, 400, body=body_for(world), key=key)
    assert refused["code"] == code
    assert "Idempotency-Key" in refused["detail"]
    assert not Application.objects.exists()


def test_agents_and_counter_staff_submit_by_identity_number(world: World, openapi: dict[str, Any]) -> None:
    body = {"item": PRESCHOOL, "id_number": number(world.child), "materials": [{"index": 0, "provision": "counter"}]}
    by_agent = call(as_user(world.agent), openapi, APPS, 201, body=body, key="a")
    assert by_agent["capacity"] == Capacity.AGENT
    # Another village's agent, and another county's officer: as if the person did not exist.
    for outsider in (world.agent_b, world.officer_b, world.stranger):
        call(as_user(outsider), openapi, APPS, 404, body={**body, "item": PRESCHOOL}, key="b")
    body_adult = {**body, "id_number": number(world.adult)}
    by_counter = call(as_user(world.officer), openapi, APPS, 201, body=body_adult, key="c")
    assert by_counter["capacity"] == Capacity.COUNTER
    assert Application.objects.count() == 2


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"materials": [{"index": 0, "provision": "upload"}]}, 422, "upload_not_in_api"),
        ({"materials": []}, 422, "material_missing"),
        ({"materials": [{"index": 7, "provision": "counter"}]}, 422, "no_such_material"),
        ({"id_number": "331002202203010000"}, 422, "person_required"),
        ({"person_id": None, "id_number": "33100220220301001X"}, 422, "bad_id_number"),
        ({"materials": [{"index": 0, "provision": "fax"}]}, 422, "invalid"),
        ({"person_id": "me"}, 422, "invalid"),
    ],
)
def test_bad_submissions_are_refused_with_a_clear_message(
    world: World, openapi: dict[str, Any], change: dict[str, Any], status: int, code: str
) -> None:
    refused = call(as_user(world.parent), openapi, APPS, status, body=body_for(world) | change, key="k")
    assert refused["code"] == code
    assert refused["detail"]
    assert not Application.objects.exists()


def test_unknown_item_or_person_is_404_and_no_session_is_401(world: World, openapi: dict[str, Any]) -> None:
    call(as_user(world.parent), openapi, APPS, 404, body=body_for(world, item="no-such-item"), key="k")
    call(as_user(world.parent), openapi, APPS, 404, body=body_for(world, person_id=world.adult.pk + 999), key="k")
    # A person who exists but is not linked to this account: the same 404.
    call(as_user(world.parent), openapi, APPS, 404, body=body_for(world, person_id=world.adult.pk), key="k")
    assert Client().post(APPS, body_for(world), content_type="application/json").status_code == 401
    assert Client().get(APPS).status_code == 401
    broken = as_user(world.parent).post(APPS, "{", content_type="application/json", headers={"Idempotency-Key": "k"})
    assert broken.status_code == 400
    assert broken.json()["code"] == "bad_json"
    assert not Application.objects.exists()


# --- reading -------------------------------------------------------------------------------------------------


def test_list_and_detail_are_scoped(world: World, openapi: dict[str, Any]) -> None:
    app = submitted(world, openapi)
    call(
        as_user(world.resident), openapi, APPS, 201, body=body_for(world, person_id=world.adult.pk), key="r"
    )  # another family's
    page = call(as_user(world.parent), openapi, APPS, 200)
    assert [a["id"] for a in page["items"]] == [app["id"]]
    assert page["count"] == 1
    officer = call(as_user(world.officer), openapi, APPS, 200, path=APPS + "?limit=1")
    assert officer["count"] == 2
    assert len(officer["items"]) == 1
    assert officer["limit"] == 1
    second = call(as_user(world.officer), openapi, APPS, 200, path=APPS + "?limit=1&offset=1")
    assert second["items"][0]["id"] != officer["items"][0]["id"]
    for outsider in (world.officer_b, world.officer_civil, world.stranger, world.agent_b):
        assert call(as_user(outsider), openapi, APPS, 200)["count"] == 0
        call(as_user(outsider), openapi, ONE, 404, path=ONE.format(application_id=app["id"]))
    detail = call(as_user(world.parent), openapi, ONE, 200, path=ONE.format(application_id=app["id"]))
    assert [e["kind"] for e in detail["events"]] == ["submitted"]
    assert detail["refusal_grounds"] == []  # the applicant cites nothing
    handled = call(as_user(world.officer), openapi, ONE, 200, path=ONE.format(application_id=app["id"]))
    assert handled["refusal_grounds"]
    assert AuditLog.objects.filter(event="persons.listed", note="application (api)").count() == 2
    call(as_user(world.parent), openapi, ONE, 404, path=ONE.format(application_id=99999))
    assert as_user(world.parent).get(APPS + "?limit=0").status_code == 422


# --- acting --------------------------------------------------------------------------------------------------


def test_the_whole_way_through_the_api(world: World, openapi: dict[str, Any]) -> None:
    officer, parent = as_user(world.officer), as_user(world.parent)
    app = submitted(world, openapi)
    app = act(officer, openapi, app, "accept")
    assert app["status"] == Status.IN_PROGRESS
    assert app["due_on"]
    assert app["step"] == 1
    app = act(officer, openapi, app, "notice", materials=[0], reason="申请表未签字")
    assert app["status"] == Status.AWAITING_APPLICANT
    assert app["paused"] is True
    app = act(parent, openapi, app, "supply", materials=[0])
    assert app["status"] == Status.IN_PROGRESS
    assert app["paused"] is False
    again = act(officer, openapi, app, "notice", 409, materials=[0], reason="再告知")
    assert again["code"] == "notice_already_sent"
    app = act(officer, openapi, app, "advance", reason="审核通过")
    assert app["step"] == 2
    last = act(officer, openapi, app, "advance", 409)
    assert last["code"] == "last_step"
    app = act(officer, openapi, app, "approve", reason="同意")
    assert app["status"] == Status.APPROVED
    assert [e["kind"] for e in app["events"]] == ["submitted", "accepted", "notice", "supplied", "advanced", "approved"]


def test_stale_revision_wrong_state_and_wrong_actor(world: World, openapi: dict[str, Any]) -> None:
    officer = as_user(world.officer)
    app = submitted(world, openapi)
    accepted = act(officer, openapi, app, "accept")
    # A second officer acting on what they saw before: 409 stale, nothing done.
    stale = act(officer, openapi, app, "close", 409, reason="重复")
    assert stale["code"] == "stale"
    assert "刷新" in stale["detail"]
    wrong = act(officer, openapi, accepted, "accept", 409)
    assert wrong["code"] == "wrong_state"
    # The applicant may see it, not approve it; another county's officer does not see it at all.
    assert act(as_user(world.parent), openapi, accepted, "approve", 403)["detail"]
    act(as_user(world.officer_b), openapi, accepted, "approve", 404)
    act(as_user(world.stranger), openapi, accepted, "withdraw", 404)
    assert act(officer, openapi, accepted, "supply", 403, materials=[0])["detail"]
    assert Application.objects.get().status == Status.IN_PROGRESS


@pytest.mark.parametrize(
    ("action", "body", "code"),
    [
        ("refuse", {"reason": "不符合"}, "ground_required"),
        ("close", {}, "reason_required"),
        ("notice", {"reason": "缺"}, "no_materials"),
        ("promise", {"materials": [0], "reason": "先受理"}, "bad_days"),
        ("promise", {"materials": [0], "reason": "先受理", "days": 99}, "bad_days"),
        ("transfer", {"department": "nowhere", "reason": "转"}, "no_such_department"),
        ("transfer", {"department": "education", "reason": "转"}, "same_department"),
    ],
)
def test_bad_actions_name_the_field(
    world: World, openapi: dict[str, Any], action: str, body: dict[str, Any], code: str
) -> None:
    app = submitted(world, openapi)
    refused = act(as_user(world.officer), openapi, app, action, 422, **body)
    assert refused["code"] == code
    assert refused["detail"]
    assert Application.objects.get().revision == app["revision"]


def test_refuse_transfer_withdraw_close(world: World, openapi: dict[str, Any]) -> None:
    officer = as_user(world.officer)
    app = submitted(world, openapi)
    ground = app and call(officer, openapi, ONE, 200, path=ONE.format(application_id=app["id"]))["refusal_grounds"][0]
    refused = act(officer, openapi, app, "refuse", reason="不符合条件", ground=ground["key"])
    assert refused["status"] == Status.REFUSED
    other = call(as_user(world.resident), openapi, APPS, 201, body=body_for(world, person_id=world.adult.pk), key="o")
    moved = act(officer, openapi, other, "transfer", department="civil-affairs", reason="属民政")
    assert moved["department"] == "civil-affairs"
    # Now the civil affairs officer handles it, the education officer no longer sees it.
    act(officer, openapi, moved, "close", 404, reason="x")
    withdrawn = act(as_user(world.resident), openapi, moved, "withdraw", reason="不需要了")
    assert withdrawn["status"] == Status.WITHDRAWN
    third = submitted(world, openapi, key="third")
    closed = act(officer, openapi, third, "close", reason="逾期未补正")
    assert closed["status"] == Status.CLOSED


def test_unknown_action_and_bad_revision_do_not_parse(world: World, openapi: dict[str, Any]) -> None:
    app = submitted(world, openapi)
    officer = as_user(world.officer)
    bad = officer.post(ACT.format(application_id=app["id"], action="explode"), {"revision": 1}, "application/json")
    assert bad.status_code == 422
    assert bad.json()["code"] == "invalid"
    assert "action" in bad.json()["detail"]
    zero = officer.post(ACT.format(application_id=app["id"], action="accept"), {"revision": 0}, "application/json")
    assert zero.status_code == 422
    assert "revision" in zero.json()["detail"]
    assert Application.objects.get().status == Status.SUBMITTED
