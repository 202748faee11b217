"""Kinds of job: what a task module registers, and what its function is handed.

A kind is a function ``run(job, progress) -> Outcome`` registered under a dotted name in an app's
``tasks.py``::

    @kinds.register("eligibility.registry_screen", label=gettext_lazy("筛查户籍登记人员"),
                    template="eligibility/job_result.html", abandon=registry_screen_abandon)
    def registry_screen(job: Job, progress: Progress) -> Outcome:
        ...
        progress(done, total, gettext_noop("载入筛查结果"))
        return Outcome(url=..., summary={...})

The function reads its parameters from ``job.params`` (JSON) and the person from ``job.requested_by``.
It raises ``JobError`` for a problem the person can act on (shown to them, not retried); anything else
is logged and reported as a failure. ``abandon(job)`` removes whatever an attempt left behind; it runs
before a retry and after a final failure, so a killed attempt is never shown half done.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models.functions import Now
from django.utils.functional import Promise

from fuwu.jobs.models import Job, JobStatus


class JobError(Exception):
    """A problem the person can do something about: ``message`` is a Chinese msgid with named placeholders."""

    def __init__(self, message: str, **params: Any) -> None:
        self.message = str(message)
        self.params = {k: str(v) for k, v in params.items()}
        super().__init__(self.message % self.params if self.params else self.message)


@dataclass(frozen=True)
class Outcome:
    """What a finished job links to and the summary its result template shows (JSON-serialisable)."""

    url: str = ""
    summary: dict[str, Any] = field(default_factory=dict)


class Progress:
    """Reports how far a job has got: ``progress(done, total, message)``; also its heartbeat.

    Writes at most every ``interval`` seconds (the last step always), each in its own autocommit
    statement, so call it outside your own transactions: inside one, nobody would see it until the end.
    """

    def __init__(self, job: Job, *, interval: float = 1.0) -> None:
        self.job = job
        self.interval = interval
        self._last = 0.0

    def __call__(self, done: int, total: int | None = None, message: str = "") -> None:
        if total is not None:
            done = min(done, total)
        now = time.monotonic()
        final = total is not None and done >= total
        changed_message = message and message != self.job.message
        if not (final or changed_message) and now - self._last < self.interval:
            return
        self._last = now
        values: dict[str, Any] = {"done": done, "total": total, "heartbeat_at": Now()}
        if message:
            values["message"] = str(message)
        Job.objects.filter(pk=self.job.pk, status=JobStatus.RUNNING).update(**values)
        self.job.done, self.job.total = done, total
        if message:
            self.job.message = str(message)

    def keep(self, **state: Any) -> None:
        """Remember something for a later attempt or for ``abandon`` (merged into ``job.state``).

        Written at once, in its own statement: call it outside your transactions, or a kill loses it.
        """
        self.job.state = {**self.job.state, **state}
        Job.objects.filter(pk=self.job.pk).update(state=self.job.state)


RunFunction = Callable[[Job, Progress], Outcome]


@dataclass(frozen=True)
class Kind:
    name: str
    label: str | Promise
    run: RunFunction
    # Renders the result panel; gets ``job`` (and ``user``). The default shows a link to ``job.result_url``.
    template: str = "jobs/result_default.html"
    max_attempts: int = 2
    abandon: Callable[[Job], None] | None = None
    # Who besides the person who asked may see the job (scheduled jobs have no requester).
    may_view: Callable[[Any, Job], bool] | None = None
    queue: str = "default"


KINDS: dict[str, Kind] = {}


def register(
    name: str,
    *,
    label: str | Promise,
    template: str = "jobs/result_default.html",
    max_attempts: int = 2,
    abandon: Callable[[Job], None] | None = None,
    may_view: Callable[[Any, Job], bool] | None = None,
    queue: str = "default",
) -> Callable[[RunFunction], RunFunction]:
    if max_attempts < 1:
        raise ValueError("max_attempts is at least 1")

    def decorate(run: RunFunction) -> RunFunction:
        existing = KINDS.get(name)
        if existing is not None and existing.run.__qualname__ != run.__qualname__:
            raise ValueError(f"job kind {name!r} is registered twice")
        KINDS[name] = Kind(name, label, run, template, max_attempts, abandon, may_view, queue)
        return run

    return decorate


class UnknownKind(LookupError):
    pass


def get(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        known = ", ".join(sorted(KINDS)) or "none"
        raise UnknownKind(f"no job kind {name!r} (known: {known})") from None
