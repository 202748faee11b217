"""好差评 of an application's handling, and the rectification a 差评 opens (see ``models.Rectification``).

* ``rating_give``: once the application is decided (approved, refused or closed), the applicant side rates the
  handling on the national five levels (``fuwu.common.satisfaction``) with reasons from that level's list and
  their own words. One rating per application (a database constraint; the row lock makes a second attempt
  wait and be refused). A 差评 (不满意, 非常不满意) needs at least one reason and opens a rectification.
* ``rectification_record``: the department says what it did (open → rectified).
* The rater may name the clause of the standard a rating concerns, and the department may set or correct it
  when recording the rectification (``named_clause``: a clause of the application's version, picked by title,
  ``fuwu.standards.clause_choice``); the evaluation of the standard counts a 差评 against it.
* ``rectification_callback``: someone calls the applicant back and records whether they are now satisfied
  (rectified → satisfied | unsatisfied).

Who: raters are the residents linked to the applicant (本人, 家属) and the village agent who applied for them —
never the counter staff who handled it. Rectifications are the handling department's (its officers whose area
covers the applicant's) and are supervised by the standards office (every department, city-wide; it may
also make the callback) and read by auditors and by the department's supervisors (督办负责人) of the area.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Case, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from fuwu.accounts.models import Role
from fuwu.accounts.permissions import has_role
from fuwu.applications import clock
from fuwu.applications.models import (
    RECTIFICATION_OPEN,
    Application,
    Rating,
    Rectification,
    RectificationStatus,
    Status,
)
from fuwu.applications.permissions import in_scope, inbox_prefix, supervisor_prefix
from fuwu.applications.services import ApplicationError
from fuwu.common import satisfaction, workdays
from fuwu.common.audit import audit
from fuwu.homecare.models import FamilyLink
from fuwu.residents.permissions import officer_prefix
from fuwu.standards import clause_choice
from fuwu.standards.models import Clause

DECIDED = (Status.APPROVED, Status.REFUSED, Status.CLOSED)
# ``rectification_record``'s default: the clause the rater named stays.
UNCHANGED = object()


def config(name: str) -> int:
    return int(settings.FUWU_APPLICATIONS_RATINGS[name])


def _now(now: dt.datetime | None) -> dt.datetime:
    return timezone.localtime(now) if now is not None else timezone.localtime()


# --- who -----------------------------------------------------------------------------------------------------


def may_rate(user: Any, application: Application) -> bool:
    """The applicant's side as residents see it: their linked residents, and the village agent who applied."""
    if has_role(user, {Role.RESIDENT}):
        return FamilyLink.objects.filter(user=user, person_id=application.person_id).exists()
    return has_role(user, {Role.VILLAGE_AGENT}) and application.submitted_by_id == user.pk


def handles_rectification(user: Any, rectification: Rectification) -> bool:
    """An officer of the department the 差评 concerns, whose area covers the applicant's."""
    return in_scope(
        user, officer_prefix(user), department_id=rectification.department_id, area_code=rectification.area_code
    )


def supervises(user: Any) -> bool:
    """The 好差评 supervisors: the standards office (acts) and auditors (read)."""
    return has_role(user, {Role.STANDARDS_OFFICE, Role.AUDITOR})


def may_callback(user: Any, rectification: Rectification) -> bool:
    return handles_rectification(user, rectification) or has_role(user, {Role.STANDARDS_OFFICE})


def supervises_department(user: Any, rectification: Rectification) -> bool:
    """A supervisor of the department the 差评 concerns, whose area covers the applicant's: reads only."""
    return in_scope(
        user, supervisor_prefix(user), department_id=rectification.department_id, area_code=rectification.area_code
    )


def may_view_rectification(user: Any, rectification: Rectification) -> bool:
    return handles_rectification(user, rectification) or supervises(user) or supervises_department(user, rectification)


def sees_rectifications(user: Any) -> bool:
    """Whether the list page is for ``user`` at all (department officers and supervisors with an area, the
    city-wide supervisors)."""
    return supervises(user) or (inbox_prefix(user) is not None and getattr(user, "department_id", None) is not None)


# --- ratings -------------------------------------------------------------------------------------------------


def _text(raw: str, *, what: str, required: bool, field: str) -> str:
    text = (raw or "").strip()
    if required and not text:
        raise ApplicationError(_("请填写%(what)s。") % {"what": what}, code=f"{field}_required", field=field)
    limit = config("text_max")
    if len(text) > limit:
        raise ApplicationError(
            _("%(what)s不能超过%(max)s个字（现有%(n)s个字）。") % {"what": what, "max": limit, "n": len(text)},
            code=f"{field}_too_long",
            field=field,
        )
    return text


def _level(raw: Any) -> int:
    try:
        level = int(raw)
    except (TypeError, ValueError):
        level = 0
    if level not in satisfaction.Level.values:
        raise ApplicationError(
            _("请选择评价等级：非常满意、满意、基本满意、不满意或非常不满意。"), code="bad_level", field="level"
        )
    return level


def _reasons(level: int, raw: Sequence[str]) -> list[str]:
    allowed = [key for key, _label in satisfaction.reasons_for(level)]
    chosen = list(dict.fromkeys(str(r) for r in raw))
    if any(r not in allowed for r in chosen):
        raise ApplicationError(
            _("所选原因与评价等级“%(level)s”不对应；请从该等级下列出的原因中选择。")
            % {"level": satisfaction.Level(level).label},
            code="bad_reason",
            field="reasons",
        )
    if satisfaction.is_poor(level) and not chosen:
        raise ApplicationError(
            _("评价为“%(level)s”时，请至少选择一项原因，部门才能有针对性地整改。")
            % {"level": satisfaction.Level(level).label},
            code="reasons_required",
            field="reasons",
        )
    return [key for key in allowed if key in chosen]


def named_clause(application: Application, raw: object) -> Clause | None:
    """The clause ``raw`` names among the application's version's (None: none); ``ApplicationError`` otherwise."""
    try:
        return clause_choice.resolve(application.version, raw)
    except clause_choice.ClauseChoiceError as exc:
        raise ApplicationError(str(exc), code="bad_clause", field="clause") from exc


def rating_give(
    *,
    actor: Any,
    application: Application,
    level: int,
    reasons: Sequence[str] = (),
    text: str = "",
    clause: object = None,
    now: dt.datetime | None = None,
) -> Rating:
    """Rate the handling of a decided application; a 差评 opens its rectification in the same transaction."""
    now = _now(now)
    level = _level(level)
    chosen = _reasons(level, reasons)
    words = _text(text, what=_("评价内容"), required=False, field="text")
    named = named_clause(application, clause)
    with transaction.atomic():
        row = Application.objects.select_for_update().get(pk=application.pk)
        if not may_rate(actor, row):
            raise PermissionDenied("only the applicant's side may rate the handling")
        if row.status not in DECIDED:
            raise ApplicationError(
                _("申请当前为“%(status)s”；办结（批准、不予批准或终止办理）后才能评价。")
                % {"status": row.get_status_display()},
                code="not_decided",
            )
        if Rating.objects.filter(application=row).exists():
            raise ApplicationError(_("这件申请已经评价过了，每件申请只能评价一次。"), code="already_rated")
        rating = Rating.objects.create(
            application=row, level=level, reasons=chosen, text=words, rated_by=actor, rated_at=now, clause=named
        )
        audit(
            actor=actor,
            event="application.rated",
            obj=row,
            after={
                "level": level,
                "reasons": chosen,
                "rating": rating.pk,
                "clause": named.number if named else None,
            },
            note=words,
        )
        if satisfaction.is_poor(level) and row.department_id is not None:
            _open_rectification(rating, row, today=now.date())
        return rating


def _open_rectification(rating: Rating, application: Application, *, today: dt.date) -> Rectification:
    days = config("rectification_days")
    due, known = workdays.deadline(today, days, overrides=clock.overrides())
    assert application.department_id is not None  # noqa: S101 - checked by the caller
    rectification = Rectification.objects.create(
        rating=rating,
        application=application,
        department_id=application.department_id,
        area_code=application.area_code,
        opened_on=today,
        days=days,
        due_on=due,
        calendar_known=known,
    )
    audit(
        actor=None,
        event="application.rectification_opened",
        obj=rectification,
        after={"application": application.pk, "level": rating.level, "due_on": due.isoformat(), "days": days},
    )
    return rectification


# --- rectification -------------------------------------------------------------------------------------------


def _locked(rectification: Rectification) -> Rectification:
    return Rectification.objects.select_for_update().get(pk=rectification.pk)


def _require(rectification: Rectification, allowed: str, *, action: str) -> None:
    if rectification.status != allowed:
        raise ApplicationError(
            _("整改当前为“%(status)s”，不能%(action)s；只有“%(allowed)s”的可以%(action)s。")
            % {
                "status": rectification.get_status_display(),
                "action": action,
                "allowed": RectificationStatus(allowed).label,
            },
            code="wrong_state",
        )


@transaction.atomic
def rectification_record(
    *,
    actor: Any,
    rectification: Rectification,
    action: str,
    clause: object = UNCHANGED,
    now: dt.datetime | None = None,
) -> Rectification:
    """open → rectified: the department records what it did about the 差评.

    ``clause`` sets or corrects the clause the 差评 concerns (``""``: none); left out, the rater's stays.
    """
    now = _now(now)
    words = _text(action, what=_("整改措施"), required=True, field="action")
    row = _locked(rectification)
    if not handles_rectification(actor, row):
        raise PermissionDenied("only the department concerned may record its rectification")
    _require(row, RectificationStatus.OPEN, action=_("记录整改情况"))
    # Not select_related("clause"): PostgreSQL cannot lock the nullable side of an outer join.
    rating = Rating.objects.select_for_update().get(pk=row.rating_id)
    clauses = {"before": rating.clause.number if rating.clause else None}
    if clause is not UNCHANGED:
        rating.clause = named_clause(row.application, clause)
        rating.save(update_fields=["clause"])
    clauses["after"] = rating.clause.number if rating.clause else None
    row.status, row.action, row.recorded_at, row.recorded_by = RectificationStatus.RECTIFIED, words, now, actor
    row.save(update_fields=["status", "action", "recorded_at", "recorded_by"])
    audit(
        actor=actor,
        event="application.rectification_recorded",
        obj=row,
        before={"status": RectificationStatus.OPEN, "clause": clauses["before"]},
        after={"status": row.status, "late": now.date() > row.due_on, "clause": clauses["after"]},
        note=words,
    )
    return row


@transaction.atomic
def rectification_callback(
    *, actor: Any, rectification: Rectification, satisfied: bool, note: str, now: dt.datetime | None = None
) -> Rectification:
    """rectified → satisfied | unsatisfied: the applicant was called back and said whether it is now put right."""
    now = _now(now)
    words = _text(note, what=_("回访情况"), required=True, field="note")
    row = _locked(rectification)
    if not may_callback(actor, row):
        raise PermissionDenied("only the department concerned or the standards office may record the callback")
    _require(row, RectificationStatus.RECTIFIED, action=_("记录回访"))
    row.status = RectificationStatus.SATISFIED if satisfied else RectificationStatus.UNSATISFIED
    row.callback_at, row.callback_by, row.callback_note = now, actor, words
    row.save(update_fields=["status", "callback_at", "callback_by", "callback_note"])
    audit(
        actor=actor,
        event="application.rectification_callback",
        obj=row,
        before={"status": RectificationStatus.RECTIFIED},
        after={"status": row.status, "satisfied": satisfied, "late": now.date() > row.due_on},
        note=words,
    )
    return row


# --- reads ---------------------------------------------------------------------------------------------------


def is_overdue(rectification: Rectification, *, today: dt.date) -> bool:
    return rectification.status in RECTIFICATION_OPEN and rectification.due_on < today


def rectifications_for_user(*, user: Any, today: dt.date, overdue: bool = False) -> QuerySet[Rectification]:
    """The rectifications ``user`` may see: the department's of their area, or all for the supervisors;
    soonest due first, open ones before finished ones."""
    rows = Rectification.objects.select_related("application__item", "department", "rating")
    if not supervises(user):
        prefix = inbox_prefix(user)  # the department's officers, or its supervisors, of an area
        if prefix is None or user.department_id is None:
            return Rectification.objects.none()
        rows = rows.filter(department_id=user.department_id, area_code__startswith=prefix)
    if overdue:
        rows = rows.filter(status__in=RECTIFICATION_OPEN, due_on__lt=today)
    finished = Case(When(status__in=RECTIFICATION_OPEN, then=Value(0)), default=Value(1))
    return rows.annotate(finished=finished).order_by("finished", "due_on", "id")


def rectification_for_user(*, user: Any, pk: int) -> Rectification:
    found = (
        Rectification.objects.select_related(
            "application__item", "application__person", "department", "rating", "recorded_by", "callback_by"
        )
        .filter(pk=pk)
        .first()
    )
    if found is None or not may_view_rectification(user, found):
        raise Http404("no such rectification")
    return found
