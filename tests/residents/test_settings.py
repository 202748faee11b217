"""Production will not start without FUWU_PII_KEY, as it will not without SECRET_KEY."""

from __future__ import annotations

import base64
import os
import subprocess
import sys

from fuwu.residents.crypto import DEVELOPMENT_KEY
from tests.conftest import REPO

PRODUCTION = {
    "FUWU_ENV": "production",
    "SECRET_KEY": "k" * 20 + "-production-grade-secret-for-the-check-" + "9" * 20,
    "ALLOWED_HOSTS": "fuwu.example.org",
}


def run_check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "DEBUG", "SECRET_KEY", "FUWU_PII_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    return subprocess.run(
        [sys.executable, "-m", "fuwu", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env={**base, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_refuses_to_start_without_a_pii_key() -> None:
    result = run_check(PRODUCTION)
    assert result.returncode != 0
    assert "FUWU_PII_KEY" in result.stderr


def test_production_with_its_own_key_passes() -> None:
    result = run_check({**PRODUCTION, "FUWU_PII_KEY": base64.b64encode(os.urandom(32)).decode()})
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_with_the_development_key_fails_the_deploy_check() -> None:
    result = run_check({**PRODUCTION, "FUWU_PII_KEY": DEVELOPMENT_KEY})
    assert result.returncode != 0
    assert "residents.W001" in result.stderr + result.stdout


def test_a_malformed_key_stops_every_command() -> None:
    result = run_check({**PRODUCTION, "FUWU_PII_KEY": "too-short"})
    assert result.returncode != 0
    assert "residents.E001" in result.stderr + result.stdout
