"""A caregiver's photo is stored under a generated name with the extension its content gives, whatever the
file was called (an upload named ``poly.html`` must not land in media as an HTML page)."""

from __future__ import annotations

import re
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from fuwu.homecare.models import Order, ServicePhoto
from tests.homecare.conftest import World
from tests.homecare.test_services import png
from tests.homecare.test_views_door import (  # noqa: F401 - fixtures
    _media,
    as_user,
    booked,
    clock,
    in_service,
    scheduled,
)


def test_a_photo_named_like_a_web_page_is_stored_under_a_generated_name(
    client: Client,
    world: World,
    in_service: Order,  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    as_user(client, world.caregiver_user)
    url = reverse("homecare:visit_photo", args=[in_service.pk])
    response = client.post(url, {"photo": SimpleUploadedFile("poly.html", png(), "text/html")})
    assert response.status_code == 302
    photo = ServicePhoto.objects.get()
    assert re.fullmatch(r"homecare/photos/\d{4}/\d{2}/[0-9a-f]{32}\.png", photo.image.name), photo.image.name
    assert not list(tmp_path.rglob("*.html"))
    assert photo.content_type == "image/png"
