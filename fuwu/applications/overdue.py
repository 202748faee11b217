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

An escalation is addressed to the department's supervisors (督办负责人, ``Role.DEPARTMENT_SUPERVISOR``) whose
area covers the applicant's; where the department has none for that area, to its officers who handle the
application, and the notice says so. Each recipient gets one notice per run with the count of their
applications escalated in it (``escalated`` / ``escalated_to_officers``; a few recipients, not one notice per
application), linking to the inbox's overdue filter; both see "已督办" in the inbox and on the timeline (the
supervisors read-only). One audit row records each run's counts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Max, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone

from fuwu.accounts.models import Department, Role, User
from fuwu.applications.models import Application, ApplicationEvent, EventKind, Overdue, Status
from fuwu.areas.selectors import descendant_codes_prefix
from fuwu.common.models import AuditLog
from fuwu.notices.models import Audience, Notice
from fuwu.notices.services import notices_write

# The clock runs in these states; awaiting_applicant keeps due_on but its clock is stopped.
RUNNING = (Status.IN_PROGRESS,)


@dataclass(frozen=True)
class OverdueRun:
    today: str
    overdue: int  # flagged after the run
    newly_flagged: int
    cleared: int
    escalated: int
    notified_supervisors: int = 0
    notified_officers: int = 0  # where the department has no supervisor for the area

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
        before = ApplicationEvent.objects.aggregate(last=Max("id"))["last"] or 0
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
        supervisors, officers = _escalation_notices(after_event=before, today=today, now=now) if escalated else (0, 0)
        run = OverdueRun(
            today=today.isoformat(),
            overdue=total,
            newly_flagged=flagged,
            cleared=cleared,
            escalated=escalated,
            notified_supervisors=supervisors,
            notified_officers=officers,
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


def _scoped(users: Any) -> list[tuple[User, str]]:
    return [(u, descendant_codes_prefix(u.area)) for u in users.select_related("area") if u.area is not None]


def _escalation_notices(*, after_event: int, today: dt.date, now: dt.datetime) -> tuple[int, int]:
    """One notice per recipient for the escalations this run wrote (timeline rows after ``after_event``):
    ``(supervisors, officers)`` notified. Grouped by department and hukou area first, so the work grows with the
    number of villages and staff, not of applications."""
    groups = list(
        ApplicationEvent.objects.filter(id__gt=after_event, kind=EventKind.ESCALATED)
        .values_list("application__department_id", "application__area_code")
        .annotate(n=Count("id"))
        .order_by()
    )
    departments = {d for d, _, _ in groups}
    staff = User.objects.filter(is_active=True, department_id__in=departments)
    supervisors = _scoped(staff.filter(role=Role.DEPARTMENT_SUPERVISOR))
    officers = _scoped(staff.filter(role=Role.DEPARTMENT_OFFICER))
    counts: dict[int, int] = {}
    users: dict[int, User] = {}
    for department, area, n in groups:
        to = [u for u, p in supervisors if u.department_id == department and area.startswith(p)]
        # No supervisor of this department for this area: its handling officers are told instead.
        to = to or [u for u, p in officers if u.department_id == department and area.startswith(p)]
        for u in to:
            users[u.pk] = u
            counts[u.pk] = counts.get(u.pk, 0) + n
    names = {d.pk: {"zh": d.name_zh, "en": d.name_en} for d in Department.objects.filter(pk__in=departments)}
    link = reverse("applications:inbox") + "?overdue=on"
    rows = [
        Notice(
            recipient=users[pk],
            kind="escalated" if users[pk].role == Role.DEPARTMENT_SUPERVISOR else "escalated_to_officers",
            audience=Audience.OFFICER,
            params={"count": n, "day": today.isoformat(), "department": names.get(users[pk].department_id or 0, "")},
            link=link,
            subject=f"applications.escalations:{today.isoformat()}",
        )
        for pk, n in sorted(counts.items())
    ]
    notices_write(rows, now=now)
    told = sum(1 for r in rows if r.kind == "escalated")
    return told, len(rows) - told


def escalated(application: Application) -> bool:
    """Whether the overdue job escalated the application's current step (and it is still overdue)."""
    try:
        state = application.overdue
    except Overdue.DoesNotExist:
        return False
    return state.since is not None and state.escalated_step == application.step
