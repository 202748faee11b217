"""The month's home-care reports: settlements and their downloads, an elder's statement, supervision.

Thin: parse the input, read through a scoped selector or call one service, render. A row outside the
user's scope is a 404, the same as one that does not exist.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from fuwu.common.audit import audit_persons_read
from fuwu.common.params import MonthField, month_or_none
from fuwu.homecare import exports, permissions, selectors, settlement, supervision
from fuwu.homecare.models import Callback, EntitlementAccount, Order, Settlement, SettlementStatus
from fuwu.homecare.services import HomeCareError, local_now, month_start
from fuwu.residents.masking import mask_name


def parse_month(value: str) -> dt.date | None:
    """``YYYY-MM`` (within ``fuwu.common.params``' range) → the first day of that month, or ``None``."""
    return month_or_none(value)


class MonthForm(forms.Form):
    month = MonthField(
        label=gettext_lazy("月份"),
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "2026-11"}),
        help_text=gettext_lazy("格式：年-月，例如 2026-11"),
    )


class CallbackForm(forms.Form):
    reached = forms.TypedChoiceField(
        label=gettext_lazy("是否接通"),
        choices=[("yes", gettext_lazy("已接通")), ("no", gettext_lazy("未接通"))],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
    )
    satisfied = forms.TypedChoiceField(
        label=gettext_lazy("是否满意"),
        choices=[("yes", gettext_lazy("满意")), ("no", gettext_lazy("不满意"))],
        coerce=lambda v: v == "yes",
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
        help_text=gettext_lazy("接通时必选"),
    )
    note = forms.CharField(
        label=gettext_lazy("备注"), required=False, max_length=1000, widget=forms.Textarea({"rows": 2})
    )


def _chosen_month(request: HttpRequest, *, default: dt.date) -> tuple[MonthForm, dt.date]:
    form = MonthForm(request.GET or {"month": f"{default:%Y-%m}"})
    month = form.cleaned_data["month"] if form.is_valid() else default
    return form, month


def _previous_month(today: dt.date) -> dt.date:
    return month_start(month_start(today) - dt.timedelta(days=1))


def _month_or_404(value: str) -> dt.date:
    month = parse_month(value)
    if month is None:
        raise Http404("no such month")
    return month


# --- settlements ----------------------------------------------------------------------------------


@never_cache
@require_GET
def settlements(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    providers = settlement.providers_for_settlement(user=request.user)
    if not providers:
        raise PermissionDenied
    form, month = _chosen_month(request, default=_previous_month(local_now().date()))
    existing = {s.provider_id: s for s in settlement.settlements_for_user(user=request.user).filter(month=month)}
    rows = []
    for p in providers:
        found = existing.get(p.pk)
        # An officer sees the totals of their own area's lines only (settlement.line_prefix).
        totals: Any = found
        if found is not None and settlement.line_prefix(request.user, p) is not None:
            totals = settlement.settlement_report(found, user=request.user)
        may = settlement.may_settle(request.user, p) and not getattr(totals, "partial", False)
        rows.append({"provider": p, "settlement": found, "totals": totals, "may_settle": may})
    context = {
        "form": form,
        "month": month,
        "rows": rows,
        "reconciliation": _reconciliation(request.user, month, providers),
        "draft": SettlementStatus.DRAFT,
    }
    return render(request, "homecare/reports/settlements.html", context)


def _reconciliation(user: Any, month: dt.date, providers: list[Any]) -> dict[str, Any] | None:
    """The month's check, with the per-provider and per-elder rows cut to what ``user`` may see."""
    if not settlement.sees_reconciliation(user):
        return None
    result = settlement.reconcile(month=month)
    mine = {p.pk for p in providers}
    visible_accounts = set(
        selectors.accounts_for_user(user=user)
        .filter(pk__in=[d.account_id for d in result.ledger_differences])
        .values_list("pk", flat=True)
    )
    # The orders behind a provider's difference, cut to those the user may see (another county's are not named).
    causes = [o.order_id for p in result.providers for o in p.orders]
    visible_orders = set(selectors.orders_for_user(user=user).filter(pk__in=causes).values_list("pk", flat=True))
    return {
        "result": result,
        "providers": [
            replace(
                p,
                orders=[o for o in p.orders if o.order_id in visible_orders],
                hidden_orders=sum(1 for o in p.orders if o.order_id not in visible_orders),
            )
            for p in result.providers
            if p.provider.pk in mine
        ],
        "ledger_differences": [d for d in result.ledger_differences if d.account_id in visible_accounts],
        "hidden": len(result.ledger_differences) - len(visible_accounts),
    }


def _to_month(page: str, month: dt.date) -> HttpResponse:
    return redirect(f"{reverse(page)}?month={month:%Y-%m}")


def _posted_month(request: HttpRequest) -> dt.date:
    if not request.user.is_authenticated:
        raise PermissionDenied
    return _month_or_404(request.POST.get("month", ""))


@require_POST
def settlement_generate(request: HttpRequest) -> HttpResponse:
    month = _posted_month(request)
    try:
        provider = next(
            p
            for p in settlement.providers_for_settlement(user=request.user)
            if str(p.pk) == request.POST.get("provider")
        )
    except StopIteration:
        raise Http404("no such provider") from None
    try:
        made = settlement.settlement_generate(actor=request.user, provider=provider, month=month)
    except HomeCareError as exc:
        messages.error(request, str(exc))
        return _to_month("homecare:settlements", month)
    messages.success(
        request, _("已生成 %(provider)s %(month)s 的结算单。") % {"provider": provider.name, "month": f"{month:%Y-%m}"}
    )
    return redirect("homecare:settlement", pk=made.pk)


def _settlement_or_404(request: HttpRequest, pk: int) -> Settlement:
    try:
        return settlement.settlement_for_user(user=request.user, pk=pk)
    except Settlement.DoesNotExist as exc:
        raise Http404("no such settlement") from exc


@require_POST
def settlement_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.is_authenticated:
        raise PermissionDenied
    found = _settlement_or_404(request, pk)
    try:
        settlement.settlement_confirm(actor=request.user, settlement=found)
    except HomeCareError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("结算单已确认。"))
    return redirect("homecare:settlement", pk=found.pk)


@never_cache
@require_GET
def settlement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    found = _settlement_or_404(request, pk)
    report = _report_read(request, found, fmt="page")
    context = {
        "report": report,
        # Generating and confirming need authority over every line (settlement.settlement_confirm).
        "may_settle": settlement.may_settle(request.user, found.provider) and not report.partial,
        "draft": SettlementStatus.DRAFT,
    }
    return render(request, "homecare/reports/settlement.html", context)


def _report_read(request: HttpRequest, found: Settlement, *, fmt: str) -> settlement.SettlementReport:
    """The settlement as the reader may see it, its elders' read audited (a page, or a file when ``fmt`` is one)."""
    report = settlement.settlement_report(found, user=request.user)
    persons = Order.objects.filter(pk__in=[row.order_id for row in report.rows]).values_list(
        "account__person_id", flat=True
    )
    audit_persons_read(
        actor=request.user,
        purpose=f"home-care settlement ({fmt})",
        persons=list(persons),
        obj=found,
        exported=fmt != "page",
    )
    return report


def _download(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@never_cache
@require_GET
def settlement_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    found = _settlement_or_404(request, pk)
    content = exports.settlement_xlsx(_report_read(request, found, fmt="xlsx"))
    return _download(content, exports.XLSX, f"settlement-{found.provider_id}-{found.month:%Y-%m}.xlsx")


@never_cache
@require_GET
def settlement_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    found = _settlement_or_404(request, pk)
    content = exports.settlement_pdf(_report_read(request, found, fmt="pdf"))
    return _download(content, "application/pdf", f"settlement-{found.provider_id}-{found.month:%Y-%m}.pdf")


# --- an elder's statement -------------------------------------------------------------------------


def _statement(request: HttpRequest, account_id: int, month: str, *, fmt: str) -> dict[str, Any]:
    """An elder's statement for a month, its read audited (a page, or a file when ``fmt`` is one)."""
    first = _month_or_404(month)
    try:
        account = selectors.account_for_user(user=request.user, pk=account_id)
    except EntitlementAccount.DoesNotExist as exc:
        raise Http404("no such account") from exc
    found = selectors.statement(account=account, month=first)
    person = account.person
    # The family and the elder's officer know the elder; a provider or an auditor sees the masked name.
    elder = person.name if permissions.can_book_for(request.user, person) else mask_name(person.name)
    names = settlement.project_names(on=first, keys=[line.order.item for line in found.lines])
    audit_persons_read(
        actor=request.user,
        purpose=f"home-care statement {first:%Y-%m} ({fmt})",
        persons=[person.pk],
        obj=account,
        exported=fmt != "page",
    )
    return {"statement": found, "elder": elder, "names": names}


@never_cache
@require_GET
def statement(request: HttpRequest, account_id: int, month: str) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    context = _statement(request, account_id, month, fmt="page")
    first = context["statement"].month
    context["previous"] = _previous_month(first)
    context["next"] = month_start(first + dt.timedelta(days=32))
    return render(request, "homecare/reports/statement.html", context)


@never_cache
@require_GET
def statement_pdf(request: HttpRequest, account_id: int, month: str) -> HttpResponse:
    if not request.user.is_authenticated:
        raise Http404("no such account")
    context = _statement(request, account_id, month, fmt="pdf")
    content = exports.statement_pdf(context["statement"], elder=context["elder"], names=context["names"])
    return _download(content, "application/pdf", f"statement-{account_id}-{context['statement'].month:%Y-%m}.pdf")


# --- supervision ----------------------------------------------------------------------------------


def _supervision_page(
    request: HttpRequest, month: dt.date, *, bound: tuple[int, CallbackForm] | None = None, status: int = 200
) -> HttpResponse:
    form = MonthForm({"month": f"{month:%Y-%m}"})
    form.is_valid()
    callbacks = list(supervision.callbacks_for_user(user=request.user, month=month))
    rows = []
    for callback in callbacks:
        record_form = None
        if supervision.may_record_callback(request.user, callback):
            record_form = bound[1] if bound and bound[0] == callback.pk else CallbackForm(prefix=f"cb{callback.pk}")
        rows.append({"callback": callback, "elder": mask_name(callback.order.account.person.name), "form": record_form})
    names = settlement.project_names(on=month, keys=[c.order.item for c in callbacks])
    report = supervision.indicators(user=request.user, month=month)
    context = {
        "form": form,
        "month": month,
        "report": report,
        "totals_rows": [report.totals],
        "callbacks": rows,
        "names": names,
        "may_sample": permissions.can_open_accounts(request.user),
    }
    return render(request, "homecare/reports/supervision.html", context, status=status)


@never_cache
@require_GET
def supervision_page(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not permissions.can_supervise(request.user):
        raise PermissionDenied
    _, month = _chosen_month(request, default=month_start(local_now().date()))
    return _supervision_page(request, month)


@require_POST
def callbacks_sample(request: HttpRequest) -> HttpResponse:
    month = _posted_month(request)
    try:
        made = supervision.callbacks_sample(actor=request.user, month=month)
    except HomeCareError as exc:
        messages.error(request, str(exc))
    else:
        if made:
            messages.success(request, _("已抽取 %(n)d 个服务工单待回访。") % {"n": len(made)})
        else:
            messages.info(request, _("本月回访工单已达到标准要求的比例，无需再抽取。"))
    return _to_month("homecare:supervision", month)


@require_POST
def callback_record(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.is_authenticated:
        raise PermissionDenied
    try:
        callback = supervision.callback_for_user(user=request.user, pk=pk)
    except Callback.DoesNotExist as exc:
        raise Http404("no such callback") from exc
    # Who may record, before what they sent is read (an auditor sees callbacks but records none).
    if not permissions.is_officer_for(request.user, callback.order.account.person):
        raise PermissionDenied
    month = callback.order.account_month.month
    form = CallbackForm(request.POST, prefix=f"cb{callback.pk}")
    if form.is_valid():
        try:
            supervision.callback_record(
                actor=request.user,
                callback=callback,
                reached=form.cleaned_data["reached"],
                satisfied=form.cleaned_data["satisfied"],
                note=form.cleaned_data["note"],
            )
        except HomeCareError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("回访结果已记录。"))
            return _to_month("homecare:supervision", month)
    return _supervision_page(request, month, bound=(callback.pk, form), status=400)
