"""Application pages, by audience: the applicant's side (apply, my applications, supply, withdraw) and the
department's (the inbox and the actions). Thin: parse, call one service or selector, render."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fuwu.accounts.models import Role
from fuwu.applications import clock, export, forms, permissions, selectors, services, standard
from fuwu.applications.models import Application, ApplicationMaterial, Eligibility, MaterialState
from fuwu.applications.services import ApplicationError
from fuwu.common.audit import audit
from fuwu.common.spreadsheets import XLSX_CONTENT_TYPE
from fuwu.guide.guides import text
from fuwu.homecare.models import FamilyLink
from fuwu.residents import crypto, idnumber
from fuwu.residents.models import Person
from fuwu.standards import selectors as standard_selectors
from fuwu.standards.models import ServiceItem

PAGE_SIZE = 50
# The inbox counts exactly up to this many and says "more than" beyond: counting 200,000 rows on every page
# view would cost more than the page (docs/benchmarks.md); filters narrow it.
COUNT_CAP = 1000


class CappedPaginator(Paginator):  # type: ignore[type-arg]  # over a QuerySet of applications
    @cached_property
    def count(self) -> int:
        rows: QuerySet[Application] = self.object_list  # type: ignore[assignment]
        return int(rows.order_by()[: COUNT_CAP + 1].count())


def _item_or_404(key: str) -> ServiceItem:
    try:
        item = standard_selectors.item_in_force(key=key)
    except ServiceItem.DoesNotExist as exc:
        raise Http404("no such service item") from exc
    if not standard.applicable(item):
        raise Http404("this item is not applied for online")
    return item


def _refuse(form: Any, exc: ApplicationError) -> None:
    field = exc.field if exc.field in getattr(form, "fields", {}) else None
    if exc.field.startswith("material-"):
        field = f"file-{exc.field.split('-', 1)[1]}"
        field = field if field in form.fields else None
    form.add_error(field, str(exc))


# --- the applicant's side ----------------------------------------------------------------------------------


def _linked(user: Any) -> list[Person]:
    return [link.person for link in FamilyLink.objects.filter(user=user).select_related("person").order_by("pk")]


def _person_by_number(raw: str) -> Person | None:
    try:
        number = idnumber.parse(raw)
    except idnumber.IdNumberError:
        return None
    return Person.objects.filter(id_number_hash__in=crypto.lookup_hashes(number)).first()


def _reasons(answer: str, reasons: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "status": answer,
        "label": Eligibility(answer).label,
        "warn": answer == Eligibility.NOT_ELIGIBLE,
        "rows": [{**r, "words": text(r.get("text")) or r["name"]} for r in reasons],
    }


@login_required
@require_http_methods(["GET", "POST"])
def apply(request: HttpRequest, key: str) -> HttpResponse:
    """The item's materials checklist for one applicant, with the eligibility answer shown before submitting."""
    item = _item_or_404(key)
    user = request.user
    if not permissions.may_apply_at_all(user):
        raise PermissionDenied("this role does not apply for residents")
    department = standard.department_for(item)
    resident = getattr(user, "role", "") == Role.RESIDENT
    data = request.POST if request.method == "POST" else request.GET
    person: Person | None = None
    number_form = None
    choices: list[Person] = []
    if resident:
        choices = _linked(user)
        wanted = data.get("person", "")
        person = next((p for p in choices if str(p.pk) == wanted), choices[0] if len(choices) == 1 else None)
    elif request.method == "POST":
        number_form = forms.IdNumberForm(request.POST)
        if number_form.is_valid():
            person = _person_by_number(number_form.cleaned_data["id_number"])
            if person is None or permissions.capacity_for(user, person, department=department) is None:
                number_form.add_error(
                    "id_number", _("没有找到您可以代为申请的这位居民；请核对身份证号（须为本辖区户籍居民）。")
                )
                person = None
    else:
        number_form = forms.IdNumberForm()
    if person is not None and permissions.capacity_for(user, person, department=department) is None:
        raise PermissionDenied("may not apply for this person")
    materials = standard.materials(item)
    form = forms.ApplyForm(materials=materials)
    status = 200
    if person is not None and request.method == "POST" and request.POST.get("stage") == "submit":
        form = forms.ApplyForm(request.POST, request.FILES, materials=materials)
        if form.is_valid():
            try:
                application = services.application_submit(actor=user, item=item, person=person, materials=form.inputs())
            except ApplicationError as exc:
                _refuse(form, exc)
            else:
                messages.success(request, _("申请已提交。部门受理后开始计算办理时限，进展会显示在这里。"))
                return redirect("applications:detail", pk=application.pk)
        status = 400
    answer = None
    if person is not None:
        answer = _reasons(*services.eligibility_answer(item=item, person=person, as_of=timezone.localdate()))
    context = {
        "item": item,
        "department": department,
        "materials": materials,
        "steps": standard.steps(item),
        "person": person,
        "choices": choices,
        "number_form": number_form,
        "form": form,
        "failed": form if status == 400 else number_form if number_form is not None and number_form.errors else None,
        "answer": answer,
        "id_number": request.POST.get("id_number", "") if person is not None and not resident else "",
    }
    return render(request, "applications/apply.html", context, status=status)


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.applications_of_user(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    rows = [(a, clock.overdue(due_on=a.due_on, today=today) and a.is_open) for a in page]
    return render(request, "applications/mine.html", {"page": page, "rows": rows})


def _detail_page(
    request: HttpRequest, application: Application, *, failed: tuple[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    user = request.user
    item = application.item
    applicant_side = permissions.is_applicant_side(user, application)
    handles = permissions.handles(user, application)
    rev = {"revision": application.revision}
    missing = [
        m
        for m in standard.materials(item)
        if application.materials.filter(
            index=m.index, state__in=[MaterialState.MISSING, MaterialState.PROMISED]
        ).exists()
    ]
    action_forms: dict[str, Any] = {}
    if handles and application.is_open:
        action_forms = {
            "accept": forms.RevisionForm(initial=rev),
            "promise": forms.PromiseForm(initial=rev, item=item),
            "notice": forms.MaterialsChoiceForm(initial=rev, item=item),
            "advance": forms.ReasonForm(initial=rev),
            "approve": forms.ReasonForm(initial=rev),
            "refuse": forms.RefuseForm(initial=rev, grounds=services.refusal_grounds(item)),
            "transfer": forms.TransferForm(initial=rev),
            "close": forms.ReasonForm(initial=rev),
        }
    supply_form = forms.MaterialsForm(materials=missing) if applicant_side and missing else None
    withdraw_form = forms.ReasonForm(initial=rev) if applicant_side and application.is_open else None
    if failed is not None:
        name, form = failed
        if name == "supply":
            supply_form = form
        elif name == "withdraw":
            withdraw_form = form
        else:
            action_forms[name] = form
    for name, form in action_forms.items():  # one page, many forms: ids (and so labels) of each its own
        form.auto_id = f"id_{name}_%s"
    context = {
        "application": application,
        "item": item,
        "steps": standard.steps(item),
        "materials": selectors.material_rows(application),
        "events": application.events.select_related("actor").order_by("at", "id"),
        "overdue": application.is_open and clock.overdue(due_on=application.due_on, today=timezone.localdate()),
        "answer": _reasons(application.eligibility, application.eligibility_reasons),
        "handles": handles,
        "applicant_side": applicant_side,
        "action_forms": action_forms,
        "supply_form": supply_form,
        "withdraw_form": withdraw_form,
        "failed": failed[1] if failed else None,
        "revision": application.revision,
    }
    return render(request, "applications/detail.html", context, status=status)


@login_required
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail_page(request, selectors.application_for_user(user=request.user, pk=pk))


def _revision(request: HttpRequest) -> int | None:
    raw = request.POST.get("revision", "")
    return int(raw) if raw.isdigit() else None


@login_required
@require_POST
def supply(request: HttpRequest, pk: int) -> HttpResponse:
    application = selectors.application_for_user(user=request.user, pk=pk)
    if not permissions.is_applicant_side(request.user, application):
        raise PermissionDenied("not the applicant's side")
    wanted = [r.index for r in application.materials.filter(state__in=[MaterialState.MISSING, MaterialState.PROMISED])]
    form = forms.MaterialsForm(
        request.POST, request.FILES, materials=[m for m in standard.materials(application.item) if m.index in wanted]
    )
    if form.is_valid():
        try:
            services.application_supply(
                actor=request.user, application=application, materials=form.inputs(), revision=_revision(request)
            )
        except ApplicationError as exc:
            _refuse(form, exc)
        else:
            messages.success(request, _("材料已补正；办理时限从今天起继续计算。"))
            return redirect("applications:detail", pk=pk)
    return _detail_page(request, application, failed=("supply", form), status=400)


@login_required
@require_POST
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    application = selectors.application_for_user(user=request.user, pk=pk)
    if not permissions.is_applicant_side(request.user, application):
        raise PermissionDenied("not the applicant's side")
    form = forms.ReasonForm(request.POST)
    if form.is_valid():
        try:
            services.application_withdraw(
                actor=request.user,
                application=application,
                reason=form.cleaned_data["reason"],
                revision=form.cleaned_data["revision"],
            )
        except ApplicationError as exc:
            _refuse(form, exc)
        else:
            messages.success(request, _("申请已撤回。"))
            return redirect("applications:detail", pk=pk)
    return _detail_page(request, application, failed=("withdraw", form), status=400)


@login_required
@require_GET
def material_file(request: HttpRequest, pk: int, index: int) -> FileResponse:
    """An uploaded material, to the applicant's side and the officers handling it (never a public URL)."""
    application = selectors.application_for_user(user=request.user, pk=pk)
    row = ApplicationMaterial.objects.filter(application=application, index=index).exclude(file="").first()
    if row is None:
        raise Http404("no such file")
    # Whoever reads an applicant's document is on record, as a registry record's reader is.
    audit(actor=request.user, event="application.file_viewed", obj=application, after={"material": index})
    extension = row.file.name.rsplit(".", 1)[-1]
    response = FileResponse(row.file.open("rb"), content_type=row.content_type)
    response["Content-Disposition"] = f'attachment; filename="application-{pk}-{index}.{extension}"'
    return response


# --- the department's side ---------------------------------------------------------------------------------


def _officer_only(user: Any) -> None:
    if not (getattr(user, "role", "") == Role.DEPARTMENT_OFFICER and user.department_id and user.area_id):
        raise PermissionDenied("the inbox is for department officers")


def _inbox_reader(user: Any) -> bool:
    """The inbox is the officers' (to act) and their supervisors' (read-only); ``True`` for a supervisor."""
    if permissions.supervisor_prefix(user) is not None:
        return True
    _officer_only(user)
    return False


def _inbox_filters(request: HttpRequest) -> tuple[forms.InboxFilterForm, selectors.InboxFilters]:
    form = forms.InboxFilterForm(request.GET or None, items=selectors.inbox_items(user=request.user))
    filters = selectors.InboxFilters()
    if form.is_bound and form.is_valid():
        d = form.cleaned_data
        filters = selectors.InboxFilters(
            item=d["item"] or "",
            step=d["step"],
            overdue=bool(d["overdue"]),
            open_only=not d["closed"],
            due_by=d["due_by"],
        )
    return form, filters


def _step_name(names: list[str], step: int) -> str:
    return names[step] if 0 <= step < len(names) else ""


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    supervisor = _inbox_reader(request.user)
    form, filters = _inbox_filters(request)
    today = timezone.localdate()
    page = CappedPaginator(selectors.inbox_for(user=request.user, filters=filters, today=today), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    steps: dict[int, list[str]] = {}  # each item's step names, read once a page
    rows = [
        (
            a,
            a.is_open and clock.overdue(due_on=a.due_on, today=today),
            _step_name(steps.setdefault(a.item_id, [s.name for s in standard.steps(a.item)]), a.step),
        )
        for a in page
    ]
    status = 400 if form.is_bound and not form.is_valid() else 200
    context = {
        "count_cap": COUNT_CAP,
        "form": form,
        "page": page,
        "rows": rows,
        "overdue_count": selectors.inbox_overdue_count(user=request.user, today=today),
        "export_query": request.GET.urlencode(),
        "supervisor": supervisor,
    }
    return render(request, "applications/inbox.html", context, status=status)


@never_cache
@login_required
@require_GET
def inbox_export(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """The inbox with its filters as .xlsx, streamed as it is written; ID numbers masked; audited."""
    _officer_only(request.user)
    form, filters = _inbox_filters(request)
    if form.is_bound and not form.is_valid():
        return HttpResponse(
            _("筛选条件有误：%(errors)s") % {"errors": "；".join(str(e) for es in form.errors.values() for e in es)},
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    stream = export.inbox_export(actor=request.user, filters=filters, today=timezone.localdate())
    response = StreamingHttpResponse(stream, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="applications-{timezone.localdate():%Y%m%d}.xlsx"'
    return response


Act = Callable[[Any, Application, Any], Application]

ACTIONS: dict[str, tuple[Callable[..., Any], Act, str]] = {
    "accept": (
        lambda item, data: forms.RevisionForm(data),
        lambda u, a, d: services.application_accept(actor=u, application=a, revision=d["revision"]),
        _("已受理；办理时限从今天起计算。"),
    ),
    "promise": (
        lambda item, data: forms.PromiseForm(data, item=item),
        lambda u, a, d: services.application_accept_with_promise(
            actor=u, application=a, promised=d["materials"], days=d["days"], reason=d["reason"], revision=d["revision"]
        ),
        _("已容缺受理；申请人须在期限内补齐所列材料。"),
    ),
    "notice": (
        lambda item, data: forms.MaterialsChoiceForm(data, item=item),
        lambda u, a, d: services.application_notice(
            actor=u, application=a, missing=d["materials"], reason=d["reason"], revision=d["revision"]
        ),
        _("一次性告知已发出；申请人补正前，办理时限暂停计算。"),
    ),
    "advance": (
        lambda item, data: forms.ReasonForm(data),
        lambda u, a, d: services.application_advance(actor=u, application=a, note=d["reason"], revision=d["revision"]),
        _("本环节已办结，进入下一环节。"),
    ),
    "approve": (
        lambda item, data: forms.ReasonForm(data),
        lambda u, a, d: services.application_decide(
            actor=u, application=a, approve=True, reason=d["reason"], revision=d["revision"]
        ),
        _("已批准。"),
    ),
    "refuse": (
        lambda item, data: forms.RefuseForm(data, grounds=services.refusal_grounds(item)),
        lambda u, a, d: services.application_decide(
            actor=u, application=a, approve=False, reason=d["reason"], ground=d["ground"], revision=d["revision"]
        ),
        _("已作出不予批准决定。"),
    ),
    "transfer": (
        lambda item, data: forms.TransferForm(data),
        lambda u, a, d: services.application_transfer(
            actor=u, application=a, department=d["department"], reason=d["reason"], revision=d["revision"]
        ),
        _("已转办。"),
    ),
    "close": (
        lambda item, data: forms.ReasonForm(data),
        lambda u, a, d: services.application_close(actor=u, application=a, reason=d["reason"], revision=d["revision"]),
        _("已终止办理。"),
    ),
}


@login_required
@require_POST
def act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in ACTIONS:
        raise Http404("no such action")
    application = selectors.application_for_user(user=request.user, pk=pk)
    if not permissions.handles(request.user, application):
        raise PermissionDenied("not this application's department and area")
    make_form, call, done = ACTIONS[action]
    form = make_form(application.item, request.POST)
    if form.is_valid():
        try:
            call(request.user, application, form.cleaned_data)
        except ApplicationError as exc:
            _refuse(form, exc)
        else:
            messages.success(request, str(done))
            if permissions.handles(request.user, Application.objects.get(pk=pk)):
                return redirect("applications:detail", pk=pk)
            return redirect("applications:inbox")  # transferred away: no longer this office's to see
    return _detail_page(request, application, failed=(action, form), status=400)
