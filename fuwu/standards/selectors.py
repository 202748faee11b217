"""Reads from the standards registry. Views and the API read only through these."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TypedDict

from django.db.models import Prefetch, QuerySet

from fuwu.standards.models import (
    IN_FORCE,
    Clause,
    LifeArea,
    ServiceItem,
    Standard,
    StandardVersion,
    Status,
)
from fuwu.standards.schema import Delivery, Qualification
from fuwu.standards.search import SearchResults
from fuwu.standards.search import memo_for_standards_in_force as search_memo
from fuwu.standards.search import search as search_in_force


def versions_in_force() -> QuerySet[StandardVersion]:
    # The whole document is large JSON; listings never need it (it loads on access).
    return StandardVersion.objects.filter(status__in=IN_FORCE).select_related("standard").defer("document")


def standards_list() -> QuerySet[StandardVersion]:
    """Each standard's latest version (the in-force one, else the newest), national first."""
    latest_ids = []
    for standard in Standard.objects.prefetch_related(
        Prefetch("versions", queryset=StandardVersion.objects.only("id", "status", "number", "standard_id"))
    ):
        versions = sorted(standard.versions.all(), key=lambda v: v.number, reverse=True)
        chosen = next((v for v in versions if v.status in IN_FORCE), versions[0] if versions else None)
        if chosen:
            latest_ids.append(chosen.pk)
    return StandardVersion.objects.filter(pk__in=latest_ids).select_related("standard").order_by("-scope", "code")


def standard_version(*, key: str, number: int | None = None) -> StandardVersion:
    """A standard's version by number, or the one in force (else the newest). Raises DoesNotExist."""
    versions = StandardVersion.objects.filter(standard__key=key).select_related("standard", "superseded_by")
    if number is not None:
        return versions.get(number=number)
    in_force = versions.filter(status__in=IN_FORCE).first()
    if in_force is not None:
        return in_force
    newest = versions.order_by("-number").first()
    if newest is None:
        raise StandardVersion.DoesNotExist(key)
    return newest


def clause_tree(version: StandardVersion) -> list[Clause]:
    """Top-level clauses with ``children_list`` filled in, from one query."""
    clauses = list(version.clauses.all())
    by_id = {c.pk: c for c in clauses}
    roots: list[Clause] = []
    for c in clauses:
        c.children_list = []  # type: ignore[attr-defined]
    for c in clauses:
        if c.parent_id is None:
            roots.append(c)
        else:
            by_id[c.parent_id].children_list.append(c)  # type: ignore[attr-defined]
    return roots


def items_in_force() -> QuerySet[ServiceItem]:
    return (
        ServiceItem.objects.filter(version__status__in=IN_FORCE)
        .select_related("version", "version__standard")
        .defer("version__document")
        .order_by("life_area", "version__scope", "version__code", "position")
    )


@dataclass
class MenuArea:
    code: str
    label: str
    items: list[ServiceItem] = field(default_factory=list)


def service_menu() -> list[MenuArea]:
    """Items in force grouped by the nine life areas, in the national order."""
    areas = {choice.value: MenuArea(choice.value, str(choice.label)) for choice in LifeArea}
    for item in items_in_force():
        areas[item.life_area].items.append(item)
    return list(areas.values())


def item_names(*, keys: list[str]) -> dict[str, dict[str, str]]:
    """Names of items in force, {key: {zh, en}}, from one narrow query."""
    rows = ServiceItem.objects.filter(version__status__in=IN_FORCE, key__in=keys).values_list(
        "key", "name_zh", "name_en"
    )
    return {key: {"zh": zh, "en": en} for key, zh, en in rows}


def item_in_force(*, key: str) -> ServiceItem:
    return items_in_force().get(key=key)


class QualificationInfo(TypedDict):
    name_zh: str
    name_en: str  # "" when the standard gives no English name
    clause: str | None


class DeliveryInfo(TypedDict):
    minutes: int  # the minimum length of one visit
    staff: int
    qualifications: list[str]  # every member of staff needs all of them
    clause: str | None
    modeled: bool


def qualifications_in_force(*, standard_key: str) -> dict[str, QualificationInfo]:
    """The staff qualifications declared by the version in force of a standard, by id.

    Raises StandardVersion.DoesNotExist when the standard has no version in force.
    """
    version = StandardVersion.objects.only("document").get(standard__key=standard_key, status__in=IN_FORCE)
    out: dict[str, QualificationInfo] = {}
    for data in version.document.get("qualifications", []):
        q = Qualification.model_validate(data)
        out[q.id] = {"name_zh": q.name.zh, "name_en": q.name.en or "", "clause": q.clause}
    return out


def item_delivery(item: ServiceItem) -> DeliveryInfo | None:
    """How one visit of the item is delivered, as its standard says; None when the standard does not say."""
    data = item.data.get("delivery")
    if data is None:
        return None
    d = Delivery.model_validate(data)
    return {
        "minutes": d.minutes,
        "staff": d.staff,
        "qualifications": list(d.qualifications),
        "clause": d.clause,
        "modeled": d.modeled,
    }


def clauses_by_number(version: StandardVersion, numbers: set[str]) -> dict[str, Clause]:
    return {c.number: c for c in version.clauses.filter(number__in=numbers)}


def reviews_due(*, today: dt.date, within_days: int = 180) -> QuerySet[StandardVersion]:
    """Versions in force whose review is overdue or falls due within ``within_days``."""
    return (
        versions_in_force().filter(review_due_on__lte=today + dt.timedelta(days=within_days)).order_by("review_due_on")
    )


def search(*, query: str, limit: int = 50) -> SearchResults:
    """Search standards, service items and clauses in force, in residents' words.

    Words and synonyms (洗澡 finds 助浴), items before standards and clauses, exact names first;
    see ``fuwu.standards.search`` and ADR 12.
    """
    return search_in_force(query=query, limit=limit)


__all__ = [
    "SearchResults",
    "Status",
    "clause_tree",
    "item_delivery",
    "item_in_force",
    "items_in_force",
    "qualifications_in_force",
    "reviews_due",
    "search",
    "search_memo",
    "service_menu",
    "standard_version",
    "standards_list",
    "versions_in_force",
]
