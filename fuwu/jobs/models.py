"""A job as people see it, and the schedule's claimed slots.

The queue itself is django-tasks-db's ``DBTaskResult`` table: one row per attempt, which the worker
claims and runs. A ``Job`` is what a person asked for (or the schedule started): its kind, who, how far
it has got, and what came of it. Its status is the truth the pages show::

    queued ──▶ running ──▶ succeeded
      ▲           │  ╲
      │           │   ╲──▶ failed      (the kind refused, or raised; or it died and has no attempts left)
      └───────────┘
      its worker died (no heartbeat) or was stopped mid-way, and attempts are left: queued again
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("进行中")
    SUCCEEDED = "succeeded", _("已完成")
    FAILED = "failed", _("没有完成")


FINISHED = (JobStatus.SUCCEEDED, JobStatus.FAILED)


class Job(models.Model):
    kind = models.CharField(max_length=64, help_text=_("Registered in an app's tasks.py (fuwu.jobs.kinds)."))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The schedule entry that started it; empty when a person did.
    schedule = models.CharField(max_length=64, blank=True)
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)

    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(null=True, blank=True, help_text=_("Empty while the amount is unknown."))
    # A Chinese msgid, translated when shown (the worker has no reader's language).
    message = models.CharField(max_length=200, blank=True)

    result_url = models.CharField(max_length=500, blank=True)
    result = models.JSONField(default=dict, blank=True, help_text=_("The summary the kind's template shows."))
    # What the person is told when it failed: a msgid and its named placeholders.
    error = models.TextField(blank=True)
    error_params = models.JSONField(default=dict, blank=True)

    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=2)
    # The queue row (DBTaskResult) of the current attempt, and the worker running it.
    task_id = models.CharField(max_length=64, blank=True)
    worker_id = models.CharField(max_length=64, blank=True)
    # What the kind keeps between attempts (e.g. the run a killed attempt left, for the next to clean up).
    state = models.JSONField(default=dict, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running", "succeeded", "failed"]), name="job_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["succeeded", "failed"], finished_at__isnull=False)
                | Q(status__in=["queued", "running"], finished_at__isnull=True),
                name="job_finished_iff_end_time",
            ),
            models.CheckConstraint(
                condition=Q(status="running", heartbeat_at__isnull=False) | ~Q(status="running"),
                name="job_running_has_heartbeat",
            ),
            models.CheckConstraint(condition=Q(total__isnull=True) | Q(done__lte=F("total")), name="job_done_le_total"),
            models.CheckConstraint(condition=Q(attempts__lte=F("max_attempts")), name="job_attempts_le_max"),
        ]
        indexes = [
            models.Index(fields=["status", "heartbeat_at"], name="job_status_heartbeat_idx"),
            models.Index(fields=["requested_by", "-created_at"], name="job_requester_idx"),
            models.Index(fields=["schedule", "-created_at"], name="job_schedule_idx"),
        ]

    def __str__(self) -> str:
        return f"job {self.pk} {self.kind} {self.status}"

    def get_absolute_url(self) -> str:
        return reverse("jobs:detail", kwargs={"pk": self.pk})

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def percent(self) -> int | None:
        if not self.total:
            return 100 if self.status == JobStatus.SUCCEEDED else None
        return min(100, round(100 * self.done / self.total))

    def message_text(self) -> str:
        return gettext(self.message) if self.message else ""

    def error_text(self) -> str:
        if not self.error:
            return ""
        text = gettext(self.error)
        try:
            return text % self.error_params if self.error_params else text
        except (KeyError, TypeError, ValueError):  # a translation that lost a placeholder still says something
            return text

    def result_value(self, key: str) -> Any:
        return self.result.get(key)


class JobFile(models.Model):
    """A file a job works on (an uploaded list), kept in the database so any worker on any machine can read
    it, and deleted with the job's outcome. The kind decides whether it is sealed (personal data is)."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="files")
    name = models.CharField(max_length=255)
    content = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "name"], name="one_file_per_job_name")]

    def __str__(self) -> str:
        return f"{self.name} of job {self.job_id}"


class ScheduleSlot(models.Model):
    """One time slot of one schedule entry, claimed by the worker that queued its job.

    The unique constraint is what makes "exactly once per slot" true with any number of workers: the
    second worker's insert fails and it queues nothing.
    """

    name = models.CharField(max_length=64)
    slot = models.DateTimeField()
    job = models.OneToOneField(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="slot")
    claimed_by = models.CharField(max_length=64, blank=True)
    claimed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-slot", "name"]
        constraints = [models.UniqueConstraint(fields=["name", "slot"], name="one_job_per_schedule_slot")]

    def __str__(self) -> str:
        return f"{self.name} @ {timezone.localtime(self.slot):%Y-%m-%d %H:%M}"
