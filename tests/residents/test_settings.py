"""Production will not start without FUWU_PII_KEY, as it will not without SECRET_KEY.

That production passes with its own key is checked in tests/test_settings.py.
"""

from __future__ import annotations

from fuwu.residents.crypto import DEVELOPMENT_KEY
from tests.test_settings import PRODUCTION, run_check


def test_production_refuses_to_start_without_a_pii_key() -> None:
    result = run_check(PRODUCTION)
    assert result.returncode != 0
    assert "FUWU_PII_KEY" in result.stderr


def test_production_with_the_development_key_fails_the_deploy_check() -> None:
    result = run_check({**PRODUCTION, "FUWU_PII_KEY": DEVELOPMENT_KEY})
    assert result.returncode != 0
    assert "residents.W001" in result.stderr + result.stdout


def test_a_malformed_key_stops_every_command() -> None:
    result = run_check({**PRODUCTION, "FUWU_PII_KEY": "too-short"})
    assert result.returncode != 0
    assert "residents.E001" in result.stderr + result.stdout
