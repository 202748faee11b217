from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from fuwu.standards.models import StandardVersion
from fuwu.standards.parsing import parse_many
from fuwu.standards.services import standards_load

FIXTURES = Path(__file__).parent / "fixtures"
MINI = FIXTURES / "mini-standard.yaml"
REPO = Path(__file__).parent.parent

# A test that asks for none of these never opens the configured database: its answer is the same on SQLite and
# PostgreSQL. Such tests are marked ``database_independent`` so that CI, which runs the suite on both, can run
# them once (``.ci/run`` gives the PostgreSQL suite ``-m "not database_independent"``). Those that start a
# subprocess or a server take it out of the environment themselves (they drop ``DATABASE_URL``).
DATABASE_FIXTURES = frozenset(
    {"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback", "live_server"}
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if not item.get_closest_marker("django_db") and not DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker("database_independent")


@pytest.fixture
def write_standard(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write a variant of the mini standard: ``write_standard(old, new)`` replaces text."""

    def write(old: str = "", new: str = "", *, name: str = "variant.yaml") -> Path:
        text = MINI.read_text(encoding="utf-8")
        if old:
            assert old in text, f"fixture text not found: {old!r}"
            text = text.replace(old, new)
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def mini_version(db: None) -> StandardVersion:
    standards_load(parsed=parse_many([MINI]), actor=None)
    return StandardVersion.objects.get(standard__key="test-home-visits")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    # Real hashing costs ~0.3 s a login; tests log in hundreds of times.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _private_cache(settings: Any) -> None:
    # Each test gets an empty in-memory cache, never the demo's files under var/.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.fixture
def file_database(tmp_path: Path) -> Iterator[str]:
    """The test database as other threads and processes meet it in production; yields a DATABASE_URL for it.

    pytest-django's SQLite test database lives in memory with a shared cache, where a second writer is told
    "database table is locked" at once instead of waiting, and which no other process can open. On SQLite
    this copies it to a file for the duration of the test, so threads meet SQLite as the site runs it (WAL,
    ``BEGIN IMMEDIATE``, a busy timeout) and a subprocess (``fuwu worker``) can open it too. On PostgreSQL
    the test database already is shared. Either way the test needs ``django_db(transaction=True)`` for what
    it writes to be seen by others.
    """
    settings_dict = connection.settings_dict
    name, options = settings_dict["NAME"], settings_dict.get("OPTIONS", {})
    if connection.vendor != "sqlite":
        user = settings_dict.get("USER") or "postgres"
        password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
        host, port = settings_dict.get("HOST") or "127.0.0.1", settings_dict.get("PORT") or 5432
        yield f"postgres://{user}{password}@{host}:{port}/{name}"
        return
    if "mode=memory" not in str(name):
        yield f"sqlite:///{name}"
        return
    keep_alive = sqlite3.connect(name, uri=True)  # the in-memory database lives while a connection does
    connection.ensure_connection()
    path = tmp_path / "fuwu.sqlite3"
    with sqlite3.connect(path) as copy:
        connection.connection.backup(copy)
    copy.close()
    settings_dict["NAME"], settings_dict["OPTIONS"] = str(path), {**options, "timeout": 30}
    connection.close()  # no longer in memory, so this really closes; the next query opens the file
    try:
        yield f"sqlite:///{path}"
    finally:
        connection.close()
        settings_dict["NAME"], settings_dict["OPTIONS"] = name, options
        connection.ensure_connection()  # back on the in-memory database before letting go of it
        keep_alive.close()
