"""System checks for the PII key: a broken key stops every command; the public development key fails --deploy."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from fuwu.residents.crypto import DEVELOPMENT_KEY, decode_key


@checks.register(checks.Tags.security)
def pii_key_is_usable(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    try:
        decode_key(str(getattr(settings, "FUWU_PII_KEY", "")))
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="residents.E001")]
    errors: list[checks.CheckMessage] = []
    for old in getattr(settings, "FUWU_PII_OLD_KEYS", []):
        try:
            decode_key(str(old), setting="FUWU_PII_OLD_KEYS")
        except ImproperlyConfigured as exc:
            errors.append(checks.Error(str(exc), id="residents.E002"))
    return errors


@checks.register(checks.Tags.security, deploy=True)
def pii_key_is_not_the_development_key(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    if getattr(settings, "FUWU_PII_KEY", "") == DEVELOPMENT_KEY:
        return [
            checks.Warning(
                "FUWU_PII_KEY is the public development key; identity numbers encrypted with it are not protected.",
                hint="Set FUWU_PII_KEY to base64 of 32 random bytes, kept secret and backed up.",
                id="residents.W001",
            )
        ]
    return []
