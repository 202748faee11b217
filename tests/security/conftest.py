"""The two-county world, built once per module inside a transaction that is rolled back afterwards.

Each test still runs in its own savepoint (pytest-django's ``db``), so what one request writes is gone before
the next test; the world itself is built once, which keeps 2,000 requests to about a minute.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.utils import translation

from tests.security.world import World, build_world


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    from django.conf import settings

    media = tmp_path_factory.mktemp("media")
    old_media, settings.MEDIA_ROOT = settings.MEDIA_ROOT, str(media)
    with django_db_blocker.unblock(), translation.override("zh-hans"):
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
    settings.MEDIA_ROOT = old_media


@pytest.fixture
def media(world: World, settings: Any, tmp_path: Path) -> Path:
    return Path(settings.MEDIA_ROOT)


def client_as(world: World, role: str) -> Client:
    client = Client()
    user = world.user(role)
    if user is not None:
        client.force_login(user)
    return client
