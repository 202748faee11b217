"""A service guide: one item's entitlement, materials, steps and channels, each with its clause.

The guide is built from the item as the standard file states it (``ServiceItem.data``),
in the active language, so the web page and the printable PDF say the same thing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import get_language, gettext

from fuwu.eligibility.wording import english, quantity_words
from fuwu.guide.pdf import render_pdf
from fuwu.standards.models import Clause, Parameter, ParameterValue, ServiceItem, StandardVersion


def text(value: dict[str, str] | None) -> str:
    """A bilingual text from a standard document, in the active language (Chinese as fallback)."""
    if not value:
        return ""
    if (get_language() or "").startswith("en") and value.get("en"):
        return value["en"]
    return value.get("zh", "")


@dataclass
class Section:
    text: str
    clause: Clause | None = None
    modeled: bool = False


@dataclass
class Guide:
    item: ServiceItem
    version: StandardVersion
    target_group: Section
    content: Section
    level: Section | None
    level_values: list[tuple[str, str]]
    expenditure: Section | None
    fees: Section | None
    materials: list[dict[str, Any]]
    steps: list[dict[str, Any]]
    channels: dict[str, Any]
    channels_clause: Clause | None
    legal_basis: list[str]
    modeled: bool
    clauses: dict[str, Clause] = field(repr=False, default_factory=dict)


def parameter_value(parameter: Parameter, on: dt.date) -> ParameterValue | None:
    """The value in force on a date: the latest that took effect on or before it."""
    values = [v for v in parameter.values.all() if v.effective_from <= on]
    return values[-1] if values else None


def band_names(version: StandardVersion, parameter: str) -> dict[str, dict[str, str]]:
    """A parameter's bands in words, as its standard names them (the document's ``bands``)."""
    for p in version.document.get("parameters", []):
        if p["id"] == parameter:
            return dict(p.get("bands") or {})
    return {}


def value_rows(parameter: Parameter, value: Any, bands: dict[str, dict[str, str]]) -> list[tuple[str, str]]:
    """A parameter's value in words, one (label, amount) per band: [("80至89周岁", "每月 60 元")]."""
    if not isinstance(value, dict):
        return [(parameter.name, quantity_words(parameter.unit, value))]
    # A band without a name shows its key, which the wording test forbids for every standard in the repository.
    return [(text(bands.get(band)) or band, quantity_words(parameter.unit, amount)) for band, amount in value.items()]


@dataclass
class ParameterRow:
    parameter: Parameter
    effective_from: dt.date
    values: list[tuple[str, str]]


def parameter_rows(version: StandardVersion) -> list[ParameterRow]:
    """Every dated value of a version's parameters, in words, for its page."""
    items = {i.key: {"zh": i.name_zh, "en": i.name_en} for i in version.items.all()}
    rows = []
    for parameter in version.parameters.prefetch_related("values"):
        # A table keyed by item ids (a price list) is named by the items.
        bands = {**items, **band_names(version, parameter.key)}
        rows += [
            ParameterRow(parameter, v.effective_from, value_rows(parameter, v.value, bands))
            for v in parameter.values.all()
        ]
    return rows


def source_note(version: StandardVersion) -> str:
    """Where a standard's content comes from, in the page's language.

    The file's own note (``source.basis``) is written in English for those who maintain the data; a Chinese
    page says what it means for a reader instead.
    """
    if english():
        return str(version.document.get("source", {}).get("basis", ""))
    if version.modeled:
        return gettext("由 fuwu 根据公开资料整理，部分内容为模拟，并非官方原文。")
    return gettext("取自已发布的标准文本。")


def item_guide(item: ServiceItem, *, on: dt.date | None = None) -> Guide:
    data = item.data
    version = item.version
    refs = {
        part.get("clause")
        for part in [
            data.get("target_group"),
            data.get("content"),
            data.get("level"),
            data.get("expenditure"),
            data.get("fees"),
            data.get("channels"),
            *data.get("materials", []),
            *data.get("steps", []),
        ]
        if part and part.get("clause")
    }
    clauses = {c.number: c for c in version.clauses.filter(number__in=refs)}

    def section(part: dict[str, Any]) -> Section:
        return Section(text(part.get("text")), clauses.get(part.get("clause", "")), part.get("modeled", False))

    def optional(part: dict[str, Any] | None) -> Section | None:
        return section(part) if part else None

    level_values: list[tuple[str, str]] = []
    level = data.get("level") or {}
    if level.get("parameter"):
        parameter = version.parameters.prefetch_related("values").filter(key=level["parameter"]).first()
        current = parameter_value(parameter, on or timezone.localdate()) if parameter else None
        if parameter and current:
            if isinstance(current.value, dict) and item.key in current.value:
                # A table keyed by item (e.g. a price list): this item's row only.
                level_values = [(parameter.name, quantity_words(parameter.unit, current.value[item.key]))]
            else:
                level_values = value_rows(parameter, current.value, band_names(version, parameter.key))
    materials = [{**m, "clause_obj": clauses.get(m.get("clause", ""))} for m in data.get("materials", [])]
    steps = [{**s, "clause_obj": clauses.get(s.get("clause", ""))} for s in data.get("steps", [])]
    return Guide(
        item=item,
        version=version,
        target_group=section(data["target_group"]),
        content=section(data["content"]),
        level=optional(level or None),
        level_values=level_values,
        expenditure=optional(data.get("expenditure")),
        fees=optional(data.get("fees")),
        materials=materials,
        steps=steps,
        channels=data.get("channels") or {},
        channels_clause=clauses.get((data.get("channels") or {}).get("clause", "")),
        legal_basis=[text(t) for t in data.get("legal_basis", [])],
        modeled=bool(data.get("modeled") or version.modeled),
        clauses=clauses,
    )


def item_guide_pdf(item: ServiceItem, *, on: dt.date | None = None) -> bytes:
    """The one-page printable guide, cached per content, language and day.

    Laying out a page of Chinese text takes WeasyPrint a few seconds, and the
    fitting may lay it out more than once; the result only changes when the
    standard's content, the language or the date (dated parameters) changes.
    """
    day = on or timezone.localdate()
    key = f"guide-pdf:{item.version.content_hash}:{item.key}:{get_language()}:{day.isoformat()}"
    pdf: bytes | None = cache.get(key)
    if pdf is None:
        guide = item_guide(item, on=day)
        pdf = render_pdf("guide/item_print.html", {"guide": guide}, base_url=None, max_pages=1)
        cache.set(key, pdf, timeout=24 * 3600)
    return pdf
