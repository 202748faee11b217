"""免申即享 pages (``proactive.py``): the officer's confirmation page and button for one township and item of a
screening run, and the person's page to confirm or decline a pre-filled application. Thin: parse, call, render."""

from __future__ import annotations

from typing import Any

from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from fuwu.accounts.models import Role
from fuwu.applications import forms, proactive, standard
from fuwu.applications.models import Application, PrefillMode
from fuwu.applications.services import ApplicationError
from fuwu.applications.tasks import PREFILL
from fuwu.applications.views import _reasons, _refuse, _revision
from fuwu.areas.selectors import area_names
from fuwu.eligibility.models import RunStatus, ScreeningRun
from fuwu.jobs.selectors import job_pending
from fuwu.jobs.services import job_start
from fuwu.standards import selectors as standard_selectors
from fuwu.standards.models import ServiceItem


class DeclineForm(forms.RevisionForm):
    reason = django_forms.CharField(
        label=gettext_lazy("谢绝的原因"),
        max_length=forms.REASON_MAX,
        widget=django_forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": gettext_lazy("请写明谢绝的原因。")},
    )


# --- the officer's side ----------------------------------------------------------------------------------------


def _prefill_target(request: HttpRequest, run_id: int, item_key: str) -> tuple[ScreeningRun, ServiceItem]:
    user: Any = request.user
    if not (getattr(user, "role", "") == Role.DEPARTMENT_OFFICER and user.department_id and user.area_id):
        raise PermissionDenied("pre-filling is for department officers")
    run = ScreeningRun.objects.filter(pk=run_id, status=RunStatus.COMPLETED, draft=False).first()
    if run is None:
        raise Http404("no completed screening run")
    try:
        item = standard_selectors.item_in_force(key=item_key)
    except ServiceItem.DoesNotExist as exc:
        raise Http404("no such service item") from exc
    if proactive.offered(item) is None:
        raise Http404("this item is not given without an application")
    return run, item


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def prefill(request: HttpRequest, run_id: int, township: str, item: str) -> HttpResponse:
    """How many applications the township would get and how many are skipped (and why); the button queues it."""
    run, service_item = _prefill_target(request, run_id, item)
    if not proactive.may_prefill(request.user, service_item, township):
        raise PermissionDenied("not the item's lead department, or not this officer's area")
    pending = job_pending(user=request.user, kind=PREFILL)
    if request.method == "POST":
        if pending is not None:
            messages.info(request, _("您提交的生成任务还在进行，请等它完成。"))
            return redirect(pending)
        job = job_start(
            kind=PREFILL, actor=request.user, params={"run": run.pk, "item": service_item.key, "township": township}
        )
        return redirect(job)
    try:
        plan = proactive.prefill_plan(user=request.user, run=run, item=service_item, township=township)
    except ApplicationError as exc:
        raise Http404(str(exc)) from exc
    context = {
        "run": run,
        "item": service_item,
        "township": township,
        "township_name": area_names([township]).get(township, township),
        "plan": plan,
        "grant": plan.mode == PrefillMode.GRANT,
        "pending": pending,
    }
    return render(request, "applications/prefill.html", context)


def prefill_link(*, user: object, run: ScreeningRun, item_key: str, township: str) -> str:
    """The proactive list's button for one township and item: the confirmation page, or "" when not offered."""
    from django.urls import reverse

    if len(township) != proactive.TOWNSHIP_DIGITS or not item_key:
        return ""
    try:
        item = standard_selectors.item_in_force(key=item_key)
    except ServiceItem.DoesNotExist:
        return ""
    if proactive.offered(item) is None or not proactive.may_prefill(user, item, township):
        return ""
    return reverse("applications:prefill", args=[run.pk, township, item.key])


# --- the person's side -----------------------------------------------------------------------------------------


def _pending_or_404(request: HttpRequest, pk: int) -> Application:
    found = proactive.prefilled_for_user(user=request.user, pk=pk)
    if found is None:
        raise Http404("no pre-filled application for this user")
    return found


def _confirm_page(
    request: HttpRequest,
    application: Application,
    *,
    form: forms.ApplyForm | None = None,
    decline: DeclineForm | None = None,
    status: int = 200,
) -> HttpResponse:
    wanted = proactive.materials_missing(application)
    rev = {"revision": application.revision}
    context = {
        "application": application,
        "item": application.item,
        "shared": [m for m in standard.materials(application.item) if m.shared_data],
        "form": form or forms.ApplyForm(materials=wanted),
        "decline_form": decline or DeclineForm(initial=rev, auto_id="id_decline_%s"),
        "revision": application.revision,
        "answer": _reasons(application.eligibility, application.eligibility_reasons),
        "steps": standard.steps(application.item),
        "failed": form if status == 400 and form is not None else decline if status == 400 else None,
        "waiting": application.status == "awaiting_confirmation",
    }
    return render(request, "applications/confirm.html", context, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, pk: int) -> HttpResponse:
    application = _pending_or_404(request, pk)
    if request.method == "GET":
        return _confirm_page(request, application)
    form = forms.ApplyForm(request.POST, request.FILES, materials=proactive.materials_missing(application))
    if form.is_valid():
        try:
            proactive.application_confirm(
                actor=request.user, application=application, materials=form.inputs(), revision=_revision(request)
            )
        except ApplicationError as exc:
            _refuse(form, exc)
        else:
            messages.success(request, _("已确认并提交。部门受理后开始计算办理时限，进展会显示在这里。"))
            return redirect("applications:detail", pk=pk)
    return _confirm_page(request, application, form=form, status=400)


@login_required
@require_POST
def decline(request: HttpRequest, pk: int) -> HttpResponse:
    application = _pending_or_404(request, pk)
    form = DeclineForm(request.POST, auto_id="id_decline_%s")
    if form.is_valid():
        try:
            proactive.application_decline(
                actor=request.user,
                application=application,
                reason=form.cleaned_data["reason"],
                revision=form.cleaned_data["revision"],
            )
        except ApplicationError as exc:
            _refuse(form, exc)
        else:
            messages.success(request, _("已谢绝。需要时，您仍可随时在办事指南中在线申请。"))
            return redirect("applications:mine")
    return _confirm_page(request, application, decline=form, status=400)
