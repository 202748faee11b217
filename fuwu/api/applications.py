"""Applications through the JSON API: submit (with ``Idempotency-Key``), list, read, and the department's actions.

Mounted at ``/api/v1/applications``. A logged-in caller only: the API reuses the Django session (``sessionid``)
and, on every POST, Django's CSRF check (the ``csrftoken`` cookie's value in an ``X-CSRFToken`` header), as
home care's part does; without a session the answer is 401.

Who may do what is the pages' rule (``fuwu.applications.permissions``): a resident for the persons linked to
their account (本人 / 家属), a village agent (代办员) for residents of their village, a department officer at the
counter (窗口) for residents of their area when their department handles the item; the department's officers
of the applicant's area act on it. An application the caller may not see is 404, as one that does not exist.

Materials: a submission is JSON (capped at 64 KiB, ``fuwu.api.guards``). A material the standard says is got
by data sharing is fetched and never asked for; every other one is ``"counter"`` (到窗口提交); ``"upload"`` in
the JSON is refused (422 ``upload_not_in_api``). Files go to ``POST /{id}/materials`` (``multipart/form-data``)
when the application waits for them (一次性告知, or 容缺 promised): the page's checks, by the page's code.

Errors: ``{"detail": ..., "code": ...}``; ``detail`` is the Chinese message for the person. Status by code:

* 400 — ``idempotency_key_required``, ``bad_idempotency_key``, or a body that is not strict JSON;
* 403 — the caller may see the application but not do this to it (an applicant approving, an officer
  supplying): ``forbidden``;
* 404 — the person, item, department or application does not exist or is outside what the caller may see;
* 409 — it conflicts with what is there now: ``stale`` (the ``revision`` sent is not the application's: someone
  acted first — read it again), ``wrong_state``, ``notice_already_sent``, ``duplicate`` (an open application
  of this person for this item), ``idempotency_key_reused``, ``promise_open``, ``last_step``;
* 422 — the request cannot be met as asked (``reason_required``, ``ground_required``, ``no_materials``,
  ``bad_days``, ``material_missing``, ``not_applicable``, ``no_department``, ``upload_not_in_api`` …), or does
  not parse (``invalid``, naming each field).

Identity numbers are never in a response. Reads of applicants are audited (``persons.listed``, ``… (api)``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, P, Query, Router, Schema, Status
from ninja.params import HeaderEx
from ninja.security import django_auth

from fuwu.accounts.models import Department
from fuwu.api import schemas as s
from fuwu.api.guards import MULTIPART, max_files, takes_files
from fuwu.applications import clock, overdue, selectors, services, standard
from fuwu.applications.idempotency import application_submit_once, application_supply_once
from fuwu.applications.models import Application, Provision
from fuwu.applications.services import ApplicationError, MaterialInput
from fuwu.common.audit import audit_persons_read
from fuwu.common.params import Id, Offset
from fuwu.residents import crypto, idnumber
from fuwu.residents.models import Person
from fuwu.standards import selectors as standard_selectors
from fuwu.standards.models import ServiceItem

router = Router(tags=["applications"], auth=django_auth)

CONFLICT = frozenset(
    {
        "stale",
        "wrong_state",
        "notice_already_sent",
        "duplicate",
        "idempotency_key_reused",
        "promise_open",
        "last_step",
        "nothing_to_supply",
    }
)
BAD_REQUEST = frozenset({"idempotency_key_required", "bad_idempotency_key"})

Action = Literal[
    "accept", "promise", "notice", "supply", "advance", "approve", "refuse", "transfer", "withdraw", "close"
]


# --- schemas ---------------------------------------------------------------------------------------------------


class ApplicationErrorOut(s.ErrorOut):
    """A refused request: ``detail`` is the Chinese message for the person, ``code`` is stable."""

    code: str
    field: str = Field("", description="The field the refusal is about, when it is about one.")


class MaterialChoiceIn(Schema):
    index: int = Field(ge=0, le=200, description="The material's index in the item's ``materials``.")
    provision: Literal["counter", "upload"] = Field(
        description='"counter" (到窗口提交). "upload" is refused: files are uploaded on the page.'
    )


class ApplicationIn(Schema):
    item: str = Field(max_length=80, description="The service item's key (in force), e.g. sa-preschool-aid.")
    person_id: Id | None = Field(None, description="The applicant, by id (a person linked to your account).")
    id_number: str | None = Field(
        None, max_length=20, description="The applicant's identity number (agents and counter staff); not stored."
    )
    materials: list[MaterialChoiceIn] = Field(default_factory=list, max_length=100)


class ActionIn(Schema):
    revision: int = Field(ge=1, description="The application's ``revision`` as last read (409 ``stale`` if not).")
    reason: str = Field("", max_length=2000, description="Why: required for promise, notice, refuse, transfer, close.")
    materials: list[int] = Field(
        default_factory=list, max_length=100, description="promise, notice: the materials; supply: those brought."
    )
    days: int | None = Field(None, ge=1, le=365, description="promise: working days to bring them (1-60).")
    ground: str = Field("", max_length=200, description="refuse: one of ``refusal_grounds`` of the application.")
    department: str = Field("", max_length=64, description="transfer: the department's code.")


class MaterialOut(Schema):
    index: int
    name: str
    provision: str = Field(description='upload, shared or counter ("" before the applicant answered).')
    state: str = Field(description="provided, missing (一次性告知) or promised (容缺后补).")
    promised_by: dt.date | None


class EventOut(Schema):
    kind: str
    label: str
    at: dt.datetime
    from_status: str
    to_status: str
    step: int
    due_on: dt.date | None
    reason: str
    clause: str


class GroundOut(Schema):
    key: str
    words: str
    clause: str


class ApplicationOut(Schema):
    id: int
    item: str
    item_name: str
    person_id: int
    person_name: str
    area_code: str
    department: str | None = Field(description="The handling department's code.")
    capacity: str = Field(description="self, family, agent or counter: how it was submitted.")
    submitted_by_you: bool
    status: str
    status_label: str
    step: int
    step_name: str
    due_on: dt.date | None = Field(description="The current step's due date (working days); null: no limit.")
    paused: bool = Field(description="The clock is stopped: waiting for the applicant (一次性告知).")
    overdue: bool
    escalated: bool = Field(description="The overdue job escalated this step to the department's supervisors.")
    eligibility: str
    submitted_at: dt.datetime
    decided_at: dt.datetime | None
    revision: int


class ApplicationDetailOut(ApplicationOut):
    materials: list[MaterialOut]
    events: list[EventOut]
    refusal_grounds: list[GroundOut] = Field(description="What a refusal may cite (for the handling officers).")


class ApplicationPageOut(Schema):
    count: int
    limit: int
    offset: int
    items: list[ApplicationOut]


class ListFilter(Schema):
    status: str | None = Field(None, max_length=24)
    item: str | None = Field(None, max_length=80)
    limit: int = Field(50, ge=1, le=200)
    offset: Offset = 0


# --- helpers ---------------------------------------------------------------------------------------------------

UNAUTHORIZED = {401: s.ErrorOut}
WRITE = {
    400: ApplicationErrorOut,
    **UNAUTHORIZED,
    403: s.ErrorOut,
    404: s.ErrorOut,
    409: ApplicationErrorOut,
    413: s.ErrorOut,
    422: ApplicationErrorOut,
}


def _refused(exc: ApplicationError) -> Status[dict[str, str]]:
    status = 409 if exc.code in CONFLICT else 400 if exc.code in BAD_REQUEST else 422
    return Status(status, {"detail": str(exc), "code": exc.code, "field": exc.field})


def _not_found(detail: str) -> Status[dict[str, str]]:
    return Status(404, {"detail": detail})


def _summary(a: Application, user: Any, today: dt.date) -> dict[str, Any]:
    steps = standard.steps(a.item)
    return {
        "id": a.pk,
        "item": a.item_key,
        "item_name": a.item.name,
        "person_id": a.person_id,
        "person_name": a.person.name,
        "area_code": a.area_code,
        "department": a.department.code if a.department else None,
        "capacity": a.capacity,
        "submitted_by_you": a.submitted_by_id == user.pk,
        "status": a.status,
        "status_label": a.get_status_display(),
        "step": a.step,
        "step_name": steps[a.step].name if a.step < len(steps) else "",
        "due_on": a.due_on,
        "paused": a.status == "awaiting_applicant",
        "overdue": a.status == "in_progress" and clock.overdue(due_on=a.due_on, today=today),
        "escalated": overdue.escalated(a),
        "eligibility": a.eligibility,
        "submitted_at": timezone.localtime(a.submitted_at),
        "decided_at": timezone.localtime(a.decided_at) if a.decided_at else None,
        "revision": a.revision,
    }


def _detail(a: Application, user: Any) -> dict[str, Any]:
    from fuwu.applications import permissions

    rows = {r.index: r for r in a.materials.all()}
    handles = permissions.handles(user, a)
    return {
        **_summary(a, user, timezone.localdate()),
        "materials": [
            {
                "index": m.index,
                "name": m.name,
                "provision": rows[m.index].provision if m.index in rows else "",
                "state": rows[m.index].state if m.index in rows else "",
                "promised_by": rows[m.index].promised_by if m.index in rows else None,
            }
            for m in standard.materials(a.item)
        ],
        "events": [
            {
                "kind": e.kind,
                "label": e.get_kind_display(),
                "at": timezone.localtime(e.at),
                "from_status": e.from_status,
                "to_status": e.to_status,
                "step": e.step,
                "due_on": e.due_on,
                "reason": e.reason,
                "clause": e.clause,
            }
            for e in a.events.all()
        ],
        "refusal_grounds": (
            [{"key": k, "words": w, "clause": c} for k, w, c in services.refusal_grounds(a.item)] if handles else []
        ),
    }


def _application(user: Any, application_id: int) -> Application:
    return selectors.application_for_user(user=user, pk=application_id)  # Http404 otherwise


def _person(user: Any, body: ApplicationIn) -> Person:
    """The applicant named by id or identity number; ``Person.DoesNotExist`` for none (or an unreadable number)."""
    if body.person_id is not None:
        return Person.objects.get(pk=body.person_id)
    number = idnumber.parse(body.id_number or "")  # IdNumberError: the caller's 422
    found = Person.objects.filter(id_number_hash__in=crypto.lookup_hashes(number)).first()
    if found is None:
        raise Person.DoesNotExist
    return found


def _counter_only(item: ServiceItem, body: ApplicationIn) -> dict[int, MaterialInput]:
    shared = {m.index for m in standard.materials(item) if m.shared_data}
    names = {m.index: m.name for m in standard.materials(item)}
    chosen: dict[int, MaterialInput] = {}
    for m in body.materials:
        if m.index not in names:
            raise ApplicationError(
                _("materials：该事项没有序号为 %(index)s 的材料（共 %(n)s 项，序号从 0 起）。")
                % {"index": m.index, "n": len(names)},
                code="no_such_material",
                field="materials",
            )
        if m.provision == "upload":
            raise ApplicationError(
                _("“%(name)s”：接口不接收文件；请选择 counter（到窗口提交），或提交后在申请页面上传。")
                % {"name": names[m.index]},
                code="upload_not_in_api",
                field=f"material-{m.index}",
            )
        if m.index not in shared:
            chosen[m.index] = MaterialInput(Provision.COUNTER)
    return chosen


# --- operations ------------------------------------------------------------------------------------------------


@router.post("", response={200: ApplicationDetailOut, 201: ApplicationDetailOut, **WRITE})
def submit(
    request: HttpRequest,
    body: ApplicationIn,
    idempotency_key: HeaderEx[str | None, P(alias="Idempotency-Key")] = None,
) -> Any:
    """Apply for an item for a person: yourself or family (``person_id``), or as a village agent or at the counter
    (``id_number``). Session login and CSRF token required.

    The ``Idempotency-Key`` header (required, at most 64 characters; a fresh random value per application) makes
    a retry safe: the first answers 201, a retry with the same key and body 200 with the same application as it
    is now, the same key with another body 409 ``idempotency_key_reused``. A second open application of the same
    person for the same item is 409 ``duplicate``. Each material not got by data sharing is ``counter``.
    """
    if (body.person_id is None) == (body.id_number is None):
        return Status(
            422,
            {
                "detail": _("请给出 person_id 或 id_number 之一（只给一个）。"),
                "code": "person_required",
                "field": "person_id",
            },
        )
    try:
        item = standard_selectors.item_in_force(key=body.item)
    except ServiceItem.DoesNotExist:
        return _not_found(f"item: no service item {body.item!r} in force")
    try:
        person = _person(request.user, body)
    except idnumber.IdNumberError as exc:
        return Status(422, {"detail": f"id_number: {exc}", "code": "bad_id_number", "field": "id_number"})
    except Person.DoesNotExist:
        return _not_found("no resident within your access for this person_id or id_number")

    def go() -> Application:
        return services.application_submit(
            actor=request.user, item=item, person=person, materials=_counter_only(item, body)
        )

    try:
        application, created = application_submit_once(
            actor=request.user, idempotency_key=idempotency_key, body=body.dict(), submit=go
        )
    except ApplicationError as exc:
        return _refused(exc)
    except PermissionDenied:
        # May not apply for this person: the same answer as for one who does not exist.
        return _not_found("no resident within your access for this person_id or id_number")
    application = _application(request.user, application.pk)
    if not created:
        audit_persons_read(
            actor=request.user, purpose="application (api)", persons=[application.person_id], obj=application
        )
    return Status(201 if created else 200, _detail(application, request.user))


@router.get("", response={200: ApplicationPageOut, **UNAUTHORIZED})
def list_applications(request: HttpRequest, filters: Query[ListFilter]) -> Any:
    """The applications the caller may see, newest first, ``limit`` (at most 200) from ``offset``.

    The caller's own (the persons linked to the account, and those they submitted for others) and, for a
    department officer, their department's applications of their area (open or finished).
    """
    rows = selectors.applications_visible(user=request.user)
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.item:
        rows = rows.filter(item_key=filters.item)
    page = list(rows[filters.offset : filters.offset + filters.limit])
    if page:
        audit_persons_read(actor=request.user, purpose="applications (api)", persons=[a.person_id for a in page])
    today = timezone.localdate()
    return {
        "count": rows.count(),
        "limit": filters.limit,
        "offset": filters.offset,
        "items": [_summary(a, request.user, today) for a in page],
    }


@router.get("/{application_id}", response={200: ApplicationDetailOut, **UNAUTHORIZED, 404: s.ErrorOut})
def get_application(request: HttpRequest, application_id: Id) -> Any:
    """One application with its materials and timeline, if the caller may see it (404 otherwise)."""
    try:
        application = _application(request.user, application_id)
    except Http404:
        return _not_found(f"no application {application_id} within your access")
    audit_persons_read(
        actor=request.user, purpose="application (api)", persons=[application.person_id], obj=application
    )
    return _detail(application, request.user)


def _act(user: Any, a: Application, action: str, body: ActionIn) -> Application:
    common = {"actor": user, "application": a, "revision": body.revision}
    if action == "accept":
        return services.application_accept(**common)
    if action == "promise":
        if body.days is None:
            raise ApplicationError(_("days：请给出后补期限（工作日）。"), code="bad_days", field="days")
        return services.application_accept_with_promise(
            **common, promised=body.materials, days=body.days, reason=body.reason
        )
    if action == "notice":
        return services.application_notice(**common, missing=body.materials, reason=body.reason)
    if action == "supply":
        return services.application_supply(
            **common, materials={i: MaterialInput(Provision.COUNTER) for i in body.materials}
        )
    if action == "advance":
        return services.application_advance(**common, note=body.reason)
    if action in ("approve", "refuse"):
        return services.application_decide(
            **common, approve=action == "approve", reason=body.reason, ground=body.ground
        )
    if action == "transfer":
        department = Department.objects.filter(code=body.department).first()
        if department is None:
            raise ApplicationError(
                _("department：没有代码为“%(code)s”的部门。") % {"code": body.department},
                code="no_such_department",
                field="department",
            )
        return services.application_transfer(**common, department=department, reason=body.reason)
    if action == "withdraw":
        return services.application_withdraw(**common, reason=body.reason)
    return services.application_close(**common, reason=body.reason)


# --- uploads (multipart) -----------------------------------------------------------------------------------------

FILE_PART = "material-"
MATERIALS_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["revision"],
                "properties": {
                    "revision": {"type": "integer", "minimum": 1, "description": "The application's revision."},
                    "counter": {
                        "type": "array",
                        "items": {"type": "integer", "minimum": 0},
                        "description": "Materials brought to the counter instead (到窗口提交), by index.",
                    },
                },
                "patternProperties": {
                    "^material-[0-9]+$": {
                        "type": "string",
                        "format": "binary",
                        "description": "The file for the material of that index: PDF, JPEG or PNG.",
                    }
                },
                "additionalProperties": False,
            },
            "encoding": {"counter": {"style": "form", "explode": True}},
        }
    },
}


def _int(raw: str, *, field: str, low: int) -> int:
    if not raw.isdigit() or int(raw) < low:
        raise ApplicationError(
            _("%(field)s：应为不小于 %(low)s 的整数。") % {"field": field, "low": low}, code="bad_field", field=field
        )
    return int(raw)


def _file_inputs(request: HttpRequest) -> tuple[int, dict[int, MaterialInput], dict[str, Any]]:
    """The revision, the materials (a file part each, or ``counter``) and what the digest is taken of."""
    if request.content_type != MULTIPART:
        raise ApplicationError(
            _("请以 multipart/form-data 发送：revision 字段，每份材料一个名为 material-序号 的文件。"),
            code="not_multipart",
            field="body",
        )
    unknown = sorted(k for k in request.POST if k not in ("revision", "counter"))
    unknown += sorted(k for k in request.FILES if not (k.startswith(FILE_PART) and k[len(FILE_PART) :].isdigit()))
    if unknown:
        raise ApplicationError(
            _("%(field)s：不认识的字段；只收 revision、counter 和 material-序号（文件）。") % {"field": unknown[0]},
            code="unknown_field",
            field=unknown[0],
        )
    revision = _int(request.POST.get("revision", ""), field="revision", low=1)
    if len(request.FILES) > max_files():
        raise ApplicationError(
            _("一次最多上传 %(n)s 个文件。") % {"n": max_files()}, code="too_many_files", field="body"
        )
    materials: dict[int, MaterialInput] = {}
    files: dict[str, str] = {}
    for name in request.FILES:
        uploads = request.FILES.getlist(name)
        if len(uploads) != 1:
            raise ApplicationError(
                _("%(field)s：每份材料只收一个文件。") % {"field": name}, code="bad_field", field=name
            )
        index = int(name[len(FILE_PART) :])
        materials[index] = MaterialInput(Provision.UPLOAD, uploads[0])
        files[str(index)] = _sha256(uploads[0])
    counter = sorted({_int(raw, field="counter", low=0) for raw in request.POST.getlist("counter")})
    for index in counter:
        if index in materials:
            raise ApplicationError(
                _("material-%(index)s：同一份材料不能既上传又到窗口提交。") % {"index": index},
                code="bad_field",
                field=f"material-{index}",
            )
        materials[index] = MaterialInput(Provision.COUNTER)
    return revision, materials, {"revision": revision, "counter": counter, "files": files}


def _sha256(upload: Any) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


@router.post(
    "/{application_id}/materials",
    response={200: ApplicationDetailOut, 201: ApplicationDetailOut, **WRITE},
    openapi_extra={"requestBody": MATERIALS_BODY},
)
@takes_files
def supply_files(
    request: HttpRequest,
    application_id: Id,
    idempotency_key: HeaderEx[str | None, P(alias="Idempotency-Key")] = None,
) -> Any:
    """Supply materials with their files (补正材料: what the notice asked for, or what was promised at 容缺受理):
    ``multipart/form-data`` with ``revision``, one file part ``material-<index>`` per material uploaded, and
    ``counter`` (repeated) for those brought to the counter instead. Session login and CSRF token required.

    The same checks as the page, by the same code (``fuwu.common.uploads``): PDF, JPEG or PNG known by content
    (a renamed file, a zip or a spreadsheet, whatever its size, is refused), at most ``FUWU_UPLOAD_MAX_BYTES``
    each, images decoded and written again without EXIF, a broken image or a pixel bomb refused. Each refusal
    is 422 with the upload's ``code`` (``wrong_type``, ``renamed``, ``empty``, ``too_large``, ``broken_image``,
    ``too_many_pixels``, ``broken_pdf``, ``pdf_active_content``) and ``field`` ``material-<index>``; nothing is
    stored then, no file and no row. The same rules as the page: only the applicant's side (403 for the
    handling officers), only while the application waits for materials (409 ``wrong_state`` /
    ``nothing_to_supply``), everything a notice asked for at once (422 ``material_missing``).

    ``Idempotency-Key`` (required) as for submitting: the first answers 201, a retry with the same key, files
    and fields 200 with the application as it is now (nothing stored again), the same key with anything else
    409 ``idempotency_key_reused``.
    """
    try:
        application = _application(request.user, application_id)
    except Http404:
        return _not_found(f"no application {application_id} within your access")
    try:
        revision, materials, digest_of = _file_inputs(request)
        _, created = application_supply_once(
            actor=request.user,
            idempotency_key=idempotency_key,
            body={"application": application.pk, **digest_of},
            supply=lambda: services.application_supply(
                actor=request.user, application=application, materials=materials, revision=revision
            ),
        )
    except ApplicationError as exc:
        return _refused(exc)
    except PermissionDenied:
        return Status(403, {"detail": f"materials: not yours to supply on application {application_id}"})
    done = _application(request.user, application_id)
    return Status(201 if created else 200, _detail(done, request.user))


# Declared after ``/materials`` above: Django tries the routes in order, and ``{action}`` would match "materials".
@router.post("/{application_id}/{action}", response={200: ApplicationDetailOut, **WRITE})
def act(request: HttpRequest, application_id: Id, action: Action, body: ActionIn) -> Any:
    """Act on an application, sending the ``revision`` last read (session login and CSRF token required).

    The department's officers of the applicant's area: ``accept`` (受理), ``promise`` (容缺受理: ``materials``,
    ``days``, ``reason``), ``notice`` (一次性告知: ``materials``, ``reason``; once; stops the clock), ``advance``
    (``reason`` as the note), ``approve``, ``refuse`` (``reason`` and ``ground``), ``transfer`` (``department``,
    ``reason``), ``close`` (``reason``). The applicant's side: ``supply`` (the ``materials`` brought to the
    counter; restarts the clock) and ``withdraw``. Two at once: one wins, the other gets 409 ``stale`` or
    ``wrong_state``. A caller who may see the application but not do this is 403.
    """
    try:
        application = _application(request.user, application_id)
    except Http404:
        return _not_found(f"no application {application_id} within your access")
    try:
        _act(request.user, application, action, body)
    except ApplicationError as exc:
        return _refused(exc)
    except PermissionDenied:
        return Status(403, {"detail": f"{action}: not yours to do on application {application_id}"})
    # As it is now; after a transfer the caller may no longer see it, but is shown what they just did.
    done = Application.objects.select_related("item", "person", "department").get(pk=application_id)
    return _detail(done, request.user)
