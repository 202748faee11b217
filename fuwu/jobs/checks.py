"""The schedule in settings is checked at start-up: a typo stops the worker, not a month-end run."""

from __future__ import annotations

from typing import Any

from django.core import checks

from fuwu.jobs.schedule import ScheduleError, entries


@checks.register()
def schedule_is_valid(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    try:
        entries()
    except ScheduleError as exc:
        return [checks.Error(f"FUWU_SCHEDULE: {exc}", id="jobs.E001")]
    return []
