"""Periodic work: one table in settings (``FUWU_SCHEDULE``), run by ``fuwu worker``'s scheduler.

An entry names a kind of job and when it runs, in Asia/Shanghai wall-clock time::

    FUWU_SCHEDULE = {
        "homecare-flag-overdue": {"kind": "homecare.flag_overdue", "every": "hour", "minute": 5},
        "standards-review-reminders": {"kind": "standards.review_reminders", "every": "day", "at": "07:00"},
        "homecare-settlement": {"kind": "homecare.settlement_month_end", "every": "month", "day": 1, "at": "02:00"},
        "something-often": {"kind": "...", "every": "15 minutes"},
    }

On each tick the scheduler takes every entry's latest slot that has begun and claims it by inserting
``ScheduleSlot(name, slot)``; the unique constraint lets exactly one worker win, and only the winner
queues the job (in the same transaction). A worker that was down for a while queues the latest slot
once, not every slot it missed. The job gets ``{"slot": "<ISO time>"}`` as its parameters.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from fuwu.jobs import kinds
from fuwu.jobs.models import ScheduleSlot
from fuwu.jobs.services import job_start

logger = logging.getLogger(__name__)

MINUTES = re.compile(r"^(\d+) minutes?$")


class ScheduleError(ValueError):
    pass


@dataclass(frozen=True)
class Entry:
    name: str
    kind: str
    every: str  # "hour", "day", "month" or "N minutes"
    minute: int = 0
    at: dt.time = dt.time(0, 0)
    day: int = 1
    params: dict[str, Any] | None = None

    def slot(self, now: dt.datetime) -> dt.datetime:
        """The start of the latest slot at or before ``now`` (aware, in the current time zone)."""
        local = timezone.localtime(now)
        if self.every == "hour":
            start = local.replace(minute=self.minute, second=0, microsecond=0)
            if start > local:
                start -= dt.timedelta(hours=1)
        elif self.every == "day":
            start = local.replace(hour=self.at.hour, minute=self.at.minute, second=0, microsecond=0)
            if start > local:
                start = _same_time(start.date() - dt.timedelta(days=1), self.at)
        elif self.every == "month":
            start = _same_time(local.date().replace(day=self.day), self.at)
            if start > local:
                first = local.date().replace(day=1)
                start = _same_time((first - dt.timedelta(days=1)).replace(day=self.day), self.at)
        else:
            step = int(MINUTES.match(self.every).group(1)) * 60  # type: ignore[union-attr]  # checked in parse
            epoch = int(local.timestamp())
            start = timezone.localtime(dt.datetime.fromtimestamp(epoch - epoch % step, tz=dt.UTC))
        return start


def _same_time(day: dt.date, at: dt.time) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, at))


def parse(name: str, spec: dict[str, Any]) -> Entry:
    """One settings entry, checked; ``ScheduleError`` says what is wrong with it."""
    unknown = set(spec) - {"kind", "every", "minute", "at", "day", "params"}
    if unknown:
        raise ScheduleError(f"{name}: unknown key(s) {', '.join(sorted(unknown))}")
    kind = spec.get("kind", "")
    if kind not in kinds.KINDS:
        raise ScheduleError(f"{name}: no job kind {kind!r}; known kinds: {', '.join(sorted(kinds.KINDS))}")
    every = str(spec.get("every", ""))
    if every not in {"hour", "day", "month"} and not MINUTES.match(every):
        raise ScheduleError(f"{name}: every={every!r}; use 'hour', 'day', 'month' or 'N minutes'")
    match = MINUTES.match(every)
    if match and not 1 <= int(match.group(1)) <= 1440:
        raise ScheduleError(f"{name}: every={every!r}; between 1 and 1440 minutes")
    minute = int(spec.get("minute", 0))
    if not 0 <= minute <= 59:
        raise ScheduleError(f"{name}: minute={minute}; 0 to 59")
    try:
        at = dt.time.fromisoformat(str(spec.get("at", "00:00")))
    except ValueError:
        raise ScheduleError(f"{name}: at={spec.get('at')!r}; a time such as '02:00'") from None
    day = int(spec.get("day", 1))
    if not 1 <= day <= 28:
        raise ScheduleError(f"{name}: day={day}; 1 to 28, so every month has it")
    return Entry(name, kind, every, minute, at, day, spec.get("params"))


def entries() -> list[Entry]:
    return [parse(name, spec) for name, spec in getattr(settings, "FUWU_SCHEDULE", {}).items()]


def schedule_tick(*, now: dt.datetime | None = None, worker_id: str = "") -> list[ScheduleSlot]:
    """Claim and queue every entry's current slot that nobody has claimed yet; returns the slots claimed here."""
    now = now or timezone.now()
    claimed = []
    for entry in entries():
        slot = entry.slot(now)
        if ScheduleSlot.objects.filter(name=entry.name, slot=slot).exists():
            continue
        try:
            with transaction.atomic():
                claim = ScheduleSlot.objects.create(name=entry.name, slot=slot, claimed_by=worker_id[:64])
                claim.job = job_start(
                    kind=entry.kind,
                    actor=None,
                    params={**(entry.params or {}), "slot": slot.isoformat()},
                    schedule=entry.name,
                )
                claim.save(update_fields=["job"])
        except IntegrityError:
            continue  # another worker claimed it first
        logger.info("schedule %s: queued job %s for %s", entry.name, claim.job_id, slot.isoformat())
        claimed.append(claim)
    return claimed
