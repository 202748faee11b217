"""The two-county world, built once for the package inside a transaction that is rolled back afterwards.

Each test still runs in its own savepoint (pytest-django's ``db``), so what one request writes is gone before
the next test; the world itself is built once for every module here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.utils import translation

from tests.security.world import World, build_world


@pytest.fixture(scope="package")
def world(django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    from django.conf import settings

    media = tmp_path_factory.mktemp("media")
    old_media, settings.MEDIA_ROOT = settings.MEDIA_ROOT, str(media)
    # Every identity posts a comment from the same test address: past the hourly limit per address otherwise.
    old_feedback, settings.FUWU_FEEDBACK = (
        settings.FUWU_FEEDBACK,
        {**settings.FUWU_FEEDBACK, "per_address_per_hour": 1000},
    )
    with django_db_blocker.unblock(), translation.override("zh-hans"):
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield build_world(files=tmp_path_factory.mktemp("run"))
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
    settings.MEDIA_ROOT = old_media
    settings.FUWU_FEEDBACK = old_feedback


def client_as(world: World, role: str) -> Client:
    client = Client()
    user = world.user(role)
    if user is not None:
        client.force_login(user)
    return client
