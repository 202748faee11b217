"""Bad uploads store nothing (no file, no row); two officers acting at once: one wins, the other is told."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections

from fuwu.applications import services
from fuwu.applications.models import Application, ApplicationEvent, ApplicationMaterial, Provision, Status
from fuwu.applications.services import ApplicationError, MaterialInput
from tests.applications.conftest import MONDAY, World, at
from tests.common.test_uploads import jpeg


def _files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _zip_bomb() -> bytes:
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", b"0" * 5_000_000)
    return out.getvalue()


BAD = {
    "renamed": ("申请表.pdf", b"PK\x03\x04 not a pdf at all"),
    "wrong_type": ("申请表.docx", b"PK\x03\x04 a word file"),
    "broken_image": ("申请表.jpg", jpeg()[:60]),
    "empty": ("申请表.png", b""),
    "pdf_active_content": (
        "申请表.pdf",
        b"%PDF-1.4\n1 0 obj << /OpenAction << /JavaScript (app.alert(1)) >> >>\n%%EOF",
    ),
    "zip_bomb": ("申请表.xlsx", _zip_bomb()),
}


@pytest.mark.parametrize("kind", list(BAD))
def test_a_bad_upload_is_refused_and_nothing_is_stored(world: World, kind: str) -> None:
    name, data = BAD[kind]
    with pytest.raises(ApplicationError) as refused:
        world.apply(upload=SimpleUploadedFile(name, data))
    assert refused.value.field == "material-0"
    assert "申请表" in str(refused.value)
    assert not Application.objects.exists()
    assert not ApplicationMaterial.objects.exists()
    assert _files() == []


def test_an_oversize_upload_is_refused(world: World, settings: object) -> None:
    settings.FUWU_UPLOAD_MAX_BYTES = 1024  # type: ignore[attr-defined]
    with pytest.raises(ApplicationError) as refused:
        world.apply(upload=SimpleUploadedFile("申请表.jpg", jpeg(400, 400) + b"\0" * 2048))
    assert refused.value.code == "too_large"
    assert _files() == []


def test_a_bad_supply_keeps_the_application_waiting_and_stores_nothing(world: World) -> None:
    application = services.application_notice(
        actor=world.officer, application=world.apply(), missing=[0], reason="缺", now=at(MONDAY, 11)
    )
    before = _files()
    with pytest.raises(ApplicationError):
        services.application_supply(
            actor=world.parent,
            application=application,
            materials={0: MaterialInput(Provision.UPLOAD, SimpleUploadedFile("x.png", b"GIF89a..."))},
        )
    assert _files() == before
    assert Application.objects.get(pk=application.pk).status == Status.AWAITING_APPLICANT


def test_a_good_photo_is_stored_without_its_location(world: World) -> None:
    application = world.apply()
    material = application.materials.get(index=0)
    stored = Path(settings.MEDIA_ROOT) / material.file.name
    assert stored.exists()
    assert material.content_type == "image/jpeg"
    assert b"Exif" not in stored.read_bytes()[:200]


# --- races --------------------------------------------------------------------------------------------------


def together(count: int, attempt: Callable[[int], str]) -> list[str]:
    barrier = threading.Barrier(count)

    def run(i: int) -> str:
        try:
            barrier.wait(timeout=30)
            return attempt(i)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return [f.result(timeout=120) for f in [pool.submit(run, i) for i in range(count)]]


def outcome(step: Callable[[], object]) -> str:
    try:
        step()
    except ApplicationError as error:
        return error.code
    except PermissionDenied:
        return "permission_denied"
    return "ok"


@pytest.mark.django_db(transaction=True)
def test_two_officers_deciding_at_once_one_wins(world: World, file_database: str) -> None:
    from django.contrib.auth import get_user_model

    second = get_user_model().objects.create_user(
        username="officer2",
        password="x-long-password-1",
        role="department_officer",
        area=world.officer.area,
        department=world.education,
    )
    application = services.application_accept(actor=world.officer, application=world.apply(), now=at(MONDAY, 11))
    seen = application.revision

    def attempt(i: int) -> str:
        officer = (world.officer, second)[i]
        if i == 0:
            return outcome(
                lambda: services.application_decide(
                    actor=officer, application=application, approve=True, reason="同意", revision=seen
                )
            )
        return outcome(
            lambda: services.application_decide(
                actor=officer,
                application=application,
                approve=False,
                reason="不符合",
                ground="criterion:special-difficulty",
                revision=seen,
            )
        )

    results = together(2, attempt)
    assert sorted(results) == ["ok", "stale"]
    assert ApplicationEvent.objects.filter(application=application, kind__in=["approved", "refused"]).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_same_action_twice_at_once_happens_once(world: World, file_database: str) -> None:
    application = world.apply()
    results = together(
        4, lambda i: outcome(lambda: services.application_accept(actor=world.officer, application=application))
    )
    assert sorted(results) == ["ok", "wrong_state", "wrong_state", "wrong_state"]
    assert ApplicationEvent.objects.filter(application=application, kind="accepted").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_submissions_at_once_make_one_application(world: World, file_database: str) -> None:
    results = together(2, lambda i: outcome(lambda: world.apply((world.parent, world.agent)[i])))
    assert sorted(results) == ["duplicate", "ok"]
    assert Application.objects.count() == 1
    # The refused one's file was removed: one stored upload remains.
    assert len(_files()) == 1
