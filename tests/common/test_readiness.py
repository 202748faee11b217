"""Is the database ready? /healthz, /readyz, and commands that need the standards on an empty database."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import OperationalError, connection
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client

from tests.conftest import REPO

FIRST_STEPS = "run `fuwu migrate` and `fuwu standards load standards/` first"


def fuwu(*args: str, var: Path) -> subprocess.CompletedProcess[str]:
    """The real command line on a fresh var/ (no database yet), as a newcomer runs it."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    return subprocess.run(  # noqa: S603 - our own interpreter and command
        [sys.executable, "-m", "fuwu", *args],
        cwd=REPO,
        env={**env, "FUWU_VAR_DIR": str(var), "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        check=False,
    )


def test_commands_on_a_database_that_was_never_migrated_say_what_to_run(tmp_path: Path) -> None:
    var = tmp_path / "fresh" / "var"  # not even the folder exists, as on a fresh clone
    for command in (["screen", "--registry"], ["homecare", "flag-overdue"]):
        result = fuwu(*command, var=var)
        assert result.returncode == 1
        assert "the database is empty (not migrated)" in result.stderr
        assert FIRST_STEPS in result.stderr
        assert "no such table" not in result.stderr
        assert "Traceback" not in result.stderr
    # The folder of the default SQLite database is made by fuwu itself, so `fuwu migrate` just works.
    assert (var / "fuwu.sqlite3").exists()


@pytest.mark.django_db
def test_a_migrated_database_without_standards_says_what_to_run(tmp_path: Path) -> None:
    for command in (["screen", "--registry"], ["whatif", "--draft", "x.yaml", "--population", "p.parquet"]):
        with pytest.raises(CommandError, match=r"no standard is in force \(none loaded\); run `fuwu migrate`"):
            call_command(*command, stdout=io.StringIO())


@pytest.fixture
def standards(db: None) -> None:
    call_command("standards", "load", str(REPO / "standards"), stdout=io.StringIO())


def test_healthz_answers_without_the_database(client: Client) -> None:
    # No django_db mark: any query here would fail the test.
    response = client.get("/healthz")
    assert (response.status_code, response.content) == (200, b"ok\n")
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_readyz_when_migrated_and_standards_are_loaded(client: Client, standards: None) -> None:
    response = client.get("/readyz")
    assert (response.status_code, response.content) == (200, b"ready\n")


@pytest.mark.django_db
def test_readyz_without_standards(client: Client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.content == b"not ready: no standard is in force (none loaded)\n"


def test_readyz_with_a_migration_not_applied(client: Client, standards: None) -> None:
    MigrationRecorder(connection).migration_qs.filter(app="jobs").delete()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.content.startswith(b"not ready: migrations not applied: jobs.0001_")


def test_readyz_when_the_database_is_down_hides_the_detail(
    client: Client, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def refuse() -> None:
        raise OperationalError('connection to server at "db.internal" (10.0.0.5), port 5432 failed')

    monkeypatch.setattr(connection, "ensure_connection", refuse)
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.content == b"not ready: the database is not reachable\n"
    assert "db.internal" in caplog.text  # in the log for the operator, not in the answer
