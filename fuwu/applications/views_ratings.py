"""好差评 and rectification pages: the applicant side rates (the form sits on the application's page), the
department and the supervisors follow the rectifications. Thin: parse, call one service or selector, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from fuwu.applications import ratings, selectors
from fuwu.applications.forms_ratings import CallbackForm, RatingForm, RecordForm
from fuwu.applications.models import Application, Rectification, RectificationStatus
from fuwu.applications.services import ApplicationError
from fuwu.common import satisfaction
from fuwu.common.audit import audit_persons_read
from fuwu.residents.masking import mask_name
from fuwu.standards import clause_choice

PAGE_SIZE = 50


def _refuse(form: Any, exc: ApplicationError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, str(exc))


def rating_context(user: Any, application: Application, *, form: RatingForm | None = None) -> dict[str, Any]:
    """What the application's page shows of its rating: the rating given (and its rectification), or the form."""
    rating = getattr(application, "rating", None)
    context: dict[str, Any] = {"application": application, "rating": rating}
    if rating is not None:
        context["reason_labels"] = [satisfaction.REASON_LABELS.get(r, r) for r in rating.reasons]
        found = getattr(rating, "rectification", None)
        context["rectification"] = found
        context["rectification_link"] = found is not None and ratings.may_view_rectification(user, found)
    elif application.status in ratings.DECIDED and ratings.may_rate(user, application):
        context["rating_form"] = form or RatingForm()
        context["rating_form"].fields["clause"].widget.choices = clause_choice.choices(application.version)
    return context


@login_required
@require_POST
def rate(request: HttpRequest, pk: int) -> HttpResponse:
    application = selectors.application_for_user(user=request.user, pk=pk)
    if not ratings.may_rate(request.user, application):
        raise PermissionDenied("not the applicant's side")
    form = RatingForm(request.POST)
    if form.is_valid():
        try:
            rating = ratings.rating_give(
                actor=request.user,
                application=application,
                level=form.cleaned_data["level"],
                reasons=form.cleaned_data["reasons"],
                text=form.cleaned_data["text"],
                clause=form.cleaned_data["clause"],
            )
        except ApplicationError as exc:
            _refuse(form, exc)
        else:
            if satisfaction.is_poor(rating.level):
                messages.success(request, _("感谢您的评价。部门将限期整改，并回访听取您的意见。"))
            else:
                messages.success(request, _("感谢您的评价。"))
            return redirect("applications:detail", pk=pk)
    context = rating_context(request.user, application, form=form) | {"failed": form}
    return render(request, "applications/rate.html", context, status=400)


def _today() -> Any:
    return timezone.localdate()


@login_required
@require_GET
def rectifications(request: HttpRequest) -> HttpResponse:
    """差评整改: the department's of the officer's area, or every one for the supervisors; overdue flagged."""
    if not ratings.sees_rectifications(request.user):
        raise PermissionDenied("no rectifications for this role")
    today = _today()
    overdue_only = request.GET.get("overdue") == "1"
    rows = ratings.rectifications_for_user(user=request.user, today=today, overdue=overdue_only)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    listed = [(r, ratings.is_overdue(r, today=today)) for r in page.object_list]
    return render(
        request,
        "applications/rectifications.html",
        {"page": page, "rows": listed, "overdue_only": overdue_only, "today": today},
    )


def _detail(
    request: HttpRequest, rectification: Rectification, *, failed: tuple[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    user = request.user
    forms: dict[str, Any] = {}
    if rectification.status == RectificationStatus.OPEN and ratings.handles_rectification(user, rectification):
        forms["record"] = RecordForm()
    if rectification.status == RectificationStatus.RECTIFIED and ratings.may_callback(user, rectification):
        forms["callback"] = CallbackForm()
    if failed is not None:
        forms[failed[0]] = failed[1]
    rating = rectification.rating
    if "record" in forms:
        forms["record"].fields["clause"].widget.choices = clause_choice.choices(rectification.application.version)
        if failed is None:
            forms["record"].initial["clause"] = str(rating.clause_id or "")
    name = rectification.application.person.name
    if ratings.handles_rectification(user, rectification):  # the name in full, with the rater's words: audited
        audit_persons_read(
            actor=user,
            purpose="application rectification",
            persons=[rectification.application.person_id],
            obj=rectification,
        )
    context = {
        "failed": failed[1] if failed is not None else None,
        # The supervisors oversee the handling, not the person: they see the name masked.
        "applicant_name": name if ratings.handles_rectification(user, rectification) else mask_name(name),
        "r": rectification,
        "rating": rating,
        "reason_labels": [satisfaction.REASON_LABELS.get(x, x) for x in rating.reasons],
        "overdue": ratings.is_overdue(rectification, today=_today()),
        "record_form": forms.get("record"),
        "callback_form": forms.get("callback"),
    }
    return render(request, "applications/rectification.html", context, status=status)


@login_required
@require_GET
def rectification(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, ratings.rectification_for_user(user=request.user, pk=pk))


@login_required
@require_POST
def rectification_act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in ("record", "callback"):
        raise Http404("no such action")
    row = ratings.rectification_for_user(user=request.user, pk=pk)
    form: RecordForm | CallbackForm
    if action == "record":
        form = RecordForm(request.POST)
        if form.is_valid():
            try:
                ratings.rectification_record(
                    actor=request.user,
                    rectification=row,
                    action=form.cleaned_data["action"],
                    # The select is on the form; a POST without it leaves the rater's choice.
                    clause=form.cleaned_data["clause"] if "clause" in request.POST else ratings.UNCHANGED,
                )
            except ApplicationError as exc:
                _refuse(form, exc)
            else:
                messages.success(request, _("整改情况已记录；请回访申请人。"))
                return redirect("applications:rectification", pk=pk)
    else:
        form = CallbackForm(request.POST)
        if form.is_valid():
            try:
                ratings.rectification_callback(
                    actor=request.user,
                    rectification=row,
                    satisfied=form.cleaned_data["outcome"] == "yes",
                    note=form.cleaned_data["note"],
                )
            except ApplicationError as exc:
                _refuse(form, exc)
            else:
                messages.success(request, _("回访结果已记录。"))
                return redirect("applications:rectification", pk=pk)
    return _detail(request, row, failed=(action, form), status=400)
