"""The home-care standard in force, read as data: prices, allowances, limits, visit lengths, qualifications.

Nothing in the home-care app names a service project, a price or a limit. Which standard it runs and
which of that standard's parameters mean what is configuration (``settings.FUWU_HOMECARE``); the values
come from the version in force on the date asked about.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.utils.translation import get_language

from fuwu.eligibility.rules import parameter_value
from fuwu.standards.models import IN_FORCE, Parameter, ServiceItem, StandardVersion


class StandardNotLoaded(Exception):
    """The home-care standard (or a parameter it should declare) is not in the registry."""


def config(name: str) -> str:
    return str(settings.FUWU_HOMECARE[name])


def version() -> StandardVersion:
    # The document is large JSON that only qualification_names needs, once per version (cached below).
    found = (
        StandardVersion.objects.filter(standard__key=config("standard"), status__in=IN_FORCE)
        .select_related("standard")
        .defer("document")
        .first()
    )
    if found is None:
        raise StandardNotLoaded(f"the home-care standard {config('standard')!r} is not in force; load standards/")
    return found


def parameter(role: str, *, on: dt.date) -> Any:
    """The value in force on ``on`` of the parameter configured for ``role`` (e.g. ``"unit_price"``)."""
    key = config(role)
    current = version()
    values = _values(current.pk, current.content_hash, key)
    value = parameter_value(values, on)
    if value is None:
        raise StandardNotLoaded(f"parameter {key!r} has no value on {on}")
    return value


# A version's content never changes under the same hash (new content is a new version), so what is read
# from it is cached by (version id, content hash): planning a day or settling a month asks for the same
# prices, limits and qualifications once per order otherwise.
@lru_cache(maxsize=256)
def _values(version_id: int, content_hash: str, key: str) -> list[tuple[dt.date, Any]]:
    parameter_row = Parameter.objects.filter(version_id=version_id, key=key).prefetch_related("values").first()
    if parameter_row is None:
        raise StandardNotLoaded(f"the home-care standard declares no parameter {key!r} ({config('standard')})")
    return [(v.effective_from, _decimal(v.value)) for v in parameter_row.values.all()]


def _decimal(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: Decimal(str(v)) for k, v in value.items()}
    return Decimal(str(value))


def number(role: str, *, on: dt.date) -> Decimal:
    value = parameter(role, on=on)
    if isinstance(value, dict):
        raise StandardNotLoaded(f"parameter {config(role)!r} is a table; a single number was expected")
    return Decimal(value)


@dataclass(frozen=True)
class Project:
    """One bookable project of the standard: a subsidised service, or a package the elder pays for."""

    key: str
    name_zh: str
    name_en: str
    kind: str  # "subsidised" | "package"
    price: Decimal
    minutes: int
    staff: int
    qualifications: tuple[str, ...]
    monthly_limit: int | None  # at most this many a month (the item's level quantity), or no limit

    @property
    def name(self) -> str:
        return self.name_en if (get_language() or "").startswith("en") and self.name_en else self.name_zh


def projects(*, on: dt.date) -> dict[str, Project]:
    """Every bookable project on ``on``: the items priced by the unit-price or the package-price table."""
    current = version()
    return dict(_projects(current.pk, current.content_hash, on))


@lru_cache(maxsize=256)
def _projects(version_id: int, content_hash: str, on: dt.date) -> dict[str, Project]:
    unit_prices = parameter("unit_price", on=on)
    package_prices = parameter("package_price", on=on)
    found: dict[str, Project] = {}
    for item in ServiceItem.objects.filter(version_id=version_id).order_by("position"):
        if item.key in unit_prices:
            kind, price = "subsidised", unit_prices[item.key]
        elif item.key in package_prices:
            kind, price = "package", package_prices[item.key]
        else:
            continue
        delivery: dict[str, Any] = item.data.get("delivery") or {}
        level: dict[str, Any] = item.data.get("level") or {}
        limit = level.get("quantity") if level.get("frequency") == "per_month" else None
        found[item.key] = Project(
            key=item.key,
            name_zh=item.name_zh,
            name_en=item.name_en,
            kind=kind,
            price=Decimal(price),
            minutes=int(delivery.get("minutes") or config("default_minutes")),
            staff=int(delivery.get("staff") or 1),
            qualifications=tuple(delivery.get("qualifications") or ()),
            monthly_limit=int(limit) if limit is not None else None,
        )
    return found


def project(key: str, *, on: dt.date) -> Project:
    try:
        return projects(on=on)[key]
    except KeyError:
        raise StandardNotLoaded(f"{key!r} is not a bookable project of {config('standard')} on {on}") from None


def qualification_names() -> dict[str, str]:
    """Qualification id → name as the standard declares it, in English when that is active and declared."""
    english = (get_language() or "").startswith("en")
    current = version()
    return {q: (english and en) or zh for q, zh, en in _qualifications(current.pk, current.content_hash)}


@lru_cache(maxsize=64)
def _qualifications(version_id: int, content_hash: str) -> tuple[tuple[str, str, str], ...]:
    document = StandardVersion.objects.values_list("document", flat=True).get(pk=version_id)
    return tuple((q["id"], q["name"]["zh"], q["name"].get("en", "")) for q in document.get("qualifications", []))


@dataclass(frozen=True)
class VisitRules:
    """The standard's visit rules in force on a day (``visit_rules`` in its YAML, with its parameters' values)."""

    open_before: int  # check-in accepted from this many minutes before the agreed time …
    close_after: int  # … until this many after
    tolerance: int  # on time: within this many minutes of the agreed time
    settle: dict[str, str]  # flag → "full" | "pro_rata" | "hold"
    clauses: dict[str, str]  # flag → the clause that says so ("" when none)
    clause: str  # the clause on punctuality and check-in


def visit_rules(*, on: dt.date) -> VisitRules:
    current = version()
    declared = _visit_rules(current.pk, current.content_hash)
    if declared is None:
        raise StandardNotLoaded(f"the home-care standard {config('standard')!r} declares no visit_rules")
    window = _table(_values(current.pk, current.content_hash, declared["checkin_window"]), on)
    tolerance = parameter_value(_values(current.pk, current.content_hash, declared["punctuality"]), on)
    if tolerance is None:
        raise StandardNotLoaded(f"parameter {declared['punctuality']!r} has no value on {on}")
    flags = declared["flags"]
    return VisitRules(
        open_before=int(window["before"]),
        close_after=int(window["after"]),
        tolerance=int(tolerance),
        settle={f["flag"]: f["settle"] for f in flags},
        clauses={f["flag"]: f.get("clause") or "" for f in flags},
        clause=declared.get("clause") or "",
    )


def _table(values: list[tuple[dt.date, Any]], on: dt.date) -> dict[str, Decimal]:
    value = parameter_value(values, on)
    if not isinstance(value, dict):
        raise StandardNotLoaded(f"the check-in window has no table of minutes on {on}")
    return value


@lru_cache(maxsize=64)
def _visit_rules(version_id: int, content_hash: str) -> dict[str, Any] | None:
    document = StandardVersion.objects.values_list("document", flat=True).get(pk=version_id)
    rules: dict[str, Any] | None = document.get("visit_rules")
    return rules
