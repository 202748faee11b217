"""Application writes: submit, and every transition of an application's life (see ``models`` for the drawing).

Each function is keyword-only, runs in one transaction, locks the application row (``select_for_update``),
checks who may act and from which state, writes the timeline row and the audit row. Refusals raise
:class:`ApplicationError` with a stable ``code`` and a message for the person who acted, or ``PermissionDenied``.

Two officers acting at once: the second waits for the first's lock, then finds the state (or the ``revision``
its page showed) changed and is told so (``wrong_state`` / ``stale``); nothing is done twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from fuwu.accounts.models import Department
from fuwu.applications import clock, permissions, standard
from fuwu.applications.models import (
    OPEN,
    Application,
    ApplicationEvent,
    ApplicationMaterial,
    Capacity,
    Eligibility,
    EventKind,
    MaterialState,
    Provision,
    Status,
)
from fuwu.common.audit import audit
from fuwu.common.uploads import StoredFile, UploadRefused, store_upload
from fuwu.notices.services import notice_application_event
from fuwu.residents.models import Person
from fuwu.standards.models import ServiceItem

UPLOAD_FOLDER = "applications"
REASON_MAX = 500
MAX_PROMISE_DAYS = 60  # 容缺: a promise further off than this is no promise


class ApplicationError(Exception):
    """A refused request; ``code`` is stable for the API and tests, the message is for people."""

    def __init__(self, message: str, *, code: str = "refused", field: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.field = field


@dataclass(frozen=True)
class MaterialInput:
    """What the form says of one material: how it is provided, and the file when uploaded."""

    provision: Provision
    upload: Any = None


def _now(now: dt.datetime | None) -> dt.datetime:
    return timezone.localtime(now) if now is not None else timezone.localtime()


def _state(application: Application) -> dict[str, Any]:
    return {
        "status": application.status,
        "step": application.step,
        "due_on": application.due_on.isoformat() if application.due_on else None,
        "department": application.department_id,
        "days_left": application.days_left,
    }


def _reason(reason: str, *, required: bool, what: str) -> str:
    reason = (reason or "").strip()
    if required and not reason:
        raise ApplicationError(_("请填写%(what)s。") % {"what": what}, code="reason_required", field="reason")
    if len(reason) > REASON_MAX:
        raise ApplicationError(
            _("%(what)s不能超过%(max)s个字。") % {"what": what, "max": REASON_MAX},
            code="reason_too_long",
            field="reason",
        )
    return reason


def _locked(application: Application, *, revision: int | None, may: Callable[[Application], bool]) -> Application:
    """The row, locked, as it is now: who may act and whether the page was stale are judged on it, not on the
    copy the caller read before the lock."""
    row = Application.objects.select_for_update().select_related("item", "version").get(pk=application.pk)
    if not may(row):
        raise PermissionDenied("may not act on this application")
    if revision is not None and row.revision != revision:
        raise ApplicationError(
            _("这件申请刚刚已由他人处理（现为“%(status)s”）；请刷新页面，看过最新情况后再操作。")
            % {"status": row.get_status_display()},
            code="stale",
        )
    return row


def _require(application: Application, *allowed: str, action: str) -> None:
    if application.status not in allowed:
        shown = _("、").join(str(Status(s).label) for s in allowed)
        raise ApplicationError(
            _("申请当前为“%(status)s”，不能%(action)s；只有%(allowed)s的申请可以%(action)s。")
            % {"status": application.get_status_display(), "action": action, "allowed": shown},
            code="wrong_state",
        )


def _record(
    application: Application,
    *,
    actor: Any,
    kind: EventKind,
    before: dict[str, Any],
    now: dt.datetime,
    reason: str = "",
    clause: str = "",
    details: dict[str, Any] | None = None,
    bump: bool = True,
) -> ApplicationEvent:
    """Save the application (one revision on), its timeline row and its audit row."""
    if bump:
        application.revision = F("revision") + 1
        application.save()
        application.refresh_from_db(fields=["revision"])
    user = actor if getattr(actor, "is_authenticated", False) else None
    event = ApplicationEvent.objects.create(
        application=application,
        kind=kind,
        at=now,
        actor=user,
        from_status=before.get("status") or "",
        to_status=application.status,
        step=application.step,
        due_on=application.due_on,
        reason=reason,
        clause=clause,
        details=details or {},
    )
    audit(
        actor=actor,
        event=f"application.{kind}",
        obj=application,
        before=before or None,
        after=_state(application) | (details or {}),
        note=reason,
    )
    notice_application_event(event=event, actor=actor)  # in-site notices now, SMS / e-mail after commit
    return event


# --- eligibility ---------------------------------------------------------------------------------------------


def eligibility_answer(*, item: ServiceItem, person: Person, as_of: dt.date) -> tuple[str, list[dict[str, Any]]]:
    """The item's rule on the applicant's facts in the registry: the answer and each criterion's reason."""
    from fuwu.eligibility.explain import explain
    from fuwu.eligibility.facts import BASE
    from fuwu.eligibility.selectors import rules_in_force

    key = item.version.standard.key
    rules = [r for r in rules_in_force() if r.item == item.key and r.standard == key]
    if not rules:
        return Eligibility.NO_RULE, []

    def facts(p: Person) -> dict[str, Any]:
        return {name: getattr(p, name) for name in BASE}

    household = [facts(m) for m in Person.objects.filter(household_id=person.household_id)]
    (result,) = explain(facts(person), rules=rules[:1], as_of=as_of, household=household)
    reasons = [
        {
            "name": c.name,
            "passed": c.passed,
            "text": dict(c.text) if c.text else {},
            "clause": c.clause or "",
            "missing": list(c.missing),
        }
        for c in result.criteria
    ]
    return result.status, reasons


# --- the applicant's side ------------------------------------------------------------------------------------


def _store(upload: Any) -> StoredFile:
    return store_upload(upload, folder=UPLOAD_FOLDER)


def _check_inputs(item: ServiceItem, inputs: Mapping[int, MaterialInput]) -> None:
    """Every material of the checklist is answered, a shared one is never asked for, an upload has its file."""
    for m in standard.materials(item):
        given = inputs.get(m.index)
        if m.shared_data:
            continue
        if given is None:
            raise ApplicationError(
                _("请说明“%(name)s”如何提供：上传，或到窗口提交。") % {"name": m.name},
                code="material_missing",
                field=f"material-{m.index}",
            )
        if given.provision == Provision.SHARED:
            raise ApplicationError(
                _("“%(name)s”不能通过数据共享获取；请上传，或选择到窗口提交。") % {"name": m.name},
                code="not_shared",
                field=f"material-{m.index}",
            )
        if given.provision == Provision.UPLOAD and not given.upload:
            raise ApplicationError(
                _("请为“%(name)s”选择要上传的文件，或改为到窗口提交。") % {"name": m.name},
                code="file_missing",
                field=f"material-{m.index}",
            )


def _store_all(item: ServiceItem, inputs: Mapping[int, MaterialInput], indexes: Sequence[int]) -> dict[int, StoredFile]:
    """Store every upload or none: a refused file removes the ones already stored before the error goes up."""
    stored: dict[int, StoredFile] = {}
    names = {m.index: m.name for m in standard.materials(item)}
    try:
        for index in indexes:
            given = inputs[index]
            if given.provision == Provision.UPLOAD:
                try:
                    stored[index] = _store(given.upload)
                except UploadRefused as exc:
                    raise ApplicationError(
                        _("“%(name)s”：%(problem)s") % {"name": names.get(index, index), "problem": exc},
                        code=exc.code,
                        field=f"material-{index}",
                    ) from exc
    except ApplicationError:
        _remove(stored.values())
        raise
    return stored


def _remove(files: Any) -> None:
    from django.core.files.storage import default_storage

    for f in files:
        default_storage.delete(f.name)


def _fill(row: ApplicationMaterial, stored: StoredFile | None) -> None:
    if stored is None:
        row.file, row.original_name, row.content_type, row.size, row.sha256 = "", "", "", None, ""
        return
    row.file = stored.name
    row.original_name = stored.original_name
    row.content_type = stored.content_type
    row.size = stored.size
    row.sha256 = stored.sha256


def _duplicate(person: Person, item: ServiceItem) -> ApplicationError:
    return ApplicationError(
        _("%(name)s已有一件正在办理的“%(item)s”申请；请在“我的申请”中查看或补正。")
        % {"name": person.name, "item": item.name},
        code="duplicate",
    )


def application_submit(
    *,
    actor: Any,
    item: ServiceItem,
    person: Person,
    materials: Mapping[int, MaterialInput],
    now: dt.datetime | None = None,
) -> Application:
    """A resident (or someone acting for them) applies for ``item``; recorded as "submitted by … for …".

    Whoever looks ineligible may still apply (the right to apply): the answer is kept with its reasons for the
    officer and shown to the applicant, never a refusal here.
    """
    now = _now(now)
    if not standard.applicable(item):
        raise ApplicationError(_("该事项的标准没有列出办理环节，暂不能在线申请。"), code="not_applicable")
    if not item.version.in_force:
        raise ApplicationError(_("该事项所在的标准版本已不再施行；请从现行的办事指南重新申请。"), code="not_in_force")
    department = standard.department_for(item)
    capacity = permissions.capacity_for(actor, person, department=department)
    if capacity is None:
        raise PermissionDenied("may not apply for this person")
    if department is None:
        raise ApplicationError(
            _("该事项的牵头部门（%(lead)s）尚未开通在线受理；请按办事指南到窗口办理。")
            % {"lead": item.lead_department or _("未写明")},
            code="no_department",
        )
    if Application.objects.filter(item_key=item.key, person=person, status__in=OPEN).exists():
        raise _duplicate(person, item)
    _check_inputs(item, materials)
    wanted = [m.index for m in standard.materials(item) if not m.shared_data]
    answer, reasons = eligibility_answer(item=item, person=person, as_of=now.date())
    stored = _store_all(item, materials, wanted)
    try:
        return _submit_rows(
            actor=actor,
            item=item,
            person=person,
            department=department,
            capacity=capacity,
            inputs=materials,
            stored=stored,
            answer=answer,
            reasons=reasons,
            now=now,
        )
    except IntegrityError as exc:  # the same submission a moment earlier, past the check above
        _remove(stored.values())
        raise _duplicate(person, item) from exc
    except BaseException:
        # The files were written before the rows; a failed transaction leaves none of them behind.
        _remove(stored.values())
        raise


@transaction.atomic
def new_application(
    *,
    item: ServiceItem,
    person: Person,
    department: Department,
    actor: Any,
    capacity: Capacity,
    status: Status,
    answer: str,
    reasons: list[dict[str, Any]],
    now: dt.datetime,
    decided: bool = False,
) -> Application:
    """An application of ``person`` for ``item`` at its applicant's step, created in the caller's transaction
    (its materials and first event are the caller's: submitted, pre-filled and granted ones differ there)."""
    return Application.objects.create(
        item=item,
        version=item.version,
        item_key=item.key,
        person=person,
        area_code=person.hukou_area,
        department=department,
        submitted_by=actor,
        capacity=capacity,
        status=status,
        step=standard.APPLICANT_STEP,
        eligibility=answer,
        eligibility_reasons=reasons,
        submitted_at=now,
        decided_at=now if decided else None,
    )


def _submit_rows(
    *,
    actor: Any,
    item: ServiceItem,
    person: Person,
    department: Department,
    capacity: Capacity,
    inputs: Mapping[int, MaterialInput],
    stored: Mapping[int, StoredFile],
    answer: str,
    reasons: list[dict[str, Any]],
    now: dt.datetime,
) -> Application:
    application = new_application(
        item=item,
        person=person,
        department=department,
        actor=actor,
        capacity=capacity,
        status=Status.SUBMITTED,
        answer=answer,
        reasons=reasons,
        now=now,
    )
    for m in standard.materials(item):
        provision = Provision.SHARED if m.shared_data else inputs[m.index].provision
        row = ApplicationMaterial(application=application, index=m.index, provision=provision)
        _fill(row, stored.get(m.index))
        row.save()
    _record(
        application,
        actor=actor,
        kind=EventKind.SUBMITTED,
        before={},
        now=now,
        details={"capacity": capacity, "eligibility": answer, "person": person.pk},
        bump=False,
    )
    return application


def application_supply(
    *,
    actor: Any,
    application: Application,
    materials: Mapping[int, MaterialInput],
    revision: int | None = None,
    now: dt.datetime | None = None,
) -> Application:
    """The applicant supplies what the notice asked for (the clock starts again) or what was promised (容缺)."""
    now = _now(now)
    with transaction.atomic():
        application = _locked(application, revision=revision, may=lambda a: permissions.is_applicant_side(actor, a))
        _require(application, Status.AWAITING_APPLICANT, Status.IN_PROGRESS, action=_("补正材料"))
        due = {
            r.index: r
            for r in application.materials.all()
            if r.state == MaterialState.MISSING
            or (r.state == MaterialState.PROMISED and application.status == Status.IN_PROGRESS)
        }
        if not due:
            raise ApplicationError(_("这件申请目前没有需要补正的材料。"), code="nothing_to_supply")
        if application.status == Status.AWAITING_APPLICANT:
            # One notice asked for all of it: all of it comes back together.
            absent = [i for i in due if i not in materials and due[i].state == MaterialState.MISSING]
            if absent:
                names = {m.index: m.name for m in standard.materials(application.item)}
                raise ApplicationError(
                    _("请一并补正告知书所列的全部材料，还缺：%(names)s。")
                    % {"names": _("、").join(names.get(i, str(i)) for i in absent)},
                    code="material_missing",
                    field=f"material-{absent[0]}",
                )
        chosen = [i for i in materials if i in due]
        if not chosen:
            raise ApplicationError(_("请选择要补正的材料。"), code="material_missing")
        for i in chosen:
            given = materials[i]
            if given.provision == Provision.SHARED:
                raise ApplicationError(
                    _("补正的材料请上传，或选择到窗口提交。"), code="not_shared", field=f"material-{i}"
                )
            if given.provision == Provision.UPLOAD and not given.upload:
                raise ApplicationError(_("请选择要上传的文件。"), code="file_missing", field=f"material-{i}")
        stored = _store_all(application.item, materials, chosen)
        try:
            return _supply_rows(
                application, actor=actor, due=due, chosen=chosen, inputs=materials, stored=stored, now=now
            )
        except BaseException:
            _remove(stored.values())
            raise


def _supply_rows(
    application: Application,
    *,
    actor: Any,
    due: Mapping[int, ApplicationMaterial],
    chosen: list[int],
    inputs: Mapping[int, MaterialInput],
    stored: Mapping[int, StoredFile],
    now: dt.datetime,
) -> Application:
    with transaction.atomic():
        before = _state(application)
        for i in chosen:
            row = due[i]
            row.provision = inputs[i].provision
            row.state = MaterialState.PROVIDED
            row.promised_by = None
            _fill(row, stored.get(i))
            row.save()
        if (
            application.status == Status.AWAITING_APPLICANT
            and not application.materials.filter(state=MaterialState.MISSING).exists()
        ):
            application.status = application.resume_status
            application.due_on = (
                clock.resume(today=now.date(), days_left=application.days_left)
                if application.days_left is not None
                else None
            )
            application.resume_status, application.paused_on, application.days_left = "", None, None
        _record(
            application, actor=actor, kind=EventKind.SUPPLIED, before=before, now=now, details={"materials": chosen}
        )
        return application


def application_withdraw(
    *,
    actor: Any,
    application: Application,
    reason: str = "",
    revision: int | None = None,
    now: dt.datetime | None = None,
) -> Application:
    now = _now(now)
    reason = _reason(reason, required=False, what=_("撤回原因"))
    with transaction.atomic():
        application = _locked(application, revision=revision, may=lambda a: permissions.is_applicant_side(actor, a))
        _require(application, *OPEN, action=_("撤回"))
        before = _state(application)
        application.status = Status.WITHDRAWN
        application.resume_status, application.paused_on, application.days_left = "", None, None
        application.decided_at = now
        _record(application, actor=actor, kind=EventKind.WITHDRAWN, before=before, now=now, reason=reason)
        return application


# --- the department's side -----------------------------------------------------------------------------------


def _start_step(application: Application, step: int, *, today: dt.date) -> None:
    application.step = step
    limit = standard.steps(application.item)[step].limit_days
    application.due_on = clock.due(today=today, days=limit) if limit is not None else None


def application_accept(
    *, actor: Any, application: Application, revision: int | None = None, now: dt.datetime | None = None
) -> Application:
    """受理: the department takes the application on; the first department step's clock starts."""
    now = _now(now)
    with transaction.atomic():
        application = _locked(application, revision=revision, may=lambda a: permissions.handles(actor, a))
        _require(application, Status.SUBMITTED, action=_("受理"))
        before = _state(application)
        application.status = Status.IN_PROGRESS
        _start_step(application, standard.first_department_step(application.item), today=now.date())
        _record(application, actor=actor, kind=EventKind.ACCEPTED, before=before, now=now)
        return application


def application_accept_with_promise(
    *,
    actor: Any,
    application: Application,
    promised: Sequence[int],
    days: int,
    reason: str,
    revision: int | None = None,
    now: dt.datetime | None = None,
) -> Application:
    """容缺受理: accepted although secondary materials are missing; the applicant promises them within ``days``
    working days (the clock runs meanwhile; the promise's due date is on each material)."""
    now = _now(now)
    reason = _reason(reason, required=True, what=_("容缺受理的理由"))
    if not 1 <= days <= MAX_PROMISE_DAYS:
        raise ApplicationError(
            _("后补期限应为 1 至 %(max)s 个工作日。") % {"max": MAX_PROMISE_DAYS}, code="bad_days", field="days"
        )
    with transaction.atomic():
        application = _locked(application, revision=revision, may=lambda a: permissions.handles(actor, a))
        _require(application, Status.SUBMITTED, action=_("容缺受理"))
        rows = _chosen_materials(application, promised, field="promised")
        before = _state(application)
        promised_by = clock.due(today=now.date(), days=days)
        for row in rows:
            row.state, row.promised_by = MaterialState.PROMISED, promised_by
            row.save(update_fields=["state", "promised_by", "updated_at"])
        application.status = Status.IN_PROGRESS
        _start_step(application, standard.first_department_step(application.item), today=now.date())
        _record(
            application,
            actor=actor,
            kind=EventKind.ACCEPTED_WITH_PROMISE,
            before=before,
            now=now,
            reason=reason,
            details={"materials": [r.index for r in rows], "promised_by": promised_by.isoformat()},
        )
        return application


def _chosen_materials(application: Application, indexes: Sequence[int], *, field: str) -> list[ApplicationMaterial]:
    wanted = sorted(set(indexes))
    rows = [r for r in application.materials.all() if r.index in wanted and r.provision != Provision.SHARED]
    if not wanted or len(rows) != len(wanted):
        raise ApplicationError(
            _("请从材料清单中选择至少一项（数据共享获取的材料无需申请人提供）。"), code="no_materials", field=field
        )
    return rows


def application_notice(
    *,
    actor: Any,
    application: Application,
    missing: Sequence[int],
    reason: str,
    revision: int | None = None,
    now: dt.datetime | None = None,
) -> Application:
    """一次性告知: one notice lists everything missing; the clock stops until the applicant supplies it all.

    Once only: a second notice would be the piecemeal asking the rule forbids (refuse, citing the criterion,
    if what comes back does not do).
    """
    now = _now(now)
    reason = _reason(reason, required=True, what=_("告知内容（缺什么、为什么）"))
    with transaction.atomic():
        application = _locked(application, revision=revision, may=lambda a: permissions.handles(actor, a))
        _require(application, Status.SUBMITTED, Status.IN_PROGRESS, action=_("一次性告知"))
        if application.notice_sent:
            raise ApplicationError(
                _("这件申请已经发过一次性告知，不能再次告知；材料仍不符合的，请作不予批准并写明依据。"),
                code="notice_already_sent",
            )
        rows = _chosen_materials(application, missing, field="missing")
        before = _state(application)
        for row in rows:
            row.state = MaterialState.MISSING
            row.save(update_fields=["state", "updated_at"])
        today = now.date()
        application.resume_status = application.status
        application.paused_on = today
        application.days_left = clock.days_left(today=today, due_on=application.due_on) if application.due_on else None
        application.status = Status.AWAITING_APPLICANT
        application.notice_sent = True
        _record(
            application,
            actor=actor,
            kind=EventKind.NOTICE,
            before=before,
            now=now,
            reason=reason,
            details={"materials": [r.index for r in rows], "days_left": application.days_left},
        )
        return application


def application_advance(
    *, actor: Any, application: Application, note: str = "", revision: int | None = None, now: dt.datetime | None = None
) -> Application:
    """The current step is done; the next one starts with its own limit."""
    now = _now(now)
    note = _reason(note, required=False, what=_("办理意见"))
    with transaction.atomic():
        application = _locked(application, revision=revision, may=lambda a: permissions.handles(actor, a))
        _require(application, Status.IN_PROGRESS, action=_("办结本环节"))
        steps = standard.steps(application.item)
        if application.step + 1 >= len(steps):
            raise ApplicationError(_("这已是最后一个环节；请作出批准或不予批准的决定。"), code="last_step")
        before = _state(application)
        done = steps[application.step]
        _start_step(application, application.step + 1, today=now.date())
        _record(
            application, actor=actor, kind=EventKind.ADVANCED, before=before, now=now, reason=note, clause=done.clause
        )
        return application


def refusal_grounds(item: ServiceItem) -> list[tuple[str, str, str]]:
    """What a refusal may cite: the criteria of the item's rule, then the item's own clauses (key, words, clause)."""
    from fuwu.eligibility.selectors import rules_in_force
    from fuwu.guide.guides import text

    out: list[tuple[str, str, str]] = []
    key = item.version.standard.key
    for rule in rules_in_force():
        if rule.item == item.key and rule.standard == key:
            for c in rule.criteria:
                words = text(dict(c.text)) if c.text else c.name
                out.append((f"criterion:{c.name}", words, c.clause or ""))
            break
    clauses = sorted(
        {
            str(part.get("clause"))
            for part in [
                *(item.data.get("materials") or []),
                *(item.data.get("steps") or []),
                item.data.get("target_group") or {},
            ]
            if part.get("clause")
        }
    )
    out += [(f"clause:{n}", _("标准第 %(number)s 条") % {"number": n}, n) for n in clauses]
    return out


def application_decide(
    *,
    actor: Any,
    application: Application,
    approve: bool,
    reason: str,
    ground: str = "",
    revision: int | None = None,
    now: dt.datetime | None = None,
) -> Application:
    """Approve, or refuse citing the criterion (or clause) that failed. A refusal may come before acceptance
    (不予受理) or at any department step; approval comes at a department step."""
    now = _now(now)
    reason = _reason(reason, required=not approve, what=_("不予批准的理由") if not approve else _("审批意见"))
    with transaction.atomic():
        application = _locked(application, revision=revision, may=lambda a: permissions.handles(actor, a))
        if approve:
            _require(application, Status.IN_PROGRESS, action=_("批准"))
            promised = application.materials.filter(state=MaterialState.PROMISED).count()
            if promised:
                raise ApplicationError(
                    _("还有 %(n)s 项容缺受理的材料没有补齐，补齐后才能批准。") % {"n": promised}, code="promise_open"
                )
            clause = standard.steps(application.item)[application.step].clause
        else:
            _require(application, Status.SUBMITTED, Status.IN_PROGRESS, action=_("作出不予批准决定"))
            grounds = {key: c for key, _w, c in refusal_grounds(application.item)}
            if ground not in grounds:
                raise ApplicationError(
                    _("不予批准须写明依据：请选择未满足的条件或标准条款。"), code="ground_required", field="ground"
                )
            clause = grounds[ground]
        before = _state(application)
        application.status = Status.APPROVED if approve else Status.REFUSED
        application.decided_at = now
        application.due_on = None
        _record(
            application,
            actor=actor,
            kind=EventKind.APPROVED if approve else EventKind.REFUSED,
            before=before,
            now=now,
            reason=reason,
            clause=clause,
            details={} if approve else {"ground": ground},
        )
        if approve:  # the item's level, if its rule states one: a grant (and home care's account), same transaction
            from fuwu.applications.grants import grant_on_approval

            grant_on_approval(actor=actor, application=application, now=now)
        return application


def application_transfer(
    *,
    actor: Any,
    application: Application,
    department: Department,
    reason: str,
    revision: int | None = None,
    now: dt.datetime | None = None,
) -> Application:
    """转办: another department handles it from here; the state and the clock are kept."""
    now = _now(now)
    reason = _reason(reason, required=True, what=_("转办原因"))
    with transaction.atomic():
        application = _locked(application, revision=revision, may=lambda a: permissions.handles(actor, a))
        _require(application, *OPEN, action=_("转办"))
        if department.pk == application.department_id:
            raise ApplicationError(_("请选择另一个部门。"), code="same_department", field="department")
        before = _state(application)
        application.department = department
        _record(
            application,
            actor=actor,
            kind=EventKind.TRANSFERRED,
            before=before,
            now=now,
            reason=reason,
            details={"to": department.code},
        )
        return application


def application_close(
    *, actor: Any, application: Application, reason: str, revision: int | None = None, now: dt.datetime | None = None
) -> Application:
    """终止办理: e.g. the applicant never supplied what the notice asked for; the reason is required."""
    now = _now(now)
    reason = _reason(reason, required=True, what=_("终止办理的原因"))
    with transaction.atomic():
        application = _locked(application, revision=revision, may=lambda a: permissions.handles(actor, a))
        _require(application, *OPEN, action=_("终止办理"))
        before = _state(application)
        application.status = Status.CLOSED
        application.resume_status, application.paused_on, application.days_left = "", None, None
        application.decided_at = now
        application.due_on = None
        _record(application, actor=actor, kind=EventKind.CLOSED, before=before, now=now, reason=reason)
        return application


__all__ = [
    "ApplicationError",
    "Capacity",
    "MaterialInput",
    "application_accept",
    "application_accept_with_promise",
    "application_advance",
    "application_close",
    "application_decide",
    "application_notice",
    "application_submit",
    "application_supply",
    "application_transfer",
    "application_withdraw",
]
