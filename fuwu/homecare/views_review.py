"""Officers' pages on what caregivers recorded at the door: visits held for review, proposed home positions,
and the county outline the home map draws.

Thin like the other office pages: a row outside the user's scope is a 404; the services decide and refuse.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from fuwu.areas import outlines
from fuwu.homecare import accounts, permissions, reviews, selectors, visits
from fuwu.homecare.models import EntitlementAccount, Order, ReviewStatus
from fuwu.homecare.services import HomeCareError
from fuwu.homecare.views_office import OFFICE, SUPERVISORS, _elder_name, _for, _project_names, _today

SHOWN = 50


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label=gettext_lazy("核查结论"),
        choices=[(d.value, d.label) for d in reviews.DECISIONS],
        widget=forms.RadioSelect,
    )
    amount = forms.DecimalField(
        label=gettext_lazy("减额结算时支付的金额（元）"),
        required=False,
        max_digits=12,
        decimal_places=2,
        help_text=gettext_lazy("只在“核查后减额结算”时填写。"),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "size": 8}),
    )
    note = forms.CharField(
        label=gettext_lazy("核查情况和理由"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 40}),
        help_text=gettext_lazy("例如“电话回访老人，确认护理员 9:40 到达，服务完整”。"),
    )


@dataclass(frozen=True)
class HeldVisit:
    order: Order
    elder: str
    project: str
    flags: list[str]
    suggested: Decimal | None  # pro rata for a short visit, as a starting point for a reduced amount
    form: ReviewForm | None


def _held(request: HttpRequest, order: Order, names: dict[str, str], form: ReviewForm | None = None) -> HeldVisit:
    person = order.account.person
    may = permissions.is_officer_for(request.user, person)
    suggested = None
    if order.visit_minutes is not None and order.visit_minutes < order.minutes:
        suggested = visits.pro_rata(order.price, order.visit_minutes, order.minutes)
    return HeldVisit(
        order=order,
        elder=_elder_name(request.user, person),
        project=names.get(order.item, order.item),
        flags=visits.flags_text(order),
        suggested=suggested,
        form=(form or ReviewForm(auto_id=f"r{order.pk}-%s")) if may else None,
    )


def _reviews_page(
    request: HttpRequest, *, bound: tuple[int, ReviewForm] | None = None, status: int = 200
) -> HttpResponse:
    names = _project_names(_today())
    held = [
        _held(request, o, names, bound[1] if bound and bound[0] == o.pk else None)
        for o in reviews.reviews_for_user(user=request.user)
    ]
    decided = [_held(request, o, names) for o in reviews.reviewed_for_user(user=request.user)[:SHOWN]]
    return render(request, "homecare/office/reviews.html", {"held": held, "decided": decided}, status=status)


@never_cache
@require_GET
@_for(SUPERVISORS)
def review_list(request: HttpRequest) -> HttpResponse:
    """Visits the standard's rules hold from settlement, waiting for the officer; and the latest decided."""
    return _reviews_page(request)


@require_POST
@_for(SUPERVISORS)
def review_decide(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        order = reviews.reviews_for_user(user=request.user).get(pk=pk)
    except Order.DoesNotExist as exc:
        raise Http404("no such visit waiting for review") from exc
    # Who may decide, before what they sent is read (an auditor sees held visits but decides none).
    if not permissions.is_officer_for(request.user, order.account.person):
        raise PermissionDenied
    form = ReviewForm(request.POST, auto_id=f"r{pk}-%s")
    if form.is_valid():
        try:
            reviews.visit_review(
                actor=request.user,
                order=order,
                decision=form.cleaned_data["decision"],
                amount=form.cleaned_data["amount"],
                note=form.cleaned_data["note"],
            )
        except HomeCareError as exc:
            form.add_error("amount" if exc.code == "bad_amount" else None, str(exc))
        else:
            order.refresh_from_db()
            messages.success(
                request,
                _("工单 %(pk)s 已核查：%(decision)s，支付 %(amount)s 元。")
                % {"pk": order.pk, "decision": ReviewStatus(order.review).label, "amount": order.payable},
            )
            return HttpResponseRedirect(reverse("homecare:reviews"))
    return _reviews_page(request, bound=(pk, form), status=400)


# --- the elder's home on the map ------------------------------------------------------------------


def _account_or_404(request: HttpRequest, pk: int) -> EntitlementAccount:
    try:
        return selectors.account_for_user(user=request.user, pk=pk)
    except EntitlementAccount.DoesNotExist as exc:
        raise Http404("no such account") from exc


@require_POST
@_for(SUPERVISORS)
def location_proposal(request: HttpRequest, pk: int, proposal_id: int) -> HttpResponse:
    """Take (``action=accept``) or leave (``action=dismiss``) a caregiver's located check-in as the home's position."""
    found = _account_or_404(request, pk)
    proposal = found.location_proposals.filter(pk=proposal_id).first()
    if proposal is None:
        raise Http404("no such proposal")
    if not permissions.is_officer_for(request.user, found.person):
        raise PermissionDenied
    action = request.POST.get("action")
    try:
        if action == "accept":
            accounts.location_proposal_accept(actor=request.user, proposal=proposal)
            messages.success(request, _("已采用护理员签到时的定位作为老人住址的位置。"))
        elif action == "dismiss":
            accounts.location_proposal_dismiss(actor=request.user, proposal=proposal)
            messages.info(request, _("已保留原来登记的位置。"))
        else:
            messages.error(request, _("请选择采用或不采用。"))
    except HomeCareError as exc:
        messages.error(request, str(exc))
    return HttpResponseRedirect(reverse("homecare:account", args=[found.pk]) + "#home")


@require_GET
@_for(OFFICE)
def county_outline(request: HttpRequest) -> HttpResponse:
    """The outline of one county (``?county=331002``; all of Taizhou without it) as GeoJSON, for the home map."""
    found = outlines.feature_collection(request.GET.get("county", "")[: outlines.COUNTY_DIGITS])
    if found is None:
        raise Http404("no county outlines on this server")
    response = JsonResponse(found)
    response["Cache-Control"] = "private, max-age=86400"
    return response
