"""The overdue job: flag the applications whose running clock is past its step's due date, escalate each to its
department's supervisors once per step, and count them.

Overdue means: open, the clock running (``submitted`` has no clock yet, ``awaiting_applicant`` has it stopped:
paused clocks do not count), and ``due_on`` before today. ``due_on`` is already a working day on the Chinese
calendar with the office's holiday notices (``clock.py``), so "past it" needs no calendar here.

Set-based, whatever the number of applications (docs/benchmarks.md: 200,000 open ones in a few seconds): five
statements in one transaction, none of them per row, on a narrow table of the job's own (``Overdue``: one row
per application that has ever been overdue; the wide, many-indexed application row is never written) —

1. clear ``since`` where the application is no longer overdue (decided, paused, the step advanced);
2. set ``since = today`` on the rows of applications overdue again (resumed after a pause, still late);
3. ``INSERT … SELECT`` a row (``since = today``) for each newly overdue application;
4. ``INSERT … SELECT`` an ``escalated`` timeline row (no actor: the system) for each overdue application whose
   current step has not been escalated, addressed to its department;
5. set ``escalated_step`` to the current step on those rows, so a re-run (or the next day, or a pause and
   resume) escalates nothing twice; a later step that runs late is escalated again.

The platform has no separate supervisor role: an escalation is addressed to the *department*, and is seen by
its officers whose area covers the applicant's (the county's officers see every township's), in the inbox
("已督办") and on the application's timeline. One audit row records each run's counts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from fuwu.applications.models import Application, ApplicationEvent, EventKind, Overdue, Status
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


def _json(*pairs: str) -> str:
    args = ", ".join(pairs)
    return f"json_build_object({args})::jsonb" if connection.vendor == "postgresql" else f"json_object({args})"


def _sql(today: dt.date) -> tuple[str, str]:
    """The two INSERT … SELECTs the ORM cannot write: new ``Overdue`` rows, and the escalations."""
    app, event, late = Application._meta.db_table, ApplicationEvent._meta.db_table, Overdue._meta.db_table
    insert = (
        f"INSERT INTO {late} (application_id, since, escalated_step) "  # noqa: S608 - model tables, values bound
        f"SELECT a.id, %s, NULL FROM {app} a WHERE a.status = %s AND a.due_on < %s "
        f"AND NOT EXISTS (SELECT 1 FROM {late} o WHERE o.application_id = a.id)"
    )
    details = _json("'department'", "a.department_id", "'overdue_since'", "o.since")
    escalate = (
        f"INSERT INTO {event} "  # noqa: S608 - model tables, values bound
        "(application_id, kind, at, actor_id, from_status, to_status, step, due_on, reason, clause, details) "
        f"SELECT a.id, %s, %s, NULL, a.status, a.status, a.step, a.due_on, '', '', {details} "
        f"FROM {late} o JOIN {app} a ON a.id = o.application_id "
        "WHERE o.since IS NOT NULL AND a.department_id IS NOT NULL "
        "AND (o.escalated_step IS NULL OR o.escalated_step <> a.step)"
    )
    return insert, escalate


def applications_flag_overdue(*, today: dt.date | None = None, now: dt.datetime | None = None) -> OverdueRun:
    """Flag, clear and escalate, set-based, in one transaction; safe to run again (nothing is done twice)."""
    now = timezone.localtime(now) if now is not None else timezone.localtime()
    today = today or now.date()
    overdue = Application.objects.filter(overdue_q(today)).values("pk")
    insert, escalate = _sql(today)
    ops = connection.ops
    with transaction.atomic():
        cleared = Overdue.objects.filter(since__isnull=False).exclude(application__in=overdue).update(since=None)
        again = Overdue.objects.filter(since__isnull=True, application__in=overdue).update(since=today)
        with connection.cursor() as cursor:
            day = ops.adapt_datefield_value(today)
            cursor.execute(insert, [day, Status.IN_PROGRESS.value, day])
            flagged = again + cursor.rowcount
            cursor.execute(escalate, [EventKind.ESCALATED.value, ops.adapt_datetimefield_value(now)])
            escalated = cursor.rowcount
        step = Application.objects.filter(pk=OuterRef("application_id")).values("step")[:1]
        Overdue.objects.filter(since__isnull=False, application__department__isnull=False).filter(
            Q(escalated_step__isnull=True) | ~Q(escalated_step=Subquery(step))
        ).update(escalated_step=Subquery(step))
        total = Overdue.objects.filter(since__isnull=False).count()
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


def escalated(application: Application) -> bool:
    """Whether the overdue job escalated the application's current step (and it is still overdue)."""
    try:
        state = application.overdue
    except Overdue.DoesNotExist:
        return False
    return state.since is not None and state.escalated_step == application.step
