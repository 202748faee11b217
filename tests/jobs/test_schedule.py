"""The scheduler: slots in Asia/Shanghai time, and exactly one job per slot however many workers tick."""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connections
from django.db.models import QuerySet
from django.utils import timezone

from fuwu.jobs import kinds
from fuwu.jobs.kinds import Outcome, Progress
from fuwu.jobs.models import Job, ScheduleSlot
from fuwu.jobs.schedule import Entry, ScheduleError, parse, schedule_tick
from fuwu.jobs.worker import run_queue

ran: list[str] = []


@kinds.register("tests.tick", label="定时测试")
def tick(job: Job, progress: Progress) -> Outcome:
    ran.append(job.params["slot"])
    return Outcome()


def shanghai(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=timezone.get_current_timezone())  # type: ignore[misc]


SCHEDULE = {
    "every-15": {"kind": "tests.tick", "every": "15 minutes"},
    "hourly": {"kind": "tests.tick", "every": "hour", "minute": 5},
    "daily": {"kind": "tests.tick", "every": "day", "at": "07:00"},
    "month-end": {"kind": "tests.tick", "every": "month", "day": 1, "at": "02:00"},
}


@pytest.mark.parametrize(
    ("spec", "now", "slot"),
    [
        ({"every": "hour", "minute": 5}, shanghai(2026, 12, 1, 9, 4), shanghai(2026, 12, 1, 8, 5)),
        ({"every": "hour", "minute": 5}, shanghai(2026, 12, 1, 9, 5), shanghai(2026, 12, 1, 9, 5)),
        ({"every": "day", "at": "07:00"}, shanghai(2026, 12, 1, 6, 59), shanghai(2026, 11, 30, 7, 0)),
        ({"every": "day", "at": "07:00"}, shanghai(2026, 12, 1, 23, 0), shanghai(2026, 12, 1, 7, 0)),
        # 01:30 in Shanghai on the 1st is still the 30th of the previous month in UTC: the slot is local.
        ({"every": "month", "day": 1, "at": "01:00"}, shanghai(2026, 12, 1, 1, 30), shanghai(2026, 12, 1, 1, 0)),
        ({"every": "month", "day": 1, "at": "02:00"}, shanghai(2026, 12, 1, 1, 30), shanghai(2026, 11, 1, 2, 0)),
        ({"every": "month", "day": 1, "at": "02:00"}, shanghai(2027, 1, 1, 0, 0), shanghai(2026, 12, 1, 2, 0)),
        ({"every": "15 minutes"}, shanghai(2026, 12, 1, 9, 44, 59), shanghai(2026, 12, 1, 9, 30)),
    ],
)
def test_the_latest_slot_that_has_begun(spec: dict[str, Any], now: dt.datetime, slot: dt.datetime) -> None:
    assert parse("x", {"kind": "tests.tick", **spec}).slot(now) == slot


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ({"kind": "no.such"}, "no job kind 'no.such'"),
        ({"kind": "tests.tick", "every": "fortnight"}, "every='fortnight'"),
        ({"kind": "tests.tick", "every": "month", "day": 31}, "day=31; 1 to 28"),
        ({"kind": "tests.tick", "every": "day", "at": "7 am"}, "at='7 am'"),
        ({"kind": "tests.tick", "every": "day", "cron": "* * *"}, "unknown key(s) cron"),
    ],
)
def test_a_bad_entry_is_refused_with_the_reason(spec: dict[str, Any], problem: str) -> None:
    with pytest.raises(ScheduleError, match=re.escape(problem)):
        parse("x", spec)


def test_a_bad_schedule_stops_start_up(settings: Any) -> None:
    settings.FUWU_SCHEDULE = {"typo": {"kind": "tests.tick", "every": "dayly"}}
    with pytest.raises(SystemCheckError, match=r"jobs\.E001"):
        call_command("check")


def test_the_settings_schedule_names_registered_kinds() -> None:
    from django.conf import settings

    entries = [parse(name, spec) for name, spec in settings.FUWU_SCHEDULE.items()]
    assert {e.kind for e in entries} == {
        "homecare.flag_overdue",
        "standards.review_reminders",
        "homecare.callbacks_sample",
        "homecare.settlement_month_end",
        "eligibility.runs_purge",
        "evaluation.indicators_compute",
        "applications.figures_compute",
        "notices.send_due",
        "applications.flag_overdue",
    }
    assert all(isinstance(e, Entry) for e in entries)


@pytest.mark.django_db
def test_each_slot_is_queued_once_and_run(settings: Any) -> None:
    settings.FUWU_SCHEDULE = SCHEDULE
    ran.clear()
    now = shanghai(2026, 12, 1, 9, 10)
    assert len(schedule_tick(now=now)) == 4
    assert schedule_tick(now=now) == []
    assert schedule_tick(now=now + dt.timedelta(minutes=4)) == []  # still the same slots
    later = schedule_tick(now=now + dt.timedelta(minutes=6))  # 09:15: a new quarter hour
    assert [c.name for c in later] == ["every-15"]
    assert run_queue() == 5
    assert sorted(ran) == sorted(
        [
            shanghai(2026, 12, 1, 9, 0).isoformat(),
            shanghai(2026, 12, 1, 9, 15).isoformat(),
            shanghai(2026, 12, 1, 9, 5).isoformat(),
            shanghai(2026, 12, 1, 7, 0).isoformat(),
            shanghai(2026, 12, 1, 2, 0).isoformat(),
        ]
    )
    assert set(Job.objects.values_list("status", flat=True)) == {"succeeded"}
    assert Job.objects.filter(schedule="month-end", requested_by__isnull=True).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_ticking_at_once_queue_each_slot_exactly_once(
    settings: Any, file_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.FUWU_SCHEDULE = SCHEDULE
    now = shanghai(2026, 12, 1, 9, 10)
    workers = 2
    rounds = 5
    # Both workers look for each slot, and only once both have looked does either try to claim it: every slot
    # is fought over by both (the second insert must fail on the constraint), however the threads are
    # scheduled on a loaded machine. Without this, one worker could tick through every entry before the other
    # starts, and the test would prove nothing about two at once.
    barrier = threading.Barrier(workers)
    free: Counter[tuple[int, int]] = Counter()  # (round, entry) → how many workers found its slot unclaimed
    counting = threading.Lock()
    ticking = threading.local()  # this worker's round, and which entry it looks at
    real_exists = QuerySet.exists

    def exists_then_wait(queryset: QuerySet[Any]) -> bool:
        found = real_exists(queryset)
        if queryset.model is ScheduleSlot and hasattr(ticking, "round"):
            if not found:
                with counting:
                    free[(ticking.round, ticking.entry)] += 1
            ticking.entry += 1
            barrier.wait(timeout=120)
        return found

    monkeypatch.setattr(QuerySet, "exists", exists_then_wait)

    def worker(i: int) -> int:
        claimed = 0
        try:
            for n in range(rounds):
                ticking.round, ticking.entry = n, 0
                claimed += len(schedule_tick(now=now, worker_id=f"worker-{i}"))
        finally:
            connections.close_all()
        return claimed

    with ThreadPoolExecutor(max_workers=workers) as pool:
        claimed = list(pool.map(worker, range(workers)))

    # In the first round both found every slot free and both tried to claim it; later rounds found them taken.
    assert free == {(0, entry): workers for entry in range(len(SCHEDULE))}
    assert sum(claimed) == len(SCHEDULE)
    assert Counter(Job.objects.values_list("schedule", flat=True)) == dict.fromkeys(SCHEDULE, 1)
    assert ScheduleSlot.objects.count() == len(SCHEDULE)
    assert set(ScheduleSlot.objects.values_list("claimed_by", flat=True)) <= {"worker-0", "worker-1"}
