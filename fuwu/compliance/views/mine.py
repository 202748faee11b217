"""The institution administrator's pages: their institutions, results about them, orders, self-assessment."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from fuwu.accounts.models import Role
from fuwu.compliance import selectors
from fuwu.compliance.checklists import kind_name, kinds_in_force, versions_for_kind
from fuwu.compliance.models import Institution, OrderStatus
from fuwu.compliance.scoring import grade_label
from fuwu.compliance.services import ComplianceError, local_now
from fuwu.compliance.services.inspections import self_assessment_start
from fuwu.compliance.views import for_roles
from fuwu.standards.models import Standard

ADMINS = {Role.INSTITUTION_ADMIN, Role.PROVIDER_ADMIN}


@never_cache
@require_GET
@for_roles(ADMINS)
def home(request: HttpRequest) -> HttpResponse:
    kinds = kinds_in_force()
    today = local_now().date()
    institutions = []
    for found in selectors.institutions_for_user(request.user).order_by("name"):
        institutions.append(
            {
                "institution": found,
                "kind": kind_name(found.kind, kinds),
                "standards": versions_for_kind(found.kind, day=today),
                "standings": [
                    (s, grade_label(passed=s.passed, grade_zh=s.grade_zh, grade_en=s.grade_en))
                    for s in found.standings.all()
                ],
            }
        )
    context = {
        "institutions": institutions,
        "inspections": selectors.inspections_for_user(request.user).order_by("-created_at")[:30],
        "orders": selectors.orders_for_user(request.user)
        .filter(status__in=[OrderStatus.OPEN, OrderStatus.ANSWERED, OrderStatus.TO_REINSPECT])
        .order_by("due_on"),
    }
    return render(request, "compliance/mine/home.html", context)


@require_POST
@for_roles(ADMINS)
def self_assess(request: HttpRequest, pk: int, standard: str) -> HttpResponse:
    try:
        found = selectors.institutions_for_user(request.user).get(pk=pk)
        standard_row = Standard.objects.get(key=standard)
    except (Institution.DoesNotExist, Standard.DoesNotExist) as exc:
        raise Http404("no such institution or standard") from exc
    try:
        inspection = self_assessment_start(actor=request.user, institution=found, standard=standard_row)
    except ComplianceError as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(reverse("compliance:mine"))
    return HttpResponseRedirect(reverse("compliance:inspection", args=[inspection.pk]))
