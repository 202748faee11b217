"""What the standards ask of institutions, read as data: the kinds they govern, each kind's checklist, the grading.

Nothing here names a standard, a kind or a clause. A kind is declared by a standard's ``institution_kinds``;
a checklist is the clauses of the standard's version in force on the inspection date whose ``assessment``
applies to the kind; the grading is the standard's ``grading`` (or the format's defaults).

A version's content never changes under the same hash (new content is a new version), so what is read from
it is cached by (version id, content hash).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.utils.translation import get_language

from fuwu.standards import schema
from fuwu.standards.models import IN_FORCE, Standard, StandardVersion, Status

# Versions that were in force at some time: the current one, and those a newer version replaced.
ONCE_IN_FORCE = (*IN_FORCE, Status.REVISED)


def _pick(zh: str, en: str) -> str:
    return en if en and (get_language() or "zh-hans").startswith("en") else zh


@dataclass(frozen=True)
class Kind:
    id: str
    name_zh: str
    name_en: str
    level: str  # county, township or village
    description_zh: str
    description_en: str
    modeled: bool
    standards: tuple[str, ...]  # keys of the standards in force that govern it

    @property
    def name(self) -> str:
        return _pick(self.name_zh, self.name_en)

    @property
    def description(self) -> str:
        return _pick(self.description_zh, self.description_en)


@dataclass(frozen=True)
class Entry:
    """One line of a checklist: a clause and how it is assessed."""

    position: int
    clause_number: str
    clause_kind: str  # requirement or recommendation
    subject: str
    title_zh: str
    title_en: str
    text_zh: str
    text_en: str
    method: str
    evidence: tuple[str, ...]
    measure_zh: str
    measure_en: str
    unit_zh: str
    unit_en: str
    at_least: Decimal | None
    at_most: Decimal | None
    weight: int
    critical: bool
    guidance_zh: str
    guidance_en: str
    rectification_days: int
    modeled: bool


def _text(value: schema.Text | None) -> tuple[str, str]:
    return (value.zh, value.en or "") if value else ("", "")


@lru_cache(maxsize=512)
def _declared(version_id: int, content_hash: str) -> tuple[schema.InstitutionKind, ...]:
    raw = StandardVersion.objects.filter(pk=version_id).values_list("document__institution_kinds", flat=True).first()
    return tuple(schema.InstitutionKind.model_validate(k) for k in raw or [])


def declared_kinds(version: StandardVersion) -> tuple[schema.InstitutionKind, ...]:
    return _declared(version.pk, version.content_hash)


def kinds_in_force() -> dict[str, Kind]:
    """Every institution kind the standards in force declare, by id, in the order the standards declare them."""
    rows = (
        StandardVersion.objects.filter(status__in=IN_FORCE)
        .order_by("standard__key")
        .values_list("pk", "content_hash", "standard__key")
    )
    found: dict[str, Kind] = {}
    for pk, content_hash, key in rows:
        for k in _declared(pk, content_hash):
            if k.id in found:
                known = found[k.id]
                found[k.id] = Kind(**{**known.__dict__, "standards": (*known.standards, key)})
                continue
            name, description = _text(k.name), _text(k.description)
            found[k.id] = Kind(k.id, *name, k.level, *description, k.modeled, (key,))
    return found


def kind_name(kind: str, kinds: dict[str, Kind] | None = None) -> str:
    """A kind's name in the page's language; a kind no standard in force declares says so rather than show its id."""
    known = (kinds if kinds is not None else kinds_in_force()).get(kind)
    if known is None:
        from django.utils.translation import gettext

        return gettext("（现行标准中已无此类机构）")
    return known.name


def version_on(*, standard: Standard | int, day: dt.date) -> StandardVersion | None:
    """The version of ``standard`` in force on ``day``, if any (a published version not yet effective is not)."""
    versions = (
        StandardVersion.objects.filter(standard=standard, status__in=ONCE_IN_FORCE, effective_on__lte=day)
        .select_related("standard", "superseded_by")
        .defer("document", "superseded_by__document")
        .order_by("-number")
    )
    for version in versions:
        successor = version.superseded_by
        if version.status in IN_FORCE or (successor is not None and successor.effective_on > day):
            return version
    return None


def versions_on(day: dt.date) -> list[StandardVersion]:
    """The version of each standard in force on ``day`` (one query)."""
    candidates = (
        StandardVersion.objects.filter(status__in=ONCE_IN_FORCE, effective_on__lte=day)
        .select_related("standard", "superseded_by")
        .defer("document", "superseded_by__document")
        .order_by("standard__key", "-number")
    )
    out: list[StandardVersion] = []
    for version in candidates:
        if out and out[-1].standard_id == version.standard_id:
            continue
        successor = version.superseded_by
        if version.status in IN_FORCE or (successor is not None and successor.effective_on > day):
            out.append(version)
    return out


def versions_for_kind(
    kind: str, *, day: dt.date, versions: list[StandardVersion] | None = None
) -> list[StandardVersion]:
    """The versions in force on ``day`` of the standards that govern ``kind`` (``versions``: ``versions_on(day)``)."""
    return [
        v for v in (versions_on(day) if versions is None else versions) if any(k.id == kind for k in declared_kinds(v))
    ]


@lru_cache(maxsize=512)
def _grading(version_id: int, content_hash: str) -> schema.Grading:
    raw = StandardVersion.objects.filter(pk=version_id).values_list("document__grading", flat=True).first()
    return schema.Grading.model_validate(raw or {})


def grading(version: StandardVersion) -> schema.Grading:
    return _grading(version.pk, version.content_hash)


def checklist(version: StandardVersion, kind: str) -> tuple[Entry, ...]:
    """The checklist for an institution of ``kind`` under ``version``: empty when the version does not govern it."""
    return _checklist(version.pk, version.content_hash, kind)


@lru_cache(maxsize=1024)
def _checklist(version_id: int, content_hash: str, kind: str) -> tuple[Entry, ...]:
    if not any(k.id == kind for k in _declared(version_id, content_hash)):
        return ()
    default_days = _grading(version_id, content_hash).rectification_days
    entries: list[Entry] = []
    for clause, assessment in _assessed(version_id, content_hash):
        if assessment.applies_to and kind not in assessment.applies_to:
            continue
        entries.append(_entry(len(entries) + 1, clause, assessment, default_days))
    return tuple(entries)


@lru_cache(maxsize=256)
def _assessed(version_id: int, content_hash: str) -> tuple[tuple[dict[str, Any], schema.Assessment], ...]:
    """The version's assessed requirements and recommendations, in document order, read once per version."""
    clauses = StandardVersion.objects.filter(pk=version_id).values_list("document__clauses", flat=True).first()
    out = []
    for clause in _walk(clauses or []):
        raw = clause.get("assessment")
        if raw is None or clause.get("kind") not in ("requirement", "recommendation"):
            continue
        assessment = schema.Assessment.model_validate(raw)
        if assessment.not_assessed is None:
            out.append((clause, assessment))
    return tuple(out)


def _walk(clauses: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for clause in clauses:
        out.append(clause)
        out.extend(_walk(clause.get("children", [])))
    return out


def _entry(position: int, clause: dict[str, Any], a: schema.Assessment, default_days: int) -> Entry:
    title = clause.get("title") or {}
    text = clause.get("text") or {}
    measure = a.measure
    name, unit = _text(measure.name if measure else None), _text(measure.unit if measure else None)
    guidance = _text(a.guidance)
    return Entry(
        position=position,
        clause_number=str(clause["number"]),
        clause_kind=str(clause["kind"]),
        subject=str(clause.get("subject") or ""),
        title_zh=str(title.get("zh", "")),
        title_en=str(title.get("en", "")),
        # A clause has a text, a title or both; the checklist shows what it has.
        text_zh=str(text.get("zh") or title.get("zh", "")),
        text_en=str(text.get("en") or title.get("en", "")),
        method=str(a.method),
        evidence=tuple(str(e) for e in a.evidence),
        measure_zh=name[0],
        measure_en=name[1],
        unit_zh=unit[0],
        unit_en=unit[1],
        at_least=measure.at_least if measure else None,
        at_most=measure.at_most if measure else None,
        weight=a.weight,
        critical=a.critical,
        guidance_zh=guidance[0],
        guidance_en=guidance[1],
        rectification_days=a.rectification_days or default_days,
        modeled=a.modeled,
    )
