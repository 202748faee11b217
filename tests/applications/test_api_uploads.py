"""Uploading materials through the API (``POST /api/v1/applications/{id}/materials``, multipart): the page's checks
by the page's code, each bad file refused with its code and nothing stored, the page's permissions and state
rules, ``Idempotency-Key`` as for submitting; every answer valid against the OpenAPI document."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openapi_spec_validator import validate as validate_spec

from fuwu.applications import services
from fuwu.applications.models import Application, ApplicationEvent, ApplicationMaterial, MaterialState, Status
from tests.applications.conftest import MONDAY, World, at
from tests.applications.test_api import as_user
from tests.applications.test_api import openapi as openapi  # the document, as the API tests read it
from tests.applications.test_uploads_and_races import BAD
from tests.common.test_uploads import jpeg

MATERIALS = "/api/v1/applications/{application_id}/materials"


def _files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def waiting(world: World) -> Application:
    """The world's application after the officer's notice (一次性告知) asked for the form again."""
    return services.application_notice(
        actor=world.officer, application=world.apply(), missing=[0], reason="表格不清楚", now=at(MONDAY, 11)
    )


def upload(
    client: Client,
    openapi: dict[str, Any],
    application: Application,
    status: int,
    *,
    key: str | None = "u-1",
    revision: int | None = None,
    parts: dict[str, Any],
) -> Any:
    """POST the parts as multipart and hold the answer to the document's schema for ``status``."""
    data = {"revision": application.revision if revision is None else revision, **parts}
    headers = {"Idempotency-Key": key} if key is not None else None
    response = client.post(MATERIALS.format(application_id=application.pk), data, headers=headers)
    assert response.status_code == status, response.content.decode()
    operation = openapi["paths"][MATERIALS]["post"]
    schema = operation["responses"][str(status)]["content"]["application/json"]["schema"]
    jsonschema.Draft202012Validator({**openapi, **schema}).validate(response.json())
    return response.json()


def photo(name: str = "补正表.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, jpeg(), content_type="image/jpeg")


def test_the_document_declares_the_multipart_body(openapi: dict[str, Any]) -> None:
    validate_spec(openapi)
    operation = openapi["paths"][MATERIALS]["post"]
    body = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert body["required"] == ["revision"]
    assert body["patternProperties"]["^material-[0-9]+$"]["format"] == "binary"
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in operation["parameters"])
    assert {"200", "201", "400", "401", "403", "404", "409", "413", "422"} <= set(operation["responses"])


def test_the_applicant_supplies_a_photo_and_the_clock_restarts(world: World, openapi: dict[str, Any]) -> None:
    application = waiting(world)
    before = _files()
    answer = upload(as_user(world.parent), openapi, application, 201, parts={"material-0": photo()})
    assert answer["status"] == Status.SUBMITTED  # back where the notice found it
    assert answer["paused"] is False
    assert answer["materials"][0] == {
        "index": 0,
        "name": answer["materials"][0]["name"],
        "provision": "upload",
        "state": MaterialState.PROVIDED,
        "promised_by": None,
    }
    row = ApplicationMaterial.objects.get(application=application, index=0)
    assert row.original_name == "补正表.jpg"
    assert row.content_type == "image/jpeg"
    stored = Path(settings.MEDIA_ROOT) / row.file.name
    assert stored.exists()
    assert b"Exif" not in stored.read_bytes()[:200]  # re-encoded: the test photo's GPS tag is gone
    assert len(_files()) == len(before) + 1
    event = ApplicationEvent.objects.get(application=application, kind="supplied")
    assert event.actor == world.parent
    assert event.details["idempotency_key"] == "u-1"


def test_a_retry_is_answered_without_storing_again(world: World, openapi: dict[str, Any]) -> None:
    application = waiting(world)
    parent = as_user(world.parent)
    first = upload(parent, openapi, application, 201, parts={"material-0": photo()})
    stored = _files()
    # The same key, the same file and fields (the revision the first one was sent with): the answer as it is now.
    again = upload(parent, openapi, application, 200, revision=application.revision, parts={"material-0": photo()})
    assert again["id"] == first["id"]
    assert again["revision"] == first["revision"]
    assert _files() == stored
    assert ApplicationEvent.objects.filter(application=application, kind="supplied").count() == 1
    # The same key with another file: refused, nothing stored.
    other = SimpleUploadedFile("另一张.jpg", jpeg(60, 30), content_type="image/jpeg")
    reused = upload(parent, openapi, application, 409, revision=application.revision, parts={"material-0": other})
    assert reused["code"] == "idempotency_key_reused"
    assert _files() == stored


@pytest.mark.parametrize(
    ("key", "status", "code"), [(None, 400, "idempotency_key_required"), ("k" * 65, 400, "bad_idempotency_key")]
)
def test_the_key_is_required(world: World, openapi: dict[str, Any], key: str | None, status: int, code: str) -> None:
    application = waiting(world)
    before = _files()
    answer = upload(as_user(world.parent), openapi, application, status, key=key, parts={"material-0": photo()})
    assert answer["code"] == code
    assert _files() == before


@pytest.mark.parametrize("kind", list(BAD))
def test_each_bad_file_is_refused_with_its_code_and_nothing_is_stored(
    world: World, openapi: dict[str, Any], kind: str
) -> None:
    application = waiting(world)
    before = _files()
    name, data = BAD[kind]
    answer = upload(
        as_user(world.parent), openapi, application, 422, parts={"material-0": SimpleUploadedFile(name, data)}
    )
    # The zip bomb (an .xlsx) is refused by what it is, before anything unpacks it.
    assert answer["code"] == {"zip_bomb": "wrong_type"}.get(kind, kind)
    assert answer["field"] == "material-0"
    assert "申请表" in answer["detail"]
    assert _files() == before
    row = ApplicationMaterial.objects.get(application=application, index=0)
    assert row.state == MaterialState.MISSING
    assert Application.objects.get(pk=application.pk).status == Status.AWAITING_APPLICANT
    assert not ApplicationEvent.objects.filter(application=application, kind="supplied").exists()


def test_an_oversize_file_and_a_pixel_bomb_are_refused(world: World, openapi: dict[str, Any], settings: Any) -> None:
    application = waiting(world)
    before = _files()
    settings.FUWU_UPLOAD_MAX_PIXELS = 100
    bomb = upload(as_user(world.parent), openapi, application, 422, parts={"material-0": photo()})
    assert bomb["code"] == "too_many_pixels"
    settings.FUWU_UPLOAD_MAX_BYTES = 1024
    big = SimpleUploadedFile("大.jpg", jpeg(400, 400) + b"\0" * 2048)
    assert upload(as_user(world.parent), openapi, application, 422, parts={"material-0": big})["code"] == "too_large"
    assert _files() == before


def test_a_body_over_the_upload_cap_is_413_before_it_is_read(
    world: World, openapi: dict[str, Any], settings: Any
) -> None:
    application = waiting(world)
    settings.FUWU_API_MAX_UPLOAD_BODY = 2048
    big = SimpleUploadedFile("大.jpg", jpeg(400, 400) + b"\0" * 4096)
    response = as_user(world.parent).post(
        MATERIALS.format(application_id=application.pk),
        {"revision": application.revision, "material-0": big},
        headers={"Idempotency-Key": "u-1"},
    )
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    # The JSON operations keep their own cap: multipart to them is not let through.
    assert as_user(world.parent).post("/api/v1/applications", {"x": "y" * 70_000}).status_code == 413


def test_bad_fields_name_the_field(world: World, openapi: dict[str, Any]) -> None:
    application = waiting(world)
    parent = as_user(world.parent)
    assert upload(parent, openapi, application, 422, revision=0, parts={"material-0": photo()})["field"] == "revision"
    answer = upload(parent, openapi, application, 422, parts={"picture": photo()})
    assert (answer["code"], answer["field"]) == ("unknown_field", "picture")
    both = upload(parent, openapi, application, 422, parts={"counter": "0", "material-0": photo()})
    assert (both["code"], both["field"]) == ("bad_field", "material-0")
    # JSON is not a file: the operation says how to send it.
    response = parent.post(
        MATERIALS.format(application_id=application.pk),
        {"revision": application.revision},
        content_type="application/json",
        headers={"Idempotency-Key": "u-2"},
    )
    assert response.status_code == 422
    assert response.json()["code"] == "not_multipart"
    assert len(_files()) == 1  # the submission's: nothing of these was stored


def test_the_state_rules_are_the_pages(world: World, openapi: dict[str, Any]) -> None:
    application = world.apply()  # submitted: waiting for nothing from the applicant
    parent = as_user(world.parent)
    before = _files()
    assert upload(parent, openapi, application, 409, parts={"material-0": photo()})["code"] == "wrong_state"
    services.application_notice(
        actor=world.officer, application=application, missing=[0], reason="缺", now=at(MONDAY, 11)
    )
    application.refresh_from_db()
    old = upload(parent, openapi, application, 409, revision=application.revision - 1, parts={"material-0": photo()})
    assert old["code"] == "stale"
    # Everything the notice asked for comes at once: a file for another material only is refused.
    absent = upload(parent, openapi, application, 422, parts={"material-1": photo()})
    assert (absent["code"], absent["field"]) == ("material_missing", "material-0")
    assert _files() == before
    # Brought to the counter instead: taken, no file.
    counter = upload(parent, openapi, application, 201, parts={"counter": "0"})
    assert counter["materials"][0]["provision"] == "counter"
    assert _files() == before


def test_who_may_supply(world: World, openapi: dict[str, Any]) -> None:
    application = waiting(world)
    before = _files()
    # The handling officer sees it but may not supply for the applicant: 403.
    assert (
        "not yours"
        in upload(as_user(world.officer), openapi, application, 403, parts={"material-0": photo()})["detail"]
    )
    # Another area's officer, another department's, a stranger, another village's agent: as if it did not exist.
    for user in (world.officer_b, world.officer_civil, world.stranger, world.agent_b, world.resident):
        upload(as_user(user), openapi, application, 404, parts={"material-0": photo()})
    assert Client().post(MATERIALS.format(application_id=application.pk), {"revision": 1}).status_code == 401
    assert _files() == before
    # The one who submitted it may (here the parent; an agent who submitted for a resident likewise).
    upload(as_user(world.parent), openapi, application, 201, parts={"material-0": photo()})
