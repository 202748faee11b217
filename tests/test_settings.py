"""Production settings pass Django's deployment checks; a production start without a secret fails."""

from __future__ import annotations

import base64
import os
import subprocess
import sys

from tests.conftest import REPO

# A production environment that is complete except for the keys each test varies.
PRODUCTION = {
    "FUWU_ENV": "production",
    "SECRET_KEY": "k" * 20 + "-production-grade-secret-for-the-check-" + "9" * 20,
    "ALLOWED_HOSTS": "fuwu.example.org",
    # The officers on whose behalf scheduled home-care work runs (homecare.W001 without them).
    "FUWU_SCHEDULE_OFFICERS": "civil-affairs-duty",
}


def run_check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE", "FUWU_PII_KEY"}
    }
    return subprocess.run(
        [sys.executable, "-m", "fuwu", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env={**base, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_settings_pass_check_deploy() -> None:
    # Production also needs its own key for the ID numbers (tests/residents/test_settings.py).
    result = run_check({**PRODUCTION, "FUWU_PII_KEY": base64.b64encode(os.urandom(32)).decode()})
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key() -> None:
    result = run_check({"FUWU_ENV": "production", "ALLOWED_HOSTS": "fuwu.example.org"})
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_development_defaults_are_flagged_by_check_deploy() -> None:
    assert run_check({}).returncode != 0


def test_production_without_schedule_officers_is_flagged_by_check_deploy() -> None:
    env = {**PRODUCTION, "FUWU_PII_KEY": base64.b64encode(os.urandom(32)).decode()}
    del env["FUWU_SCHEDULE_OFFICERS"]
    result = run_check(env)
    assert result.returncode != 0
    assert "homecare.W001" in result.stdout + result.stderr
