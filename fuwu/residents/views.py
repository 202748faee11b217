"""Staff pages of the resident registry. Thin: parse, select or call one service, render."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fuwu.common.audit import audit_persons_read
from fuwu.jobs.selectors import job_pending
from fuwu.residents import loading, selectors, services
from fuwu.residents.columns import COLUMNS
from fuwu.residents.forms import ImportForm, LoadForm
from fuwu.residents.models import Person, PersonImport
from fuwu.residents.permissions import can_import_persons, can_list_persons
from fuwu.residents.reports import error_report_xlsx

PAGE_SIZE = 50
SHOWN_ERRORS = 500


def _person_or_404(request: HttpRequest, pk: int) -> Person:
    # Out of scope and absent look the same, so a URL does not tell whether someone is registered.
    try:
        return selectors.person_for_user(user=request.user, pk=pk)
    except Person.DoesNotExist as exc:
        raise Http404("no such resident") from exc


@never_cache
@require_http_methods(["GET", "POST"])
def person_list(request: HttpRequest) -> HttpResponse:
    """Browse (GET, paginated) or search (POST, so an identity number never appears in a URL or a log)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not can_list_persons(request.user):
        raise PermissionDenied
    query = request.POST.get("q", "").strip() if request.method == "POST" else ""
    search = selectors.persons_search(user=request.user, query=query)
    ordered = search.persons.order_by("hukou_area", "household_id", "pk")
    page = None
    if query:
        persons, total = list(ordered[:PAGE_SIZE]), ordered.count()
    else:
        page = Paginator(ordered, PAGE_SIZE).get_page(request.GET.get("page"))
        persons, total = list(page.object_list), page.paginator.count
    # Who was shown whom: the search's kind, never its text (it may be an identity number).
    audit_persons_read(
        actor=request.user,
        purpose="registry search" if query else "registry list",
        persons=persons,
        details={"search": search.by, "total": total} if query else {"page": page.number if page else 1},
    )
    context = {
        "query": query,
        # An identity number is not written back into the page: it would sit in the form, the cache, the screen.
        "query_echo": "" if search.by == "id_number" else query,
        "search": search,
        "page": page,
        "total": total,
        "rows": selectors.person_rows(user=request.user, persons=persons),
        "can_import": can_import_persons(request.user),
    }
    return render(request, "residents/person_list.html", context)


@never_cache
@require_GET
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    record = services.person_view(person=_person_or_404(request, pk), actor=request.user)
    return render(request, "residents/person_detail.html", {"record": record})


@never_cache
@require_POST
def person_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    # The full number is shown in this response only, never in a URL or a redirect.
    if not request.user.is_authenticated:
        raise PermissionDenied
    record = services.person_reveal(person=_person_or_404(request, pk), actor=request.user)
    return render(request, "residents/person_detail.html", {"record": record})


@never_cache
@require_POST
def person_contact(request: HttpRequest, pk: int) -> HttpResponse:
    """The full contact details (audited): a fragment for htmx (the outreach list's rows), else the record page."""
    if not request.user.is_authenticated:
        raise PermissionDenied
    person = _person_or_404(request, pk)
    if request.htmx:  # type: ignore[attr-defined]
        contact = services.person_contact_reveal(person=person, actor=request.user)
        return render(request, "residents/_contact.html", {"contact": contact})
    record = services.person_view(person=person, actor=request.user, reveal_contact=True)
    return render(request, "residents/person_detail.html", {"record": record})


@never_cache
@require_http_methods(["GET", "POST"])
def person_import(request: HttpRequest) -> HttpResponse:
    """Upload a list: it is stored and imported in the background; the job's page follows it."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not can_import_persons(request.user):
        raise PermissionDenied
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        job = services.persons_import_queue(
            data=upload.read(),
            filename=upload.name or "upload",
            actor=request.user,
            valid_only=form.cleaned_data["valid_only"],
        )
        return redirect(job)
    return render(request, "residents/import.html", {"form": form, "columns": COLUMNS})


@never_cache
@require_http_methods(["GET", "POST"])
def registry_load(request: HttpRequest) -> HttpResponse:
    """Load a registry export from the drop folder in bulk, in the background; the job's page shows the progress."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not can_import_persons(request.user):
        raise PermissionDenied
    files = loading.drop_files()
    form = LoadForm(request.POST or None, names=[f.name for f in files])
    if request.method == "POST" and form.is_valid():
        pending = job_pending(user=request.user, kind=loading.LOAD_JOB)
        if pending is not None:
            return redirect(pending)  # one at a time: a second click shows the one running
        try:
            job = loading.persons_load_queue(
                path=loading.drop_file(form.cleaned_data["file"]),
                actor=request.user,
                valid_only=form.cleaned_data["valid_only"],
            )
        except FileNotFoundError:
            form.add_error("file", _("这个文件已经不在交换目录里了，请刷新页面后重新选择。"))
        else:
            return redirect(job)
    loads = selectors.imports_for_user(user=request.user).exclude(job=None)[:20]
    return render(request, "residents/load.html", {"form": form, "files": files, "loads": loads})


@never_cache
@require_GET
def import_report(request: HttpRequest, pk: int) -> HttpResponse:
    """What an import did, with its error report (the importer's own imports only)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    try:
        record = selectors.imports_for_user(user=request.user).get(pk=pk)
    except PersonImport.DoesNotExist as exc:
        raise Http404("no such import") from exc
    context = {
        "record": record,
        "written": record.outcome != PersonImport.Outcome.REJECTED,
        "errors": record.errors[:SHOWN_ERRORS],
        "shown_errors": SHOWN_ERRORS,
    }
    return render(request, "residents/import_report.html", context)


@never_cache
@require_GET
def import_errors(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        record = selectors.imports_for_user(user=request.user).get(pk=pk)
    except PersonImport.DoesNotExist as exc:
        raise Http404("no such import") from exc
    response = HttpResponse(
        error_report_xlsx(record), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="import-{record.pk}-errors.xlsx"'
    return response
