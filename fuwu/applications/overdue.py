"""The overdue job: flag the applications whose running clock is past its step's due date, escalate each to its
department's supervisors once per step, and count them.

Overdue means: open, the clock running (``submitted`` has no clock yet, ``awaiting_applicant`` has it stopped:
paused clocks do not count), and ``due_on`` before today. ``due_on`` is already a working day on the Chinese
calendar with the office's holiday notices (``clock.py``), so "past it" needs no calendar here.

Set-based, whatever the number of applications (docs/benchmarks.md: 200,000 open ones in a few seconds): four
statements in one transaction, none of them per row —

1. clear ``overdue_since`` where the application is no longer overdue (decided, paused, the step advanced);
2. set ``overdue_since = today`` where it is overdue and was not flagged;
3. ``INSERT … SELECT`` an ``escalated`` timeline row (no actor: the system) for each flagged application whose
   current step has not been escalated, addressed to its department;
4. set ``escalated_step`` to the current step on those rows, so a re-run (or the next day) escalates nothing
   twice; a later step that runs late is escalated again.

The platform has no separate supervisor role: an escalation is addressed to the *department*, and is seen by
its officers whose area covers the applicant's (the county's officers see every township's), in the inbox
("已督办") and on the application's timeline. One audit row records each run's counts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from fuwu.applications.models import Application, ApplicationEvent, EventKind, Status
from fuwu.common.models import AuditLog

# The clock runs in these states; awaiting_applicant keeps due_on but its clock is stopped.
RUNNING = (Status.IN_PROGRESS,)


@dataclass(frozen=True)
class OverdueRun:
    today: str
    overdue: int  # flagged after the run
    newly_flagged: int
    cleared: int
    escalated: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def overdue_q(today: dt.date) -> Q:
    """The overdue predicate, the same for the job, the inbox's filter and its count."""
    return Q(status__in=RUNNING, due_on__lt=today)


def _escalate_sql() -> str:
    app = Application._meta.db_table
    event = ApplicationEvent._meta.db_table
    details = (
        "json_build_object('department', a.department_id, 'overdue_since', a.overdue_since)::jsonb"
        if connection.vendor == "postgresql"
        else "json_object('department', a.department_id, 'overdue_since', a.overdue_since)"
    )
    return (
        f"INSERT INTO {event} "  # noqa: S608 - table names from the models, values bound
        "(application_id, kind, at, actor_id, from_status, to_status, step, due_on, reason, clause, details) "
        f"SELECT a.id, %s, %s, NULL, a.status, a.status, a.step, a.due_on, '', '', {details} "
        f"FROM {app} a WHERE a.overdue_since IS NOT NULL AND a.department_id IS NOT NULL "
        "AND (a.escalated_step IS NULL OR a.escalated_step <> a.step)"
    )


def applications_flag_overdue(*, today: dt.date | None = None, now: dt.datetime | None = None) -> OverdueRun:
    """Flag, clear and escalate, set-based, in one transaction; safe to run again (nothing is done twice)."""
    now = timezone.localtime(now) if now is not None else timezone.localtime()
    today = today or now.date()
    overdue = overdue_q(today)
    with transaction.atomic():
        cleared = Application.objects.filter(overdue_since__isnull=False).exclude(overdue).update(overdue_since=None)
        flagged = Application.objects.filter(overdue, overdue_since__isnull=True).update(overdue_since=today)
        pending = Application.objects.filter(overdue_since__isnull=False, department__isnull=False).filter(
            Q(escalated_step__isnull=True) | ~Q(escalated_step=F("step"))
        )
        with connection.cursor() as cursor:
            cursor.execute(_escalate_sql(), [EventKind.ESCALATED.value, connection.ops.adapt_datetimefield_value(now)])
            escalated = cursor.rowcount
        pending.update(escalated_step=F("step"))
        total = Application.objects.filter(overdue_since__isnull=False).count()
        run = OverdueRun(
            today=today.isoformat(), overdue=total, newly_flagged=flagged, cleared=cleared, escalated=escalated
        )
        # One row per run (the job acts for nobody): the counts, not 200,000 rows.
        AuditLog.objects.create(
            actor=None,
            actor_label="system",
            event="application.overdue_flagged",
            object_type=Application._meta.label_lower,
            object_id="*",
            after=run.as_dict(),
        )
    return run
