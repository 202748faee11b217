"""System check: a deployment that requires screening in place (ADR 18) must run on PostgreSQL."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.database)
def in_place_needs_postgresql(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    if not getattr(settings, "FUWU_SCREEN_IN_PLACE", False):
        return []
    engine = str(settings.DATABASES["default"]["ENGINE"])
    if "postgresql" in engine:
        return []
    return [
        checks.Error(
            f"FUWU_SCREEN_IN_PLACE is on, but the database ({engine}) cannot screen in place: "
            "every registry screening would be refused.",
            hint="Set DATABASE_URL to PostgreSQL (then `fuwu migrate`), or turn FUWU_SCREEN_IN_PLACE off.",
            id="eligibility.E001",
        )
    ]
