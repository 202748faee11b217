"""Staff pages of the registry: reviews due, lifecycle transitions, and history."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from fuwu.accounts.permissions import can_manage_standards, can_view_registry
from fuwu.common.audit import history_for
from fuwu.common.params import safe_next
from fuwu.standards import selectors, services
from fuwu.standards.models import StandardVersion


def _require(check: Callable[[Any], bool], request: HttpRequest) -> None:
    if not request.user.is_authenticated:
        raise PermissionDenied
    if not check(request.user):
        raise PermissionDenied


def reviews(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect(f"/accounts/login/?next={request.path}")
    _require(can_view_registry, request)
    today = timezone.localdate()
    return render(
        request,
        "registry/reviews.html",
        {
            "today": today,
            "due": selectors.reviews_due(today=today),
            "can_manage": can_manage_standards(request.user),
        },
    )


def history(request: HttpRequest, pk: int) -> HttpResponse:
    _require(can_view_registry, request)
    try:
        version = StandardVersion.objects.select_related("standard").get(pk=pk)
    except StandardVersion.DoesNotExist as exc:
        raise Http404 from exc
    return render(request, "registry/history.html", {"version": version, "events": history_for(version)})


TRANSITIONS: dict[str, Callable[..., StandardVersion]] = {
    "publish": services.standard_publish,
    "begin_review": services.standard_begin_review,
    "confirm": services.standard_confirm,
    "abolish": services.standard_abolish,
}


@require_POST
def transition(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    _require(can_manage_standards, request)
    service = TRANSITIONS.get(action)
    if service is None:
        raise Http404
    try:
        version = StandardVersion.objects.get(pk=pk)
    except StandardVersion.DoesNotExist as exc:
        raise Http404 from exc
    kwargs: dict[str, Any] = {"version": version, "actor": request.user}
    if action != "publish":
        kwargs["note"] = request.POST.get("note", "")
    try:
        service(**kwargs)
    except services.TransitionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{version.code}: {action}")
    return redirect(safe_next(request, reverse("registry:reviews")))
