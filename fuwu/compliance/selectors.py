"""Reads for compliance pages. Public reads show only what is published; staff reads are scoped by role and area."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from fuwu.accounts.models import Role
from fuwu.accounts.permissions import has_role
from fuwu.compliance import permissions
from fuwu.compliance.models import (
    Draw,
    DrawStatus,
    Inspection,
    InspectionKind,
    InspectionStatus,
    Institution,
    RectificationOrder,
    Standing,
)


def _standings() -> Prefetch[Any]:
    return Prefetch("standings", queryset=Standing.objects.select_related("standard").order_by("standard__key"))


def institutions_public(*, kind: str = "", county: str = "", query: str = "") -> QuerySet[Institution]:
    """Active institutions with their published standings: what residents may look up."""
    qs = Institution.objects.filter(active=True).select_related("area", "area__parent").prefetch_related(_standings())
    if kind:
        qs = qs.filter(kind=kind)
    if county:
        qs = qs.filter(area__code__startswith=county)
    for term in query.split()[:5]:
        qs = qs.filter(Q(name__icontains=term) | Q(address__icontains=term))
    return qs.order_by("area__code", "name")


def institution_public(pk: int) -> Institution:
    return institutions_public().get(pk=pk)


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(a))


@dataclass(frozen=True)
class Near:
    institution: Institution
    metres: int | None


def nearest(institutions: list[Institution], *, latitude: float | None, longitude: float | None) -> list[Near]:
    """Nearest first when a position is given (institutions without one last); otherwise as listed."""
    if latitude is None or longitude is None:
        return [Near(i, None) for i in institutions]
    out = [
        Near(
            i,
            round(distance_m(latitude, longitude, float(i.latitude), float(i.longitude)))
            if i.latitude is not None and i.longitude is not None
            else None,
        )
        for i in institutions
    ]
    return sorted(out, key=lambda n: (n.metres is None, n.metres or 0))


def results_public() -> QuerySet[Inspection]:
    return (
        Inspection.objects.filter(status=InspectionStatus.PUBLISHED)
        .select_related("institution", "institution__area", "version", "standard")
        .order_by("-published_at", "-pk")
    )


def result_public(pk: int) -> Inspection:
    return results_public().get(pk=pk)


def draws_public() -> QuerySet[Draw]:
    """Published draws, and superseded ones (a redraw is never hidden)."""
    return (
        Draw.objects.filter(status__in=[DrawStatus.PUBLISHED, DrawStatus.SUPERSEDED])
        .select_related("department", "area", "supersedes")
        .order_by("-period_start", "-pk")
    )


def inspections_for_user(user: Any) -> QuerySet[Inspection]:
    qs = Inspection.objects.select_related("institution", "institution__area", "standard", "version")
    if has_role(user, {Role.INSPECTOR}):
        return qs.filter(inspectors=user)
    if has_role(user, permissions.INSTITUTION_ROLES):
        own = Q(institution__admins=user)
        return qs.filter(own & (Q(kind=InspectionKind.SELF) | Q(status__in=["signed", "published"])))
    prefix = permissions.area_prefix(user)
    if prefix is None:
        return qs.none()
    return qs.filter(institution__area__code__startswith=prefix)


def orders_for_user(user: Any) -> QuerySet[RectificationOrder]:
    qs = RectificationOrder.objects.select_related("institution", "institution__area", "item", "inspection")
    if has_role(user, {Role.INSPECTOR}):
        return qs.filter(inspection__inspectors=user)
    if has_role(user, permissions.INSTITUTION_ROLES):
        return qs.filter(institution__admins=user)
    prefix = permissions.area_prefix(user)
    if prefix is None:
        return qs.none()
    return qs.filter(institution__area__code__startswith=prefix)


def institutions_for_user(user: Any) -> QuerySet[Institution]:
    qs = Institution.objects.select_related("area").prefetch_related(_standings())
    if has_role(user, permissions.INSTITUTION_ROLES):
        return qs.filter(admins=user)
    prefix = permissions.area_prefix(user)
    if prefix is None:
        return qs.none()
    return qs.filter(area__code__startswith=prefix)


def draws_for_user(user: Any) -> QuerySet[Draw]:
    prefix = permissions.area_prefix(user)
    if prefix is None:
        return Draw.objects.none()
    return Draw.objects.filter(area__code__startswith=prefix).select_related("department", "area", "supersedes")
