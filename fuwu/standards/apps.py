from __future__ import annotations

from django.apps import AppConfig


class StandardsConfig(AppConfig):
    name = "fuwu.standards"

    def ready(self) -> None:
        from fuwu.standards import search  # noqa: F401 - registers the synonym list's start-up check
