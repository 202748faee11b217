"""免申即享: applications a screening run creates for the people it found entitled, township by township.

An item's standard says whether, and how, the item is given without an application
(``proactive.without_application``):

* ``confirm`` — an officer's run creates, for each candidate of the run (entitled, not yet served) in one
  township, an application *awaiting confirmation*: the registry's facts and the eligibility answer are
  filled in, the materials data sharing fetches (``shared_data``) are marked provided, and it is recorded as
  submitted "by the system for" the officer (``Capacity.SYSTEM``). The person — or a linked family member, or
  their village's agent, as the ordinary acting rules allow — confirms it (``application_confirm``: saying
  how the other materials come, as when applying; it then enters the ordinary flow at its first step,
  ``submitted``, dated from the confirmation) or declines it (``application_decline``: closed, the reason
  kept).
* ``grant`` — the run approves at once: an approved application whose grant is the one an ordinary approval
  would give (``grants.grant_on_approval``, the same level, amount and period rules), and a notice tells the
  person. Only someone the item's rule finds eligible on the day is granted; the others are counted.

Idempotent: one :class:`Prefill` per run, person and item, so running a township again creates nothing new.
Skipped (and counted): people the registry does not hold (or the officer may not see), those with an
application for the item under way (open, or waiting for confirmation), those with an active grant, and
those who declined the item before (a decline stands; they can still apply the ordinary way).

Who may run it: officers of the item's lead department (``standard.department_for``) whose area covers the
township. Every application written is audited (its timeline row's audit, with the run and the township);
the run as a whole is audited too (``application.prefill_run``). Long runs go through the background queue
(``tasks.prefill``), with progress.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fuwu.applications import permissions, services, standard
from fuwu.applications.models import (
    OPEN,
    Application,
    ApplicationEvent,
    ApplicationMaterial,
    Capacity,
    Eligibility,
    EventKind,
    Grant,
    GrantState,
    Prefill,
    PrefillMode,
    Provision,
    Status,
)
from fuwu.applications.services import ApplicationError, MaterialInput
from fuwu.common.audit import audit
from fuwu.common.batches import chunks
from fuwu.eligibility.models import RunStatus, ScreeningRun
from fuwu.residents.models import Person
from fuwu.residents.permissions import officer_prefix
from fuwu.standards.models import ServiceItem

TOWNSHIP_DIGITS = 9
CHUNK = 1000
PENDING = (*OPEN, Status.AWAITING_CONFIRMATION)
# Who may confirm or decline for the person: the ordinary acting rules, less the counter (the officer's side).
CONFIRMING = (Capacity.SELF, Capacity.FAMILY, Capacity.AGENT)

# Why a candidate was not given an application, as counted and shown on the confirmation page.
SKIPS: dict[str, Any] = {
    "created": gettext_lazy("本次筛查已为其生成"),
    "pending": gettext_lazy("已有正在办理或待确认的申请"),
    "granted": gettext_lazy("已在享受"),
    "declined": gettext_lazy("此前已谢绝"),
    "not_in_registry": gettext_lazy("户籍登记中没有此人（或不在您的辖区）"),
    "not_eligible": gettext_lazy("按今天的登记信息已不符合条件"),
    "level_unknown": gettext_lazy("计算享受标准所需的信息尚未登记"),
    "no_provider": gettext_lazy("户籍地还没有签约的服务机构"),
}


def offered(item: ServiceItem) -> str | None:
    """``confirm`` or ``grant`` as the item's standard marks it; ``None``: not given without an application."""
    mark = (item.data.get("proactive") or {}).get("without_application")
    return mark if mark in PrefillMode.values else None


def may_prefill(user: Any, item: ServiceItem, township: str) -> bool:
    """An officer of the item's lead department whose area covers the township."""
    prefix = officer_prefix(user)
    if prefix is None or user.department_id is None:
        return False
    department = standard.department_for(item)
    return department is not None and department.pk == user.department_id and township.startswith(prefix)


def _checked(*, user: Any, run: ScreeningRun, item: ServiceItem, township: str) -> str:
    if not (len(township) == TOWNSHIP_DIGITS and township.isascii() and township.isdigit()):
        raise ApplicationError(_("请选择一个乡镇（街道）。"), code="bad_township", field="township")
    mode = offered(item)
    if mode is None:
        raise ApplicationError(_("该事项的标准没有规定免申即享。"), code="not_offered")
    if not may_prefill(user, item, township):
        raise PermissionDenied("only officers of the item's lead department whose area covers the township")
    if run.status != RunStatus.COMPLETED or run.draft:
        raise ApplicationError(_("只能用已完成的筛查结果生成申请。"), code="no_run")
    return mode


# --- the plan: who would get one, who is skipped and why ------------------------------------------------------


@dataclass
class Plan:
    run: ScreeningRun
    item: ServiceItem
    township: str
    mode: str
    persons: list[Person] = field(default_factory=list)  # those who would get an application
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str, n: int = 1) -> None:
        if n:
            self.skipped[reason] = self.skipped.get(reason, 0) + n

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    def skipped_rows(self) -> list[tuple[str, int]]:
        return [(str(SKIPS.get(k, k)), n) for k, n in sorted(self.skipped.items(), key=lambda kv: -kv[1])]


def _persons_of(run: ScreeningRun, user: Any, ids: list[int]) -> dict[int, Person]:
    from fuwu.eligibility.proactive import _registry_persons

    return _registry_persons(run=run, user=user, person_ids=ids)


def _taken(item_key: str, run: ScreeningRun, pks: Iterable[int]) -> dict[int, str]:
    """The persons among ``pks`` skipped whatever the run says, with why (the first reason that applies)."""
    pks = list(pks)
    reasons: dict[int, str] = {}

    def mark(found: Iterable[int], reason: str) -> None:
        for pk in found:
            reasons.setdefault(pk, reason)

    mark(
        Prefill.objects.filter(run=run, item_key=item_key, person_id__in=pks).values_list("person_id", flat=True),
        "created",
    )
    mark(
        Application.objects.filter(item_key=item_key, person_id__in=pks, status__in=PENDING).values_list(
            "person_id", flat=True
        ),
        "pending",
    )
    mark(
        Grant.objects.filter(item_key=item_key, person_id__in=pks, state=GrantState.ACTIVE).values_list(
            "person_id", flat=True
        ),
        "granted",
    )
    mark(
        ApplicationEvent.objects.filter(
            kind=EventKind.DECLINED, application__item_key=item_key, application__person_id__in=pks
        ).values_list("application__person_id", flat=True),
        "declined",
    )
    return reasons


def prefill_plan(*, user: Any, run: ScreeningRun, item: ServiceItem, township: str) -> Plan:
    """What running the township would do now: the persons to create for, and the skipped counted by reason."""
    from fuwu.eligibility.proactive import newly_entitled

    mode = _checked(user=user, run=run, item=item, township=township)
    plan = Plan(run=run, item=item, township=township, mode=mode)
    ids = newly_entitled(run=run, user=user, item=item.key, township=township).values_list("person_id", flat=True)
    for part in chunks(ids.iterator(chunk_size=CHUNK), CHUNK):
        persons = _persons_of(run, user, part)
        plan.skip("not_in_registry", len(set(part)) - len(persons))
        taken = _taken(item.key, run, (p.pk for p in persons.values()))
        for person_id in part:
            person = persons.get(person_id)
            if person is None:
                continue
            if person.pk in taken:
                plan.skip(taken[person.pk])
            else:
                plan.persons.append(person)
    return plan


# --- creating ----------------------------------------------------------------------------------------------


class _Skip(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _create_one(*, plan: Plan, person: Person, actor: Any, now: dt.datetime) -> Application:
    """One application (and its Prefill, and for ``grant`` its approval and grant), in the caller's transaction."""
    from fuwu.applications.grants import grant_on_approval

    item = plan.item
    department = standard.department_for(item)
    assert department is not None  # noqa: S101 - may_prefill checked it
    answer, reasons = services.eligibility_answer(item=item, person=person, as_of=now.date())
    grant = plan.mode == PrefillMode.GRANT
    if grant and answer != Eligibility.ELIGIBLE:
        raise _Skip("not_eligible")
    application = services.new_application(
        item=item,
        person=person,
        department=department,
        actor=actor,
        capacity=Capacity.SYSTEM,
        status=Status.APPROVED if grant else Status.AWAITING_CONFIRMATION,
        answer=answer,
        reasons=reasons,
        now=now,
        decided=grant,
    )
    for m in standard.materials(item):
        if m.shared_data or grant:
            provision = Provision.SHARED if m.shared_data else Provision.NOT_REQUIRED
            ApplicationMaterial.objects.create(application=application, index=m.index, provision=provision)
    Prefill.objects.create(
        application=application,
        run=plan.run,
        person=person,
        item_key=item.key,
        township=plan.township,
        mode=plan.mode,
        created_by=actor,
        created_at=now,
    )
    services._record(
        application,
        actor=actor,
        kind=EventKind.GRANTED if grant else EventKind.PREFILLED,
        before={},
        now=now,
        details={
            "run": plan.run.pk,
            "township": plan.township,
            "person": person.pk,
            "eligibility": answer,
            "capacity": Capacity.SYSTEM,
        },
        bump=False,
    )
    if grant:
        try:
            made = grant_on_approval(actor=actor, application=application, now=now)
        except ApplicationError as exc:
            raise _Skip(exc.code) from exc
        if made is None:
            raise _Skip("level_unknown")
    return application


@dataclass(frozen=True)
class Result:
    created: int
    skipped: dict[str, int]
    application_ids: list[int]

    def as_dict(self) -> dict[str, Any]:
        return {"created": self.created, "skipped": self.skipped, "skipped_total": sum(self.skipped.values())}


def prefill_create(
    *,
    actor: Any,
    run: ScreeningRun,
    item: ServiceItem,
    township: str,
    now: dt.datetime | None = None,
    progress: Callable[..., None] | None = None,
) -> Result:
    """Create the township's pre-filled applications (or grants): each person in a transaction of their own, so
    a failure or a kill keeps what was done and a second call creates only what is still missing."""
    now = timezone.localtime(now) if now is not None else timezone.localtime()
    plan = prefill_plan(user=actor, run=run, item=item, township=township)
    skipped = dict(plan.skipped)
    created: list[int] = []
    total = len(plan.persons)
    for i, person in enumerate(plan.persons, start=1):
        try:
            with transaction.atomic():
                created.append(_create_one(plan=plan, person=person, actor=actor, now=now).pk)
        except _Skip as exc:
            skipped[exc.reason] = skipped.get(exc.reason, 0) + 1
        except IntegrityError:  # someone (another run, an application) got there first
            skipped["pending"] = skipped.get("pending", 0) + 1
        if progress is not None:
            progress(i, total)
    result = Result(created=len(created), skipped=skipped, application_ids=created)
    audit(
        actor=actor,
        event="application.prefill_run",
        obj=run,
        after={"item": item.key, "township": township, "mode": plan.mode, **result.as_dict()},
    )
    return result


# --- the person's side: confirm or decline ------------------------------------------------------------------


def confirming_capacity(user: Any, application: Application) -> Capacity | None:
    """In what capacity ``user`` may confirm or decline the person's pre-filled application (``None``: may not)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    capacity = permissions.capacity_for(user, application.person, department=application.department)
    return capacity if capacity in CONFIRMING else None


def prefilled_for_user(*, user: Any, pk: int) -> Application | None:
    """A pre-filled application waiting for ``user``'s confirmation (``None``: none such for this user)."""
    found = Application.objects.select_related("item", "version", "person", "department").filter(pk=pk).first()
    if found is None or found.capacity != Capacity.SYSTEM or confirming_capacity(user, found) is None:
        return None
    return found


def _locked(application: Application, *, actor: Any, revision: int | None) -> tuple[Application, Capacity]:
    capacity: list[Capacity] = []

    def may(row: Application) -> bool:
        found = confirming_capacity(actor, row)
        capacity.extend([found] if found else [])
        return found is not None

    row = services._locked(application, revision=revision, may=may)
    services._require(row, Status.AWAITING_CONFIRMATION, action=_("确认或谢绝"))
    return row, capacity[0]


def application_confirm(
    *,
    actor: Any,
    application: Application,
    materials: Mapping[int, MaterialInput],
    revision: int | None = None,
    now: dt.datetime | None = None,
) -> Application:
    """The person (or who may act for them) confirms: it is submitted as theirs, from now, with the materials the
    registry could not provide (uploaded, or brought to the counter), and the department is told."""
    now = timezone.localtime(now) if now is not None else timezone.localtime()
    item = application.item
    services._check_inputs(item, materials)
    wanted = [m.index for m in standard.materials(item) if not m.shared_data]
    stored = services._store_all(item, materials, wanted)
    try:
        with transaction.atomic():
            row, capacity = _locked(application, actor=actor, revision=revision)
            before = services._state(row)
            for index in wanted:
                material = ApplicationMaterial(application=row, index=index, provision=materials[index].provision)
                services._fill(material, stored.get(index))
                material.save()
            answer, reasons = services.eligibility_answer(item=row.item, person=row.person, as_of=now.date())
            row.status = Status.SUBMITTED
            row.submitted_by = actor
            row.capacity = capacity
            row.submitted_at = now
            row.eligibility, row.eligibility_reasons = answer, reasons
            services._record(
                row,
                actor=actor,
                kind=EventKind.CONFIRMED,
                before=before,
                now=now,
                details={"capacity": capacity, "eligibility": answer, "materials": wanted},
            )
            return row
    except BaseException:
        services._remove(stored.values())
        raise


def application_decline(
    *,
    actor: Any,
    application: Application,
    reason: str,
    revision: int | None = None,
    now: dt.datetime | None = None,
) -> Application:
    """The person declines: the application is closed with the reason; later runs do not offer the item again."""
    now = timezone.localtime(now) if now is not None else timezone.localtime()
    reason = services._reason(reason, required=True, what=_("谢绝的原因"))
    with transaction.atomic():
        row, capacity = _locked(application, actor=actor, revision=revision)
        before = services._state(row)
        row.status = Status.CLOSED
        row.decided_at = now
        services._record(
            row,
            actor=actor,
            kind=EventKind.DECLINED,
            before=before,
            now=now,
            reason=reason,
            details={"capacity": capacity},
        )
        return row


def materials_missing(application: Application) -> list[standard.Material]:
    """The materials the confirmation asks for: those data sharing cannot fetch."""
    return [m for m in standard.materials(application.item) if not m.shared_data]


__all__ = [
    "Plan",
    "Result",
    "application_confirm",
    "application_decline",
    "may_prefill",
    "offered",
    "prefill_create",
    "prefill_plan",
    "prefilled_for_user",
]
