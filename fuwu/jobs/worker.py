"""``fuwu worker``: django-tasks-db's worker loop, with a clock beside it.

The loop (``django_tasks_db``'s ``Worker``) claims one queued attempt at a time and runs it. The clock
is a thread that, every ``tick`` seconds, beats the heart of the job this worker runs, hands stale jobs
of dead workers to ``jobs_reap``, and lets the scheduler queue what is due. Every step of the clock is
a short transaction of its own; a locked database makes it skip one tick, never stop.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from django.db import OperationalError, close_old_connections, connection
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Worker as QueueWorker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction

from fuwu.jobs.schedule import schedule_tick
from fuwu.jobs.services import jobs_heartbeat, jobs_reap

logger = logging.getLogger(__name__)


def clock_step(*, worker_id: str, scheduler: bool = True) -> None:
    """One tick: heartbeat, watchdog, scheduler. Each part survives the others' failures."""
    steps: list[tuple[str, Callable[[], object]]] = [
        ("heartbeat", lambda: jobs_heartbeat(worker_id=worker_id)),
        ("watchdog", lambda: jobs_reap(worker_id=worker_id)),
    ]
    if scheduler:
        steps.append(("scheduler", lambda: schedule_tick(worker_id=worker_id)))
    for name, step in steps:
        try:
            step()
        except OperationalError as exc:  # e.g. SQLite busy past its timeout: try again next tick
            logger.warning("worker clock: %s skipped this tick: %s", name, exc)
        except Exception:
            logger.exception("worker clock: %s failed", name)


class Clock(threading.Thread):
    def __init__(self, *, worker_id: str, tick: float, scheduler: bool) -> None:
        super().__init__(name="fuwu-worker-clock", daemon=True)
        self.worker_id = worker_id
        self.tick = tick
        self.scheduler = scheduler
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopped.is_set():
                close_old_connections()
                clock_step(worker_id=self.worker_id, scheduler=self.scheduler)
                self.stopped.wait(self.tick)
        finally:
            connection.close()


class Worker(QueueWorker):
    """The queue's worker with the clock running beside it for as long as it runs."""

    def __init__(self, *, tick: float = 10.0, scheduler: bool = True, **kwargs: Any) -> None:
        kwargs.setdefault("worker_id", get_random_string(32))
        super().__init__(**kwargs)
        self.clock = Clock(worker_id=self.worker_id, tick=tick, scheduler=scheduler) if tick > 0 else None

    def run(self) -> None:
        if self.clock is not None:
            self.clock.start()
        try:
            super().run()
        finally:
            if self.clock is not None:
                self.clock.stopped.set()
                self.clock.join(timeout=60)  # let a tick in progress finish before the process goes on


def run_queue(*, max_tasks: int | None = None) -> int:
    """Run every attempt that is queued now, in this process and thread, then return how many ran.

    For tests: the worker's own claiming and running, without its loop's sleeping, signal handlers and
    ``close_old_connections`` (which would close a test's transaction on PostgreSQL).
    """
    worker = QueueWorker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=max_tasks,
        worker_id=get_random_string(32),
        excluded_queue_names=[],
    )
    ran = 0
    while max_tasks is None or ran < max_tasks:
        tasks = DBTaskResult.objects.ready().filter(backend_name=worker.backend_name)
        with exclusive_transaction(tasks.db):
            task = tasks.get_locked()
            if task is not None:
                task.claim(worker.worker_id)
        if task is None:
            return ran
        worker.run_task(task)
        ran += 1
    return ran
